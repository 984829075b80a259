"""3PC under random faults: safe under crashes (crash-stop + recovery), unsafe under partitions."""
import pytest

from faultlab.scenarios import commit as sc

CRASHES = ("crash", "crash-leader")
UNSAFE_PARTITION_SEED = 4      # random_run("3pc", seed=4, kinds=("partition",)) splits a transaction


def run_crash_seeds(seeds):
    committed = 0
    for seed in seeds:
        run = sc.random_run("3pc", seed=seed, kinds=CRASHES, loss=0.0)
        assert run.check.ok, f"seed {seed}: {run.check}"
        committed += run.check.stats["committed"]
    return committed


def test_atomicity_under_crashes_over_100_seeds():
    assert run_crash_seeds(range(100)) > 300


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
