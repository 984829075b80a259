"""Three-phase commit (3PC): CanCommit / PreCommit / DoCommit, with timeouts and termination.

2PC blocks because an uncertain participant cannot tell "everyone voted yes,
the coordinator may have committed" from "somebody may have aborted". 3PC adds
a phase between: after all yes votes the coordinator sends ``PreCommit`` and
waits for acknowledgements before ``DoCommit``. So **nobody commits while
anybody is still uncertain**, and the survivors of a coordinator crash can
decide among themselves (the *termination protocol*):

* the lowest-ranked participant that times out gathers the states of the
  others (``StateRequest``); higher ranks wait ``rank`` timeouts longer and
  defer to anyone lower who asks them;
* someone committed -> commit; someone aborted -> abort; someone precommitted
  -> send ``PreCommit`` to the uncertain ones, wait for their acks, commit;
  everyone uncertain -> abort (nobody can have committed).

A participant that *restarted* while undecided must not help decide (it may
have missed a round); it only asks until someone tells it the outcome.

This is non-blocking and safe when failures are crash-stop and messages arrive
within the timeouts. It is **not** safe under a network partition: a side that
holds a precommitted participant commits while the other side, all uncertain,
aborts (``faultlab.scenarios.commit.partition_3pc`` shows it, and the checker
``faultlab.check.commit`` catches it). Roles: ``coordinator``; participants
``working``, ``uncertain``, ``precommitted``, ``committed``, ``aborted``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ._commit import (COORDINATOR, Ack, CommitCoordinator, CommitParticipant, DecisionRequest,
                      Vote, force, names_of, txn_number, txn_workload, vote_rules)
from ._dispatch import handles
from ._options import positive_ms, validated, world_of

__all__ = ["ThreePhaseCoordinator", "ThreePhaseParticipant", "CanCommit", "PreCommit", "PreCommitAck",
           "DoCommit", "Abort", "StateRequest", "StateReply", "build", "factories", "harness",
           "txn_workload"]

FINAL = {"committed": "commit", "aborted": "abort"}


@dataclass(frozen=True)
class CanCommit:
    txn: str
    key: Any
    value: Any
    participants: tuple


@dataclass(frozen=True)
class PreCommit:
    txn: str


@dataclass(frozen=True)
class PreCommitAck:
    txn: str


@dataclass(frozen=True)
class DoCommit:
    txn: str


@dataclass(frozen=True)
class Abort:
    txn: str


@dataclass(frozen=True)
class StateRequest:
    """A terminating participant asks for everyone's state of ``txn``."""
    txn: str


@dataclass(frozen=True)
class StateReply:
    txn: str
    state: str            # uncertain | precommitted | committed | aborted
    recovered: bool       # restarted while undecided: its state may be stale, do not count it


def _outcome(decision, txn):
    return DoCommit(txn=txn) if decision == "commit" else Abort(txn=txn)


