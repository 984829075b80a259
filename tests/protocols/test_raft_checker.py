"""The five-property checker: it passes correct runs and catches each violation with its evidence."""
import pytest

from faultlab.check import raft as check
from faultlab.protocols import raft
from faultlab.protocols.raft_messages import Command
from faultlab.trace import Record


def R(t, kind, node, **info):
    return Record(t, kind, node, info)


def leader(t, node, term):
    return R(t, "role", node, role="leader", term=term)


def follower(t, node, term):
    return R(t, "role", node, role="follower", term=term)


def log(t, node, index, *entries, term=1):
    return R(t, "note", node, text="log", index=index, entries=tuple(entries), term=term)


def commit(t, node, index, term):
    return R(t, "note", node, text="commit", index=index, term=term)


def apply(t, node, index, *entries):
    return R(t, "note", node, text="apply", index=index, entries=tuple(entries))


A, B, C, X = (Command(i, "put", "k", v) for i, v in ((1, "a"), (2, "b"), (3, "c"), (4, "x")))


def test_a_healthy_trace_passes_all_five():
    trace = [leader(1, "n1", 1), follower(1, "n2", 1), log(2, "n1", 1, (1, A)), log(3, "n2", 1, (1, A)),
             commit(4, "n1", 1, 1), apply(4, "n1", 1, (1, A)), apply(5, "n2", 1, (1, A)),
             follower(6, "n1", 2), leader(7, "n2", 2), log(8, "n2", 2, (2, B))]
    result = check.check_all(trace)
    assert result.verdict == "ok", str(result)


def test_election_safety_catches_two_leaders_in_one_term():
    trace = [leader(1, "n1", 3), leader(2, "n2", 3), leader(3, "n3", 4)]
    r = check.election_safety(trace)
    assert r.verdict == "violated"
    assert r.violations == [{"term": 3, "nodes": ["n1", "n2"], "t": [1, 2]}] == r.evidence


def test_leader_append_only_catches_a_leader_cutting_its_log():
    trace = [leader(1, "n1", 1), log(2, "n1", 1, (1, A), (1, B)), log(3, "n1", 2, (1, C))]
    r = check.leader_append_only(trace)
    assert r.verdict == "violated"
    v = r.violations[0]
    assert (v["node"], v["term"], v["index"], v["removed"], v["written"]) == ("n1", 1, 2, [(1, B)], [(1, C)])
    # the same cut made as a follower is legal
    assert check.leader_append_only([follower(1, "n1", 1)] + trace[1:]).ok


def test_log_matching_catches_equal_index_and_term_over_different_prefixes():
    trace = [leader(0, "n1", 2), log(1, "n1", 1, (1, A), (2, B)), log(2, "n2", 1, (1, X), (2, B))]
    r = check.log_matching(trace)
    assert r.verdict == "violated"
    found = [(v["index"], v["term"], sorted(v["nodes"]), v["differ_at"]) for v in r.violations]
    assert found == [(1, 1, ["n1", "n2"], 1), (2, 2, ["n1", "n2"], 1)]
    assert [v["entries"] for v in r.evidence] == [[(1, A), (1, X)], [(2, B), (2, B)]]


def test_log_matching_holds_over_time_not_just_at_the_end():
    """n2 held the bad prefix only for a while: checking final logs alone would miss it."""
    trace = [leader(0, "n1", 2), log(1, "n1", 1, (1, A), (2, B)), log(2, "n2", 1, (1, X), (2, B)),
             log(3, "n2", 1, (1, A), (2, B))]
    assert check.log_matching(trace).verdict == "violated"


def test_leader_completeness_catches_a_leader_missing_a_committed_entry():
    trace = [leader(1, "n1", 1), log(2, "n1", 1, (1, A)), log(2, "n2", 1, (1, A)), commit(3, "n1", 1, 1),
             log(4, "n3", 1, (1, X)), leader(5, "n3", 2)]
    r = check.leader_completeness(trace)
    assert r.verdict == "violated"
    v = r.violations[0]
    assert (v["leader"], v["term"], v["index"], v["entry"], v["has"], v["committed_term"]) == \
        ("n3", 2, 1, (1, A), (1, X), 1)
    # only leaders of terms *after* the commit term are bound by it
    trace[-1] = leader(5, "n3", 1)
    assert check.leader_completeness(trace).ok


def test_state_machine_safety_catches_different_entries_applied_at_one_index():
    trace = [leader(0, "n1", 1), apply(1, "n1", 1, (1, A), (1, B)), apply(2, "n2", 1, (1, A), (1, C))]
    r = check.state_machine_safety(trace)
    assert r.verdict == "violated"
    assert r.violations == [{"index": 2, "nodes": ["n1", "n2"], "entries": [(1, B), (1, C)], "t": [1, 2]}]


def test_an_empty_trace_gives_unknown_not_ok():
    r = check.check_all([])
    assert r.verdict == "unknown" and set(r.stats["verdicts"].values()) == {"unknown"}
    assert {e["missing"] for e in r.evidence.values()} == {"Raft role records or log notes"}


class HastyRaft(raft.Raft):
    """Broken on purpose: a leader commits an entry as soon as it is in its own log."""

    def _leader_commit(self, ctx):
        if len(self.log) > self.commit_index:
            self._advance_commit(ctx, len(self.log))


def _split_brain_run(factory):
    """A leader cut off with one follower keeps taking writes while the majority elects another."""
    from faultlab import World, register_workload
    world = World(seed=3)
    world.add_nodes(5, factory)
    world.run(until=1000)
    old = world.leader()
    others = [n for n in world.nodes if n != old]
    world.partition([old, others[0]], others[1:])
    world.add_clients(2, register_workload(), targets=[old], stop=1800, timeout=200)
    world.add_clients(2, register_workload(), targets=others[1:], stop=1800, timeout=200)
    world.run(until=2000)
    world.heal()
    world.run(until=3000)
    return world


def test_a_broken_raft_is_caught_and_the_real_one_is_not():
    broken = check.check_all(_split_brain_run(HastyRaft))
    assert broken.verdict == "violated"
    names = {v["check"] for v in broken.violations}
    assert {"leader completeness", "state-machine safety"} <= names, broken.explanation
    assert {n for n, v in broken.stats["verdicts"].items() if v == "violated"} == names
    assert check.check_all(_split_brain_run(raft.Raft)).verdict == "ok"


def test_a_log_changed_behind_the_trace_makes_the_verdict_unknown():
    world = raft.build(3, seed=1)
    world.run(until=1000)
    world.storage("n2")["log"].append((99, Command(7, "put", "k", "sneaky")))
    r = check.check_all(world)
    assert r.verdict == "unknown"
    assert r.stats["verdicts"]["trace covers logs"] == "unknown"
    assert r.evidence["trace covers logs"] == {"missing": "log notes", "nodes": ["n2"]}


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_build_rejects_cluster_sizes_that_cannot_form_a_majority(n):
    from faultlab import ConfigError
    with pytest.raises(ConfigError, match="positive whole number of servers"):
        raft.build(n)


def test_build_checks_options_before_building():
    from faultlab import ConfigError
    with pytest.raises(ConfigError, match="heartbeat"):
        raft.build(3, heartbeat=0)
