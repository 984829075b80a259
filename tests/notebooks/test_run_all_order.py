"""Run All does not spoil: every exercise's question comes before its answer.

A chapter run top to bottom (Run → Run All Cells, nbval, the build) injects every fault, so what
each exercise shows must sit in a collapsed box until the learner predicts, and its Explain text
must be folded in ``<details>``. Checked on the committed outputs and on a fresh run in a kernel,
whose widget state shows that the boxes are collapsed yet hold the figures and reports.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from faultlab.course.exercise import EXPLAIN_SUMMARY, HIDDEN_TITLE

ROOT = Path(__file__).resolve().parents[2]
# chapter -> how many predict exercises it has (a chapter adopting the pattern adds itself here)
CHAPTERS = {"03c_raft.ipynb": 5, "04_practice_zookeeper_etcd.ipynb": 4}
WIDGET = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
HIDDEN = f"<details class='faultlab-outcome'><summary>{HIDDEN_TITLE}</summary>"
PROGRESS = re.compile(r"^elections \(n=\d+, timeouts [\d–]+ ms\):")


def _exercises(nb):
    """``{variable: index of the cell that asks its question}``."""
    asked = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for var in re.findall(r"^(\w+)\.ask\(\)", cell.source, re.M):
                asked[var] = i
    return asked


def _kind(output):
    data = output.get("data", {})
    if output.get("output_type") == "stream":
        return "plain text"
    if WIDGET in data and str(data.get("text/html", "")).startswith(HIDDEN):
        return "hidden"
    if WIDGET in data and (PROGRESS.match(data.get("text/plain", "")) or data["text/plain"].startswith("Predict:")):
        return "question or progress"
    return "figure" if PLOTLY in data else "other"


def assert_question_before_answer(nb, expected, static=True):
    asked = _exercises(nb)
    assert len(asked) == expected, f"found exercises {sorted(asked)}, expected {expected}"
    for var, q in asked.items():
        cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and re.search(rf"\b{var}\.", c.source)]
        shown = [(i, o) for i, c in cells for o in c.outputs if _kind(o) != "question or progress"]
        assert shown, f"{var}: nothing shown after its question"
        assert min(i for i, _ in shown) > q, f"{var}: an outcome appears before its question (cell {q})"
        plain = [(i, _kind(o)) for i, o in shown if _kind(o) != "hidden"]
        assert not plain, f"{var}: shown uncollapsed before any prediction: {plain}"
        reports = [o.data["text/plain"] for _, o in shown if not o.data["text/plain"].startswith("[figure")]
        assert reports and all("\n" in r or ":" in r for r in reports), f"{var}: no checked report text"
        figures = [o for _, o in shown if o.data["text/plain"].startswith("[figure")]
        assert not static or all("data:image/png;base64," in o.data["text/html"] for o in figures), \
            f"{var}: a hidden figure without its PNG for HTML exports"


def assert_explanations_folded(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        outside = re.sub(r"<details>.*?</details>", "", cell.source, flags=re.S)
        assert not re.search(r"\*\*Explain[.:]\*\*", outside), f"cell {i}: an Explain paragraph outside <details>"
        if "<details>" in cell.source:
            assert f"<summary>{EXPLAIN_SUMMARY}</summary>\n\n" in cell.source, \
                f"cell {i}: <details> needs '<summary>{EXPLAIN_SUMMARY}</summary>' and a blank line after it"


@pytest.mark.parametrize("name", CHAPTERS)
def test_committed_outputs_keep_every_answer_folded_until_a_prediction(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    assert_question_before_answer(nb, CHAPTERS[name])
    assert_explanations_folded(nb)


def test_the_order_check_catches_an_answer_printed_in_plain_sight():
    nb = nbformat.read(ROOT / "notebooks" / "03c_raft.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source == "ex1.show(ex1.report())")
    text = cell.outputs[0].data["text/plain"]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]   # print(ex1.report())
    with pytest.raises(AssertionError, match="ex1: shown uncollapsed"):
        assert_question_before_answer(nb, CHAPTERS["03c_raft.ipynb"])
    md = next(c for c in nb.cells if c.cell_type == "markdown" and "<details>" in c.source)
    md.source = md.source.replace("<details>", "**Explain.** Two servers are not a majority.\n\n<details>", 1)
    with pytest.raises(AssertionError, match="outside <details>"):
        assert_explanations_folded(nb)


@pytest.mark.notebook
def test_a_fresh_run_all_hides_outcomes_in_collapsed_boxes_that_hold_them():
    from nbclient import NotebookClient
    path = ROOT / "notebooks" / "03c_raft.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    assert_question_before_answer(nb, CHAPTERS["03c_raft.ipynb"], static=False)   # no PNGs in a plain run
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    boxes = [o.data[WIDGET]["model_id"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if _kind(o) == "hidden"]
    assert len(boxes) >= 15
    for model_id in boxes:
        box = state[model_id]
        assert box["model_name"] == "AccordionModel" and box["state"]["selected_index"] is None
        assert box["state"]["titles"] == [HIDDEN_TITLE]
        inner = state[box["state"]["children"][0].removeprefix("IPY_MODEL_")]["state"]
        assert inner["outputs"], "a collapsed box with nothing inside"
