"""The set-up promises: pinned deps, matching conda/Binder files, quiet JupyterLab, a test runner
that reports honestly. Everything here runs the real tools (make, pip metadata, jupyter, nbval)."""
from __future__ import annotations

import configparser
import importlib.metadata as metadata
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
STAMP = Path(sys.prefix) / ".faultlab-setup-stamp"   # written by `make` after a successful set-up
CONDA_TO_PYPI = {"python-kaleido": "kaleido", "playwright-python": "playwright"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> dict[str, Requirement]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {norm(Requirement(d).name): Requirement(d) for d in deps}


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements" / "lock.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.!]+", line), \
                f"lock line is not an exact public pin: {line!r}"
            name, version = line.split("==")
            assert norm(name) not in pins, f"{name} pinned twice"
            pins[norm(name)] = version
    return pins


def apt_txt() -> list[str]:
    lines = (REPO / "apt.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


# --- dependency files -----------------------------------------------------------------------

def test_environment_yml_names_the_same_dependencies_as_pyproject():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["channels"][0] == "conda-forge"
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.update({norm(Requirement(d).name): str(Requirement(d).specifier) for d in dep["pip"]})
            continue
        name, spec = re.match(r"([A-Za-z0-9._-]+)\s*(.*)", dep).groups()
        conda[CONDA_TO_PYPI.get(norm(name), norm(name))] = spec.replace("=", "==", 1) \
            if re.match(r"=[^=]", spec) else spec
    named = {**conda, **pip}
    named.pop("python"), named.pop("pip")
    wanted = pyproject_requirements()
    assert set(named) == set(wanted)
    for name, req in wanted.items():   # same bounds, written the same way
        assert sorted(named[name].split(",")) == sorted(str(req.specifier).split(",")), name


def test_lock_pins_every_dependency_exactly_and_within_pyproject_bounds():
    pins = lock_pins()
    for name, req in pyproject_requirements().items():
        assert name in pins, f"{name} is a dependency but not pinned in requirements/lock.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (name, pins[name], req)
    assert {"pip", "setuptools"} <= set(pins), "the installer and build backend are pinned too"
    assert "faultlab" not in pins
    # local versions (e.g. 2.1+cpu) exist only in private indexes, never on PyPI
    assert not [f"{n}=={v}" for n, v in pins.items() if "+" in v]


def test_installed_environment_is_exactly_the_lock():
    if not STAMP.exists():
        pytest.skip(f"{sys.prefix} was not built by `make` (no {STAMP.name})")
    pins = lock_pins()
    wrong = {}
    for dist in metadata.distributions():
        name = norm(dist.metadata["Name"])
        if name != "faultlab" and pins.get(name) != dist.version:
            wrong[name] = (dist.version, pins.get(name))
    assert not wrong, f"installed (version, pinned) that differ from the lock: {wrong}"


def test_apt_txt_names_real_debian_packages_that_the_doctor_asks_for():
    packages = apt_txt()
    assert {"zookeeper", "etcd-server", "etcd-client", "default-jre-headless", "iproute2",
            "iptables", "nftables"} <= set(packages)
    if shutil.which("apt-cache") is None:
        pytest.skip("apt-cache not available to confirm the package names")
    policy = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True).stdout
    known = {}
    for block in re.split(r"^(?=\S)", policy, flags=re.M):
        if block.strip():
            known[block.split(":", 1)[0]] = bool(re.search(r"(Installed|Candidate): \d", block))
    assert known == {pkg: True for pkg in packages}, "apt knows no package named " + \
        ", ".join(pkg for pkg in packages if not known.get(pkg))


# --- make: idempotent set-up ------------------------------------------------------------------

