"""PredictExercise (choose, inject, compare with what the checker found) and the chapter Exercise built on it."""
import pytest

from faultlab import ConfigError
from faultlab.check.result import CheckResult
from faultlab.course.exercise import HIDDEN_TITLE, Exercise
from faultlab.protocols import raft
from faultlab.widgets import PredictExercise

CHOICES = ["a new leader is elected", "the cluster stays without a leader"]


def _crash_nodes(crash_count, letters=False):
    """A settled 5-server cluster, a fault that crashes ``crash_count`` servers, and what happened."""
    world = raft.build(n=5, seed=2)
    world.run(until=1000)

    def inject():
        for node in world.nodes[:crash_count]:
            world.crash(node)
        world.run(duration=2000)

    def check():
        picked = ("a", "b") if letters else CHOICES
        return (picked[0] if world.leader() else picked[1]), f"leader after the faults: {world.leader()}"

    return world, inject, check


def _exercise(crash_count, **kw):
    world, inject, check = _crash_nodes(crash_count)
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


def test_the_disabled_button_looks_disabled_and_says_why():
    ex, _ = _exercise(2)
    b = ex.inject_button
    assert b.disabled and b.button_style == "" and "pick a prediction first" in b.tooltip
    ex.choose(CHOICES[1])
    assert not b.disabled and b.button_style == "danger"
    ex.answer.value = None                     # a choice taken back disables it again
    assert b.disabled and b.button_style == ""


def test_check_returning_none_means_it_could_not_run_here():
    ex = PredictExercise("q?", CHOICES, inject=lambda: None, check=lambda: None)
    ex.choose(CHOICES[0])
    assert ex.run() is None and ex.correct is None
    assert "could not run on this machine" in ex.feedback.value


# -- the chapter exercise built on the widget (faultlab.course.Exercise) -----------------------------


def _course_exercise(crash_count=2):
    world, inject, outcome = _crash_nodes(crash_count, letters=True)
    return Exercise("Crash nodes: will the rest elect a leader?", CHOICES, inject=inject, outcome=outcome), world


def test_predict_takes_a_letter_or_the_text_and_rejects_anything_else():
    ex, _ = _course_exercise()
    assert ex.predict(" B ").prediction == CHOICES[1]
    assert ex.predict(CHOICES[0]).prediction == CHOICES[0]
    for bad in ("z", "c", 2, "a new leader"):
        with pytest.raises(ConfigError, match=r"not an answer of this exercise.*a = a new leader is elected"):
            ex.predict(bad)
    assert ex.prediction == CHOICES[0]          # a rejected prediction changes nothing


def test_an_empty_prediction_is_a_reminder_not_a_prediction(capsys):
    ex, _ = _course_exercise()
    ex.predict("")
    assert ex.prediction is None and "No prediction yet: write one of a, b" in capsys.readouterr().out


def test_verdict_compares_the_typed_prediction_with_what_happened():
    ex, world = _course_exercise(3)                 # 2 of 5 left: no leader
    ex.inject()
    assert ex.verdict().splitlines() == ["What happened: (b) the cluster stays without a leader — "
                                         "leader after the faults: None",
                                         "You did not predict — next time, commit to one before you inject."]
    ex.predict("a")
    assert ex.verdict().endswith("Your prediction (a) a new leader is elected — not this time; "
                                 "read the explanation below.")
    ex.predict("b")
    assert ex.verdict().endswith("Your prediction: right.")
    t = world.now
    ex.inject()
    assert world.now == t                           # injected once only


def test_an_outcome_outside_the_choices_is_a_clear_error():
    ex = Exercise("q?", CHOICES, inject=lambda: None, outcome=lambda: "perhaps")
    with pytest.raises(ConfigError, match=r"'perhaps' is not an answer of this exercise \(outcome\(\)\)"):
        ex.verdict()
    with pytest.raises(ConfigError, match="2 to 10 distinct text choices"):
        Exercise("q?", ["only one"])
    with pytest.raises(ConfigError, match="needs a question"):
        Exercise("", CHOICES)
    with pytest.raises(ConfigError, match="inject= must be a function"):
        Exercise("q?", CHOICES, inject="crash")


def _displayed(capsys_or_monkeypatch):
    shown = []
    import IPython.display
    capsys_or_monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    return shown


def test_outcomes_before_a_prediction_are_collapsed_and_open_when_the_learner_predicts(monkeypatch):
    shown = _displayed(monkeypatch)
    ex, _ = _course_exercise()
    ex.inject()
    ex.show("report line 1\nreport line 2")
    bundle = shown[-1]
    assert bundle["text/plain"] == "report line 1\nreport line 2"        # what nbval compares
    assert bundle["text/html"].startswith(f"<details class='faultlab-outcome'><summary>{HIDDEN_TITLE}")
    assert "application/vnd.jupyter.widget-view+json" in bundle
    box = ex._hidden[-1]
    assert box.selected_index is None and box.get_title(0) == HIDDEN_TITLE
    assert box.children[0].outputs[0]["text"] == "report line 1\nreport line 2\n"
    ex.predict("a")
    assert box.selected_index == 0 and box.get_title(0) == "Outcome — you predicted (a)"


def test_after_a_prediction_show_displays_plainly(monkeypatch, capsys):
    shown = _displayed(monkeypatch)
    ex, _ = _course_exercise()
    ex.predict("a").inject()
    ex.show("the report")
    assert capsys.readouterr().out == "the report\n" and not shown


def test_clicking_inject_in_the_widget_predicts_injects_and_reveals(monkeypatch):
    shown = _displayed(monkeypatch)
    ex, world = _course_exercise()
    ex.ask()
    assert "(a) a new leader is elected" in shown[0]["text/plain"]
    ex.inject()                                    # Run All: the inject cell runs before any click ...
    ex.show("report")
    box = ex._hidden[-1]
    t = world.now
    ex._widget.choose(CHOICES[0])
    ex._widget.inject_button.click()               # ... the learner predicts afterwards
    assert world.now == t and ex.prediction == CHOICES[0]
    assert box.selected_index == 0 and ex._widget.correct is True
    assert ex.verdict().endswith("Your prediction: right.")


def test_a_typed_prediction_also_sets_the_widget():
    ex, _ = _course_exercise()
    ex.ask()
    ex.predict("b")
    assert ex._widget.answer.value == CHOICES[1] and not ex._widget.inject_button.disabled
