"""The host side of the host contract (docs/design.md §3): everything a node may ask of ``ctx``.

Written once, so that the simulator's context (``faultlab.sim.host.SimContext``) and the
hand-stepping harness's (``faultlab.sim.harness.HandContext``) cannot drift apart: a test holds
both to this list, member by member and signature by signature. A node written against it runs
unchanged in the simulator, in a hand-stepped test and in a lab grader.
"""
from __future__ import annotations

import random
from typing import Protocol, runtime_checkable


@runtime_checkable
class Context(Protocol):
    """What a node may read and do. One context per incarnation: a restart brings a new one."""

    id: str
    """This node's name."""
    peers: list
    """Every other node's name, in cluster order."""
    nodes: list
    """Every node's name, this one included (for quorum sizes)."""
    now: float
    """This node's local clock in ms (the only clock a node may read)."""
    rng: random.Random
    """A stream seeded from (seed, node, incarnation): the same run draws the same numbers."""
    storage: dict
    """Durable state: kept across crashes, unlike everything on ``self``."""
    incarnation: int
    """1 at first boot, one more after each restart."""

    def send(self, dst, msg):
        """Send ``msg`` to node ``dst`` (the network may delay, drop or duplicate it)."""

    def broadcast(self, msg):
        """Send ``msg`` to every peer."""

    def set_timer(self, name, delay):
        """Call ``on_timer(ctx, name)`` after ``delay`` ms; setting ``name`` again replaces it."""

    def cancel_timer(self, name):
        """Forget timer ``name`` if it is pending."""

    def timer_pending(self, name):
        """Whether timer ``name`` is set and has not fired."""

    def reply(self, op, value=None):
        """Answer client operation ``op``: it took effect and returned ``value``."""

    def fail(self, op, error, leader=None):
        """Answer that ``op`` definitely did not take effect; ``leader`` hints where to retry."""

    def note(self, text, **fields):
        """Write a note in the trace (checkers read them, e.g. Paxos acceptances)."""

    def set_role(self, role, term=None):
        """Announce a role (leader, follower, primary...) for timelines, tiles and checkers."""


def check_delay(name, delay):
    """Refuse a timer that could never fire in order: both hosts apply this one rule."""
    if delay != delay or delay < 0:
        raise ValueError(f"timer {name!r} needs a non-negative delay, got {delay!r}")
