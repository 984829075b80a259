"""Client histories in the Jepsen style, shared by simulated and real clusters.

A history is a list of events. Each client ``process`` alternates an ``invoke``
with one completion: ``ok`` (it happened, ``value`` is the result), ``fail`` (it
definitely did not happen) or ``info`` (unknown: e.g. a timeout; it may take
effect at any later point, or never). Times are in milliseconds.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator

TYPES = ("invoke", "ok", "fail", "info")


@dataclass(frozen=True)
class Event:
    type: str
    process: Any
    f: str
    value: Any = None
    key: Any = None
    time: float = 0.0
    index: int = 0
    error: Any = None

    def to_dict(self):
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None or k == "value"}


@dataclass(frozen=True)
class Operation:
    """An invocation paired with its completion (``None`` while still pending)."""
    invoke: Event
    complete: Event | None

    @property
    def process(self):
        return self.invoke.process

    @property
    def f(self):
        return self.invoke.f

    @property
    def key(self):
        return self.invoke.key

    @property
    def status(self):
        return self.complete.type if self.complete else "info"

    @property
    def start(self):
        return self.invoke.time

    @property
    def end(self):
        return self.complete.time if self.complete else float("inf")

    @property
    def value(self):
        """The input value for writes/cas, the observed value for ok reads."""
        if self.complete is not None and self.complete.type == "ok" and self.invoke.value is None:
            return self.complete.value
        return self.invoke.value


@dataclass
class History:
    """An append-only list of events with pairing helpers."""
    events: list = field(default_factory=list)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self):
        return len(self.events)

    def __getitem__(self, i):
        return self.events[i]

    def append(self, type, process, f, value=None, key=None, time=0.0, error=None):
        if type not in TYPES:
            raise ValueError(f"history event type must be one of {TYPES}, got {type!r}")
        ev = Event(type, process, f, value, key, float(time), len(self.events), error)
        self.events.append(ev)
        return ev

    def invoke(self, process, f, value=None, key=None, time=0.0):
        return self.append("invoke", process, f, value, key, time)

    def ok(self, process, f, value=None, key=None, time=0.0):
        return self.append("ok", process, f, value, key, time)

    def fail(self, process, f, value=None, key=None, time=0.0, error=None):
        return self.append("fail", process, f, value, key, time, error)

    def info(self, process, f, value=None, key=None, time=0.0, error=None):
        return self.append("info", process, f, value, key, time, error)

    def operations(self) -> list[Operation]:
        """Pair each invoke with the next completion of the same process."""
        open_: dict = {}
        ops: list[Operation] = []
        slot: dict = {}
        for ev in self.events:
            if ev.type == "invoke":
                if ev.process in open_:
                    raise ValueError(f"event {ev.index}: process {ev.process!r} invoked again "
                                     f"before its operation at event {open_[ev.process].index} completed")
                open_[ev.process] = ev
                slot[ev.process] = len(ops)
                ops.append(Operation(ev, None))
            else:
                inv = open_.pop(ev.process, None)
                if inv is None:
                    raise ValueError(f"event {ev.index}: {ev.type} for process {ev.process!r} "
                                     "without a matching invoke")
                ops[slot.pop(ev.process)] = Operation(inv, ev)
        return ops

    def to_jsonl(self) -> str:
        return "".join(json.dumps(ev.to_dict(), sort_keys=True) + "\n" for ev in self.events)

    @classmethod
    def from_events(cls, events: Iterable[Event]):
        h = cls()
        for ev in events:
            h.append(ev.type, ev.process, ev.f, ev.value, ev.key, ev.time, ev.error)
        return h

    @classmethod
    def from_jsonl(cls, text: str):
        h = cls()
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                h.append(d["type"], d["process"], d["f"], d.get("value"), d.get("key"),
                         d.get("time", 0.0), d.get("error"))
            except (ValueError, KeyError) as e:
                raise ValueError(f"line {n}: not a history event ({e})") from None
        return h
