"""Is a client history linearizable? A Wing & Gong / Lowe search with memoization.

Every operation must appear to take effect at one instant between its
invocation and its completion, in an order that a single sequential copy of
the object (the *model*) could have produced. ``fail`` operations never took
effect and are dropped; ``info`` (timed out) and still-pending operations are
*optional*: they may take effect at any instant after their invocation, or
never.

The search is the "just-in-time linearization" of Wing & Gong as refined by
Lowe (and used by Porcupine): walk the history's call/return entries in order,
tentatively linearize a pending operation when the model allows it, and
backtrack when a completion is reached whose operation has not been
linearized. What keeps it fast in practice:

* memoization: a configuration (linearized operations as bitsets in Python
  ints, model state) that was fully explored is never explored again, nor is
  one that reached the same state with the same required operations and a
  superset of the optional ones (it can only do less);
* optional operations are tried only after the required candidates; equal
  optional operations (same f and value) are used in one canonical order; an
  optional operation is never applied only to be overwritten by the next one;
* restricted searches first (no optional operation at all, then only short
  runs of them that make a blocked operation possible), the complete search
  only when those fail: a found order is always legal, and only a violation
  needs the complete search;
* P-compositionality: a key-value history is checked key by key.

Time (``timeout``) and memory (``max_memory_mb``) are bounded; running out
gives the verdict 'unknown' rather than a wrong answer or a hang. A history in
which no operation returned ok is 'unknown' too: nothing in it constrains an order.
"""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..history import History
from .models import ILLEGAL, ModelError, freeze, get_model
from .result import CheckResult

NAME = "linearizable"
_SUBSUMERS = 32     # how many exhausted optional sets per (required, state) a new one is compared with
_READS = ("read", "get", "dequeue")
_RUN = 8            # how far back a run of optional operations is checked for wasted ones
_LIMITS = {"time": "the time limit ran out", "memory": "the memory limit was reached"}


@dataclass
class _Item:
    """One operation as the search sees it."""
    op: int                 # index into history.operations()
    call: int               # event index of the invocation
    ret: int | None         # event index of the completion; None: may take effect any time later
    step: object            # model step: state -> state | ILLEGAL
    required: bool          # must be linearized (ok, or a kept failure)
    twin: object = None     # for optional ops: (f, value), equal for interchangeable ops


@dataclass
class _Outcome:
    verdict: str                                 # ok | violated | unknown
    order: list = field(default_factory=list)    # full linearization, or the longest partial one
    state: object = None                         # model state after ``order``
    stuck: int | None = None                     # the op whose completion could not be explained
    window: list = field(default_factory=list)   # stuck op + the ops that could have gone before it
    reason: str = ""                             # for 'unknown': the limit that ran out (time | memory)
    configurations: int = 0
    limited: bool = False                        # gave up on some optional ops (max_optional)


class _Budget:
    """Shared time and memory limits for all keys of one check."""

    def __init__(self, timeout, max_memory_mb):
        self.deadline = None if timeout is None else _time.monotonic() + float(timeout)
        self.bytes_left = int(max_memory_mb * 2 ** 20)

    def expired(self):
        return self.deadline is not None and _time.monotonic() > self.deadline


# Restricted searches tried before the complete one: (max optional ops in all, max optional ops
# in a row, whether a run of optional ops must make an operation legal that was not before)
_LEVELS = ((0, None, False), (None, 1, True), (None, 3, True))


def _search_deepening(items, init, budget):
    """First searches where timed-out operations barely take effect, then the complete search.

    Timed-out operations rarely took effect, but trying them at every dead end
    of a long history multiplies the search. Most histories are settled with
    none of them, or with one right before the operation whose result it
    explains. A restricted search that finds an order is right (the order is
    legal); one that fails proves nothing unless no restriction ever applied,
    so only a violation needs the complete search.
    """
    configurations = 0
    n_opt = sum(not it.required for it in items)
    for level in _LEVELS + ((None, None, False),):
        out = _search(items, init, budget, *level)
        configurations += out.configurations
        if out.verdict != "violated" or not out.limited or not n_opt:
            out.configurations = configurations
            return out


