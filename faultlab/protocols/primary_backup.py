"""Primary–backup (master–slave) replication with heartbeat failure detection and failover.

One primary puts client operations into a log, applies them to a key-value state
machine and ships the log to the backups; its log messages double as heartbeats.

``mode='sync'``: a write is acknowledged only once every *live* backup (one the
primary heard from within ``timeout`` ms) holds it, or, with ``sync_acks=k``,
once any ``k`` backups hold it (semi-synchronous) — under the fenced policy also
only once a majority of all nodes holds it. ``mode='async'``: a write is
acknowledged at once and shipped with the next heartbeat, so a failover can lose
writes the clients were told had succeeded.

``policy='naive'``: a backup that hears nothing from the primary for its
failover timeout promotes itself. A paused or partitioned primary does not
know it was replaced and keeps acknowledging writes: two primaries.
``policy='fenced'``: promotion needs a majority to grant a higher *epoch*
(stored durably); nodes reject log messages from older epochs, the new primary
adopts the most up-to-date log of the majority (highest log epoch, then
longest), and a primary answers clients only while it holds a *lease* — a
majority acknowledged one of its heartbeats less than ``lease`` ms ago, and
those nodes grant no promotion for ``timeout > lease`` ms after hearing it.
A deposed primary therefore cannot acknowledge anything any more.

Durable storage: ``epoch`` (highest epoch seen or granted), ``log_epoch`` (the
epoch of the primary whose log this node holds) and ``log`` (list of
:class:`Entry`). Roles: ``ctx.set_role('primary' | 'backup' | 'candidate', epoch)``.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

from ..errors import ConfigError
from ._dispatch import HandlerNode, handles
from ._options import add_kv_clients, count, majority, one_of, positive_ms, validated
from .kv import READS, KVStore, answer, refuse_malformed

MODES = ("sync", "async")
POLICIES = ("naive", "fenced")

Entry = namedtuple("Entry", "epoch op f key value")
"""One log entry: the epoch that accepted it, the client op id, and the operation."""


@dataclass(frozen=True)
class Replicate:
    """Log entries from index ``start`` on (empty: a heartbeat); ``sent`` is echoed for the lease."""
    epoch: int
    start: int
    entries: tuple
    commit: int
    sent: float


@dataclass(frozen=True)
class ReplicateAck:
    epoch: int
    match: int          # ok: log length that matches the primary; not ok: where to resend from
    sent: float
    ok: bool
    outranked: bool = False   # sent by a primary that outranks the sender: step down


@dataclass(frozen=True)
class Promote:
    epoch: int


@dataclass(frozen=True)
class Grant:
    epoch: int
    log_epoch: int
    log: tuple


@dataclass(frozen=True)
class Refuse:
    epoch: int


class PrimaryBackup(HandlerNode):
    """A replica that is primary, backup or (fenced only) candidate for promotion."""

    def __init__(self, mode="sync", policy="fenced", heartbeat=50.0, timeout=250.0, lease=None,
                 sync_acks=None):
        self.mode = one_of("replication mode", mode, MODES,
                           "'sync' acknowledges after the backups hold the write, 'async' at once")
        self.policy = one_of("failover policy", policy, POLICIES,
                             "'naive' promotes on timeout, 'fenced' needs epochs granted by a "
                             "majority, and leases")
        if sync_acks is not None:
            count("sync_acks", sync_acks, 1, "sync_acks must be a positive number of backups "
                                             "(or None: every live backup)")
        self.sync_acks = sync_acks
        self.heartbeat = positive_ms("primary_backup heartbeat", heartbeat)
        self.timeout = positive_ms("primary_backup timeout", timeout)
        if self.timeout <= self.heartbeat:
            raise ConfigError(f"timeout ({timeout} ms) must exceed the heartbeat interval ({heartbeat} ms), "
                              "or backups suspect a healthy primary between two heartbeats")
        self.lease = positive_ms("primary_backup lease", lease if lease is not None else 0.8 * self.timeout)
        if self.lease >= self.timeout:
            raise ConfigError(f"lease ({self.lease:g} ms) must be shorter than timeout ({self.timeout:g} ms): "
                              "backups wait timeout before granting a promotion, which is what makes "
                              "the lease safe")
        self.role = "backup"
        self.primary = None
        self.synced = None                  # (epoch, primary) whose full log copy this node holds
        self.storage: dict = {}             # ctx.storage once started (epoch, log_epoch, log)
        self.last_heard = 0.0               # when the primary (or a candidate's quiet) was last seen
        self.my_timeout = self.timeout      # this node's randomized failover timeout
        self.grants: dict = {}              # as candidate: granter -> (its log epoch, its log)
        # as the primary
        self.backups: list = []
        self.match: dict = {}               # backup -> length of the log it holds for sure
        self.next: dict = {}                # backup -> where the next Replicate starts
        self.heard: dict = {}               # backup -> when it last acknowledged
        self.ack_sent: dict = {}            # backup -> send time of the newest heartbeat it acked
        self.ids: set = set()               # client op ids already in the log
        self.promote_len = 0                # log length at promotion: reads wait until it is applied
        self.commit = 0                     # entries before it are committed
        self.applied = 0
        self.kv = KVStore()
        self.pending: dict = {}             # op id -> client op waiting for its entry to commit
        self.held: list = []                # (op, outcome) replies waiting for a lease

    # -- helpers -------------------------------------------------------------
    @property
    def fenced(self):
        return self.policy == "fenced"

    def _set(self, ctx, role):
        self.role = role
        ctx.set_role(role, ctx.storage["epoch"])

    def _draw_timeout(self, ctx):
        self.my_timeout = self.timeout * (1.0 + ctx.rng.random())

    # -- lifecycle -----------------------------------------------------------
    def on_start(self, ctx):
        st = self.storage = ctx.storage
        first_boot = "epoch" not in st
        st.setdefault("epoch", 1)
        st.setdefault("log_epoch", 1)
        st.setdefault("log", [])
        self.last_heard = ctx.now           # wait a full timeout before suspecting or granting
        self._draw_timeout(ctx)
        if first_boot and ctx.id == ctx.nodes[0]:
            self._become_primary(ctx)
        else:
            self.primary = ctx.nodes[0] if first_boot else None
            self._set(ctx, "backup")
            ctx.set_timer("check", ctx.rng.uniform(0, self.heartbeat))   # desynchronise the backups

    def _become_primary(self, ctx):
        st = ctx.storage
        self.primary = ctx.id
        self.backups = [p for p in ctx.peers]
        self.match = {b: 0 for b in self.backups}
        self.next = {b: 0 for b in self.backups}
        self.heard = {b: ctx.now for b in self.backups}
        self.ack_sent = {b: float("-inf") for b in self.backups}
        self.ids = {e.op for e in st["log"]}
        self.promote_len = len(st["log"])
        self.commit = len(st["log"]) if self.mode == "async" else 0
        self.applied = 0
        self.kv = KVStore()
        self.pending = {}
        self.held = []
        self._set(ctx, "primary")
        ctx.note("promoted", epoch=st["epoch"], log_length=len(st["log"]))
        self._apply(ctx)
        ctx.cancel_timer("check")
        ctx.set_timer("beat", 0)

    def _step_down(self, ctx, epoch, primary=None):
        if epoch > ctx.storage["epoch"]:
            ctx.storage["epoch"] = epoch
        was = self.role
        self.primary = primary
        self.last_heard = ctx.now
        self._set(ctx, "backup")
        if was != "backup":
            ctx.note("stepped down", epoch=ctx.storage["epoch"])
            ctx.cancel_timer("beat")
            ctx.cancel_timer("elect")
            ctx.set_timer("check", self.heartbeat)

    # -- timers --------------------------------------------------------------
    def on_timer(self, ctx, name):
        if name == "beat" and self.role == "primary":
            self._advance_commit(ctx)
            self._flush_held(ctx)
            for b in self.backups:
                self._ship(ctx, b)
            ctx.set_timer("beat", self.heartbeat)
        elif name == "check" and self.role == "backup":
            if ctx.now - self.last_heard > self.my_timeout:
                self._failover(ctx)
            else:
                ctx.set_timer("check", self.heartbeat)
        elif name == "elect" and self.role == "candidate":
            self._draw_timeout(ctx)
            self._failover(ctx)

    def _failover(self, ctx):
        st = ctx.storage
        st["epoch"] += 1
        ctx.note("suspect primary", primary=self.primary, epoch=st["epoch"])
        if not self.fenced:
            st["log_epoch"] = st["epoch"]
            self._become_primary(ctx)
            return
        self._set(ctx, "candidate")
        self.grants = {ctx.id: (st["log_epoch"], tuple(st["log"]))}
        ctx.broadcast(Promote(epoch=st["epoch"]))
        ctx.set_timer("elect", self.my_timeout)
        self._maybe_win(ctx)

    def _maybe_win(self, ctx):
        st = ctx.storage
        if len(self.grants) < majority(len(ctx.nodes)):
            return
        _, best_log = max(self.grants.values(), key=lambda g: (g[0], len(g[1])))   # most up to date
        st["log"] = list(best_log)
        st["log_epoch"] = st["epoch"]
        ctx.cancel_timer("elect")
        self._become_primary(ctx)

    # -- replication ---------------------------------------------------------
    def _ship(self, ctx, b):
        log, start = ctx.storage["log"], self.next[b]
        ctx.send(b, Replicate(epoch=ctx.storage["epoch"], start=start, entries=tuple(log[start:]),
                              commit=self.commit, sent=ctx.now))

    def _live(self, ctx):
        return [b for b in self.backups if ctx.now - self.heard[b] <= self.timeout]

    def _advance_commit(self, ctx):
        log = ctx.storage["log"]
        if self.mode == "async":
            self.commit = len(log)
        else:
            live = self._live(ctx)
            for idx in range(len(log), self.commit, -1):
                acked = [b for b in self.backups if self.match[b] >= idx]
                enough = all(b in acked for b in live) if self.sync_acks is None else \
                    len(acked) >= min(self.sync_acks, len(self.backups))
                if enough and (not self.fenced or 1 + len(acked) >= majority(len(ctx.nodes))):
                    self.commit = idx
                    break
        self._apply(ctx)

    def _apply(self, ctx):
        log = ctx.storage["log"]
        while self.applied < self.commit:
            e = log[self.applied]
            self.applied += 1
            outcome = self.kv.execute(e.f, e.key, e.value)
            op = self.pending.pop(e.op, None)
            if op is not None:
                self.held.append((op, outcome))
        self._flush_held(ctx)

    def lease_valid(self, ctx):
        """True while a majority acknowledged a heartbeat sent less than ``lease`` ms ago."""
        if not self.fenced:
            return True
        times = sorted([ctx.now] + list(self.ack_sent.values()), reverse=True)
        return ctx.now < times[majority(len(ctx.nodes)) - 1] + self.lease

    def _flush_held(self, ctx):
        if not self.held or not self.lease_valid(ctx):
            return
        held, self.held = self.held, []
        for op, outcome in held:
            answer(ctx, op, outcome)

    # -- messages ------------------------------------------------------------
    @handles(Replicate)
    def _on_replicate(self, ctx, src, m):
        st = ctx.storage
        if self.role == "primary" and (m.epoch, src) < (st["epoch"], ctx.id):
            ctx.send(src, ReplicateAck(epoch=st["epoch"], match=0, sent=m.sent, ok=False,
                                       outranked=True))                   # I outrank you
            return
        if self.fenced and m.epoch < st["epoch"]:
            ctx.send(src, ReplicateAck(epoch=st["epoch"], match=0, sent=m.sent, ok=False))   # fenced
            return
        if self.role != "backup" or m.epoch > st["epoch"]:
            self._step_down(ctx, m.epoch)
        self.primary = src
        self.last_heard = ctx.now
        log = st["log"]
        if self.synced != (m.epoch, src):
            # A new primary (or this node just restarted): take a full copy, then only append.
            if m.start != 0:
                ctx.send(src, ReplicateAck(epoch=m.epoch, match=0, sent=m.sent, ok=False))
                return
            log[:] = [Entry(*x) for x in m.entries]
            self.synced = (m.epoch, src)
        elif m.start > len(log):
            ctx.send(src, ReplicateAck(epoch=m.epoch, match=len(log), sent=m.sent, ok=False))
            return
        else:
            # Same primary: a late or duplicated message holds a prefix of what we have,
            # so truncate only where an entry really differs.
            for i, e in enumerate(m.entries):
                idx = m.start + i
                if idx < len(log) and log[idx] == e:
                    continue
                del log[idx:]
                log.extend(Entry(*x) for x in m.entries[i:])
                break
        st["log_epoch"] = m.epoch
        ctx.send(src, ReplicateAck(epoch=m.epoch, match=m.start + len(m.entries), sent=m.sent, ok=True))

    @handles(ReplicateAck)
    def _on_replicate_ack(self, ctx, src, m):
        st = ctx.storage
        if m.epoch > st["epoch"] or m.outranked:
            if self.role != "backup":
                self._step_down(ctx, m.epoch)
            st["epoch"] = max(st["epoch"], m.epoch)
            return
        if self.role != "primary" or m.epoch != st["epoch"] or src not in self.match:
            return
        self.heard[src] = ctx.now
        if m.ok:
            self.match[src] = max(self.match[src], m.match)
            self.next[src] = self.match[src]
            self.ack_sent[src] = max(self.ack_sent[src], m.sent)
            self._advance_commit(ctx)
        else:
            self.next[src] = min(m.match, len(st["log"]))
            self.match[src] = min(self.match[src], self.next[src])
            self._ship(ctx, src)

    @handles(Promote)
    def _on_promote(self, ctx, src, m):
        st = ctx.storage
        quiet = ctx.now - self.last_heard >= self.timeout or self.role == "candidate"
        if m.epoch > st["epoch"] and self.role != "primary" and quiet:
            self._step_down(ctx, m.epoch)
            ctx.send(src, Grant(epoch=m.epoch, log_epoch=st["log_epoch"], log=tuple(st["log"])))
        else:
            ctx.send(src, Refuse(epoch=st["epoch"]))

    @handles(Grant)
    def _on_grant(self, ctx, src, m):
        if self.role == "candidate" and m.epoch == ctx.storage["epoch"]:
            self.grants[src] = (m.log_epoch, m.log)
            self._maybe_win(ctx)

    @handles(Refuse)
    def _on_refuse(self, ctx, src, m):
        if m.epoch > ctx.storage["epoch"]:
            ctx.storage["epoch"] = m.epoch
            if self.role != "backup":
                self._step_down(ctx, m.epoch)

    # -- clients -------------------------------------------------------------
    def on_request(self, ctx, op):
        if refuse_malformed(ctx, op):
            return
        if self.role != "primary":
            ctx.fail(op, "not the primary", leader=self.primary)
            return
        if not self.lease_valid(ctx):
            ctx.fail(op, "primary without a lease: cannot confirm it still leads; retry")
            return
        log = ctx.storage["log"]
        if op.f in READS:
            if self.applied < self.promote_len:
                ctx.fail(op, "new primary still catching up; retry")
            else:
                answer(ctx, op, self.kv.execute(op.f, op.key, None))
            return
        if op.id in self.ids:
            return                          # a duplicated request: the first copy answers
        self.ids.add(op.id)
        log.append(Entry(epoch=ctx.storage["epoch"], op=op.id, f=op.f, key=op.key, value=op.value))
        self.pending[op.id] = op
        if self.mode == "sync":
            for b in self.backups:
                self._ship(ctx, b)
        self._advance_commit(ctx)

    def status(self):
        st = self.storage
        s = {"role": self.role, "primary": self.primary, "epoch": st.get("epoch"),
             "log_length": len(st.get("log", ())), "mode": self.mode, "policy": self.policy}
        if self.role == "primary":
            s["commit"] = self.commit
        return s


def build(n=3, seed=0, mode="sync", policy="fenced", clients=3, workload=None, latency=(1.0, 5.0),
          client_timeout=500.0, think=(0.0, 10.0), stop=None, **options):
    """A World with ``n`` replicas (``n1`` starts as primary) and ``clients`` kv clients."""
    from ..sim import World
    count("n", n, 2, "primary–backup needs at least 2 nodes (a primary and a backup)")
    make = validated(PrimaryBackup, mode=mode, policy=policy, **options)
    w = World(seed=seed, latency=latency)
    w.add_nodes(n, make)
    add_kv_clients(w, clients, workload, timeout=client_timeout, think=think, stop=stop)
    return w
