"""Client operations and workload generators, shared by simulated and real clusters.

A workload is a function ``next_op(rng) -> (f, key, value)``: the simulator's
clients and the real-cluster clients both draw from it, so one history format
serves both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Op:
    """A client request as a node sees it in ``on_request``."""
    id: int
    client: str
    process: int
    f: str
    key: Any = None
    value: Any = None


@dataclass(frozen=True)
class Reply:
    op_id: int
    status: str          # "ok" or "fail"
    value: Any = None
    leader: Any = None   # a hint where to send the next request


def register_workload(values=5, read=0.5, write=0.3, cas=0.2):
    """read / write / cas on a single register holding small integers."""
    def next_op(rng):
        x = rng.random()
        if x < read:
            return "read", None, None
        if x < read + write:
            return "write", None, rng.randrange(values)
        return "cas", None, [rng.randrange(values), rng.randrange(values)]
    return next_op


def kv_workload(keys=3, values=5, get=0.5, put=0.3, append=0.2):
    """get / put / append over a few keys ('k0', 'k1', ...)."""
    names = [f"k{i}" for i in range(keys)]

    def next_op(rng):
        key = rng.choice(names)
        x = rng.random()
        if x < get:
            return "get", key, None
        if x < get + put:
            return "put", key, str(rng.randrange(values))
        return "append", key, str(rng.randrange(values))
    return next_op
