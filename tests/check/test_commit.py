"""The atomic-commit checker on hand-written traces (so every verdict is known in advance)."""
import pytest

from faultlab.check import CheckResult
from faultlab.check import commit as check_commit
from faultlab.trace import Record


def note(t, node, text, **fields):
    return Record(t, "note", node, dict(text=text, **fields))


def begin(t=0.0, txn="t1", parts=("p1", "p2")):
    return note(t, "co", "begin", txn=txn, participants=list(parts))


def test_all_commit_is_atomic_and_uncertainty_is_measured():
    trace = [begin(), note(2, "p1", "vote", txn="t1", vote="yes"), note(3, "p2", "vote", txn="t1", vote="yes"),
             note(5, "co", "decide", txn="t1", decision="commit"),
             note(9, "p1", "commit", txn="t1", via="co"), note(10, "p2", "commit", txn="t1", via="co")]
    r = check_commit.check(trace)
    assert isinstance(r, CheckResult) and r.verdict == "ok", r
    assert r.stats["committed"] == 1 and r.stats["aborted"] == 0
    assert r.stats["participants"]["p1"]["uncertain_ms"] == 7
    assert r.stats["participants"]["p2"]["uncertain_ms"] == 7
    assert r.stats["max_blocked_ms"] == 0
    assert [i["participant"] for i in r.evidence["uncertain"]] == ["p1", "p2"]


def test_mixed_outcomes_are_a_violation_with_the_participants_and_decisions():
    trace = [begin(parts=("p1", "p2", "p3")),
             *[note(2, p, "vote", txn="t1", vote="yes") for p in ("p1", "p2", "p3")],
             note(5, "co", "decide", txn="t1", decision="commit"),
             note(7, "p1", "commit", txn="t1", via="co"),
             note(40, "p2", "decide", txn="t1", decision="abort", reason="termination"),
             note(40, "p2", "abort", txn="t1", via="termination"),
             note(45, "p3", "abort", txn="t1", via="p2")]
    r = check_commit.check(trace)
    assert r.verdict == "violated"
    v, = r.violations
    assert v["kind"] == "atomicity" and v["committed"] == ["p1"] and v["aborted"] == ["p2", "p3"]
    assert v["txn"] == "t1" and r.stats["mixed"] == 1
    assert r.evidence["decisions"]["t1"]["participants"] == {"p1": ["commit"], "p2": ["abort"],
                                                            "p3": ["abort"]}
    assert r.evidence["decisions"]["t1"]["deciders"] == {"co": "commit", "p2": "abort"}


def test_a_participant_deciding_both_ways_is_a_violation():
    trace = [begin(parts=("p1",)), note(1, "p1", "vote", txn="t1", vote="yes"),
             note(3, "p1", "commit", txn="t1", via="co"), note(9, "p1", "abort", txn="t1", via="timeout")]
    assert check_commit.check(trace).verdict == "violated"


def test_commit_without_every_yes_vote_is_a_validity_violation():
    trace = [begin(), note(1, "p1", "vote", txn="t1", vote="yes"), note(1, "p2", "vote", txn="t1", vote="no"),
             note(5, "co", "decide", txn="t1", decision="commit"), note(6, "p1", "commit", txn="t1", via="co")]
    r = check_commit.check(trace)
    assert r.verdict == "violated"
    kinds = {v["kind"] for v in r.violations}
    assert "validity" in kinds
    validity = [v for v in r.violations if v["kind"] == "validity"][0]
    assert validity["participants"] == ["p2"] and validity["votes"] == {"p2": "no"}


def test_blocked_time_starts_when_the_participant_starts_asking():
    trace = [begin(), note(2, "p1", "vote", txn="t1", vote="yes"), note(2, "p2", "vote", txn="t1", vote="yes"),
             note(102, "p1", "inquire", txn="t1"), note(102, "p2", "inquire", txn="t1"),
             note(1100, "co", "decide", txn="t1", decision="abort"),
             note(1102, "p1", "abort", txn="t1", via="co"), note(1202, "p2", "abort", txn="t1", via="co")]
    r = check_commit.check(trace)
    assert r.ok
    p = r.stats["participants"]
    assert p["p1"]["uncertain_ms"] == 1100 and p["p1"]["blocked_ms"] == 1000
    assert p["p2"]["blocked_ms"] == 1100 and r.stats["max_blocked_ms"] == 1100


def test_still_uncertain_at_the_end_is_reported_and_measured_to_the_end():
    trace = [begin(), note(2, "p1", "vote", txn="t1", vote="yes"), note(3, "p2", "vote", txn="t1", vote="no"),
             note(3, "p2", "abort", txn="t1", via="own no vote")]
    r = check_commit.check(trace, end=500)
    assert r.ok
    assert [(i["participant"], i["open"], i["end"]) for i in r.evidence["uncertain"]] == [("p1", True, 500)]
    assert r.stats["participants"]["p1"]["still_uncertain"] == ["t1"]
    assert r.stats["participants"]["p1"]["uncertain_ms"] == 498
    assert "p2" not in r.stats["participants"]       # a no voter is never uncertain


def test_transactions_are_checked_separately():
    trace = [begin(txn="t1"), begin(txn="t2"),
             note(1, "p1", "vote", txn="t1", vote="yes"), note(1, "p2", "vote", txn="t1", vote="yes"),
             note(2, "p1", "commit", txn="t1", via="co"), note(2, "p2", "commit", txn="t1", via="co"),
             note(3, "p1", "abort", txn="t2", via="co"), note(3, "p2", "abort", txn="t2", via="co")]
    r = check_commit.check(trace)
    assert r.ok and r.stats["transactions"] == 2 and r.stats["committed"] == 1 and r.stats["aborted"] == 1


def test_no_transactions_is_unknown_not_ok():
    r = check_commit.check([Record(0, "start", "n1", {})])
    assert r.verdict == "unknown" and r.evidence["missing"] == "transactions"
    assert r.stats["transactions"] == 0


def test_transactions_nobody_decided_are_unknown_not_ok():
    trace = [begin(), note(2, "p1", "vote", txn="t1", vote="yes"), note(3, "p2", "vote", txn="t1", vote="yes")]
    r = check_commit.check(trace, end=500)
    assert r.verdict == "unknown" and r.evidence["missing"] == "decisions"
    assert r.stats["undecided"] == 1
    # the uncertain intervals are still measured, for the blocking figures
    assert [(i["participant"], i["open"]) for i in r.evidence["uncertain"]] == [("p1", True), ("p2", True)]
    # one participant's decision is evidence enough to check
    r = check_commit.check(trace + [note(4, "p1", "abort", txn="t1", via="timeout")], end=500)
    assert r.verdict == "ok" and r.stats["aborted"] == 1


@pytest.mark.parametrize("protocol", ["2pc", "3pc"])
def test_the_checker_reads_a_real_world(protocol):
    from faultlab.scenarios import commit as sc
    run = sc.crash_at_step(protocol, "decide", "p2", down=300)
    assert run.check.ok and run.check.stats["committed"] == 1
    assert run.check.stats["end_ms"] == run.world.now
