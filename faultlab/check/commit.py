"""Atomic commitment checker for 2PC and 3PC runs, read from the trace notes.

Atomicity: for every transaction, all participants that decide reach the same
decision, and *commit* happens only if every participant voted yes. The same
pass measures, per participant, how long it was **uncertain** (voted yes, not
yet decided: locks held, cannot act alone) and how long of that it was
**blocked** (it had already timed out and started asking -- ``inquire`` in 2PC,
``terminate`` in 3PC -- and still could not learn the outcome).

The protocols announce what the checker needs with ``ctx.note``: coordinator
``begin`` (txn, participants) and ``decide`` (txn, decision); participants
``vote`` (txn, vote), ``commit`` / ``abort`` (txn, via), ``inquire`` / ``terminate``.

A run with no transaction, or in which nobody decided any, is 'unknown':
atomicity is about decisions, and there were none to compare.
"""
from __future__ import annotations

from .result import CheckResult

DECISIONS = ("commit", "abort")
ASKING = ("inquire", "terminate")


def _records(run):
    trace = getattr(run, "trace", run)
    return list(trace)


def _txns(records):
    txns: dict = {}

    def get(txn):
        return txns.setdefault(txn, {"participants": [], "coordinator": None, "begin": None,
                                     "decide": [], "votes": {}, "outcomes": {}, "asked": {}})

    for r in records:
        if r.kind != "note" or "txn" not in r.info:
            continue
        text, txn, info = r.info.get("text"), r.info["txn"], r.info
        if text == "begin":
            t = get(txn)
            t["participants"] = list(info.get("participants", []))
            t["coordinator"], t["begin"] = r.node, r.t
        elif text == "decide":
            get(txn)["decide"].append((r.t, r.node, info.get("decision"), info.get("reason", "")))
        elif text == "vote":
            get(txn)["votes"].setdefault(r.node, (r.t, info.get("vote")))
        elif text in DECISIONS:
            get(txn)["outcomes"].setdefault(r.node, []).append((r.t, text, str(info.get("via", ""))))
        elif text in ASKING:
            get(txn)["asked"].setdefault(r.node, r.t)
    for t in txns.values():
        for p in list(t["votes"]) + list(t["outcomes"]):
            if p not in t["participants"] and p != t["coordinator"]:
                t["participants"].append(p)
    return txns


def _violations(txn, t):
    out = []
    decided = {p: [d for _, d, _ in outs] for p, outs in t["outcomes"].items()}
    coord = [d for _, _, d, _ in t["decide"]]
    everything = {d for ds in decided.values() for d in ds} | set(coord)
    if "commit" in everything and "abort" in everything:
        commits = sorted(p for p, ds in decided.items() if "commit" in ds)
        aborts = sorted(p for p, ds in decided.items() if "abort" in ds)
        out.append({"kind": "atomicity", "txn": txn, "committed": commits, "aborted": aborts,
                    "deciders": [(tt, n, d, why) for tt, n, d, why in t["decide"]],
                    "records": [(tt, p, d, via) for p, outs in sorted(t["outcomes"].items())
                                for tt, d, via in outs],
                    "text": f"{txn}: {', '.join(commits) or 'nobody'} committed but "
                            f"{', '.join(aborts) or 'nobody'} aborted (decisions: "
                            + (", ".join(f"{n} {d}" for _, n, d, _ in t["decide"]) or "none") + ")"})
    if "commit" in everything:
        not_yes = sorted(p for p in t["participants"] if t["votes"].get(p, (None, None))[1] != "yes")
        if not_yes:
            out.append({"kind": "validity", "txn": txn, "participants": not_yes,
                        "votes": {p: t["votes"].get(p, (None, None))[1] for p in not_yes},
                        "text": f"{txn} committed although {', '.join(not_yes)} did not vote yes"})
    return out


def _intervals(txns, end):
    out = []
    for txn, t in txns.items():
        for p, (tv, vote) in t["votes"].items():
            if vote != "yes":
                continue
            decided = [tt for tt, _, _ in t["outcomes"].get(p, []) if tt >= tv]
            stop = min(decided) if decided else end
            asked = t["asked"].get(p)
            blocked_from = asked if asked is not None and asked < stop else None
            out.append({"participant": p, "txn": txn, "start": tv, "end": stop, "open": not decided,
                        "uncertain_ms": stop - tv,
                        "blocked_ms": (stop - blocked_from) if blocked_from is not None else 0.0,
                        "blocked_from": blocked_from})
    out.sort(key=lambda i: (i["start"], i["participant"]))
    return out


