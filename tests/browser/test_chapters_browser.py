"""The course chapters in a real JupyterLab, driven by Debian's Chromium through Playwright.

Opens a learner's working copy in JupyterLab -- made as ``make lab`` makes it
(scripts/working_copy.py, in a folder under work/, which git ignores) -- runs
every cell of 03c_raft and 00_start_here, and checks what a learner sees: no
error output, plotly figures drawn by JupyterLab's plotly extension (not the PNG
fallback), the fault panel and the predict widgets alive (pick an answer,
inject, read the feedback), and that saving a run chapter changes no notebook
git sees. Screenshots of each part go to artifacts/browser/chapters/.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

import pytest

from _lab import ALL_CELLS_SETTINGS, ROOT, browser_marks, error_outputs, run_all, running_lab, visible_notebook

ARTIFACTS = ROOT / "artifacts" / "browser" / "chapters"

pytestmark = browser_marks(timeout=600)


Lab = namedtuple("Lab", "url work notebooks_before")


def _notebook_status():
    """Every notebook git sees (tracked, or untracked and not ignored) -> a hash of its bytes."""
    got = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.ipynb"],
                         cwd=ROOT, capture_output=True, text=True)
    if got.returncode != 0:
        pytest.skip(f"not a git checkout ({got.stderr.strip()}): cannot check that tracked notebooks stay clean")
    paths = [ROOT / rel for rel in got.stdout.splitlines()]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()}


@pytest.fixture(scope="module")
def lab():
    """JupyterLab on a working copy made as ``make lab`` makes it, in a scratch folder under work/."""
    (ROOT / "work").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".browser-test-", dir=ROOT / "work"))
    try:
        before = _notebook_status()
        subprocess.run([sys.executable, str(ROOT / "scripts" / "working_copy.py"), "--work", str(work), "sync"],
                       check=True, capture_output=True)
        # what a learner gets: interactive figures only
        with running_lab(work, ALL_CELLS_SETTINGS, env_drop=("FAULTLAB_STATIC_FIGURES",)) as url:
            yield Lab(url, work, before)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _shot(page, locator, name):
    """Screenshot around ``locator``; an outcome still folded (nobody predicted) is shot as its closed box."""
    locator = locator.first
    if not locator.is_visible():
        locator = locator.locator("xpath=ancestor::*[contains(concat(' ', @class, ' '), ' faultlab-outcome ')][1]")
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / name))


def test_raft_chapter_runs_and_draws_in_jupyterlab(lab, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        run_all(page, lab.url, "notebooks/03c_raft.ipynb")
        assert error_outputs(page).count() == 0, error_outputs(page).first.text_content()
        plots = visible_notebook(page).locator(".js-plotly-plot")
        assert plots.count() >= 16, f"only {plots.count()} plotly figures drawn"   # 15 + the panel's
        assert plots.first.bounding_box()["height"] > 200       # drawn full size, interactive
        assert page.locator(".faultlab-panel .faultlab-tile").count() == 5
        predicts = page.locator(".faultlab-predict")
        assert predicts.count() == 5
        text = visible_notebook(page).text_content()
        assert "new leader elected: yes" in text and "safety properties: VIOLATED" in text

        first = predicts.nth(0)
        first.get_by_text("within about a second", exact=False).click()
        first.locator(".faultlab-inject").click()
        first.locator(".faultlab-feedback").wait_for(timeout=30_000)
        assert "your prediction was right" in first.locator(".faultlab-feedback").text_content()

        headings = visible_notebook(page).locator("h2")
        _shot(page, headings.filter(has_text="Terms and leader election"), "raft_1_election.png")
        _shot(page, first, "raft_2_crash_exercise.png")
        _shot(page, page.locator(".faultlab-panel").first, "raft_3_fault_panel.png")
        _shot(page, headings.filter(has_text="Exercise 2"), "raft_4_partition.png")
        _shot(page, plots.filter(has_text="Before the heal"), "raft_5_partition_logs.png")
        _shot(page, headings.filter(has_text="Exercise 4"), "raft_6_figure8.png")
        _shot(page, plots.nth(plots.count() - 1), "raft_7_elections.png")
    finally:
        page.close()


def test_start_here_runs_and_links_to_the_chapters(lab, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        run_all(page, lab.url, "notebooks/00_start_here.ipynb")
        assert error_outputs(page).count() == 0, error_outputs(page).first.text_content()
        nb = visible_notebook(page)
        assert nb.locator(".js-plotly-plot").count() >= 1
        assert "Simulator chapters: ready" in nb.text_content()
        _shot(page, nb.locator("h1").first, "start_0_top.png")
        _shot(page, nb.locator("h2", has_text="How to use"), "start_1_how_to.png")
        link = nb.locator(".jp-RenderedMarkdown a", has_text="Raft").first
        _shot(page, link, "start_2_map.png")
        _shot(page, nb.locator(".js-plotly-plot").first, "start_3_first_crash.png")
        _save_and_check_no_tracked_notebook_changed(page, lab, "notebooks/00_start_here.ipynb")
        link.click()                              # a relative link opens the chapter in JupyterLab
        visible_notebook(page).locator("h1", has_text="Raft: agreeing on one log").first.wait_for(timeout=60_000)
    finally:
        page.close()


def _save_and_check_no_tracked_notebook_changed(page, lab, rel):
    """Save the run chapter (as a learner's Ctrl-S or autosave does): only the working copy changes."""
    copy = lab.work / rel
    saved_before = copy.stat().st_mtime_ns
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    deadline = time.monotonic() + 30
    while copy.stat().st_mtime_ns == saved_before:
        assert time.monotonic() < deadline, f"JupyterLab did not save {copy}"
        time.sleep(0.2)
    assert copy.read_bytes() != (ROOT / rel).read_bytes(), "the saved copy holds this run's outputs"
    after = _notebook_status()
    changed = sorted(name for name in after.keys() | lab.notebooks_before.keys()
                     if after.get(name) != lab.notebooks_before.get(name))
    assert not changed, f"running and saving a chapter changed notebooks git sees: {changed}"
