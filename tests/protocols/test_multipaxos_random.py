"""Randomized fault runs: Multi-Paxos never chooses two values for a slot, learners never
disagree, and client histories stay linearizable, under crashes, pauses, partitions and loss."""
import os
import subprocess
import sys

import pytest

from faultlab import nemesis
from faultlab.check import linearizable
from faultlab.check import paxos as check_paxos
from faultlab.check.activity import activity, add
from faultlab.protocols import multipaxos as mp

SEEDS = 300


def faulty_run(seed, duration=2000.0, loss=0.02, duplicate=0.0, reorder=0.0, n=3):
    w = mp.build(n, seed=seed, clients=3, client_timeout=200.0, stop=duration)
    w.set_loss(loss)
    w.set_duplicate(duplicate)
    w.set_reorder(reorder, extra_delay=30.0)
    w.schedule(nemesis.random_schedule(w.nodes, duration, seed=seed, every=500, heal_after=350,
                                       kinds=("crash", "pause", "partition")))
    w.run(until=duration)
    w.set_loss(0.0)
    w.heal()
    for node in w.nodes:
        w.resume(node), w.restart(node)
    w.run(until=duration + 1000)
    return w


def _assert_safe(seeds, duration=2000.0, **network):
    """Every seed is safe *and* had something to be safe about: faults, client answers, decided slots.

    Returns the totals over all seeds (faultlab.check.activity counts plus decided slots).
    """
    seeds = list(seeds)
    bad, totals = {}, {}
    for seed in seeds:
        w = faulty_run(seed, duration=duration, **network)
        result = check_paxos.check(w)
        if result.verdict != "ok":            # 'unknown' too: a seed that decided nothing tested nothing
            bad[seed] = result.explanation
        counts = activity(w, until=duration)
        assert counts["faults"] >= 3 and counts["ok"] >= 5, (seed, counts)
        add(totals, dict(counts, slots=result.stats["slots_chosen"]))
    assert not bad, f"unsafe seeds: {bad}"
    n = len(seeds)
    # every fault kind happened, the clients felt it (timeouts), the network lost messages,
    # and many slots were decided
    assert min(totals["crash"], totals["pause"], totals["partition"]) >= n // 4, totals
    assert totals["info"] >= n and totals["ok"] >= 50 * n and totals["slots"] >= 50 * n, totals
    assert totals["drops"].get("loss", 0) >= 5 * n, totals
    return totals


def test_multipaxos_is_safe_over_many_seeds():
    _assert_safe(range(SEEDS))


def test_multipaxos_is_safe_with_duplication_reordering_and_five_nodes():
    totals = _assert_safe(range(60), loss=0.05, duplicate=0.1, reorder=0.2, n=5)
    assert totals["duplicates"] >= 60 * 10, totals


@pytest.mark.slow
def test_multipaxos_is_safe_over_more_seeds():
    _assert_safe(range(SEEDS, 1200))


@pytest.mark.parametrize("seed", range(0, 100, 4))
def test_multipaxos_client_histories_are_linearizable_and_progress(seed):
    w = faulty_run(seed)
    result = linearizable(w.history, "kv", timeout=30)
    assert result.verdict == "ok", result.explanation
    counts = activity(w, until=2000.0)
    assert counts["ok"] > 20 and counts["faults"] >= 3, counts
    logs = [mp.log_of(w, n) for n in w.nodes]
    shortest = min(len(log) for log in logs)
    assert shortest > 0 and all(log[:shortest] == logs[0][:shortest] for log in logs)


SCRIPT = """
from faultlab.scenarios.primary_backup import random_faults
from faultlab.protocols import paxos
import sys
sys.path.insert(0, {here!r})
from test_multipaxos_random import faulty_run
print(faulty_run(7).trace_digest(), random_faults(seed=7).world.trace_digest(),
      paxos.dueling("backoff").trace_digest())
"""


def test_same_seed_same_trace_whatever_the_hash_seed():
    here = os.path.dirname(os.path.abspath(__file__))

    def digests(hashseed):
        env = dict(os.environ, PYTHONHASHSEED=str(hashseed))
        out = subprocess.run([sys.executable, "-c", SCRIPT.format(here=here)], env=env,
                             capture_output=True, text=True, check=True)
        return out.stdout.split()

    a, b = digests(0), digests(4321)
    assert a == b and len(a) == 3