def _stats(txns, intervals, end):
    per: dict = {}
    for i in intervals:
        s = per.setdefault(i["participant"], {"uncertain_ms": 0.0, "max_uncertain_ms": 0.0,
                                              "blocked_ms": 0.0, "max_blocked_ms": 0.0,
                                              "still_uncertain": []})
        s["uncertain_ms"] += i["uncertain_ms"]
        s["blocked_ms"] += i["blocked_ms"]
        s["max_uncertain_ms"] = max(s["max_uncertain_ms"], i["uncertain_ms"])
        s["max_blocked_ms"] = max(s["max_blocked_ms"], i["blocked_ms"])
        if i["open"]:
            s["still_uncertain"].append(i["txn"])
    final = {}
    for txn, t in txns.items():
        ds = {d for outs in t["outcomes"].values() for _, d, _ in outs} | {d for *_, d, _ in t["decide"]}
        final[txn] = "commit" if ds == {"commit"} else "abort" if ds == {"abort"} else \
            "mixed" if ds else "undecided"
    return {"transactions": len(txns),
            "committed": sum(v == "commit" for v in final.values()),
            "aborted": sum(v == "abort" for v in final.values()),
            "mixed": sum(v == "mixed" for v in final.values()),
            "undecided": sum(v == "undecided" for v in final.values()),
            "participants": dict(sorted(per.items())),
            "max_uncertain_ms": max((i["uncertain_ms"] for i in intervals), default=0.0),
            "max_blocked_ms": max((i["blocked_ms"] for i in intervals), default=0.0),
            "end_ms": end}


def check(run, end=None):
    """Check atomicity of every transaction in ``run`` (a World or a list of trace records).

    ``end`` (ms) closes intervals still open (default: the world's time, or the
    last record). ``stats['participants'][p]`` has ``uncertain_ms``/``blocked_ms``;
    ``evidence`` has each violating transaction's decisions and every uncertain interval.
    """
    records = _records(run)
    if end is None:
        end = getattr(run, "now", None)
        if end is None:
            end = records[-1].t if records else 0.0
    txns = _txns(records)
    intervals = _intervals(txns, end)
    stats = _stats(txns, intervals, end)
    if not txns:
        return CheckResult.no_evidence("atomicity", "transactions",
                                       "the trace has no 'begin', 'vote' or 'decide' notes; add clients "
                                       "that send transactions (or a script) to a 2PC/3PC world",
                                       {"decisions": {}, "uncertain": intervals}, stats)
    if stats["undecided"] == len(txns):
        waiting = sorted({i["participant"] for i in intervals if i["open"]})
        return CheckResult.no_evidence("atomicity", "decisions",
                                       f"{len(txns)} transaction(s) began but nobody decided any"
                                       + (f" ({', '.join(waiting)} still uncertain)" if waiting else "")
                                       + "; run longer, or restart the coordinator so that it can decide",
                                       {"decisions": {}, "uncertain": intervals}, stats)
    violations = [v for txn, t in txns.items() for v in _violations(txn, t)]
    bad = sorted({v["txn"] for v in violations}, key=lambda x: (len(str(x)), str(x)))
    decisions = {txn: {"deciders": {n: d for _, n, d, _ in txns[txn]["decide"]},
                       "participants": {p: [d for _, d, _ in outs]
                                        for p, outs in sorted(txns[txn]["outcomes"].items())}}
                 for txn in bad}
    evidence = {"decisions": decisions, "uncertain": intervals}
    if violations:
        text = f"{len(bad)} of {len(txns)} transactions not atomic: " + \
            "; ".join(v["text"] for v in violations[:3]) + (" ..." if len(violations) > 3 else "")
        return CheckResult("atomicity", "violated", text, violations, evidence, stats)
    open_ = sum(i["open"] for i in intervals)
    text = (f"all {len(txns)} transactions atomic ({stats['committed']} committed, {stats['aborted']} "
            f"aborted, {stats['undecided']} undecided); longest uncertainty "
            f"{stats['max_uncertain_ms']:g} ms, longest blocked {stats['max_blocked_ms']:g} ms")
    if open_:
        text += f"; {open_} participant(s) still uncertain at t={end:g} ms"
    return CheckResult("atomicity", "ok", text, [], evidence, stats)


atomicity = check
