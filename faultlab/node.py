"""The protocol side of the host contract (docs/design.md §3).

A protocol is a plain class: it never sleeps, reads a clock, opens a socket or
calls the global ``random``. It reacts to one event at a time and asks its host
to act through ``ctx``. That keeps runs deterministic and lets the same node run
in the simulator, in a hand-stepped unit test, or in a student's lab. What ``ctx``
offers is written once, in :class:`faultlab.context.Context`.
"""
from __future__ import annotations

from .context import Context


class Node:
    """Base class for protocol state machines.

    Everything kept on ``self`` is volatile: a crash loses it. What must survive
    a crash goes in ``ctx.storage`` (a dict that the host keeps across restarts).
    """

    def on_start(self, ctx: Context):
        """Called when the node boots and after every restart."""

    def on_message(self, ctx: Context, src, msg):
        """A message ``msg`` arrived from node ``src``."""

    def on_timer(self, ctx: Context, name):
        """The timer ``name`` set with ``ctx.set_timer`` fired."""

    def on_request(self, ctx: Context, op):
        """A client operation arrived; answer with ``ctx.reply`` or ``ctx.fail``."""
        ctx.fail(op, "this node does not serve client requests")

    def status(self):
        """A small dict for tiles and tables: role, term, anything worth showing."""
        return {}
