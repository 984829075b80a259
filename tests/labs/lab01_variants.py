"""Lab 1 notebooks as code: the cells the tests run, and typical wrong solutions.

Each wrong solution is the reference solution's class cell with a few exact
text edits, the way a student might get it wrong. ``EXPECTED_FAILURES`` says
which checks must catch it (with the default grading seeds).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from faultlab.grading import raft_election as lab

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "labs" / "solutions" / "lab01_raft_election.ipynb"
STUDENT = ROOT / "labs" / "lab01_raft_election.ipynb"
REFERENCE = ROOT / "faultlab" / "grading" / "reference" / "lab01_raft_election.ipynb"
CHECK_CELLS = {"safety": "check-safety", "liveness": "check-liveness", "majority": "check-majority",
               "terms": "check-terms", "heartbeats": "check-heartbeats"}

WRONG = {
    # votedFor kept on self: forgotten in a crash, so a restarted voter votes twice in one term
    "no_vote_persistence": [
        ('ctx.storage.get("voted_for")', 'getattr(self, "voted_for", None)'),
        ('ctx.storage["voted_for"] =', 'self.voted_for ='),
    ],
    # the same timeout everywhere: every election is a split vote, forever
    "no_randomization": [("ctx.rng.uniform(*ELECTION_TIMEOUT)", "ELECTION_TIMEOUT[0]")],
    # no term guards: stale RequestVote / AppendEntries / VoteReply are all accepted
    "accepts_stale_terms": [
        ("if msg.term < term:", "if False:"),
        ("if msg.term < self.current_term(ctx):", "if False:"),
    ],
    # heartbeats do not re-arm the follower's timer: elections every few hundred ms
    "ignores_heartbeats": [
        ("        self.reset_election_timer(ctx)\n        ctx.send(src, AppendReply(term, True))",
         "        ctx.send(src, AppendReply(term, True))"),
    ],
    # counts replies, not voters: a duplicated reply counts twice
    "counts_replies_not_voters": [
        ("self.votes.add(src)", "self.votes.add((src, len(self.votes)))"),
    ],
    # counts refusals as votes
    "counts_refusals": [('if self.role == "candidate" and msg.granted:', 'if self.role == "candidate":')],
    # a majority off by one: two of five elect a leader
    "majority_off_by_one": [("len(self.votes) >= majority(ctx)", "len(self.votes) >= majority(ctx) - 1")],
}

EXPECTED_FAILURES = {
    "no_vote_persistence": {"safety"},
    "no_randomization": {"liveness", "heartbeats"},
    "accepts_stale_terms": {"terms"},
    "ignores_heartbeats": {"heartbeats"},
    "counts_replies_not_voters": {"majority"},
    "counts_refusals": {"safety", "majority", "heartbeats"},
    "majority_off_by_one": {"safety", "majority"},
}

# the three that the tests also push through nbval in a real kernel
NBVAL_WRONG = ["no_vote_persistence", "no_randomization", "accepts_stale_terms"]


def read(path):
    return nbformat.read(path, as_version=4)


def cell(nb, cell_id):
    for c in nb.cells:
        if c.get("id") == cell_id:
            return c
    raise KeyError(f"no cell with id {cell_id!r}")


def code_index(nb, cell_id):
    """nbval names code cells 'Cell N', N counting code cells only."""
    code = [c.get("id") for c in nb.cells if c.cell_type == "code"]
    return code.index(cell_id)


def wrong_source(name, source):
    for old, new in WRONG[name]:
        if old not in source:
            raise AssertionError(f"wrong solution {name!r}: {old!r} no longer appears in the solution")
        source = source.replace(old, new)
    return source


def wrong_notebook(name, nb=None):
    nb = read(SOLUTION) if nb is None else nb
    c = cell(nb, "node")
    c.source = wrong_source(name, c.source)
    return nb


def load_class(nb):
    """Run the notebook's import and class cells in a fresh namespace; return RaftElection."""
    ns: dict = {}
    for cid in ("imports", "node"):
        exec(compile(cell(nb, cid).source, f"<{cid} cell>", "exec"), ns)
    return ns["RaftElection"]


def stored_text(nb, cell_id):
    return "".join(o.get("text", "") for o in cell(nb, cell_id).outputs if o.output_type == "stream")


def without_todo_lines(source):
    """A finished class cell the way a tidy student leaves it: no TODO or SOLUTION marker lines at all."""
    kept = [line for line in source.splitlines() if "TODO" not in line and "SOLUTION" not in line]
    return "\n".join(kept)


def saved_after_failing_run(name="no_vote_persistence", tidy=False):
    """A student notebook with wrong code, saved after running it: its outputs are the FAIL reports."""
    nb = read(STUDENT)
    source = wrong_source(name, cell(read(SOLUTION), "node").source)
    cell(nb, "node").source = without_todo_lines(source) if tidy else source
    wrong = load_class(nb)
    for check, cell_id in CHECK_CELLS.items():
        cell(nb, cell_id).outputs = [nbformat.v4.new_output(
            "stream", name="stdout", text=lab.grade(wrong, check).report() + "\n")]
    cell(nb, "score").outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text=lab.score_report(lab.TITLE, lab.results(wrong)) + "\n")]
    return nb
