"""2PC under a random nemesis: atomicity must hold for every seed, and nobody stays uncertain."""
import pytest

from faultlab.scenarios import commit as sc

KINDS = ("crash", "pause", "partition", "crash-leader", "pause-leader")


def run_seeds(seeds):
    totals = {"committed": 0, "aborted": 0, "faults": 0, "coordinator crashes": 0}
    for seed in seeds:
        run = sc.random_run("2pc", seed=seed, kinds=KINDS, loss=0.1)
        assert run.check.ok, f"seed {seed}: {run.check}"
        stuck = {p: s["still_uncertain"] for p, s in run.check.stats["participants"].items()
                 if s["still_uncertain"]}
        assert not stuck, f"seed {seed}: still uncertain after the faults stopped: {stuck}"
        totals["committed"] += run.check.stats["committed"]
        totals["aborted"] += run.check.stats["aborted"]
        totals["faults"] += sum(r.kind in ("crash", "pause", "partition") for r in run.world.trace)
        totals["coordinator crashes"] += sum(r.kind == "crash" and r.node == "co" for r in run.world.trace)
    return totals


def test_atomicity_over_300_seeds():
    totals = run_seeds(range(300))
    # the runs really did something: many transactions each way, many faults
    assert totals["committed"] > 1000 and totals["aborted"] > 1000, totals
    assert totals["faults"] > 1500 and totals["coordinator crashes"] > 200, totals


@pytest.mark.slow
def test_atomicity_over_2000_more_seeds():
    run_seeds(range(300, 2300))


def test_atomicity_with_duplicated_and_reordered_messages_too():
    from faultlab.check import commit
    from faultlab.protocols import two_phase
    for seed in range(60):
        w = two_phase.build(3, seed=seed, vote="random")
        w.set_duplicate(0.1)
        w.set_reorder(0.2, 30.0)
        w.add_clients(3, two_phase.txn_workload(), targets=["co"], stop=1500, timeout=300.0)
        w.schedule(sc.random_faults(w.nodes, 1500, seed=seed, kinds=KINDS, loss=0.1))
        w.run(until=1500)
        r = commit.check(w)
        assert r.ok, f"seed {seed}: {r}"
