"""The simulated world: SimPy time, seeded randomness, hosts, network, trace, history.

This is the only place (with its siblings in ``faultlab.sim``) that knows SimPy.
Everything random draws from RNGs derived from ``seed`` by name, so the same
seed gives the same trace byte for byte, whatever PYTHONHASHSEED is.
"""
from __future__ import annotations

import math
from functools import partial

import simpy

from ..errors import ConfigError, UnknownNodeError, WorldTimeError
from ..history import History
from .. import trace as _trace
from ..rng import seeded_rng
from ..workloads import Op, Reply
from .clients import Client
from .host import CRASHED, PAUSED, UP, Host
from .latency import as_latency
from .network import Network

LEADER_ROLES = ("leader", "primary", "coordinator")
_AFTER_NORMAL = simpy.events.NORMAL + 1    # scheduled faults run after same-time events
_Record = _trace.Record
_new_record = tuple.__new__                  # skips namedtuple's Python-level __new__


class World:
    """A deterministic simulated cluster.

    >>> w = World(seed=1)
    >>> w.add_nodes(3, MyNode)           # doctest: +SKIP
    >>> w.run(until=1000)                # doctest: +SKIP
    """

    def __init__(self, seed=0, latency=(1.0, 5.0), trace=True):
        self.seed = seed
        self.env = simpy.Environment()
        self.network = Network(seeded_rng(seed, "net"), latency)
        self.hosts: dict = {}
        self.clients: dict = {}
        self.trace: list = []
        self.tracing = trace
        self.history = History()
        self._msg_seq = 0
        self._op_seq = 0
        self._timer_seq = 0
        self._process_seq = 0
        self._started = False
        self.listeners: list = []      # callables(record), e.g. live widgets

    # -- building ------------------------------------------------------------
    @property
    def now(self):
        return self.env.now

    @property
    def nodes(self):
        return list(self.hosts)

    def add_node(self, name, factory):
        """Add a server node; ``factory()`` builds its protocol object (also on restart)."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"node ids are non-empty strings, got {name!r}")
        if name in self.hosts or name in self.clients:
            raise ConfigError(f"there is already a node or client called {name!r}")
        if not callable(factory):
            raise ConfigError(f"factory for {name!r} must be a class or a callable, got {factory!r}")
        self.hosts[name] = Host(self, name, factory)
        self.network.add_endpoint(name, server=True)
        if self._started:
            self._boot(name)
        return name

    def add_nodes(self, n, factory, prefix="n"):
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"number of nodes must be a positive integer, got {n!r}")
        return [self.add_node(f"{prefix}{i}", factory) for i in range(1, n + 1)]

    def add_clients(self, n, workload, timeout=500.0, think=(0.0, 10.0), stop=None, targets=None,
                    prefix="c"):
        """Start ``n`` closed-loop clients issuing ``workload(rng)`` operations until ``stop`` ms."""
        targets = list(targets) if targets is not None else self.nodes
        for t in targets:
            self._check(t)
        if not targets:
            raise ConfigError("clients need at least one node to talk to: add nodes first")
        base = len(self.clients)
        for i in range(n):
            name = f"{prefix}{base + i + 1}"
            c = Client(self, name, self._next_process(), workload, timeout, think, stop, targets)
            self.clients[name] = c
            self.network.add_endpoint(name, server=False)
            self.env.process(c.run())
        return list(self.clients)

    def _check(self, node):
        if node not in self.hosts:
            raise UnknownNodeError(node, self.hosts)
        return self.hosts[node]

    def node(self, name):
        """The live protocol object of ``name`` (None while crashed)."""
        return self._check(name).node

    def storage(self, name):
        return self._check(name).storage

    # -- running -------------------------------------------------------------
    def start(self):
        if not self._started:
            self._started = True
            for name in self.hosts:
                self._boot(name)

    def _boot(self, name):
        self.record("start", name, {})
        self.hosts[name].boot()

    def run(self, until=None, *, duration=None):
        """Advance simulated time to ``until`` ms (or by ``duration`` ms).

        Inclusive: events due exactly at the target time have happened when it returns.
        """
        if (until is None) == (duration is None):
            raise ConfigError("give run() exactly one of until=<ms> or duration=<ms>")
        target = until if until is not None else self.env.now + duration
        if not isinstance(target, (int, float)) or math.isnan(target):
            raise ConfigError(f"run() needs a number of ms, got {target!r}")
        if target < self.env.now:
            raise WorldTimeError(f"this world is already at t={self.env.now:g} ms and cannot run back to "
                                 f"t={target:g} ms; use run(duration=...) to go further, or build a new World")
        self.start()
        env = self.env
        if target > env.now:
            env.run(until=target)
        while env.peek() == target:
            env.step()
        return self

    def at(self, t, fn, *args):
        """Call ``fn(*args)`` at simulated time ``t`` ms, after everything else due then.

        That is when a fault injected by hand after ``run(until=t)`` happens, so a
        recorded fault schedule replays to the very same trace.
        """
        if t < self.env.now:
            raise WorldTimeError(f"cannot schedule at t={t:g} ms: the world is already at {self.env.now:g} ms")
        ev = simpy.Event(self.env)
        ev._ok, ev._value = True, None
        ev.callbacks.append(lambda _ev: fn(*args))
        self.env.schedule(ev, _AFTER_NORMAL, t - self.env.now)
        return ev

    def schedule(self, schedule):
        """Apply a nemesis schedule: a list of ``(t, op)`` with ``op.apply(cluster)``.

        Operations due at the same time are applied back to back, as by hand.
        """
        batches: dict = {}
        for t, op in schedule:
            batches.setdefault(t, []).append(op)
        for t, ops in batches.items():
            self.at(t, self._apply_all, ops)
        return self

    def _apply_all(self, ops):
        for op in ops:
            op.apply(self)

    # -- trace ---------------------------------------------------------------
    def record(self, kind, node, info):
        if self.tracing:
            r = _new_record(_Record, (self.env.now, kind, node, info))
            self.trace.append(r)
            if self.listeners:
                for fn in self.listeners:
                    fn(r)

    def trace_digest(self):
        return _trace.digest(self.trace)

    # -- messages ------------------------------------------------------------
    def _next_process(self):
        self._process_seq += 1
        return self._process_seq - 1

    def _next_op_id(self):
        self._op_seq += 1
        return self._op_seq

    def _send(self, src, dst, msg):
        # The hot path of every run: kept flat on purpose (see benchmarks/sim_throughput.py).
        net = self.network
        if dst not in net._known:
            raise UnknownNodeError(dst, net.endpoints)
        self._msg_seq += 1
        mid = self._msg_seq
        env = self.env
        now = env.now
        if not (net.loss or net.duplicate or net.reorder) and (src, dst) not in net.blocked:
            delays, reason = (net.link_latency.get((src, dst), net.latency)(net.rng),), None
        else:
            delays, reason = net.route(src, dst)
        if self.tracing:
            if self.listeners:
                self.record("send", src, {"dst": dst, "id": mid, "msg": msg})
            else:
                self.trace.append(_new_record(_Record, (now, "send", src, {"dst": dst, "id": mid, "msg": msg})))
            if reason:
                self.record("drop", dst, {"src": src, "id": mid, "reason": reason, "msg": msg})
        for d in delays:
            env.timeout(d).callbacks.append(partial(self._arrive, src, dst, msg, mid, now))

    def _arrive(self, src, dst, msg, mid, sent_at, _event=None):
        if self.network.cut_at and not self.network.still_open(src, dst, sent_at):
            self.record("drop", dst, {"src": src, "id": mid, "reason": "partition", "msg": msg})
            return
        host = self.hosts.get(dst)
        if host is not None:
            if type(msg) is Op:
                host.request(msg, mid)
            else:
                host.deliver(src, msg, mid)
        else:
            self.record("deliver", dst, {"src": src, "id": mid, "msg": msg})
            self.clients[dst].receive(msg)

    def _reply(self, node, op, status, value, leader=None):
        self._send(node, op.client, Reply(op.id, status, value, leader))

    # -- faults (the nemesis vocabulary) -----------------------------------
    def crash(self, node):
        """Kill ``node``: its volatile state is lost, ``storage`` survives. No-op if already down."""
        h = self._check(node)
        if h.state == CRASHED:
            return False
        h.crash()
        self.record("crash", node, {})
        return True

    def restart(self, node):
        """Boot a crashed node again from its durable storage. No-op if it is running."""
        h = self._check(node)
        if h.state != CRASHED:
            return False
        self.record("restart", node, {})
        h.boot()
        return True

    def pause(self, node):
        """Freeze ``node`` (like SIGSTOP or a long GC pause); it keeps its state."""
        h = self._check(node)
        if h.state != UP:
            return False
        h.pause()
        self.record("pause", node, {})
        return True

    def resume(self, node):
        h = self._check(node)
        if h.state != PAUSED:
            return False
        self.record("resume", node, {"backlog": len(h.backlog)})
        h.resume()
        return True

    def partition(self, *groups):
        """Split the nodes into groups, e.g. ``partition(['n1'], ['n2', 'n3'])``."""
        groups = self.network.partition(groups, self.env.now)
        self.record("partition", None, {"groups": groups})
        return True

    def isolate(self, node):
        """Cut ``node`` off from every other node."""
        self._check(node)
        return self.partition([node], [n for n in self.hosts if n != node])

    def cut(self, src, dst):
        """Cut the one-way link ``src -> dst``."""
        self.network.cut(src, dst, self.env.now)
        self.record("cut", None, {"src": src, "dst": dst})
        return True

    def heal(self):
        self.network.heal(self.env.now)
        self.record("heal", None, {})
        return True

    def set_loss(self, p):
        self.network.set_loss(p)
        self.record("network", None, {"loss": self.network.loss})

    def set_duplicate(self, p):
        self.network.set_duplicate(p)
        self.record("network", None, {"duplicate": self.network.duplicate})

    def set_reorder(self, p, extra_delay=20.0):
        self.network.set_reorder(p, extra_delay)
        self.record("network", None, {"reorder": self.network.reorder, "extra": extra_delay})

    def set_latency(self, spec, src=None, dst=None):
        """Latency for all links, or only links from ``src`` and/or to ``dst`` (see latency.py)."""
        lat = as_latency(spec)
        self.network.set_latency(lat, src, dst)
        self.record("network", None, {"latency": lat, "src": src, "dst": dst})

    def set_clock_rate(self, node, rate):
        """Make ``node``'s clock run fast (rate > 1) or slow (< 1): timers fire early or late."""
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or math.isnan(rate) or rate <= 0:
            raise ConfigError(f"clock rate must be a positive number (1.0 = exact), got {rate!r}")
        self._check(node).set_clock_rate(float(rate))
        self.record("clock", node, {"rate": float(rate)})

    # -- looking -------------------------------------------------------------
    def leader(self):
        """The node that currently believes it leads (highest term wins), or None."""
        best = None
        for name, h in self.hosts.items():
            if h.state == UP and h.role in LEADER_ROLES:
                if best is None or (h.term or 0) > (self.hosts[best].term or 0):
                    best = name
        return best

    def status(self):
        return [h.status() for h in self.hosts.values()]

    def state(self, node):
        return self._check(node).state

    def fault_schedule(self):
        """The faults this run saw, as a replayable nemesis schedule ``[(t, op)]``."""
        from ..nemesis import from_record
        return [(r.t, from_record(r)) for r in self.trace if from_record(r) is not None]

    def __repr__(self):
        return f"<World seed={self.seed} t={self.env.now:g}ms nodes={len(self.hosts)} trace={len(self.trace)}>"


