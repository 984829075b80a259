"""Real ZooKeeper and etcd: start-to-ready time and leader-kill failover times.

    python benchmarks/real_clusters.py [--reps 10]

For each 3-node cluster: the time from starting the servers to a quorum
answering (over --starts fresh clusters), then --reps times: SIGKILL the
leader, time until another node leads (status polls every 20 ms) and until a
client write is acknowledged, restart the old leader and let it rejoin. Prints
median / min / max; the last line is machine-readable.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from faultlab.real import EtcdCluster, ZooKeeperEnsemble, measure_failover  # noqa: E402
from faultlab.real.measure import summarize  # noqa: E402


def fmt(s):
    if s["n"] == 0:
        return "no data"
    return f"median {s['median']:.3f} s  min {s['min']:.3f} s  max {s['max']:.3f} s  (n={s['n']})"


def bench(cls, reps, starts):
    ready = []
    for _ in range(starts - 1):
        t = time.monotonic()
        with cls(n=3):
            ready.append(time.monotonic() - t)
    t = time.monotonic()
    cluster = cls(n=3)
    ready.append(time.monotonic() - t)
    with cluster:
        runs = [measure_failover(cluster, "crash") for _ in range(reps)]
    lead = summarize([r.to_leader_s for r in runs])
    write = summarize([r.to_write_s for r in runs])
    print(f"{cls.kind} (network={cluster.network})")
    print(f"  start -> ready         {fmt(summarize(ready))}")
    print(f"  leader kill -> leader  {fmt(lead)}")
    print(f"  leader kill -> write   {fmt(write)}")
    missing = sum(r.new_leader is None for r in runs)
    if missing:
        print(f"  {missing} of {reps} runs saw no new leader within 30 s")
    return lead["median"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="leader kills per cluster (default 10)")
    ap.add_argument("--starts", type=int, default=3, help="fresh starts timed per cluster (default 3)")
    args = ap.parse_args(argv)
    if args.reps < 1 or args.starts < 1:
        ap.error("--reps and --starts must be at least 1")
    zk = bench(ZooKeeperEnsemble, args.reps, args.starts)
    etcd = bench(EtcdCluster, args.reps, args.starts)
    ratio = etcd / zk if zk and etcd else float("nan")
    print(f"etcd/ZooKeeper failover ratio: {ratio:.2f}")
    print(f"zk_failover_median_s={zk:.3f} etcd_failover_median_s={etcd:.3f}")


if __name__ == "__main__":
    main()
