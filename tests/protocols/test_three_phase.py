"""3PC stepped by hand: the three phases, the timeouts, and each rule of the termination protocol."""

import pytest

from faultlab import ConfigError
from faultlab.protocols import three_phase as tp
from faultlab.protocols.three_phase import (Abort, CanCommit, DoCommit, PreCommit, PreCommitAck,
                                            StateReply, StateRequest)
from faultlab.protocols.two_phase import Ack, DecisionRequest, Vote

from _commit_helpers import begin_and_vote, notes  # noqa: E402

PARTS = ("p1", "p2", "p3")


def voted(h, key="x", value=1):
    """Coordinator sends CanCommit; every participant votes yes (votes still in the outbox)."""
    return begin_and_vote(h, "CanCommit", key, value)


def state(h, p, txn="t1"):
    return h.storage[p]["txns"][txn]["state"]


def test_the_three_phases_in_order():
    h = tp.harness()
    txn = voted(h)
    assert all(state(h, p) == "uncertain" for p in PARTS)
    for src, _dst, msg in h.take(dst="co"):
        h.deliver("co", src, msg)
    assert h.storage["co"]["precommitted"] == {txn: True} and "decisions" not in h.storage["co"]
    assert h.take(src="co") == [("co", p, PreCommit(txn)) for p in PARTS]
    for p in PARTS:
        h.deliver(p, "co", PreCommit(txn))
        assert state(h, p) == "precommitted" and h.roles[p] == ("precommitted", 1)
    for src, _dst, msg in h.take(dst="co"):
        assert msg == PreCommitAck(txn)
        h.deliver("co", src, msg)
    assert h.storage["co"]["decisions"] == {txn: "commit"}
    assert h.take(src="co") == [("co", p, DoCommit(txn)) for p in PARTS]


def test_nobody_commits_while_anybody_is_uncertain():
    h = tp.harness()
    txn = voted(h)
    for src, _dst, msg in h.take(dst="co"):
        h.deliver("co", src, msg)
    h.deliver("co", "p1", PreCommitAck(txn))
    h.deliver("co", "p2", PreCommitAck(txn))
    assert "decisions" not in h.storage["co"]                   # p3 has not acknowledged yet


def test_the_coordinator_commits_after_the_ack_timeout():
    h = tp.harness()
    txn = voted(h)
    for src, _dst, msg in h.take(dst="co"):
        h.deliver("co", src, msg)
    h.deliver("co", "p1", PreCommitAck(txn))
    h.fire("co", f"acks:{txn}")
    assert h.storage["co"]["decisions"] == {txn: "commit"}
    assert "no ack from p2, p3" in notes(h, "co", "decide")[0]["reason"]


def test_a_no_vote_or_missing_vote_aborts_before_any_precommit():
    h = tp.harness(votes={"p2": "no"})
    txn = voted(h)
    for src, _dst, msg in h.take(dst="co"):
        h.deliver("co", src, msg)
    assert h.storage["co"]["decisions"] == {txn: "abort"} and "precommitted" not in h.storage["co"]
    h2 = tp.harness()
    txn = h2.nodes["co"].begin(h2.ctx["co"], "x", 1)
    h2.fire("co", f"votes:{txn}")
    assert h2.storage["co"]["decisions"] == {txn: "abort"}


def terminating(h, who="p1"):
    """Everyone voted; the coordinator went silent; ``who`` times out and asks for states."""
    txn = voted(h)
    h.take()
    h.fire(who, f"wait:{txn}")
    assert notes(h, who, "terminate")
    asked = h.take(src=who)
    assert sorted(dst for _s, dst, m in asked if m == StateRequest(txn)) == \
        sorted([p for p in PARTS if p != who] + ["co"])
    return txn


def test_termination_all_uncertain_aborts():
    h = tp.harness()
    txn = terminating(h)
    h.deliver("p1", "p2", StateReply(txn=txn, state="uncertain", recovered=False))
    h.fire("p1", f"collect:{txn}")
    assert state(h, "p1") == "aborted"
    assert ("p1", "p3", Abort(txn)) in h.take(src="p1")


def test_termination_with_a_precommitted_peer_precommits_the_rest_then_commits():
    h = tp.harness()
    txn = terminating(h)
    h.deliver("p1", "p2", StateReply(txn=txn, state="precommitted", recovered=False))
    h.deliver("p1", "p3", StateReply(txn=txn, state="uncertain", recovered=False))
    h.fire("p1", f"collect:{txn}")
    assert state(h, "p1") == "precommitted"                    # not committed yet: p3 is uncertain
    assert h.take(src="p1") == [("p1", "p3", PreCommit(txn))]
    h.deliver("p1", "p3", PreCommitAck(txn))
    assert state(h, "p1") == "committed"
    assert ("p1", "p2", DoCommit(txn)) in h.take(src="p1")


