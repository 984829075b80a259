"""Scripted scenarios a chapter can run in one line and then explain.

Each scenario builds a world, injects a fault at a fixed moment, lets the run
settle and returns a :class:`ScenarioRun`: the world (trace, history, status),
the checker's verdict and one sentence saying what was done.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ScenarioRun:
    world: Any
    check: Any
    story: str

    def __iter__(self):                 # world, check = scenario()
        return iter((self.world, self.check))


from . import primary_backup  # noqa: E402  (needs ScenarioRun)

__all__ = ["ScenarioRun", "primary_backup"]


def __getattr__(name):
    """Other scenario modules (``faultlab.scenarios.commit``...) load on first use."""
    import importlib
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"faultlab.scenarios has no {name!r}") from None
