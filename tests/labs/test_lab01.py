"""Lab 1 notebooks in real kernels: nbval passes the solution and fails the wrong ones.

One pytest subprocess runs ``--nbval`` over the reference solution, the
untouched student notebook and three typical wrong solutions (the solution's
class cell edited in a temporary copy); a second one runs the solution with an
instructor's grading seeds. The JUnit report says which cells failed, and each
wrong solution must fail exactly the check cells that target its mistake.
"""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from faultlab.grading import parse_seeds

from lab01_variants import (CHECK_CELLS, EXPECTED_FAILURES, NBVAL_WRONG, ROOT, SOLUTION, STUDENT,  # noqa: E402
                            cell, code_index, read, saved_after_failing_run, without_todo_lines,
                            wrong_notebook)

from faultlab.grading import submission  # noqa: E402

pytestmark = pytest.mark.notebook

SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def nbval(paths, workdir, seeds=None):
    """Run ``pytest --nbval`` on ``paths`` in a fresh process; return {notebook name: {cell: ok}}."""
    env = {k: v for k, v in os.environ.items() if k != "FAULTLAB_GRADING_SEEDS"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if seeds is not None:
        env["FAULTLAB_GRADING_SEEDS"] = seeds
    (workdir / "pytest.ini").write_text("[pytest]\n")
    junit = workdir / f"junit-{len(list(workdir.glob('junit-*')))}.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(workdir / "pytest.ini"), "--rootdir", str(workdir),
         "-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
         "--nbval-cell-timeout=300", f"--junitxml={junit}", "-q", *map(str, paths)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    if not junit.exists():
        raise AssertionError(f"nbval did not run:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    results: dict = {}
    for case in ET.parse(junit).iter("testcase"):
        notebook = case.get("classname", "").removesuffix(".ipynb")
        ok = not any(child.tag in ("failure", "error") for child in case)
        results.setdefault(notebook, {})[case.get("name")] = ok
    return results, proc.stdout


def _notebook_results(results, stem):
    if stem in results:
        return results[stem]
    raise AssertionError(f"no nbval results for {stem}; got {sorted(results)}")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lab01-nbval")
    paths = [workdir / "solution.ipynb", workdir / "student.ipynb"]
    paths[0].write_text(SOLUTION.read_text())
    paths[1].write_text(STUDENT.read_text())
    for name in NBVAL_WRONG:
        path = workdir / f"wrong_{name}.ipynb"
        nbformat.write(wrong_notebook(name), path)
        paths.append(path)
    nbformat.write(saved_after_failing_run(), workdir / "saved_failing.ipynb")
    paths.append(workdir / "saved_failing.ipynb")
    return nbval(paths, workdir)


def failed_cells(results, stem):
    cells = _notebook_results(results, stem)
    assert cells, f"nbval ran no cells of {stem}"
    return {name for name, ok in cells.items() if not ok}


def expected_cells(checks):
    nb = read(SOLUTION)
    ids = [CHECK_CELLS[c] for c in checks] + (["score"] if checks else [])
    return {f"Cell {code_index(nb, cid)}" for cid in ids}


def test_reference_solution_passes_nbval(default_run):
    results, out = default_run
    assert failed_cells(results, "solution") == set(), out[-3000:]
    assert len(_notebook_results(results, "solution")) == sum(c.cell_type == "code" for c in read(SOLUTION).cells)


def test_untouched_student_notebook_fails_every_check_cell(default_run):
    results, out = default_run
    assert failed_cells(results, "student") == expected_cells(CHECK_CELLS), out[-3000:]


@pytest.mark.parametrize("name", NBVAL_WRONG)
def test_wrong_solution_fails_nbval_on_the_checks_that_target_it(default_run, name):
    results, out = default_run
    assert failed_cells(results, f"wrong_{name}") == expected_cells(EXPECTED_FAILURES[name]), out[-3000:]


def test_solution_passes_nbval_with_instructor_seeds(tmp_path):
    seeds = "24@instructor-2027"
    path = tmp_path / "solution.ipynb"
    path.write_text(SOLUTION.read_text())
    # a one-cell notebook whose stored output is the instructor's seeds: proves the kernel saw them
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from faultlab.grading import grading_seeds\nprint(grading_seeds())", id="probe", execution_count=1,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{parse_seeds(seeds)}\n")])])
    nbformat.write(probe, tmp_path / "probe.ipynb")
    results, out = nbval([tmp_path / "probe.ipynb", path], tmp_path, seeds=seeds)
    assert failed_cells(results, "probe") == set(), out[-3000:]
    assert failed_cells(results, "solution") == set(), out[-3000:]


def test_student_notebook_was_stored_without_widget_state_or_timing():
    for path in (SOLUTION, STUDENT):
        nb = read(path)
        assert "widgets" not in nb.metadata
        for c in nb.cells:
            assert "execution" not in c.metadata, f"{path.name}: cell {c.get('id')} stores timings"


def test_saved_failing_outputs_fool_plain_nbval_but_not_the_submission_grader(default_run, tmp_path):
    results, out = default_run
    assert failed_cells(results, "saved_failing") == set(), "plain nbval compares with the file's own outputs"
    right = cell(read(SOLUTION), "node").source
    subs = {name: tmp_path / f"{name}.ipynb" for name in ("alice", "bob", "carol", "dave")}
    nbformat.write(saved_after_failing_run(), subs["alice"])
    bob = read(STUDENT)
    cell(bob, "node").source = right
    cell(bob, "node").id = "renamed-by-copy-paste"            # found again by its class name
    nbformat.write(bob, subs["bob"])
    # every TODO line removed, failing run saved: the class cell is graded all the same
    nbformat.write(saved_after_failing_run("no_randomization", tidy=True), subs["carol"])
    dave = read(STUDENT)
    cell(dave, "node").source = without_todo_lines(right)
    nbformat.write(dave, subs["dave"])
    assert "TODO" not in cell(read(subs["carol"]), "node").source + cell(dave, "node").source
    verdict = submission.grade(list(subs.values()))
    failing = {name: [f.cell_id for f in verdict[path]] for name, path in subs.items()}
    assert failing == {"alice": ["check-safety", "score"], "bob": [],
                       "carol": ["check-liveness", "check-heartbeats", "score"], "dave": []}
    # the verdict shows the report the student's code printed, not only which cells differ
    alice = {f.cell_id: f.printed for f in verdict[subs["alice"]]}
    assert alice["check-safety"].startswith("FAIL  1. election safety")
    assert "voted for n1 in term 1, crashed, restarted" in alice["check-safety"]
    assert "Score: 70/100" in alice["score"]
    carol = submission.verdict(subs["carol"], verdict[subs["carol"]])
    assert carol.startswith(f"{subs['carol']}: FAIL in cells check-liveness, check-heartbeats, score")
    assert "FAIL  2. liveness" in carol and "reproduce: world = lab.reproduce(RaftElection, 'liveness'" in carol
    assert submission.verdict(subs["dave"], verdict[subs["dave"]]) == f"{subs['dave']}: PASS (full marks)"
