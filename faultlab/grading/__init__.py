"""Lab grading: checks that print deterministic reports (docs/design.md §7).

One module per lab (``faultlab.grading.raft_election`` for lab 1). Reports never
contain seeds, times or counts when a check passes, so the full-score report
stored in a notebook is what any correct solution prints, whatever seeds the
instructor chose with ``FAULTLAB_GRADING_SEEDS``.
"""
from .report import Failure, Outcome, score_report
from .seeds import DEFAULT_SEEDS, ENV_VAR, grading_seeds, parse_seeds

__all__ = ["Outcome", "Failure", "score_report", "grading_seeds", "parse_seeds", "DEFAULT_SEEDS",
           "ENV_VAR"]
