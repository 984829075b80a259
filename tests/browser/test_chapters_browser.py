"""The course chapters in a real JupyterLab, driven by Debian's Chromium through Playwright.

Opens a scratch copy of notebooks/ in JupyterLab, runs every cell of 03c_raft
and 00_start_here, and checks what a learner sees: no error output, plotly
figures drawn by JupyterLab's plotly extension (not the PNG fallback), the
fault panel and the predict widgets alive (pick an answer, inject, read the
feedback). Screenshots of each part go to artifacts/browser/chapters/.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser" / "chapters"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"checkForUpdates": False,
                                                                        "fetchNews": "false"},
    # draw every cell, not only those in view, so that all outputs can be inspected
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium package "
                                 "(make test installs it: apt-get install chromium)"),
              pytest.mark.timeout(600)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a scratch copy of notebooks/ (and labs/, for the relative links)."""
    work = tmp_path_factory.mktemp("chapters")
    shutil.copytree(ROOT / "notebooks", work / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "04_*"))
    for name, value in SETTINGS.items():
        path = work / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={work}", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / ".settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / ".workspaces"), JUPYTER_RUNTIME_DIR=str(work / ".runtime"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("FAULTLAB_STATIC_FIGURES", None)          # what a learner gets: interactive figures only
    log = open(work / "jupyter.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("JupyterLab did not start:\n" + (work / "jupyter.log").read_text()[-3000:])
            time.sleep(0.5)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


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