def _search(items, init, budget, max_optional=None, max_run=None, enabling=False):
    """Depth-first search for a linearization of ``items`` (sorted by ``call``).

    Two linked lists hold what is not linearized yet: one with the call and
    return entries of required operations, one with the calls of optional
    (info) ones. From each configuration the required candidates are tried
    first, then the optional ones invoked before the first pending return.
    """
    n = len(items)
    req_entries = sorted([(it.call, k, True) for k, it in enumerate(items) if it.required]
                         + [(it.ret, k, False) for k, it in enumerate(items) if it.required])
    opt_entries = [(it.call, k, True) for k, it in enumerate(items) if not it.required]
    # node 0 heads the required list, node 1 the optional list; entries follow
    nodes = [(-1, -1, False), (-1, -1, False)] + req_entries + opt_entries
    pos = [e[0] for e in nodes]
    op_of = [e[1] for e in nodes]
    is_call = [e[2] for e in nodes]
    nxt, prv = [-1] * len(nodes), [-1] * len(nodes)
    for head, first, count in ((0, 2, len(req_entries)), (1, 2 + len(req_entries), len(opt_entries))):
        chain = [head] + list(range(first, first + count))
        for a, b in zip(chain, chain[1:]):
            nxt[a], prv[b] = b, a
    call_node, ret_node = [-1] * n, [-1] * n
    for node in range(2, len(nodes)):
        (call_node if is_call[node] else ret_node)[op_of[node]] = node

    steps = [it.step for it in items]
    required = [it.required for it in items]
    # required and optional operations get separate bit spaces: the memo compares the optional part
    bit, n_req, n_opt = [], 0, 0
    for it in items:
        if it.required:
            bit.append(1 << n_req)
            n_req += 1
        else:
            bit.append(1 << n_opt)
            n_opt += 1
    # identical optional operations are interchangeable: only ever apply the earliest unapplied one
    twin, last_twin = [-1] * n, {}
    for k, it in enumerate(items):
        if not it.required and it.twin is not None:
            twin[k] = last_twin.get(it.twin, -1)
            last_twin[it.twin] = k

    def first_return():
        node = nxt[0]
        while is_call[node]:
            node = nxt[node]
        return node

    # (required bits, state) -> (set, first few) of the optional bits of exhausted configurations
    failed: dict = {}
    exhausted = 0
    order: list = []            # linearized ops (indices into items)
    saved: list = []            # (state, required bits, optional bits, run) before each linearized op
    state, rbits, obits, left = init, 0, 0, n_req
    used, run = 0, 0            # optional operations linearized, in all and in a row at the top
    limited = False             # did a restriction (max_optional, max_run, enabling) bite?
    best_len, best = -1, None
    node, optional, limit = nxt[0], False, 0
    count = 0
    while left:
        count += 1
        if not count & 1023 and budget.expired():
            return _finish(items, best, "unknown", "time", exhausted)
        if node >= 0 and is_call[node] and (not optional or pos[node] < limit):
            k = op_of[node]
            if twin[k] >= 0 and not obits & bit[twin[k]]:
                node = nxt[node]
                continue
            new = steps[k](state)
            if new is not ILLEGAL and order and not required[order[-1]]:
                # k right after a run of optional ops: if k alone, in place of the tail of that
                # run, reaches the same state, that tail was wasted and the shorter run dominates
                i, stop = len(order) - 1, max(0, len(order) - _RUN)
                while i >= stop and not required[order[i]]:
                    if steps[k](saved[i][0]) == new:
                        new = ILLEGAL
                        break
                    i -= 1
                if enabling and not optional and new is not ILLEGAL \
                        and steps[k](saved[len(order) - run][0]) is not ILLEGAL:
                    new, limited = ILLEGAL, True      # the run did not make k possible
            if new is not ILLEGAL:
                if optional:
                    nr, no = rbits, obits | bit[k]
                else:
                    nr, no = rbits | bit[k], obits
                seen = failed.get((nr, new))
                if seen is None or not (no in seen[0] or any(o & no == o for o in seen[1])):
                    order.append(k)
                    saved.append((state, rbits, obits, run))
                    state, rbits, obits = new, nr, no
                    for nd in (call_node[k], ret_node[k]):       # lift k out of its list
                        if nd >= 0:
                            p, q = prv[nd], nxt[nd]
                            nxt[p] = q
                            if q >= 0:
                                prv[q] = p
                    if optional:
                        used += 1
                        run += 1
                    else:
                        left -= 1
                        run = 0
                    node, optional = nxt[0], False
                    continue
            node = nxt[node]
            continue
        if not optional:
            # required candidates done: now the optional operations invoked before the first return
            limit = pos[node]
            node, optional = nxt[1], True
            if (max_optional is not None and used >= max_optional) or (max_run is not None
                                                                        and run >= max_run):
                limited = limited or (node >= 0 and pos[node] < limit)
                node = -1
            continue
        # every candidate tried: this configuration is exhausted
        stuck = first_return()
        if len(order) > best_len:
            best_len = len(order)
            best = (order[:], state, op_of[stuck], _window(nxt, is_call, op_of, pos, stuck))
        if not order:
            out = _finish(items, best, "violated", "", exhausted)
            out.limited = limited
            return out
        exhausted += 1
        key = (rbits, state)
        seen = failed.get(key)
        if seen is None:
            failed[key] = ({obits}, [obits])
            budget.bytes_left -= 400 + rbits.bit_length() // 8 + obits.bit_length() // 8
        else:
            seen[0].add(obits)
            if len(seen[1]) < _SUBSUMERS:
                seen[1].append(obits)
            budget.bytes_left -= 80 + obits.bit_length() // 8
        if budget.bytes_left < 0:
            return _finish(items, best, "unknown", "memory", exhausted)
        k = order.pop()
        state, rbits, obits, run = saved.pop()
        for nd in (ret_node[k], call_node[k]):                  # put k back, in reverse order
            if nd >= 0:
                p, q = prv[nd], nxt[nd]
                nxt[p] = nd
                if q >= 0:
                    prv[q] = nd
        optional = not required[k]
        if optional:
            used -= 1
            limit = pos[first_return()]
        else:
            left += 1
        node = nxt[call_node[k]]
    return _Outcome("ok", [items[k].op for k in order], state, configurations=exhausted)


