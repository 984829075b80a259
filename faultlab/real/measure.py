"""How long does recovery take? Time from a fault to a new leader and to the first write.

The clock starts right after the fault was injected; "new leader" is the first
status poll in which a *different* running node says it leads (etcd: and is
followed); "first write" is the first write that a client gets acknowledged,
retried in a tight loop from fresh connections to the surviving servers.
"""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

from ..rng import seeded_rng
from .workload import Definite, Indefinite, session


@dataclass(frozen=True)
class Failover:
    fault: str
    old_leader: str
    new_leader: str | None
    to_leader_s: float | None
    to_write_s: float | None


def measure_failover(cluster, fault="crash", timeout=30.0, recover=True, probe_timeout=0.5):
    """Inject ``fault`` ('crash', 'stop', 'pause', 'isolate') on the leader and time the recovery."""
    if fault not in ("crash", "stop", "pause", "isolate"):
        raise ValueError(f"fault must be 'crash', 'stop', 'pause' or 'isolate', got {fault!r}")
    cluster.wait_ready(timeout)
    old = cluster.leader()
    # connect clients before the fault, so connecting is not part of the measured time
    survivors = [n for n in cluster.nodes if n != old]
    writer = _Writer(cluster, survivors, probe_timeout)
    t0 = time.monotonic()
    getattr(cluster, fault)(old)
    writer.go(t0)
    new, to_leader = None, None
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        lead = cluster.leader()
        if lead is not None and lead != old:
            new, to_leader = lead, time.monotonic() - t0
            break
        time.sleep(0.02)
    to_write = writer.result(max(0.0, deadline - time.monotonic()))
    if recover:
        {"crash": cluster.restart, "stop": cluster.restart, "pause": cluster.resume,
         "isolate": lambda _n: cluster.heal()}[fault](old)
        cluster.wait_ready(60)
    return Failover(fault, old, new, to_leader, to_write)


class _Writer:
    """Keeps trying one write (new value each try) until one is acknowledged."""

    def __init__(self, cluster, nodes, timeout):
        self.cluster, self.timeout = cluster, timeout
        self.sessions = []
        for i, node in enumerate(nodes):
            if cluster.kind == "zookeeper":
                s = session(cluster, seeded_rng(i), timeout)
                s.zk.stop()
                s.zk.close()
                s.zk = cluster.client([node], timeout=4.0)
            else:
                s = session(cluster, seeded_rng(i), timeout)
                s.i = cluster.nodes.index(node)
            s.setup(["failover"])
            self.sessions.append(s)
        self.done = threading.Event()
        self.elapsed = None

    def go(self, t0):
        for i, s in enumerate(self.sessions):
            threading.Thread(target=self._loop, args=(s, t0, i), daemon=True).start()

    def _loop(self, s, t0, i):
        n = 0
        while not self.done.is_set() and time.monotonic() - t0 < 60:
            n += 1
            try:
                s.write("failover", n * 10 + i)
            except (Definite, Indefinite):
                time.sleep(0.01)
                continue
            if not self.done.is_set():
                self.elapsed = time.monotonic() - t0
                self.done.set()
            return

    def result(self, timeout):
        self.done.wait(timeout)
        self.done.set()
        for s in self.sessions:
            s.close()
        return self.elapsed


def summarize(values):
    """median / min / max of the measured values that are not None."""
    got = [v for v in values if v is not None]
    if not got:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(got), "min": min(got), "max": max(got), "n": len(got)}
