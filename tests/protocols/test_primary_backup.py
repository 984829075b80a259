"""Primary–backup replication: hand-stepped rules, scripted failovers, bad input."""
import pytest

from faultlab import ConfigError, Harness
from faultlab.check import primary_backup as check_pb
from faultlab.protocols import primary_backup as pb
from faultlab.protocols.primary_backup import (Grant, PrimaryBackup, Promote, Refuse, Replicate,
                                               ReplicateAck)
from faultlab.scenarios import primary_backup as scenarios
from faultlab.workloads import Op

NAMES = ["n1", "n2", "n3"]


def harness(**options):
    return Harness(lambda: PrimaryBackup(**options), names=NAMES)


def put(i, key="k", value="v"):
    return Op(i, "c1", 0, "put", key, value)


def ack_all(h, src="n1"):
    """Deliver the primary's pending log messages to the backups and their acks back."""
    for _, dst, msg in h.take(src=src, kind="Replicate"):
        h.deliver(dst, src, msg)
    for b, dst, msg in h.take(dst=src, kind="ReplicateAck"):
        h.deliver(dst, b, msg)


# -- roles and replication ------------------------------------------------------

def test_first_node_starts_as_primary_of_epoch_1_the_others_as_backups():
    h = harness()
    assert h.roles == {"n1": ("primary", 1), "n2": ("backup", 1), "n3": ("backup", 1)}
    assert h.nodes["n2"].primary == "n1"


def test_sync_primary_acknowledges_a_write_only_after_every_live_backup_holds_it():
    h = harness(mode="sync")
    h.fire("n1", "beat")
    ack_all(h)                                   # lease from a heartbeat round
    h.request("n1", put(1))
    assert h.replies == []
    sent = h.take(src="n1", kind="Replicate")
    h.deliver("n2", "n1", [m for _, d, m in sent if d == "n2"][0])
    h.deliver("n1", "n2", h.take(src="n2")[0][2])
    assert h.replies == []                       # n3 is live and has not acked yet
    h.deliver("n3", "n1", [m for _, d, m in sent if d == "n3"][0])
    h.deliver("n1", "n3", h.take(src="n3")[0][2])
    assert h.replies == [("n1", put(1), "ok", "v")]
    assert [e.op for e in h.storage["n3"]["log"]] == [1]


def test_sync_primary_stops_waiting_for_a_backup_it_no_longer_hears():
    h = harness(mode="sync", policy="naive")
    h.request("n1", put(1))
    h.take()
    h.now = 300                                  # > timeout: both backups are suspected
    h.fire("n1", "beat")
    assert h.replies == [("n1", put(1), "ok", "v")]


def test_semi_sync_primary_acknowledges_once_the_configured_number_of_backups_hold_it():
    h = Harness(lambda: PrimaryBackup(mode="sync", policy="naive", sync_acks=1), names=NAMES)
    h.request("n1", put(1))
    sent = h.take(src="n1", kind="Replicate")
    h.deliver("n3", "n1", [m for _, d, m in sent if d == "n3"][0])
    assert h.replies == []
    h.deliver("n1", "n3", h.take(src="n3")[0][2])
    assert h.replies == [("n1", put(1), "ok", "v")]          # n2 has not got it, and need not


def test_async_primary_acknowledges_at_once_and_ships_with_the_next_heartbeat():
    h = harness(mode="async")
    h.fire("n1", "beat")
    ack_all(h)
    h.request("n1", put(1))
    assert h.replies == [("n1", put(1), "ok", "v")]
    assert h.take(src="n1") == []                # nothing sent yet: the write lives on n1 only
    h.fire("n1", "beat")
    ack_all(h)
    assert [e.op for e in h.storage["n2"]["log"]] == [1]


def test_backup_refuses_client_operations_and_names_the_primary():
    h = harness()
    h.request("n2", put(1))
    assert h.replies == [("n2", put(1), "fail", "not the primary")]


def test_unknown_client_operation_fails_with_the_known_ones():
    h = harness()
    h.request("n1", Op(1, "c1", 0, "incr", "k", 1))
    (_, _, status, error), = h.replies
    assert status == "fail" and "unknown operation 'incr'" in error and "append" in error


def test_a_malformed_value_fails_before_it_reaches_the_log():
    h = harness()
    h.request("n1", Op(1, "c1", 0, "append", "k", 7))
    (_, _, status, error), = h.replies
    assert status == "fail" and "append needs a string value, got 7" in error
    assert h.storage["n1"]["log"] == []


