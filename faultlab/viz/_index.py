"""An incremental index over an append-only trace: nodes, fault periods, role periods and
the message types in the order they first appear.

Live widgets redraw a few times a second while the trace grows by thousands of
records; rescanning all of it each time would make every redraw slower than
the last. The index remembers how far it has read and only reads what is new.
It starts over if the list was replaced or shrank.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

from ..trace import message_type

Period = namedtuple("Period", "kind node start end label")
RolePeriod = namedtuple("RolePeriod", "node role term start end")

SERVER_KINDS = ("start", "role", "crash", "restart", "pause", "resume", "timer")
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


class TraceIndex:
    def __init__(self, trace):
        self.trace = trace
        self._reset()

    def _reset(self):
        self.n, self.last = 0, None
        self.servers, self.clients = set(), set()
        self.closed, self.open_crash, self.open_pause, self.open_net = [], {}, {}, None
        self.roles_closed, self.roles_open = [], {}
        self.message_kinds = {}          # type of server-to-server message -> order of first send

    def update(self):
        trace = self.trace
        if self.n and (len(trace) < self.n or trace[self.n - 1] is not self.last):
            self._reset()
        for r in trace[self.n:]:
            self._read(r)
        self.n = len(trace)
        self.last = trace[-1] if trace else None
        return self

    def _read(self, r):
        k, node = r.kind, r.node
        if k == "send" and node in self.servers and r.info.get("dst") in self.servers:
            kind = message_type(r.info.get("msg"))      # between servers: client requests rank last
            if kind not in self.message_kinds:
                self.message_kinds[kind] = len(self.message_kinds)
        if k in SERVER_KINDS and node is not None:
            self.servers.add(node)
        elif k in ("invoke", "complete") and node is not None:
            self.clients.add(node)
        if k == "role" or (k == "crash" and node in self.roles_open):
            prev = self.roles_open.pop(node, None)
            if prev is not None:
                self.roles_closed.append(RolePeriod(node, prev[0], prev[1], prev[2], r.t))
            if k == "role" and r.info.get("role") is not None:
                self.roles_open[node] = (r.info.get("role"), r.info.get("term"), r.t)
        if k == "crash":
            self.open_crash.setdefault(node, r.t)
        elif k == "restart" and node in self.open_crash:
            self.closed.append(Period("crash", node, self.open_crash.pop(node), r.t, f"{node} crashed"))
        elif k == "pause":
            self.open_pause.setdefault(node, r.t)
        elif k == "resume" and node in self.open_pause:
            self.closed.append(Period("pause", node, self.open_pause.pop(node), r.t, f"{node} paused"))
        elif k in ("partition", "cut"):
            self._close_net(r.t)
            if k == "partition":
                label = "partition " + " | ".join(",".join(g) for g in r.info.get("groups", []))
            else:
                label = f"cut {r.info.get('src')}→{r.info.get('dst')}"
            self.open_net = (k, r.t, label)
        elif k == "heal":
            self._close_net(r.t)

    def _close_net(self, t):
        if self.open_net is not None:
            kind, t0, label = self.open_net
            self.closed.append(Period(kind, None, t0, t, label))
            self.open_net = None

    def periods(self, end):
        out = list(self.closed)
        out += [Period("crash", n, t, max(end, t), f"{n} crashed") for n, t in self.open_crash.items()]
        out += [Period("pause", n, t, max(end, t), f"{n} paused") for n, t in self.open_pause.items()]
        if self.open_net is not None:
            kind, t0, label = self.open_net
            out.append(Period(kind, None, t0, max(end, t0), label))
        return out

    def role_periods(self, end):
        out = list(self.roles_closed)
        out += [RolePeriod(n, role, term, t, max(end, t)) for n, (role, term, t) in self.roles_open.items()]
        return out


def index_for(trace):
    """The (cached, brought up to date) index of ``trace``."""
    key = id(trace)
    idx = _CACHE.get(key)
    if idx is None or idx.trace is not trace:
        idx = TraceIndex(trace)
        _CACHE[key] = idx
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return idx.update()
