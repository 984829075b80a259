"""Chapter 4 (ZooKeeper and etcd, for real): what nbval cannot show.

nbval checks the chapter against its stored outputs on a machine with the servers.
Here: (1) on a machine *without* the servers -- a kernel whose PATH has neither
``java`` nor ``etcd``, which is exactly how faultlab detects a missing server --
the chapter still runs top to bottom, says how to install them, and every
``%%needs`` cell says in one line that it skipped; (2) the one availability
guard, the fencing-token storage and the exercises' outcome rules behave, and bad
input says what was wrong; (3) in JupyterLab with Chromium the chapter runs on
real servers with live figures.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from _lab import ALL_CELLS_SETTINGS, ROOT, browser_marks, error_outputs, run_all, running_lab, visible_notebook
from faultlab.course import zk_etcd_chapter as ch
from faultlab.errors import ConfigError
from faultlab.real import Failover

NOTEBOOK = ROOT / "notebooks" / "04_practice_zookeeper_etcd.ipynb"

pytestmark = pytest.mark.notebook


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream")


@pytest.fixture(scope="module")
def without_servers(tmp_path_factory):
    """The chapter executed in a fresh kernel whose PATH finds Python but no java and no etcd."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for tool in ("python", "python3"):
        (bin_dir / tool).symlink_to(sys.executable)
    env = dict(os.environ, PATH=str(bin_dir), FAULTLAB_STATIC_FIGURES="0")
    assert shutil.which("java", path=env["PATH"]) is None and shutil.which("etcd", path=env["PATH"]) is None
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}},
                   store_widget_state=False).execute(env=env)
    return nb


def test_without_servers_the_chapter_runs_and_says_how_to_install_them(without_servers):
    code = [c for c in without_servers.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o["output_type"] == "error"]
    assert errors == []
    start = next(c for c in code if "ch.start(" in c.source)
    said = _text(start)
    assert "ZooKeeper is not installed here" in said and "etcd is not installed here" in said
    assert "make lab" in said and "apt-get install -y zookeeper default-jre-headless etcd-server" in said
    assert "servers running" not in said


def test_without_servers_every_needs_cell_skips_with_one_line(without_servers):
    code = [c for c in without_servers.cells if c.cell_type == "code"]
    guarded = [c for c in code if c.source.startswith("%%needs ")]
    assert len(guarded) >= 20 and len(guarded) == len(code) - 3      # all but set-up, start and close
    for cell in guarded:
        kinds = cell.source.splitlines()[0].split()[1:]
        said = _text(cell)
        assert said.startswith("skipped: ") and said.count("\n") == 1, cell.source
        for kind in kinds:
            assert f"{ch.NAMES[kind]} is not installed (apt-get install {ch.PACKAGES[kind]})" in said
    assert not any("have(" in c.source for c in code), "one guard: %%needs, not per-cell if-blocks"
    last = without_servers.cells[-1]
    assert "ch.close" in last.source and _text(last) == "all servers stopped\n"


def test_the_needs_guard_runs_a_cell_only_when_its_servers_are_up(monkeypatch):
    monkeypatch.setattr(ch, "_STARTED", {"etcd"})
    monkeypatch.setattr(ch, "_WHY_MISSING", {})
    ns = {}
    assert ch.run_cell_if_up("etcd", "x = 2\nx + 1", ns) == 3 and ns["x"] == 2
    assert ch.run_cell_if_up("etcd", "x + 5;", ns) is None            # ';' hides the value, as in Jupyter
    assert ch.skip_reason("zookeeper etcd") == "ZooKeeper was not started (run the 'Start the clusters' cell first)"
    assert ch.run_cell_if_up("zookeeper", "y = 1", ns) is None and "y" not in ns
    with pytest.raises(ConfigError, match="%%needs takes 'zookeeper' and/or 'etcd'"):
        ch.skip_reason("consul")
    with pytest.raises(ConfigError, match="%%needs takes"):
        ch.skip_reason("")


def test_fencing_storage_rejects_the_zombie_only_when_it_checks_tokens():
    plain, fenced = ch.Storage(fencing=False), ch.Storage(fencing=True)
    for store in (plain, fenced):
        assert store.write("report", "B", 7, "B")
    assert plain.write("report", "A (stale)", 5, "A") is True
    assert plain.data == {"report": "A (stale)"}
    assert fenced.write("report", "A (stale)", 5, "A") is False
    assert fenced.data == {"report": "B"} and "REJECTED" in str(fenced)
    assert fenced.write("report", "C", 9, "C") and fenced.newest == 9
    with pytest.raises(ConfigError, match="fencing token is an int"):
        fenced.write("report", "x", "7", "D")
    without, with_ = ch.zombie_write(5, 7).split("\n\n")
    assert "final value: {'report': \"A's stale report\"}" in without
    assert "REJECTED" in with_ and "final value: {'report': \"B's report\"}" in with_