# -- failover -----------------------------------------------------------------

def test_naive_backup_promotes_itself_when_the_primary_is_silent():
    h = harness(policy="naive")
    h.now = 1000
    h.fire("n2", "check")
    assert h.roles["n2"] == ("primary", 2)
    assert h.roles["n1"] == ("primary", 1)       # nobody told n1: two primaries


def test_fenced_backup_becomes_candidate_and_needs_a_majority():
    h = harness(policy="fenced")
    h.now = 1000
    h.fire("n2", "check")
    assert h.roles["n2"] == ("candidate", 2)
    (_, _, m), = h.take(src="n2", dst="n3")
    assert m == Promote(2)
    h.deliver("n3", "n2", m)
    (_, _, grant), = h.take(src="n3")
    assert isinstance(grant, Grant)
    h.deliver("n2", "n3", grant)
    assert h.roles["n2"] == ("primary", 2) and h.storage["n3"]["epoch"] == 2


def test_fenced_node_grants_no_promotion_while_it_still_hears_the_primary():
    h = harness(policy="fenced")
    h.now = 100
    h.fire("n1", "beat")
    ack_all(h)                                   # n3 heard n1 at t=100
    h.now = 200
    h.deliver("n3", "n2", Promote(2))
    assert h.take(src="n3") == [("n3", "n2", Refuse(1))]
    h.now = 100 + 250
    h.deliver("n3", "n2", Promote(2))
    assert isinstance(h.take(src="n3")[0][2], Grant)


def test_fenced_candidate_adopts_the_most_up_to_date_log_of_the_majority():
    h = harness(policy="fenced", mode="sync")
    h.fire("n1", "beat")
    ack_all(h)
    h.request("n1", put(1))
    for _, dst, msg in h.take(src="n1", dst="n3"):
        h.deliver(dst, "n1", msg)                # only n3 got the write
    h.take()
    h.now = 1000
    h.fire("n2", "check")
    h.deliver("n3", "n2", h.take(src="n2", dst="n3")[0][2])
    h.deliver("n2", "n3", h.take(src="n3")[0][2])
    assert h.roles["n2"][0] == "primary"
    assert [e.op for e in h.storage["n2"]["log"]] == [1]


def test_fenced_backup_rejects_the_old_epoch_and_the_old_primary_steps_down():
    h = harness(policy="fenced")
    h.storage["n2"]["epoch"] = 2                 # n2 granted epoch 2 to someone
    h.fire("n1", "beat")
    msg = [m for _, d, m in h.take(src="n1") if d == "n2"][0]
    h.deliver("n2", "n1", msg)
    (_, _, ack), = h.take(src="n2")
    assert ack == ReplicateAck(epoch=2, match=0, sent=msg.sent, ok=False)
    h.deliver("n1", "n2", ack)
    assert h.roles["n1"] == ("backup", 2)


def test_fenced_primary_without_a_lease_refuses_clients():
    h = harness(policy="fenced")
    h.request("n1", put(1))                      # no heartbeat acknowledged yet
    assert h.replies[0][2] == "fail" and "lease" in h.replies[0][3]
    h.fire("n1", "beat")
    ack_all(h)
    h.now = 150
    assert h.nodes["n1"].lease_valid(h.ctx["n1"])
    h.now = 0 + 200                              # lease = 0.8 * 250 ms from the heartbeat sent at 0
    assert not h.nodes["n1"].lease_valid(h.ctx["n1"])


def test_a_backup_takes_a_full_copy_from_a_new_primary_then_only_appends():
    h = harness(policy="naive", mode="async")
    a, b = pb.Entry(2, 1, "put", "k", "a"), pb.Entry(2, 2, "put", "k", "b")
    h.storage["n2"]["log"].append(pb.Entry(1, 99, "put", "k", "lost"))
    h.deliver("n2", "n3", Replicate(2, 1, (b,), 0, 0.0))       # not a full copy: ask for one
    assert h.take(src="n2")[0][2] == ReplicateAck(epoch=2, match=0, sent=0.0, ok=False)
    h.deliver("n2", "n3", Replicate(2, 0, (a,), 0, 0.0))
    assert h.storage["n2"]["log"] == [a] and h.nodes["n2"].primary == "n3"
    h.deliver("n2", "n3", Replicate(2, 1, (b,), 0, 1.0))
    h.deliver("n2", "n3", Replicate(2, 0, (a,), 0, 0.0))       # a late duplicate truncates nothing
    assert h.storage["n2"]["log"] == [a, b]


