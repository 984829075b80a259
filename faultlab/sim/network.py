"""The simulated network: latency, loss, duplication, reordering and partitions.

It only decides what happens to a message (when it arrives, whether twice, or
why it dies); the world schedules and traces it. Randomness comes from the
world's seeded network RNG, so the same seed gives the same fate to every message.
"""
from __future__ import annotations

import math

from ..errors import ConfigError, UnknownNodeError
from ..partitions import partition_groups
from .latency import as_latency


def _probability(name, p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or math.isnan(p) or not 0 <= p <= 1:
        raise ConfigError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


class Network:
    def __init__(self, rng, latency=(1.0, 5.0)):
        self.rng = rng
        self.endpoints: list = []        # servers first, then clients
        self.servers: list = []
        self.latency = as_latency(latency)
        self.link_latency: dict = {}
        self.loss = 0.0
        self.duplicate = 0.0
        self.reorder = 0.0
        self.reorder_delay = 20.0
        self.blocked: set = set()       # (src, dst) pairs that cannot talk
        self.cut_at: dict = {}          # (src, dst) -> last time the link was cut
        self.groups = None               # current symmetric partition, for display
        self._known: set = set()

    # -- configuration -------------------------------------------------------
    def check_node(self, node):
        if node not in self._known:
            raise UnknownNodeError(node, self.endpoints)
        return node

    def add_endpoint(self, name, server=True):
        self.endpoints.append(name)
        if server:
            self.servers.append(name)
        self._known.add(name)

    def set_latency(self, spec, src=None, dst=None):
        """Latency for all links, or for links from ``src`` and/or to ``dst``."""
        lat = as_latency(spec)
        if src is None and dst is None:
            self.latency = lat
            self.link_latency.clear()
            return
        srcs = [self.check_node(src)] if src is not None else self.endpoints
        dsts = [self.check_node(dst)] if dst is not None else self.endpoints
        for s in srcs:
            for d in dsts:
                if s != d:
                    self.link_latency[(s, d)] = lat

    def set_loss(self, p):
        self.loss = _probability("loss", p)

    def set_duplicate(self, p):
        self.duplicate = _probability("duplication", p)

    def set_reorder(self, p, extra_delay=20.0):
        self.reorder = _probability("reordering", p)
        if isinstance(extra_delay, bool) or not isinstance(extra_delay, (int, float)) \
                or math.isnan(extra_delay) or extra_delay < 0:
            raise ConfigError(f"reorder delay must be a non-negative number of ms, got {extra_delay!r}")
        self.reorder_delay = float(extra_delay)

    # -- partitions ----------------------------------------------------------
    def partition(self, groups, now):
        """Split the servers into groups that can only talk within themselves.

        Every server must be in exactly one group. Clients not named stay
        connected to everyone (they model a client outside the data centre).
        """
        groups, side = partition_groups(groups, self.servers, self.check_node)
        self.heal(now)
        for a, ga in side.items():
            for b, gb in side.items():
                if ga != gb:
                    self._cut(a, b, now)
        self.groups = groups
        return groups

    def cut(self, src, dst, now):
        """Cut the one-way link src -> dst (messages from src no longer reach dst)."""
        self.check_node(src), self.check_node(dst)
        self._cut(src, dst, now)

    def _cut(self, src, dst, now):
        self.blocked.add((src, dst))
        self.cut_at[(src, dst)] = now

    def heal(self, now=None):
        self.blocked.clear()
        self.groups = None

    @property
    def clean(self):
        """No loss, duplication or reordering configured: routing needs one latency draw."""
        return not (self.loss or self.duplicate or self.reorder)

    # -- the fate of one message --------------------------------------------
    def route(self, src, dst):
        """Return (delays, reason): arrival delays (0, 1 or 2 copies), or why it died."""
        if (src, dst) in self.blocked:
            return (), "partition"
        rng = self.rng
        if self.loss and rng.random() < self.loss:
            return (), "loss"
        lat = self.link_latency.get((src, dst), self.latency)
        d = lat(rng)
        if self.reorder and rng.random() < self.reorder:
            d += rng.uniform(0, self.reorder_delay)
        if self.duplicate and rng.random() < self.duplicate:
            return (d, lat(rng) + rng.uniform(0, self.reorder_delay)), None
        return (d,), None

    def still_open(self, src, dst, sent_at):
        """False if the link was cut at any time since the message was sent."""
        if (src, dst) in self.blocked:
            return False
        t = self.cut_at.get((src, dst))
        return t is None or t < sent_at

    def snapshot(self):
        return {"latency": repr(self.latency), "loss": self.loss, "duplicate": self.duplicate,
                "reorder": self.reorder, "groups": self.groups,
                "cuts": sorted(self.blocked) if self.groups is None else None}
