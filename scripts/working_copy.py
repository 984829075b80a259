"""The learner's working copy: notebooks/ and labs/ copied into a folder git ignores (work/).

Running a chapter saves outputs into the notebook (JupyterLab autosaves), so a
learner who worked in the tracked files would get conflicts on the next
``git pull``. ``make lab`` therefore opens JupyterLab on ``work/``, where

    sync         copies every course notebook (and README) that is not there yet and never
                 overwrites one that is: new chapters arrive after a pull, your work stays;
    fresh NAME   replaces one notebook by the current version from the repository, e.g.
                 ``fresh 03c`` (the start of its file name); your old copy is kept in
                 work/.replaced/.

Lab solutions (labs/solutions/) are never copied. Paths inside work/ mirror the
repository (work/notebooks/..., work/labs/...), so the relative links of the
course map (``../labs/lab01_raft_election.ipynb``) work in the copy too.

    python scripts/working_copy.py [--work DIR] sync | fresh NAME
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = (".ipynb", ".md")


def course_files(root=ROOT):
    """The files a learner works with, relative to ``root``: notebooks/** and labs/ (not labs/solutions)."""
    files = [p for p in sorted((root / "notebooks").rglob("*")) if p.is_file()
             and p.suffix in COPIED and ".ipynb_checkpoints" not in p.parts]
    files += [p for p in sorted((root / "labs").glob("*")) if p.is_file() and p.suffix in COPIED]
    return [p.relative_to(root) for p in files]


def sync(work, root=ROOT):
    """Copy the course files missing from ``work``; return (copied, kept) relative paths."""
    copied, kept = [], []
    for rel in course_files(root):
        dst = work / rel
        if dst.exists():
            kept.append(rel)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dst)
        copied.append(rel)
    return copied, kept


def fresh(work, name, root=ROOT):
    """Replace the working copy of the notebook whose file name starts with ``name``; return (rel, moved)."""
    notebooks = [rel for rel in course_files(root) if rel.suffix == ".ipynb"]
    matches = [rel for rel in notebooks if rel.name.startswith(name)] if name else []
    if len(matches) != 1:
        choices = ", ".join(rel.stem for rel in notebooks)
        what = "no notebook name was given" if not name else \
            f"{len(matches)} notebooks start with {name!r}" + (f" ({', '.join(map(str, matches))})" if matches else "")
        raise SystemExit(f"[lab] {what}; say which one, e.g. make fresh CHAPTER=03c. Notebooks: {choices}")
    rel = matches[0]
    dst, moved = work / rel, None
    if dst.exists():
        moved = _free_name(work / ".replaced" / rel)
        moved.parent.mkdir(parents=True, exist_ok=True)
        dst.replace(moved)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / rel, dst)
    return rel, moved


def _free_name(path):
    """``path``, or ``name-2.ipynb``, ``name-3.ipynb``... if it is taken (every earlier copy is kept)."""
    n, candidate = 1, path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=ROOT / "work", help="the working copy (default: work/)")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="copy what is missing, overwrite nothing")
    one = sub.add_parser("fresh", help="replace one notebook by the repository's version")
    one.add_argument("name", nargs="?", default="", help="the start of its file name, e.g. 03c or lab01")
    args = ap.parse_args(argv)
    work = args.work.resolve()
    if args.command == "sync":
        copied, kept = sync(work)
        shown = work.relative_to(ROOT) if work.is_relative_to(ROOT) else work
        print(f"[lab] working copy {shown}/: {len(copied)} new file(s) copied, {len(kept)} kept as you "
              "left them (get a chapter afresh with: make fresh CHAPTER=03c)")
    else:
        rel, moved = fresh(work, args.name)
        print(f"[lab] {rel} is fresh again" + (f"; your previous copy is in {moved}" if moved else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