def _run(new_leader="n2", to_write_s=1.0, acked_kept=True):
    return ch.Recovery("cluster", Failover("crash", "n1", new_leader, 0.5, to_write_s), acked_kept)


def test_kill_outcome_reads_leader_write_and_the_acknowledged_key():
    assert ch.recovery_outcome([_run(), _run()]) == "b"
    assert ch.recovery_outcome([_run(), _run(acked_kept=None)]) == "b"     # not acknowledged: no loss
    assert ch.recovery_outcome([_run(), _run(acked_kept=False)]) == "c"
    assert ch.recovery_outcome([_run(new_leader=None), _run()]) == "a"
    assert ch.recovery_outcome([_run(to_write_s=None)]) == "a"


def test_partition_outcome_and_a_partition_that_could_not_run():
    minority_fails = {"minority": "failed (TimeoutError)", "majority": "ok"}
    assert ch.partition_outcome([minority_fails, minority_fails]) == "b"
    assert ch.partition_outcome([minority_fails, {"minority": "ok", "majority": "ok"}]) == "a"
    assert ch.partition_outcome([{"minority": "failed (x)", "majority": "failed (y)"}]) == "c"
    assert ch.partition_outcome([minority_fails, {"kind": "etcd", "impossible": "no root"}]) is None
    assert ch.partition_report({"kind": "etcd", "impossible": "no root"}) == \
        "etcd: partitions are not possible on this machine: no root"


def test_exercises_and_start_say_what_they_need():
    with pytest.raises(ConfigError, match="'zookeeper' and/or 'etcd'"):
        ch.start("consul")
    with pytest.raises(ConfigError, match="'zookeeper' and/or 'etcd'"):
        ch.start()
    with pytest.raises(ConfigError, match="KillLeader needs running clusters"):
        ch.KillLeader(None, None)
    with pytest.raises(ConfigError, match="starts from a lock that A holds"):
        ch.LostLock(None, object(), None, "/locks/report")


# -- in JupyterLab with Chromium: what a learner sees ------------------------------------------
SHOTS = ROOT / "artifacts" / "browser" / "chapters"


def _servers_missing():
    return shutil.which("etcd") is None or shutil.which("java") is None \
        or not Path("/usr/share/java/zookeeper.jar").exists()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab (every cell rendered, interactive figures only) on a scratch copy of the chapter."""
    work = tmp_path_factory.mktemp("lab04")
    (work / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, work / "notebooks" / NOTEBOOK.name)
    with running_lab(work, ALL_CELLS_SETTINGS, env_drop=("FAULTLAB_STATIC_FIGURES",)) as url:
        yield url


def _browser_test(func):
    """Marked real and browser, skipped without Chromium, time-limited -- as tests/browser/ mark theirs."""
    for mark in (pytest.mark.real, *browser_marks(timeout=600)):
        func = mark(func)
    return func


@_browser_test
def test_in_jupyterlab_the_chapter_runs_with_live_figures_and_no_errors(jupyterlab, browser):
    if _servers_missing() and not os.environ.get("CI"):
        pytest.skip("real servers not installed: apt-get install zookeeper default-jre-headless etcd-server")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 950})
    try:
        run_all(page, jupyterlab, f"notebooks/{NOTEBOOK.name}", timeout_ms=400_000)
        assert error_outputs(page).count() == 0, error_outputs(page).first.inner_text()
        notebook = visible_notebook(page)
        figures = notebook.locator(".js-plotly-plot")
        assert figures.count() == 2, "the two role timelines should be drawn by JupyterLab's plotly extension"
        assert page.locator(".faultlab-predict").count() == 4
        skipped = notebook.locator(".jp-OutputArea-output", has_text="skipped:")
        assert skipped.count() == 0, skipped.first.inner_text()          # the servers ran every cell
        for name, text in [("start", "servers running"), ("fencing", "REJECTED"), ("stopped", "all servers stopped")]:
            out = notebook.locator(".jp-OutputArea-output", has_text=text).first
            out.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            page.screenshot(path=str(SHOTS / f"04_{name}.png"))
        figures.first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "04_timelines.png"))
    finally:
        page.close()
