"""Re-execute course notebooks the way they are committed.

    python -m faultlab.course.build notebooks/00_start_here.ipynb notebooks/03c_raft.ipynb

Runs each notebook top to bottom in a fresh kernel (from the notebook's folder)
with ``store_widget_state=False`` (a FigureWidget would otherwise store
megabytes of JavaScript) and ``FAULTLAB_STATIC_FIGURES=1`` (every figure keeps a
PNG copy for HTML export and GitHub), drops the per-cell execution timestamps
so that re-running an unchanged notebook changes no byte of its text outputs,
and says how big the result is.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

MAX_BYTES = 1_500_000


def build(path, timeout=600):
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if path.suffix != ".ipynb" or not path.is_file():
        raise SystemExit(f"not a notebook file: {path} (give paths like notebooks/03c_raft.ipynb)")
    nb = nbformat.read(path, as_version=4)
    os.environ["FAULTLAB_STATIC_FIGURES"] = "1"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return path.stat().st_size


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m faultlab.course.build", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    too_big = []
    for nb in args.notebooks:
        size = build(nb)
        print(f"{nb}: {size / 1e6:.2f} MB")
        if size > MAX_BYTES:
            too_big.append(nb)
    if too_big:
        print(f"over {MAX_BYTES / 1e6:.1f} MB: {', '.join(too_big)} — fewer or smaller figures?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
