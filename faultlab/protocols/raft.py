"""Raft (Ongaro & Ousterhout, 2014) as an event-driven state machine (docs/design.md §3).

Leader election with randomized timeouts (and optional pre-vote), log
replication with the fast-backup hints, commitment only of current-term
entries (the paper's Figure 8 rule), and a replicated key-value store
(:mod:`faultlab.protocols.kv`) behind ``on_request``.

Durability: ``term``, ``voted_for`` and ``log`` live in ``ctx.storage``. The
log *is* ``ctx.storage['log']`` (a list of ``(term, command)`` tuples), so every
change to it is a durable write that happens before the message that reports
it is sent; term and vote are written before any reply. The commit index, the
key-value state and the pending client requests are volatile: after a restart
the node learns the commit index from the leader and replays its log.

Reads go through the log. A read is a log entry like a write, so it is ordered
with every write by the same commit point and answered when it is applied,
which makes it linearizable with no extra argument (a deposed leader cannot
commit, so it cannot answer a stale read). ReadIndex would save a log entry per
read but needs a heartbeat round and a committed entry of the leader's term
before each read; the simpler rule is the one a learner can check by eye.

Every change of the log is announced in the trace by a ``log`` note (the log
from ``index`` on was replaced by ``entries``), every commit-index advance by a
``commit`` note and every application by an ``apply`` note; the checkers in
:mod:`faultlab.check.raft` rebuild each node's log from those notes.
"""
from __future__ import annotations

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from ._options import count, flag, majority, positive_ms, validated
from .kv import KVStore, answer, refuse_malformed
from .raft_messages import NOOP, AppendEntries, AppendReply, Command, RequestVote, VoteReply

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"
MAX_BATCH = 64          # entries per AppendEntries


def _check_options(election_timeout, heartbeat, pre_vote):
    if not (isinstance(election_timeout, (list, tuple)) and len(election_timeout) == 2):
        raise ConfigError(f"election_timeout must be a (low, high) range in ms such as (150, 300), "
                          f"got {election_timeout!r}")
    lo = positive_ms("raft election_timeout low end", election_timeout[0])
    hi = positive_ms("raft election_timeout high end", election_timeout[1])
    if hi < lo:
        raise ConfigError(f"election_timeout range ({lo:g}, {hi:g}) is reversed; give (low, high)")
    hb = positive_ms("raft heartbeat", heartbeat)
    if hb >= lo:
        raise ConfigError(f"heartbeat ({hb:g} ms) must be shorter than the smallest election timeout "
                          f"({lo:g} ms), or followers start elections between two heartbeats")
    flag("pre_vote", pre_vote)
    return (lo, hi), hb


