"""Lab 1 grader, in process: the reference solution earns full marks, wrong ones lose the right points."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from faultlab import ConfigError
from faultlab.grading import DEFAULT_SEEDS, ENV_VAR, grading_seeds, parse_seeds
from faultlab.grading import _election_runs, raft_election as lab

from lab01_variants import (CHECK_CELLS, EXPECTED_FAILURES, ROOT, SOLUTION, STUDENT, WRONG,  # noqa: E402
                            load_class, read, stored_text, wrong_notebook)


@pytest.fixture(autouse=True)
def _default_seeds(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture(scope="module")
def solution():
    return load_class(read(SOLUTION))


def reports(cls, seeds=None):
    return {c: lab.grade(cls, c, seeds).report() for c in lab.CHECKS}


def test_reference_solution_earns_full_marks(solution, capsys):
    outcomes = lab.results(solution)
    assert [o.passed for o in outcomes] == [True] * 5
    assert sum(o.earned for o in outcomes) == 100
    lab.score(solution)
    assert "Score: 100/100" in capsys.readouterr().out


def test_student_notebook_stores_exactly_the_full_score_report(solution, capsys):
    student = read(STUDENT)
    for check, cell_id in CHECK_CELLS.items():
        assert stored_text(student, cell_id) == lab.grade(solution, check).report() + "\n"
    lab.score(solution)
    assert stored_text(student, "score") == capsys.readouterr().out


def test_untouched_skeleton_scores_zero_and_says_which_todo():
    skeleton = load_class(read(STUDENT))
    outcomes = lab.results(skeleton)
    assert [o.earned for o in outcomes] == [0] * 5
    for o in outcomes:
        assert "NotImplementedError" in o.report() and "TODO" in o.report()


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_solution_fails_exactly_the_checks_that_target_it(name):
    cls = load_class(wrong_notebook(name))
    failed = {c for c in lab.CHECKS if not lab.grade(cls, c).passed}
    assert failed == EXPECTED_FAILURES[name]
    for check in failed:
        text = lab.grade(cls, check).report()
        assert text.startswith("FAIL") and f" 0/{lab.CHECKS[check][2]}" in text


@pytest.mark.parametrize("name,check", [("ignores_heartbeats", "heartbeats"), ("no_randomization", "liveness"),
                                        ("counts_replies_not_voters", "majority")])
def test_failing_report_names_a_seed_that_reproduces_the_failure(name, check, capsys):
    cls = load_class(wrong_notebook(name))
    outcome = lab.grade(cls, check)
    seed = int(outcome.failure.where.split()[-1])
    assert seed in DEFAULT_SEEDS
    assert f"reproduce: world = lab.reproduce(RaftElection, {check!r}, seed={seed})" in outcome.report()
    world = lab.reproduce(cls, check, seed)
    out = capsys.readouterr().out
    assert outcome.failure.detail in out
    again = lab.reproduce(cls, check, seed)
    assert again.trace_digest() == world.trace_digest()


def test_missing_vote_persistence_is_caught_by_the_simulation_too_not_only_by_hand():
    cls = load_class(wrong_notebook("no_vote_persistence"))
    failing = [s for s in DEFAULT_SEEDS if _election_runs.run("safety", cls, s)[2]]
    assert len(failing) >= len(DEFAULT_SEEDS) // 2
    assert "two leaders in term" in _election_runs.run("safety", cls, failing[0])[2]


def test_missing_vote_persistence_hand_stepped_scenario_explains_the_double_vote():
    cls = load_class(wrong_notebook("no_vote_persistence"))
    outcome = lab.grade(cls, "safety")
    assert "n3 voted for n1 in term 1, crashed, restarted and then voted for n2 in term 1 too" in \
        outcome.failure.detail
    assert outcome.total_runs == 0 and "hand-stepped" in outcome.report()   # reported before any seed


@pytest.mark.parametrize("seeds", ["101,202,303", "12@spring-2027", "3"])
def test_passing_report_is_identical_for_any_grading_seeds(solution, monkeypatch, seeds):
    default = reports(solution)
    monkeypatch.setenv(ENV_VAR, seeds)
    assert grading_seeds() == parse_seeds(seeds) != DEFAULT_SEEDS
    assert reports(solution) == default


def test_failing_report_names_the_instructors_seed(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "4242,77")
    cls = load_class(wrong_notebook("no_randomization"))
    text = lab.grade(cls, "liveness").report()
    assert "failed in 2 of 2 runs; the first failing run: seed 4242" in text


def test_salted_seeds_are_reproducible_and_differ_by_salt():
    assert parse_seeds("5@a") == parse_seeds(" 5 @ a ")
    assert parse_seeds("5@a") != parse_seeds("5@b")
    assert len(set(parse_seeds("20@x"))) == 20


@pytest.mark.parametrize("bad,words", [("", "is empty"), ("1,two,3", "'two' is not a non-negative integer"),
                                       ("-5", "not a non-negative integer"), ("1,1", "repeats a seed"),
                                       ("0@salt", "asks for 0 seeds"), ("x@", "is not '<count>@<salt>'")])
def test_bad_seed_setting_says_what_to_write(monkeypatch, bad, words):
    monkeypatch.setenv(ENV_VAR, bad)
    with pytest.raises(ConfigError) as e:
        grading_seeds()
    assert words in str(e.value) and ENV_VAR in str(e.value) and "'101,202,303'" in str(e.value)


def test_bad_arguments_get_clear_errors(solution):
    with pytest.raises(ConfigError, match="unknown check 'safty'; lab 1 has 'safety'"):
        lab.grade(solution, "safty")
    with pytest.raises(ConfigError, match="pass your node class"):
        lab.grade(solution(), "safety")
    with pytest.raises(ConfigError, match="non-empty list of non-negative integers"):
        lab.grade(solution, "safety", seeds=[])
    with pytest.raises(ConfigError, match="hand-stepped"):
        lab.reproduce(solution, "terms", seed=1)
    with pytest.raises(ConfigError, match="give the seed its report names"):
        lab.reproduce(solution, "liveness")


def test_hand_stepped_failure_replays_as_a_transcript(capsys):
    cls = load_class(wrong_notebook("no_vote_persistence"))
    report = lab.grade(cls, "safety").report()
    assert "reproduce: lab.reproduce(RaftElection, 'safety') prints the grader's steps" in report
    lab.reproduce(cls, "safety")
    out = capsys.readouterr().out.splitlines()
    assert "boot n3 (its storage: {'term': 1})" in out          # the vote was not stored
    assert out[-2:] == ["    n3 -> n2: VoteReply(term=1, granted=True)",
                        "=> " + lab.grade(cls, "safety").failure.detail]


def test_timeline_prints_roles_and_faults(solution, capsys):
    world = lab.reproduce(solution, "liveness", seed=2)
    capsys.readouterr()
    lab.timeline(world)
    out = capsys.readouterr().out
    assert "CRASH" in out and "PARTITION" in out and "HEAL" in out and " leader    term " in out


def test_grading_is_deterministic(solution):
    first = [_election_runs.run(s, solution, 5)[0].trace_digest() for s in _election_runs.SCENARIOS]
    again = [_election_runs.run(s, solution, 5)[0].trace_digest() for s in _election_runs.SCENARIOS]
    assert first == again


def test_watch_keeps_going_when_the_node_raises(capsys):
    lab.watch(load_class(read(STUDENT)), until=100)
    assert "stopped at t=0.0 ms" in capsys.readouterr().out


def _build_module():
    spec = importlib.util.spec_from_file_location("build_labs", ROOT / "scripts" / "build_labs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_student_notebook_is_built_from_the_current_solution():
    assert _build_module().main(["--check"]) == 0, "run: python scripts/build_labs.py"


def test_student_notebook_hides_the_solution():
    student = read(STUDENT)
    text = "".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "Reference solution" not in text
    node = next(c for c in student.cells if c.get("id") == "node").source
    for n in range(1, 9):
        assert f'raise NotImplementedError("TODO {n}")' in node
    assert "ctx.rng.uniform" not in node and 'ctx.storage["voted_for"] =' not in node


@pytest.mark.parametrize("source,words", [
    ("    # TODO 1\n    # BEGIN SOLUTION\n    x = 1\n", "without # END SOLUTION"),
    ("    x = 1\n    # END SOLUTION\n", "without # BEGIN SOLUTION"),
    ("    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", "needs a '# TODO n' comment"),
])
def test_build_rejects_malformed_solution_blocks(source, words):
    build = _build_module()
    with pytest.raises(build.BuildError, match=words):
        build.strip_solutions(source)


def test_a_message_storm_fails_the_check_instead_of_hanging(solution):
    class Storm(solution):
        """Answers every heartbeat reply with a new round of heartbeats: an endless flood."""
        def on_message(self, ctx, src, msg):
            super().on_message(ctx, src, msg)
            if isinstance(msg, lab.AppendReply) and self.role == "leader":
                ctx.broadcast(lab.AppendEntries(self.current_term(ctx), ctx.id))

    text = lab.grade(Storm, "heartbeats", seeds=[1]).report()
    assert text.startswith("FAIL") and f"over {_election_runs.MAX_EVENTS} events" in text


def test_check_cells_regrade_but_score_reuses_their_results(solution, monkeypatch):
    calls = []
    real = lab._grade
    monkeypatch.setattr(lab, "_grade", lambda *a: calls.append(a[1]) or real(*a))
    lab.check_terms(solution)
    lab.check_terms(solution)
    lab.grade(solution, "terms")
    assert calls == ["terms", "terms"]


def test_hand_stepped_checks_do_not_depend_on_timer_names_or_extra_timers(solution):
    class Ticking(solution):
        """Correct, but also keeps a periodic 'tick' timer running on every node."""
        def on_start(self, ctx):
            super().on_start(ctx)
            ctx.set_timer("tick", 20)

        def on_timer(self, ctx, name):
            if name == "tick":
                ctx.set_timer("tick", 20)
            else:
                super().on_timer(ctx, name)

    assert lab.grade(Ticking, "safety", seeds=[1]).passed
    assert lab.grade(Ticking, "terms").passed


def test_a_node_that_never_runs_for_election_is_told_so(solution):
    class Shy(solution):
        def start_election(self, ctx):
            self.reset_election_timer(ctx)

    text = lab.grade(Shy, "terms").failure.detail
    assert "sent RequestVote to nobody" in text and "'election'" in text


def test_submission_splicing_errors_say_what_to_do(tmp_path):
    import nbformat
    from faultlab.grading import submission

    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(plain, tmp_path / "plain.ipynb")
    with pytest.raises(ConfigError, match="not a faultlab lab notebook"):
        submission.grade([tmp_path / "plain.ipynb"])
    official = read(STUDENT)
    lost = read(STUDENT)
    lost.cells = [c for c in lost.cells if c.get("id") != "node"]
    with pytest.raises(ConfigError, match="no cell defining RaftElection"):
        submission.splice(lost, official)
    spliced = submission.splice(wrong_notebook("no_randomization"), official)
    node = next(c for c in spliced.cells if c.get("id") == "node").source
    assert "ELECTION_TIMEOUT[0]" in node
    assert stored_text(spliced, "check-safety") == stored_text(official, "check-safety")
