"""One way to write a chapter exercise: predict → inject → observe → explain, safe under *Run All*.

A learner should meet every question before its answer, also when they run a
whole chapter with *Run → Run All Cells*, while a top-to-bottom run (nbval, the
build) still executes and checks everything. So the simulation always runs, but
what it shows waits for a prediction:

* ``ex.show(...)`` displays figures and report text. Before the learner has
  predicted, they go into a collapsed box ("Outcome hidden until you predict
  above — click to open anyway"); every box of the exercise opens by itself the
  moment a prediction is made. Once a prediction exists, ``show`` displays
  plainly. The box's ``text/plain`` stand-in is the report text itself, so nbval
  compares it (nbval skips the widget's model id and PNGs, compares
  ``text/plain`` and ``text/html``); its ``text/html`` holds the same inside
  ``<details>``, so HTML exports and GitHub stay spoiler-free too.
* The chapter's *Explain* Markdown goes in
  ``<details><summary>Explain — open after you have observed</summary> … </details>``
  (:data:`EXPLAIN_SUMMARY`), collapsed until opened.

Usage — a chapter's helper module defines the exercise::

    class CrashLeader(Exercise):
        question = "The leader crashes. What does the cluster do next?"
        choices = ("nothing", "another server leads within a second", "every server leads")

        def _inject(self):              # the fault, run long enough to see its effect
            ...

        def outcome(self):              # a letter or a choice's text, optionally (choice, why);
            return "b", "n2 leads term 2"   # None: the experiment could not run here

and the notebook calls, one short cell each::

    ex = CrashLeader()
    ex.ask()                   # widget: pick an answer, then 'inject the fault'
    ex.predict("b")            # or a typed prediction; "" means not yet
    ex.inject()                # once; a second call (or the button) does nothing
    ex.show(ex.timeline())     # hidden until predicted
    ex.show(ex.report())       # checked by nbval through its text stand-in
    ex.show(ex.verdict())      # "What happened: (b) …  Your prediction: right."

A one-off exercise needs no class: ``Exercise(question, choices, inject=fn,
outcome=fn, explain=text)``.
"""
from __future__ import annotations

import html
import re

from ..errors import ConfigError

LETTERS = "abcdefghij"
HIDDEN_TITLE = "Outcome hidden until you predict above — click to open anyway"
EXPLAIN_SUMMARY = "Explain — open after you have observed"

__all__ = ["Exercise", "yes", "LETTERS", "HIDDEN_TITLE", "EXPLAIN_SUMMARY"]


def yes(flag):
    """'yes' or 'no': how report lines state a finding."""
    return "yes" if flag else "no"


