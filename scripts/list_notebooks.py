"""Print the notebooks nbval should check, one per line, skipping those in tests/nbval_ignore.txt.

Lab solutions and student notebooks that the lab tests drive themselves do not belong in the
plain nbval run (an untouched student notebook fails on purpose), so they are listed there.
"""
from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

IGNORE_FILE = Path("tests/nbval_ignore.txt")


def ignore_patterns(path: Path = IGNORE_FILE) -> list[str]:
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def notebooks(roots: list[str], patterns: list[str]) -> list[str]:
    found = []
    for root in roots:
        for nb in sorted(Path(root).rglob("*.ipynb")):
            rel = nb.as_posix()
            if ".ipynb_checkpoints" in nb.parts:
                continue
            if any(fnmatch.fnmatch(rel, pat) for pat in patterns):
                continue
            found.append(rel)
    return found


if __name__ == "__main__":
    for path in notebooks(sys.argv[1:] or ["notebooks", "labs"], ignore_patterns()):
        print(path)