class Raft(HandlerNode):
    """One Raft server. ``status()`` shows role, term, leader, commit index and the log."""

    def __init__(self, election_timeout=(150, 300), heartbeat=50, pre_vote=False):
        self.election_timeout, self.heartbeat = _check_options(election_timeout, heartbeat, pre_vote)
        self.pre_vote = pre_vote
        self.role = FOLLOWER
        self.leader = None
        self.commit_index = 0
        self.last_applied = 0
        self.kv = KVStore()
        self.pending: dict = {}          # log index -> client op waiting for its entry to apply
        self.votes: set = set()
        self.prevotes: set = set()
        self.next_index: dict = {}
        self.match_index: dict = {}
        self.probing: set = set()          # followers whose match point the leader is looking for
        self.last_contact = None         # local time of the last AppendEntries from a leader
        self._st: dict = {}              # ctx.storage, kept for the term and vote properties
        self.log: list = []              # is ctx.storage["log"] once started

    # -- durable state ---------------------------------------------------------
    def on_start(self, ctx):
        st = ctx.storage
        st.setdefault("term", 0)
        st.setdefault("voted_for", None)
        st.setdefault("log", [])
        st.setdefault("clients", {})     # client -> highest op id received (drops re-deliveries)
        self._st = st
        self.log = st["log"]
        self._become_follower(ctx, self.term, leader=None)

    @property
    def term(self):
        return self._st["term"]

    @property
    def voted_for(self):
        return self._st["voted_for"]

    def _set_term(self, ctx, term, voted_for=None):
        ctx.storage["term"] = term
        ctx.storage["voted_for"] = voted_for

    def _quorum(self, ctx):
        return majority(len(ctx.nodes))

    def _last(self):
        return len(self.log), (self.log[-1][0] if self.log else 0)

    def _term_at(self, index):
        return self.log[index - 1][0] if 0 < index <= len(self.log) else 0

    def _splice(self, ctx, index, entries):
        """Replace the log from ``index`` on by ``entries`` (a durable write) and note it."""
        del self.log[index - 1:]
        self.log.extend(entries)
        ctx.note("log", index=index, entries=tuple(entries), term=self.term)

    # -- roles -----------------------------------------------------------------
    def _reset_election_timer(self, ctx):
        ctx.set_timer("election", ctx.rng.uniform(*self.election_timeout))

    def _become_follower(self, ctx, term, leader=None):
        if term != self.term:
            self._set_term(ctx, term)
        self.role = FOLLOWER
        self.leader = leader
        self.votes, self.prevotes = set(), set()
        ctx.cancel_timer("heartbeat")
        if not ctx.timer_pending("election"):
            self._reset_election_timer(ctx)
        ctx.set_role(FOLLOWER, term)

    def _step_down_if_stale(self, ctx, term):
        """Any message with a higher term makes us a follower of that term (vote cleared)."""
        if term > self.term:
            self._become_follower(ctx, term)
            return True
        return False

    def _start_pre_vote(self, ctx):
        self.prevotes = {ctx.id}
        self._reset_election_timer(ctx)
        ctx.note("pre-vote", term=self.term + 1)
        if len(self.prevotes) >= self._quorum(ctx):
            return self._start_election(ctx)
        last_index, last_term = self._last()
        ctx.broadcast(RequestVote(term=self.term + 1, candidate=ctx.id, last_index=last_index,
                                  last_term=last_term, pre_vote=True))

    def _start_election(self, ctx):
        self._set_term(ctx, self.term + 1, voted_for=ctx.id)     # vote for itself, durably
        self.role, self.leader = CANDIDATE, None
        self.votes, self.prevotes = {ctx.id}, set()
        ctx.set_role(CANDIDATE, self.term)
        self._reset_election_timer(ctx)
        if len(self.votes) >= self._quorum(ctx):
            return self._become_leader(ctx)
        last_index, last_term = self._last()
        ctx.broadcast(RequestVote(term=self.term, candidate=ctx.id, last_index=last_index,
                                  last_term=last_term))

    def _become_leader(self, ctx):
        self.role, self.leader = LEADER, ctx.id
        ctx.cancel_timer("election")
        ctx.set_role(LEADER, self.term)
        last = len(self.log)
        self.next_index = {p: last + 1 for p in ctx.peers}
        self.match_index = {p: 0 for p in ctx.peers}
        self.probing = set(ctx.peers)      # where each follower's log matches is not known yet
        # A no-op of the new term lets entries of earlier terms commit (Figure 8 rule).
        self._append(ctx, NOOP)
        self._on_heartbeat(ctx)

    # -- timers ------------------------------------------------------------------
    def on_timer(self, ctx, name):
        if name == "election" and self.role != LEADER:
            if self.pre_vote:
                self._start_pre_vote(ctx)
            else:
                self._start_election(ctx)
        elif name == "heartbeat" and self.role == LEADER:
            self._on_heartbeat(ctx)

    def _on_heartbeat(self, ctx):
        for p in ctx.peers:
            self._send_append(ctx, p)
        ctx.set_timer("heartbeat", self.heartbeat)

    # -- messages ----------------------------------------------------------------
    def _log_ok(self, last_index, last_term):
        """The paper's up-to-date rule (§5.4.1): later last term, or same term and at least as long."""
        my_index, my_term = self._last()
        return last_term > my_term or (last_term == my_term and last_index >= my_index)

    @handles(RequestVote)
    def _on_request_vote(self, ctx, src, m):
        if m.pre_vote:
            heard_recently = (self.leader is not None and self.last_contact is not None
                              and ctx.now - self.last_contact < self.election_timeout[0])
            granted = (m.term > self.term and self.role != LEADER and not heard_recently
                       and self._log_ok(m.last_index, m.last_term))
            ctx.send(src, VoteReply(term=m.term if granted else self.term, granted=granted, pre_vote=True))
            return
        self._step_down_if_stale(ctx, m.term)
        granted = (m.term == self.term and self.voted_for in (None, m.candidate)
                   and self._log_ok(m.last_index, m.last_term))
        if granted:
            self._set_term(ctx, self.term, voted_for=m.candidate)   # durable before the reply
            self._reset_election_timer(ctx)
        ctx.send(src, VoteReply(term=self.term, granted=granted))

    @handles(VoteReply)
    def _on_vote_reply(self, ctx, src, m):
        if m.pre_vote:
            if m.granted and m.term == self.term + 1 and self.role == FOLLOWER and self.prevotes:
                self.prevotes.add(src)
                if len(self.prevotes) >= self._quorum(ctx):
                    self._start_election(ctx)
            elif not m.granted:
                self._step_down_if_stale(ctx, m.term)
            return
        if self._step_down_if_stale(ctx, m.term):
            return
        if self.role == CANDIDATE and m.term == self.term and m.granted:
            self.votes.add(src)
            if len(self.votes) >= self._quorum(ctx):
                self._become_leader(ctx)

    @handles(AppendEntries)
    def _on_append_entries(self, ctx, src, m):
        if m.term < self.term:
            ctx.send(src, AppendReply(term=self.term, success=False))
            return
        if m.term > self.term or self.role != FOLLOWER or self.leader != m.leader:
            self._become_follower(ctx, m.term, leader=m.leader)
        self.last_contact = ctx.now
        self._reset_election_timer(ctx)
        # Consistency check on the entry before the new ones (§5.3), with fast-backup hints.
        if m.prev_index > len(self.log):
            ctx.send(src, AppendReply(term=self.term, success=False, conflict_index=len(self.log) + 1,
                                      rejected=m.prev_index))
            return
        if m.prev_index > 0 and self._term_at(m.prev_index) != m.prev_term:
            xterm = self._term_at(m.prev_index)
            first = m.prev_index
            while first > 1 and self._term_at(first - 1) == xterm:
                first -= 1
            ctx.send(src, AppendReply(term=self.term, success=False, conflict_index=first,
                                      conflict_term=xterm, rejected=m.prev_index))
            return
        # Skip entries we already hold; cut the log only at the first real conflict.
        for k, entry in enumerate(m.entries):
            index = m.prev_index + 1 + k
            if index > len(self.log) or self._term_at(index) != entry[0]:
                self._splice(ctx, index, m.entries[k:])
                break
        match = m.prev_index + len(m.entries)
        if m.commit > self.commit_index:
            self._advance_commit(ctx, min(m.commit, match))
        ctx.send(src, AppendReply(term=self.term, success=True, match=match))

    @handles(AppendReply)
    def _on_append_reply(self, ctx, src, m):
        if self._step_down_if_stale(ctx, m.term) or self.role != LEADER or m.term != self.term:
            return
        if m.success:
            if m.match > self.match_index[src]:
                self.match_index[src] = m.match
            self.probing.discard(src)
            self.next_index[src] = max(self.next_index[src], self.match_index[src] + 1)
            self._leader_commit(ctx)
            if self.next_index[src] <= len(self.log):
                self._send_append(ctx, src)
            return
        if src in self.probing and m.rejected != self.next_index[src] - 1:
            return                              # an answer to an older probe: already handled
        # Fast backup: jump over a whole conflicting term instead of one index per round trip.
        nxt = m.conflict_index
        if m.conflict_term is not None:
            last_of_term = max((i for i in range(len(self.log), 0, -1)
                                if self._term_at(i) == m.conflict_term), default=None)
            if last_of_term is not None:
                nxt = last_of_term + 1
        self.next_index[src] = min(max(nxt, self.match_index[src] + 1, 1), len(self.log) + 1)
        self.probing.add(src)
        self._send_append(ctx, src)

    # -- replication -------------------------------------------------------------
    def _send_append(self, ctx, peer):
        nxt = self.next_index[peer]
        entries = tuple(self.log[nxt - 1:nxt - 1 + MAX_BATCH])
        ctx.send(peer, AppendEntries(term=self.term, leader=ctx.id, prev_index=nxt - 1,
                                     prev_term=self._term_at(nxt - 1), entries=entries,
                                     commit=self.commit_index))
        # Once a follower has matched, pipeline: assume the entries arrive (a rejection, after a
        # loss or reordering, puts it back to probing). While probing, resend from the same point.
        if peer not in self.probing:
            self.next_index[peer] = nxt + len(entries)

    def _append(self, ctx, cmd):
        self._splice(ctx, len(self.log) + 1, [(self.term, cmd)])
        self._leader_commit(ctx)            # a one-node cluster commits at once
        return len(self.log)

    def _leader_commit(self, ctx):
        """Commit the highest index a majority holds, only if it is of the current term (Figure 8)."""
        matches = sorted(list(self.match_index.values()) + [len(self.log)], reverse=True)
        n = matches[self._quorum(ctx) - 1]
        if n > self.commit_index and self._term_at(n) == self.term:
            self._advance_commit(ctx, n)

    def _advance_commit(self, ctx, index):
        if index <= self.commit_index:
            return
        self.commit_index = index
        ctx.note("commit", index=index, term=self.term)
        first, applied = self.last_applied + 1, []
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            term, cmd = self.log[self.last_applied - 1]
            outcome = self.kv.apply(cmd)
            applied.append((term, cmd))
            op = self.pending.pop(self.last_applied, None)
            if op is None:
                continue
            if op.id != cmd.id:
                ctx.fail(op, "lost leadership: another entry was committed in its place",
                         leader=self.leader)
            else:
                answer(ctx, op, outcome)
        ctx.note("apply", index=first, entries=tuple(applied))

    # -- clients -----------------------------------------------------------------
    def on_request(self, ctx, op):
        seen = ctx.storage["clients"]
        if op.id <= seen.get(op.client, 0):
            ctx.note("duplicate request dropped", op=op.id)
            return
        seen[op.client] = op.id
        if refuse_malformed(ctx, op):
            return
        if self.role != LEADER:
            ctx.fail(op, "not leader", leader=self.leader)
            return
        value = tuple(op.value) if isinstance(op.value, list) else op.value
        self.pending[len(self.log) + 1] = op     # answered when its entry is applied
        self._append(ctx, Command(id=op.id, f=op.f, key=op.key, value=value))
        for p in ctx.peers:
            if p not in self.probing:          # probing followers get it with the next probe
                self._send_append(ctx, p)

    def status(self):
        return {"role": self.role, "term": self.term, "leader": self.leader,
                "voted_for": self.voted_for, "commit_index": self.commit_index,
                "last_applied": self.last_applied, "log": list(self.log)}


def build(n=5, seed=0, latency=(1, 5), **raft_options):
    """A World with ``n`` Raft servers ``n1..nN`` (options go to :class:`Raft`)."""
    from ..sim import World
    count("n", n, 1, "a Raft cluster needs a positive whole number of servers "
                     "(3 or 5 tolerate 1 or 2 failures)")
    make = validated(Raft, **raft_options)
    world = World(seed=seed, latency=latency)
    world.add_nodes(n, make)
    return world
