"""All-to-all heartbeats with a timeout failure detector.

The smallest protocol that exercises every part of the host: timers,
broadcast, volatile state lost on crash, durable state kept (a boot counter),
and notes in the trace. A node *suspects* a peer it has not heard from for
``timeout`` ms, and *trusts* it again when a heartbeat arrives. It is the
detector primary-backup failover is built on, and it shows why a timeout can
only ever suspect: a paused or partitioned node looks exactly like a dead one.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from ._options import positive_ms


@dataclass(frozen=True)
class HeartbeatMsg:
    sender: str
    boot: int
    seq: int


class Heartbeat(HandlerNode):
    def __init__(self, interval=100.0, timeout=350.0):
        positive_ms("heartbeat interval", interval)
        positive_ms("heartbeat timeout", timeout)
        if timeout <= interval:
            raise ConfigError(f"timeout ({timeout} ms) must exceed the interval ({interval} ms), "
                              "or every peer is suspected between two heartbeats")
        self.interval, self.timeout = interval, timeout
        self.seq = 0
        self.last_heard: dict = {}
        self.suspected: set = set()

    def on_start(self, ctx):
        ctx.storage["boots"] = ctx.storage.get("boots", 0) + 1
        for p in ctx.peers:
            self.last_heard[p] = ctx.now
        ctx.set_timer("beat", 0)
        ctx.set_timer("check", self.timeout)

    def on_timer(self, ctx, name):
        if name == "beat":
            self.seq += 1
            ctx.broadcast(HeartbeatMsg(sender=ctx.id, boot=ctx.storage["boots"], seq=self.seq))
            ctx.set_timer("beat", self.interval)
        elif name == "check":
            for p, t in self.last_heard.items():
                if p not in self.suspected and ctx.now - t > self.timeout:
                    self.suspected.add(p)
                    ctx.note("suspect", peer=p)
            ctx.set_timer("check", self.interval)

    @handles(HeartbeatMsg)
    def _on_heartbeat(self, ctx, src, msg):
        self.last_heard[src] = ctx.now
        if src in self.suspected:
            self.suspected.discard(src)
            ctx.note("trust", peer=src)

    def status(self):
        return {"suspects": sorted(self.suspected)}