class ThreePhaseCoordinator(CommitCoordinator):
    """Runs 3PC transactions over ``participants``; serves client ops ``f='txn'``.

    Shared with 2PC (in ``_commit.CommitCoordinator``): ``begin`` sends
    ``CanCommit``; ``decide`` forces the decision to the log before sending
    ``DoCommit``/``Abort``, re-sent until acked. 3PC's own: the PreCommit round
    between the votes and the decision, and learning the outcome from participants.
    """

    protocol = "3PC"
    request = CanCommit
    decide_cancels = ("votes", "acks", "ask")

    def __init__(self, participants, vote_timeout=50.0, ack_timeout=50.0, retry=100.0, script=()):
        super().__init__(participants, vote_timeout, retry, script)
        self.ack_timeout = positive_ms("ack_timeout", ack_timeout)

    def outcome(self, txn, decision):
        return _outcome(decision, txn)

    def _new_txn(self, op):
        return {"op": op, "votes": {}, "acks": set(), "phase": "votes"}

    def on_start(self, ctx):
        ctx.set_role("coordinator", ctx.storage.get("next", 0))
        self._announce_logged_decisions(ctx)
        decisions = ctx.storage.get("decisions", {})
        for txn in ctx.storage.get("precommitted", {}):
            if txn not in decisions:                 # cannot decide alone: ask who knows
                ctx.note("recover", txn=txn, state="precommit sent")
                ctx.set_timer(f"ask:{txn}", 0)
        self._schedule_script(ctx)

    def _repeat_decision(self, ctx, src, txn):
        """If ``txn`` is decided, answer ``src`` with the outcome (and say so)."""
        decided = ctx.storage.get("decisions", {}).get(txn)
        if decided is not None:
            ctx.send(src, _outcome(decided, txn))
        return decided is not None

    @handles(DoCommit, Abort)
    def _on_outcome(self, ctx, src, msg):
        """A participant tells us the outcome (its termination protocol decided)."""
        if msg.txn not in ctx.storage.get("decisions", {}):
            self.decide(ctx, msg.txn, "commit" if isinstance(msg, DoCommit) else "abort",
                        reason=f"learned from {src}")

    @handles(Vote)
    def _on_vote(self, ctx, src, msg):
        t = self.active.get(msg.txn)
        if self._repeat_decision(ctx, src, msg.txn) or t is None or t["phase"] != "votes":
            return
        t["votes"][src] = msg.yes
        if not msg.yes:
            self.decide(ctx, msg.txn, "abort", reason=f"{src} voted no")
        elif all(t["votes"].get(p) for p in self.participants):
            self._precommit(ctx, msg.txn)

    @handles(PreCommitAck)
    def _on_precommit_ack(self, ctx, src, msg):
        t = self.active.get(msg.txn)
        if self._repeat_decision(ctx, src, msg.txn) or t is None or t["phase"] != "acks":
            return
        t["acks"].add(src)
        if t["acks"] >= set(self.participants):
            self.decide(ctx, msg.txn, "commit", reason="all acknowledged PreCommit")

    @handles(DecisionRequest)
    def _on_decision_request(self, ctx, src, msg):
        txn = msg.txn
        if self._repeat_decision(ctx, src, txn):
            return
        if txn not in self.active and txn not in ctx.storage.get("precommitted", {}):
            # Never sent PreCommit, so nobody can be precommitted, so nobody commits: abort is safe.
            self.decide(ctx, txn, "abort", reason="presumed abort (no PreCommit was sent)")

    @handles(StateRequest)
    def _on_state_request(self, ctx, src, msg):
        self._repeat_decision(ctx, src, msg.txn)     # undecided: the coordinator has no say here

    def _precommit(self, ctx, txn):
        self.active[txn]["phase"] = "acks"
        ctx.cancel_timer(f"votes:{txn}")
        force(ctx, "precommitted", {txn: True})
        ctx.note("precommit", txn=txn)
        for p in self.participants:
            ctx.send(p, PreCommit(txn=txn))
        ctx.set_timer(f"acks:{txn}", self.ack_timeout)

    def on_timer(self, ctx, name):
        kind, _, arg = name.partition(":")
        t = self.active.get(arg)
        if kind == "votes" and t is not None and t["phase"] == "votes":
            missing = [p for p in self.participants if p not in t["votes"]]
            self.decide(ctx, arg, "abort", reason=f"no vote from {', '.join(missing)} in time")
        elif kind == "acks" and t is not None and t["phase"] == "acks":
            # Everyone voted yes; whoever did not ack is taken for crashed and will learn later.
            missing = sorted(set(self.participants) - t["acks"])
            self.decide(ctx, arg, "commit", reason=f"ack timeout (no ack from {', '.join(missing)})")
        elif kind == "ask" and arg not in ctx.storage.get("decisions", {}):
            for p in self.participants:
                ctx.send(p, DecisionRequest(txn=arg))
            ctx.set_timer(name, self.retry)
        else:
            super().on_timer(ctx, name)          # re-send a decision; start a scripted transaction


