"""Deterministic grading reports: one PASS/FAIL block per check, then the score.

A passing block says what was verified but never which seeds, how many runs
or how long it took, so the full-score report stored in a lab notebook is the
same for any grading seeds and any machine. A failing block names the first
failing seed and the faults of that run, so the student can reproduce it.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

WIDTH = 34
LINE = 100


def _wrap(text):
    return textwrap.fill(text, LINE, initial_indent="      ", subsequent_indent="        ",
                         break_on_hyphens=False, break_long_words=False)


@dataclass(frozen=True)
class Failure:
    """What went wrong in one run: ``where`` is 'seed 7' or 'hand-stepped', ``faults`` the schedule."""
    detail: str
    where: str
    faults: str = ""
    reproduce: str = ""


@dataclass
class Outcome:
    """The result of one check: points earned out of ``points``, and the first failure if any."""
    number: int
    title: str
    points: int
    verified: str
    failure: Failure | None = None
    failed_runs: int = 0
    total_runs: int = 0

    @property
    def passed(self):
        return self.failure is None

    @property
    def earned(self):
        return self.points if self.passed else 0

    def headline(self):
        name = f"{self.number}. {self.title} "
        return f"{'PASS' if self.passed else 'FAIL'}  {name.ljust(WIDTH, '.')} {self.earned:>2}/{self.points}"

    def report(self):
        """The text a check cell prints."""
        lines = [self.headline()]
        if self.passed:
            lines.append(_wrap(self.verified))
            return "\n".join(lines)
        f = self.failure
        lines.append(_wrap(f.detail))
        if self.total_runs:
            lines.append(_wrap(f"failed in {self.failed_runs} of {self.total_runs} runs; the first failing "
                               f"run: {f.where}"))
        else:
            lines.append(_wrap(f"in {f.where}"))
        if f.faults:
            lines.append(_wrap(f"faults: {f.faults}"))
        if f.reproduce:
            lines.append(f"      reproduce: {f.reproduce}")   # never wrapped: students copy it
        return "\n".join(lines)


def score_report(title, outcomes):
    """The summary a lab's last cell prints: one headline per check and the total."""
    lines = [title]
    lines += [o.headline() for o in outcomes]
    total = sum(o.earned for o in outcomes)
    top = sum(o.points for o in outcomes)
    lines.append(f"Score: {total}/{top}")
    if total == top:
        lines.append("Full marks: every check passed.")
    else:
        failed = ", ".join(str(o.number) for o in outcomes if not o.passed)
        lines.append(f"Not yet: look at the report of check(s) {failed} above.")
    return "\n".join(lines)