def _window(nxt, is_call, op_of, pos, stuck):
    """The stuck operation and every operation invoked and not linearized before its completion."""
    ops, node = [op_of[stuck]], nxt[0]
    while node != stuck:
        if is_call[node]:
            ops.append(op_of[node])
        node = nxt[node]
    node = nxt[1]
    while node >= 0 and pos[node] < pos[stuck]:
        ops.append(op_of[node])
        node = nxt[node]
    return ops


def _finish(items, best, verdict, reason, configurations):
    if best is None:
        return _Outcome(verdict, reason=reason, configurations=configurations)
    order, state, stuck, open_ = best
    # the window: what was still open before the stuck completion, plus the linearized
    # operations that overlap that stretch of time (the ones the search could reorder)
    since = min(items[k].call for k in open_)
    window = set(open_) | {k for k in order if items[k].ret is None or items[k].ret > since}
    return _Outcome(verdict, [items[k].op for k in order], state, items[stuck].op,
                    sorted(items[k].op for k in window), reason, configurations)


def _items(ops, model):
    """Model steps for the operations that constrain the history (by key when partitioned)."""
    groups: dict = {}
    for i, op in enumerate(ops):
        status = op.status
        where = f"operation at event {op.invoke.index} ({op.f} by process {op.process!r})"
        try:
            if status == "fail":
                step = model.prepare_failed(op.f, op.invoke.value)
            elif status == "ok":
                step = model.prepare(op.f, _observed(op), "ok")
            else:
                step = model.prepare(op.f, op.invoke.value, "info")
        except ModelError as e:
            raise ModelError(f"{where}: {e}", event=op.invoke.index) from None
        key = op.key
        if model.partition_by_key and key is None:
            raise ModelError(f"{where}: the {model.name} model checks key by key, "
                             "but this operation has no key", event=op.invoke.index)
        group = groups.setdefault(key if model.partition_by_key else None, [])
        if step is None:
            continue
        done = status in ("ok", "fail")
        twin = None if done else (op.f, _hashable(op.invoke.value))
        group.append(_Item(i, op.invoke.index, op.complete.index if done else None, step, done, twin))
    return groups


def _observed(op):
    """The value an ok operation reports: its completion's (Jepsen reads may invoke with a guess)."""
    done = op.complete.value
    if done is None and op.f not in _READS:
        return op.invoke.value        # a recorder that did not repeat a write's value
    return done


def _hashable(value):
    value = freeze(value)
    try:
        hash(value)
    except TypeError:
        return ("unhashable", id(value))      # never a twin of anything else
    return value


def _describe(op):
    if op.status == "ok" and op.f in _READS:
        text = f"{op.f} → {op.complete.value!r}"
    else:
        v = op.invoke.value
        text = op.f if v is None else f"{op.f} {v!r}"
    return f"process {op.process!r}'s {text}"


