"""The course chapters in a real JupyterLab, driven by Debian's Chromium through Playwright.

Opens a scratch copy of notebooks/ in JupyterLab, runs every cell of 03c_raft
and 00_start_here, and checks what a learner sees: no error output, plotly
figures drawn by JupyterLab's plotly extension (not the PNG fallback), the
fault panel and the predict widgets alive (pick an answer, inject, read the
feedback). Screenshots of each part go to artifacts/browser/chapters/.
"""
from __future__ import annotations

import shutil

import pytest

from _lab import QUIET_SETTINGS, ROOT, browser_marks, chromium, running_lab  # noqa: E402

ARTIFACTS = ROOT / "artifacts" / "browser" / "chapters"
SETTINGS = {
    **QUIET_SETTINGS,
    # draw every cell, not only those in view, so that all outputs can be inspected
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

pytestmark = browser_marks(timeout=600)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a scratch copy of notebooks/ (and labs/, for the relative links)."""
    work = tmp_path_factory.mktemp("chapters")
    shutil.copytree(ROOT / "notebooks", work / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "04_*"))
    # what a learner gets: interactive figures only
    with running_lab(work, SETTINGS, env_drop=("FAULTLAB_STATIC_FIGURES",)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _run_all(page, url, notebook):
    page.goto(f"{url}/lab/tree/notebooks/{notebook}?reset", timeout=90_000)   # a fresh workspace
    page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.isEnabled('notebook:run-all-cells')",
                           timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # done when no cell shows the busy prompt "[*]" any more and the kernel is idle
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')];
        return prompts.length > 0 && prompts.every(p => !p.textContent.includes('*'))
               && prompts.some(p => /\\d/.test(p.textContent));
    }""", timeout=300_000)
    page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
    page.wait_for_timeout(1500)


def _notebook(page):
    """The notebook in the current (visible) tab."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")


def _errors(page):
    return _notebook(page).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")


def _shot(page, locator, name):
    locator.scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / name))


def test_raft_chapter_runs_and_draws_in_jupyterlab(lab, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        _run_all(page, lab, "03c_raft.ipynb")
        assert _errors(page).count() == 0, _errors(page).first.text_content()
        plots = _notebook(page).locator(".js-plotly-plot")
        assert plots.count() >= 16, f"only {plots.count()} plotly figures drawn"   # 15 + the panel's
        assert plots.first.bounding_box()["height"] > 200       # drawn full size, interactive
        assert page.locator(".faultlab-panel .faultlab-tile").count() == 5
        predicts = page.locator(".faultlab-predict")
        assert predicts.count() == 5
        text = _notebook(page).text_content()
        assert "new leader elected: yes" in text and "safety properties: VIOLATED" in text

        first = predicts.nth(0)
        first.get_by_text("within about a second", exact=False).click()
        first.locator(".faultlab-inject").click()
        first.locator(".faultlab-feedback").wait_for(timeout=30_000)
        assert "your prediction was right" in first.locator(".faultlab-feedback").text_content()

        headings = _notebook(page).locator("h2")
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
        _run_all(page, lab, "00_start_here.ipynb")
        assert _errors(page).count() == 0, _errors(page).first.text_content()
        nb = _notebook(page)
        assert nb.locator(".js-plotly-plot").count() >= 1
        assert "Simulator chapters: ready" in nb.text_content()
        _shot(page, nb.locator("h1").first, "start_0_top.png")
        _shot(page, nb.locator("h2", has_text="How to use"), "start_1_how_to.png")
        link = nb.locator(".jp-RenderedMarkdown a", has_text="Raft").first
        _shot(page, link, "start_2_map.png")
        _shot(page, nb.locator(".js-plotly-plot").first, "start_3_first_crash.png")
        link.click()                              # a relative link opens the chapter in JupyterLab
        _notebook(page).locator("h1", has_text="Raft: agreeing on one log").first.wait_for(timeout=60_000)
    finally:
        page.close()
