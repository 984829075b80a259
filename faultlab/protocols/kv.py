"""The one key-value state machine that every replicated protocol applies (docs/design.md §3).

Operations: ``get``/``put``/``append`` on string keys (an unset key reads ``""``,
as in etcd and ZooKeeper) and ``read``/``write``/``cas`` on a register key (an
unset register reads ``None``). A write answers the value it stored: ``put``
and ``write`` their value, ``append`` the whole new string, ``cas [expected,
new]`` the new value; a ``cas`` whose expected value does not match fails and
changes nothing. These are the semantics of ``faultlab.check.models.KeyValue``
and ``Register``, so a history of any protocol can be checked for
linearizability against them.

One rule for bad input (:func:`check_op`): a protocol refuses a malformed
request before it logs it (:func:`refuse_malformed`), and
:meth:`KVStore.execute` refuses the same operations, so a wrong operation fails
with the same words everywhere.
"""
from __future__ import annotations

READS = ("get", "read")
WRITES = ("put", "append", "write", "cas")
OPS = ("get", "put", "append", "read", "write", "cas")
NOOP = "noop"           # the operation of a log entry that only fills a slot


def check_op(f, value):
    """Why a client operation cannot be accepted, or None if it is well formed."""
    if f not in OPS:
        return f"unknown operation {f!r}; this key-value store knows {', '.join(OPS)}"
    if f == "cas" and not (isinstance(value, (list, tuple)) and len(value) == 2):
        return f"cas needs a value [expected, new], got {value!r}"
    if f == "append" and not isinstance(value, str):
        return f"append needs a string value, got {value!r}"
    return None


class KVStore:
    """A deterministic map. ``data`` may be a dict the caller keeps (e.g. in durable storage)."""

    def __init__(self, data=None):
        self.data: dict = {} if data is None else data
        self.results: dict = {}      # op id -> outcome, for at-most-once application

    def execute(self, f, key, value):
        """Apply one operation: ``('ok', value)`` or ``('fail', why)``."""
        problem = check_op(f, value)
        if problem:
            return ("fail", problem)
        data = self.data
        if f in READS:
            return ("ok", data.get(key, "" if f == "get" else None))
        if f == "append":
            data[key] = (data.get(key) or "") + value
            return ("ok", data[key])
        if f == "cas":
            expected, new = value
            current = data.get(key)
            if current != expected:
                return ("fail", f"cas failed: expected {expected!r}, found {current!r}")
            value = new
        data[key] = value
        return ("ok", value)

    def apply(self, cmd):
        """Apply a logged command (``id``, ``f``, ``key``, ``value``) at most once.

        A command whose id was applied before gets its first outcome again, so a
        request the network delivered twice, or that a new leader logged again,
        changes the state once. A log's ``noop`` entry changes nothing.
        """
        if cmd.f == NOOP:
            return ("ok", None)
        if cmd.id not in self.results:
            self.results[cmd.id] = self.execute(cmd.f, cmd.key, cmd.value)
        return self.results[cmd.id]


def refuse_malformed(ctx, op):
    """Fail ``op`` with :func:`check_op`'s words if it is malformed; True if it was refused."""
    problem = check_op(op.f, op.value)
    if problem:
        ctx.fail(op, problem)
    return problem is not None


def answer(ctx, op, outcome):
    """Tell the client ``op`` the ``('ok' | 'fail', value)`` outcome of applying it."""
    status, value = outcome
    if status == "ok":
        ctx.reply(op, value)
    else:
        ctx.fail(op, value)