def make_dry_run(*args):
    proc = subprocess.run(["make", "-n", "-C", str(REPO), f"VENV={sys.prefix}", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_second_setup_does_not_reinstall():
    if not STAMP.exists():
        pytest.skip(f"{sys.prefix} was not built by `make` (no {STAMP.name})")
    assert "setup-venv.sh" not in make_dry_run("setup")
    # ...but a changed lock file does trigger it (-W pretends the file was just modified)
    assert "setup-venv.sh" in make_dry_run("-W", "requirements/lock.txt", "setup")


def test_ci_entry_point_runs_make_test():
    run = REPO / ".ci" / "run"
    assert os.access(run, os.X_OK)
    commands = [line.strip() for line in run.read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert commands[-1] == "exec make test </dev/null"


def test_readme_quick_start_is_the_two_commands():
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", quick, re.S)
    assert blocks and blocks[0].split() == ["make", "lab"] and blocks[1].split() == ["make", "test"]
    layout = readme.split("## Repository layout", 1)[1].split("```")[1]
    paths = re.findall(r"^([\w./-]+)\s", layout, re.M)
    assert "faultlab/" in paths and "tests/" in paths
    for path in paths:
        if path in ("notebooks/", "labs/"):   # filled by the chapters and labs as they land
            continue
        assert (REPO / path).exists(), f"README layout names {path}, which does not exist"


# --- JupyterLab settings ------------------------------------------------------------------------

def test_setup_installed_the_jupyterlab_overrides():
    if not STAMP.exists():
        pytest.skip(f"{sys.prefix} was not built by `make` (no {STAMP.name})")
    installed = Path(sys.prefix, "share", "jupyter", "lab", "settings", "overrides.json")
    assert json.loads(installed.read_text()) == json.loads((REPO / "jupyter" / "overrides.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_serves_news_and_update_checks_off(tmp_path):
    """A real JupyterLab server reading jupyter/overrides.json reports the pop-ups switched off."""
    port, token = free_port(), "faultlab-test"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    argv = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
            f"--LabApp.app_settings_dir={REPO / 'jupyter'}"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "lab.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
                time.sleep(0.5)
        url = f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
        props = json.load(urllib.request.urlopen(url, timeout=30))["schema"]["properties"]
        assert props["fetchNews"]["default"] == "false"
        assert props["checkForUpdates"]["default"] is False
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# --- the test runner -----------------------------------------------------------------------------

def run_tests(tmp_path, **env):
    proc = subprocess.run(["bash", str(REPO / "scripts" / "run-tests.sh")], cwd=REPO,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "VENV": sys.prefix, "NBVAL": "0", **env})
    summary = [line for line in proc.stdout.splitlines() if line.startswith("[test] PASS")
               or line.startswith("[test] FAIL")]
    assert len(summary) == 1, proc.stdout + proc.stderr
    return proc.returncode, summary[0]


def test_runner_summary_reflects_pass_fail_and_empty(tmp_path):
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    (tmp_path / "test_bad.py").write_text("def test_bad():\n    assert 1 + 1 == 3\n")
    (tmp_path / "test_none.py").write_text("X = 1\n")
    rc, line = run_tests(tmp_path, PYTEST_ARGS=str(tmp_path / "test_ok.py"))
    assert rc == 0 and line.startswith("[test] PASS") and "pytest: passed" in line
    assert "nbval: skipped (NBVAL=0)" in line
    rc, line = run_tests(tmp_path, PYTEST_ARGS=str(tmp_path / "test_bad.py"))
    assert rc != 0 and line.startswith("[test] FAIL") and "pytest: FAILED (exit 1)" in line
    rc, line = run_tests(tmp_path, PYTEST_ARGS=str(tmp_path / "test_none.py"))
    assert rc != 0 and "pytest: FAILED (no tests collected)" in line
    # quoted arguments survive: only test_ok is selected, so the failing test does not run
    rc, line = run_tests(tmp_path, PYTEST_ARGS=f"{tmp_path} -k 'test_ok and not test_bad'")
    assert rc == 0 and "pytest: passed" in line, line


def notebook(path: Path, source: str, stored_output: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
            "source": source, "outputs": [{"name": "stdout", "output_type": "stream",
                                           "text": stored_output}]}
    path.write_text(json.dumps({"cells": [cell], "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}))


def test_runner_checks_notebooks_with_nbval_and_sanitizes(tmp_path):
    ok = tmp_path / "notebooks" / "ok.ipynb"
    # the object address differs on every run: only the sanitize file makes this pass
    notebook(ok, "print(2 + 2, hex(id(object())))", "4 0x7f0123456789\n")
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    common = {"PYTEST_ARGS": str(tmp_path / "test_ok.py"), "NBVAL": "1"}
    rc, line = run_tests(tmp_path, NBVAL_PATHS=str(tmp_path / "notebooks"), **common)
    assert rc == 0 and "nbval: 1 notebooks passed" in line, line
    notebook(tmp_path / "broken" / "wrong.ipynb", "print(2 + 2)", "5\n")
    rc, line = run_tests(tmp_path, NBVAL_PATHS=str(tmp_path / "broken"), **common)
    assert rc != 0 and "nbval: FAILED" in line, line
    rc, line = run_tests(tmp_path, NBVAL_PATHS=str(tmp_path / "nothing-here"), **common)
    assert rc == 0 and "nbval: no notebooks yet" in line, line


def test_notebook_listing_skips_solutions_and_checkpoints(tmp_path):
    for rel in ["notebooks/01_intro.ipynb", "notebooks/.ipynb_checkpoints/01_intro-checkpoint.ipynb",
                "labs/lab1.ipynb", "labs/solutions/lab1.ipynb"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / "tests").mkdir()
    shutil.copy(REPO / "tests" / "nbval_ignore.txt", tmp_path / "tests")
    listed = subprocess.run([sys.executable, str(REPO / "scripts" / "list_notebooks.py")],
                            cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert listed.splitlines() == ["notebooks/01_intro.ipynb", "labs/lab1.ipynb"]


def test_nbval_sanitize_file_is_valid():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "tests" / "nbval_sanitize.cfg")
    assert cfg.sections()
    for section in cfg.sections():
        re.compile(cfg[section]["regex"])
        assert "replace" in cfg[section], section


# --- system packages ------------------------------------------------------------------------------

def system_packages_script(tmp_path, packages):
    """A copy of the set-up script next to its own apt.txt, so the test chooses the package list."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "system-packages.sh", tmp_path / "scripts")
    (tmp_path / "apt.txt").write_text("# test list\n" + "\n".join(packages) + "\n")
    tmp_path.chmod(0o755)
    return tmp_path / "scripts" / "system-packages.sh"


def test_without_privileges_setup_explains_and_carries_on():
    if os.geteuid() != 0 or shutil.which("setpriv") is None or shutil.which("dpkg-query") is None:
        pytest.skip("needs root (to drop to an unprivileged user) and dpkg")
    shared = Path(tempfile.mkdtemp(prefix="faultlab-apt-"))   # pytest's tmp dirs are root-only
    try:
        script = system_packages_script(shared, ["faultlab-no-such-package"])
        proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                               "bash", str(script)], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "HOME": str(shared), "FAULTLAB_STRICT_SETUP": "1"})
    finally:
        shutil.rmtree(shared)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "missing system packages: faultlab-no-such-package" in proc.stdout
    assert "sudo apt-get update && sudo apt-get install -y faultlab-no-such-package" in proc.stdout
    assert "continuing without them" in proc.stdout


def test_installed_system_packages_are_a_fast_no_op(tmp_path):
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a Debian/Ubuntu system")
    wanted = ["bash", "coreutils", "chromium"]   # the script always adds chromium
    status = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}\n", *wanted],
                            capture_output=True, text=True).stdout.split()
    if status.count("ii") != len(wanted):
        pytest.skip("chromium is not installed here, so the script would install it")
    started = time.monotonic()
    proc = subprocess.run(["bash", str(system_packages_script(tmp_path, wanted[:2]))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "[setup] system packages: all 3 present" in proc.stdout
    assert time.monotonic() - started < 10


# --- make lab: the page it opens -----------------------------------------------------------------

def test_make_lab_opens_start_here_in_the_working_copy(tmp_path):
    """scripts/lab.sh (what `make lab` runs) on a free loopback port: the printed URL, and the
    server's own start page, are notebooks/00_start_here.ipynb inside the working copy."""
    work, out = tmp_path / "work", tmp_path / "lab.out"
    env = {**os.environ, "VENV": sys.prefix, "PORT": str(free_port()), "WORK": str(work),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with out.open("w") as log:
        server = subprocess.Popen(["bash", str(REPO / "scripts" / "lab.sh")], cwd=REPO, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)/\S+", out.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        url, port = found.group(0), found.group(1)
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/lab/tree/notebooks/00_start_here\.ipynb"
                            r"\?token=[0-9a-f]{48}", url), url
        token = url.split("token=")[1]
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, out.read_text()
                time.sleep(0.5)
        assert urllib.request.urlopen(url, timeout=30).status == 200
        # the bare address (a bookmark, or the URL Jupyter logs) redirects to the same page
        landing = urllib.request.urlopen(f"{base}/?token={token}", timeout=30).geturl()
        assert landing.split("?")[0] == f"{base}/lab/tree/notebooks/00_start_here.ipynb", landing
        # JupyterLab's root is the working copy: it holds the course, never the solutions
        listing = json.load(urllib.request.urlopen(f"{base}/api/contents/labs?token={token}", timeout=30))
        names = sorted(item["name"] for item in listing["content"])
        assert "lab01_raft_election.ipynb" in names and "solutions" not in names, names
        assert (work / "notebooks" / "00_start_here.ipynb").read_bytes() == \
            (REPO / "notebooks" / "00_start_here.ipynb").read_bytes()
        assert "[lab] working copy" in out.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- set-up output: the machine's pip notices hidden, errors kept -----------------------------------

PIP_QUIET = REPO / "scripts" / "pip-quiet.sh"
NOTICE = "WARNING: Location 'file:///opt/no-such-index/simple/simpy/' is ignored: it is neither a file nor a directory."


def test_pip_quiet_hides_only_the_machines_index_notices_and_keeps_the_exit_status():
    script = f'echo installed; echo "{NOTICE}" >&2; echo "{NOTICE}" >&2; echo "WARNING: a real one" >&2; exit 3'
    proc = subprocess.run(["bash", str(PIP_QUIET), "bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stderr == "WARNING: a real one\n"
    assert proc.stdout.splitlines() == ["installed", "[setup] hid 2 pip notices about this machine's pip "
                                        "configuration (file:// index locations that do not exist; see: pip "
                                        "config list)"]
    quiet = subprocess.run(["bash", str(PIP_QUIET), "true"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stdout == quiet.stderr == ""


def test_pip_quiet_tallies_several_pip_runs_into_one_line(tmp_path):
    tally = tmp_path / "tally"
    env = {**os.environ, "PIP_QUIET_TALLY": str(tally)}
    for n in (1, 2):
        script = "; ".join([f'echo "{NOTICE}" >&2'] * n)
        proc = subprocess.run(["bash", str(PIP_QUIET), "bash", "-c", script], capture_output=True, text=True,
                              env=env)
        assert proc.returncode == 0 and proc.stdout == proc.stderr == ""
    total = subprocess.run(["bash", str(PIP_QUIET), "--total", str(tally)], capture_output=True, text=True)
    assert total.returncode == 0 and total.stdout.startswith("[setup] hid 3 pip notices"), total.stdout
    none = subprocess.run(["bash", str(PIP_QUIET), "--total", str(tmp_path / "no-such-tally")],
                          capture_output=True, text=True)
    assert none.returncode == 0 and none.stdout == ""


def test_pip_quiet_on_real_pip_keeps_errors_and_hides_this_machines_notices():
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-q"]
    noisy = subprocess.run(["bash", str(PIP_QUIET), *pip, "--dry-run", "--ignore-installed", "--no-deps",
                            "-c", str(REPO / "requirements" / "lock.txt"), "simpy", "tqdm"],
                           capture_output=True, text=True, timeout=300)
    assert noisy.returncode == 0, noisy.stderr
    assert "is ignored:" not in noisy.stderr
    plain = subprocess.run([*pip, "--dry-run", "--ignore-installed", "--no-deps", "-c",
                            str(REPO / "requirements" / "lock.txt"), "simpy", "tqdm"],
                           capture_output=True, text=True, timeout=300).stderr
    hidden = len(re.findall(r"^WARNING: Location 'file://\S+' is ignored: ", plain, re.M))
    if hidden:                                  # this machine's pip.conf names missing file:// indexes
        assert f"[setup] hid {hidden} pip notices" in noisy.stdout
    failing = subprocess.run(["bash", str(PIP_QUIET), *pip, "--no-index", "faultlab-no-such-package"],
                             capture_output=True, text=True, timeout=300)
    assert failing.returncode == 1
    assert "ERROR: No matching distribution found for faultlab-no-such-package" in failing.stderr


def test_a_failing_pip_install_fails_the_setup(tmp_path):
    """setup-venv.sh with a lock that pins a pip that does not exist: the error shows, the set-up stops."""
    for rel in ("scripts/setup-venv.sh", "scripts/pip-quiet.sh", "pyproject.toml", "README.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, tmp_path / rel)
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "lock.txt").write_text("pip==0.0.1\nsetuptools==0.0.1\n")
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "setup-venv.sh")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHON": sys._base_executable, "VENV": str(tmp_path / "venv"),
                               "PIP_NO_INDEX": "1"})
    assert proc.returncode != 0, proc.stdout
    assert "[setup] installing pinned dependencies" in proc.stdout
    assert "ERROR:" in proc.stderr, proc.stderr
    assert "python environment ready" not in proc.stdout
