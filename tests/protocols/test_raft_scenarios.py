"""Raft scenarios on the simulated World, in the spirit of the well-known Raft lab test suites."""
import pytest

from faultlab import kv_workload, register_workload
from faultlab.check import linearizable
from faultlab.check import raft as check
from faultlab.check.activity import activity
from faultlab.protocols import raft
from faultlab.protocols.raft_messages import AppendReply


def state(world, node):
    return next(s for s in world.status() if s["node"] == node)


def leaders(world):
    return [s["node"] for s in world.status() if s["state"] == "up" and s["role"] == "leader"]


def committed(world, node):
    s = state(world, node)
    return s["log"][:s["commit_index"]]


def oks(world, since=0.0):
    return [op for op in world.history.operations() if op.status == "ok" and op.start >= since]


def assert_safe(world):
    """The five properties hold (with data for each); and what clients saw, if any ran, is linearizable."""
    result = check.check_all(world)
    assert result.verdict == "ok", str(result)
    ops = world.history.operations()
    fs = {op.f for op in ops}
    lin = linearizable(world.history, "kv" if fs & {"get", "put", "append"} else "register", timeout=30)
    if ops:
        assert lin.verdict == "ok", str(lin)
    else:                                     # no clients: no history, and the checker says so
        assert lin.verdict == "unknown" and lin.evidence["missing"] == "completed operations"


@pytest.mark.parametrize("seed", range(4))
def test_initial_election(seed):
    world = raft.build(3, seed=seed)
    world.run(until=1000)
    (leader,) = leaders(world)
    terms = {s["term"] for s in world.status()}
    assert len(terms) == 1
    world.run(until=4000)                     # no faults: no new elections
    assert leaders(world) == [leader] and {s["term"] for s in world.status()} == terms
    assert_safe(world)


def test_re_election_after_leader_crash():
    world = raft.build(3, seed=1)
    world.run(until=1000)
    old = world.leader()
    world.crash(old)
    world.run(until=2000)
    new = world.leader()
    assert new not in (None, old)
    world.restart(old)                        # the old leader comes back as a follower
    world.run(until=3000)
    assert leaders(world) == [new] and state(world, old)["role"] == "follower"
    assert state(world, old)["term"] == state(world, new)["term"]
    assert_safe(world)


def test_no_leader_without_a_majority():
    world = raft.build(5, seed=2)
    world.run(until=1000)
    old = world.leader()
    down = [old] + [n for n in world.nodes if n != old][:2]
    for n in down:
        world.crash(n)
    term_before = max(s["term"] or 0 for s in world.status())
    world.run(until=4000)
    assert leaders(world) == []
    assert max(s["term"] or 0 for s in world.status()) > term_before   # they kept trying
    world.restart(down[1])
    world.run(until=5500)
    assert len(leaders(world)) == 1
    assert_safe(world)


def test_agreement_despite_follower_failure():
    world = raft.build(3, seed=4)
    world.run(until=1000)
    leader = world.leader()
    follower = next(n for n in world.nodes if n != leader)
    world.crash(follower)
    world.add_clients(2, kv_workload(), targets=[leader], stop=3000)
    world.run(until=3200)
    assert len(oks(world)) > 50
    alive = [n for n in world.nodes if n != follower]
    assert committed(world, alive[0]) == committed(world, alive[1])[:len(committed(world, alive[0]))]
    world.restart(follower)
    world.run(until=4000)
    assert committed(world, follower) == committed(world, leader)
    assert len(committed(world, leader)) > 50
    assert_safe(world)


def test_no_agreement_without_a_majority():
    world = raft.build(5, seed=5)
    world.run(until=1000)
    leader = world.leader()
    down = [n for n in world.nodes if n != leader][:3]
    for n in down:
        world.crash(n)
    commit_before = state(world, leader)["commit_index"]
    world.add_clients(1, register_workload(), targets=[leader], stop=2500, timeout=200)
    world.run(until=2600)
    assert oks(world) == [] and {op.status for op in world.history.operations()} == {"info"}
    assert state(world, leader)["commit_index"] == commit_before
    assert len(state(world, leader)["log"]) > commit_before            # appended, not committed
    for n in down:
        world.restart(n)
    world.add_clients(1, register_workload(), stop=4000, timeout=200)     # a majority again: progress
    world.run(until=4200)
    assert state(world, world.leader())["commit_index"] > commit_before
    assert len(oks(world, since=2600)) > 20
    assert_safe(world)


def test_rejoin_of_a_partitioned_leader():
    world = raft.build(3, seed=6)
    world.run(until=1000)
    old = world.leader()
    rest = [n for n in world.nodes if n != old]
    world.partition([old], rest)
    world.add_clients(1, register_workload(), targets=[old], stop=2000, timeout=150)
    world.run(until=2000)
    stale = state(world, old)
    assert stale["role"] == "leader" and len(stale["log"]) > stale["commit_index"]
    new = next(n for n in leaders(world) if n != old)
    world.add_clients(1, register_workload(), targets=[new], stop=3000, timeout=150)
    world.heal()
    world.run(until=3500)
    assert leaders(world) == [new] and state(world, old)["role"] == "follower"
    assert state(world, old)["log"] == state(world, new)["log"]          # stale entries replaced
    assert_safe(world)


