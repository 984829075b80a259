"""3PC scripted scenarios: non-blocking after crashes, unsafe under a partition."""

import pytest

from faultlab.check import commit
from faultlab.protocols import three_phase as tp
from faultlab.scenarios import commit as sc

from _commit_helpers import crash_at_step_recovers  # noqa: E402

NEVER = 100_000.0           # "restart" long after the run ends: crash-stop


@pytest.mark.parametrize("at_note", [False, True], ids=["after", "midway"])
@pytest.mark.parametrize("victim", ["co", "p1", "p3"])
@pytest.mark.parametrize("step", sc.STEPS)
def test_a_crash_at_any_step_keeps_atomicity_and_recovery_finishes(step, victim, at_note):
    crash_at_step_recovers("3pc", step, victim, at_note)


@pytest.mark.parametrize("step", ["begin", "vote", "all-voted", "precommit", "decide"])
def test_coordinator_crash_stop_does_not_block_3pc_but_blocks_2pc(step):
    three = sc.crash_at_step("3pc", step, "co", down=NEVER, until=1500)
    assert three.check.ok and three.check.stats["undecided"] == 0
    assert all(not s["still_uncertain"] for s in three.check.stats["participants"].values())
    # decided by the termination protocol within a few timeouts, without the coordinator
    assert three.check.stats["max_uncertain_ms"] < 600, three.check.stats
    if step in ("begin", "all-voted"):
        two = sc.crash_at_step("2pc", step, "co", down=NEVER, until=1500)
        # blocked: nobody decided, so atomicity has nothing to compare -- but the wait is measured
        assert two.check.verdict == "unknown" and two.check.evidence["missing"] == "decisions"
        assert two.check.stats["undecided"] == 1
        assert all(s["still_uncertain"] == ["t1"] for s in two.check.stats["participants"].values())
        assert two.check.stats["max_blocked_ms"] > 1300


def test_coordinator_and_the_first_ranked_participant_crash_the_others_still_decide():
    w = tp.build(3, seed=2, script=[(sc.TXN_AT, "x", 1)])
    sc.on_step(w, "precommit", lambda r: (w.crash("co"), w.crash("p1")))
    w.run(until=1500)
    r = commit.check(w)
    assert r.ok
    assert [s["role"] for s in w.status()[2:]] == ["committed", "committed"]
    assert r.stats["participants"]["p1"]["still_uncertain"] == ["t1"]      # crashed, will ask later
    w.restart("p1")
    w.run(until=2000)
    assert commit.check(w).stats["participants"]["p1"]["still_uncertain"] == []
    assert w.status()[1]["role"] == "committed"


def test_nonblocking_scenario_reports_short_uncertainty():
    run = sc.nonblocking_3pc(seed=0, down=1000)
    assert run.check.ok and run.check.stats["max_uncertain_ms"] < 400
    assert "decided without it" in run.story


@pytest.mark.parametrize("seed", range(5))
def test_partition_after_precommit_commits_on_one_side_and_aborts_on_the_other(seed):
    run = sc.partition_3pc(seed=seed)
    assert run.check.verdict == "violated", run.check
    v = [v for v in run.check.violations if v["kind"] == "atomicity"][0]
    assert v["committed"] == ["p1"] and v["aborted"] == ["p2", "p3"]
    assert run.check.evidence["decisions"]["t1"]["deciders"]["co"] == "commit"


def test_the_partition_scenario_is_reproducible():
    a, b = sc.partition_3pc(seed=3), sc.partition_3pc(seed=3)
    assert a.world.trace_digest() == b.world.trace_digest()


def test_unknown_step_or_protocol_is_refused():
    from faultlab import ConfigError
    with pytest.raises(ConfigError, match="unknown step 'prepare'"):
        sc.crash_at_step("2pc", "prepare", "co")
    with pytest.raises(ConfigError, match="unknown protocol '4pc'"):
        sc.crash_at_step("4pc", "begin", "co")


def test_unknown_victim_is_refused():
    from faultlab import UnknownNodeError
    with pytest.raises(UnknownNodeError, match="unknown node 'p9'"):
        sc.crash_at_step("3pc", "begin", "p9")
