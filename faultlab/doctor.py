"""Check what this machine can run: Python, packages, Java, ZooKeeper, etcd, Chromium, namespaces.

``faultlab doctor`` prints one row per check (OK / WARN / MISSING) with the exact command that
fixes it. It exits 0 when the simulator chapters can run (a recent Python and the core
packages); the real-cluster, partition and browser parts only add WARN/MISSING rows and a note,
because most of the course needs nothing outside Python.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import importlib.metadata as metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

OK, WARN, MISSING = "OK", "WARN", "MISSING"
MIN_PYTHON = (3, 10)
REPO = Path(__file__).resolve().parent.parent
JAVA_DIR = Path("/usr/share/java")
ZOOKEEPER_JARS = ("zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar")
CHROMIUM = Path("/usr/bin/chromium")

# Which part of the course needs each package; anything not listed is needed by the simulator.
PACKAGE_GROUPS = {
    "kazoo": "real clusters", "etcd3gw": "real clusters",
    "playwright": "browser", "kaleido": "browser",
    "pytest": "tests", "pytest-timeout": "tests", "nbval": "tests",
}
IMPORT_NAMES = {"pytest-timeout": "pytest_timeout"}
# Importing these costs seconds and proves little (`make lab` starts the server): locate them only.
LOCATE_ONLY = {"jupyterlab"}
GROUP_ORDER = ("simulator", "real clusters", "partitions", "browser", "tests")
GROUP_USES = {
    "real clusters": "the real ZooKeeper/etcd chapters",
    "partitions": "network partitions between real servers (crash/pause still work)",
    "browser": "browser tests and static (PNG) figure export",
    "tests": "`make test`",
}


@dataclasses.dataclass
class Check:
    """One row of the report: what was checked, for which part of the course, and how to fix it."""

    name: str
    group: str
    status: str
    detail: str
    fix: str = ""


def _apt(*packages: str) -> str:
    sudo = "" if os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install -y {' '.join(packages)}"


def _run(argv: list[str], timeout: float = 20) -> tuple[int, str]:
    """Run a command; (exit code, stdout+stderr). A missing program or a hang is exit 127/124."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return 127, f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]}: no answer within {timeout:.0f} s"
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --- Python and packages ------------------------------------------------------------------

def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return Check("python", "simulator", OK, f"Python {version} ({sys.executable})")
    need = ".".join(map(str, MIN_PYTHON))
    return Check("python", "simulator", MISSING, f"Python {version} is too old (need >= {need})",
                 f"install Python >= {need} (Debian 12 and Ubuntu 22.04 ship one), then: "
                 "make lab PYTHON=/path/to/python3")


def _split_requirement(text: str) -> tuple[str, str]:
    """'plotly>=6' -> ('plotly', '>=6'); markers and extras are dropped."""
    text = text.split(";", 1)[0].strip()
    match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", text)
    if not match:
        raise ValueError(f"cannot parse requirement {text!r}")
    return match.group(1), match.group(3).strip()


def required_packages() -> list[str]:
    """faultlab's declared dependencies: from pyproject.toml in a checkout, else the installed metadata."""
    pyproject = REPO / "pyproject.toml"
    if pyproject.exists():
        text = pyproject.read_text()
        try:
            import tomllib
        except ImportError:  # Python 3.10: read the one array we need
            block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
            return re.findall(r'"([^"]+)"', block.group(1)) if block else []
        return list(tomllib.loads(text)["project"]["dependencies"])
    try:
        requires = metadata.requires("faultlab") or []
    except metadata.PackageNotFoundError:
        return []
    return [r for r in requires if "extra ==" not in r]


def _satisfies(version: str, spec: str) -> bool | None:
    """True/False when the ``packaging`` library can tell, None when it is not available."""
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return None
    return SpecifierSet(spec).contains(version, prereleases=True)