class ThreePhaseParticipant(CommitParticipant):
    """Votes on ``CanCommit``; waits ``timeout`` ms for each next step, then terminates.

    ``rank`` orders the participants for the termination protocol (0 goes first);
    ``collect`` is how long a terminator waits for states and acks (must exceed a
    round trip). Votes as in 2PC: 'yes', 'no' or 'random' with ``no_rate``.
    """

    def __init__(self, coordinator=COORDINATOR, rank=0, vote="yes", no_rate=0.2, work_time=2.0,
                 timeout=150.0, collect=30.0, retry=100.0):
        super().__init__(coordinator, vote, no_rate, work_time)
        self.rank = rank
        self.timeout = positive_ms("timeout", timeout)
        self.collect = positive_ms("collect", collect)
        self.retry = positive_ms("retry", retry)
        if self.collect * 2 >= self.timeout:
            raise ConfigError(f"collect ({self.collect:g} ms) must be under half the timeout "
                              f"({self.timeout:g} ms): a termination round (states, then acks) has to "
                              "finish before the next participant in rank takes over")
        self.recovered: set = set()     # undecided when we restarted: may ask, may not decide
        self.rounds: dict = {}          # txn -> {"phase", "states", "acks"} while terminating

    # -- helpers ----------------------------------------------------------------------
    def _state(self, ctx, txn):
        return self._log(ctx).get(txn, {}).get("state")

    def _set_state(self, ctx, txn, state, **extra):
        rec = self._log(ctx).get(txn, {})
        force(ctx, "txns", {txn: {**rec, **extra, "state": state}})
        held = [t for t, r in self._log(ctx).items() if r["state"] in ("uncertain", "precommitted")]
        shown, which = (state, txn) if state in ("uncertain", "precommitted") or not held else \
            (self._log(ctx)[held[-1]]["state"], held[-1])
        ctx.set_role(shown, txn_number(which))

    def _wait(self, ctx, txn):
        """Rank r gives up on whoever should speak next after (r + 1) timeouts."""
        ctx.set_timer(f"wait:{txn}", self.timeout * (1 + self.rank))

    def _peers(self, ctx, txn):
        return [p for p in self._log(ctx).get(txn, {}).get("participants", []) if p != ctx.id]

    def on_start(self, ctx):
        ctx.set_role("working")
        for txn, rec in self._log(ctx).items():
            if rec["state"] in ("uncertain", "precommitted"):
                self.recovered.add(txn)
                self.locks[rec["key"]] = txn
                ctx.note("recover", txn=txn, state=rec["state"])
                ctx.set_role(rec["state"], txn_number(txn))
                ctx.set_timer(f"ask:{txn}", 0)

    # -- messages ----------------------------------------------------------------------
    @handles(CanCommit)
    def _on_cancommit(self, ctx, src, msg):
        state = self._state(ctx, msg.txn)
        if state is not None:                            # duplicate CanCommit: repeat our vote
            ctx.send(self.coordinator, Vote(txn=msg.txn, yes=state != "aborted"))
            return
        self._start_work(ctx, msg)                       # lock the key (or vote no), work, then vote

    @handles(PreCommit)
    def _on_precommit(self, ctx, src, msg):
        txn, state = msg.txn, self._state(ctx, msg.txn)
        if state == "uncertain":
            self._set_state(ctx, txn, "precommitted")
            ctx.note("precommit", txn=txn, via=src)
            if txn not in self.rounds:
                self._wait(ctx, txn)
        if state in ("uncertain", "precommitted"):
            ctx.send(src, PreCommitAck(txn=txn))
        elif state in FINAL:
            ctx.send(src, _outcome(FINAL[state], txn))

    @handles(DoCommit, Abort)
    def _on_outcome(self, ctx, src, msg):
        txn, state = msg.txn, self._state(ctx, msg.txn)
        decision = "commit" if isinstance(msg, DoCommit) else "abort"
        if state in FINAL:
            ctx.send(src, Ack(txn=txn))
        elif decision == "abort" or state in ("uncertain", "precommitted"):
            self._finish(ctx, txn, decision, via=src)
            ctx.send(src, Ack(txn=txn))

    @handles(Ack)
    def _on_ack(self, ctx, src, msg):
        """A peer has the outcome this node announced as terminator; nothing is waiting for it."""

    @handles(StateReply)
    def _on_state_reply(self, ctx, src, msg):
        r = self.rounds.get(msg.txn)
        if r is not None and r["phase"] == "states" and (not msg.recovered or msg.state in FINAL):
            r["states"][src] = msg.state

    @handles(PreCommitAck)
    def _on_precommit_ack(self, ctx, src, msg):
        r = self.rounds.get(msg.txn)
        if r is not None and r["phase"] == "acks":
            r["acks"].add(src)
            if r["acks"] >= r["need"]:
                self._conclude(ctx, msg.txn, "commit", "termination: all acknowledged PreCommit")

    def _vote_no(self, ctx, txn, reason):
        self._set_state(ctx, txn, "aborted")
        ctx.note("vote", txn=txn, vote="no", reason=reason)
        ctx.note("abort", txn=txn, via="own no vote")
        ctx.send(self.coordinator, Vote(txn=txn, yes=False))

    @handles(StateRequest, DecisionRequest)
    def _on_asked(self, ctx, src, msg):
        txn, state = msg.txn, self._state(ctx, msg.txn)
        if state in FINAL:
            ctx.send(src, _outcome(FINAL[state], txn))
        elif state is None:
            # Not voted yet: abort on our own (the coordinator cannot commit without us) and say so.
            self._finish(ctx, txn, "abort", via=f"unilateral (not yet voted, asked by {src})")
            ctx.send(src, Abort(txn=txn))
        elif isinstance(msg, StateRequest):
            ctx.send(src, StateReply(txn=txn, state=state, recovered=txn in self.recovered))
            ranked = self._log(ctx)[txn].get("participants", [])
            if txn not in self.recovered and src in ranked and ranked.index(src) < self.rank:
                self.rounds.pop(txn, None)            # a lower rank is terminating: defer to it
                for timer in ("collect", "acks"):
                    ctx.cancel_timer(f"{timer}:{txn}")
                self._wait(ctx, txn)

    def on_timer(self, ctx, name):
        kind, _, txn = name.partition(":")
        state = self._state(ctx, txn)
        if kind == "work" and txn in self.working:
            self._cast_vote(ctx, txn)
        elif kind == "wait" and state in ("uncertain", "precommitted") and txn not in self.recovered:
            self._terminate(ctx, txn)
        elif kind == "collect" and txn in self.rounds and state in ("uncertain", "precommitted"):
            self._decide_round(ctx, txn)
        elif kind == "acks" and txn in self.rounds and state == "precommitted":
            self._conclude(ctx, txn, "commit", "termination: ack timeout")
        elif kind == "ask" and state in ("uncertain", "precommitted"):
            for p in [self.coordinator] + self._peers(ctx, txn):
                ctx.send(p, DecisionRequest(txn=txn))
            ctx.set_timer(name, self.retry)

    def _cast_vote(self, ctx, txn):
        msg = self.working.pop(txn)
        if not self._votes_yes(ctx):
            self.locks.pop(msg.key, None)
            self._vote_no(ctx, txn, f"vote rule {self.vote!r}")
            return
        self._set_state(ctx, txn, "uncertain", key=msg.key, value=msg.value,
                        participants=sorted(msg.participants))
        ctx.note("vote", txn=txn, vote="yes")
        ctx.send(self.coordinator, Vote(txn=txn, yes=True))
        self._wait(ctx, txn)

    # -- termination protocol -----------------------------------------------------------
    def _terminate(self, ctx, txn):
        ctx.note("terminate", txn=txn, state=self._state(ctx, txn))
        self.rounds[txn] = {"phase": "states", "states": {ctx.id: self._state(ctx, txn)}}
        for p in self._peers(ctx, txn) + [self.coordinator]:
            ctx.send(p, StateRequest(txn=txn))
        ctx.set_timer(f"collect:{txn}", self.collect)

    def _decide_round(self, ctx, txn):
        r = self.rounds[txn]
        states = set(r["states"].values())
        if "committed" in states:
            self._conclude(ctx, txn, "commit", "termination: someone committed")
        elif "aborted" in states:
            self._conclude(ctx, txn, "abort", "termination: someone aborted")
        elif "precommitted" in states:
            if self._state(ctx, txn) == "uncertain":
                self._set_state(ctx, txn, "precommitted")
                ctx.note("precommit", txn=txn, via="termination")
            need = {p for p, s in r["states"].items() if s == "uncertain" and p != ctx.id}
            r.update(phase="acks", acks=set(), need=need)
            if not need:
                self._conclude(ctx, txn, "commit", "termination: all reachable were precommitted")
                return
            for p in sorted(need):
                ctx.send(p, PreCommit(txn=txn))
            ctx.set_timer(f"acks:{txn}", self.collect)
        else:
            self._conclude(ctx, txn, "abort",
                           f"termination: {', '.join(sorted(r['states']))} all uncertain")

    def _conclude(self, ctx, txn, decision, reason):
        self.rounds.pop(txn, None)
        ctx.cancel_timer(f"acks:{txn}")
        ctx.note("decide", txn=txn, decision=decision, reason=reason)
        self._finish(ctx, txn, decision, via="termination")
        for p in self._peers(ctx, txn) + [self.coordinator]:
            ctx.send(p, _outcome(decision, txn))

    def _finish(self, ctx, txn, decision, via):
        state = "committed" if decision == "commit" else "aborted"
        rec = self._log(ctx).get(txn, {})
        if decision == "commit":
            ctx.storage["data"] = {**ctx.storage.get("data", {}), rec["key"]: rec["value"]}
        self._set_state(ctx, txn, state)
        self.working.pop(txn, None)
        self.recovered.discard(txn)
        self.rounds.pop(txn, None)
        for timer in ("work", "wait", "ask", "collect", "acks"):
            ctx.cancel_timer(f"{timer}:{txn}")
        self._release(txn)
        ctx.note(decision, txn=txn, via=via)

    def status(self):
        return {"working": sorted(self.working), "locks": dict(sorted(self.locks.items())),
                "terminating": sorted(self.rounds)}


