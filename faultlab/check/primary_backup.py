"""Primary–backup safety: acknowledged writes lost after failover, and split brain.

Definitions (both read the simulator's trace, so they name nodes, ops and times):

* **Lost write.** A write (write, cas, put, append) whose client got ``ok`` is
  *lost* when its operation id is absent from the *final log*: the log of the
  primary with the highest epoch that is up at the end of the run (if none is
  up, the node whose durable log has the highest log epoch, then the longest).
  Every read served after the run replays exactly that log, so a write missing
  from it has had its effect erased although the client was told it happened.
  Run the world for a while after the last fault (heal, restart, resume) so
  that replication can settle before checking.
* **Split brain.** Two nodes hold the role ``primary`` at the same time (their
  tenures — from the ``role`` record that made each primary to the next role
  change or crash — overlap in the trace), *and each of them acknowledged at
  least one write to a client inside that overlap*. Acknowledging means sending
  a client an ``ok`` reply for a write. Two primaries that both believe they
  lead but only one of which acknowledges anything are not reported: that is
  what fencing achieves.

A run in which no write was acknowledged holds nothing to lose and no split
brain to catch: both checks then say 'unknown', not 'ok'.
"""
from __future__ import annotations

from ..protocols.kv import WRITES
from ..workloads import Reply
from .result import CheckResult


def _trace(source):
    return source.trace if hasattr(source, "trace") else list(source)


def _client_ops(trace):
    """op id -> Op from the ``invoke`` records; op id -> ok time from ``complete`` records."""
    ops, ok_at = {}, {}
    for r in trace:
        if r.kind == "invoke":
            ops[r.info["op"].id] = r.info["op"]
        elif r.kind == "complete" and r.info.get("type") == "ok":
            ok_at[r.info["op"]] = r.t
    return ops, ok_at


def _acks(trace, ops):
    """(trace index, time, node, op) for every ok reply a node sent for a write."""
    out = []
    for i, r in enumerate(trace):
        if r.kind == "send" and isinstance(r.info.get("msg"), Reply):
            reply = r.info["msg"]
            op = ops.get(reply.op_id)
            if reply.status == "ok" and op is not None and op.f in WRITES:
                out.append((i, r.t, r.node, op))
    return out


def final_node(world):
    """The node whose log is the final state (see the module docstring)."""
    up = [s for s in world.status() if s["state"] == "up" and s.get("role") == "primary"]
    if up:
        return max(up, key=lambda s: (s.get("epoch") or 0, s["node"]))["node"]
    def rank(n):
        st = world.storage(n)
        return (st.get("log_epoch", 0), len(st.get("log", ())), n)
    return max(world.nodes, key=rank)


def _describe(op, t=None, node=None):
    d = {"op": op.id, "process": op.process, "f": op.f, "key": op.key, "value": op.value}
    if t is not None:
        d["time"] = t
    if node is not None:
        d["node"] = node
    return d


def lost_writes(world, final=None):
    """Acknowledged writes missing from the final log (``final``: a node id to use instead)."""
    trace = _trace(world)
    ops, ok_at = _client_ops(trace)
    acked_by = {op.id: (node, t) for _, t, node, op in _acks(trace, ops)}
    final = final or final_node(world)
    kept = {e.op for e in world.storage(final).get("log", ())}
    acked = [ops[i] for i in sorted(ok_at) if i in ops and ops[i].f in WRITES]
    lost = []
    for op in acked:
        if op.id not in kept:
            node, t = acked_by.get(op.id, (None, None))
            lost.append(dict(_describe(op), acked_by=node, acked_at=t, client_ok_at=ok_at[op.id]))
    stats = {"acknowledged_writes": len(acked), "lost": len(lost), "final_node": final}
    if not acked:
        return CheckResult.no_evidence("lost-writes", "acknowledged writes",
                                       "no client was told a write succeeded, so none can be lost; add "
                                       "clients that write, and run long enough for a primary to serve "
                                       "them", {"final": final}, stats)
    if lost:
        first = lost[0]
        text = (f"{len(lost)} of {len(acked)} acknowledged writes are missing from the final log of "
                f"{final}; e.g. op {first['op']} ({first['f']} {first['key']!r} {first['value']!r}) "
                f"acknowledged by {first['acked_by']} at t={first['client_ok_at']:g} ms")
        return CheckResult("lost-writes", "violated", text, lost, {"final": final, "lost": lost}, stats)
    return CheckResult("lost-writes", "ok",
                       f"all {len(acked)} acknowledged writes are in the final log of {final}",
                       [], {"final": final}, stats)


