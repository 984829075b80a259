"""Simulator throughput against a bare-SimPy ceiling, measured in the same run.

(a) the ceiling: a ring of messages in bare SimPy, written the way SimPy
    models are written: one process per node, a Store as its inbox, a timeout
    per hop for the link delay; no tracing, no network model. For reference
    the script also measures a scheduler-only ring (a bare timeout callback per
    hop, no processes), the lowest cost SimPy can go to, and prints that ratio too;
(b) faultlab: a 5-node all-to-all heartbeat world with tracing on, random
    latency, loss checks, node hosting and a failure detector.
Both report delivered messages per wall-clock second. The last line is
``sim_vs_simpy_ratio=<b/a>``.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

import simpy

from faultlab import World
from faultlab.protocols import Heartbeat


def bare_simpy_ring(messages, nodes=5, tokens=20):
    """Idiomatic SimPy: node processes passing tokens through Store inboxes."""
    env = simpy.Environment()
    rng = random.Random(0)
    inbox = [simpy.Store(env) for _ in range(nodes)]
    delivered = 0

    def node(i):
        nonlocal delivered
        while True:
            msg = yield inbox[i].get()
            delivered += 1
            if delivered >= messages:
                return
            yield env.timeout(rng.uniform(1.0, 5.0))
            inbox[(i + 1) % nodes].put(msg)

    for i in range(nodes):
        env.process(node(i))
    for t in range(tokens):
        inbox[t % nodes].put(t)
    t0 = time.perf_counter()
    env.run()
    return delivered / (time.perf_counter() - t0), delivered


def scheduler_only_ring(messages, nodes=5, tokens=20):
    """The floor of SimPy's cost per message: one timeout and one callback per hop."""
    env = simpy.Environment()
    rng = random.Random(0)
    delivered = 0

    def hop(ev):
        nonlocal delivered
        delivered += 1
        if delivered < messages:
            nxt = env.timeout(rng.uniform(1.0, 5.0), (ev.value + 1) % nodes)
            nxt.callbacks.append(hop)

    for i in range(tokens):
        env.timeout(rng.uniform(1.0, 5.0), i % nodes).callbacks.append(hop)
    t0 = time.perf_counter()
    env.run()
    return delivered / (time.perf_counter() - t0), delivered


def faultlab_heartbeats(sim_ms):
    w = World(seed=1, latency=(1.0, 5.0))
    w.add_nodes(5, lambda: Heartbeat(interval=10.0, timeout=50.0))
    t0 = time.perf_counter()
    w.run(until=sim_ms)
    wall = time.perf_counter() - t0
    delivered = sum(1 for r in w.trace if r.kind == "deliver")
    return delivered / wall, delivered, len(w.trace)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim-ms", type=float, default=20_000.0, help="simulated ms of heartbeats")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ring, floor, fl = [], [], []
    for _ in range(args.repeat):
        rate_b, delivered, records = faultlab_heartbeats(args.sim_ms)
        ring.append(bare_simpy_ring(delivered)[0])
        floor.append(scheduler_only_ring(delivered)[0])
        fl.append(rate_b)
    a, f, b = statistics.median(ring), statistics.median(floor), statistics.median(fl)
    print(f"bare SimPy ring (processes + stores): {a:12,.0f} messages/s (median of {args.repeat})")
    print(f"SimPy scheduler-only ring:            {f:12,.0f} messages/s")
    print(f"faultlab 5-node heartbeats, traced:   {b:12,.0f} messages/s ({delivered:,} delivered, "
          f"{records:,} trace records per run)")
    print(f"faultlab vs scheduler-only ring: {b / f:.3f}")
    print(f"sim_vs_simpy_ratio={b / a:.3f}")


if __name__ == "__main__":
    main()