def factories(participants=3, vote="yes", votes=None, no_rate=0.2, vote_timeout=50.0,
              ack_timeout=50.0, timeout=150.0, collect=30.0, retry=100.0, work_time=2.0, script=(),
              coordinator=COORDINATOR):
    """``{node id: factory}`` for one 3PC coordinator and its participants; bad options raise here."""
    names = names_of(participants)
    rules = vote_rules(names, vote, votes, no_rate)
    out = {coordinator: validated(ThreePhaseCoordinator, names, vote_timeout=vote_timeout,
                                  ack_timeout=ack_timeout, retry=retry, script=script)}
    co = out[coordinator]()
    wait = positive_ms("timeout", timeout)
    if wait <= max(co.vote_timeout, co.ack_timeout):
        raise ConfigError(f"participant timeout ({wait:g} ms) must exceed the coordinator's vote_timeout "
                          f"and ack_timeout ({co.vote_timeout:g}, {co.ack_timeout:g} ms), or participants "
                          "give up on a coordinator that is only waiting for slow votes")
    ranked = sorted(names)
    for p in names:
        out[p] = validated(ThreePhaseParticipant, coordinator=coordinator, rank=ranked.index(p),
                           vote=rules[p], no_rate=no_rate, work_time=work_time, timeout=timeout,
                           collect=collect, retry=retry)
    return out


def build(participants=3, seed=0, latency=(1.0, 5.0), **options):
    """A World with one 3PC coordinator (``'co'``) and participants ``p1..pN`` (ranked in id order).

    Options as :func:`factories`: ``vote``, ``votes``, ``no_rate``, ``vote_timeout``,
    ``ack_timeout`` (coordinator), ``timeout``, ``collect`` (participants), ``retry``,
    ``work_time``, ``script``.
    """
    return world_of(factories(participants, **options), seed, latency)


def harness(participants=3, seed=0, **options):
    """A hand-stepping Harness with the 3PC coordinator and participants wired up."""
    from ..sim.harness import Harness
    return Harness(factories(participants, **options), seed=seed)
