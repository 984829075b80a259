"""Histories from the simulator: a correct single server passes, an async primary-backup fails."""
import pytest

from faultlab import nemesis
from faultlab.check import linearizable
from faultlab.check.activity import activity
from faultlab.check.models import ILLEGAL, get_model
from faultlab.protocols import single
from faultlab.protocols.kv import KVStore
from faultlab.workloads import kv_workload, register_workload

CRASHES = [(730, nemesis.Crash("n1")), (1000, nemesis.Restart("n1")),
           (2070, nemesis.Crash("leader")), (2500, nemesis.Restart("*"))]


def run(seed, model, broken=False, clients=4, stop=3000):
    workload = register_workload() if model == "register" else kv_workload()
    world = single.build(seed=seed, workload=workload, clients=clients, broken=broken, stop=stop)
    world.schedule(CRASHES)
    world.run(until=stop + 500)
    return world


@pytest.mark.parametrize("model", ["register", "kv"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_server_with_crashes_is_linearizable(seed, model):
    world = run(seed, model)
    ops = world.history.operations()
    counts = activity(world)
    assert (counts["crash"], counts["restart"]) == (2, 2), counts          # both scheduled crashes happened
    assert counts["info"] >= 4, "crashes should leave timed-out operations"
    assert counts["ok"] > 300
    r = linearizable(world.history, model, timeout=60)
    assert r.verdict == "ok", r.explanation
    assert_is_a_linearization(ops, model, r.evidence["order"])


def assert_is_a_linearization(ops, model, orders):
    """The order found, checked from scratch: every ok op once, real time kept, legal in the model."""
    model = get_model(model)
    placed = [i for order in orders.values() for i in order]
    assert len(placed) == len(set(placed))
    must = {i for i, o in enumerate(ops) if o.status == "ok"
            and model.prepare(o.f, o.value, "ok") is not None}
    assert must <= set(placed)
    assert all(ops[i].status != "fail" for i in placed)
    for key, order in orders.items():
        state = model.init
        for n, i in enumerate(order):
            op = ops[i]
            assert key is None or op.key == key
            for later in order[n + 1:]:       # nothing placed after i may have completed before i began
                done = ops[later].complete
                assert not (ops[later].status == "ok" and done.index < op.invoke.index)
            state = model.prepare(op.f, op.value if op.status == "ok" else op.invoke.value, op.status)(state)
            assert state is not ILLEGAL, f"#{i} {op.f} {op.value} is illegal at its place"


def test_single_server_cas_mismatch_fails_and_changes_nothing():
    data = {}
    store = KVStore(data)                   # the state machine SingleServer applies
    assert store.execute("write", None, 1) == ("ok", 1)
    assert store.execute("cas", None, [2, 3]) == ("fail", "cas failed: expected 2, found 1")
    assert store.execute("cas", None, [1, 3]) == ("ok", 3)
    assert store.execute("read", None, None) == ("ok", 3)
    assert store.execute("get", "k", None) == ("ok", "")


@pytest.mark.parametrize("model,seed", [("register", 4), ("kv", 0)])
def test_async_primary_backup_serves_stale_reads_after_failover(model, seed):
    world = run(seed, model, broken=True)
    takeover = [r.t for r in world.trace if r.kind == "note" and r.info["text"].startswith("primary silent")]
    assert takeover, "the backup should have taken over"
    r = linearizable(world.history, model, timeout=60)
    assert r.verdict == "violated", r.explanation
    ops = world.history.operations()
    stuck = ops[r.violations[0]["op"]]
    assert stuck.f in ("read", "get") and stuck.status == "ok"
    assert stuck.end >= takeover[0], "the stale read comes after a failover"
    assert r.violations[0]["op"] in r.violations[0]["window"]


def test_async_primary_backup_without_faults_is_linearizable():
    world = single.build(seed=4, broken=True, clients=4, stop=2000)
    world.run(until=2500)
    assert linearizable(world.history, "register").ok


def test_same_seed_same_verdict_and_evidence():
    a = linearizable(run(5, "register", broken=True).history, "register")
    b = linearizable(run(5, "register", broken=True).history, "register")
    assert a.verdict == b.verdict == "violated"
    assert a.explanation == b.explanation and a.evidence == b.evidence