def test_fast_log_backup_over_many_conflicting_entries():
    """A stale leader and its follower pile up entries the majority never saw; the majority's
    leader changes so that it knows nothing about them; after healing, the fast-backup hints
    bring both in line in a few round trips, not one per conflicting entry."""
    world = raft.build(5, seed=7)
    world.run(until=1000)
    old = world.leader()
    rest = [n for n in world.nodes if n != old]
    buddy = rest[0]
    world.partition([old, buddy], rest[1:])
    world.add_clients(6, kv_workload(), targets=[old], stop=2500, timeout=100, think=(0, 1))
    world.run(until=2700)
    # one client group at a time: simulated clients of separate add_clients calls share process ids
    world.add_clients(3, kv_workload(), targets=rest[1:], stop=3500, timeout=100, think=(0, 1))
    world.run(until=3700)
    world.crash(next(n for n in leaders(world) if n != old))     # its successor starts afresh
    world.run(until=4200)
    conflicting = len(state(world, buddy)["log"]) - state(world, buddy)["commit_index"]
    assert conflicting >= 80
    heal_at = len(world.trace)
    world.heal()
    world.run(until=5000)
    new = next(n for n in leaders(world) if n != old)
    assert state(world, buddy)["log"] == state(world, old)["log"] == state(world, new)["log"]
    rejections = [r.info["msg"] for r in world.trace[heal_at:] if r.kind == "send"
                  and r.node in (old, buddy) and r.info["dst"] == new
                  and isinstance(r.info["msg"], AppendReply) and not r.info["msg"].success]
    assert any(m.conflict_term is not None for m in rejections)      # a whole term skipped
    assert 0 < len(rejections) <= 4, rejections      # two round trips each, not one per entry
    assert_safe(world)


def test_persistence_across_crashes_of_every_server():
    world = raft.build(3, seed=8)
    world.add_clients(1, kv_workload(keys=1), stop=1500, timeout=300)
    world.run(until=2000)
    puts = [op for op in oks(world) if op.f in ("put", "append")]
    assert puts
    logs = {n: state(world, n)["log"] for n in world.nodes}
    terms = {n: state(world, n)["term"] for n in world.nodes}
    for n in world.nodes:
        world.crash(n)
    world.run(until=2500)
    for n in world.nodes:
        world.restart(n)
    for n in world.nodes:
        s = state(world, n)
        assert s["log"] == logs[n] and s["term"] == terms[n] and s["commit_index"] == 0
    world.run(until=3500)
    leader = world.leader()
    kv = world.node(leader).kv.data
    expected = ""
    for op in puts:                            # one client: its ok writes happened in order
        expected = op.value if op.f == "put" else expected + op.value
    assert kv["k0"] == expected
    assert_safe(world)


def test_unreliable_network_with_churn():
    world = raft.build(5, seed=9)
    world.set_loss(0.1)
    world.set_duplicate(0.1)
    world.set_reorder(0.2)
    from faultlab import nemesis
    world.schedule(nemesis.random_schedule(world.nodes, 6000, seed=9, every=500, heal_after=300,
                                           kinds=("crash", "pause", "partition", "crash-leader")))
    world.add_clients(4, register_workload(), stop=8000, timeout=300)
    world.at(6000, world.set_loss, 0.0)
    world.run(until=8500)
    assert len(oks(world, since=6500)) > 20                   # it recovers and makes progress
    churn = activity(world, until=6000)
    assert churn["crash"] >= 3 and churn["pause"] + churn["partition"] >= 3, churn
    assert churn["drops"]["loss"] > 100 and churn["duplicates"] > 100 and churn["info"] > 10, churn
    assert_safe(world)


def test_same_seed_same_trace():
    def run():
        world = raft.build(5, seed=11)
        world.add_clients(2, register_workload(), stop=1500)
        world.schedule([(700, __import__("faultlab").nemesis.Crash("leader"))])
        world.run(until=2000)
        return world.trace_digest()
    assert run() == run()


@pytest.mark.parametrize("pre_vote", [False, True])
def test_pre_vote_keeps_a_rejoining_server_from_deposing_the_leader(pre_vote):
    """A follower cut off for a while keeps timing out. Without pre-vote each timeout raises its
    term, and when it rejoins its higher term deposes a perfectly healthy leader; with pre-vote it
    never wins a pre-vote round while cut off, so its term stays and the leader stays."""
    world = raft.build(5, seed=12, pre_vote=pre_vote)
    world.run(until=1000)
    leader, term = world.leader(), state(world, world.leader())["term"]
    loner = next(n for n in world.nodes if n != leader)
    world.isolate(loner)
    world.run(until=3000)
    world.heal()
    world.run(until=4000)
    if pre_vote:
        assert state(world, loner)["term"] == term
        assert world.leader() == leader and state(world, leader)["term"] == term
    else:
        assert state(world, leader)["term"] > term + 3          # the whole cluster was dragged up
    assert len(leaders(world)) == 1
    assert_safe(world)
