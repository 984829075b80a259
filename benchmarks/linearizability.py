"""How long the linearizability checker takes on simulated histories of growing size.

Histories come from the simulator: a single durable server (linearizable, so the
search has to find a full linearization) with several concurrent clients, and
the server crashed for a while every ``--crash-every`` ms so timed-out (info)
operations pile up. Register histories are one object; key-value histories are
checked key by key. One broken run (async primary-backup) shows the time to
find a violation. The last line is ``kv_10k_ops_check_s=<seconds>``.
"""
from __future__ import annotations

import argparse
import time

from faultlab import nemesis
from faultlab.check import linearizable
from faultlab.history import History
from faultlab.protocols import single
from faultlab.workloads import kv_workload, register_workload


def simulated_history(model, n_ops, seed=0, clients=5, crash_every=1000.0, down=250.0, broken=False,
                      values=5):
    """The first ``n_ops`` operations of a run with a crash of the primary every ``crash_every`` ms."""
    workload = register_workload(values=values) if model == "register" else kv_workload(values=values)
    world = single.build(seed=seed, workload=workload, clients=clients, broken=broken)
    t, horizon = 0.0, 0.0
    while sum(ev.type == "invoke" for ev in world.history) < n_ops:
        horizon += 2000.0
        while t + crash_every + down <= horizon:
            t += crash_every
            world.schedule([(t, nemesis.Crash("leader")), (t + down, nemesis.Restart("*"))])
        world.run(until=horizon)
    return first_operations(world.history, n_ops)


def first_operations(history, n_ops):
    """The history up to its ``n_ops``-th invocation (a prefix: later completions become pending)."""
    out, invoked = History(), 0
    for ev in history:
        if ev.type == "invoke":
            if invoked == n_ops:
                break
            invoked += 1
        out.append(ev.type, ev.process, ev.f, ev.value, ev.key, ev.time, ev.error)
    return out


def measure(model, n_ops, seed=0, broken=False, timeout=600.0, values=5):
    history = simulated_history(model, n_ops, seed=seed, broken=broken, values=values)
    ops = history.operations()
    start = time.perf_counter()
    result = linearizable(history, model, timeout=timeout)
    seconds = time.perf_counter() - start
    info = sum(o.status == "info" for o in ops)
    print(f"{model:8s} {len(ops):6d} ops {info:4d} info  {result.verdict:8s} "
          f"{seconds:8.3f} s  {result.stats['configurations']:7d} configurations", flush=True)
    return seconds, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000,10000",
                        help="comma-separated history sizes in operations")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print("check time per history size, single server with crashes (info = timed-out operations, "
          "configurations = dead ends the search explored):")
    times = {}
    for model in ("register", "kv"):
        for n in sizes:
            times[model, n], _ = measure(model, n, seed=args.seed)
    # with 5 values a stale read is often explained by some timed-out write of the same value;
    # 100 values make stale reads stand out
    print("finding a violation (async primary-backup, stale reads after failover, 100 values, "
          "60 s limit):")
    for model in ("register", "kv"):
        for n in sizes[1:]:
            measure(model, n, seed=args.seed, broken=True, timeout=60.0, values=100)
    small, big = min(sizes), max(sizes)
    print(f"growth of check time from {small} to {big} ops ({big / small:g}x the operations): "
          + ", ".join(f"{m} {times[m, big] / max(times[m, small], 1e-6):.0f}x" for m in ("register", "kv")))
    name = "kv_10k_ops_check_s" if big == 10000 else f"kv_{big}_ops_check_s"
    print(f"{name}={times['kv', big]:.3f}")


if __name__ == "__main__":
    main()
