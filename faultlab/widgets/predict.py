"""Predict, then inject: the chapter exercise pattern as a widget.

The reader picks what they think will happen, then clicks to inject the fault;
``check()`` reports what actually happened and the widget compares the two.
Committing to a prediction before seeing the outcome is the point, so the
inject button stays disabled until a choice is made.
"""
from __future__ import annotations

import html

import ipywidgets as W

from ..check.result import CheckResult
from ..errors import ConfigError


class PredictExercise(W.VBox):
    """``PredictExercise(question, choices, inject=fn, check=fn, verdicts=None)``.

    ``inject()`` performs the fault (and runs the world long enough to see its
    effect). ``check()`` returns the choice that happened, or ``(choice,
    explanation)``, or a ``CheckResult`` (then ``verdicts`` maps its verdict,
    'ok'/'violated'/'unknown', to a choice).
    """

    def __init__(self, question, choices, inject, check, verdicts=None, explain=None):
        if not isinstance(question, str) or not question.strip():
            raise ConfigError("PredictExercise needs a question (a non-empty string)")
        choices = list(choices) if choices is not None else []
        if len(choices) < 2 or not all(isinstance(c, str) for c in choices) or len(set(choices)) != len(choices):
            raise ConfigError(f"PredictExercise needs at least two distinct text choices, got {choices!r}")
        if not callable(inject) or not callable(check):
            raise ConfigError("PredictExercise needs inject=<function> and check=<function>")
        if verdicts is not None:
            bad = {k: v for k, v in verdicts.items() if v not in choices}
            if bad:
                raise ConfigError(f"verdicts map to answers that are not among the choices: {bad}")
        self.question, self.choices = question, choices
        self._inject, self._check, self.verdicts, self.explain = inject, check, verdicts, explain
        self.outcome = None
        self.prediction = None
        self.answer = W.RadioButtons(options=choices, value=None, layout=W.Layout(width="auto"))
        self.inject_button = W.Button(description="inject the fault", button_style="danger", disabled=True,
                                      icon="bolt", layout=W.Layout(width="180px"))
        self.inject_button.add_class("faultlab-inject")
        self.feedback = W.HTML()
        self.answer.observe(self._on_choice, names="value")
        self.inject_button.on_click(lambda _b: self.run())
        super().__init__([W.HTML(f"<b>Predict:</b> {html.escape(question)}"), self.answer,
                          self.inject_button, self.feedback])
        self.add_class("faultlab-predict")

    def _on_choice(self, change):
        self.inject_button.disabled = change["new"] is None or self.outcome is not None

    def choose(self, choice):
        """Pick an answer programmatically (as clicking the radio button does)."""
        if choice not in self.choices:
            raise ConfigError(f"{choice!r} is not one of the choices {self.choices}")
        self.answer.value = choice

    def run(self):
        """Inject, check and show the feedback; returns True when the prediction was right."""
        if self.answer.value is None:
            raise ConfigError("pick a prediction before injecting the fault")
        self.prediction = self.answer.value
        self.inject_button.disabled = True
        self.answer.disabled = True
        try:
            self._inject()
            outcome, why = self._interpret(self._check())
        except Exception as e:  # noqa: BLE001 - shown to the reader
            self.feedback.value = (f"<div style='color:#B22222'>the exercise failed: "
                                   f"{html.escape(type(e).__name__)}: {html.escape(str(e))}</div>")
            raise
        self.outcome = outcome
        right = outcome == self.prediction
        mark = ("<span style='color:#2CA02C'>✔ your prediction was right.</span>" if right else
                "<span style='color:#D62728'>✘ not what happened.</span>")
        extra = f"<br>{html.escape(self.explain)}" if self.explain else ""
        self.feedback.value = (f"<div class='faultlab-feedback'>You predicted <b>{html.escape(self.prediction)}"
                               f"</b>. What happened: <b>{html.escape(outcome)}</b>. {mark}"
                               f"{('<br>' + html.escape(why)) if why else ''}{extra}</div>")
        self.correct = right
        return right

    def _interpret(self, result):
        why = None
        if isinstance(result, CheckResult):
            if not self.verdicts or result.verdict not in self.verdicts:
                raise ConfigError(f"check() returned a CheckResult with verdict {result.verdict!r}; pass "
                                  "verdicts={'ok': <choice>, 'violated': <choice>} to say which answer it means")
            return self.verdicts[result.verdict], result.explanation
        if isinstance(result, tuple) and len(result) == 2:
            result, why = result
        if result not in self.choices:
            raise ConfigError(f"check() returned {result!r}, which is none of the choices {self.choices}")
        return result, why
