"""Multi-Paxos: a replicated log of client operations with a stable leader.

Each log slot is one instance of Paxos; one ballot covers all slots. A node
that has not heard from a leader for its (randomized) election timeout runs
phase 1 *once* for every slot from its first slot not known to be chosen:
``Prepare(ballot, from_slot)``. Acceptors promise the ballot for all those
slots and return what they accepted there. The new leader re-proposes, slot by
slot, the value accepted in the highest ballot, fills the gaps with ``NOOP``
and from then on runs only phase 2 for new client operations — one round trip
per operation — for as long as its ballot holds. A ``Nack`` (someone promised
a higher ballot) ends its leadership.

Client operations (``read``/``write``/``cas``, ``get``/``put``/``append``) all go
through the log, reads included, so answers are linearizable; the leader
answers an operation once its slot and all earlier slots are chosen and
applied. Followers learn chosen slots from the leader (its heartbeats carry the
first slot it has not seen chosen; a follower behind asks for the rest).

Durable storage: ``promised`` (ballot), ``accepted`` ({slot: (ballot, value)}),
``chosen`` ({slot: value}, facts once learned) and ``round``. Roles:
``ctx.set_role('leader' | 'candidate' | 'follower', round)``. Acceptors note
``accept`` and learners ``learn`` (with the slot) for ``faultlab.check.paxos``.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from ._options import add_kv_clients, count, majority, positive_ms, validated
from .kv import NOOP, KVStore, answer, refuse_malformed
from .paxos import NO_BALLOT, Nack  # the same refusal as single-decree Paxos

Command = namedtuple("Command", "op f key value")
"""A client operation as stored in a slot (``op`` is the client's op id)."""


@dataclass(frozen=True)
class Prepare:
    ballot: tuple
    from_slot: int


@dataclass(frozen=True)
class Promise:
    ballot: tuple
    accepted: tuple             # ((slot, ballot, value), ...) for slots >= from_slot


@dataclass(frozen=True)
class Accept:
    ballot: tuple
    items: tuple                # ((slot, value), ...)


@dataclass(frozen=True)
class Accepted:
    ballot: tuple
    slots: tuple


@dataclass(frozen=True)
class Heartbeat:
    ballot: tuple
    commit: int                 # every slot below it is chosen (and known to the leader)


@dataclass(frozen=True)
class Learn:
    from_slot: int


@dataclass(frozen=True)
class Chosen:
    items: tuple                # ((slot, value), ...)


class MultiPaxos(HandlerNode):
    def __init__(self, heartbeat=50.0, timeout=300.0):
        self.heartbeat = positive_ms("multipaxos heartbeat", heartbeat)
        self.timeout = positive_ms("multipaxos timeout", timeout)
        if self.timeout <= self.heartbeat:
            raise ConfigError(f"election timeout ({timeout} ms) must exceed the heartbeat interval "
                              f"({heartbeat} ms), or followers depose a healthy leader")
        self.role = "follower"
        self.leader = None
        self.storage: dict = {}          # ctx.storage once started (promised, accepted, chosen, round)
        self.ballot = NO_BALLOT          # the ballot this node campaigns or leads with
        self.commit_hint = 0             # every slot below it is known to be chosen
        self.last_heard = 0.0            # when a leader (or a higher ballot) was last heard
        self.my_timeout = self.timeout   # this node's randomized election timeout
        # as a candidate
        self.from_slot = 0               # phase 1 covers every slot from here on
        self.promises: dict = {}         # acceptor -> what it accepted from from_slot on
        # as the leader
        self.proposals: dict = {}        # slot -> the value proposed there
        self.votes: dict = {}            # slot -> acceptors that accepted the proposal
        self.next_slot = 0               # where the next client operation goes
        self.pending: dict = {}          # client op id -> op, answered once its slot is applied
        self.ids: set = set()            # client op ids already in the log (drops re-deliveries)
        self.kv = KVStore()              # the state machine, rebuilt by applying chosen slots
        self.applied = 0                 # the first slot not applied yet

    # -- helpers -------------------------------------------------------------
    def _all(self, ctx, msg):
        for n in ctx.nodes:
            ctx.send(n, msg)

    def _set(self, ctx, role):
        self.role = role
        ctx.set_role(role, self.ballot[0] if role != "follower" else ctx.storage["promised"][0])

    def _draw_timeout(self, ctx):
        return self.timeout * (1 + ctx.rng.random())

    def _first_unchosen(self, ctx):
        chosen = ctx.storage["chosen"]
        s = self.commit_hint
        while s in chosen:
            s += 1
        self.commit_hint = s
        return s

    # -- lifecycle -----------------------------------------------------------
    def on_start(self, ctx):
        st = self.storage = ctx.storage
        st.setdefault("promised", NO_BALLOT)
        st.setdefault("accepted", {})
        st.setdefault("chosen", {})
        st.setdefault("round", 0)
        self.last_heard = ctx.now
        self.my_timeout = self._draw_timeout(ctx)
        self._set(ctx, "follower")
        ctx.set_timer("check", ctx.rng.uniform(0, self.heartbeat))   # desynchronise the nodes' checks

    def on_timer(self, ctx, name):
        if name == "check":
            if self.role == "follower" and ctx.now - self.last_heard > self.my_timeout:
                self._campaign(ctx)
            ctx.set_timer("check", self.heartbeat)
        elif name == "elect" and self.role == "candidate":
            self.my_timeout = self._draw_timeout(ctx)
            self._campaign(ctx)
        elif name == "beat" and self.role == "leader":
            self._beat(ctx)

    # -- phase 1: becoming leader ------------------------------------------
    def _campaign(self, ctx):
        st = ctx.storage
        st["round"] = max(st["round"], st["promised"][0]) + 1
        self.ballot = (st["round"], ctx.id)
        self.from_slot = self._first_unchosen(ctx)
        self.promises = {}
        self._set(ctx, "candidate")
        self._all(ctx, Prepare(ballot=self.ballot, from_slot=self.from_slot))
        ctx.set_timer("elect", self.my_timeout)

    @handles(Prepare)
    def _on_prepare(self, ctx, src, m):
        st = ctx.storage
        if m.ballot >= st["promised"]:
            st["promised"] = m.ballot
            if src != ctx.id:
                self._yield(ctx, m.ballot, None)
            acc = tuple((s, b, v) for s, (b, v) in sorted(st["accepted"].items()) if s >= m.from_slot)
            ctx.send(src, Promise(ballot=m.ballot, accepted=acc))
        else:
            ctx.send(src, Nack(ballot=m.ballot, promised=st["promised"]))

    @handles(Promise)
    def _on_promise(self, ctx, src, m):
        if self.role != "candidate" or m.ballot != self.ballot:
            return
        self.promises[src] = m.accepted
        if len(self.promises) >= majority(len(ctx.nodes)):
            self._lead(ctx)

    def _lead(self, ctx):
        chosen = ctx.storage["chosen"]
        best: dict = {}
        for accepted in self.promises.values():
            for s, b, v in accepted:
                if s not in best or b > best[s][0]:
                    best[s] = (b, v)
        top = max([self.from_slot - 1, *best, *(s for s in chosen if s >= self.from_slot)])
        self.proposals = {}
        for s in range(self.from_slot, top + 1):
            self.proposals[s] = chosen[s] if s in chosen else best[s][1] if s in best else NOOP
        self.next_slot = top + 1
        self.votes = {s: set() for s in self.proposals}
        self.pending = {}
        self.ids = {v.op for v in list(chosen.values()) + list(self.proposals.values())
                    if isinstance(v, Command)}
        self.kv, self.applied = KVStore(), 0
        self._set(ctx, "leader")
        self.leader = ctx.id
        ctx.cancel_timer("elect")
        ctx.note("leading", ballot=self.ballot, from_slot=self.from_slot, recovered=len(self.proposals))
        self._beat(ctx)

    def _yield(self, ctx, ballot, leader):
        """Someone with a higher ballot is around: follow (and stop leading)."""
        was = self.role
        self.leader = leader
        self.last_heard = ctx.now
        if was != "follower":
            ctx.cancel_timer("elect"), ctx.cancel_timer("beat")
            self._set(ctx, "follower")
            ctx.note("step down", ballot=ballot)
            # A fresh random timeout: two candidates that pre-empted each other would otherwise
            # time out together again, every time (a duel that lasts as long as the run).
            self.my_timeout = self._draw_timeout(ctx)
        self._set(ctx, "follower")

    # -- phase 2 -----------------------------------------------------------
    def _beat(self, ctx):
        open_ = tuple((s, v) for s, v in sorted(self.proposals.items()) if s not in ctx.storage["chosen"])
        if open_:
            self._all(ctx, Accept(ballot=self.ballot, items=open_))
        self._all(ctx, Heartbeat(ballot=self.ballot, commit=self._first_unchosen(ctx)))
        ctx.set_timer("beat", self.heartbeat)

    def _refuse_stale(self, ctx, src, m):
        """Nack a message from a ballot below our promise; True if it was refused."""
        promised = ctx.storage["promised"]
        if m.ballot < promised:
            ctx.send(src, Nack(ballot=m.ballot, promised=promised))
        return m.ballot < promised

    @handles(Accept)
    def _on_accept(self, ctx, src, m):
        if self._refuse_stale(ctx, src, m):
            return
        st = ctx.storage
        st["promised"] = m.ballot
        if src != ctx.id:
            self._yield(ctx, m.ballot, src)
        for s, v in m.items:
            if st["accepted"].get(s) != (m.ballot, v):
                st["accepted"][s] = (m.ballot, v)
                ctx.note("accept", slot=s, ballot=m.ballot, value=v)
        ctx.send(src, Accepted(ballot=m.ballot, slots=tuple(s for s, _ in m.items)))

    @handles(Accepted)
    def _on_accepted(self, ctx, src, m):
        if self.role != "leader" or m.ballot != self.ballot:
            return
        newly = []
        for s in m.slots:
            if s in self.votes and s not in ctx.storage["chosen"]:
                self.votes[s].add(src)
                if len(self.votes[s]) >= majority(len(ctx.nodes)):
                    newly.append((s, self.proposals[s]))
        if newly:
            self._learn(ctx, newly)
            for p in ctx.peers:
                ctx.send(p, Chosen(items=tuple(newly)))

    @handles(Nack)
    def _on_nack(self, ctx, src, m):
        if m.promised > ctx.storage["promised"]:
            ctx.storage["promised"] = m.promised
        if self.role != "follower" and m.ballot == self.ballot:
            self._yield(ctx, m.promised, None)

    # -- learning and applying ---------------------------------------------
    def _learn(self, ctx, items):
        chosen = ctx.storage["chosen"]
        for s, v in items:
            if s not in chosen:
                chosen[s] = v
                ctx.note("learn", slot=s, value=v)
        if self.role == "leader":
            self._apply(ctx)

    def _apply(self, ctx):
        chosen = ctx.storage["chosen"]
        while self.applied in chosen:
            v = chosen[self.applied]
            self.applied += 1
            if not isinstance(v, Command):
                continue
            outcome = self.kv.execute(v.f, v.key, v.value)
            op = self.pending.pop(v.op, None)
            if op is not None:
                answer(ctx, op, outcome)

    @handles(Chosen)
    def _on_chosen(self, ctx, src, m):
        self._learn(ctx, m.items)

    @handles(Heartbeat)
    def _on_heartbeat(self, ctx, src, m):
        if self._refuse_stale(ctx, src, m):
            return
        st = ctx.storage
        if src != ctx.id:
            st["promised"] = m.ballot
            self._yield(ctx, m.ballot, src)
            if self._first_unchosen(ctx) < m.commit:
                ctx.send(src, Learn(from_slot=self._first_unchosen(ctx)))

    @handles(Learn)
    def _on_learn(self, ctx, src, m):
        chosen = ctx.storage["chosen"]
        items = [(s, chosen[s]) for s in sorted(k for k in chosen if k >= m.from_slot)]
        if items:
            ctx.send(src, Chosen(items=tuple(items)))

    # -- clients -------------------------------------------------------------
    def on_request(self, ctx, op):
        if refuse_malformed(ctx, op):
            return
        if self.role != "leader":
            ctx.fail(op, "not the leader", leader=self.leader)
            return
        if op.id in self.ids:
            return                          # a duplicated request: the first copy answers
        self.ids.add(op.id)
        s = self.next_slot
        self.next_slot += 1
        value = Command(op=op.id, f=op.f, key=op.key, value=op.value)
        self.proposals[s] = value
        self.votes[s] = set()
        self.pending[op.id] = op
        self._all(ctx, Accept(ballot=self.ballot, items=((s, value),)))

    def status(self):
        chosen = self.storage.get("chosen", {})
        s = {"role": self.role, "leader": self.leader, "ballot": self.ballot,
             "promised": self.storage.get("promised"), "chosen": len(chosen)}
        s["log"] = [chosen.get(i) for i in range(max(chosen, default=-1) + 1)]
        return s


def build(n=3, seed=0, clients=3, workload=None, latency=(1.0, 5.0), client_timeout=500.0,
          think=(0.0, 10.0), stop=None, **options):
    """A World of ``n`` Multi-Paxos replicas and ``clients`` key-value clients."""
    from ..sim import World
    count("n", n, 1, "Multi-Paxos needs at least one replica to form a majority")
    make = validated(MultiPaxos, **options)
    w = World(seed=seed, latency=latency)
    w.add_nodes(n, make)
    add_kv_clients(w, clients, workload, timeout=client_timeout, think=think, stop=stop)
    return w


def log_of(world, node):
    """The chosen values ``node`` knows, slot by slot (None for a slot it has not learned)."""
    chosen = world.storage(node).get("chosen", {})
    return [chosen.get(i) for i in range(max(chosen, default=-1) + 1)]
