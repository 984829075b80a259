"""Single-decree Paxos: proposers, acceptors and learners agree on one value.

Every node is an acceptor and a learner; the nodes named in ``proposers``
also propose (their own ``value``, ``'v-<id>'`` by default). A ballot is a pair
``(round, proposer id)``, so ballots are totally ordered and never shared.

* Phase 1: the proposer sends ``Prepare(b)``; an acceptor that has promised
  nothing higher promises ``b`` and returns the value it accepted last.
* Phase 2: with promises from a majority, the proposer asks ``Accept(b, v)``
  where ``v`` is the value of the highest-ballot acceptance among the promises
  (its own value only if there is none). An acceptor accepts unless it
  promised a higher ballot, and tells every learner.
* A value is *chosen* once a majority accepted it in the same ballot; a learner
  learns it when it has heard that from a majority.

Acceptor state (``promised``, ``accepted``) and the proposer's last round live
in durable storage, so a restarted acceptor keeps its promises.
``forget_on_restart=True`` is a deliberately **broken** acceptor that keeps its
state in volatile memory only — the checker in ``faultlab.check.paxos`` catches
the two chosen values it can cause.

Retry policies, when a round fails (a higher ballot was seen, or no quorum
answered within ``timeout`` ms):

* ``'naive'`` — start a new round at once, above the highest ballot seen, and
  also whenever a higher ballot shows up in a Prepare this node receives. Two
  proposers keep pre-empting each other: *dueling proposers*, possibly forever.
* ``'backoff'`` — wait a random time in ``[0, backoff · 2^k)`` after the k-th
  consecutive failure (capped at ``max_backoff``); the duel ends quickly.
* ``'leader'`` — a distinguished proposer: only the first proposer in
  ``proposers`` that this node has heard from within ``3 · timeout`` ms proposes;
  the others stand by (and take over when it falls silent).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from ._options import count, majority, one_of, positive_ms, validated, world_of

RETRIES = ("naive", "backoff", "leader")
NO_BALLOT = (0, "")


@dataclass(frozen=True)
class Prepare:
    ballot: tuple


@dataclass(frozen=True)
class Promise:
    ballot: tuple
    accepted_ballot: tuple
    accepted_value: object


@dataclass(frozen=True)
class Nack:
    ballot: tuple
    promised: tuple


@dataclass(frozen=True)
class Accept:
    ballot: tuple
    value: object


@dataclass(frozen=True)
class Accepted:
    ballot: tuple
    value: object


@dataclass(frozen=True)
class Ask:
    """A learner that missed the decision asks its peers."""


@dataclass(frozen=True)
class Decided:
    value: object


class Paxos(HandlerNode):
    def __init__(self, value=None, proposers=None, retry="backoff", timeout=100.0, backoff=20.0,
                 max_backoff=1000.0, forget_on_restart=False):
        self.retry = one_of("retry policy", retry, RETRIES)
        self.timeout = positive_ms("paxos timeout", timeout)
        self.backoff = positive_ms("paxos backoff", backoff)
        self.max_backoff = positive_ms("paxos max_backoff", max_backoff)
        self.value, self.proposers = value, proposers
        self.forget_on_restart = forget_on_restart
        self.learned = None
        self.tally: dict = {}           # ballot -> acceptors that accepted it
        self.highest = NO_BALLOT        # highest ballot this node has seen anywhere
        self.ballot = None              # the proposer's current ballot
        self.phase = 0                  # 0 idle, 1 preparing, 2 accepting
        self.failures = 0
        self.heard: dict = {}           # proposer -> last time a message from it arrived
        self.promises: dict = {}        # acceptor -> (accepted ballot, value) for the current ballot

    # -- helpers -------------------------------------------------------------
    def _proposers(self, ctx):
        return list(self.proposers) if self.proposers is not None else list(ctx.nodes)

    def _all(self, ctx, msg):
        for n in ctx.nodes:
            ctx.send(n, msg)

    # -- lifecycle -----------------------------------------------------------
    def on_start(self, ctx):
        st = ctx.storage
        if self.forget_on_restart:                      # BROKEN on purpose: promises are not durable
            st.pop("promised", None), st.pop("accepted", None)
        st.setdefault("promised", NO_BALLOT)
        st.setdefault("accepted", None)
        st.setdefault("round", 0)
        for p in self._proposers(ctx):
            self.heard[p] = ctx.now
        if ctx.id in self._proposers(ctx):
            if self.value is None:
                self.value = f"v-{ctx.id}"
            self._new_round(ctx)
        ctx.set_timer("ask", 3 * self.timeout)

    def _may_propose(self, ctx):
        if self.retry != "leader":
            return True
        for p in self._proposers(ctx):
            if p == ctx.id:
                return True
            if ctx.now - self.heard.get(p, float("-inf")) <= 3 * self.timeout:
                return False                            # a preferred proposer is alive: stand by
        return True

    def _new_round(self, ctx):
        if self.learned is not None:
            return
        if not self._may_propose(ctx):
            self.phase = 0
            ctx.set_timer("retry", self.timeout)
            return
        st = ctx.storage
        st["round"] = max(st["round"], self.highest[0]) + 1
        self.ballot = (st["round"], ctx.id)
        self.phase, self.promises = 1, {}
        ctx.note("propose", ballot=self.ballot)
        self._all(ctx, Prepare(ballot=self.ballot))
        ctx.set_timer("phase", self.timeout)

    def _failed(self, ctx, why):
        """This round cannot succeed: retry according to the policy."""
        if self.phase == 0 or self.learned is not None:
            return
        self.phase = 0
        self.failures += 1
        ctx.note("round failed", ballot=self.ballot, why=why)
        ctx.cancel_timer("phase")
        if self.retry == "naive":
            self._new_round(ctx)
        else:
            cap = min(self.max_backoff, self.backoff * 2 ** min(self.failures, 16))
            ctx.set_timer("retry", ctx.rng.uniform(0, cap))

    def _see(self, ballot):
        if ballot > self.highest:
            self.highest = ballot

    # -- events --------------------------------------------------------------
    def on_timer(self, ctx, name):
        if name == "phase":
            self._failed(ctx, "timeout")
        elif name == "retry":
            self._new_round(ctx)
        elif name == "ask" and self.learned is None:
            ctx.broadcast(Ask())
            ctx.set_timer("ask", 3 * self.timeout)

    def on_message(self, ctx, src, msg):
        if src in self.heard:
            self.heard[src] = ctx.now
        super().on_message(ctx, src, msg)

    # acceptor
    @handles(Prepare)
    def _on_prepare(self, ctx, src, m):
        st = ctx.storage
        self._see(m.ballot)
        if m.ballot >= st["promised"]:
            st["promised"] = m.ballot
            ab, av = st["accepted"] or (NO_BALLOT, None)
            ctx.send(src, Promise(ballot=m.ballot, accepted_ballot=ab, accepted_value=av))
        else:
            ctx.send(src, Nack(ballot=m.ballot, promised=st["promised"]))
        if self.retry == "naive" and self.phase and m.ballot > self.ballot:
            self._failed(ctx, "pre-empted")              # naive: fight back at once

    @handles(Accept)
    def _on_accept(self, ctx, src, m):
        st = ctx.storage
        self._see(m.ballot)
        if m.ballot >= st["promised"]:
            st["promised"] = m.ballot
            if st["accepted"] != (m.ballot, m.value):
                st["accepted"] = (m.ballot, m.value)
                ctx.note("accept", slot=0, ballot=m.ballot, value=m.value)
            self._all(ctx, Accepted(ballot=m.ballot, value=m.value))
        else:
            ctx.send(src, Nack(ballot=m.ballot, promised=st["promised"]))

    # proposer
    @handles(Promise)
    def _on_promise(self, ctx, src, m):
        if self.phase != 1 or m.ballot != self.ballot:
            return
        self.promises[src] = (m.accepted_ballot, m.accepted_value)
        if len(self.promises) >= majority(len(ctx.nodes)):
            ab, av = max(self.promises.values(), key=lambda p: p[0])
            value = av if ab != NO_BALLOT else self.value
            self.phase = 2
            self._all(ctx, Accept(ballot=self.ballot, value=value))
            ctx.set_timer("phase", self.timeout)

    @handles(Nack)
    def _on_nack(self, ctx, src, m):
        self._see(m.promised)
        if self.phase and m.ballot == self.ballot:
            self._failed(ctx, "nack")

    # learner
    @handles(Accepted)
    def _on_accepted(self, ctx, src, m):
        self._see(m.ballot)
        voters = self.tally.setdefault(m.ballot, set())
        voters.add(src)
        if self.learned is None and len(voters) >= majority(len(ctx.nodes)):
            self._learn(ctx, m.value, m.ballot)

    def _learn(self, ctx, value, ballot=None):
        self.learned = value
        self.phase = 0
        ctx.cancel_timer("phase"), ctx.cancel_timer("retry"), ctx.cancel_timer("ask")
        ctx.note("learn", slot=0, value=value, ballot=ballot)

    @handles(Ask)
    def _on_ask(self, ctx, src, m):
        if self.learned is not None:
            ctx.send(src, Decided(value=self.learned))

    @handles(Decided)
    def _on_decided(self, ctx, src, m):
        if self.learned is None:
            self._learn(ctx, m.value)

    def status(self):
        return {"learned": self.learned, "ballot": self.ballot, "phase": self.phase}


def build(n=3, seed=0, proposers=("n1", "n2"), latency=(1.0, 5.0), values=None, **options):
    """A World of ``n`` Paxos nodes; ``proposers`` propose ``values[p]`` (default ``'v-<id>'``)."""
    count("n", n, 1, "Paxos needs at least one acceptor to form a majority")
    names = [f"n{i}" for i in range(1, n + 1)]
    proposers = list(proposers) if proposers is not None else names
    unknown = [p for p in proposers if p not in names]
    if unknown or not proposers:
        raise ConfigError(f"proposers must be some of {', '.join(names)}, got {proposers!r}")
    values = dict(values or {})
    return world_of({name: validated(Paxos, value=values.get(name), proposers=proposers, **options)
                     for name in names}, seed, latency)


def dueling(retry="naive", seed=0, until=2000.0, link_ms=1.0):
    """Two proposers, ``n1`` and ``n2``, start together on 3 nodes whose links all take ``link_ms``.

    The duel is built, not found by trying seeds. With one constant link delay
    and naive retry nothing in the run is drawn at random, so it is the same run
    for every seed: each proposer learns of the other's higher ballot one step
    after sending its own ``Prepare`` and fights back at once, so its rival's
    ``Prepare`` always reaches the acceptors one step before its ``Accept`` does,
    and every ``Accept`` is refused. Nothing is ever chosen.

    The same call with ``retry='backoff'`` (seeded random waits) or ``'leader'``
    (one proposer stands by) decides within a few ms.
    """
    w = build(3, seed=seed, proposers=("n1", "n2"), latency=link_ms, retry=retry)
    return w.run(until=until)


def learned(world):
    """node -> the value it learned (None if it has not), for the nodes that are up."""
    return {s["node"]: s.get("learned") for s in world.status() if s["state"] == "up"}
