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

Both apply client operations with :class:`faultlab.protocols.kv.KVStore`, the
state machine every protocol here shares.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from .kv import KVStore, answer


class SingleServer(HandlerNode):
    """One server, state in durable storage: linearizable, unavailable while it is down."""

    def __init__(self):
        self.kv = KVStore()                  # over ctx.storage["data"] once started

    def on_start(self, ctx):
        self.kv = KVStore(ctx.storage.setdefault("data", {}))
        ctx.set_role("primary", ctx.storage.setdefault("boots", 0))
        ctx.storage["boots"] += 1

    def on_request(self, ctx, op):
        answer(ctx, op, self.kv.execute(op.f, op.key, op.value))


@dataclass(frozen=True)
class Snapshot:
    """The primary's whole state, sent to the backup every ``sync_interval`` ms."""
    term: int
    data: dict


class AsyncPrimaryBackup(HandlerNode):
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
        self.kv = KVStore()
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
            ctx.broadcast(Snapshot(term=self.term, data=dict(self.kv.data)))
            ctx.set_timer("sync", self.sync_interval)
        elif name == "watch" and self.role == "backup":
            if ctx.now - self.last_heard >= self.failover_after:
                ctx.note("primary silent: taking over", term=self.term + 1)
                self._become(ctx, "primary", self.term + 1)
            else:
                ctx.set_timer("watch", self.failover_after)

    @handles(Snapshot)
    def _on_snapshot(self, ctx, src, msg):
        if msg.term >= self.term:
            if self.role == "primary" and msg.term == self.term:
                return
            self.kv = KVStore(dict(msg.data))
            self.last_heard = ctx.now
            if self.role != "backup" or msg.term != self.term:
                self._become(ctx, "backup", msg.term)
                ctx.set_timer("watch", self.failover_after)

    def on_request(self, ctx, op):
        if self.role != "primary":
            ctx.fail(op, "not the primary", leader=None)
            return
        answer(ctx, op, self.kv.execute(op.f, op.key, op.value))

    def status(self):
        return {"keys": len(self.kv.data)}


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
