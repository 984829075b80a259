"""Grade students' lab notebooks against the official full-score outputs.

``pytest --nbval`` compares a notebook with the outputs stored *in that file*.
A student who saved the notebook after a failing run has stored the failing
report, and nbval would then happily "pass" it. So an instructor grades a
submission here instead: the student's code cells (the cells that held the
``TODO``s) are spliced into a fresh copy of the official student notebook, whose
check cells hold the full-score report, and nbval runs on that copy.

    python -m faultlab.grading.submission alice.ipynb bob.ipynb   # one line per submission
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat

from ..errors import ConfigError
from .seeds import ENV_VAR

ROOT = Path(__file__).resolve().parents[2]
TODO_MARK = 'raise NotImplementedError("TODO'
_CLASS = re.compile(r"^class\s+(\w+)", re.M)


def official_notebook(lab):
    path = ROOT / "labs" / f"{lab}.ipynb"
    if not path.exists():
        raise ConfigError(f"no official notebook for lab {lab!r} at {path}; grade from a faultlab checkout")
    return nbformat.read(path, as_version=4)


def _lab_of(nb, path):
    lab = nb.metadata.get("faultlab", {}).get("lab")
    if not lab:
        raise ConfigError(f"{path} is not a faultlab lab notebook (no metadata.faultlab.lab); "
                          "pass the notebook the student started from labs/")
    return lab


def splice(submission, official):
    """The official notebook with the student's versions of its TODO cells."""
    nb = nbformat.from_dict(official)
    by_id = {c.get("id"): c for c in submission.cells if c.cell_type == "code"}
    for cell in nb.cells:
        if cell.cell_type != "code" or TODO_MARK not in cell.source:
            continue
        theirs = by_id.get(cell.get("id"))
        if theirs is None:                   # cell re-created: find the one defining the same class
            names = set(_CLASS.findall(cell.source))
            theirs = next((c for c in submission.cells if c.cell_type == "code"
                           and names & set(_CLASS.findall(c.source))), None)
        if theirs is None:
            raise ConfigError(f"the submission has no cell defining {', '.join(sorted(names))}; "
                              "students keep all their code in the lab's class cell")
        cell.source = theirs.source
    return nb


def grade(paths, seeds=None, timeout=900):
    """nbval each submission against the official outputs; return {path: [failing check cell ids]}."""
    paths = [Path(p) for p in paths]
    with tempfile.TemporaryDirectory(prefix="faultlab-grade-") as tmp:
        tmp = Path(tmp)
        copies, code_ids = {}, {}
        for i, path in enumerate(paths):
            sub = nbformat.read(path, as_version=4)
            official = official_notebook(_lab_of(sub, path))
            copy = tmp / f"submission{i}.ipynb"
            nbformat.write(splice(sub, official), copy)
            copies[copy.stem] = path
            code_ids[copy.stem] = [c.get("id") for c in official.cells if c.cell_type == "code"]
        env = dict(os.environ)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        if seeds is not None:
            env[ENV_VAR] = seeds
        (tmp / "pytest.ini").write_text("[pytest]\n")
        junit = tmp / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp),
                        "-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                        str(ROOT / "tests" / "nbval_sanitize.cfg"), f"--junitxml={junit}", "-q",
                        *map(str, sorted(tmp.glob("submission*.ipynb")))],
                       cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        if not junit.exists():
            raise RuntimeError("nbval did not run; try: pytest --nbval on the submission to see why")
        failing = {path: [] for path in paths}
        for case in ET.parse(junit).iter("testcase"):
            if any(child.tag in ("failure", "error") for child in case):
                stem = case.get("classname", "").removesuffix(".ipynb")
                index = int(case.get("name", "Cell -1").split()[-1])
                failing[copies[stem]].append(code_ids[stem][index])
    return failing


def main(argv=None):
    ap = argparse.ArgumentParser(description="Grade lab notebooks against the official full-score outputs.")
    ap.add_argument("notebooks", nargs="+", help="students' lab notebooks")
    ap.add_argument("--seeds", help=f"grading seeds, as in {ENV_VAR} (e.g. '24@spring-2027')")
    args = ap.parse_args(argv)
    worst = 0
    for path, cells in grade(args.notebooks, args.seeds).items():
        print(f"{path}: " + ("PASS (full marks)" if not cells else "FAIL in cells " + ", ".join(cells)))
        worst = worst or (1 if cells else 0)
    return worst


if __name__ == "__main__":
    sys.exit(main())