def _span(op, timed):
    """When the operation ran: in ms, or as event positions for histories without times."""
    open_ = op.complete is None or op.status == "info"
    if not timed:
        return f"(events {op.invoke.index}–{'…' if open_ else op.complete.index})"
    return f"[{op.start:g}, {'∞' if open_ else f'{op.end:g}'}] ms"


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _explain_violation(key, out, ops, model, timed):
    where = "" if key is None else f"key {key!r}: "
    stuck = ops[out.stuck]
    others = [i for i in out.window if i != out.stuck]
    listed = ", ".join(f"#{i} {_describe(ops[i])}" for i in others[:6])
    if len(others) > 6:
        listed += f" and {len(others) - 6} more"
    if listed:
        rest = (f"no order of the operations overlapping it ({listed}) "
                "makes its result possible.")
    else:
        rest = "no other operation was open that could have changed that."
    return (f"{where}#{out.stuck} {_describe(stuck)} {_span(stuck, timed)} cannot be linearized. "
            f"The longest legal order found covers {_plural(len(out.order), 'operation')} and leaves the "
            f"{model.name} at {model.describe(out.state)}; {rest}")


def linearizable(history, model="register", timeout=None, max_memory_mb=512):
    """Check ``history`` against ``model`` ('register', 'kv', 'set', 'queue' or a Model).

    Returns a :class:`CheckResult` named 'linearizable': verdict 'ok' with the
    linearization found (``evidence['order'][key]``, indices into
    ``history.operations()``; key ``None`` for unpartitioned models),
    'violated' with, per bad key, the operation that could not be linearized,
    the window of operations open before it completed (``evidence['window']``)
    and the longest partial linearization (``evidence['order']``), or
    'unknown' when ``timeout`` seconds or ``max_memory_mb`` ran out.
    """
    if not isinstance(history, History) and isinstance(getattr(history, "history", None), History):
        history = history.history                  # a World, or a real cluster's recorded run
    if not isinstance(history, History):
        try:
            history = History.from_events(history)
        except (TypeError, AttributeError):
            raise ConfigError(f"linearizable() needs a History (world.history), got "
                              f"{type(history).__name__}") from None
    for name, limit in (("timeout", timeout), ("max_memory_mb", max_memory_mb)):
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float))
                                  or limit != limit or limit < 0):
            raise ConfigError(f"{name} must be a non-negative number (or None), got {limit!r}")
    model = get_model(model)
    ops = history.operations()
    groups = _items(ops, model)
    budget = _Budget(timeout, max_memory_mb)
    timed = any(ev.time for ev in history)
    started = _time.monotonic()
    evidence = {"model": model.name, "order": {}, "window": {}, "stuck": {}, "state": {}}
    violations, unknown, configurations = [], [], 0
    for key in sorted(groups, key=repr):
        items = sorted(groups[key], key=lambda it: it.call)
        out = _search_deepening(items, model.init, budget)
        configurations += out.configurations
        evidence["order"][key] = out.order
        evidence["state"][key] = out.state
        if out.verdict == "violated":
            evidence["window"][key] = out.window
            evidence["stuck"][key] = out.stuck
            violations.append({"key": key, "op": out.stuck, "window": out.window,
                               "linearized": len(out.order),
                               "explanation": _explain_violation(key, out, ops, model, timed)})
        elif out.verdict == "unknown":
            unknown.append((key, out.reason))
            if budget.expired() or budget.bytes_left < 0:
                break
    stats = {"operations": len(ops), "keys": len(groups), "configurations": configurations,
             "seconds": round(_time.monotonic() - started, 4)}
    if violations:
        text = f"not linearizable: {violations[0]['explanation']}"
        if len(violations) > 1:
            text += f" ({len(violations)} keys are not linearizable.)"
        return CheckResult(NAME, "violated", text, violations, evidence, stats)
    if unknown:
        key, reason = unknown[0]
        evidence["limit"] = reason
        where = "" if key is None else f" on key {key!r}"
        return CheckResult(NAME, "unknown",
                           f"unknown: {_LIMITS[reason]}{where} before the search finished "
                           f"({len(ops)} operations); give it more time or memory, or a shorter history.",
                           [], evidence, stats)
    done = {s: sum(op.status == s for op in ops) for s in ("ok", "fail", "info")}
    stats.update(done)
    if not done["ok"]:
        return CheckResult.no_evidence(
            NAME, "completed operations",
            f"{len(ops)} operation(s) ({done['fail']} failed, {done['info']} timed out or pending) but "
            "none returned ok, so no order constrains anything; add clients, or let a majority "
            "serve them long enough to answer", evidence, stats)
    n = sum(len(v) for v in evidence["order"].values())
    keys = "" if not model.partition_by_key else f" over {len(groups)} keys"
    return CheckResult(NAME, "ok", f"linearizable: found a legal order of {_plural(n, 'operation')}{keys} "
                       f"consistent with real time ({_plural(len(ops), 'operation')} in the history).",
                       [], evidence, stats)
