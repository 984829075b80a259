"""The Raft fault panel in a real JupyterLab, driven by Debian's Chromium through Playwright.

Starts JupyterLab on 127.0.0.1 (own free port, no token, news off) on a copy of
notebooks/extras/raft_fault_panel.ipynb, runs all cells, crashes the leader from
its tile, advances simulated time and checks that another node now leads and
that the figure changed; then plays and pauses simulated time and answers the
predict-then-inject exercise. Screenshots go to artifacts/browser/.
"""
from __future__ import annotations

import shutil
import time

import pytest

from _lab import ROOT, browser_marks, running_lab

NOTEBOOK = ROOT / "notebooks" / "extras" / "raft_fault_panel.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"

pytestmark = browser_marks(timeout=300)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a scratch copy of the demo notebook; yields its base URL."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    with running_lab(work) as url:
        yield url


def _leader(page):
    """The node whose tile carries the leader class, or None."""
    tiles = page.locator(".faultlab-tile.faultlab-leader")
    if tiles.count() != 1:
        return None
    classes = tiles.first.get_attribute("class").split()
    return next(c.removeprefix("faultlab-node-") for c in classes if c.startswith("faultlab-node-"))


def _clock_ms(page):
    text = page.locator(".faultlab-panel .faultlab-clock").first.text_content()   # "t = 1,500 ms · ..."
    return float(text.split("=")[1].split("ms")[0].replace(",", ""))


def _figure_title(page):
    return page.locator(".faultlab-panel .js-plotly-plot .gtitle").first.text_content()


def test_crash_the_leader_from_the_panel_and_see_a_new_one(lab, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    ok = False
    try:
        page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}", timeout=90_000)
        page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
        page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.isEnabled("
                               "'notebook:run-all-cells')", timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")   # Run > Run All Cells

        page.locator(".faultlab-tile.faultlab-leader").wait_for(timeout=120_000)
        page.locator(".faultlab-panel .js-plotly-plot .gtitle").first.wait_for(timeout=60_000)
        page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=60_000)
        panel = page.locator(".faultlab-panel").first
        panel.scroll_into_view_if_needed()
        old = _leader(page)
        assert old is not None
        title_before = _figure_title(page)
        figure = page.locator(".faultlab-panel .js-plotly-plot").first
        shot_before = figure.screenshot()
        panel.screenshot(path=str(ARTIFACTS / "panel_before_crash.png"))

        page.locator(f".faultlab-tile.faultlab-node-{old} .faultlab-crash").click()
        page.locator(f".faultlab-tile.faultlab-node-{old}.faultlab-crashed").wait_for(timeout=30_000)
        new = None
        for _ in range(8):                                     # step 500 ms at a time until elected
            page.locator(".faultlab-panel .faultlab-step").first.click()
            time.sleep(0.7)
            new = _leader(page)
            if new not in (None, old):
                break
        page.wait_for_timeout(500)
        panel.screenshot(path=str(ARTIFACTS / "panel_after_crash.png"))
        page.screenshot(path=str(ARTIFACTS / "lab_after_crash.png"), full_page=True)

        assert new not in (None, old), f"no new leader after crashing {old}"
        clock = page.locator(".faultlab-panel .faultlab-clock").first.text_content()
        assert f"leader: {new}" in clock
        assert "crash " + old in page.locator(".faultlab-event-log").first.text_content()
        title_after = _figure_title(page)
        assert title_after != title_before
        assert figure.screenshot() != shot_before

        # play runs simulated time from an asyncio task: the clock moves and the kernel still
        # answers the pause click while it runs.
        t_before = _clock_ms(page)
        page.locator(".faultlab-panel .faultlab-play").first.click()
        page.wait_for_function("(t) => { const c = document.querySelector('.faultlab-panel .faultlab-clock');"
                               " return c && parseFloat(c.textContent.split('=')[1].replace(/,/g, '')) > t + 500; }",
                               arg=t_before, timeout=30_000)
        page.locator(".faultlab-panel .faultlab-play").first.click()
        readings = [_clock_ms(page)]
        for _ in range(30):                    # the page may still be drawing updates sent before the pause
            page.wait_for_timeout(1000)
            readings.append(_clock_ms(page))
            if readings[-1] == readings[-2]:
                break
        page.wait_for_timeout(1500)
        assert readings[-1] == readings[-2] == _clock_ms(page), f"pause did not stop the clock: {readings}"
        assert "pause" not in page.locator(".faultlab-panel .faultlab-play").first.text_content()
        panel.screenshot(path=str(ARTIFACTS / "panel_after_play.png"))

        # the predict-then-inject exercise further down the notebook
        quiz = page.locator(".faultlab-predict").first
        quiz.scroll_into_view_if_needed()
        assert quiz.locator(".faultlab-inject").is_disabled(), "inject must wait for a prediction"
        quiz.get_by_text("a new leader is elected").click()
        quiz.locator(".faultlab-inject").click()
        feedback = quiz.locator(".faultlab-feedback")
        feedback.wait_for(timeout=30_000)
        assert "your prediction was right" in feedback.text_content()
        quiz.screenshot(path=str(ARTIFACTS / "predict_exercise.png"))
        ok = True
    finally:
        if not ok:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        page.close()
