"""Raft's five safety properties (the paper's Figure 3), checked from a run's trace.

The checkers replay the trace once: ``role`` records say who led which term;
the ``log``, ``commit`` and ``apply`` notes that :class:`faultlab.protocols.raft.Raft`
writes at its only log-changing spot rebuild every node's log at every moment
(logs are durable, so the rebuilt log carries over a crash). From that:

* election safety — at most one leader per term;
* leader append-only — a node never cuts or overwrites its log while it leads;
* log matching — two logs with an entry of the same index and term hold the same
  entries up to that index (checked for every log at every moment, by giving
  each log prefix a number: equal (index, term) must mean equal prefix number);
* leader completeness — an entry committed in term U is in the log of every
  leader of a term above U, at the moment it became leader;
* state-machine safety — no two nodes apply different entries at one index.

Each checker takes a World, a trace (list of records) or the replay itself, and
returns a :class:`CheckResult` whose violations name the nodes, terms and indices.
A property the trace holds no data for (no leader, no entry written, committed
or applied) is 'unknown', with ``evidence['missing']`` saying what was absent.
"""
from __future__ import annotations

from collections import defaultdict

from .result import CheckResult


class Replay:
    """Everything the five checks need, gathered in one pass over the trace."""

    def __init__(self, trace):
        self.logs = defaultdict(list)        # node -> rebuilt log [(term, command)]
        self.prefix = defaultdict(list)      # node -> prefix number per index
        self.prefix_ids: dict = {}           # (parent prefix, entry) -> prefix number
        self.prefix_info: list = []          # prefix number -> (parent, entry, index)
        self.seen_at = defaultdict(dict)     # (index, term) -> {prefix: (node, t)}
        self.roles: dict = {}                # node -> (role, term)
        self.leaders = defaultdict(list)     # term -> [(t, node)]
        self.leader_logs: list = []          # (t, node, term, log snapshot)
        self.overwrites: list = []           # leader append-only violations
        self.commit_index = defaultdict(int)
        self.committed: dict = {}            # index -> (entry, commit term, node, t)
        self.applied: dict = {}              # index -> (entry, node, t)
        self.apply_conflicts: list = []
        self.notes = 0
        for r in trace:
            self._record(r)

    def _record(self, r):
        kind, node, info = r.kind, r.node, r.info
        if kind == "role":
            self.roles[node] = (info["role"], info["term"])
            if info["role"] == "leader":
                self.leaders[info["term"]].append((r.t, node))
                self.leader_logs.append((r.t, node, info["term"], tuple(self.logs[node])))
        elif kind in ("crash", "restart"):
            self.roles[node] = None
            self.commit_index[node] = 0      # volatile: relearned after a restart
        elif kind == "note":
            text = info.get("text")
            if text == "log":
                self.notes += 1
                self._splice(r, node, info["index"], info["entries"])
            elif text == "commit":
                self._commit(r, node, info["index"], info["term"])
            elif text == "apply":
                self._apply(r, node, info["index"], info["entries"])

    def _splice(self, r, node, index, entries):
        log, prefix = self.logs[node], self.prefix[node]
        role = self.roles.get(node)
        if role and role[0] == "leader" and index <= len(log):
            self.overwrites.append({"node": node, "term": role[1], "index": index, "t": r.t,
                                    "removed": log[index - 1:], "written": list(entries)})
        del log[index - 1:]
        del prefix[index - 1:]
        for entry in entries:
            parent = prefix[-1] if prefix else -1
            key = (parent, entry)
            pid = self.prefix_ids.get(key)
            if pid is None:
                pid = self.prefix_ids[key] = len(self.prefix_info)
                self.prefix_info.append((parent, entry, len(log) + 1))
            log.append(entry)
            prefix.append(pid)
            self.seen_at[(len(log), entry[0])].setdefault(pid, (node, r.t))

    def _commit(self, r, node, index, term):
        log = self.logs[node]
        for i in range(self.commit_index[node] + 1, min(index, len(log)) + 1):
            old = self.committed.get(i)
            if old is None or (old[0] == log[i - 1] and term < old[1]):
                self.committed[i] = (log[i - 1], term, node, r.t)
        self.commit_index[node] = max(self.commit_index[node], index)

    def _apply(self, r, node, index, entries):
        for k, entry in enumerate(entries):
            i = index + k
            first = self.applied.setdefault(i, (entry, node, r.t))
            if first[0] != entry:
                self.apply_conflicts.append({"index": i, "nodes": [first[1], node],
                                             "entries": [first[0], entry], "t": [first[2], r.t]})

    def divergence(self, a, b):
        """The first index at which the logs ending in prefixes ``a`` and ``b`` differ."""
        first = None
        while a != b:
            pa, ea, ia = self.prefix_info[a]
            pb, _eb, _ib = self.prefix_info[b]
            first = ia
            a, b = pa, pb
        return first


