"""The replicated key-value state machine behind Raft's log.

Operations: ``get``/``put``/``append`` on string keys (an unset key reads ``""``,
as in etcd) and ``read``/``write``/``cas`` on a register key (an unset register
reads ``None``). Every command carries its client op id; a command whose id was
applied before is not applied again (its first result is returned), so a
request that the network delivered twice changes the state at most once.
"""
from __future__ import annotations

OPS = ("get", "put", "append", "read", "write", "cas")


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
    """Deterministic; rebuilt from the log after a restart (it is volatile)."""

    def __init__(self):
        self.data: dict = {}
        self.results: dict = {}      # op id -> (status, value), for at-most-once application

    def apply(self, cmd):
        """Apply ``cmd`` once; returns ('ok', value) or ('fail', reason)."""
        if cmd.f == "noop":
            return ("ok", None)
        if cmd.id in self.results:
            return self.results[cmd.id]
        out = self._do(cmd.f, cmd.key, cmd.value)
        self.results[cmd.id] = out
        return out

    def _do(self, f, key, value):
        data = self.data
        if f == "get":
            return ("ok", data.get(key, ""))
        if f == "read":
            return ("ok", data.get(key))
        if f in ("put", "write"):
            data[key] = value
            return ("ok", value)
        if f == "append":
            data[key] = (data.get(key) or "") + value
            return ("ok", data[key])
        if f == "cas":
            expected, new = value
            current = data.get(key)
            if current != expected:
                return ("fail", f"cas failed: expected {expected!r}, found {current!r}")
            data[key] = new
            return ("ok", new)
        return ("fail", check_op(f, value))
