"""The trace: one record per thing that happened, in simulated time.

Records are plain named tuples ``(t, kind, node, info)`` so that figures,
checkers and tests can read them without knowing the simulator. The digest
canonicalises sets and dataclasses, so it does not depend on PYTHONHASHSEED.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import namedtuple

Record = namedtuple("Record", "t kind node info")

KINDS = ("start", "send", "deliver", "drop", "timer", "crash", "restart", "pause", "resume",
         "partition", "heal", "cut", "network", "clock", "role", "note", "invoke", "complete",
         "error")


def canonical(obj):
    """A deterministic text form of a trace value (sets sorted, dataclasses spelled out)."""
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return repr(obj)
    if isinstance(obj, (set, frozenset)):
        return "{" + ", ".join(sorted(canonical(x) for x in obj)) + "}"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{canonical(k)}: {canonical(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(canonical(x) for x in obj) + "]"
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return type(obj).__name__ + "(" + ", ".join(
            f"{f.name}={canonical(getattr(obj, f.name))}" for f in dataclasses.fields(obj)) + ")"
    return repr(obj)


def digest(records) -> str:
    """SHA-256 of the canonical trace: equal seeds must give equal digests."""
    h = hashlib.sha256()
    for r in records:
        h.update(f"{r.t!r} {r.kind} {r.node} {canonical(r.info)}\n".encode())
    return h.hexdigest()


def message_type(msg) -> str:
    """A short label for a message: its class name, or a dict's 'type' field."""
    if isinstance(msg, dict):
        return str(msg.get("type", "dict"))
    if isinstance(msg, tuple) and msg and isinstance(msg[0], str):
        return msg[0]
    return type(msg).__name__