def replay(source):
    """A :class:`Replay` of a World, a trace or an existing replay."""
    if isinstance(source, Replay):
        return source
    trace = getattr(source, "trace", source)
    return Replay(trace)


def _no_data(name, rp, have=True, missing=None, todo=None):
    """'unknown' when the trace holds nothing for this property to test (``have`` is false)."""
    if not rp.leaders and not rp.notes:
        return CheckResult.no_evidence(name, "Raft role records or log notes",
                                       "run the world with Raft nodes and trace=True")
    if not have:
        return CheckResult.no_evidence(name, missing, todo)
    return None


_ADD_CLIENTS = "add clients (world.add_clients) and run long enough for a majority to "


def election_safety(source):
    """At most one leader can be elected in a given term."""
    rp = replay(source)
    name = "election safety"
    if (res := _no_data(name, rp, rp.leaders, "elected leader", "run longer (an election takes a few "
                        "election timeouts) with a majority of servers up and connected")) is not None:
        return res
    bad = []
    for term, wins in sorted(rp.leaders.items()):
        nodes = sorted({n for _t, n in wins})
        if len(nodes) > 1:
            bad.append({"term": term, "nodes": nodes, "t": [t for t, _n in wins]})
    if bad:
        text = "; ".join(f"term {v['term']} had leaders {', '.join(v['nodes'])}" for v in bad)
        return CheckResult(name, "violated", f"two leaders in one term: {text}", bad, bad)
    return CheckResult(name, "ok", f"at most one leader in each of the {len(rp.leaders)} terms "
                       "that elected one", stats={"terms_with_leader": len(rp.leaders)})


def leader_append_only(source):
    """A leader never overwrites or deletes entries in its log; it only appends."""
    rp = replay(source)
    name = "leader append-only"
    if (res := _no_data(name, rp, rp.notes, "log changes", _ADD_CLIENTS + "elect a leader")) is not None:
        return res
    bad = rp.overwrites
    if bad:
        text = "; ".join(f"{v['node']} (leader of term {v['term']}) cut its log at index {v['index']} "
                         f"at t={v['t']:g} ms" for v in bad[:3])
        return CheckResult(name, "violated", text, list(bad), list(bad))
    return CheckResult(name, "ok", f"no leader cut its log ({rp.notes} log changes)",
                       stats={"log_changes": rp.notes})


