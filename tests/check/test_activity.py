"""faultlab.check.activity counts exactly what a run exercised, so randomized tests can rely on it."""
from faultlab import nemesis
from faultlab.check.activity import activity, add
from faultlab.protocols import single


def scripted_run():
    w = single.build(seed=4, clients=2, stop=1500)
    w.schedule([(300, nemesis.Crash("n1")), (500, nemesis.Restart("n1")),
                (700, nemesis.Pause("n1")), (800, nemesis.Resume("n1"))])
    w.run(until=1800)
    return w


def test_faults_and_their_undoing_are_counted_one_by_one():
    counts = activity(scripted_run())
    assert {k: counts[k] for k in ("crash", "restart", "pause", "resume", "partition", "heal", "faults")} == \
        {"crash": 1, "restart": 1, "pause": 1, "resume": 1, "partition": 0, "heal": 0, "faults": 2}


def test_operations_are_counted_by_outcome_and_match_the_history():
    w = scripted_run()
    counts = activity(w)
    ops = w.history.operations()
    assert counts["ok"] + counts["fail"] + counts["info"] == len(ops) > 0
    assert counts["ok"] == sum(op.status == "ok" for op in ops) > 50
    assert counts["info"] >= 1                       # the crash left a client waiting
    assert counts["drops"].get("node down", 0) >= 1


def test_until_leaves_out_later_faults():
    w = scripted_run()
    assert activity(w, until=600)["faults"] == 1 and activity(w, until=600)["pause"] == 0


def test_lost_and_duplicated_messages_are_counted():
    w = single.build(seed=1, clients=2, stop=1000)
    w.set_loss(0.2)
    w.set_duplicate(0.3)
    w.run(until=1200)
    counts = activity(w)
    assert counts["drops"]["loss"] > 10 and counts["duplicates"] > 10
    assert counts["faults"] == 0


def test_add_sums_nested_counts():
    total = add({}, {"crash": 1, "drops": {"loss": 2}})
    assert add(total, {"crash": 2, "drops": {"loss": 1, "partition": 4}}) == \
        {"crash": 3, "drops": {"loss": 3, "partition": 4}}
