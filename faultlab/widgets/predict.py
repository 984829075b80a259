"""Predict, then inject: the chapter exercise pattern as a widget.

The reader picks what they think will happen, then clicks to inject the fault;
``check()`` reports what actually happened and the widget compares the two.
Committing to a prediction before seeing the outcome is the point, so the
inject button stays disabled — greyed out, with a tooltip saying why — until a
choice is made. Chapters use it through :class:`faultlab.course.Exercise`.
"""
from __future__ import annotations

import html

import ipywidgets as W

from ..check.result import CheckResult
from ..errors import ConfigError

PICK_FIRST = "pick a prediction first"
# ipywidgets gives HTML and radio labels a fixed 24-28 px line height, which double-spaces wrapped
# text; the disabled danger button keeps its red. Scoped to this widget's own classes.
STYLE = """<style>
.faultlab-predict .widget-html-content {line-height: 1.4;}
.faultlab-predict .widget-radio-box label {height: auto; line-height: 1.35; margin: 2px 0; white-space: normal;}
.faultlab-predict .faultlab-inject:disabled {opacity: 0.4; cursor: not-allowed; filter: grayscale(1);}
</style>"""


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
        self.correct = None
        self.prediction = None
        self.answer = W.RadioButtons(options=choices, value=None, layout=W.Layout(width="auto"))
        self.inject_button = W.Button(description="inject the fault", icon="bolt", layout=W.Layout(width="180px"))
        self.inject_button.add_class("faultlab-inject")
        self._enable(False)
        self.feedback = W.HTML()
        self.answer.observe(self._on_choice, names="value")
        self.inject_button.on_click(lambda _b: self.run())
        super().__init__([W.HTML(f"{STYLE}<b>Predict:</b> {html.escape(question)}"), self.answer,
                          self.inject_button, self.feedback])
        self.add_class("faultlab-predict")

    def _enable(self, on, why=PICK_FIRST):
        """Enabled: red and clickable. Disabled: grey, and the tooltip says why."""
        b = self.inject_button
        b.disabled = not on
        b.button_style = "danger" if on else ""
        b.tooltip = "inject the fault and run the cluster on" if on else why

    def _on_choice(self, change):
        if self.outcome is None:
            self._enable(change["new"] is not None)

    def choose(self, choice):
        """Pick an answer programmatically (as clicking the radio button does)."""
        if choice not in self.choices:
            raise ConfigError(f"{choice!r} is not one of the choices {self.choices}")
        self.answer.value = choice

    def run(self):
        """Inject, check and show the feedback; True when the prediction was right (None: could not run)."""
        if self.answer.value is None:
            raise ConfigError("pick a prediction before injecting the fault")
        self.prediction = self.answer.value
        self._enable(False, why="already injected")
        self.answer.disabled = True
        try:
            self._inject()
            result = self._check()
            if result is None:
                self.outcome, self.correct = "", None
                self.feedback.value = ("<div class='faultlab-feedback'>The experiment could not run on this "
                                       "machine, so there is nothing to compare; read the explanation.</div>")
                return None
            outcome, why = self._interpret(result)
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
