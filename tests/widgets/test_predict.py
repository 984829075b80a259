"""PredictExercise: choose, inject, compare with what the checker found."""
import pytest

from faultlab import ConfigError
from faultlab.check.result import CheckResult
from faultlab.protocols import raft
from faultlab.widgets import PredictExercise

CHOICES = ["a new leader is elected", "the cluster stays without a leader"]


def _exercise(crash_count, **kw):
    world = raft.build(n=5, seed=2)
    world.run(until=1000)

    def inject():
        for node in world.nodes[:crash_count]:
            world.crash(node)
        world.run(duration=2000)

    def check():
        return (CHOICES[0] if world.leader() else CHOICES[1]), f"leader after the faults: {world.leader()}"

    return PredictExercise("Crash nodes: will the rest elect a leader?", CHOICES, inject=inject, check=check,
                           **kw), world


def test_inject_waits_for_a_prediction_then_grades_it():
    ex, world = _exercise(2)
    assert ex.inject_button.disabled
    ex.choose(CHOICES[0])
    assert not ex.inject_button.disabled
    ex.inject_button.click()
    assert world.leader() is not None
    assert ex.outcome == CHOICES[0] and ex.correct
    assert "✔" in ex.feedback.value and "leader after the faults" in ex.feedback.value
    assert ex.inject_button.disabled and ex.answer.disabled


def test_a_wrong_prediction_is_told_what_happened():
    ex, world = _exercise(3)                 # 2 of 5 left: no majority, no leader
    ex.choose(CHOICES[0])
    assert ex.run() is False
    assert world.leader() is None
    assert "✘" in ex.feedback.value and CHOICES[1] in ex.feedback.value


def test_check_may_return_a_check_result_mapped_by_verdicts():
    result = CheckResult("election", "violated", "no leader for 2000 ms")
    ex = PredictExercise("q?", CHOICES, inject=lambda: None, check=lambda: result,
                         verdicts={"ok": CHOICES[0], "violated": CHOICES[1]})
    ex.choose(CHOICES[1])
    assert ex.run() is True and "no leader for 2000 ms" in ex.feedback.value


def test_bad_set_ups_say_what_is_wrong():
    with pytest.raises(ConfigError, match="at least two distinct"):
        PredictExercise("q?", ["only one"], inject=lambda: None, check=lambda: None)
    with pytest.raises(ConfigError, match="inject=<function>"):
        PredictExercise("q?", CHOICES, inject=None, check=lambda: None)
    with pytest.raises(ConfigError, match="not among the choices"):
        PredictExercise("q?", CHOICES, inject=lambda: None, check=lambda: None, verdicts={"ok": "maybe"})
    ex = PredictExercise("q?", CHOICES, inject=lambda: None, check=lambda: "something else")
    with pytest.raises(ConfigError, match="pick a prediction"):
        ex.run()
    with pytest.raises(ConfigError, match="not one of the choices"):
        ex.choose("perhaps")
    ex.choose(CHOICES[0])
    with pytest.raises(ConfigError, match="none of the choices"):
        ex.run()
    assert "the exercise failed" in ex.feedback.value
    unmapped = PredictExercise("q?", CHOICES, inject=lambda: None,
                               check=lambda: CheckResult("x", "ok", "fine"))
    unmapped.choose(CHOICES[0])
    with pytest.raises(ConfigError, match="pass verdicts="):
        unmapped.run()
