"""Two-phase commit (2PC) with a durable decision log and presumed abort.

Phase 1: the coordinator sends ``Prepare``; each participant does its work,
then votes. A *yes* vote is a promise: the participant forces a ``prepared``
record to its log, keeps the locks, and from then on may **not** decide on its
own -- it is *uncertain* until it learns the outcome. Phase 2: the coordinator
forces its decision to its log *before* telling anyone, then sends it until
every participant acknowledges.

Recovery. A participant that restarts with a ``prepared`` record re-takes its
locks and asks (the coordinator, and -- cooperative termination -- its peers).
A restarted coordinator re-sends every logged decision; asked about a
transaction with no logged decision it answers *abort* (presumed abort: it
cannot have told anyone "commit" without logging it first).

The famous weakness: if the coordinator crashes after everyone voted yes, the
participants can neither commit nor abort. They stay blocked, locks held,
until the coordinator comes back. ``faultlab.scenarios.commit`` measures it.

Trace notes (read by ``faultlab.check.commit``): coordinator ``begin``,
``decide``, ``end``; participant ``vote``, ``commit``/``abort`` (with ``via``),
``inquire``, ``recover``. Roles: ``coordinator``; participants ``working``,
``prepared`` (uncertain), ``committed``, ``aborted``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What 2PC shares with 3PC; the shared messages, COORDINATOR and txn_workload are
# re-exported here, where they were first defined.
from ._commit import (COORDINATOR, VOTE_RULES, Ack, CommitCoordinator,  # noqa: F401
                      CommitParticipant, DecisionRequest, Vote, force, names_of, txn_number,
                      txn_workload, vote_rules)
from ._dispatch import handles
from ._options import positive_ms, validated, world_of


@dataclass(frozen=True)
class Prepare:
    txn: str
    key: Any
    value: Any
    participants: tuple


@dataclass(frozen=True)
class Decision:
    txn: str
    decision: str          # "commit" or "abort"


class TwoPhaseCoordinator(CommitCoordinator):
    """Runs transactions over ``participants``; serves client ops ``f='txn'`` (key, value).

    ``script`` is a list of ``(t, key, value)``: transactions the coordinator
    starts by itself at local time ``t`` ms (scripted scenarios, no client needed).

    Shared with 3PC (in ``_commit.CommitCoordinator``): ``begin`` sends
    ``Prepare`` to everyone; ``decide`` forces the decision to the log *before*
    sending it, then re-sends it every ``retry`` ms until each participant acks.
    What is 2PC's own is here: counting votes, the vote timeout, presumed abort.
    """

    protocol = "2PC"
    request = Prepare

    def __init__(self, participants, vote_timeout=100.0, retry=100.0, script=()):
        # self.active: txn -> {"op", "votes": {p: bool}}   (volatile)
        super().__init__(participants, vote_timeout, retry, script)

    def outcome(self, txn, decision):
        return Decision(txn=txn, decision=decision)

    # -- lifecycle -------------------------------------------------------------
    def on_start(self, ctx):
        ctx.set_role("coordinator", ctx.storage.get("next", 0))
        self._announce_logged_decisions(ctx)    # transactions in flight and undecided are forgotten
        self._schedule_script(ctx)

    # -- phase 1: votes ----------------------------------------------------------
    @handles(Vote)
    def _on_vote(self, ctx, src, msg):
        decided = ctx.storage.get("decisions", {}).get(msg.txn)
        if decided is not None:                      # late or duplicate vote: repeat the outcome
            ctx.send(src, self.outcome(msg.txn, decided))
            return
        t = self.active.get(msg.txn)
        if t is None:                                # a transaction from before our crash
            return
        t["votes"][src] = msg.yes
        if not msg.yes:
            self.decide(ctx, msg.txn, "abort", reason=f"{src} voted no")
        elif all(t["votes"].get(p) for p in self.participants):
            self.decide(ctx, msg.txn, "commit", reason="all voted yes")

    def on_timer(self, ctx, name):
        kind, _, arg = name.partition(":")
        if kind == "votes" and arg in self.active:
            missing = [p for p in self.participants if p not in self.active[arg]["votes"]]
            self.decide(ctx, arg, "abort", reason=f"no vote from {', '.join(missing)} in time")
        else:
            super().on_timer(ctx, name)          # re-send a decision; start a scripted transaction

    # -- phase 2: the decision (decide, announce, acks: see CommitCoordinator) -------
    @handles(DecisionRequest)
    def _on_request_decision(self, ctx, src, msg):
        txn = msg.txn
        decided = ctx.storage.get("decisions", {}).get(txn)
        if decided is not None:
            ctx.send(src, self.outcome(txn, decided))
        elif txn not in self.active:
            # Presumed abort: no logged decision and not running now, so nobody was told
            # "commit", and this incarnation will never decide it. Log it so we stay consistent.
            force(ctx, "decisions", {txn: "abort"})
            ctx.note("decide", txn=txn, decision="abort", reason="presumed abort (no decision logged)")
            ctx.send(src, self.outcome(txn, "abort"))
        # else: still collecting votes; the participant will ask again


class TwoPhaseParticipant(CommitParticipant):
    """Votes on ``Prepare``; holds a lock on the transaction's key while working or prepared.

    ``vote``: 'yes', 'no' or 'random' (no with probability ``no_rate``, seeded).
    A key already locked by another transaction makes the vote *no* (no-wait locking).
    ``cooperative``: an uncertain participant also asks its peers, who may know the
    outcome -- or, if they have not voted yet, abort and say so.
    """

    def __init__(self, coordinator=COORDINATOR, vote="yes", no_rate=0.2, work_time=2.0,
                 decision_timeout=100.0, retry=100.0, cooperative=True):
        super().__init__(coordinator, vote, no_rate, work_time)
        self.decision_timeout = positive_ms("decision_timeout", decision_timeout)
        self.retry = positive_ms("retry", retry)
        self.cooperative = cooperative
        self.asked: set = set()

    def on_start(self, ctx):
        latest = None
        for txn, rec in self._log(ctx).items():
            latest = (rec["state"], txn)
            if rec["state"] == "prepared":
                self.locks[rec["key"]] = txn
                ctx.note("recover", txn=txn, state="prepared")
                ctx.set_timer(f"ask:{txn}", 0)
        prepared = [t for t, r in self._log(ctx).items() if r["state"] == "prepared"]
        if prepared:
            ctx.set_role("prepared", txn_number(prepared[-1]))
        elif latest:
            ctx.set_role(latest[0], txn_number(latest[1]))
        else:
            ctx.set_role("working")

    # -- phase 1 ---------------------------------------------------------------------
    @handles(Prepare)
    def _on_prepare(self, ctx, src, msg):
        rec = self._log(ctx).get(msg.txn)
        if rec is not None:                              # duplicate Prepare: repeat our vote
            if rec["state"] in ("prepared", "aborted"):
                ctx.send(self.coordinator, Vote(txn=msg.txn, yes=rec["state"] == "prepared"))
            return
        self._start_work(ctx, msg)                       # lock the key (or vote no), work, then vote

    def _cast_vote(self, ctx, txn):
        msg = self.working.pop(txn)
        if not self._votes_yes(ctx):
            self._release(msg.txn)
            self._vote_no(ctx, txn, f"vote rule {self.vote!r}")
            return
        # The promise: log 'prepared' durably before the yes vote leaves.
        force(ctx, "txns", {txn: {"state": "prepared", "key": msg.key, "value": msg.value,
                                  "participants": list(msg.participants)}})
        ctx.note("vote", txn=txn, vote="yes")
        ctx.set_role("prepared", txn_number(txn))
        ctx.send(self.coordinator, Vote(txn=txn, yes=True))
        ctx.set_timer(f"ask:{txn}", self.decision_timeout)

    def _vote_no(self, ctx, txn, reason):
        force(ctx, "txns", {txn: {"state": "aborted"}})
        ctx.note("vote", txn=txn, vote="no", reason=reason)
        ctx.note("abort", txn=txn, via="own no vote")
        self._show(ctx, "aborted", txn)
        ctx.send(self.coordinator, Vote(txn=txn, yes=False))

    def _show(self, ctx, state, txn):
        """Announce ``state`` -- unless another transaction is still prepared (that matters more)."""
        if state != "prepared":
            held = [t for t, r in self._log(ctx).items() if r["state"] == "prepared"]
            if held:
                state, txn = "prepared", held[-1]
        ctx.set_role(state, txn_number(txn))

    # -- phase 2 and termination ------------------------------------------------------
    def on_timer(self, ctx, name):
        kind, _, txn = name.partition(":")
        if kind == "work" and txn in self.working:
            self._cast_vote(ctx, txn)
        elif kind == "ask" and self._log(ctx).get(txn, {}).get("state") == "prepared":
            if txn not in self.asked:
                self.asked.add(txn)
                ctx.note("inquire", txn=txn)
            ctx.send(self.coordinator, DecisionRequest(txn=txn))
            if self.cooperative:
                for p in self._log(ctx)[txn]["participants"]:
                    if p != ctx.id:
                        ctx.send(p, DecisionRequest(txn=txn))
            ctx.set_timer(name, self.retry)

    @handles(Decision)
    def _on_decision(self, ctx, src, msg):
        rec = self._log(ctx).get(msg.txn)
        state = rec["state"] if rec else None
        if state in ("committed", "aborted"):
            ctx.send(self.coordinator, Ack(txn=msg.txn))
            return
        if msg.decision == "commit" and state != "prepared":
            return          # cannot happen without our yes vote; ignore rather than corrupt
        self._finish(ctx, msg.txn, msg.decision, via=src)
        ctx.send(self.coordinator, Ack(txn=msg.txn))

    def _finish(self, ctx, txn, decision, via):
        rec = self._log(ctx).get(txn, {})
        state = "committed" if decision == "commit" else "aborted"
        update = {txn: {**rec, "state": state}}
        if decision == "commit":
            ctx.storage["data"] = {**ctx.storage.get("data", {}), rec["key"]: rec["value"]}
        force(ctx, "txns", update)
        self.working.pop(txn, None)
        ctx.cancel_timer(f"work:{txn}")
        ctx.cancel_timer(f"ask:{txn}")
        self._release(txn)
        ctx.note(decision, txn=txn, via=via)
        self._show(ctx, state, txn)

    @handles(DecisionRequest)
    def _on_peer_request(self, ctx, src, msg):
        txn = msg.txn
        rec = self._log(ctx).get(txn)
        if rec is None:
            # We have not voted: we may still abort on our own, and say so (we will vote no).
            self._finish(ctx, txn, "abort", via="unilateral (not yet voted, asked by a peer)")
            ctx.send(src, Decision(txn=txn, decision="abort"))
        elif rec["state"] in ("committed", "aborted"):
            ctx.send(src, Decision(txn=txn, decision="commit" if rec["state"] == "committed"
                                   else "abort"))
        # prepared: we are just as uncertain; stay silent

    def status(self):
        return {"working": sorted(self.working), "locks": dict(sorted(self.locks.items()))}


def factories(participants=3, vote="yes", votes=None, no_rate=0.2, vote_timeout=100.0,
              decision_timeout=100.0, retry=100.0, work_time=2.0, cooperative=True, script=(),
              coordinator=COORDINATOR):
    """``{node id: factory}`` for one coordinator and its participants; bad options raise here."""
    names = names_of(participants)
    rules = vote_rules(names, vote, votes, no_rate)
    out = {coordinator: validated(TwoPhaseCoordinator, names, vote_timeout=vote_timeout, retry=retry,
                                  script=script)}
    for p in names:
        out[p] = validated(TwoPhaseParticipant, coordinator=coordinator, vote=rules[p], no_rate=no_rate,
                           work_time=work_time, decision_timeout=decision_timeout, retry=retry,
                           cooperative=cooperative)
    return out


def build(participants=3, seed=0, latency=(1.0, 5.0), **options):
    """A World with one 2PC coordinator (``'co'``) and participants ``p1..pN``.

    Options as :func:`factories`: ``vote`` ('yes' | 'no' | 'random'), ``votes``
    per participant (e.g. ``{'p2': 'no'}``), ``no_rate``, ``vote_timeout``,
    ``decision_timeout``, ``retry``, ``work_time``, ``cooperative``, ``script``.
    Add clients with ``world.add_clients(n, txn_workload(), targets=['co'])``.
    """
    return world_of(factories(participants, **options), seed, latency)


def harness(participants=3, seed=0, **options):
    """A hand-stepping :class:`faultlab.sim.Harness` with the coordinator and participants wired up."""
    from ..sim.harness import Harness
    return Harness(factories(participants, **options), seed=seed)
