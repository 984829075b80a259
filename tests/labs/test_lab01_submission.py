"""The submission grader cannot be fooled by a student who works in the lab file itself.

The in-place case runs the real command in a copy of the checkout (so the test may
edit ``labs/lab01_raft_election.ipynb`` the way a student does): wrong code, every
TODO line removed, the failing run saved. It must FAIL and show the report. The
reference must ship in the wheel, and grading the reference itself is refused.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from faultlab import ConfigError
from faultlab.grading import submission

from lab01_variants import REFERENCE, ROOT, STUDENT, read, saved_after_failing_run

pytestmark = pytest.mark.notebook

LAB = "labs/lab01_raft_election.ipynb"


def checkout_copy(tmp_path):
    """faultlab, the labs and the sanitize file copied into tmp_path: a checkout the test may edit."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "faultlab", tmp_path / "faultlab", ignore=ignore)
    shutil.copytree(ROOT / "labs", tmp_path / "labs", ignore=ignore)
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", tmp_path / "tests")
    return tmp_path


def run_grader(copy, *args):
    """``python -m faultlab.grading.submission`` in the copy, importing the copy's faultlab."""
    env = {k: v for k, v in os.environ.items() if k != "FAULTLAB_GRADING_SEEDS"}
    env["PYTHONPATH"] = str(copy)
    return subprocess.run([sys.executable, "-m", "faultlab.grading.submission", *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_failing_run_saved_in_the_lab_file_itself_fails_and_shows_the_report(tmp_path):
    copy = checkout_copy(tmp_path)
    saved = saved_after_failing_run("no_vote_persistence", tidy=True)
    assert "TODO" not in next(c for c in saved.cells if c.get("id") == "node").source
    nbformat.write(saved, copy / LAB)                       # the student edits and saves labs/ in place
    proc = run_grader(copy, LAB)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"{LAB}: FAIL in cells check-safety, score\n"), proc.stdout
    assert "--- check-safety printed:\nFAIL  1. election safety" in proc.stdout
    assert "n3 voted for n1 in term 1, crashed, restarted and then voted for n2" in proc.stdout
    assert "Score: 70/100" in proc.stdout and "PASS (full marks)" not in proc.stdout
    assert f"note: {LAB} is the repository's own copy of the lab" in proc.stderr
    # the copy's own package was graded against: without its reference the command says what to do
    (copy / "faultlab" / "grading" / "reference" / "lab01_raft_election.ipynb").unlink()
    proc = run_grader(copy, LAB)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"no official reference for lab 'lab01_raft_election' at {copy}" in proc.stderr
    assert "python scripts/build_labs.py" in proc.stderr


def test_the_reference_is_the_student_notebook_and_cannot_be_graded_as_a_submission():
    assert REFERENCE.read_text() == STUDENT.read_text()
    assert submission.reference_path("lab01_raft_election") == REFERENCE
    with pytest.raises(ConfigError, match="is the official reference .* grade the student's own copy"):
        submission.grade([REFERENCE])


def test_bad_input_is_refused_before_any_kernel_starts(tmp_path, capsys):
    nbformat.write(read(STUDENT), tmp_path / "alice.ipynb")
    assert submission.main(["--seeds", "three", str(tmp_path / "alice.ipynb")]) == 2
    assert "FAULTLAB_GRADING_SEEDS='three'" in capsys.readouterr().err
    assert submission.main([str(tmp_path / "missing.ipynb")]) == 2
    assert "no notebook at" in capsys.readouterr().err


def test_the_reference_ships_in_the_wheel(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "faultlab", src / "faultlab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    proc = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                           "print(b.build_wheel(sys.argv[1]))", str(tmp_path / "dist")],
                          cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = tmp_path / "dist" / proc.stdout.split()[-1]
    names = zipfile.ZipFile(wheel).namelist()
    assert "faultlab/grading/reference/lab01_raft_election.ipynb" in names
    assert "faultlab/grading/submission.py" in names
