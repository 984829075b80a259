"""The committed course notebooks: listed in the course map, small, no widget state, figures that
survive an offline HTML export, deterministic text; and the chapter helpers they rely on."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest

from faultlab import course
from faultlab.course import chapters as cmap
from faultlab.course import raft_chapter as ch
from faultlab.course.figure8 import figure_eight
from faultlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
COMMITTED = sorted(p for p in [*NOTEBOOKS.rglob("*.ipynb"), *(ROOT / "labs").rglob("*.ipynb")]
                   if ".ipynb_checkpoints" not in p.parts)
CHAPTERS_WITH_FIGURES = [NOTEBOOKS / "03c_raft.ipynb", NOTEBOOKS / "00_start_here.ipynb"]
PLOTLY = "application/vnd.plotly.v1+json"
MAX_BYTES = 1_500_000


# -- the course map --------------------------------------------------------------------------
def test_every_notebook_in_notebooks_is_on_the_course_map():
    listed = {(NOTEBOOKS / c.path).resolve() for c in cmap.CHAPTERS}
    missing = [str(p.relative_to(ROOT)) for p in NOTEBOOKS.rglob("*.ipynb")
               if ".ipynb_checkpoints" not in p.parts and p.resolve() not in listed]
    assert not missing, f"add these to CHAPTERS in faultlab/course/chapters.py: {missing}"


def test_the_map_follows_the_eight_sections_of_the_article():
    sections = {c.section.rstrip("abcd") for c in cmap.CHAPTERS}
    assert {str(i) for i in range(1, 9)} <= sections


def test_available_chapters_link_and_coming_ones_do_not(tmp_path, monkeypatch):
    monkeypatch.setattr(cmap, "NOTEBOOKS", tmp_path)
    (tmp_path / "03c_raft.ipynb").write_text("{}")
    text = cmap.course_map_markdown()
    assert "[Raft](03c_raft.ipynb)" in text
    paxos = next(line for line in text.splitlines() if "Paxos" in line)
    assert "*coming*" in paxos and "](" not in paxos
    assert text.count("available") == 1


def test_links_in_the_real_map_resolve():
    for target in re.findall(r"\]\(([^)]+)\)", cmap.course_map_markdown()):
        assert (NOTEBOOKS / target).is_file(), target


# -- committed notebooks -----------------------------------------------------------------------
@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_notebooks_are_small_and_keep_no_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, "executed with store_widget_state=True: re-run without it"
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size / 1e6:.1f} MB; keep notebooks under 1.5 MB"


@pytest.mark.parametrize("path", CHAPTERS_WITH_FIGURES, ids=lambda p: p.name)
def test_every_figure_has_an_interactive_and_a_static_copy(path):
    nb = nbformat.read(path, as_version=4)
    figures = [o.data for c in nb.cells if c.cell_type == "code" for o in c.outputs if PLOTLY in o.get("data", {})]
    assert figures, "no figures stored"
    hidden = [o.data["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if str(o.get("data", {}).get("text/plain", "")).startswith("[figure")]
    for page in hidden:                                   # exercise figures folded until a prediction
        assert 'src="data:image/png;base64,' in page, "folded figure without PNG: rebuild the notebook"
    for data in figures:
        assert "image/png" in data, "figure without PNG: rebuild with python -m faultlab.course.build"
        assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    html_js = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})
               and ("Plotly.newPlot" in o.data["text/html"] or "window.PlotlyConfig" in o.data["text/html"])]
    assert not html_js, "plotly.js embedded in the notebook (use the plotly_mimetype renderer)"


@pytest.mark.parametrize("path", CHAPTERS_WITH_FIGURES, ids=lambda p: p.name)
def test_html_export_shows_every_figure_offline(path):
    from nbconvert import HTMLExporter
    nb = nbformat.read(path, as_version=4)
    n_figures = sum(PLOTLY in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', body)) >= n_figures


@pytest.mark.parametrize("path", CHAPTERS_WITH_FIGURES, ids=lambda p: p.name)
def test_checked_text_outputs_hold_no_volatile_values(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue
        for o in cell.outputs:
            text = o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
            assert not re.search(r"0x[0-9a-f]{6,}|\d{4}-\d\d-\d\dT\d\d:\d\d", text), text
            assert o.get("name") != "stderr", text


# -- helpers the chapters use --------------------------------------------------------------------
def test_setup_rejects_a_bad_seed_and_picks_the_json_renderer():
    import plotly.io as pio
    with pytest.raises(ConfigError, match="seed"):
        course.setup(seed="one")
    assert course.setup(seed=3, static=False) == 3
    assert pio.renderers.default == "plotly_mimetype"


def test_exercises_reject_a_bad_seed():
    with pytest.raises(ConfigError, match="seed"):
        ch.CrashLeader(seed="1")


def test_crash_exercise_finds_a_new_leader_and_injects_once():
    ex = ch.CrashLeader(seed=2)
    old = ex.leader
    ex.inject()
    t = ex.world.now
    ex.inject()                                  # a second inject (a click after the cell) does nothing
    assert ex.world.now == t
    assert ex.outcome()[0] == ex.choices[1]
    assert ex.world.leader() not in (None, old)
    assert "new leader elected: yes" in ex.report() and "all held" in ex.report()


def test_partition_exercise_overwrites_the_minority_leaders_entries():
    ex = ch.PartitionLeader(seed=3).inject()
    report = ex.report()
    assert ex.stale_entries(), "the old leader appended nothing while cut off"
    assert "committed anything while cut off: no" in report
    assert "stepped down: yes" in report and "overwritten: yes" in report and "all held" in report


def test_pause_exercise_zombie_steps_down():
    ex = ch.PauseLeader(seed=4).inject()
    assert ex.step_down() is not None
    assert "commits by the zombie after waking: 0" in ex.report()


def test_figure_eight_breaks_only_the_counting_rule():
    mistake, rule = figure_eight(counting=True), figure_eight(counting=False)
    assert [n for n, _ in mistake.leaders] == ["n1", "n5", "n1", "n5"] == [n for n, _ in rule.leaders]
    assert mistake.committed_w2 and not rule.committed_w2
    bad = mistake.check()
    assert bad.verdict == "violated" and "state-machine safety" in bad.explanation
    assert rule.check().ok
    index2 = {r["node"]: r["log"][1][1].value for r in rule.steps[2][1]}
    assert index2 == {"n1": "w2", "n2": "w2", "n3": "w2", "n4": "w2", "n5": "w3"}   # step c: w2 on a majority


def test_figure_eight_is_deterministic():
    assert figure_eight().world.trace_digest() == figure_eight().world.trace_digest()


def test_election_exercise_narrow_range_splits_votes():
    ex = ch.ElectionExercise(seeds=range(20), progress=False).inject()
    assert ex.outcome()[0] == ex.choices[2]
    assert "more split votes: yes" in ex.report()


@pytest.mark.parametrize("path", CHAPTERS_WITH_FIGURES, ids=lambda p: p.name)
def test_widgets_leave_readable_text_for_html_exports(path):
    nb = nbformat.read(path, as_version=4)
    texts = [o.data["text/plain"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
             and "elections" not in o.data["text/plain"]]                 # tqdm bars keep their own text
    assert texts
    for text in texts:
        assert not re.match(r"\w+\(children=", text), f"a widget's repr instead of a stand-in: {text[:80]}"


def test_ask_shows_the_question_and_choices_as_text(capsys):
    ex = ch.CrashLeader(seed=1)
    ex.ask()
    out = capsys.readouterr().out
    assert "Predict: The leader crashes" in out and "(a) nothing: it waits" in out


def test_build_refuses_what_is_not_a_notebook(tmp_path):
    from faultlab.course.build import main
    with pytest.raises(SystemExit, match="not a notebook file"):
        main([str(tmp_path / "chapter.txt")])


def test_a_lone_follower_returns_with_the_highest_term_and_is_refused_for_its_short_log():
    vote = ch.UpToDateVote(seed=1)
    refused = vote.refused()
    assert refused and all(no == 4 and ok == 0 for _, no, ok in refused)     # all four others refuse
    assert vote.alone["term"] > vote.rest["term"] and len(vote.alone["log"]) < len(vote.rest["log"])
    new_leader = vote.world.leader()
    assert new_leader != vote.loner
    assert "no leader in any of those terms" in vote.report() and "now has the full log: yes" in vote.report()


def test_terms_and_role_diagram_come_from_the_trace():
    vote = ch.UpToDateVote(seed=1)
    spans = ch.term_spans(vote.world)
    leaderless = [t for t, _, won, _ in spans if won is None]
    assert leaderless and spans[0][2] is not None and spans[-1][2] is not None
    assert [t for t, *_ in spans] == list(range(1, spans[-1][0] + 1))
    counts = ch.role_transitions(vote.world)
    assert counts[("start", "follower")] == 5 and counts[("candidate", "candidate")] >= len(leaderless) - 2
    assert counts[("leader", "follower")] >= 1
    assert len(ch.terms_figure(vote.world).data) >= len(spans)
    assert ch.role_diagram(vote.world).layout.title.text.startswith("Roles")


def test_figure_eight_reports_why_term_three_had_no_leader():
    assert "term 3: n3 stood for election and got 2 of 5 votes; refused by n1, n2" in figure_eight().report()


def test_panel_can_start_after_the_first_election(monkeypatch):
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    from faultlab.protocols import raft
    world = raft.build(n=3, seed=1)
    course.panel(world, elect=True)
    assert world.leader() is not None and world.now < 1000
    with pytest.raises(ConfigError, match="simulated cluster"):
        course.panel(object(), elect=True)