def check_package(requirement: str) -> Check:
    name, spec = _split_requirement(requirement)
    key = name.lower().replace("_", "-")
    group = PACKAGE_GROUPS.get(key, "simulator")
    fix = "make lab   # or: .venv/bin/pip install -c requirements/lock.txt -e ."
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        return Check(f"package {name}", group, MISSING, f"not installed (need {name}{spec})", fix)
    module = IMPORT_NAMES.get(key, key.replace("-", "_"))
    try:
        if key in LOCATE_ONLY:
            if importlib.util.find_spec(module) is None:
                raise ImportError(f"no module named {module!r}")
        else:
            importlib.import_module(module)
    except Exception as exc:  # a broken install can raise anything at import time
        return Check(f"package {name}", group, MISSING,
                     f"{name} {version} is installed but `import {module}` fails: "
                     f"{type(exc).__name__}: {exc}", fix)
    ok = _satisfies(version, spec)
    if ok is False:
        return Check(f"package {name}", group, MISSING, f"{name} {version} does not match {spec}", fix)
    return Check(f"package {name}", group, OK, f"{version}" + (f" ({spec})" if spec else ""))


# --- external programs --------------------------------------------------------------------

def check_java() -> Check:
    code, out = _run(["java", "-version"])
    if code != 0:
        why = "not found on PATH" if code == 127 else f"`java -version` failed: {_first_line(out)}"
        return Check("java", "real clusters", MISSING, f"{why} (ZooKeeper runs on the JVM)",
                     _apt("default-jre-headless"))
    match = re.search(r'version "([^"]+)"', out)
    return Check("java", "real clusters", OK, match.group(1) if match else _first_line(out))


def check_zookeeper() -> Check:
    fix = _apt("zookeeper")
    missing = [jar for jar in ZOOKEEPER_JARS if not (JAVA_DIR / jar).exists()]
    if missing:
        return Check("zookeeper", "real clusters", MISSING,
                     f"missing {', '.join(str(JAVA_DIR / jar) for jar in missing)}", fix)
    versions = sorted(p.name[len("zookeeper-"):-len(".jar")] for p in JAVA_DIR.glob("zookeeper-[0-9]*.jar"))
    return Check("zookeeper", "real clusters", OK,
                 f"{versions[-1] if versions else 'version unknown'} ({JAVA_DIR / 'zookeeper.jar'})")


def _check_version_command(name: str, argv: list[str], pattern: str, package: str) -> Check:
    code, out = _run(argv)
    if code != 0:
        detail = "not found on PATH" if code == 127 else f"`{' '.join(argv)}` failed: {_first_line(out)}"
        return Check(name, "real clusters", MISSING, detail, _apt(package))
    match = re.search(pattern, out)
    return Check(name, "real clusters", OK, match.group(1) if match else _first_line(out))


def check_etcd() -> Check:
    return _check_version_command("etcd", ["etcd", "--version"], r"etcd Version: (\S+)", "etcd-server")


def check_etcdctl() -> Check:
    return _check_version_command("etcdctl", ["etcdctl", "version"], r"etcdctl version: (\S+)",
                                  "etcd-client")


def check_chromium() -> Check:
    fix = _apt("chromium")
    if not CHROMIUM.exists():
        return Check("chromium", "browser", MISSING, f"{CHROMIUM} not found", fix)
    code, out = _run([str(CHROMIUM), "--headless", "--no-sandbox", "--version"], timeout=30)
    match = re.search(r"Chromium (\S+)", out)
    if code != 0 or not match:
        return Check("chromium", "browser", WARN, f"{CHROMIUM} does not run: {_first_line(out)}", fix)
    return Check("chromium", "browser", OK, f"{match.group(1)} ({CHROMIUM})")


def check_network_namespaces() -> Check:
    """A real probe: in a throwaway namespace, make a veth pair and an nftables table."""
    tools = {"unshare": "util-linux", "nsenter": "util-linux", "ip": "iproute2", "nft": "nftables"}
    absent = [tool for tool in tools if shutil.which(tool) is None]
    if absent:
        return Check("network namespaces", "partitions", MISSING, f"missing {', '.join(absent)}",
                     _apt(*sorted({tools[t] for t in absent})))
    if os.geteuid() != 0:
        return Check("network namespaces", "partitions", WARN,
                     "not root: partitions between real servers need root (sudo)",
                     "run the real-cluster notebooks as root, e.g. in a VM or container you own")
    probe = ("ip link set lo up && ip link add fl0 type veth peer name fl1 "
             "&& nft add table inet faultlab_probe && nft list tables")
    code, out = _run(["unshare", "--net", "sh", "-c", probe])
    if code != 0 or "faultlab_probe" not in out:
        return Check("network namespaces", "partitions", MISSING,
                     f"cannot build a namespace with veth + nftables: {_first_line(out) or code}",
                     "needs CAP_SYS_ADMIN/CAP_NET_ADMIN (a container: run it with --privileged)")
    return Check("network namespaces", "partitions", OK, "unshare --net, veth and nftables work")