def test_termination_adopts_a_decision_someone_already_made():
    h = tp.harness()
    txn = terminating(h)
    h.deliver("p1", "p3", StateReply(txn=txn, state="committed", recovered=True))   # final states count even if recovered
    h.fire("p1", f"collect:{txn}")
    assert state(h, "p1") == "committed"


def test_termination_ignores_the_stale_state_of_a_recovered_participant():
    h = tp.harness()
    txn = terminating(h)
    h.deliver("p1", "p2", StateReply(txn=txn, state="precommitted", recovered=True))
    h.fire("p1", f"collect:{txn}")
    assert state(h, "p1") == "aborted"


def test_a_recovered_participant_only_asks_it_never_terminates():
    h = tp.harness()
    txn = voted(h)
    h.take()
    h.boot("p1")
    assert notes(h, "p1", "recover") == [{"txn": txn, "state": "uncertain"}]
    h.fire("p1", f"ask:{txn}")
    assert {m for _s, _d, m in h.take(src="p1")} == {DecisionRequest(txn)}
    h.now = 10_000
    h.fire("p1", f"wait:{txn}")
    assert notes(h, "p1", "terminate") == [] and state(h, "p1") == "uncertain"
    h.deliver("p1", "p2", Abort(txn))
    assert state(h, "p1") == "aborted" and h.take(src="p1") == [("p1", "p2", Ack(txn))]


def test_higher_ranks_wait_longer_and_defer_to_a_lower_rank():
    h = tp.harness(timeout=100.0)
    txn = voted(h)
    assert [h.timers[p][f"wait:{txn}"] for p in PARTS] == [100.0, 200.0, 300.0]
    h.now = 250.0
    h.fire("p3", f"wait:{txn}")                                  # p3 started (p1 looked dead) ...
    h.deliver("p3", "p1", StateRequest(txn))                    # ... but p1 is alive and asks
    assert f"collect:{txn}" not in h.timers["p3"] and h.timers["p3"][f"wait:{txn}"] == 550.0
    assert ("p3", "p1", StateReply(txn=txn, state="uncertain", recovered=False)) in h.take(src="p3")


def test_a_participant_that_has_not_voted_aborts_when_asked_and_then_votes_no():
    h = tp.harness()
    h.deliver("p2", "p1", StateRequest("t1"))
    assert h.take(src="p2") == [("p2", "p1", Abort("t1"))]
    h.deliver("p2", "co", CanCommit("t1", "x", 1, PARTS))
    assert h.take(src="p2") == [("p2", "co", Vote(txn="t1", yes=False))]


def test_a_restarted_coordinator_presumes_abort_only_if_it_never_sent_precommit():
    h = tp.harness()
    txn = voted(h)
    h.take()
    h.boot("co")
    h.deliver("co", "p1", DecisionRequest(txn))
    assert h.storage["co"]["decisions"] == {txn: "abort"}
    h2 = tp.harness()
    txn = voted(h2)
    for src, _dst, msg in h2.take(dst="co"):
        h2.deliver("co", src, msg)
    h2.take()
    h2.boot("co")                                               # PreCommit went out: must not guess
    h2.deliver("co", "p1", DecisionRequest(txn))
    assert "decisions" not in h2.storage["co"] and h2.take(src="co") == []
    h2.fire("co", f"ask:{txn}")                                 # it asks who knows instead
    assert h2.take(src="co") == [("co", p, DecisionRequest(txn)) for p in PARTS]
    h2.deliver("co", "p2", DoCommit(txn))                       # learns what the participants decided
    assert h2.storage["co"]["decisions"] == {txn: "commit"}


@pytest.mark.parametrize("kwargs, words", [
    ({"participants": 0}, "at least one participant"),
    ({"vote": "perhaps"}, "unknown vote rule 'perhaps'"),
    ({"timeout": 0}, "timeout must be a positive"),
    ({"ack_timeout": -1}, "ack_timeout must be a positive"),
    ({"collect": 0}, "collect must be a positive"),
    ({"timeout": 40.0}, "must exceed the coordinator's vote_timeout"),
    ({"collect": 80.0}, "collect .* must be under half the timeout"),
])
def test_bad_configuration_is_refused_with_a_clear_message(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        tp.build(**kwargs)
