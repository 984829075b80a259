"""Raft under fire: 5 servers, 60 simulated seconds, a random nemesis, concurrent clients.

Prints the simulated message rate, client operations per second of wall time, the
verdict of the five Raft safety properties and of linearizability of the client
history. The last line is ``raft_60s_wall_s=<seconds>``: the wall time of the
simulation itself (checking is timed and printed separately).
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

from faultlab import kv_workload, nemesis
from faultlab.check import linearizable
from faultlab.check import raft as raft_check
from faultlab.protocols import raft


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds")
    args = ap.parse_args(argv)
    duration = args.seconds * 1000.0

    world = raft.build(5, seed=args.seed)
    world.set_loss(0.02)
    schedule = nemesis.random_schedule(world.nodes, duration, seed=args.seed, every=2000.0,
                                       heal_after=1000.0, kinds=nemesis.FAULT_KINDS)
    world.schedule(schedule)
    # a 1 s client timeout keeps unknown (info) outcomes few enough for an exact linearizability check
    world.add_clients(args.clients, kv_workload(keys=10), stop=duration, timeout=1000.0,
                      think=(0.0, 5.0))

    t0 = time.perf_counter()
    world.run(until=duration)
    wall = time.perf_counter() - t0

    kinds = Counter(r.kind for r in world.trace)
    outcomes = Counter(op.status for op in world.history.operations())
    ops = sum(outcomes.values())
    elections = sum(1 for r in world.trace if r.kind == "role" and r.info["role"] == "leader")
    print(f"5-node Raft, {args.seconds:g} simulated s, seed {args.seed}, {args.clients} clients, "
          f"{len(schedule) // 2} faults, {elections} leader elections")
    print(f"client operations: {ops} ({outcomes['ok']} ok, {outcomes['fail']} fail, "
          f"{outcomes['info']} unknown)")
    print(f"simulated messages per simulated second: {kinds['send'] / args.seconds:.0f} "
          f"({kinds['send']} sent, {kinds['drop']} dropped)")
    print(f"simulated messages per wall second: {kinds['send'] / wall:.0f}")
    print(f"operations per wall second: {ops / wall:.0f}")
    print(f"trace records: {len(world.trace)}")

    t1 = time.perf_counter()
    props = raft_check.check_all(world)
    t2 = time.perf_counter()
    lin = linearizable(world.history, "kv", timeout=120)
    t3 = time.perf_counter()
    print(f"five Raft properties: {props.verdict} ({t2 - t1:.2f} s) — {props.explanation}")
    print(f"linearizability (kv): {lin.verdict} ({t3 - t2:.2f} s)")
    print(f"raft_60s_wall_s={wall:.2f}")
    return 0 if props.verdict == "ok" and lin.verdict == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
