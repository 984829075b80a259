"""Randomized fault runs: fenced sync primary–backup never loses an acknowledged write nor
has two primaries accepting writes; async or naive failover does, for named seeds."""
import pytest

from faultlab.check import linearizable
from faultlab.check.activity import activity, add
from faultlab.scenarios.primary_backup import random_faults

SEEDS = 300
DURATION = 3000.0                  # random_faults' default: faults stop here, then the run settles
ASYNC_LOSES_WRITES_SEED = 0        # fenced + async: acknowledged writes lost in a failover
ASYNC_NOT_LINEARIZABLE_SEED = 11   # ... and a later read shows it: the history is not linearizable
NAIVE_LOSES_WRITES_SEED = 0        # naive + sync: a second primary overwrites acknowledged writes
NAIVE_SPLIT_BRAIN_SEED = 2         # naive + async: two primaries acknowledge writes at once


def _assert_safe(seeds, **network):
    """Every seed is safe *and* had something to be safe about: faults, failovers, acknowledged writes.

    Returns the totals over all seeds (faultlab.check.activity counts plus the checker's numbers).
    """
    seeds = list(seeds)
    bad, totals = {}, {}
    for seed in seeds:
        run = random_faults(seed=seed, mode="sync", policy="fenced", **network)
        if run.check.verdict != "ok":          # 'unknown' too: no acknowledged write, nothing tested
            bad[seed] = run.check.explanation
        counts = activity(run.world, until=DURATION)
        assert counts["faults"] >= 3 and counts["ok"] >= 20, (seed, counts)
        add(totals, dict(counts, acked=run.check.stats["acknowledged_writes"],
                         tenures=run.check.stats["tenures"]))
    assert not bad, f"unsafe seeds: {bad}"
    n = len(seeds)
    # every fault kind happened, primaries changed, clients saw timeouts, the network lost messages
    assert min(totals["crash"], totals["pause"], totals["partition"]) >= n // 4, totals
    assert totals["tenures"] >= 3 * n // 2 and totals["acked"] >= 50 * n and totals["info"] >= n, totals
    assert totals["drops"].get("loss", 0) >= 5 * n, totals
    return totals


def test_fenced_sync_is_safe_over_many_seeds():
    _assert_safe(range(SEEDS))


def test_fenced_sync_is_safe_with_duplication_and_reordering_too():
    totals = _assert_safe(range(100), loss=0.05, duplicate=0.1, reorder=0.2)
    assert totals["duplicates"] >= 100 * 10, totals


@pytest.mark.slow
def test_fenced_sync_is_safe_over_more_seeds():
    _assert_safe(range(SEEDS, 1500))


@pytest.mark.parametrize("seed", range(0, 100, 3))
def test_fenced_sync_client_histories_are_linearizable(seed):
    run = random_faults(seed=seed, mode="sync", policy="fenced")
    result = linearizable(run.world.history, "kv", timeout=30)
    assert result.verdict == "ok", result.explanation
    counts = activity(run.world, until=DURATION)
    assert counts["ok"] > 50 and counts["faults"] >= 3, counts


def test_fenced_async_loses_acknowledged_writes_for_a_named_seed():
    run = random_faults(seed=ASYNC_LOSES_WRITES_SEED, mode="async", policy="fenced")
    assert {v["check"] for v in run.check.violations} == {"lost-writes"}


def test_fenced_async_history_is_not_linearizable_for_a_named_seed():
    run = random_faults(seed=ASYNC_NOT_LINEARIZABLE_SEED, mode="async", policy="fenced")
    assert not run.check.ok
    assert linearizable(run.world.history, "kv", timeout=30).verdict == "violated"


def test_naive_sync_loses_acknowledged_writes_for_a_named_seed():
    run = random_faults(seed=NAIVE_LOSES_WRITES_SEED, mode="sync", policy="naive")
    assert "lost-writes" in {v["check"] for v in run.check.violations}


def test_naive_async_has_split_brain_for_a_named_seed():
    run = random_faults(seed=NAIVE_SPLIT_BRAIN_SEED, mode="async", policy="naive")
    sb = [v for v in run.check.violations if v["check"] == "split-brain"]
    assert sb and all(v["writes"][n] for v in sb for n in v["nodes"])
