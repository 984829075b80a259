"""Jepsen / Knossos histories in EDN: read them into a History, write a History back.

Two line-oriented forms are understood, one event per line:

* the map form Knossos reads: ``{:process 0, :type :invoke, :f :write, :value 3}``
  (optionally ``:key``, ``:time`` in nanoseconds as Jepsen records it, ``:error``);
* the form Jepsen's logger prints: ``INFO  jepsen.util - 3 :invoke :cas [1 4]``
  (the ``INFO  jepsen.util -`` prefix is optional). A completion may end with
  an error keyword: ``:fail :read :timed-out`` and ``:info ... :timed-out`` are
  indeterminate and are read as ``info``.

Events of the ``:nemesis`` process are skipped (they are faults, not client
operations). Histories whose operations carry Jepsen "independent" values
``[key value]`` can be split into keys with :func:`unwrap_independent`. The
EDN subset needed for histories (nil, booleans, numbers, strings, keywords,
symbols, vectors, lists, maps, sets) is parsed here directly: a general EDN
library is about a hundred times slower on large histories.
"""
from __future__ import annotations

import bisect
import json
import math
import re

from ..errors import FaultlabError
from ..history import TYPES, History

FORMATS = ("auto", "edn", "jepsen", "json")
TIMED_OUT = "timed-out"


class HistoryFormatError(FaultlabError, ValueError):
    """A history file that cannot be read; says which line and what to do."""

    def __init__(self, line, problem, source=None):
        self.line, self.problem, self.source = line, problem, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}line {line}: {problem}")


class Keyword(str):
    """An EDN keyword such as ``:timed-out`` (a str, so it compares with plain names)."""

    def __repr__(self):
        return f":{str(self)}"


class Symbol(str):
    """An EDN symbol other than nil/true/false (kept so it can be written back)."""


# -- reading EDN values ------------------------------------------------------------------------

_TOKEN = re.compile(r'''
    (?:[\s,]+|;[^\n]*)*            # whitespace, commas and comments before the token
    (?:
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<open>\#\{|[\[({])
  | (?P<close>[\])}])
  | (?P<tag>\#[A-Za-z][\w.\-/]*)
  | (?P<discard>\#_)
  | (?P<char>\\(?:newline|space|tab|return|u[0-9a-fA-F]{4}|\S))
  | (?P<number>[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[NM]?(?=[\s,\])}"]|$))
  | (?P<atom>[^\s,\[\](){}"\\;]+)
  | (?P<end>$)
    )''', re.VERBOSE)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f", "/": "/"}
_CLOSER = {"[": "]", "(": ")", "{": "}", "#{": "}"}
_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r"}


def _unescape(body):
    if "\\" not in body:
        return body
    return re.sub(r'\\(u[0-9a-fA-F]{4}|.)',
                  lambda m: chr(int(m.group(1)[1:], 16)) if len(m.group(1)) == 5
                  else _ESCAPES.get(m.group(1), m.group(1)), body)


def _atom(text):
    if text == "nil":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if text.startswith(":") and len(text) > 1:
        return Keyword(text[1:])
    if text in ("##Inf", "##-Inf", "##NaN"):
        return {"##Inf": math.inf, "##-Inf": -math.inf, "##NaN": math.nan}[text]
    if text[0].isdigit():
        raise ValueError(f"malformed number {text!r}")
    return Symbol(text)


def _number(text):
    text = text.rstrip("NM")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return float(text)


def _tokens(text):
    pos, match = 0, _TOKEN.match
    while True:
        m = match(text, pos)
        if m is None:
            bad = text[pos:].lstrip(" \t\r\n,")
            raise ValueError(f"unexpected {bad[:10]!r} at column {len(text) - len(bad) + 1}")
        kind = m.lastgroup
        if kind == "end":
            return
        pos = m.end()
        yield kind, m.group(kind), m.start(kind)