class Exercise:
    """A question with lettered choices, a fault to inject, and a rule for what happened.

    Subclasses set ``question``, ``choices`` (and ``explain``) as class attributes and implement
    ``_inject()`` and ``outcome()``; they need not call ``__init__``.
    """

    question = ""
    choices: tuple = ()
    explain = None
    prediction = None          # the text of the chosen answer, once the learner predicted
    injected = False

    def __init__(self, question=None, choices=None, *, inject=None, outcome=None, explain=None):
        if question is not None:
            self.question = question
        if choices is not None:
            self.choices = tuple(choices)
        if explain is not None:
            self.explain = explain
        for name, fn in (("inject", inject), ("outcome", outcome)):
            if fn is not None and not callable(fn):
                raise ConfigError(f"Exercise: {name}= must be a function, got {fn!r}")
        if inject is not None:
            self._inject = inject
        if outcome is not None:
            self.outcome = outcome
        self._check_set_up()

    # -- the parts a subclass provides ----------------------------------------------------------
    def _inject(self):
        raise NotImplementedError(f"{type(self).__name__} must define _inject() (or pass inject=)")

    def outcome(self):
        """The choice that happened (letter or text), or ``(choice, why)``; None if it could not run."""
        raise NotImplementedError(f"{type(self).__name__} must define outcome() (or pass outcome=)")

    # -- predict ------------------------------------------------------------------------------
    def ask(self):
        """Show the prediction widget (its text stand-in lists question and choices for exports)."""
        from ..widgets import PredictExercise
        from . import show_widget
        self._check_set_up()
        widget = PredictExercise(self.question, list(self.choices), inject=self._inject_from_widget,
                                 check=self._happened_text, explain=self.explain)
        self._widget = widget
        choices = "\n".join(f"  ({letter}) {c}" for letter, c in zip(LETTERS, self.choices))
        show_widget(widget, f"Predict: {self.question}\n{choices}\n[in JupyterLab: pick an answer, "
                            "then click 'inject the fault']")

    def predict(self, choice):
        """A typed prediction: a letter ("b") or a choice's text. Empty means "not yet" (a reminder)."""
        self._check_set_up()
        if choice is None or (isinstance(choice, str) and not choice.strip()):
            print(f"No prediction yet: write one of {', '.join(self.letters)} between the quotes and run "
                  "this cell again (the outcomes below stay hidden until you do).")
            return self
        self.prediction = self._choice(choice)
        widget = getattr(self, "_widget", None)
        if widget is not None and widget.outcome is None:
            widget.choose(self.prediction)
        self._reveal()
        return self

    @property
    def letters(self):
        return tuple(LETTERS[:len(self.choices)])

    def letter(self, choice):
        """The letter of a choice given by letter or text."""
        return LETTERS[self.choices.index(self._choice(choice))]

    # -- inject -------------------------------------------------------------------------------
    def inject(self):
        """Inject the fault and run on (once: later calls and a click after Run All do nothing)."""
        if not self.injected:
            self.injected = True
            self._inject()
        return self

    # -- observe ------------------------------------------------------------------------------
    def happened(self):
        """``(choice text, why)`` of what happened; ``(None, None)`` when it could not run here."""
        result = self.outcome()
        why = None
        if isinstance(result, tuple) and len(result) == 2:
            result, why = result
        if result is None:
            return None, None
        return self._choice(result, who="outcome()"), why

    def verdict(self):
        """What happened, compared with the prediction (plain text; show it with ``show``)."""
        happened, why = self.happened()
        if happened is None:
            return ("The experiment could not run on this machine, so there is nothing to compare; "
                    "read the explanation below.")
        lines = [f"What happened: ({self.letter(happened)}) {happened}" + (f" — {why}" if why else "")]
        if self.prediction is None:
            lines.append("You did not predict — next time, commit to one before you inject.")
        elif self.prediction == happened:
            lines.append("Your prediction: right.")
        else:
            lines.append(f"Your prediction ({self.letter(self.prediction)}) {self.prediction} — not this "
                         "time; read the explanation below.")
        return "\n".join(lines)

    def show(self, *items):
        """Display figures and strings: plainly once predicted, else in a collapsed box."""
        if not items:
            raise ConfigError("show() needs something to show: a figure or a report string")
        from IPython.display import display
        if self.prediction is not None:
            for item in items:
                if isinstance(item, str):
                    print(item)
                else:
                    display(item)
            return None
        box, text, page = _hidden_box(items)
        self.__dict__.setdefault("_hidden", []).append(box)
        from . import show_widget
        show_widget(box, text, html=page)
        return None

    # -- internals ----------------------------------------------------------------------------
    def _reveal(self):
        title = f"Outcome — you predicted ({self.letter(self.prediction)})"
        for box in self.__dict__.get("_hidden", []):
            box.set_title(0, title)
            box.selected_index = 0

    def _inject_from_widget(self):
        self.prediction = self._choice(self._widget.answer.value)
        self.inject()
        self._reveal()

    def _happened_text(self):
        happened, why = self.happened()
        return None if happened is None else (happened, why)

    def _choice(self, value, who="prediction"):
        if isinstance(value, str):
            key = value.strip()
            if key in self.choices:
                return key
            if key.lower() in self.letters:
                return self.choices[LETTERS.index(key.lower())]
        options = "; ".join(f"{letter} = {c}" for letter, c in zip(LETTERS, self.choices))
        raise ConfigError(f"{value!r} is not an answer of this exercise ({who}): give a letter or the "
                          f"text of a choice — {options}")

    def _check_set_up(self):
        if not isinstance(self.question, str) or not self.question.strip():
            raise ConfigError(f"{type(self).__name__} needs a question (a non-empty string)")
        c = self.choices
        if (not isinstance(c, tuple) or not 2 <= len(c) <= len(LETTERS)
                or not all(isinstance(x, str) and x.strip() for x in c) or len(set(c)) != len(c)):
            raise ConfigError(f"{type(self).__name__} needs 2 to {len(LETTERS)} distinct text choices "
                              f"(a tuple of strings), got {c!r}")


def _bundle(item):
    """The display data of a figure or other displayable object (plotly: JSON, and PNG when static)."""
    if hasattr(item, "_repr_mimebundle_"):
        data = item._repr_mimebundle_()
        data = data[0] if isinstance(data, tuple) else data
        if data:
            return dict(data)
    return {"text/plain": repr(item)}


def _hidden_box(items):
    """A collapsed Accordion around ``items``, its plain-text stand-in and its HTML ``<details>``."""
    import ipywidgets as W
    outputs, texts, parts = [], [], []
    for item in items:
        if isinstance(item, str):
            outputs.append({"output_type": "stream", "name": "stdout", "text": item + "\n"})
            texts.append(item)
            parts.append(f"<pre>{html.escape(item)}</pre>")
            continue
        data = _bundle(item)
        outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        title = _figure_title(item)
        texts.append(f"[figure{': ' + title if title else ''} — hidden until you predict]")
        png = data.get("image/png")
        parts.append(f'<img src="data:image/png;base64,{png}"/>' if png else f"<p>{html.escape(texts[-1])}</p>")
    out = W.Output()
    out.outputs = tuple(outputs)
    box = W.Accordion(children=[out], selected_index=None)
    box.set_title(0, HIDDEN_TITLE)
    box.add_class("faultlab-outcome")
    page = (f"<details class='faultlab-outcome'><summary>{html.escape(HIDDEN_TITLE)}</summary>"
            f"{''.join(parts)}</details>")
    return box, "\n".join(texts), page


def _figure_title(item):
    """A plotly figure's title without its HTML subtitle (``<span>…</span>``)."""
    try:
        text = item.layout.title.text or ""
    except AttributeError:
        return ""
    return re.sub(r"<[^>]*>.*", "", text).strip()
