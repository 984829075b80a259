"""Start-up shared by the browser tests: a scratch JupyterLab server and Debian's Chromium.

The server listens on 127.0.0.1 on a free port, with no token, no news and no
update checks, and its settings, workspaces and runtime files in the scratch
directory; it is stopped with its kernels (one process group) at the end.
Set FAULTLAB_KEEP_LOGS=1 to print the end of the server log when it stops.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage"]
QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"checkForUpdates": False, "fetchNews": "false"},
}
# draw every cell, not only those in view, so that all outputs can be inspected
ALL_CELLS_SETTINGS = {
    **QUIET_SETTINGS,
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def browser_marks(timeout):
    """``pytestmark`` for a browser test module: marked, skipped without Chromium, time-limited."""
    return [pytest.mark.browser,
            pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium package "
                               "(make test installs it: apt-get install chromium)"),
            pytest.mark.timeout(timeout)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_lab(work, settings=QUIET_SETTINGS, env_drop=()):
    """JupyterLab serving ``work`` with the given user ``settings``; yields its base URL.

    ``env_drop``: environment variables the server (and so its kernels) must not inherit.
    """
    work = Path(work)
    for name, value in settings.items():
        path = work / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = free_port()
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
    for name in env_drop:
        env.pop(name, None)
    log = open(work / "jupyter.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
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
            os.killpg(proc.pid, signal.SIGTERM)      # the server and the kernels it started
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        if os.environ.get("FAULTLAB_KEEP_LOGS"):
            print((work / "jupyter.log").read_text()[-5000:])


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright (skips the test if Playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def run_all(page, url, notebook, timeout_ms=300_000):
    """Open ``notebook`` (a path under the server's root) in a fresh workspace and Run All Cells.

    Returns when no cell shows the busy prompt "[*]" any more and the kernel is idle.
    """
    page.goto(f"{url}/lab/tree/{notebook}?reset", timeout=90_000)
    page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.isEnabled('notebook:run-all-cells')",
                           timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt')];
        return prompts.length > 0 && prompts.every(p => !p.textContent.includes('*'))
               && prompts.some(p => /\\d/.test(p.textContent));
    }""", timeout=timeout_ms)
    page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=120_000)
    page.wait_for_timeout(1500)


def visible_notebook(page):
    """The notebook in the current (visible) tab."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")


def error_outputs(page):
    """Outputs on stderr (tracebacks, warnings) in the visible notebook."""
    return visible_notebook(page).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
