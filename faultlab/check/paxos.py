"""Paxos safety from the acceptors' own records: one value per slot, learners agree.

Acceptors note every acceptance as ``note('accept', slot=, ballot=, value=)``
and learners every decision as ``note('learn', slot=, value=)`` (single-decree
Paxos uses slot 0). A value is **chosen** in a slot when a majority of the
acceptors accepted it *in the same ballot* — the definition in "Paxos Made
Simple", independent of what any learner believed. The checker reports:

* ``two-values-chosen`` — two different values chosen in one slot;
* ``learners-disagree`` — two learners learned different values for one slot;
* ``learned-unchosen`` — a learner learned a value that was never chosen.

A trace in which no value was chosen nor learned is 'unknown', not 'ok': a
run with no decision tests nothing.

It reads a World (its trace), a Harness (its notes) or a list of trace records.
"""
from __future__ import annotations

from ..trace import Record, canonical
from .result import CheckResult


def _records(source):
    if hasattr(source, "trace"):
        return source.trace, len(source.nodes)
    if hasattr(source, "notes") and hasattr(source, "names"):
        recs = [Record(source.now, "note", node, dict(text=text, **fields))
                for node, text, fields in source.notes]
        return recs, len(source.names)
    return list(source), None


def chosen_values(source, n=None):
    """slot -> {value key: {value, ballot, acceptors, time}} for every value chosen there."""
    records, known = _records(source)
    n = n or known
    need = n // 2 + 1 if n else None
    votes: dict = {}            # (slot, ballot, value key) -> {acceptor: time}
    values: dict = {}
    out: dict = {}
    for r in records:
        if r.kind != "note" or r.info.get("text") != "accept":
            continue
        if need is None:
            raise ValueError("cannot tell how many acceptors there are: pass n=<number of acceptors>")
        slot, ballot, value = r.info.get("slot", 0), r.info["ballot"], r.info["value"]
        vk = canonical(value)
        values[vk] = value
        who = votes.setdefault((slot, canonical(ballot), vk), {})
        who.setdefault(r.node, r.t)
        if len(who) == need:
            out.setdefault(slot, {}).setdefault(vk, {"value": value, "ballot": ballot,
                                                     "acceptors": sorted(who), "time": r.t})
    return out


def learned_values(source):
    """slot -> {learner: (value, time of its first learn note)}."""
    records, _ = _records(source)
    out: dict = {}
    for r in records:
        if r.kind == "note" and r.info.get("text") == "learn":
            slot = r.info.get("slot", 0)
            out.setdefault(slot, {}).setdefault(r.node, []).append((r.info["value"], r.t))
    return out


def check(source, n=None):
    """At most one value chosen per slot; learners never disagree nor learn the unchosen."""
    records, known = _records(source)
    chosen = chosen_values(records, n or known)
    learned = learned_values(records)
    violations = []
    for slot in sorted(chosen, key=repr):
        if len(chosen[slot]) > 1:
            violations.append({"kind": "two-values-chosen", "slot": slot,
                               "chosen": sorted(chosen[slot].values(), key=lambda c: c["time"])})
    for slot in sorted(learned, key=repr):
        by_value: dict = {}
        for node, seen in learned[slot].items():
            for value, t in seen:
                by_value.setdefault(canonical(value), []).append((node, value, t))
        if len(by_value) > 1:
            violations.append({"kind": "learners-disagree", "slot": slot,
                               "learners": {vk: sorted({x[0] for x in xs}) for vk, xs in by_value.items()}})
        for vk, xs in by_value.items():
            if vk not in chosen.get(slot, {}):
                violations.append({"kind": "learned-unchosen", "slot": slot, "value": xs[0][1],
                                   "learners": sorted({x[0] for x in xs}), "time": xs[0][2]})
    stats = {"slots_chosen": len(chosen), "slots_learned": len(learned),
             "learn_events": sum(len(v) for s in learned.values() for v in s.values()),
             "accepts": sum(r.kind == "note" and r.info.get("text") == "accept" for r in records)}
    if violations:
        v = violations[0]
        if v["kind"] == "two-values-chosen":
            a, b = v["chosen"][:2]
            text = (f"slot {v['slot']}: {a['value']!r} was chosen in ballot {a['ballot']} by "
                    f"{', '.join(a['acceptors'])} at t={a['time']:g} ms, then {b['value']!r} in ballot "
                    f"{b['ballot']} by {', '.join(b['acceptors'])} at t={b['time']:g} ms")
        elif v["kind"] == "learners-disagree":
            text = f"slot {v['slot']}: learners disagree: {v['learners']}"
        else:
            text = (f"slot {v['slot']}: {', '.join(v['learners'])} learned {v['value']!r}, "
                    "which no majority accepted in one ballot")
        if len(violations) > 1:
            text += f" ({len(violations)} violations in all)"
        return CheckResult("paxos", "violated", text, violations, violations, stats)
    if not chosen and not learned:
        if not stats["accepts"]:
            return CheckResult.no_evidence(
                "paxos", "decided slots", "the trace has no 'accept' or 'learn' notes; run the world "
                "with Paxos nodes and trace=True, long enough for a proposal (add clients to Multi-Paxos)",
                stats=stats)
        return CheckResult.no_evidence(
            "paxos", "decided slots", f"{stats['accepts']} acceptances, but no majority accepted one "
            "value in one ballot, so no value was chosen to check; run longer, or let proposers back "
            "off so that one of them finishes", stats=stats)
    return CheckResult("paxos", "ok",
                       f"one value chosen in each of {len(chosen)} slot(s); every learner agrees",
                       [], None, stats)
