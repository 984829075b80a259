"""Checkers: protocol safety invariants and linearizability over client histories.

Every checker returns a :class:`CheckResult`. Protocol checkers live in one
module per protocol (``faultlab.check.raft``, ``...paxos``...); they are loaded
on first use so that importing faultlab stays fast.
"""
from __future__ import annotations

import importlib

from .result import CheckResult

_LAZY = {"linearizable": ("faultlab.check.linearizability", "linearizable")}

__all__ = ["CheckResult", "linearizable"]


def __getattr__(name):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"faultlab.check has no {name!r}") from None
