"""The Raft paper's Figure 8, scripted on five simulated servers n1..n5.

Why may a Raft leader not count replicas of an entry from an *earlier* term to
commit it? Because such an entry, even on a majority, can still be replaced by
a server whose last entry has a higher term. The script below replays the
paper's figure step by step with fixed faults:

  a. n1 leads term 1 (one write, ``w1``, committed everywhere); cut off with n2
     it appends ``w2`` at index 2, which reaches n2 only; n1 crashes.
  b. n5 wins the next term among n3, n4, n5 and appends ``w3`` at index 2, on
     itself only; n5 crashes.
  c. n1 restarts and wins a third term; it copies ``w2`` (term 1) to n2, n3, n4:
     a majority holds index 2 now. A leader that counts replicas commits it.
  d. n1 crashes, n5 restarts: its last entry has a higher term than anyone's,
     so it wins, and replaces index 2 on every server with ``w3``.

Only the commit rule differs between the runs: :class:`CountingRaft` commits by
counting replicas of any entry (the mistake), :class:`PaperRaft` only counts
entries of its own term (Raft's rule). Both skip the no-op a new faultlab
leader normally appends, so the figure's states appear exactly as drawn; the
real :class:`~faultlab.protocols.raft.Raft` adds that no-op on top of the rule.

Who wins each election is scripted too (the intended winner gets a short
election timeout, the others a long one): the lesson is the commit rule, and a
fixed outcome makes every step the same on every machine.
"""
from __future__ import annotations

from ..check import raft as raft_check
from ..errors import FaultlabError
from ..protocols.raft import Raft
from ..protocols.raft_messages import NOOP
from ..sim import World

NODES = ("n1", "n2", "n3", "n4", "n5")
WINNER_TIMEOUT = (150.0, 160.0)
OTHERS_TIMEOUT = (400.0, 500.0)


class PaperRaft(Raft):
    """Raft with the paper's commit rule and no leader no-op; elections follow ``script``."""

    script: dict = {}

    def _append(self, ctx, cmd):
        if cmd is NOOP:                   # as in the paper's figure: a new leader appends nothing
            return len(self.log)
        return super()._append(ctx, cmd)

    def _reset_election_timer(self, ctx):
        favoured = self.script.get("winner") == ctx.id
        ctx.set_timer("election", ctx.rng.uniform(*(WINNER_TIMEOUT if favoured else OTHERS_TIMEOUT)))


class CountingRaft(PaperRaft):
    """The mistake: commit the highest index a majority holds, whatever its term."""

    def _leader_commit(self, ctx):
        matches = sorted(list(self.match_index.values()) + [len(self.log)], reverse=True)
        n = matches[self._quorum(ctx) - 1]
        if n > self.commit_index:
            self._advance_commit(ctx, n)


def _writes(label):
    sent = []

    def next_op(rng):
        sent.append(label)
        return "put", "x", label
    return next_op


_SAFETY_WORD = {"ok": "all held", "unknown": "not checked"}