def read_values(text, element_offsets=None):
    """All EDN values in ``text``, in order (vectors and lists become Python lists).

    ``element_offsets``, a list, receives the character offset where each
    element of the first top-level collection starts (to name its line).
    """
    stack = [[]]
    opened = []
    discard = []
    tokens = _tokens(text)
    for kind, tok, col in tokens:
        if kind == "open":
            stack.append([])
            opened.append((tok, col))
            continue
        if kind == "close":
            if not opened:
                raise ValueError(f"unmatched {tok!r} at column {col + 1}")
            start, scol = opened.pop()
            col = scol
            if _CLOSER[start] != tok:
                raise ValueError(f"{start!r} at column {scol + 1} is closed by {tok!r}")
            items = stack.pop()
            if start == "{":
                if len(items) % 2:
                    raise ValueError(f"the map at column {scol + 1} has an odd number of forms")
                value = {}
                for k, v in zip(items[::2], items[1::2]):
                    value[_hashable(k)] = v
            elif start == "#{":
                value = {_hashable(v) for v in items}
            else:
                value = items
        elif kind == "string":
            value = _unescape(tok[1:-1])
        elif kind == "number":
            value = _number(tok)
        elif kind == "char":
            body = tok[1:]
            value = _CHARS.get(body, chr(int(body[1:], 16)) if len(body) == 5 and body[0] == "u" else body)
        elif kind in ("tag", "discard"):
            discard.append((kind, len(stack)))      # applies to the next value
            continue
        else:
            value = _atom(tok)
        if discard and discard[-1][1] == len(stack):
            what, _ = discard.pop()
            if what == "discard":
                continue
        if element_offsets is not None and len(stack) == 2 and not stack[0]:
            element_offsets.append(col)
        stack[-1].append(value)
    if opened:
        tok, col = opened[-1]
        raise ValueError(f"{tok!r} at column {col + 1} is never closed")
    return stack[0]


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, set):
        return frozenset(v)
    return v


# -- writing EDN values ------------------------------------------------------------------------

