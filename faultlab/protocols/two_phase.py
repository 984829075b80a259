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

import functools
import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..node import Node
from ..sim.harness import Harness

VOTE_RULES = ("yes", "no", "random")
COORDINATOR = "co"


@dataclass(frozen=True)
class Prepare:
    txn: str
    key: Any
    value: Any
    participants: tuple


@dataclass(frozen=True)
class Vote:
    txn: str
    yes: bool


@dataclass(frozen=True)
class Decision:
    txn: str
    decision: str          # "commit" or "abort"


@dataclass(frozen=True)
class Ack:
    txn: str


@dataclass(frozen=True)
class DecisionRequest:
    """An uncertain participant asks: "what was decided for ``txn``?"."""
    txn: str


def positive(name, v):
    """``v`` as a float, or a ConfigError saying it must be a positive number of ms."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or not v > 0:
        raise ConfigError(f"{name} must be a positive number of ms, got {v!r}")
    return float(v)


def check_vote(vote, no_rate):
    if vote not in VOTE_RULES:
        raise ConfigError(f"unknown vote rule {vote!r}; choose one of {', '.join(VOTE_RULES)} "
                          "('random' votes no with probability no_rate, drawn from the seeded ctx.rng)")
    if isinstance(no_rate, bool) or not isinstance(no_rate, (int, float)) or not 0 <= no_rate <= 1:
        raise ConfigError(f"no_rate must be a probability in [0, 1], got {no_rate!r}")


def check_participants(participants):
    participants = list(participants)
    if len(participants) < 1:
        raise ConfigError("a commit protocol needs at least one participant, got none; "
                          "pass participants=['p1', ...] (or participants=N to build())")
    if len(set(participants)) != len(participants):
        raise ConfigError(f"participant ids must be distinct, got {participants}")
    return tuple(participants)


def txn_number(txn):
    """'t12' -> 12 (used as the 'term' of role records, so timelines show which transaction)."""
    return int(str(txn)[1:]) if str(txn)[1:].isdigit() else None


def force(ctx, key, update):
    """A forced log write: replace ``storage[key]`` by a new dict (the write is one visible step)."""
    ctx.storage[key] = {**ctx.storage.get(key, {}), **update}


class TwoPhaseCoordinator(Node):
    """Runs transactions over ``participants``; serves client ops ``f='txn'`` (key, value).

    ``script`` is a list of ``(t, key, value)``: transactions the coordinator
    starts by itself at local time ``t`` ms (scripted scenarios, no client needed).
    """

    def __init__(self, participants, vote_timeout=100.0, retry=100.0, script=()):
        self.participants = check_participants(participants)
        self.vote_timeout = positive("vote_timeout", vote_timeout)
        self.retry = positive("retry", retry)
        self.script = list(script)
        self.active: dict = {}       # txn -> {"op", "votes": {p: bool}}   (volatile)
        self.unacked: dict = {}      # txn -> set of participants yet to acknowledge the decision

    # -- lifecycle -------------------------------------------------------------
    def on_start(self, ctx):
        ctx.set_role("coordinator", ctx.storage.get("next", 0))
        ended = ctx.storage.get("ended", {})
        for txn, decision in ctx.storage.get("decisions", {}).items():
            if txn not in ended:
                ctx.note("recover", txn=txn, decision=decision)
                self._announce(ctx, txn, decision)
        for i, (t, _key, _value) in enumerate(self.script):
            if t >= ctx.now and f"s{i}" not in ctx.storage.get("scripted", {}):
                ctx.set_timer(f"script:{i}", t - ctx.now)

    def on_request(self, ctx, op):
        if op.f != "txn":
            ctx.fail(op, f"unknown operation {op.f!r}: a 2PC coordinator serves only 'txn' "
                         "(key, value written on every participant)")
            return
        self.begin(ctx, op.key, op.value, op)

    def begin(self, ctx, key, value, op=None):
        """Start a transaction: take a fresh id (durably, ids are never reused) and send Prepare."""
        n = ctx.storage.get("next", 0) + 1
        ctx.storage["next"] = n
        txn = f"t{n}"
        self.active[txn] = {"op": op, "votes": {}}
        ctx.set_role("coordinator", n)
        ctx.note("begin", txn=txn, participants=list(self.participants), key=key, value=value)
        msg = Prepare(txn, key, value, self.participants)
        for p in self.participants:
            ctx.send(p, msg)
        ctx.set_timer(f"votes:{txn}", self.vote_timeout)
        return txn

    # -- phase 1: votes ----------------------------------------------------------
    def on_message(self, ctx, src, msg):
        if isinstance(msg, Vote):
            self._on_vote(ctx, src, msg)
        elif isinstance(msg, Ack):
            self._on_ack(ctx, src, msg.txn)
        elif isinstance(msg, DecisionRequest):
            self._on_request_decision(ctx, src, msg.txn)

    def _on_vote(self, ctx, src, msg):
        decided = ctx.storage.get("decisions", {}).get(msg.txn)
        if decided is not None:                      # late or duplicate vote: repeat the outcome
            ctx.send(src, Decision(msg.txn, decided))
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
        elif kind == "resend" and self.unacked.get(arg):
            decision = ctx.storage["decisions"][arg]
            for p in sorted(self.unacked[arg]):
                ctx.send(p, Decision(arg, decision))
            ctx.set_timer(name, self.retry)
        elif kind == "script":
            i = int(arg)
            ctx.storage["scripted"] = {**ctx.storage.get("scripted", {}), f"s{i}": True}
            _t, key, value = self.script[i]
            self.begin(ctx, key, value)

    # -- phase 2: the decision -------------------------------------------------------
    def decide(self, ctx, txn, decision, reason=""):
        """Log the decision (forced write) *before* anyone can hear of it, then announce it."""
        t = self.active.pop(txn, None)
        ctx.cancel_timer(f"votes:{txn}")
        force(ctx, "decisions", {txn: decision})
        ctx.note("decide", txn=txn, decision=decision, reason=reason)
        self._announce(ctx, txn, decision)
        if t is not None and t["op"] is not None:
            if decision == "commit":
                ctx.reply(t["op"], "committed")
            else:
                ctx.fail(t["op"], f"aborted: {reason}")

    def _announce(self, ctx, txn, decision):
        self.unacked[txn] = set(self.participants)
        for p in self.participants:
            ctx.send(p, Decision(txn, decision))
        ctx.set_timer(f"resend:{txn}", self.retry)

    def _on_ack(self, ctx, src, txn):
        left = self.unacked.get(txn)
        if left is None or src not in left:
            return
        left.discard(src)
        if not left:
            del self.unacked[txn]
            ctx.cancel_timer(f"resend:{txn}")
            force(ctx, "ended", {txn: True})
            ctx.note("end", txn=txn)

    def _on_request_decision(self, ctx, src, txn):
        decided = ctx.storage.get("decisions", {}).get(txn)
        if decided is not None:
            ctx.send(src, Decision(txn, decided))
        elif txn not in self.active:
            # Presumed abort: no logged decision and not running now, so nobody was told
            # "commit", and this incarnation will never decide it. Log it so we stay consistent.
            force(ctx, "decisions", {txn: "abort"})
            ctx.note("decide", txn=txn, decision="abort", reason="presumed abort (no decision logged)")
            ctx.send(src, Decision(txn, "abort"))
        # else: still collecting votes; the participant will ask again

    def status(self):
        return {"active": sorted(self.active), "unacked": sorted(self.unacked)}


class TwoPhaseParticipant(Node):
    """Votes on ``Prepare``; holds a lock on the transaction's key while working or prepared.

    ``vote``: 'yes', 'no' or 'random' (no with probability ``no_rate``, seeded).
    A key already locked by another transaction makes the vote *no* (no-wait locking).
    ``cooperative``: an uncertain participant also asks its peers, who may know the
    outcome -- or, if they have not voted yet, abort and say so.
    """

    def __init__(self, coordinator=COORDINATOR, vote="yes", no_rate=0.2, work_time=2.0,
                 decision_timeout=100.0, retry=100.0, cooperative=True):
        check_vote(vote, no_rate)
        self.coordinator = coordinator
        self.vote, self.no_rate = vote, float(no_rate)
        if isinstance(work_time, bool) or not isinstance(work_time, (int, float)) or not work_time >= 0:
            raise ConfigError(f"work_time must be a non-negative number of ms, got {work_time!r}")
        self.work_time = float(work_time)
        self.decision_timeout = positive("decision_timeout", decision_timeout)
        self.retry = positive("retry", retry)
        self.cooperative = cooperative
        self.working: dict = {}      # txn -> Prepare (volatile: a crash while working aborts it)
        self.locks: dict = {}        # key -> txn
        self.asked: set = set()

    def _log(self, ctx):
        return ctx.storage.get("txns", {})

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
    def on_message(self, ctx, src, msg):
        if isinstance(msg, Prepare):
            self._on_prepare(ctx, msg)
        elif isinstance(msg, Decision):
            self._on_decision(ctx, src, msg)
        elif isinstance(msg, DecisionRequest):
            self._on_peer_request(ctx, src, msg.txn)

    def _on_prepare(self, ctx, msg):
        rec = self._log(ctx).get(msg.txn)
        if rec is not None:                              # duplicate Prepare: repeat our vote
            if rec["state"] in ("prepared", "aborted"):
                ctx.send(self.coordinator, Vote(msg.txn, rec["state"] == "prepared"))
            return
        if msg.txn in self.working:
            return
        holder = self.locks.get(msg.key)
        if holder is not None:
            self._vote_no(ctx, msg.txn, f"key {msg.key!r} locked by {holder}")
            return
        self.locks[msg.key] = msg.txn
        self.working[msg.txn] = msg
        self._show(ctx, "working", msg.txn)
        ctx.set_timer(f"work:{msg.txn}", self.work_time)

    def _cast_vote(self, ctx, txn):
        msg = self.working.pop(txn)
        yes = self.vote == "yes" or (self.vote == "random" and ctx.rng.random() >= self.no_rate)
        if not yes:
            self._release(msg.txn)
            self._vote_no(ctx, txn, f"vote rule {self.vote!r}")
            return
        # The promise: log 'prepared' durably before the yes vote leaves.
        force(ctx, "txns", {txn: {"state": "prepared", "key": msg.key, "value": msg.value,
                                  "participants": list(msg.participants)}})
        ctx.note("vote", txn=txn, vote="yes")
        ctx.set_role("prepared", txn_number(txn))
        ctx.send(self.coordinator, Vote(txn, True))
        ctx.set_timer(f"ask:{txn}", self.decision_timeout)

    def _vote_no(self, ctx, txn, reason):
        force(ctx, "txns", {txn: {"state": "aborted"}})
        ctx.note("vote", txn=txn, vote="no", reason=reason)
        ctx.note("abort", txn=txn, via="own no vote")
        self._show(ctx, "aborted", txn)
        ctx.send(self.coordinator, Vote(txn, False))

    def _show(self, ctx, state, txn):
        """Announce ``state`` -- unless another transaction is still prepared (that matters more)."""
        if state != "prepared":
            held = [t for t, r in self._log(ctx).items() if r["state"] == "prepared"]
            if held:
                state, txn = "prepared", held[-1]
        ctx.set_role(state, txn_number(txn))

    def _release(self, txn):
        for k in [k for k, t in self.locks.items() if t == txn]:
            del self.locks[k]

    # -- phase 2 and termination ------------------------------------------------------
    def on_timer(self, ctx, name):
        kind, _, txn = name.partition(":")
        if kind == "work" and txn in self.working:
            self._cast_vote(ctx, txn)
        elif kind == "ask" and self._log(ctx).get(txn, {}).get("state") == "prepared":
            if txn not in self.asked:
                self.asked.add(txn)
                ctx.note("inquire", txn=txn)
            ctx.send(self.coordinator, DecisionRequest(txn))
            if self.cooperative:
                for p in self._log(ctx)[txn]["participants"]:
                    if p != ctx.id:
                        ctx.send(p, DecisionRequest(txn))
            ctx.set_timer(name, self.retry)

    def _on_decision(self, ctx, src, msg):
        rec = self._log(ctx).get(msg.txn)
        state = rec["state"] if rec else None
        if state in ("committed", "aborted"):
            ctx.send(self.coordinator, Ack(msg.txn))
            return
        if msg.decision == "commit" and state != "prepared":
            return          # cannot happen without our yes vote; ignore rather than corrupt
        self._finish(ctx, msg.txn, msg.decision, via=src)
        ctx.send(self.coordinator, Ack(msg.txn))

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

    def _on_peer_request(self, ctx, src, txn):
        rec = self._log(ctx).get(txn)
        if rec is None:
            # We have not voted: we may still abort on our own, and say so (we will vote no).
            self._finish(ctx, txn, "abort", via="unilateral (not yet voted, asked by a peer)")
            ctx.send(src, Decision(txn, "abort"))
        elif rec["state"] in ("committed", "aborted"):
            ctx.send(src, Decision(txn, "commit" if rec["state"] == "committed" else "abort"))
        # prepared: we are just as uncertain; stay silent

    def status(self):
        return {"working": sorted(self.working), "locks": dict(sorted(self.locks.items()))}


def participant_names(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise ConfigError(f"participants must be a whole number (>= 1) or a list of ids, got {n!r}")
    return [f"p{i}" for i in range(1, n + 1)]


def names_of(participants):
    """``3`` -> ['p1', 'p2', 'p3']; a list of ids is checked and kept."""
    names = list(participants) if isinstance(participants, (list, tuple)) \
        else participant_names(participants)
    return list(check_participants(names))


def vote_rules(names, vote, votes, no_rate):
    """The vote rule of each participant (``votes`` overrides ``vote`` per participant)."""
    votes = dict(votes or {})
    unknown = [p for p in votes if p not in names]
    if unknown:
        raise ConfigError(f"votes names unknown participant(s) {unknown}; participants are {names}")
    for rule in [vote, *votes.values()]:
        check_vote(rule, no_rate)
    return {p: votes.get(p, vote) for p in names}


def factories(participants=3, vote="yes", votes=None, no_rate=0.2, vote_timeout=100.0,
              decision_timeout=100.0, retry=100.0, work_time=2.0, cooperative=True, script=(),
              coordinator=COORDINATOR):
    """``{node id: factory}`` for one coordinator and its participants; bad options raise here."""
    names = names_of(participants)
    rules = vote_rules(names, vote, votes, no_rate)
    out = {coordinator: functools.partial(TwoPhaseCoordinator, names, vote_timeout=vote_timeout,
                                          retry=retry, script=script)}
    for p in names:
        out[p] = functools.partial(TwoPhaseParticipant, coordinator=coordinator, vote=rules[p],
                                   no_rate=no_rate, work_time=work_time,
                                   decision_timeout=decision_timeout, retry=retry,
                                   cooperative=cooperative)
    for make in out.values():
        make()                              # build one of each now, so a ConfigError surfaces here
    return out


def build(participants=3, seed=0, latency=(1.0, 5.0), **options):
    """A World with one 2PC coordinator (``'co'``) and participants ``p1..pN``.

    Options as :func:`factories`: ``vote`` ('yes' | 'no' | 'random'), ``votes``
    per participant (e.g. ``{'p2': 'no'}``), ``no_rate``, ``vote_timeout``,
    ``decision_timeout``, ``retry``, ``work_time``, ``cooperative``, ``script``.
    Add clients with ``world.add_clients(n, txn_workload(), targets=['co'])``.
    """
    from ..sim import World
    made = factories(participants, **options)
    world = World(seed=seed, latency=latency)
    for name, make in made.items():
        world.add_node(name, make)
    return world


def harness(participants=3, seed=0, **options):
    """A hand-stepping :class:`faultlab.sim.Harness` with the coordinator and participants wired up."""
    return RoleHarness(factories(participants, **options), seed=seed)


class RoleHarness(Harness):
    """A Harness whose nodes run different classes: ``{name: factory}``."""

    def __init__(self, factories, seed=0, start=True):
        self.factories = dict(factories)
        super().__init__(None, names=list(self.factories), seed=seed, start=start)

    def boot(self, name):
        self.factory = self.factories[name]
        return super().boot(name)

    crash_and_restart = boot


def txn_workload(keys=2, values=10):
    """Client workload: ('txn', key, value) over a few keys, so transactions contend for locks."""
    names = [f"k{i}" for i in range(keys)]

    def next_op(rng):
        return "txn", rng.choice(names), rng.randrange(values)
    return next_op
