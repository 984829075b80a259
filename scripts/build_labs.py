"""Build the lab notebooks from their reference solutions.

Each lab's source of truth is ``labs/solutions/<lab>.ipynb``: the full solution,
with every student task written as

    # TODO 3 (rule A): what to do ...
    # BEGIN SOLUTION
    ...reference code...
    # END SOLUTION

The build (1) executes the solution notebook in place in a fresh kernel with the
default grading seeds, so its check cells hold the full-score report, and
(2) writes ``labs/<lab>.ipynb`` for students: solution blocks become
``raise NotImplementedError("TODO n")``, cells tagged ``solution-only`` are
dropped, outputs of ``nbval-ignore-output`` cells are cleared, and every other
output (the check cells' full-score reports) is kept, so ``pytest --nbval``
passes on the student notebook only when the student's code earns full marks.
The same text is written to ``faultlab/grading/reference/<lab>.ipynb``, the copy
shipped in the package that ``faultlab.grading.submission`` grades against: a
student who saves a failing run overwrites their own notebook, never that one.

    python scripts/build_labs.py            # execute the solutions, write the student notebooks
    python scripts/build_labs.py --no-execute   # only derive the student notebooks
    python scripts/build_labs.py --check    # exit 1 if a student or reference notebook is out of date
"""
from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LABS = ["lab01_raft_election"]

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
TODO = re.compile(r"#\s*TODO\s+(\d+)")


class BuildError(Exception):
    """A solution notebook that cannot be turned into a student notebook."""


def solution_path(lab):
    return ROOT / "labs" / "solutions" / f"{lab}.ipynb"


def student_path(lab):
    return ROOT / "labs" / f"{lab}.ipynb"


def reference_path(lab):
    return ROOT / "faultlab" / "grading" / "reference" / f"{lab}.ipynb"


def strip_solutions(source, where="cell"):
    """Replace each BEGIN/END SOLUTION block by a ``raise NotImplementedError`` naming its TODO."""
    out, inside, todo = [], False, None
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise BuildError(f"{where}, line {number}: {BEGIN} inside another solution block")
            if todo is None:
                raise BuildError(f"{where}, line {number}: a solution block needs a '# TODO n' comment above it")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("TODO {todo}")')
            todo = None
        elif stripped == END:
            if not inside:
                raise BuildError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            m = TODO.search(line)
            if m:
                todo = m.group(1)
            out.append(line)
    if inside:
        raise BuildError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def student_notebook(solution):
    """The student notebook derived from an (executed) solution notebook."""
    nb = copy.deepcopy(solution)
    cells = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution-only" in tags:
            continue
        if cell.cell_type == "code":
            if BEGIN in cell.source:
                cell.source = strip_solutions(cell.source, f"cell {cell.get('id', '?')}")
                cell.outputs, cell.execution_count = [], None
            elif "nbval-ignore-output" in tags:
                cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    nb.metadata.setdefault("faultlab", {})["role"] = "student"
    return nb


def execute(path):
    """Run ``path`` top to bottom in a fresh kernel (default seeds) and save its outputs."""
    from nbclient import NotebookClient
    os.environ.pop("FAULTLAB_GRADING_SEEDS", None)
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=False,
                   record_timing=False, resources={"metadata": {"path": str(ROOT)}}).execute()
    nbformat.write(nb, path)
    return nb


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-execute", action="store_true", help="do not re-run the solution notebooks")
    ap.add_argument("--check", action="store_true", help="only verify the student notebooks are up to date")
    ap.add_argument("labs", nargs="*", default=LABS, help=f"labs to build (default: {' '.join(LABS)})")
    args = ap.parse_args(argv)
    stale = []
    for lab in args.labs:
        if lab not in LABS:
            ap.error(f"unknown lab {lab!r}; known labs: {', '.join(LABS)}")
        src = solution_path(lab)
        if args.check or args.no_execute:
            solution = nbformat.read(src, as_version=4)
        else:
            solution = execute(src)
        text = nbformat.writes(student_notebook(solution)) + "\n"
        for dst in (student_path(lab), reference_path(lab)):
            if args.check:
                if not dst.exists() or dst.read_text() != text:
                    stale.append(str(dst.relative_to(ROOT)))
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text)
            print(f"wrote {dst.relative_to(ROOT)}")
    if stale:
        print("out of date: " + ", ".join(stale) + "; run: python scripts/build_labs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
