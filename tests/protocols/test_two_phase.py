"""2PC stepped by hand, one test per rule of the protocol; and bad input."""
import math

import pytest

from faultlab import ConfigError, Harness
from faultlab.protocols import two_phase as tp
from faultlab.protocols.two_phase import Ack, Decision, DecisionRequest, Prepare, Vote
from faultlab.workloads import Op

from _commit_helpers import begin_and_vote, notes  # noqa: E402

PARTS = ("p1", "p2", "p3")


def prepared(h, key="x", value=1):
    """Coordinator begins a transaction; every participant works and votes. Returns the txn id."""
    return begin_and_vote(h, "Prepare", key, value)


def test_participant_logs_prepared_before_voting_yes_and_keeps_the_lock():
    h = tp.harness()
    txn = prepared(h)
    for p in PARTS:
        assert h.storage[p]["txns"][txn]["state"] == "prepared"
        assert h.nodes[p].locks == {"x": txn}
        assert h.roles[p] == ("prepared", 1)
    assert [m[2] for m in h.take(dst="co", kind="Vote")] == [Vote(txn=txn, yes=True)] * 3


def test_a_participant_that_voted_yes_never_aborts_on_its_own():
    h = tp.harness()
    txn = prepared(h)
    h.take()
    for k in range(20):                       # two simulated seconds of silence from the coordinator
        h.now = 100.0 * (k + 1)
        h.fire("p1", f"ask:{txn}")
    assert h.storage["p1"]["txns"][txn]["state"] == "prepared"
    assert notes(h, "p1", "abort") == [] and notes(h, "p1", "inquire") == [{"txn": txn}]
    asked = h.take(src="p1")
    assert {dst for _s, dst, _m in asked} == {"co", "p2", "p3"}
    assert all(m == DecisionRequest(txn) for _s, _d, m in asked)
    # an equally uncertain peer has nothing to say
    h.deliver("p2", "p1", DecisionRequest(txn))
    assert h.take(src="p2") == [] and h.storage["p2"]["txns"][txn]["state"] == "prepared"


def test_a_prepared_participant_recovers_prepared_with_its_lock_and_asks():
    h = tp.harness()
    txn = prepared(h)
    h.take()
    h.boot("p1")                              # crash + restart: only storage survives
    assert h.nodes["p1"].locks == {"x": txn}
    assert h.roles["p1"] == ("prepared", 1)
    assert f"ask:{txn}" in h.timers["p1"]
    h.fire("p1", f"ask:{txn}")
    assert ("p1", "co", DecisionRequest(txn)) in h.take(src="p1")
    # the re-taken lock refuses a conflicting transaction
    h.deliver("p1", "co", Prepare("t9", "x", 5, PARTS))
    assert h.take(src="p1") == [("p1", "co", Vote(txn="t9", yes=False))]


class RecordingStorage(dict):
    """Storage that remembers, for every write, which messages had already been sent."""

    def __init__(self, h):
        super().__init__()
        self.h, self.writes = h, []

    def __setitem__(self, key, value):
        self.writes.append((key, [type(m[2]).__name__ for m in self.h.outbox]))
        super().__setitem__(key, value)


def test_the_coordinator_logs_the_decision_before_sending_it():
    h = Harness(tp.factories(), start=False)
    h.storage["co"] = RecordingStorage(h)
    for n in h.names:
        h.boot(n)
    txn = prepared(h)
    for _src, dst, msg in h.take(dst="co"):
        h.deliver("co", _src, msg)
    writes = h.storage["co"].writes
    decision_write = [sent for key, sent in writes if key == "decisions"]
    assert decision_write == [[]], "the decision was written after a Decision message was sent"
    assert h.storage["co"]["decisions"] == {txn: "commit"}
    assert [m for m in h.take(src="co")] == [("co", p, Decision(txn, "commit")) for p in PARTS]


def test_a_coordinator_that_crashes_after_deciding_resends_the_logged_decision():
    h = tp.harness()
    txn = prepared(h)
    for src, _dst, msg in h.take(dst="co"):
        h.deliver("co", src, msg)
    h.take()                                  # the decisions are lost with the crash
    h.boot("co")
    assert h.take(src="co") == [("co", p, Decision(txn, "commit")) for p in PARTS]
    for p in PARTS:
        h.deliver("co", p, Ack(txn))
    assert h.storage["co"]["ended"] == {txn: True}
    h.fire("co", f"resend:{txn}")
    assert h.take(src="co") == []


def test_presumed_abort_after_a_coordinator_crash_with_nothing_logged():
    h = tp.harness()
    txn = prepared(h)
    h.take()
    h.boot("co")                              # crashed before any decision was logged
    h.deliver("co", "p2", DecisionRequest(txn))
    assert h.take(src="co") == [("co", "p2", Decision(txn, "abort"))]
    assert h.storage["co"]["decisions"] == {txn: "abort"}
    h.deliver("p2", "co", Decision(txn, "abort"))
    assert h.storage["p2"]["txns"][txn]["state"] == "aborted" and h.nodes["p2"].locks == {}
    # and a new transaction never reuses the id
    assert h.nodes["co"].begin(h.ctx["co"], "y", 2) == "t2"


