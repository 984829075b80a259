"""Step protocol nodes by hand: "init / step / check", one test per sentence of a paper.

No SimPy, no network, no time passing on its own: the test delivers each
message and fires each timer itself, then looks at the node's state, at what it
asked to send, and at the **transcript**: every step the test took and everything
the nodes did in answer, in order, as trace records (``faultlab.trace.Record``),
so tests and graders read one record instead of each keeping its own.

Transcript kinds (``info`` fields): ``start``/``restart`` (incarnation, storage as it
was at boot), ``deliver`` (src, msg; a client request has src = the client and msg = the
op), ``timer`` (name: it fired), ``send`` (dst, msg), ``set_timer`` (name, delay, due),
``cancel_timer`` (name), ``reply`` (op, status "ok"/"fail", value, leader), ``note``
(text, fields...), ``role`` (role, term: only changes, as in the simulator's trace),
``error`` (event, error: a handler raised; the exception still propagates) and
``remark`` (text: the test's own words, from ``Harness.remark``).
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

from ..context import check_delay
from ..errors import ConfigError, UnknownNodeError
from ..rng import seeded_rng
from ..trace import Record, message_type

_ABSENT = object()


class HandContext:
    """The harness's ``ctx`` (the members of :class:`faultlab.context.Context`). It does nothing
    itself: it writes each request down for the test (outbox, timers, roles, transcript). As in the
    simulator, a context from before a restart is dead and its requests are ignored."""

    def __init__(self, harness, name, incarnation):
        self._h = harness
        self._role = None                # what this incarnation last announced
        self.id = name
        self.peers = [n for n in harness.names if n != name]
        self.nodes = list(harness.names)
        self.rng = seeded_rng(harness.seed, name, incarnation)
        self.storage = harness.storage[name]
        self.incarnation = incarnation

    @property
    def now(self):
        return self._h.now

    def _live(self):
        return self._h.incarnations[self.id] == self.incarnation

    def _record(self, kind, info):
        if self._live():
            self._h._record(kind, self.id, info)
            return True
        return False

    def send(self, dst, msg):
        if self._record("send", {"dst": dst, "msg": msg}):
            self._h.outbox.append((self.id, dst, msg))

    def broadcast(self, msg):
        for p in self.peers:
            self.send(p, msg)

    def set_timer(self, name, delay):
        check_delay(name, delay)
        due = self._h.now + delay
        if self._record("set_timer", {"name": name, "delay": delay, "due": due}):
            self._h.timers[self.id][name] = due

    def cancel_timer(self, name):
        if self._record("cancel_timer", {"name": name}):
            self._h.timers[self.id].pop(name, None)

    def timer_pending(self, name):
        return self._live() and name in self._h.timers[self.id]

    def reply(self, op, value=None):
        self._record("reply", {"op": op, "status": "ok", "value": value, "leader": None})

    def fail(self, op, error, leader=None):
        self._record("reply", {"op": op, "status": "fail", "value": error, "leader": leader})

    def note(self, text, **fields):
        self._record("note", dict(text=text, **fields))

    def set_role(self, role, term=None):
        if not self._live():
            return
        self._h.roles[self.id] = (role, term)
        if self._role != (role, term):
            self._role = (role, term)
            self._record("role", {"role": role, "term": term})


class Harness:
    """Hold nodes and step them one event at a time; ``transcript`` lists what happened.

    ``factory`` builds every node, or maps each node's name to its own factory (then ``names``
    defaults to its keys). State to look at: ``nodes``, ``ctx``, ``storage``, ``timers`` (name ->
    due time), ``roles`` (last announced), ``outbox`` (sent, not yet delivered or taken),
    ``incarnations``; history: ``transcript``, ``records(...)``, ``replies``, ``notes``.
    """

    def __init__(self, factory, names=None, seed=0, start=True):
        if names is None:
            names = list(factory) if isinstance(factory, Mapping) else ("n1", "n2", "n3")
        self.factory, self.names, self.seed = factory, list(names), seed
        if isinstance(factory, Mapping) and set(self.names) - set(factory):
            raise ConfigError(f"no factory for {sorted(set(self.names) - set(factory))}: give "
                              "{name: factory} for every node in names")
        self.now = 0.0
        self.outbox: list = []
        self.roles: dict = {}
        self.transcript: list = []
        self.timers = {n: {} for n in self.names}
        self.storage = {n: {} for n in self.names}
        self.incarnations = {n: 0 for n in self.names}
        self.nodes: dict = {}
        self.ctx: dict = {}
        if start:
            for n in self.names:
                self.boot(n)

    def __repr__(self):
        return (f"<Harness seed={self.seed} t={self.now:g}ms nodes={','.join(self.names)} "
                f"transcript={len(self.transcript)}>")

    # -- the transcript --------------------------------------------------------------
    def _record(self, kind, node, info):
        self.transcript.append(Record(self.now, kind, node, info))

    def remark(self, text):
        """Add the test's own words to the transcript (e.g. "crash n3"), between the steps."""
        self._record("remark", None, {"text": text})

    def records(self, kind=None, node=None, **info):
        """The transcript records of ``kind`` at ``node`` whose info holds these values, in order,
        e.g. ``h.records("send", "n1", dst="n2")`` or ``h.records("reply", status="fail")``."""
        return [r for r in self.transcript
                if (kind is None or r.kind == kind) and (node is None or r.node == node)
                and all(r.info.get(k, _ABSENT) == v for k, v in info.items())]

    @property
    def replies(self):
        """``(node, op, status, value)`` for every answer, in order (leader hints: ``records("reply")``)."""
        return [(r.node, r.info["op"], r.info["status"], r.info["value"]) for r in self.records("reply")]

    @property
    def notes(self):
        """``(node, text, fields)`` for every note, in order."""
        return [(r.node, r.info["text"], {k: v for k, v in r.info.items() if k != "text"})
                for r in self.records("note")]

    # -- steps -------------------------------------------------------------------------
    def _node(self, name):
        if name not in self.names:
            raise UnknownNodeError(name, self.names)
        return self.nodes[name]

    def _run(self, name, event, fn, *args):
        try:
            return fn(*args)
        except Exception as e:
            self._record("error", name, {"event": event, "error": f"{type(e).__name__}: {e}"})
            raise

    def boot(self, name):
        """(Re)start ``name`` from its durable storage only, as its next incarnation."""
        if name not in self.names:
            raise UnknownNodeError(name, self.names)
        make = self.factory[name] if isinstance(self.factory, Mapping) else self.factory
        self.incarnations[name] += 1
        inc = self.incarnations[name]
        self.timers[name] = {}
        snapshot = {k: copy.deepcopy(v) for k, v in self.storage[name].items()}      # as it is now
        self._record("start" if inc == 1 else "restart", name, {"incarnation": inc, "storage": snapshot})
        self.ctx[name] = HandContext(self, name, inc)
        self.nodes[name] = self._run(name, "start", make)
        self._run(name, "start", self.nodes[name].on_start, self.ctx[name])
        return self.nodes[name]

    crash_and_restart = boot

    def deliver(self, dst, src, msg):
        node = self._node(dst)
        self._record("deliver", dst, {"src": src, "msg": msg})
        self._run(dst, f"message {type(msg).__name__} from {src!r}", node.on_message, self.ctx[dst], src, msg)

    def fire(self, name, timer):
        node = self._node(name)
        self.timers[name].pop(timer, None)
        self._record("timer", name, {"name": timer})
        self._run(name, f"timer {timer!r}", node.on_timer, self.ctx[name], timer)

    def request(self, name, op):
        node = self._node(name)
        client = getattr(op, "client", None)
        self._record("deliver", name, {"src": client, "msg": op})
        event = f"request {getattr(op, 'f', op)!r} from {client!r}"
        self._run(name, event, node.on_request, self.ctx[name], op)

    def take(self, src=None, dst=None, kind=None):
        """Remove and return outbox messages matching the filters."""
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
