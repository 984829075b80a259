"""2PC scripted scenarios: a crash at every step, and the blocking case measured."""
import sys

import pytest

from faultlab.protocols import two_phase as tp
from faultlab.scenarios import commit as sc

from _commit_helpers import crash_at_step_recovers  # noqa: E402

STEPS_2PC = [s for s in sc.STEPS if s != "precommit"]   # precommit is 3PC only


@pytest.mark.parametrize("at_note", [False, True], ids=["after", "midway"])
@pytest.mark.parametrize("victim", ["co", "p1", "p3"])
@pytest.mark.parametrize("step", STEPS_2PC)
def test_a_crash_at_any_step_keeps_atomicity_and_recovery_finishes(step, victim, at_note):
    run = crash_at_step_recovers("2pc", step, victim, at_note)
    assert all(n.get("locks", {}) == {} for n in run.world.status() if n["node"] != "co")


@pytest.mark.parametrize("step, outcome", [
    ("begin", "abort"),          # nothing logged: presumed abort once the coordinator is back
    ("all-voted", "abort"),      # votes arrive at a crashed coordinator
    ("decide", "commit"),        # logged before it was sent: re-sent after the restart
])
def test_what_a_recovering_coordinator_decides(step, outcome):
    run = sc.crash_at_step("2pc", step, "co", down=400)
    st = run.check.stats
    assert (st["committed"], st["aborted"]) == ((1, 0) if outcome == "commit" else (0, 1))


def test_blocking_participants_hold_their_locks_while_the_coordinator_is_down():
    w = tp.build(3, seed=0, script=[(sc.TXN_AT, "x", 1)])
    sc.on_step(w, "all-voted", lambda r: w.crash("co"))
    w.run(until=600)
    for s in w.status()[1:]:
        assert s["state"] == "up" and s["role"] == "prepared" and s["locks"] == {"x": "t1"}
    w.restart("co")
    w.run(until=1000)
    assert [s["role"] for s in w.status()[1:]] == ["aborted"] * 3
    assert all(s["locks"] == {} for s in w.status()[1:])


def test_the_blocking_case_is_measured_and_grows_with_the_coordinator_downtime():
    short, long_ = sc.blocking_2pc(seed=0, down=500), sc.blocking_2pc(seed=0, down=2000)
    for run, down in ((short, 500), (long_, 2000)):
        assert run.check.ok
        for p, s in run.check.stats["participants"].items():
            # uncertain from its vote until the first question after the restart is answered
            assert down <= s["uncertain_ms"] <= down + 150, (p, s)
            assert down - 150 <= s["blocked_ms"] <= s["uncertain_ms"], (p, s)
    grow = long_.check.stats["max_blocked_ms"] - short.check.stats["max_blocked_ms"]
    assert 1400 <= grow <= 1600
    assert "blocked (uncertain, locks held) for p1" in short.story


def test_without_cooperative_termination_a_never_voting_peer_cannot_help():
    # p3 is down from the start: nobody can commit; p1, p2 are not blocked because the
    # coordinator aborts on the vote timeout and is alive to say so.
    w = tp.build(3, seed=1, script=[(sc.TXN_AT, "x", 1)], cooperative=False)
    w.at(1, w.crash, "p3")
    w.run(until=800)
    from faultlab.check import commit
    r = commit.check(w)
    assert r.ok and r.stats["aborted"] == 1 and r.stats["max_blocked_ms"] == 0


def test_same_seed_same_trace():
    a = sc.random_run("2pc", seed=7, duration=800, settle=500)
    b = sc.random_run("2pc", seed=7, duration=800, settle=500)
    c = sc.random_run("2pc", seed=8, duration=800, settle=500)
    assert a.world.trace_digest() == b.world.trace_digest() != c.world.trace_digest()


def test_a_decision_logged_but_never_sent_blocks_then_commits_after_the_restart():
    run = sc.crash_at_step("2pc", "decide", "co", down=800, at_note=True)
    assert not any(r.kind == "send" and r.node == "co" and type(r.info["msg"]).__name__ == "Decision"
                   and r.t < sc.TXN_AT + 800 for r in run.world.trace)
    st = run.check.stats
    assert run.check.ok and st["committed"] == 1
    assert all(800 <= s["uncertain_ms"] <= 950 for s in st["participants"].values()), st


def test_prepared_logged_but_vote_lost_in_the_crash_aborts_everywhere():
    run = sc.crash_at_step("2pc", "vote", "p1", down=400, at_note=True)
    assert run.check.ok and run.check.stats["aborted"] == 1
    notes = [(r.node, r.info["text"]) for r in run.world.trace if r.kind == "note"]
    assert ("p1", "recover") in notes and ("p1", "abort") in notes


def test_traces_do_not_depend_on_python_hash_seeds():
    import subprocess
    import sys
    code = ("from faultlab.scenarios import commit as sc; "
            "print(sc.random_run('2pc', seed=5, duration=600, settle=400).world.trace_digest(), "
            "sc.random_run('3pc', seed=5, duration=600, settle=400).world.trace_digest())")
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONHASHSEED": h, "PATH": ""}).stdout for h in ("1", "2")}
    assert len(out) == 1 and len(next(iter(out)).split()) == 2
