"""The learner's working copy (scripts/working_copy.py): git ignores it, saving never touches a tracked
file, new chapters arrive without overwriting work, and ``make fresh`` restores one notebook.

Runs in a fresh clone of the repository's committed state, so ``git status`` there is meaningful.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from faultlab.course.chapters import CHAPTERS

REPO = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.fixture()
def clone(tmp_path):
    dst = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(dst)], check=True, timeout=120)
    return dst


def git_status(repo):
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                          capture_output=True, text=True, check=True).stdout


def working_copy(repo, *args):
    return subprocess.run([sys.executable, str(repo / "scripts" / "working_copy.py"), *args], cwd=repo,
                          capture_output=True, text=True, timeout=60)


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def saved_with_outputs(path, text):
    """What JupyterLab's autosave does after a cell ran: the notebook file now holds an output."""
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [text]}]
    cell["execution_count"] = 1
    path.write_text(json.dumps(nb))


def test_working_copy_is_ignored_and_keeps_the_learners_work(clone):
    proc = working_copy(clone, "sync")
    assert proc.returncode == 0, proc.stderr
    work = clone / "work"
    copied = files_under(work)
    tracked = subprocess.run(["git", "ls-files", "notebooks", "labs"], cwd=clone, capture_output=True,
                             text=True, check=True).stdout.split()
    expected = sorted(p for p in tracked if p.endswith((".ipynb", ".md")) and not p.startswith("labs/solutions/"))
    assert copied == expected and "notebooks/00_start_here.ipynb" in copied
    assert "labs/lab01_raft_election.ipynb" in copied and not (work / "labs" / "solutions").exists()
    assert f"[lab] working copy work/: {len(expected)} new file(s) copied, 0 kept" in proc.stdout
    assert git_status(clone) == ""

    chapter = work / "notebooks" / "03c_raft.ipynb"
    saved_with_outputs(chapter, "my run\n")
    assert git_status(clone) == "", "saving a chapter in the working copy must not touch a tracked file"

    # a later pull brings a new chapter: the next sync copies it and leaves the saved chapter alone
    (work / "notebooks" / "00_start_here.ipynb").unlink()
    proc = working_copy(clone, "sync")
    assert "1 new file(s) copied" in proc.stdout and "my run" in chapter.read_text()

    proc = working_copy(clone, "fresh", "03c")
    assert proc.returncode == 0, proc.stderr
    assert chapter.read_bytes() == (clone / "notebooks" / "03c_raft.ipynb").read_bytes()
    kept = work / ".replaced" / "notebooks" / "03c_raft.ipynb"
    assert "my run" in kept.read_text() and str(kept) in proc.stdout
    working_copy(clone, "fresh", "03c")
    assert (work / ".replaced" / "notebooks" / "03c_raft-2.ipynb").exists() and "my run" in kept.read_text()
    assert git_status(clone) == ""


def test_fresh_says_which_names_exist_when_the_chapter_is_unclear(clone):
    for name in ("0", "nope", ""):
        proc = working_copy(clone, "fresh", name)
        assert proc.returncode != 0
        assert "make fresh CHAPTER=03c" in proc.stderr and "03c_raft" in proc.stderr, proc.stderr


def test_links_in_the_working_copy_lead_to_copied_notebooks(clone):
    """The course map and chapters link relatively (../labs/...): each link must resolve inside work/."""
    working_copy(clone, "sync")
    work = clone / "work"
    links = 0
    for rel in files_under(work):
        text = (work / rel).read_text()
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            links += 1
            resolved = ((work / rel).parent / target).resolve()
            assert resolved.is_relative_to(work.resolve()) and resolved.is_file(), \
                f"{rel} links to {target}, which the working copy does not have"
    assert links >= 5
    # the map in 00 lists every available chapter; each is in the working copy
    for chapter in CHAPTERS:
        if (clone / "notebooks" / chapter.path).is_file():
            assert (work / "notebooks" / chapter.path).resolve().is_file(), chapter.path
