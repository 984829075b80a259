"""Randomized fault runs: many seeds, a random nemesis, concurrent clients; Raft must stay safe.

Each seed builds a cluster (3 or 5 servers, pre-vote on odd seeds), turns on message loss
(and duplication/reordering on some seeds), lets faultlab.nemesis.random_schedule crash,
restart, pause and partition servers (including whoever leads), and runs concurrent
register clients. Then the five Raft properties and linearizability of the client history
are checked. A failing seed is named in the test id, so it can be replayed exactly.
"""
import pytest

from faultlab import World, nemesis, register_workload
from faultlab.check import linearizable
from faultlab.check import raft as check
from faultlab.check.activity import activity, add
from faultlab.protocols import raft

DURATION = 2500.0


def fault_run(seed, duration=DURATION, clients=3, factory=raft.Raft):
    n = 3 if seed % 3 == 0 else 5
    world = World(seed=seed)
    world.add_nodes(n, lambda: factory(pre_vote=seed % 2 == 1))
    world.set_loss(0.05)
    if seed % 4 == 0:
        world.set_duplicate(0.05)
        world.set_reorder(0.1)
    world.schedule(nemesis.random_schedule(world.nodes, duration, seed=seed, every=450.0,
                                           heal_after=300.0, kinds=nemesis.FAULT_KINDS, start=300.0))
    world.add_clients(clients, register_workload(), stop=duration, timeout=200.0, think=(0.0, 20.0))
    world.run(until=duration + 300)
    return world


def assert_safe(world, duration=DURATION):
    """Safe, and with something to be safe about: faults were injected before ``duration``, clients
    got answers, and the checkers found data for every property (otherwise they say 'unknown')."""
    counts = activity(world, until=duration)
    assert counts["faults"] >= 3 and counts["ok"] >= 10 and counts["drops"].get("loss", 0) > 0, counts
    props = check.check_all(world)
    assert props.verdict == "ok", str(props)
    lin = linearizable(world.history, "register", timeout=20)
    assert lin.verdict == "ok", str(lin)


@pytest.mark.parametrize("seed", range(300))
def test_random_faults_never_break_safety(seed):
    assert_safe(fault_run(seed))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(300, 800))
def test_random_faults_never_break_safety_many_seeds(seed):
    assert_safe(fault_run(seed, duration=5000.0, clients=4), duration=5000.0)


def test_the_random_runs_really_inject_faults_and_make_progress():
    """Guard against a nemesis that silently does nothing: over a few seeds, every fault kind
    happens, leaders change, the network drops and duplicates, and clients still complete
    operations; and leader completeness really compared new leaders with committed entries."""
    totals, elections, compared = {}, 0, 0
    for seed in range(8):
        world = fault_run(seed)
        add(totals, activity(world, until=DURATION))
        elections += sum(1 for r in world.trace if r.kind == "role" and r.info["role"] == "leader")
        compared += check.leader_completeness(world).stats["checked"]
    assert min(totals[k] for k in ("crash", "restart", "pause", "resume", "partition", "heal")) >= 2, totals
    assert totals["drops"].get("loss", 0) >= 8 * 5 and totals["duplicates"] > 0, totals
    assert totals["ok"] > 400 and totals["info"] > 0, totals
    assert elections > 16 and compared > 100, (elections, compared)


class HastyRaft(raft.Raft):
    """Broken: a leader counts an entry committed as soon as it is in its own log."""

    def _leader_commit(self, ctx):
        if len(self.log) > self.commit_index:
            self._advance_commit(ctx, len(self.log))


class CarelessVoter(raft.Raft):
    """Broken: grants votes without the up-to-date check of §5.4.1."""

    def _log_ok(self, last_index, last_term):
        return True


@pytest.mark.parametrize("factory, seed, caught", [
    (HastyRaft, 1, {"leader completeness", "state-machine safety"}),
    (HastyRaft, 4, {"state-machine safety"}),
    (CarelessVoter, 4, {"leader completeness"}),
])
def test_the_same_runs_catch_broken_variants(factory, seed, caught):
    result = check.check_all(fault_run(seed, factory=factory))
    assert result.verdict == "violated"
    assert caught <= {v["check"] for v in result.violations}, result.explanation
