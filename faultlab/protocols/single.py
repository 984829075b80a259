"""The simplest correct store, and a replicated one that is subtly wrong.

``SingleServer`` is one node holding a register or a key-value map in durable
storage: it applies each request and answers at once, so every acknowledged
operation takes effect between invocation and reply. A crash loses only the
requests in flight (the clients see ``info``), never acknowledged data, so its
histories are always linearizable — the baseline a replicated protocol must
match.

``AsyncPrimaryBackup`` (deliberately broken) adds availability the naive way:
the primary answers from memory and ships a snapshot to the backup only every
``sync_interval`` ms; the backup takes over when the snapshots stop. Writes
acknowledged in the last interval before the primary crashed are lost, so after
failover clients read stale values: not linearizable.

Both answer read/write/cas on a register (an unset register reads ``None``)
and get/put/append on a map (a missing key reads ``""``); a cas whose expected
value does not match fails and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..node import Node


def apply(data, f, key, value):
    """Apply one client operation to ``data`` (a dict): ``("ok", result)`` or ``("fail", why)``."""
    if f in ("read", "get"):
        return "ok", data.get(key, None if f == "read" else "")
    if f in ("write", "put"):
        data[key] = value
        return "ok", value
    if f == "append":
        data[key] = data.get(key, "") + value
        return "ok", value
    if f == "cas":
        expected, new = value
        if data.get(key) != expected:
            return "fail", "cas mismatch"
        data[key] = new
        return "ok", value
    return "fail", f"unknown operation {f!r}"


class SingleServer(Node):
    """One server, state in durable storage: linearizable, unavailable while it is down."""

    def on_start(self, ctx):
        ctx.storage.setdefault("data", {})
        ctx.set_role("primary", ctx.storage.setdefault("boots", 0))
        ctx.storage["boots"] += 1

    def on_request(self, ctx, op):
        status, result = apply(ctx.storage["data"], op.f, op.key, op.value)
        if status == "ok":
            ctx.reply(op, result)
        else:
            ctx.fail(op, result)


@dataclass(frozen=True)
class Snapshot:
    """The primary's whole state, sent to the backup every ``sync_interval`` ms."""
    term: int
    data: dict


class AsyncPrimaryBackup(Node):
    """BROKEN on purpose: asynchronous backup, so failover serves stale reads.

    The first node (by name) starts as primary, the other as backup. A backup
    that hears no snapshot for ``failover_after`` ms promotes itself. A node
    that restarts after a crash comes back as backup (it lost its memory).
    """

    def __init__(self, sync_interval=100.0, failover_after=300.0):
        if not 0 < sync_interval < failover_after:
            raise ConfigError(f"need 0 < sync_interval ({sync_interval!r}) < failover_after "
                              f"({failover_after!r}) ms, or the backup takes over a live primary")
        self.sync_interval, self.failover_after = sync_interval, failover_after
        self.data: dict = {}
        self.role, self.term, self.last_heard = "backup", 0, 0.0

    def on_start(self, ctx):
        first_boot = not ctx.storage.get("booted")
        ctx.storage["booted"] = True
        self.term = ctx.storage.get("term", 0)
        self.last_heard = ctx.now
        if first_boot and ctx.id == min(ctx.nodes):
            self._become(ctx, "primary", self.term)
        else:
            self._become(ctx, "backup", self.term)
            ctx.set_timer("watch", self.failover_after)

    def _become(self, ctx, role, term):
        self.role, self.term = role, term
        ctx.storage["term"] = term
        ctx.set_role(role, term)
        if role == "primary":
            ctx.set_timer("sync", 0)

    def on_timer(self, ctx, name):
        if name == "sync" and self.role == "primary":
            ctx.broadcast(Snapshot(self.term, dict(self.data)))
            ctx.set_timer("sync", self.sync_interval)
        elif name == "watch" and self.role == "backup":
            if ctx.now - self.last_heard >= self.failover_after:
                ctx.note("primary silent: taking over", term=self.term + 1)
                self._become(ctx, "primary", self.term + 1)
            else:
                ctx.set_timer("watch", self.failover_after)

    def on_message(self, ctx, src, msg):
        if isinstance(msg, Snapshot) and msg.term >= self.term:
            if self.role == "primary" and msg.term == self.term:
                return
            self.data = dict(msg.data)
            self.last_heard = ctx.now
            if self.role != "backup" or msg.term != self.term:
                self._become(ctx, "backup", msg.term)
                ctx.set_timer("watch", self.failover_after)

    def on_request(self, ctx, op):
        if self.role != "primary":
            ctx.fail(op, "not the primary", leader=None)
            return
        status, result = apply(self.data, op.f, op.key, op.value)
        if status == "ok":
            ctx.reply(op, result)
        else:
            ctx.fail(op, result)

    def status(self):
        return {"keys": len(self.data)}


def build(seed=0, workload=None, clients=3, broken=False, timeout=200.0, think=(0.0, 10.0),
          stop=None, latency=(1.0, 5.0)):
    """A World with one ``SingleServer`` (or two ``AsyncPrimaryBackup`` nodes) and clients."""
    from ..sim import World
    from ..workloads import register_workload
    world = World(seed=seed, latency=latency)
    if broken:
        world.add_nodes(2, AsyncPrimaryBackup)
    else:
        world.add_node("n1", SingleServer)
    world.add_clients(clients, workload or register_workload(), timeout=timeout, think=think, stop=stop)
    return world
