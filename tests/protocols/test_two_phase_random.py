"""2PC under a random nemesis: atomicity must hold for every seed, and nobody stays uncertain."""
import pytest

from faultlab.check.activity import activity, add
from faultlab.scenarios import commit as sc

KINDS = ("crash", "pause", "partition", "crash-leader", "pause-leader")
DURATION = 1500.0                  # random_run's default: faults stop here, then the run settles


def run_seeds(seeds):
    """Every seed atomic, nobody left uncertain, and the runs really did something: many
    transactions each way, every fault kind, coordinator crashes, lost messages."""
    seeds = list(seeds)
    totals = {}
    for seed in seeds:
        run = sc.random_run("2pc", seed=seed, kinds=KINDS, loss=0.1)
        assert run.check.verdict == "ok", f"seed {seed}: {run.check}"
        stuck = {p: s["still_uncertain"] for p, s in run.check.stats["participants"].items()
                 if s["still_uncertain"]}
        assert not stuck, f"seed {seed}: still uncertain after the faults stopped: {stuck}"
        counts = activity(run.world, until=DURATION)
        assert counts["faults"] >= 3, (seed, counts)
        add(totals, dict(counts, committed=run.check.stats["committed"], aborted=run.check.stats["aborted"],
                         coordinator_crashes=sum(r.kind == "crash" and r.node == "co" and r.t <= DURATION
                                                 for r in run.world.trace)))
    n = len(seeds)
    assert totals["committed"] > 3 * n and totals["aborted"] > 3 * n, totals
    assert totals["faults"] > 4 * n and totals["coordinator_crashes"] > n // 2, totals
    assert min(totals["crash"], totals["pause"], totals["partition"]) >= n, totals
    assert totals["drops"].get("loss", 0) >= n, totals
    return totals


def test_atomicity_over_300_seeds():
    run_seeds(range(300))


@pytest.mark.slow
def test_atomicity_over_2000_more_seeds():
    run_seeds(range(300, 2300))


def test_atomicity_with_duplicated_and_reordered_messages_too():
    from faultlab.check import commit
    from faultlab.protocols import two_phase
    totals = {}
    for seed in range(60):
        w = two_phase.build(3, seed=seed, vote="random")
        w.set_duplicate(0.1)
        w.set_reorder(0.2, 30.0)
        w.add_clients(3, two_phase.txn_workload(), targets=["co"], stop=1500, timeout=300.0)
        w.schedule(sc.random_faults(w.nodes, 1500, seed=seed, kinds=KINDS, loss=0.1))
        w.run(until=1500)
        r = commit.check(w)
        assert r.verdict == "ok", f"seed {seed}: {r}"
        add(totals, dict(activity(w), committed=r.stats["committed"], aborted=r.stats["aborted"]))
    assert totals["duplicates"] >= 60 * 5 and totals["faults"] >= 60 * 3, totals
    assert totals["committed"] > 60 and totals["aborted"] > 60, totals
