"""One way for every protocol to react to a message: a handler per message class.

A method marked ``@handles(Prepare)`` is called for each ``Prepare`` that
arrives, as ``method(ctx, src, msg)``. The table is built once per class (it
follows overrides by name), and a message no handler claims is noted in the
trace as ``ignored unknown message`` instead of raising or vanishing silently.
"""
from __future__ import annotations

from ..node import Node


def handles(*message_types):
    """Mark a method as the handler of ``message_types``."""
    def mark(method):
        method.handles = message_types
        return method
    return mark


class HandlerNode(Node):
    """A Node whose ``on_message`` looks the handler up by the message's class."""

    handlers: dict = {}          # message class -> name of the method that handles it

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        table = {}
        for klass in reversed(cls.__mro__):
            for name, attr in vars(klass).items():
                for message_type in getattr(attr, "handles", ()):
                    table[message_type] = name
        cls.handlers = table

    def on_message(self, ctx, src, msg):
        name = self.handlers.get(type(msg))
        if name is None:
            ctx.note("ignored unknown message", type=type(msg).__name__)
            return
        getattr(self, name)(ctx, src, msg)