class FigureEight:
    """One scripted run; ``steps`` holds a snapshot of every server's log after each step."""

    def __init__(self, counting=False, seed=8):
        self.counting = counting
        self.rule = "counts replicas of any entry (the mistake)" if counting else "Raft's rule"
        self.script = {"winner": "n1"}
        cls = type("Scripted" + ("CountingRaft" if counting else "PaperRaft"),
                   (CountingRaft if counting else PaperRaft,), {"script": self.script})
        self.world = World(seed=seed, latency=(1, 5))
        for name in NODES:
            self.world.add_node(name, cls)
        self.steps: list = []
        self.leaders: list = []
        self._writes = 0

    # -- script helpers --------------------------------------------------------------
    def _favour(self, who):
        """The next election goes to ``who``: its timer is re-armed short from now on."""
        self.script["winner"] = who

    def _elect(self, who, within=2000.0):
        self._favour(who)
        deadline = self.world.now + within
        while self.world.now < deadline:
            self.world.run(duration=10)
            if self.world.leader() == who:
                term = self.status(who)["term"]
                self.leaders.append((who, term))
                return term
        raise FaultlabError(f"Figure 8 script: {who} did not win the election as scripted "
                            f"(leader now: {self.world.leader()}); the Raft election code changed?")

    def _write(self, node, label, settle=200.0):
        self.world.add_clients(1, _writes(label), targets=[node], stop=self.world.now + 0.001,
                               timeout=settle, prefix=f"w{self._writes + 1}-")
        self._writes += 1
        self.world.run(duration=settle)

    def status(self, node):
        return next(s for s in self.world.status() if s["node"] == node)

    def snapshot(self, label):
        """Every server's log, read from durable storage for crashed servers too."""
        rows = []
        for s in self.world.status():
            row = dict(s)
            if "log" not in row:
                row["log"] = list(self.world.storage(s["node"]).get("log", []))
                row["commit_index"] = 0
            rows.append(row)
        self.steps.append((label, rows))
        return rows

    # -- the figure --------------------------------------------------------------------
    def run(self):
        w = self.world
        w.start()
        self._elect("n1")
        self._write("n1", "w1")
        self._favour("n5")              # n1's heartbeats now re-arm n5's timer short
        w.run(duration=100)
        w.partition(["n1", "n2"], ["n3", "n4", "n5"])
        self._write("n1", "w2")
        w.crash("n1")
        self.snapshot("a: n1 (term 1) copied w2 to n2 only, then crashed")
        self._elect("n5")
        w.isolate("n5")
        self._write("n5", "w3")
        w.crash("n5")
        self.snapshot("b: n5 won term 2 and wrote w3 at index 2 on itself only, then crashed")
        self._favour("n1")
        w.heal()
        w.restart("n1")
        self._elect("n1")
        w.run(duration=300)
        self.snapshot("c: n1 won again and copied w2 (term 1) to a majority")
        self.committed_w2 = self.status("n1")["commit_index"] >= 2
        w.crash("n1")
        w.restart("n5")
        self._elect("n5")
        self._write("n5", "w4")
        w.run(duration=300)
        self.snapshot("d: n1 crashed; n5 (last term 2) won and replaced index 2 everywhere")
        return self

    def check(self):
        """The five Raft properties over the whole run."""
        return raft_check.check_all(self.world)

    def acknowledged(self):
        """Values the clients were told were written."""
        return [op.value for op in self.world.history.operations() if op.status == "ok"]

    def lost_elections(self):
        """Why some terms had no leader: who stood, how many votes, who refused (lines of text)."""
        from .raft_chapter import leaderless_terms
        return [f"term {term}: {node} stood for election and got {votes} of {len(NODES)} votes; "
                f"refused by {', '.join(refused) or 'nobody'}" for term, node, votes, refused
                in leaderless_terms(self.world)]

    def report(self):
        result = self.check()
        ok_values = self.acknowledged()
        final = self.status("n5")["log"]
        lines = [f"commit rule: {self.rule}",
                 f"w2 (term 1) committed while n1 led term {self.leaders[2][1]}: "
                 f"{'yes' if self.committed_w2 else 'no'}",
                 f"clients were told these writes succeeded: {', '.join(ok_values) or 'none'}",
                 f"index 2 on n5 at the end: {_label(final[1]) if len(final) > 1 else 'empty'}",
                 *self.lost_elections(),
                 f"safety properties: {_SAFETY_WORD.get(result.verdict, 'VIOLATED')}"]
        if not result.ok:
            lines += [f"  - {part}" for part in result.explanation.split("; ")]
        return "\n".join(lines)


def _label(entry):
    term, cmd = entry
    return f"{getattr(cmd, 'value', cmd)} (term {term})"


def figure_eight(counting=False, seed=8):
    """Run the scripted Figure 8 and return it (``.steps``, ``.world``, ``.report()``)."""
    return FigureEight(counting=counting, seed=seed).run()
