"""A run that holds nothing a checker could test answers 'unknown', never 'ok'; a little evidence is enough.

(Atomic commit and linearizability have their own cases in test_commit.py and
test_linearizability.py.)
"""
import pytest

from faultlab.check import CheckResult
from faultlab.check import paxos as check_paxos
from faultlab.check import primary_backup as check_pb
from faultlab.check import raft as check_raft
from faultlab.protocols import paxos
from faultlab.protocols import primary_backup as pb
from faultlab.trace import Record


def note(t, node, text, **fields):
    return Record(t, "note", node, dict(text=text, **fields))


# -- Paxos ------------------------------------------------------------------------------------

def test_paxos_with_no_notes_is_unknown():
    r = check_paxos.check([])
    assert r.verdict == "unknown" and not r.ok
    assert r.evidence["missing"] == "decided slots" and r.stats["accepts"] == 0


def test_paxos_with_acceptances_but_no_decision_is_unknown():
    w = paxos.dueling("naive", until=2000)            # the duelling proposers never finish
    r = check_paxos.check(w)
    assert r.verdict == "unknown" and r.evidence["missing"] == "decided slots"
    assert r.stats["slots_chosen"] == r.stats["slots_learned"] == 0
    rounds = sum(r.kind == "note" and r.info["text"] == "propose" for r in w.trace)
    assert rounds > 500                                # they really tried, over and over


def test_paxos_with_one_chosen_value_is_ok():
    accepts = [note(1, a, "accept", slot=0, ballot=(1, "n1"), value="v") for a in ("n1", "n2")]
    r = check_paxos.check(accepts, n=3)
    assert r.verdict == "ok" and r.stats["slots_chosen"] == 1
    # one acceptance short of a majority: nothing was chosen, so nothing was tested
    assert check_paxos.check(accepts[:1], n=3).verdict == "unknown"


# -- Raft -------------------------------------------------------------------------------------

def test_raft_with_an_empty_trace_is_unknown_for_every_property():
    r = check_raft.check_all([])
    assert r.verdict == "unknown"
    assert set(r.stats["verdicts"].values()) == {"unknown"} and len(r.stats["verdicts"]) == 5
    assert {e["missing"] for e in r.evidence.values()} == {"Raft role records or log notes"}


def test_raft_properties_without_their_own_data_are_unknown():
    """A leader was elected, but nothing was written: only election safety had anything to test."""
    r = check_raft.check_all([Record(1, "role", "n1", {"role": "leader", "term": 1})])
    assert r.verdict == "unknown"
    assert r.stats["verdicts"] == {"election safety": "ok", "leader append-only": "unknown",
                                   "log matching": "unknown", "leader completeness": "unknown",
                                   "state-machine safety": "unknown"}
    assert {name: e["missing"] for name, e in r.evidence.items()} == {
        "leader append-only": "log changes", "log matching": "log entries",
        "leader completeness": "committed entries", "state-machine safety": "applied entries"}


def test_raft_election_safety_without_a_leader_is_unknown():
    r = check_raft.election_safety([note(1, "n1", "log", index=1, entries=((1, "x"),), term=1)])
    assert r.verdict == "unknown" and r.evidence["missing"] == "elected leader"


# -- primary-backup ---------------------------------------------------------------------------

def test_primary_backup_without_client_writes_is_unknown():
    w = pb.build(3, seed=0, clients=0)
    w.run(until=1000)
    lost, split = check_pb.lost_writes(w), check_pb.split_brain(w)
    assert lost.verdict == split.verdict == "unknown"
    assert lost.evidence["missing"] == split.evidence["missing"] == "acknowledged writes"
    assert lost.stats["acknowledged_writes"] == 0 and split.stats["tenures"] >= 1
    both = check_pb.check(w)
    assert both.verdict == "unknown" and both.violations == []


def test_primary_backup_with_client_writes_is_ok():
    w = pb.build(3, seed=0, clients=2, stop=800)
    w.run(until=1000)
    r = check_pb.check(w)
    assert r.verdict == "ok" and r.stats["acknowledged_writes"] > 10 and r.stats["write_acks"] > 10


# -- merging ----------------------------------------------------------------------------------

@pytest.mark.parametrize("verdicts, merged", [
    (("ok", "ok"), "ok"), (("ok", "unknown"), "unknown"),
    (("unknown", "violated"), "violated"), (("violated", "ok"), "violated")])
def test_merge_violated_beats_unknown_beats_ok(verdicts, merged):
    parts = [CheckResult(f"c{i}", v, v, [{"i": i}] if v == "violated" else []) for i, v in enumerate(verdicts)]
    r = CheckResult.merge("all", parts)
    assert r.verdict == merged
    assert r.stats["verdicts"] == {f"c{i}": v for i, v in enumerate(verdicts)}
    assert [v["check"] for v in r.violations] == [f"c{i}" for i, v in enumerate(verdicts) if v == "violated"]


def test_no_evidence_names_what_was_missing_and_what_to_do():
    r = CheckResult.no_evidence("x", "widgets", "add some widgets", {"kept": 1}, {"n": 0})
    assert (r.verdict, r.evidence, r.stats) == ("unknown", {"kept": 1, "missing": "widgets"}, {"n": 0})
    assert r.explanation == "no widgets in this run: add some widgets"
