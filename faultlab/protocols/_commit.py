"""What two-phase and three-phase commit have in common, kept in one place.

Both protocols run transactions the same way around their different middles:
a coordinator takes a fresh transaction id, asks every participant, and once
it decides it *forces the decision to its log before anyone can hear of it*,
then repeats the outcome until every participant acknowledges (and again after
a restart). Participants lock a key with no-wait locking, work, and vote by a
seeded rule. Option checks, builders and the client workload are the same too.

``two_phase.py`` and ``three_phase.py`` hold each protocol's own logic; this
module is private (re-exported by ``two_phase`` where its names were public).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from ._options import non_negative_ms, one_of, positive_ms, probability

VOTE_RULES = ("yes", "no", "random")
COORDINATOR = "co"


# -- the messages both protocols send --------------------------------------------------------
@dataclass(frozen=True)
class Vote:
    txn: str
    yes: bool


@dataclass(frozen=True)
class Ack:
    """A participant has the outcome of ``txn`` in its log."""
    txn: str


@dataclass(frozen=True)
class DecisionRequest:
    """An uncertain participant asks: "what was decided for ``txn``?"."""
    txn: str


# -- option checks and small helpers -------------------------------------------------------
def check_vote(vote, no_rate):
    one_of("vote rule", vote, VOTE_RULES,
           "'random' votes no with probability no_rate, drawn from the seeded ctx.rng")
    return probability("no_rate", no_rate)


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


# -- the coordinator ---------------------------------------------------------------------
class CommitCoordinator(HandlerNode):
    """A coordinator's durable decision log and its announcement, for 2PC and 3PC alike.

    Durable storage: ``next`` (the last transaction number: ids are never
    reused), ``decisions`` (txn -> 'commit' | 'abort', forced before it is
    sent), ``ended`` (every participant acknowledged), ``scripted``.
    A subclass names its first message (``request``: Prepare or CanCommit),
    says how to spell an outcome (:meth:`outcome`) and handles its own phases.
    """

    protocol = "commit"          # how error messages name the protocol ('2PC', '3PC')
    request = None               # the first message, built as request(txn, key, value, participants)
    decide_cancels = ("votes",)  # the phase timers a decision makes pointless

    def __init__(self, participants, vote_timeout, retry, script):
        self.participants = check_participants(participants)
        self.vote_timeout = positive_ms("vote_timeout", vote_timeout)
        self.retry = positive_ms("retry", retry)
        self.script = list(script)
        self.active: dict = {}       # txn -> per-transaction state while deciding   (volatile)
        self.unacked: dict = {}      # txn -> set of participants yet to acknowledge the decision

    def outcome(self, txn, decision):
        """The message that tells a participant ``decision`` ('commit' | 'abort') for ``txn``."""
        raise NotImplementedError

    def _new_txn(self, op):
        """The volatile state of a transaction just begun (a subclass adds its phases)."""
        return {"op": op, "votes": {}}

    # -- lifecycle -------------------------------------------------------------------------
    def _announce_logged_decisions(self, ctx):
        """After a restart: a logged decision is final, so tell it again until everyone acks."""
        ended = ctx.storage.get("ended", {})
        for txn, decision in ctx.storage.get("decisions", {}).items():
            if txn not in ended:
                ctx.note("recover", txn=txn, decision=decision)
                self._announce(ctx, txn, decision)

    def _schedule_script(self, ctx):
        """Timers for the scripted transactions not started yet (each starts at most once)."""
        for i, (t, _key, _value) in enumerate(self.script):
            if t >= ctx.now and f"s{i}" not in ctx.storage.get("scripted", {}):
                ctx.set_timer(f"script:{i}", t - ctx.now)

    def on_request(self, ctx, op):
        if op.f != "txn":
            ctx.fail(op, f"unknown operation {op.f!r}: a {self.protocol} coordinator serves only "
                         "'txn' (key, value written on every participant)")
            return
        self.begin(ctx, op.key, op.value, op)

    def begin(self, ctx, key, value, op=None):
        """Start a transaction: take a fresh id (durably, ids are never reused) and ask everyone."""
        n = ctx.storage.get("next", 0) + 1
        ctx.storage["next"] = n
        txn = f"t{n}"
        self.active[txn] = self._new_txn(op)
        ctx.set_role("coordinator", n)
        ctx.note("begin", txn=txn, participants=list(self.participants), key=key, value=value)
        msg = self.request(txn=txn, key=key, value=value, participants=self.participants)
        for p in self.participants:
            ctx.send(p, msg)
        ctx.set_timer(f"votes:{txn}", self.vote_timeout)
        return txn

    def on_timer(self, ctx, name):
        """Re-send an unacknowledged decision; start a scripted transaction."""
        kind, _, arg = name.partition(":")
        if kind == "resend" and self.unacked.get(arg):
            decision = ctx.storage["decisions"][arg]
            for p in sorted(self.unacked[arg]):
                ctx.send(p, self.outcome(arg, decision))
            ctx.set_timer(name, self.retry)
        elif kind == "script":
            i = int(arg)
            ctx.storage["scripted"] = {**ctx.storage.get("scripted", {}), f"s{i}": True}
            _t, key, value = self.script[i]
            self.begin(ctx, key, value)

    # -- the decision ----------------------------------------------------------------------
    def decide(self, ctx, txn, decision, reason=""):
        """Log the decision (forced write) *before* anyone can hear of it, then announce it."""
        t = self.active.pop(txn, None)
        for timer in self.decide_cancels:
            ctx.cancel_timer(f"{timer}:{txn}")
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
            ctx.send(p, self.outcome(txn, decision))
        ctx.set_timer(f"resend:{txn}", self.retry)

    @handles(Ack)
    def _on_ack(self, ctx, src, msg):
        """Once every participant acknowledged, the transaction ends (logged: no more re-sends)."""
        txn = msg.txn
        left = self.unacked.get(txn)
        if left is None or src not in left:
            return
        left.discard(src)
        if not left:
            del self.unacked[txn]
            ctx.cancel_timer(f"resend:{txn}")
            force(ctx, "ended", {txn: True})
            ctx.note("end", txn=txn)

    def status(self):
        return {"active": sorted(self.active), "unacked": sorted(self.unacked)}


# -- the participant ---------------------------------------------------------------------
class CommitParticipant(HandlerNode):
    """A participant's vote rule, work time and no-wait locks, for 2PC and 3PC alike.

    Durable storage: ``txns`` (txn -> record with 'state'), ``data`` (committed
    writes). A subclass handles its protocol's messages, log states and recovery.
    """

    def __init__(self, coordinator, vote, no_rate, work_time):
        self.coordinator = coordinator
        self.vote, self.no_rate = vote, check_vote(vote, no_rate)
        self.work_time = non_negative_ms("work_time", work_time)
        self.working: dict = {}      # txn -> first message (volatile: a crash while working aborts it)
        self.locks: dict = {}        # key -> txn

    def _log(self, ctx):
        return ctx.storage.get("txns", {})

    def _votes_yes(self, ctx):
        """The vote rule: 'yes', 'no', or 'random' (no with probability no_rate, seeded)."""
        return self.vote == "yes" or (self.vote == "random" and ctx.rng.random() >= self.no_rate)

    def _vote_no(self, ctx, txn, reason):
        raise NotImplementedError

    def _show(self, ctx, state, txn):
        """Announce ``state`` of ``txn`` as this node's role."""
        ctx.set_role(state, txn_number(txn))

    def _start_work(self, ctx, msg):
        """No-wait locking: vote no at once if the key is taken, else lock it and work a while."""
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

    def _release(self, txn):
        for k in [k for k, t in self.locks.items() if t == txn]:
            del self.locks[k]


# -- building runs -------------------------------------------------------------------------
def txn_workload(keys=2, values=10):
    """Client workload: ('txn', key, value) over a few keys, so transactions contend for locks."""
    names = [f"k{i}" for i in range(keys)]

    def next_op(rng):
        return "txn", rng.choice(names), rng.randrange(values)
    return next_op
