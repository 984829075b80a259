"""`faultlab doctor`, run as a real subprocess against this machine, with tools and packages really absent."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCTOR_SCRIPT = REPO / "faultlab" / "doctor.py"
EXTERNAL = {"java", "zookeeper", "etcd", "etcdctl", "chromium", "network namespaces", "iptables"}


def doctor(*args, python=sys.executable, env=None, cli=True):
    argv = [python, "-m", "faultlab.cli", "doctor", *args] if cli else [python, str(DOCTOR_SCRIPT), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=REPO,
                          stdin=subprocess.DEVNULL)


def as_rows(proc):
    report = json.loads(proc.stdout)
    return report, {row["name"]: row for row in report["checks"]}


def declared_dependencies():
    import tomllib
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {dep.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
            for dep in deps}


def dpkg_installed(package):
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a Debian/Ubuntu system")
    proc = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
                          capture_output=True, text=True)
    return proc.stdout.startswith("ii")


@pytest.fixture(scope="module")
def here():
    """The doctor's JSON report for this very environment (run once; it starts java and chromium)."""
    proc = doctor("--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return as_rows(proc)


def test_full_report_in_this_environment(here):
    report, rows = here
    assert report["simulator_ready"] is True
    assert EXTERNAL <= set(rows)
    assert {f"package {name}" for name in declared_dependencies()} <= set(rows)
    for row in report["checks"]:
        assert row["status"] in ("OK", "WARN", "MISSING")
        if row["status"] == "MISSING":
            assert row["fix"], f"{row['name']} is MISSING but has no fix"
    assert all(rows[f"package {name}"]["status"] == "OK" for name in declared_dependencies())
    assert report["summary"][0] == "Simulator chapters: ready."


@pytest.mark.parametrize("check, package", [
    ("java", "default-jre-headless"), ("zookeeper", "zookeeper"), ("etcd", "etcd-server"),
    ("etcdctl", "etcd-client"), ("chromium", "chromium"),
])
def test_external_checks_agree_with_dpkg(here, check, package):
    """dpkg is an independent witness: installed package <=> OK row, with the version dpkg knows."""
    _, rows = here
    row = rows[check]
    if dpkg_installed(package):
        assert row["status"] == "OK", row
        if check in ("etcd", "etcdctl", "zookeeper", "chromium"):
            version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                                     capture_output=True, text=True).stdout
            assert row["detail"].split()[0] in version, (row, version)
    else:
        assert row["status"] == "MISSING", row
        assert f"apt-get install -y {package}" in row["fix"]


def test_missing_programs_are_reported_with_the_exact_fix(tmp_path):
    """An empty PATH really hides java/etcd/etcdctl/ip/nft; the simulator still counts as ready."""
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = doctor(env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for name, package in [("java", "default-jre-headless"), ("etcd", "etcd-server"),
                          ("etcdctl", "etcd-client")]:
        line = next(line for line in out.splitlines() if line.split()[:1] == [name])
        assert "MISSING" in line and "not found on PATH" in line
        assert f"apt-get install -y {package}" in out
    assert "apt-get install -y iproute2 nftables util-linux" in out
    assert "Simulator chapters: ready." in out
    assert "The real ZooKeeper/etcd chapters: not available yet (see java, etcd, etcdctl)." in out
    assert "Network partitions between real servers (crash/pause still work): not available yet" in out


def test_missing_python_packages_fail_the_simulator_check(tmp_path):
    """A bare interpreter (no packages at all) runs the doctor script and exits 1 with the fix."""
    bare = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(bare)
    proc = doctor("--json", python=str(bare / "bin" / "python"), cli=False)
    assert proc.returncode == 1, proc.stderr
    report, rows = as_rows(proc)
    assert report["simulator_ready"] is False
    assert rows["python"]["status"] == "OK"
    for name in declared_dependencies():
        row = rows[f"package {name}"]
        assert row["status"] == "MISSING" and "not installed" in row["detail"]
        assert row["fix"].startswith("make lab")
    assert report["summary"][0].startswith("Simulator chapters: NOT ready")


def test_broken_package_is_reported_not_crashed(tmp_path):
    """A package whose import raises (shadowed here by a real broken module) is MISSING, named."""
    (tmp_path / "simpy.py").write_text("raise RuntimeError('half-installed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    proc = doctor("--json", env=env, cli=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    _, rows = as_rows(proc)
    assert rows["package simpy"]["status"] == "MISSING"
    assert "import simpy` fails: RuntimeError: half-installed" in rows["package simpy"]["detail"]


def test_unknown_option_is_a_clear_usage_error():
    proc = doctor("--jsn")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "unrecognized arguments: --jsn" in proc.stderr