def tenures(trace):
    """Primary tenures: dicts node, epoch, start/end (ms) and first/last trace index."""
    open_, out = {}, []
    for i, r in enumerate(trace):
        if r.kind == "role" or r.kind == "crash":
            t = open_.pop(r.node, None)
            if t is not None:
                out.append(dict(t, end=r.t, last=i))
            if r.kind == "role" and r.info.get("role") == "primary":
                open_[r.node] = {"node": r.node, "epoch": r.info.get("term"), "start": r.t, "first": i}
    end_t = trace[-1].t if trace else 0.0
    out += [dict(t, end=end_t, last=len(trace)) for t in open_.values()]
    return sorted(out, key=lambda t: t["first"])


def split_brain(source):
    """Periods in which two primaries both acknowledged writes (see the module docstring)."""
    trace = _trace(source)
    ops, _ = _client_ops(trace)
    acks = _acks(trace, ops)
    ts = tenures(trace)
    violations, overlap_ms = [], 0.0
    for a_i, a in enumerate(ts):
        for b in ts[a_i + 1:]:
            if a["node"] == b["node"]:
                continue
            lo, hi = max(a["first"], b["first"]), min(a["last"], b["last"])
            if lo >= hi:
                continue
            overlap_ms += trace[hi - 1].t - trace[lo].t
            by = {n: [_describe(op, t) for i, t, node, op in acks if lo <= i < hi and node == n]
                  for n in (a["node"], b["node"])}
            if all(by.values()):
                violations.append({"nodes": [a["node"], b["node"]], "epochs": [a["epoch"], b["epoch"]],
                                   "window": (trace[lo].t, trace[hi - 1].t),
                                   "writes": by})
    stats = {"tenures": len(ts), "overlap_ms": overlap_ms, "split_brain_periods": len(violations),
             "write_acks": len(acks)}
    if not ts or not acks:
        missing = "primary" if not ts else "acknowledged writes"
        return CheckResult.no_evidence("split-brain", missing,
                                       "split brain is two primaries acknowledging writes; run long "
                                       "enough for a primary to be chosen, with clients that write",
                                       stats=stats)
    if violations:
        v = violations[0]
        text = (f"{len(violations)} period(s) with two primaries accepting writes; e.g. {v['nodes'][0]} "
                f"(epoch {v['epochs'][0]}) and {v['nodes'][1]} (epoch {v['epochs'][1]}) both acknowledged "
                f"writes between t={v['window'][0]:g} and t={v['window'][1]:g} ms")
        return CheckResult("split-brain", "violated", text, violations, violations, stats)
    return CheckResult("split-brain", "ok",
                       f"never two primaries acknowledging writes at once ({len(ts)} primary tenures)",
                       [], None, stats)


def check(world, final=None):
    """Both checks on a simulated primary–backup run, as one :class:`CheckResult`.

    Violated if either check is, else unknown if either is (the run held no
    acknowledged write), else ok.
    """
    parts = [lost_writes(world, final), split_brain(world)]
    bad = [r for r in parts if r.verdict == "violated"] or [r for r in parts if not r.ok]
    verdict = bad[0].verdict if bad else "ok"
    text = "; ".join(r.explanation for r in bad) or "; ".join(r.explanation for r in parts)
    return CheckResult("primary-backup", verdict, text,
                       [dict(v, check=r.name) for r in parts for v in r.violations],
                       {r.name: r.evidence for r in parts},
                       {k: v for r in parts for k, v in r.stats.items()})