def write_value(v):
    """One Python value as EDN text (str -> string, Keyword -> :keyword, list/tuple -> vector)."""
    if v is None:
        return "nil"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Keyword):
        return f":{v}"
    if isinstance(v, Symbol):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "##NaN"
        if math.isinf(v):
            return "##Inf" if v > 0 else "##-Inf"
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(write_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{write_value(k)} {write_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (set, frozenset)):
        return "#{" + " ".join(sorted(write_value(x) for x in v)) + "}"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as EDN")


# -- histories -----------------------------------------------------------------------------------

_LOG_PREFIX = re.compile(r"^.*?\bjepsen\.util\b\s*[-:]?\s*")
_LOG_NOISE = re.compile(r"^\S*\s*(?:\S+\s+)?(?:INFO|WARN|DEBUG|ERROR|TRACE)\b")


def detect_format(text):
    """'edn', 'jepsen' or 'json', from the first event line."""
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(";"):
            continue
        if s.startswith("{"):
            return "json" if s[1:].lstrip().startswith('"') else "edn"
        if s[0] in "([" and (s[1:].lstrip().startswith("{") or not s[1:].strip()):
            return "edn"                 # one list or vector of maps, as in Knossos' test data
        return "jepsen"
    return "edn"


def _name(v, what, line, source):
    if isinstance(v, str) and v:
        return str(v)
    raise HistoryFormatError(line, f"{what} must be a keyword such as :read, got {write_value(v)}", source)


class _Builder:
    """Appends events while checking that invocations and completions pair up."""

    def __init__(self, source):
        self.history, self.lines, self.source = History(), [], source
        self.open: dict = {}

    def add(self, line, type, process, f, value=None, key=None, time=0.0, error=None):
        if type in ("fail", "info") and error is None and isinstance(value, Keyword):
            value, error = None, value   # old style: the error stands where the value goes
        if type == "fail" and error == TIMED_OUT:
            type = "info"                # a timed-out "failure" may still have happened
        if type not in TYPES:
            raise HistoryFormatError(line, f"unknown event type :{type}; expected one of "
                                     + ", ".join(f":{t}" for t in TYPES), self.source)
        if type == "invoke":
            if process in self.open:
                raise HistoryFormatError(line, f"process {process!r} invokes again before its operation "
                                         f"from line {self.open[process][0]} completed", self.source)
            self.open[process] = (line, value)
        else:
            opened = self.open.pop(process, None)
            if opened is None:
                raise HistoryFormatError(line, f":{type} for process {process!r} without a matching "
                                         ":invoke before it (is the file cut at the start?)", self.source)
            if type != "ok" and value is None:
                value = opened[1]        # a failed or timed-out completion need not repeat its input
        self.history.append(type, process, f, value, key, time, error)
        self.lines.append(line)


def _map_lines(text, source):
    """``(line, value)`` per event: one map per line, or one list/vector of maps (Knossos data)."""
    first = next((line.strip() for line in text.splitlines()
                  if line.strip() and not line.strip().startswith(";")), "")
    if first[:1] in ("(", "["):
        offsets: list = []
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        try:
            values = read_values(text, offsets)
        except ValueError as e:
            # columns count from the start of the file here: say which line instead
            lines = [bisect.bisect_right(starts, int(c) - 1) for c in re.findall(r"column (\d+)", str(e))]
            problem = re.sub(r"column (\d+)", lambda m: f"line {bisect.bisect_right(starts, int(m.group(1)) - 1)}",
                             str(e))
            raise HistoryFormatError(lines[-1] if lines else 1, f"malformed EDN ({problem})", source) from None
        if len(values) != 1 or not isinstance(values[0], list):
            raise HistoryFormatError(1, "expected one list or vector of event maps", source)
        for value, offset in zip(values[0], offsets):
            yield bisect.bisect_right(starts, offset), value
        return
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith(";"):
            continue
        try:
            values = read_values(s)
        except ValueError as e:
            raise HistoryFormatError(n, f"malformed EDN ({e})", source) from None
        if len(values) != 1:
            raise HistoryFormatError(n, "expected one map per line, like "
                                     "{:process 0, :type :invoke, :f :write, :value 3}", source)
        yield n, values[0]


def _read_maps(text, source):
    b = _Builder(source)
    for n, value in _map_lines(text, source):
        if not isinstance(value, dict):
            raise HistoryFormatError(n, "expected one map per line, like "
                                     "{:process 0, :type :invoke, :f :write, :value 3}", source)
        m = {str(k) if isinstance(k, Keyword) else k: v for k, v in value.items()}
        missing = [k for k in ("process", "type", "f") if k not in m]
        if missing:
            raise HistoryFormatError(n, "missing " + ", ".join(f":{k}" for k in missing), source)
        if m["process"] == "nemesis":
            continue
        t = m.get("time", 0)
        if not isinstance(t, (int, float)) or isinstance(t, bool):
            raise HistoryFormatError(n, f":time must be a number of nanoseconds, got {write_value(t)}", source)
        b.add(n, _name(m["type"], ":type", n, source), m["process"], _name(m["f"], ":f", n, source),
              m.get("value"), m.get("key"), t / 1e6, m.get("error"))
    return b


def _read_log(text, source):
    b = _Builder(source)
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s:
            continue
        if "jepsen.util" in s:
            s = _LOG_PREFIX.sub("", s, count=1)
        elif _LOG_NOISE.match(s) and not re.match(r"^\d+\s+:", s):
            continue                     # another logger's line in a full Jepsen log
        try:
            values = read_values(s)
        except ValueError as e:
            raise HistoryFormatError(n, f"malformed log line ({e})", source) from None
        if len(values) < 3 or len(values) > 5:
            raise HistoryFormatError(n, "expected 'PROCESS :TYPE :F VALUE [ERROR]', "
                                     "like 3 :invoke :cas [1 4]", source)
        process, typ, f = values[0], _name(values[1], "the type", n, source), _name(values[2], ":f", n, source)
        if process == "nemesis":
            continue
        value = values[3] if len(values) > 3 else None
        error = values[4] if len(values) > 4 else None
        b.add(n, typ, process, f, value, None, 0.0, error)
    return b


def _read_json(text, source):
    b = _Builder(source)
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            b.add(n, d["type"], d["process"], d["f"], d.get("value"), d.get("key"),
                  d.get("time", 0.0), d.get("error"))
        except (ValueError, KeyError, TypeError) as e:
            if isinstance(e, HistoryFormatError):
                raise
            raise HistoryFormatError(n, f"not a faultlab JSON event ({type(e).__name__}: {e})",
                                     source) from None
    return b


_READERS = {"edn": _read_maps, "jepsen": _read_log, "json": _read_json}


def loads_with_lines(text, format="auto", source=None):
    """``(history, lines)``: ``lines[i]`` is the line number event ``i`` came from."""
    if format not in FORMATS:
        raise ValueError(f"unknown history format {format!r}; choose one of {', '.join(FORMATS)}")
    if format == "auto":
        format = detect_format(text)
    b = _READERS[format](text, source)
    return b.history, b.lines


def loads(text, format="auto", source=None):
    """A History from EDN map lines, Jepsen log lines or faultlab JSONL (``format='auto'`` guesses)."""
    return loads_with_lines(text, format, source)[0]


def load(path, format="auto"):
    with open(path, encoding="utf-8") as fh:
        return loads(fh.read(), format, source=str(path))


def unwrap_independent(history, lines=None):
    """Jepsen "independent" histories carry ``[key value]`` values: move the key out.

    ``lines`` (from :func:`loads_with_lines`) makes errors name the file's line.
    """
    out = History()
    for ev in history:
        key, value = ev.key, ev.value
        if key is None:
            if not (isinstance(value, (list, tuple)) and len(value) == 2):
                line = lines[ev.index] if lines else ev.index + 1
                raise HistoryFormatError(line, f"the kv model needs a key, and this {ev.f} has neither "
                                         f":key nor a Jepsen-independent [key value] value "
                                         f"(got {write_value(value)})")
            key, value = value
            key = _hashable(key)
        out.append(ev.type, ev.process, ev.f, value, key, ev.time, ev.error)
    return out


def _kw(v):
    return v if isinstance(v, Keyword) or not isinstance(v, str) else Keyword(v)


def dumps(history, format="edn"):
    """Write ``history`` as EDN map lines (``'edn'``) or Jepsen log lines (``'jepsen'``).

    Times become ``:time`` in integer nanoseconds. The log form has no keys:
    keyed events are written Jepsen-"independent" style, ``[key value]``.
    """
    if format == "json":
        return history.to_jsonl()
    if format not in ("edn", "jepsen"):
        raise ValueError(f"can write 'edn', 'jepsen' or 'json', not {format!r}")
    out = []
    for ev in history:
        if format == "edn":
            parts = [f":process {write_value(ev.process)}", f":type :{ev.type}", f":f :{ev.f}",
                     f":value {write_value(ev.value)}"]
            if ev.key is not None:
                parts.append(f":key {write_value(ev.key)}")
            if ev.time:
                parts.append(f":time {round(ev.time * 1e6)}")
            if ev.error is not None:
                parts.append(f":error {write_value(ev.error)}")
            out.append("{" + ", ".join(parts) + "}")
        else:
            value = ev.value if ev.key is None else [ev.key, ev.value]
            line = f"INFO  jepsen.util - {write_value(ev.process)}\t:{ev.type}\t:{ev.f}\t{write_value(value)}"
            if ev.error is not None:
                line += "\t" + write_value(_kw(ev.error) if re.fullmatch(r"[\w\-?!*+.]+", str(ev.error))
                                           else ev.error)
            out.append(line)
    return "".join(line + "\n" for line in out)
