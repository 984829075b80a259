"""Chapter 4 (ZooKeeper and etcd, for real): what nbval cannot show.

nbval checks the chapter against its stored outputs on a machine with the servers.
Here: (1) on a machine *without* the servers -- a kernel whose PATH has neither
``java`` nor ``etcd``, which is exactly how faultlab detects a missing server --
the chapter still runs top to bottom, says how to install them, and every
real-cluster cell says it skipped; (2) the fencing-token storage and the
prediction check behave, and bad input says what was wrong.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from faultlab import practice
from faultlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
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
    start = next(c for c in code if "practice.start(" in c.source)
    said = _text(start)
    assert "ZooKeeper is not installed here" in said and "etcd is not installed here" in said
    assert "make lab" in said and "apt-get install -y zookeeper default-jre-headless etcd-server" in said
    assert "servers running" not in said


def test_without_servers_every_real_cluster_cell_says_it_skipped(without_servers):
    real = [c for c in without_servers.cells if c.cell_type == "code" and "practice.have(" in c.source]
    assert len(real) >= 15
    for cell in real:
        assert _text(cell).startswith("skipped: this cell needs the real servers"), cell.source
    last = without_servers.cells[-1]
    assert "practice.close" in last.source and _text(last) == "all servers stopped\n"


def test_fencing_storage_rejects_the_zombie_only_when_it_checks_tokens():
    plain, fenced = practice.Storage(fencing=False), practice.Storage(fencing=True)
    for store in (plain, fenced):
        assert store.write("report", "B", 7, "B")
    assert plain.write("report", "A (stale)", 5, "A") is True
    assert plain.data == {"report": "A (stale)"}
    assert fenced.write("report", "A (stale)", 5, "A") is False
    assert fenced.data == {"report": "B"} and "REJECTED" in str(fenced)
    assert fenced.write("report", "C", 9, "C") and fenced.newest == 9
    with pytest.raises(ConfigError, match="fencing token is an int"):
        fenced.write("report", "x", "7", "D")


def test_prediction_check_reports_right_wrong_and_missing(capsys):
    choices = practice.CHOICES["zombie"]
    practice.check(" B ", "b", choices)
    assert "Your prediction: right." in capsys.readouterr().out
    practice.check("a", "b", choices)
    assert "not this time" in capsys.readouterr().out
    practice.check("", "b", choices)
    assert "did not write a prediction" in capsys.readouterr().out
    practice.check("z", "b", choices)
    assert "not one of a, b" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="unknown outcome"):
        practice.check("a", "q", choices)


def test_partition_outcome_and_a_partition_that_could_not_run(capsys):
    minority_fails = {"minority": "failed (TimeoutError)", "majority": "ok"}
    assert practice.partition_outcome([minority_fails, minority_fails]) == "b"
    assert practice.partition_outcome([minority_fails, {"minority": "ok", "majority": "ok"}]) == "a"
    assert practice.partition_outcome([{"minority": "failed (x)", "majority": "failed (y)"}]) == "c"
    assert practice.partition_outcome([minority_fails, None]) is None
    practice.check("b", None, practice.CHOICES["partition"])
    assert "could not run on this machine" in capsys.readouterr().out


def test_start_names_what_it_accepts():
    with pytest.raises(ConfigError, match="'zookeeper' and/or 'etcd'"):
        practice.start("consul")
    with pytest.raises(ConfigError, match="'zookeeper' and/or 'etcd'"):
        practice.start()


# -- in JupyterLab with Chromium: what a learner sees ------------------------------------------
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "browser" / "chapters"


def _servers_missing():
    return shutil.which("etcd") is None or shutil.which("java") is None \
        or not Path("/usr/share/java/zookeeper.jar").exists()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab (no token, news off, every cell rendered) on a scratch copy of the chapter."""
    import json
    import signal
    import socket
    import subprocess
    import time
    import urllib.request
    work = tmp_path_factory.mktemp("lab04")
    (work / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, work / "notebooks" / NOTEBOOK.name)
    settings = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"checkForUpdates": False, "fetchNews": "false"},
                "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}
    for name, value in settings.items():
        path = work / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={work}", "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / ".settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / ".workspaces"), JUPYTER_RUNTIME_DIR=str(work / ".runtime"))
    env.pop("FAULTLAB_STATIC_FIGURES", None)          # a learner's set-up: interactive figures only
    log = open(work / "jupyter.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
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


@pytest.mark.browser
@pytest.mark.real
@pytest.mark.timeout(600)
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium package (make test installs it)")
def test_in_jupyterlab_the_chapter_runs_with_live_figures_and_no_errors(jupyterlab):
    if _servers_missing() and not os.environ.get("CI"):
        pytest.skip("real servers not installed: apt-get install zookeeper default-jre-headless etcd-server")
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 950})
            page.goto(f"{jupyterlab}/lab/tree/notebooks/{NOTEBOOK.name}?reset", timeout=90_000)
            page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
            page.wait_for_function("window.jupyterapp && "
                                   "window.jupyterapp.commands.isEnabled('notebook:run-all-cells')", timeout=60_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function("""() => {
                const p = [...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')];
                return p.length > 0 && p.every(x => !x.textContent.includes('*')) && p.some(x => /\\d/.test(x.textContent));
            }""", timeout=400_000)
            page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
            stderr = notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert stderr.count() == 0, stderr.first.inner_text()
            figures = notebook.locator(".js-plotly-plot")
            assert figures.count() == 2, "the two role timelines should be drawn by JupyterLab's plotly extension"
            for name, text in [("start", "servers running"), ("fencing", "REJECTED"), ("stopped", "all servers stopped")]:
                out = notebook.locator(".jp-OutputArea-output", has_text=text).first
                out.scroll_into_view_if_needed()
                page.wait_for_timeout(300)
                page.screenshot(path=str(SHOTS / f"04_{name}.png"))
            figures.first.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            page.screenshot(path=str(SHOTS / "04_timelines.png"))
        finally:
            browser.close()
