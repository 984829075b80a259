"""3PC under random faults: safe under crashes (crash-stop + recovery), unsafe under partitions."""
import pytest

from faultlab.check.activity import activity, add
from faultlab.scenarios import commit as sc

CRASHES = ("crash", "crash-leader")
DURATION = 1500.0              # random_run's default: faults stop here, then the run settles
UNSAFE_PARTITION_SEED = 4      # random_run("3pc", seed=4, kinds=("partition",)) splits a transaction


def run_crash_seeds(seeds):
    """Every seed atomic, and the runs really did something: crashes (of the coordinator too),
    transactions committed and aborted, operations that timed out while nodes were down."""
    seeds = list(seeds)
    totals = {}
    for seed in seeds:
        run = sc.random_run("3pc", seed=seed, kinds=CRASHES, loss=0.0)
        assert run.check.verdict == "ok", f"seed {seed}: {run.check}"
        counts = activity(run.world, until=DURATION)
        assert counts["crash"] >= 3 and counts["pause"] == counts["partition"] == 0, (seed, counts)
        add(totals, dict(counts, committed=run.check.stats["committed"], aborted=run.check.stats["aborted"],
                         coordinator_crashes=sum(r.kind == "crash" and r.node == "co" and r.t <= DURATION
                                                 for r in run.world.trace)))
    n = len(seeds)
    assert totals["committed"] > 3 * n and totals["aborted"] > 10 * n, totals
    assert totals["crash"] >= 4 * n and totals["coordinator_crashes"] >= n, totals
    assert totals["info"] >= n // 2, totals
    return totals


def test_atomicity_under_crashes_over_100_seeds():
    run_crash_seeds(range(100))


@pytest.mark.slow
def test_atomicity_under_crashes_over_500_more_seeds():
    run_crash_seeds(range(100, 600))


def test_a_partition_breaks_3pc_for_the_named_seed():
    run = sc.random_run("3pc", seed=UNSAFE_PARTITION_SEED, kinds=("partition",), loss=0.0)
    assert run.check.verdict == "violated", run.check
    v = run.check.violations[0]
    assert v["kind"] == "atomicity" and v["committed"] and v["aborted"]
    txn = v["txn"]
    # a partition split the cluster while that transaction was being decided
    times = [r.t for r in run.world.trace if r.kind == "note" and r.info.get("txn") == txn]
    assert any(r.kind == "partition" and min(times) <= r.t <= max(times) for r in run.world.trace)
    # and the same seed under crashes only stays atomic
    assert sc.random_run("3pc", seed=UNSAFE_PARTITION_SEED, kinds=CRASHES, loss=0.0).check.ok
