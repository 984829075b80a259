"""What a run really exercised: faults injected, messages dropped, client operations by outcome.

A randomized test that stays green proves something only if its nemesis and
its clients did their work. A nemesis aimed at nodes that do not exist, or a
workload that never reached a server, leaves every checker with nothing to
object to; these counts let a test say how much happened, and fail when it
was too little.
"""
from __future__ import annotations

FAULTS = ("crash", "pause", "partition", "cut")
UNDO = ("restart", "resume", "heal")
OUTCOMES = ("ok", "fail", "info")


def activity(world, until=None):
    """Counts for one run (a World, or anything with ``trace`` and ``history``).

    Keys: each fault kind (crash, pause, partition, cut) and its undoing
    (restart, resume, heal), ``faults`` (all faults), ``drops`` (messages lost,
    by reason: loss, partition, node down), ``duplicates`` (messages delivered
    again) and the client operations by outcome (ok, fail, info). Faults and
    drops count only up to ``until`` ms when given (e.g. before a calm period).
    """
    out = dict.fromkeys(FAULTS + UNDO, 0)
    drops: dict = {}
    seen, duplicates = set(), 0
    for r in world.trace:
        if until is not None and r.t > until:
            continue
        if r.kind in out:
            out[r.kind] += 1
        elif r.kind == "drop":
            reason = r.info.get("reason", "?")
            drops[reason] = drops.get(reason, 0) + 1
        elif r.kind == "deliver":
            mid = (r.node, r.info.get("id"))
            duplicates += mid in seen
            seen.add(mid)
    out["faults"] = sum(out[k] for k in FAULTS)
    out["drops"] = dict(sorted(drops.items()))
    out["duplicates"] = duplicates
    out.update(dict.fromkeys(OUTCOMES, 0))
    for op in world.history.operations():
        out[op.status] = out.get(op.status, 0) + 1
    return out


def add(total, counts):
    """Add one run's :func:`activity` counts into ``total`` (a dict), in place; returns it."""
    for key, value in counts.items():
        if isinstance(value, dict):
            add(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value
    return total