def check_iptables() -> Check:
    """Optional: faultlab's partitions use nftables; iptables serves hand-made loss/drop rules."""
    fix = _apt("iptables")
    if shutil.which("iptables") is None:
        return Check("iptables", "partitions", WARN, "not found on PATH (optional)", fix)
    if os.geteuid() != 0:
        return Check("iptables", "partitions", WARN, "installed; rules need root", "")
    code, out = _run(["unshare", "--net", "sh", "-c",
                      "iptables -w -A INPUT -s 10.77.0.2 -j DROP && iptables -w -S INPUT"])
    if code != 0 or "10.77.0.2" not in out:
        return Check("iptables", "partitions", WARN, f"cannot add a rule: {_first_line(out)}", fix)
    _, version = _run(["iptables", "--version"])
    return Check("iptables", "partitions", OK, f"{_first_line(version)}; rules work in a namespace")


# --- report ---------------------------------------------------------------------------------

def run_checks() -> list[Check]:
    """Every check, in report order. Takes a second or two (it starts java and chromium once)."""
    checks = [check_python()]
    requirements = required_packages()
    checks += [check_package(req) for req in requirements]
    if not requirements:
        checks.append(Check("packages", "simulator", MISSING,
                            "cannot find faultlab's dependency list (no pyproject.toml, not installed)",
                            "make lab   # from a faultlab checkout"))
    checks += [check_java(), check_zookeeper(), check_etcd(), check_etcdctl(),
               check_network_namespaces(), check_iptables(), check_chromium()]
    rank = {group: i for i, group in enumerate(GROUP_ORDER)}
    return sorted(checks, key=lambda c: rank.get(c.group, len(rank)))


def simulator_ready(checks: list[Check]) -> bool:
    return all(c.status == OK for c in checks if c.group == "simulator")


def summary(checks: list[Check]) -> list[str]:
    """Plain sentences: can the simulator chapters run, and what each other part still lacks."""
    lines = ["Simulator chapters: ready." if simulator_ready(checks)
             else "Simulator chapters: NOT ready; fix the MISSING rows marked 'simulator' first."]
    for group in GROUP_ORDER[1:]:
        use = GROUP_USES[group][0].upper() + GROUP_USES[group][1:]
        missing = [c.name for c in checks if c.group == group and c.status == MISSING]
        warned = [c.name for c in checks if c.group == group and c.status == WARN]
        if missing:
            lines.append(f"{use}: not available yet (see {', '.join(missing)}).")
        elif warned:
            lines.append(f"{use}: may be limited (see {', '.join(warned)}).")
    return lines


def format_table(checks: list[Check]) -> str:
    headers = ("CHECK", "PART", "STATUS", "DETAIL")
    rows = [(c.name, c.group, c.status, c.detail) for c in checks]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:3])]
    out = []
    for row in [headers, *rows]:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3])
    fixes: dict[str, list[str]] = {}  # one line per distinct command, naming what it fixes
    for c in checks:
        if c.status != OK and c.fix:
            fixes.setdefault(c.fix, []).append(c.name.removeprefix("package "))
    if fixes:
        out += ["", "To fix:"] + [f"  {', '.join(names)}: {fix}" for fix, names in fixes.items()]
    return "\n".join(out)


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print the checks as JSON (for notebooks and scripts)")


def run(args) -> int:
    checks = run_checks()
    ready = simulator_ready(checks)
    if args.json:
        print(json.dumps({"simulator_ready": ready, "summary": summary(checks),
                          "checks": [dataclasses.asdict(c) for c in checks]}, indent=2))
    else:
        print(format_table(checks))
        print()
        print("\n".join(summary(checks)))
    return 0 if ready else 1


if __name__ == "__main__":
    # `python3 faultlab/doctor.py` works even when `import faultlab` does not (packages missing).
    import argparse

    _parser = argparse.ArgumentParser(prog="faultlab doctor", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
