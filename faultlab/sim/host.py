"""Hosting a protocol node in the simulator: crash, restart, pause, timers, clock drift.

A host keeps what survives a crash (``storage``) and rebuilds the volatile
protocol object from its factory on restart. While paused it runs no handler:
messages and timers that come due are queued and handled, in order, on resume
(what a process sees after a long GC pause or SIGSTOP/SIGCONT).
"""
from __future__ import annotations

from functools import partial

from ..context import check_delay
from ..errors import ProtocolError
from ..rng import seeded_rng
from ..trace import Record as _Record

_new_record = tuple.__new__
UP, CRASHED, PAUSED = "up", "crashed", "paused"


class SimContext:
    """The simulator's ``ctx`` (the members of :class:`faultlab.context.Context`). One per incarnation:
    a context from before a crash is dead, so a handler left over from it can no longer act."""

    __slots__ = ("_host", "_world", "id", "peers", "rng", "storage", "incarnation")

    def __init__(self, host, incarnation):
        self._host = host
        self._world = host.world
        self.id = host.name
        self.peers = [n for n in host.world.nodes if n != host.name]
        self.rng = seeded_rng(host.world.seed, host.name, incarnation)
        self.storage = host.storage
        self.incarnation = incarnation

    @property
    def now(self):
        """This node's local clock in ms (runs fast or slow under clock drift)."""
        h = self._host
        return self._world.env.now if h.clock_rate == 1.0 and not h.drifted else h.local_time()

    @property
    def nodes(self):
        return list(self._world.nodes)

    def _live(self):
        h = self._host
        return h.incarnation == self.incarnation and h.state != CRASHED

    def send(self, dst, msg):
        h = self._host
        if h.incarnation == self.incarnation and h.state != CRASHED:
            self._world._send(self.id, dst, msg)

    def broadcast(self, msg):
        for p in self.peers:
            self.send(p, msg)

    def set_timer(self, name, delay):
        if self._live():
            self._host.set_timer(name, delay)

    def cancel_timer(self, name):
        if self._live():
            self._host.timers.pop(name, None)

    def timer_pending(self, name):
        return self._live() and name in self._host.timers

    def reply(self, op, value=None):
        if self._live():
            self._world._reply(self.id, op, "ok", value)

    def fail(self, op, error, leader=None):
        """Answer that ``op`` definitely did not take effect (e.g. not the leader)."""
        if self._live():
            self._world._reply(self.id, op, "fail", error, leader)

    def note(self, text, **fields):
        if self._live():
            self._world.record("note", self.id, dict(text=text, **fields))

    def set_role(self, role, term=None):
        """Announce a role change (leader, follower, primary...) for timelines and tiles."""
        h = self._host
        if self._live() and (h.role, h.term) != (role, term):
            h.role, h.term = role, term
            self._world.record("role", self.id, {"role": role, "term": term})


class Host:
    def __init__(self, world, name, factory):
        self.world = world
        self.name = name
        self.factory = factory
        self.storage: dict = {}
        self.state = CRASHED
        self.node = None
        self.ctx = None
        self.incarnation = 0
        self.timers: dict = {}
        self.backlog: list = []
        self.role = None
        self.term = None
        self.clock_rate = 1.0
        self.drifted = False             # once drifted, the local clock keeps its offset
        self._clock_base = (0.0, 0.0)   # (global ms, local ms) at the last rate change

    # -- clock ---------------------------------------------------------------
    def local_time(self):
        g0, l0 = self._clock_base
        return l0 + (self.world.env.now - g0) * self.clock_rate

    def set_clock_rate(self, rate):
        self._clock_base = (self.world.env.now, self.local_time())
        self.clock_rate = rate
        self.drifted = True

    # -- lifecycle -----------------------------------------------------------
    def boot(self):
        self.incarnation += 1
        self.state = UP
        self.timers = {}
        self.backlog = []
        self.role = self.term = None
        self.ctx = SimContext(self, self.incarnation)
        self.node = self._call("start", self.factory)
        self._call("start", self.node.on_start, self.ctx)

    def crash(self):
        self.state = CRASHED
        self.node = None
        self.ctx = None
        self.timers = {}
        self.backlog = []
        self.role = self.term = None

    def pause(self):
        self.state = PAUSED

    def resume(self):
        self.state = UP
        backlog, self.backlog = self.backlog, []
        for item in backlog:
            if self.state != UP:         # a handler may not crash us, but stay safe
                break
            item()

    # -- events --------------------------------------------------------------
    def set_timer(self, name, delay):
        check_delay(name, delay)
        world = self.world
        world._timer_seq += 1
        gen = world._timer_seq
        self.timers[name] = gen
        world.env.timeout(delay / self.clock_rate).callbacks.append(
            partial(self._timer_due, name, gen, self.incarnation))

    def _timer_due(self, name, gen, inc, _event=None):
        if inc != self.incarnation or self.timers.get(name) != gen:
            return
        if self.state == PAUSED:
            self.backlog.append(lambda: self._timer_due(name, gen, inc))
            return
        del self.timers[name]
        self.world.record("timer", self.name, {"name": name})
        try:
            self.node.on_timer(self.ctx, name)
        except Exception as e:  # noqa: BLE001 - re-raised with context
            self._fail(f"timer {name!r}", e)

    def deliver(self, src, msg, mid):
        if self.state == PAUSED:
            self.backlog.append(lambda: self.deliver(src, msg, mid))
            return
        if self.state == CRASHED:
            self.world.record("drop", self.name, {"src": src, "id": mid, "reason": "node down",
                                                  "msg": msg})
            return
        world = self.world
        if world.tracing:
            if world.listeners:
                world.record("deliver", self.name, {"src": src, "id": mid, "msg": msg})
            else:
                world.trace.append(_new_record(_Record, (world.env.now, "deliver", self.name,
                                                         {"src": src, "id": mid, "msg": msg})))
        try:
            self.node.on_message(self.ctx, src, msg)
        except Exception as e:  # noqa: BLE001 - re-raised with context
            self._fail(f"message {type(msg).__name__} from {src!r}", e)

    def request(self, op, mid):
        if self.state == PAUSED:
            self.backlog.append(lambda: self.request(op, mid))
            return
        if self.state == CRASHED:
            self.world.record("drop", self.name, {"src": op.client, "id": mid, "reason": "node down",
                                                  "msg": op})
            return
        self.world.record("deliver", self.name, {"src": op.client, "id": mid, "msg": op})
        self._call(f"request {op.f!r} from {op.client!r}", self.node.on_request, self.ctx, op)

    def _call(self, event, fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - re-raised with context
            self._fail(event, e)

    def _fail(self, event, e):
        world = self.world
        world.record("error", self.name, {"event": event, "error": f"{type(e).__name__}: {e}"})
        raise ProtocolError(self.name, event, world.env.now, e) from e

    def status(self):
        s = {"node": self.name, "state": self.state, "role": self.role, "term": self.term}
        if self.node is not None:
            s.update(self.node.status())
        return s
