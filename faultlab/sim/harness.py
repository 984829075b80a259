"""Step protocol nodes by hand: "init / step / check", one test per sentence of a paper.

No SimPy, no network, no time passing on its own: the test delivers each
message and fires each timer itself, then looks at the node's state and at
what it asked to send.
"""
from __future__ import annotations

import random

from ..errors import UnknownNodeError


class _HandContext:
    def __init__(self, harness, name, storage):
        self._h = harness
        self.id = name
        self.peers = [n for n in harness.names if n != name]
        self.nodes = list(harness.names)
        self.rng = random.Random(f"{harness.seed}:{name}")
        self.storage = storage
        self.incarnation = 1

    @property
    def now(self):
        return self._h.now

    def send(self, dst, msg):
        self._h.outbox.append((self.id, dst, msg))

    def broadcast(self, msg):
        for p in self.peers:
            self.send(p, msg)

    def set_timer(self, name, delay):
        self._h.timers[self.id][name] = self._h.now + delay

    def cancel_timer(self, name):
        self._h.timers[self.id].pop(name, None)

    def timer_pending(self, name):
        return name in self._h.timers[self.id]

    def reply(self, op, value=None):
        self._h.replies.append((self.id, op, "ok", value))

    def fail(self, op, error, leader=None):
        self._h.replies.append((self.id, op, "fail", error))

    def note(self, text, **fields):
        self._h.notes.append((self.id, text, fields))

    def set_role(self, role, term=None):
        self._h.roles[self.id] = (role, term)


class Harness:
    """Hold nodes built by ``factory`` and step them one event at a time."""

    def __init__(self, factory, names=("n1", "n2", "n3"), seed=0, start=True):
        self.factory, self.names, self.seed = factory, list(names), seed
        self.now = 0.0
        self.outbox: list = []
        self.replies: list = []
        self.notes: list = []
        self.roles: dict = {}
        self.timers = {n: {} for n in self.names}
        self.storage = {n: {} for n in self.names}
        self.nodes: dict = {}
        self.ctx: dict = {}
        if start:
            for n in self.names:
                self.boot(n)

    def _node(self, name):
        if name not in self.names:
            raise UnknownNodeError(name, self.names)
        return self.nodes[name]

    def boot(self, name):
        """(Re)start ``name`` from its durable storage only."""
        self.timers[name] = {}
        self.ctx[name] = _HandContext(self, name, self.storage[name])
        self.nodes[name] = self.factory()
        self.nodes[name].on_start(self.ctx[name])
        return self.nodes[name]

    crash_and_restart = boot

    def deliver(self, dst, src, msg):
        self._node(dst).on_message(self.ctx[dst], src, msg)

    def fire(self, name, timer):
        self.timers[name].pop(timer, None)
        self._node(name).on_timer(self.ctx[name], timer)

    def request(self, name, op):
        self._node(name).on_request(self.ctx[name], op)

    def take(self, src=None, dst=None, kind=None):
        """Remove and return outbox messages matching the filters."""
        from ..trace import message_type
        keep, out = [], []
        for m in self.outbox:
            ok = (src is None or m[0] == src) and (dst is None or m[1] == dst) and \
                 (kind is None or message_type(m[2]) == kind)
            (out if ok else keep).append(m)
        self.outbox = keep
        return out

    def flush(self, rounds=100):
        """Deliver everything in the outbox (and what that produces), in order."""
        for _ in range(rounds):
            if not self.outbox:
                return
            batch, self.outbox = self.outbox, []
            for src, dst, msg in batch:
                self.deliver(dst, src, msg)
