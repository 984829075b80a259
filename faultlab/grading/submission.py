"""Grade students' lab notebooks against the official full-score outputs (docs/design.md §7).

``pytest --nbval`` compares a notebook with the outputs stored *in that file*.
A student who saved the notebook after a failing run has stored the failing
report, and nbval would then happily "pass" it. So a submission is graded here
instead: the student's class cell is spliced into a fresh copy of the official
reference notebook, whose check cells hold the full-score report, and nbval runs
on that copy in a real kernel.

The reference ships inside the package (``faultlab/grading/reference/<lab>.ipynb``,
written by ``scripts/build_labs.py``), never read from ``labs/``: that is the very
file a student may have edited and saved, and grading it against itself would
pass any failing run.

    python -m faultlab.grading.submission alice.ipynb bob.ipynb   # a verdict per submission
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import nbformat

from ..errors import ConfigError
from . import _nbval_outputs
from .seeds import ENV_VAR, parse_seeds

ROOT = Path(__file__).resolve().parents[2]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"   # only in a checkout; lab reports need no sanitizing
TODO_MARK = 'raise NotImplementedError("TODO'
_CLASS = re.compile(r"^class\s+(\w+)", re.M)


@dataclass(frozen=True)
class CellFailure:
    """A cell of the graded copy whose output differs from the full-score reference."""
    cell_id: str
    printed: str        # what the student's code printed there: the failing report, or the error


def reference_path(lab):
    """Where the package keeps the official notebook of ``lab``."""
    return Path(str(resources.files(__package__) / "reference" / f"{lab}.ipynb"))


def official_notebook(lab):
    path = reference_path(lab)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.ipynb")) if path.parent.is_dir() else []
        raise ConfigError(f"no official reference for lab {lab!r} at {path} "
                          f"(this faultlab has: {', '.join(known) or 'none'}); reinstall faultlab "
                          "(pip install -e . in a checkout), or in a checkout rebuild it with "
                          "python scripts/build_labs.py")
    return nbformat.read(path, as_version=4)


def _lab_of(nb, path):
    lab = nb.metadata.get("faultlab", {}).get("lab")
    if not lab:
        raise ConfigError(f"{path} is not a faultlab lab notebook (no metadata.faultlab.lab); "
                          "pass the notebook the student started from labs/")
    return lab


def _read_submission(path):
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no notebook at {path}; pass the path of the student's saved .ipynb file")
    sub = nbformat.read(path, as_version=4)
    lab = _lab_of(sub, path)
    if path.resolve() == reference_path(lab).resolve():
        raise ConfigError(f"{path} is the official reference that submissions are graded against, not a "
                          "submission; grade the student's own copy (e.g. work/labs/" + f"{lab}.ipynb)")
    return sub, lab


def student_cells(official):
    """The reference's cells the student writes: those holding the TODO markers."""
    cells = [c for c in official.cells if c.cell_type == "code" and TODO_MARK in c.source]
    if not cells:
        raise ConfigError("the reference notebook has no cell with a TODO for the student; "
                          "rebuild it with python scripts/build_labs.py")
    return cells


def splice(submission, official):
    """The official notebook with the student's versions of its class cell(s).

    The student's cell is found by its cell id, or else by the class it defines,
    whether or not it still holds TODO markers.
    """
    nb = nbformat.from_dict(official)
    by_id = {c.get("id"): c for c in submission.cells if c.cell_type == "code"}
    for cell in student_cells(nb):
        theirs = by_id.get(cell.get("id"))
        names = set(_CLASS.findall(cell.source))
        if theirs is None:                   # cell re-created: find the one defining the same class
            theirs = next((c for c in submission.cells if c.cell_type == "code"
                           and names & set(_CLASS.findall(c.source))), None)
        if theirs is None:
            raise ConfigError(f"the submission has no cell defining {', '.join(sorted(names))}; "
                              "students keep all their code in the lab's class cell")
        cell.source = theirs.source
    return nb


def _nbval(copies, tmp, seeds, timeout):
    """Run nbval on the spliced copies; return the JUnit XML tree and {file name: {cell number: text}}."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if seeds is not None:
        env[ENV_VAR] = seeds
    printed = tmp / "printed.json"
    env[_nbval_outputs.ENV_VAR] = str(printed)
    (tmp / "pytest.ini").write_text("[pytest]\n")
    junit = tmp / "junit.xml"
    sanitize = ["--nbval-sanitize-with", str(SANITIZE)] if SANITIZE.is_file() else []
    proc = subprocess.run([sys.executable, "-m", "pytest", "-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp),
                           "-p", "no:cacheprovider", "-p", _nbval_outputs.__name__, "--nbval",
                           "--nbval-current-env", "--nbval-cell-timeout=300", *sanitize, f"--junitxml={junit}",
                           "-q", *map(str, copies)],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
    if not junit.exists() or not printed.exists():
        raise RuntimeError("nbval did not run the submissions:\n" + (proc.stdout + proc.stderr)[-3000:])
    return ET.parse(junit), json.loads(printed.read_text())


def grade(paths, seeds=None, timeout=900):
    """nbval each submission against the official outputs; return {path: [CellFailure, ...]}.

    An empty list means full marks.
    """
    paths = [Path(p) for p in paths]
    if seeds is not None:
        parse_seeds(seeds)                   # a malformed value fails here, not in every check cell
    with tempfile.TemporaryDirectory(prefix="faultlab-grade-") as tmp:
        tmp = Path(tmp)
        copies, code_ids = {}, {}
        for i, path in enumerate(paths):
            sub, lab = _read_submission(path)
            official = official_notebook(lab)
            copy = tmp / f"submission{i}.ipynb"
            nbformat.write(splice(sub, official), copy)
            copies[copy.stem] = path
            code_ids[copy.stem] = [c.get("id") for c in official.cells if c.cell_type == "code"]
        junit, printed = _nbval(sorted(tmp.glob("submission*.ipynb")), tmp, seeds, timeout)
        failing = {path: [] for path in paths}
        for case in junit.iter("testcase"):
            if any(child.tag in ("failure", "error") for child in case):
                stem = case.get("classname", "").removesuffix(".ipynb")
                index = int(case.get("name", "Cell -1").split()[-1])
                text = printed.get(f"{stem}.ipynb", {}).get(str(index), "")
                failing[copies[stem]].append(CellFailure(code_ids[stem][index], text))
    return failing


def verdict(path, failures):
    """What the command prints for one submission: PASS, or FAIL with each failing cell's output."""
    if not failures:
        return f"{path}: PASS (full marks)"
    lines = [f"{path}: FAIL in cells " + ", ".join(f.cell_id for f in failures)]
    for f in failures:
        lines.append(f"--- {f.cell_id} printed:")
        lines.append(f.printed.rstrip("\n") or "(nothing)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Grade lab notebooks against the official full-score outputs.")
    ap.add_argument("notebooks", nargs="+", help="students' lab notebooks")
    ap.add_argument("--seeds", help=f"grading seeds, as in {ENV_VAR} (e.g. '24@spring-2027')")
    args = ap.parse_args(argv)
    try:
        results = grade(args.notebooks, args.seeds)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path, failures in results.items():
        print(verdict(path, failures))
        if Path(path).resolve().parent == ROOT / "labs":
            print(f"note: {path} is the repository's own copy of the lab, which git tracks; work in "
                  f"work/labs/{Path(path).name} (make lab opens it) so that git pull does not conflict",
                  file=sys.stderr)
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
