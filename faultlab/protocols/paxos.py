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
from ..node import Node

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


def positive_ms(who, name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or not v > 0:
        raise ConfigError(f"{who} {name} must be a positive number of ms, got {v!r}")
    return float(v)


class Paxos(Node):
    def __init__(self, value=None, proposers=None, retry="backoff", timeout=100.0, backoff=20.0,
                 max_backoff=1000.0, forget_on_restart=False):
        if retry not in RETRIES:
            raise ConfigError(f"unknown retry policy {retry!r}; choose one of {', '.join(RETRIES)}")
        self.timeout = positive_ms("paxos", "timeout", timeout)
        self.backoff = positive_ms("paxos", "backoff", backoff)
        self.max_backoff = positive_ms("paxos", "max_backoff", max_backoff)
        self.retry, self.value, self.proposers = retry, value, proposers
        self.forget_on_restart = forget_on_restart
        self.learned = None
        self.tally: dict = {}           # ballot -> acceptors that accepted it
        self.highest = NO_BALLOT        # highest ballot this node has seen anywhere
        self.ballot = None              # the proposer's current ballot
        self.phase = 0                  # 0 idle, 1 preparing, 2 accepting
        self.failures = 0
        self.heard: dict = {}           # proposer -> last time a message from it arrived

    # -- helpers -------------------------------------------------------------
    def _majority(self, ctx):
        return len(ctx.nodes) // 2 + 1

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
        self.phase, self.promises, self.accepts = 1, {}, set()
        ctx.note("propose", ballot=self.ballot)
        self._all(ctx, Prepare(self.ballot))
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
        getattr(self, "_on_" + type(msg).__name__)(ctx, src, msg)

    # acceptor
    def _on_Prepare(self, ctx, src, m):
        st = ctx.storage
        self._see(m.ballot)
        if m.ballot >= st["promised"]:
            st["promised"] = m.ballot
            ab, av = st["accepted"] or (NO_BALLOT, None)
            ctx.send(src, Promise(m.ballot, ab, av))
        else:
            ctx.send(src, Nack(m.ballot, st["promised"]))
        if self.retry == "naive" and self.phase and m.ballot > self.ballot:
            self._failed(ctx, "pre-empted")              # naive: fight back at once

    def _on_Accept(self, ctx, src, m):
        st = ctx.storage
        self._see(m.ballot)
        if m.ballot >= st["promised"]:
            st["promised"] = m.ballot
            if st["accepted"] != (m.ballot, m.value):
                st["accepted"] = (m.ballot, m.value)
                ctx.note("accept", slot=0, ballot=m.ballot, value=m.value)
            self._all(ctx, Accepted(m.ballot, m.value))
        else:
            ctx.send(src, Nack(m.ballot, st["promised"]))

    # proposer
    def _on_Promise(self, ctx, src, m):
        if self.phase != 1 or m.ballot != self.ballot:
            return
        self.promises[src] = (m.accepted_ballot, m.accepted_value)
        if len(self.promises) >= self._majority(ctx):
            ab, av = max(self.promises.values(), key=lambda p: p[0])
            value = av if ab != NO_BALLOT else self.value
            self.phase = 2
            self._all(ctx, Accept(self.ballot, value))
            ctx.set_timer("phase", self.timeout)

    def _on_Nack(self, ctx, src, m):
        self._see(m.promised)
        if self.phase and m.ballot == self.ballot:
            self._failed(ctx, "nack")

    # learner
    def _on_Accepted(self, ctx, src, m):
        self._see(m.ballot)
        voters = self.tally.setdefault(m.ballot, set())
        voters.add(src)
        if self.learned is None and len(voters) >= self._majority(ctx):
            self._learn(ctx, m.value, m.ballot)

    def _learn(self, ctx, value, ballot=None):
        self.learned = value
        self.phase = 0
        ctx.cancel_timer("phase"), ctx.cancel_timer("retry"), ctx.cancel_timer("ask")
        ctx.note("learn", slot=0, value=value, ballot=ballot)

    def _on_Ask(self, ctx, src, m):
        if self.learned is not None:
            ctx.send(src, Decided(self.learned))

    def _on_Decided(self, ctx, src, m):
        if self.learned is None:
            self._learn(ctx, m.value)

    def status(self):
        return {"learned": self.learned, "ballot": self.ballot, "phase": self.phase}


def build(n=3, seed=0, proposers=("n1", "n2"), latency=(1.0, 5.0), values=None, **options):
    """A World of ``n`` Paxos nodes; ``proposers`` propose ``values[p]`` (default ``'v-<id>'``)."""
    from ..sim import World
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"Paxos needs at least one acceptor to form a majority, got n={n!r}")
    names = [f"n{i}" for i in range(1, n + 1)]
    proposers = list(proposers) if proposers is not None else names
    unknown = [p for p in proposers if p not in names]
    if unknown or not proposers:
        raise ConfigError(f"proposers must be some of {', '.join(names)}, got {proposers!r}")
    values = dict(values or {})
    Paxos(proposers=proposers, **options)                       # validate before building
    w = World(seed=seed, latency=latency)
    for name in names:
        w.add_node(name, lambda name=name: Paxos(value=values.get(name), proposers=proposers, **options))
    return w


DUEL_SEED = 0
"""With naive retry, 3 nodes, proposers n1 and n2 and 1-2 ms links, this seed duels for seconds."""


def dueling(retry="naive", seed=DUEL_SEED, until=2000.0, latency=(1.0, 2.0)):
    """Two proposers start together; with ``retry='naive'`` and the named seed nothing is chosen.

    The same call with ``retry='backoff'`` or ``'leader'`` decides within a few ms.
    """
    w = build(3, seed=seed, proposers=("n1", "n2"), latency=latency, retry=retry)
    return w.run(until=until)


def learned(world):
    """node -> the value it learned (None if it has not), for the nodes that are up."""
    return {s["node"]: s.get("learned") for s in world.status() if s["state"] == "up"}