def test_a_coordinator_still_collecting_votes_does_not_presume_anything():
    h = tp.harness()
    txn = h.nodes["co"].begin(h.ctx["co"], "x", 1)
    h.take()
    h.deliver("co", "p1", DecisionRequest(txn))
    assert h.take(src="co") == [] and "decisions" not in h.storage["co"]


def test_one_no_vote_aborts_and_all_yes_commits_and_the_client_is_told():
    h = tp.harness(votes={"p3": "no"})
    op = Op(1, "c1", 0, "txn", "x", 1)
    h.request("co", op)
    for _src, dst, msg in h.take(src="co"):
        h.deliver(dst, "co", msg)
    for p in PARTS:
        h.fire(p, "work:t1")
    assert notes(h, "p3", "vote") == [{"txn": "t1", "vote": "no", "reason": "vote rule 'no'"}]
    h.flush()
    assert h.storage["co"]["decisions"] == {"t1": "abort"}
    assert [r[2] for r in h.replies] == ["fail"]
    assert all(h.storage[p]["txns"]["t1"]["state"] == "aborted" for p in PARTS)
    h2 = tp.harness()
    h2.request("co", op)
    h2.flush()
    for p in PARTS:
        h2.fire(p, "work:t1")
    h2.flush()
    assert h2.replies == [("co", op, "ok", "committed")]
    assert all(h2.storage[p]["data"] == {"x": 1} for p in PARTS)


def test_missing_votes_abort_after_the_vote_timeout():
    h = tp.harness()
    txn = h.nodes["co"].begin(h.ctx["co"], "x", 1)
    h.deliver("co", "p1", Vote(txn=txn, yes=True))
    h.fire("co", f"votes:{txn}")
    assert h.storage["co"]["decisions"] == {txn: "abort"}
    assert notes(h, "co", "decide")[0]["reason"] == "no vote from p2, p3 in time"


def test_a_locked_key_makes_the_participant_vote_no():
    h = tp.harness()
    h.deliver("p1", "co", Prepare("t1", "x", 1, PARTS))
    h.deliver("p1", "co", Prepare("t2", "x", 2, PARTS))
    assert h.take(src="p1") == [("p1", "co", Vote(txn="t2", yes=False))]
    assert notes(h, "p1", "vote")[0]["reason"] == "key 'x' locked by t1"


def test_a_participant_that_has_not_voted_aborts_when_a_peer_asks_and_then_votes_no():
    h = tp.harness()
    h.deliver("p2", "p1", DecisionRequest("t1"))
    assert h.take(src="p2") == [("p2", "p1", Decision("t1", "abort"))]
    h.deliver("p2", "co", Prepare("t1", "x", 1, PARTS))
    assert h.take(src="p2") == [("p2", "co", Vote(txn="t1", yes=False))]


def test_a_commit_without_our_yes_vote_is_ignored():
    h = tp.harness()
    h.deliver("p1", "co", Decision("t1", "commit"))
    assert "txns" not in h.storage["p1"] and h.take() == []


def test_random_votes_follow_the_seed():
    def votes(seed):
        h = tp.harness(vote="random", no_rate=0.5, seed=seed)
        out = []
        for i in range(1, 13):
            h.deliver("p1", "co", Prepare(f"t{i}", f"k{i}", 0, PARTS))
            h.fire("p1", f"work:t{i}")
            out.append(h.take(src="p1")[0][2].yes)
        return out
    assert votes(3) == votes(3)
    assert True in votes(3) and False in votes(3)
    assert votes(3) != votes(4)


def test_unknown_client_operation_fails_with_a_clear_message():
    h = tp.harness()
    op = Op(1, "c1", 0, "get", "x")
    h.request("co", op)
    (node, got, status, error), = h.replies
    assert status == "fail" and "unknown operation 'get'" in error and "'txn'" in error


def test_scripted_transactions_start_by_themselves_and_only_once():
    h = tp.harness(script=[(10.0, "x", 1)])
    assert h.timers["co"] == {"script:0": 10.0}
    h.now = 10.0
    h.fire("co", "script:0")
    assert notes(h, "co", "begin")[0]["txn"] == "t1"
    h.boot("co")
    assert "script:0" not in h.timers["co"]


@pytest.mark.parametrize("kwargs, words", [
    ({"participants": 0}, "at least one participant"),
    ({"participants": []}, "at least one participant"),
    ({"participants": ["p1", "p1"]}, "distinct"),
    ({"participants": 2.5}, "whole number"),
    ({"vote": "maybe"}, "unknown vote rule 'maybe'"),
    ({"votes": {"p9": "no"}}, "unknown participant"),
    ({"votes": {"p1": "sometimes"}}, "unknown vote rule"),
    ({"no_rate": 1.5}, "no_rate"),
    ({"vote_timeout": 0}, "vote_timeout must be a positive"),
    ({"decision_timeout": -5}, "decision_timeout must be a positive"),
    ({"retry": math.nan}, "retry must be a positive"),
    ({"vote_timeout": True}, "vote_timeout must be a positive"),
    ({"work_time": -1}, "work_time"),
])
def test_bad_configuration_is_refused_with_a_clear_message(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        tp.build(**kwargs)