# -- checker and scripted scenarios ----------------------------------------------

def test_async_failover_loses_acknowledged_writes_and_names_them():
    run = scenarios.async_failover(seed=0)
    lost = [v for v in run.check.violations if v["check"] == "lost-writes"]
    assert run.check.verdict == "violated" and lost
    v = lost[0]
    assert v["acked_by"] == "n1" and 625 - 50 <= v["client_ok_at"] <= 625 + 10
    final_ops = {e.op for e in run.world.storage(run.check.stats["final_node"])["log"]}
    assert v["op"] not in final_ops
    assert "missing from the final log" in run.check.explanation


def test_sync_failover_loses_no_acknowledged_write():
    run = scenarios.sync_failover(seed=0)
    assert run.check.ok, run.check.explanation
    assert run.check.stats["acknowledged_writes"] > 30
    assert run.world.leader() != "n1"            # a failover really happened


@pytest.mark.parametrize("seed", range(4))
def test_async_versus_sync_over_several_seeds(seed):
    assert scenarios.async_failover(seed=seed).check.stats["lost"] > 0
    assert scenarios.sync_failover(seed=seed).check.stats["lost"] == 0


def test_naive_failover_and_a_pause_give_two_primaries_accepting_writes():
    run = scenarios.naive_pause(seed=0)
    sb = [v for v in run.check.violations if v["check"] == "split-brain"]
    assert sb, run.check.explanation
    v = sb[0]
    assert v["nodes"][0] == "n1" and v["epochs"] == [1, 2]
    assert v["writes"]["n1"] and v["writes"][v["nodes"][1]]
    lo, hi = v["window"]
    assert 625 < lo < hi and hi == pytest.approx(625 + 800)     # until n1 wakes up and learns


def test_fenced_failover_and_the_same_pause_give_no_split_brain():
    run = scenarios.fenced_pause(seed=0)
    assert run.check.ok, run.check.explanation
    assert run.check.stats["tenures"] == 2 and run.check.stats["overlap_ms"] > 0   # n1 believed, but kept quiet
    refused = [e for e in run.world.history if e.type == "fail" and "lease" in str(e.error)]
    assert refused                               # the patient clients were told no


def test_naive_partition_split_brain_and_fenced_partition_safe():
    naive = scenarios.naive_partition(seed=0)
    assert {v["check"] for v in naive.check.violations} == {"split-brain", "lost-writes"}
    assert scenarios.naive_partition(seed=0, policy="fenced").check.ok


def test_checker_reports_no_split_brain_on_a_calm_run():
    w = pb.build(3, seed=3, stop=800)
    w.run(until=1000)
    r = check_pb.check(w)
    assert r.ok and r.stats["tenures"] == 1 and r.stats["acknowledged_writes"] > 20


def test_a_scenario_unpacks_into_world_and_check_and_tells_its_story():
    world, result = scenarios.sync_failover(seed=1)
    assert world.now > 2000 and result.name == "primary-backup"
    assert "n1 crashed at t=625 ms" in scenarios.sync_failover(seed=1).story


def test_same_seed_same_trace():
    assert scenarios.naive_pause(seed=5).world.trace_digest() == \
        scenarios.naive_pause(seed=5).world.trace_digest()


# -- bad input --------------------------------------------------------------------

@pytest.mark.parametrize("kw,words", [
    ({"mode": "semi"}, "unknown replication mode 'semi'"),
    ({"policy": "raft"}, "unknown failover policy 'raft'"),
    ({"heartbeat": 0}, "heartbeat must be a positive"),
    ({"timeout": -5}, "timeout must be a positive"),
    ({"timeout": "fast"}, "timeout must be a positive"),
    ({"heartbeat": 100, "timeout": 100}, "must exceed the heartbeat"),
    ({"lease": 300}, "lease (300 ms) must be shorter than timeout"),
    ({"sync_acks": 0}, "sync_acks must be a positive number of backups"),
])
def test_bad_options_raise_config_error(kw, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        PrimaryBackup(**kw)


def test_build_needs_a_backup():
    with pytest.raises(ConfigError, match="at least 2 nodes"):
        pb.build(1)
