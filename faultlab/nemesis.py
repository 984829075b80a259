"""Fault operations and schedules, shared by simulated and real clusters.

An operation is plain data with ``apply(cluster)``: it calls the cluster's
method of the same name (``crash``, ``pause``, ``partition``...), so one
schedule drives a ``World``, a ZooKeeper ensemble or an etcd cluster alike.
``node="leader"`` picks whoever leads when the fault fires; ``node="*"`` means
every node the operation applies to (restart all crashed, resume all paused).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError
from .rng import seeded_rng


def _resolve(cluster, node):
    if node == "leader":
        return cluster.leader()
    return node


@dataclass(frozen=True)
class NodeFault:
    node: str
    method = ""

    def apply(self, cluster):
        if self.node == "*":
            return any([getattr(cluster, self.method)(n) for n in cluster.nodes])
        node = _resolve(cluster, self.node)
        if node is None:
            return False
        return getattr(cluster, self.method)(node)

    def __str__(self):
        return f"{self.method} {self.node}"


class Crash(NodeFault):
    method = "crash"


class Restart(NodeFault):
    method = "restart"


class Pause(NodeFault):
    method = "pause"


class Resume(NodeFault):
    method = "resume"


class Isolate(NodeFault):
    method = "isolate"


@dataclass(frozen=True)
class Partition:
    groups: tuple

    def apply(self, cluster):
        return cluster.partition(*[list(g) for g in self.groups])

    def __str__(self):
        return "partition " + " | ".join(",".join(g) for g in self.groups)


@dataclass(frozen=True)
class Heal:
    def apply(self, cluster):
        return cluster.heal()

    def __str__(self):
        return "heal"


@dataclass(frozen=True)
class Cut:
    src: str
    dst: str

    def apply(self, cluster):
        return cluster.cut(self.src, self.dst)

    def __str__(self):
        return f"cut {self.src}->{self.dst}"


@dataclass(frozen=True)
class Loss:
    p: float

    def apply(self, cluster):
        return cluster.set_loss(self.p)

    def __str__(self):
        return f"loss {self.p:g}"


@dataclass(frozen=True)
class Latency:
    """Set link latency: a number, a (low, high) pair or a distribution from faultlab.sim."""
    spec: object
    src: str | None = None
    dst: str | None = None

    def apply(self, cluster):
        return cluster.set_latency(self.spec, self.src, self.dst)

    def __str__(self):
        where = "" if self.src is None and self.dst is None else f" {self.src or '*'}->{self.dst or '*'}"
        return f"latency {self.spec!r}{where}"


_BY_KIND = {"crash": Crash, "restart": Restart, "pause": Pause, "resume": Resume}


def from_record(r):
    """Rebuild the fault operation a trace record stands for (None if it is no fault)."""
    if r.kind in _BY_KIND:
        return _BY_KIND[r.kind](r.node)
    if r.kind == "partition":
        return Partition(tuple(tuple(g) for g in r.info["groups"]))
    if r.kind == "heal":
        return Heal()
    if r.kind == "cut":
        return Cut(r.info["src"], r.info["dst"])
    if r.kind == "network" and "loss" in r.info:
        return Loss(r.info["loss"])
    if r.kind == "network" and "latency" in r.info:
        return Latency(r.info["latency"], r.info.get("src"), r.info.get("dst"))
    return None


FAULT_KINDS = ("crash", "pause", "partition", "isolate", "crash-leader", "pause-leader", "isolate-leader")


def random_schedule(nodes, duration, seed=0, every=2000.0, heal_after=1000.0,
                    kinds=("crash", "pause", "partition"), start=None):
    """A seeded schedule: every ``every`` ms start one fault, undo it ``heal_after`` ms later.

    Kinds: crash, pause, partition (random split into a majority and a minority),
    isolate, and the ``-leader`` variants that hit whoever leads at that moment.
    Faults never overlap when ``heal_after < every``, so every fault is undone.
    """
    nodes = list(nodes)
    if not nodes:
        raise ConfigError("random_schedule needs the list of node ids")
    if not every > 0 or not heal_after > 0:
        raise ConfigError(f"every and heal_after must be positive ms, got {every!r} and {heal_after!r}")
    if heal_after >= every:
        raise ConfigError(f"heal_after ({heal_after:g} ms) must be shorter than every ({every:g} ms) "
                          "so that each fault is undone before the next one starts")
    bad = [k for k in kinds if k not in FAULT_KINDS]
    if bad or not kinds:
        raise ConfigError(f"unknown fault kind(s) {bad}; choose from {', '.join(FAULT_KINDS)}")
    rng = seeded_rng(seed, "nemesis")
    out = []
    t = every if start is None else start
    while t + heal_after <= duration:
        kind = rng.choice(list(kinds))
        leader = kind.endswith("-leader")
        target = "leader" if leader else rng.choice(nodes)
        undo = "*" if leader else target
        base = kind.replace("-leader", "")
        if base == "crash":
            out += [(t, Crash(target)), (t + heal_after, Restart(undo))]
        elif base == "pause":
            out += [(t, Pause(target)), (t + heal_after, Resume(undo))]
        elif base == "isolate":
            out += [(t, Isolate(target)), (t + heal_after, Heal())]
        else:
            shuffled = nodes[:]
            rng.shuffle(shuffled)
            k = rng.randrange(1, (len(nodes) + 1) // 2) if len(nodes) > 2 else 1
            out += [(t, Partition((tuple(sorted(shuffled[:k])), tuple(sorted(shuffled[k:]))))),
                    (t + heal_after, Heal())]
        t += every
    return out