def log_matching(source):
    """Logs holding an entry with the same index and term are identical up to that index."""
    rp = replay(source)
    name = "log matching"
    if (res := _no_data(name, rp, rp.seen_at, "log entries", _ADD_CLIENTS + "elect a leader")) is not None:
        return res
    bad = []
    for (index, term), prefixes in sorted(rp.seen_at.items()):
        if len(prefixes) > 1:
            (pa, (na, ta)), (pb, (nb, tb)) = list(prefixes.items())[:2]
            at = rp.divergence(pa, pb)
            ea, eb = rp.prefix_info[pa][1], rp.prefix_info[pb][1]
            bad.append({"index": index, "term": term, "nodes": [na, nb], "t": [ta, tb],
                        "differ_at": at, "entries": [ea, eb]})
    if bad:
        v = bad[0]
        text = (f"{v['nodes'][0]} and {v['nodes'][1]} both hold an entry of term {v['term']} at index "
                f"{v['index']} but their logs differ at index {v['differ_at']}")
        if len(bad) > 1:
            text += f" (and {len(bad) - 1} more)"
        return CheckResult(name, "violated", text, bad, bad)
    return CheckResult(name, "ok", f"every (index, term) pair named a single log prefix "
                       f"({len(rp.seen_at)} pairs)", stats={"pairs": len(rp.seen_at)})


def leader_completeness(source):
    """An entry committed in a term is in the logs of the leaders of all higher terms."""
    rp = replay(source)
    name = "leader completeness"
    if (res := _no_data(name, rp, rp.committed, "committed entries", _ADD_CLIENTS + "commit")) is not None:
        return res
    bad, checked = [], 0
    committed = sorted(rp.committed.items())
    for t, leader, term, log in rp.leader_logs:
        for index, (entry, cterm, by, _tc) in committed:
            if cterm >= term:
                continue
            checked += 1
            have = log[index - 1] if index <= len(log) else None
            if have != entry:
                bad.append({"leader": leader, "term": term, "t": t, "index": index, "entry": entry,
                            "has": have, "committed_term": cterm, "committed_by": by})
    if bad:
        v = bad[0]
        text = (f"{v['leader']} became leader of term {v['term']} without the entry {v['entry']!r} at "
                f"index {v['index']}, committed in term {v['committed_term']} (seen at {v['committed_by']})")
        if len(bad) > 1:
            text += f" (and {len(bad) - 1} more)"
        return CheckResult(name, "violated", text, bad, bad)
    return CheckResult(name, "ok", f"all {len(rp.leader_logs)} leaders held every entry committed in "
                       f"an earlier term ({len(committed)} committed entries)",
                       stats={"leaders": len(rp.leader_logs), "committed": len(committed),
                              "checked": checked})


def state_machine_safety(source):
    """No two servers apply different log entries at the same index."""
    rp = replay(source)
    name = "state-machine safety"
    if (res := _no_data(name, rp, rp.applied, "applied entries", _ADD_CLIENTS + "commit")) is not None:
        return res
    bad = rp.apply_conflicts
    if bad:
        v = bad[0]
        text = (f"{v['nodes'][0]} applied {v['entries'][0]!r} and {v['nodes'][1]} applied "
                f"{v['entries'][1]!r} at index {v['index']}")
        if len(bad) > 1:
            text += f" (and {len(bad) - 1} more)"
        return CheckResult(name, "violated", text, list(bad), list(bad))
    return CheckResult(name, "ok", f"all nodes applied the same entry at each of {len(rp.applied)} "
                       "indices", stats={"applied": len(rp.applied)})


def trace_covers_logs(world, rp=None):
    """The rebuilt logs equal the logs in the nodes' storage (no change went unnoted)."""
    rp = rp or replay(world)
    name = "trace covers logs"
    off = [n for n in world.nodes if list(world.storage(n).get("log", [])) != rp.logs.get(n, [])]
    if off:
        return CheckResult(name, "unknown", f"the logs of {', '.join(off)} changed without a 'log' note, "
                           "so the checks above may have missed something", [],
                           {"missing": "log notes", "nodes": off})
    return CheckResult(name, "ok", "every log change was noted in the trace")


CHECKS = (election_safety, leader_append_only, log_matching, leader_completeness, state_machine_safety)


def check_all(source):
    """All five properties (and, given a World, that the trace accounts for every log)."""
    rp = replay(source)
    results = [check(rp) for check in CHECKS]
    if hasattr(source, "storage") and hasattr(source, "nodes"):
        results.append(trace_covers_logs(source, rp))
    return CheckResult.merge("raft safety", results)
