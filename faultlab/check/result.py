"""One result type for every checker, so notebooks, graders and figures read them alike."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("ok", "violated", "unknown")


@dataclass
class CheckResult:
    """``verdict`` is 'ok', 'violated' or 'unknown'; ``evidence`` is what a figure can highlight.

    ``explanation`` is one or two sentences a learner can read; ``violations``
    holds one dict per problem found (the nodes, terms, indices or operations
    involved); ``stats`` holds numbers worth reporting (e.g. time blocked).
    A run that holds nothing a check could test is 'unknown', never 'ok'
    (see :meth:`no_evidence`): a vacuous "ok" would hide a nemesis or a
    workload that silently did nothing.
    """
    name: str
    verdict: str
    explanation: str
    violations: list = field(default_factory=list)
    evidence: Any = None
    stats: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def ok(self):
        return self.verdict == "ok"

    def __bool__(self):
        return self.ok

    def __str__(self):
        return f"{self.name}: {self.verdict} — {self.explanation}"

    @classmethod
    def no_evidence(cls, name, missing, todo, evidence=None, stats=None):
        """'unknown' because the run holds no ``missing`` data: says what was missing and what to do.

        ``evidence['missing']`` names what was absent, so tests and graders can
        read it instead of the prose.
        """
        return cls(name, "unknown", f"no {missing} in this run: {todo}", [],
                   dict(evidence or {}, missing=missing), dict(stats or {}))

    @classmethod
    def merge(cls, name, results):
        """Combine several results: violated if any is, unknown if any is and none violated.

        Each violation is tagged with the ``check`` it came from, and
        ``stats['verdicts']`` maps every check's name to its verdict.
        """
        results = list(results)
        bad = [r for r in results if r.verdict == "violated"]
        unk = [r for r in results if r.verdict == "unknown"]
        verdict = "violated" if bad else "unknown" if unk else "ok"
        text = "; ".join(str(r) for r in (bad or unk)) or f"all {len(results)} checks held"
        return cls(name, verdict, text, [dict(v, check=r.name) for r in results for v in r.violations],
                   {r.name: r.evidence for r in results if r.evidence is not None},
                   {"verdicts": {r.name: r.verdict for r in results}})
