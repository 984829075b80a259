"""The history view: what each client saw, and how (or why not) it can be linearized.

One row per client process; each operation is a bar from invocation to
completion: ok (it happened), fail (it did not) and info (unknown: the bar runs
to the end, as the operation may take effect any time later). Given the result
of :func:`faultlab.check.linearizable`, numbered points mark one linearization
(the instant each operation appears to take effect, in order); for a violation
the operation that cannot be linearized is red, the operations around it are
outlined, the longest partial order found is numbered, and the view zooms to
that window. Hover over a bar for its details and the explanation.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..errors import ConfigError
from ..history import History
from . import _style

STATUS_STYLE = {  # status -> (legend name, fill colour, pattern)
    "ok": ("ok", "#4C78A8", ""),
    "fail": ("fail (did not happen)", "#BDBDBD", ""),
    "info": ("info (unknown: may take effect any time later)", "#F2A65A", "/"),
}
STUCK_COLOR = "#D62728"
POINT_COLOR = "#1B1B1B"
KEY_COLORS = ("#1B1B1B", "#009E73", "#CC79A7", "#7B3294", "#0072B2", "#8C6D1F")
LABEL_LIMIT = 120        # operations beyond which bars carry no text (hover still has it)


def _as_history(history):
    if hasattr(history, "history") and isinstance(history.history, History):
        return history.history, getattr(history, "trace", None)
    if isinstance(history, History):
        return history, None
    if isinstance(history, (list, tuple)):
        return History.from_events(history), None
    raise ConfigError(f"history_figure() needs a History (world.history) or a World, "
                      f"got {type(history).__name__}")


def _label(op):
    key = "" if op.key is None else f"{op.key}: "
    if op.f in ("read", "get", "dequeue") and op.status == "ok":
        return f"{key}{op.f} → {_style.short(op.complete.value, 24)}"
    if op.invoke.value is None:
        return f"{key}{op.f}"
    return f"{key}{op.f} {_style.short(op.invoke.value, 24)}"


def _points(order, span, horizon):
    """An instant inside each operation's interval, increasing along ``order``.

    ``lo`` is the latest invocation so far, ``hi`` the earliest completion from
    here on; a valid linearization keeps ``lo <= hi``, and their midpoint
    increases too.
    """
    lo, his, cur = [], [], None
    for i in order:
        cur = span[i][0] if cur is None else max(cur, span[i][0])
        lo.append(cur)
    cur = None
    for i in reversed(order):
        end = min(span[i][1], horizon)
        cur = end if cur is None else min(cur, end)
        his.append(cur)
    his.reverse()
    return [(a + max(a, b)) / 2 for a, b in zip(lo, his)]


def history_figure(history, result=None, title=None, height=None, zoom=True):
    """A plotly Figure of ``history`` (a History or a World), annotated with ``result`` if given.

    ``result`` is the CheckResult of ``faultlab.check.linearizable``. With
    ``zoom`` the x axis starts around the violation (double-click to see all).
    """
    history, trace = _as_history(history)
    if result is not None and not hasattr(result, "verdict"):
        raise ConfigError(f"result must be the CheckResult of linearizable(), got {type(result).__name__}")
    ops = history.operations()
    timed = any(ev.time for ev in history)
    span = [(op.start, op.end if op.complete is not None and op.status != "info" else float("inf"))
            if timed else (op.invoke.index, op.complete.index if op.complete is not None
                           and op.status != "info" else float("inf")) for op in ops]
    last = max([s for s, _ in span] + [e for _, e in span if e != float("inf")] + [0.0])
    horizon = last + max(1.0, 0.03 * last)
    unit = "ms" if timed else "event"

    procs = sorted({op.process for op in ops}, key=_style.natural_key)
    row = {p: i for i, p in enumerate(procs)}
    evidence = getattr(result, "evidence", None) or {}
    stuck = set(evidence.get("stuck", {}).values())
    window = {i for w in evidence.get("window", {}).values() for i in w}
    explain = {v["op"]: v["explanation"] for v in getattr(result, "violations", None) or []}

    fig = go.Figure()
    for status, (name, color, pattern) in STATUS_STYLE.items():
        mine = [i for i, op in enumerate(ops) if op.status == status and i not in stuck]
        if not mine:
            continue
        fig.add_trace(go.Bar(
            name=name, orientation="h", y=[row[ops[i].process] for i in mine],
            base=[span[i][0] for i in mine], x=[min(span[i][1], horizon) - span[i][0] for i in mine],
            marker=dict(color=color, pattern_shape=pattern, line=dict(color=color, width=0.5)),
            text=[_label(ops[i]) for i in mine] if len(ops) <= LABEL_LIMIT else None,
            textposition="inside", insidetextanchor="start", textfont=dict(size=11),
            hovertext=[_hover(i, ops[i], span[i], unit, i in window) for i in mine],
            hoverinfo="text", width=0.6))
    around = sorted(window - stuck)
    if around:
        fig.add_trace(go.Bar(
            name="overlapping it (the window)", orientation="h", y=[row[ops[i].process] for i in around],
            base=[span[i][0] for i in around], x=[min(span[i][1], horizon) - span[i][0] for i in around],
            marker=dict(color="rgba(0,0,0,0)", line=dict(color=STUCK_COLOR, width=2.5)),
            hovertext=[_hover(i, ops[i], span[i], unit, True) for i in around], hoverinfo="text",
            width=0.72))
    if stuck:
        mine = sorted(stuck)
        fig.add_trace(go.Bar(
            name="cannot be linearized", orientation="h", y=[row[ops[i].process] for i in mine],
            base=[span[i][0] for i in mine], x=[min(span[i][1], horizon) - span[i][0] for i in mine],
            marker=dict(color=STUCK_COLOR, line=dict(color="#7F0000", width=2)),
            text=[_label(ops[i]) for i in mine], textposition="inside", insidetextanchor="start",
            textfont=dict(size=11, color="white"),
            hovertext=[_hover(i, ops[i], span[i], unit, True) + "<br><br>" + _wrap(explain.get(i, ""))
                       for i in mine],
            hoverinfo="text", width=0.6))

    keys = list((evidence.get("order") or {}))
    for key, order in (evidence.get("order") or {}).items():
        if not order:
            continue
        color = POINT_COLOR if len(keys) == 1 else KEY_COLORS[keys.index(key) % len(KEY_COLORS)]
        xs = _points(order, span, horizon)
        ys = [row[ops[i].process] - 0.3 for i in order]      # on the bar's upper edge
        tag = "" if key is None else f"{key}:"
        few = len(order) <= LABEL_LIMIT
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers+text" if few else "markers",
            name=("linearization order" if result.verdict == "ok" else "longest partial order found")
            + ("" if key is None else f" of {key}"),
            line=dict(color=color, width=1, dash="dot"), opacity=0.9,
            marker=dict(color=color, size=7, symbol="diamond"),
            text=[f"{tag}{n}" for n in range(1, len(order) + 1)] if few else None,
            textposition="top center", textfont=dict(size=10, color=color),
            hovertext=[f"{tag}{n}: #{i} {_label(ops[i])} takes effect here"
                       for n, i in enumerate(order, 1)], hoverinfo="text"))

    _style.base_layout(fig, title or _title(result), height or max(320, min(170 + 48 * len(procs), 1000)))
    fig.update_layout(barmode="overlay", bargap=0.3, margin=dict(l=110))
    fig.update_yaxes(tickvals=list(range(len(procs))), ticktext=[f"process {p}" for p in procs],
                     range=[len(procs) - 0.4, -0.6], showgrid=False, zeroline=False)
    xrange = _xrange(span, stuck, window | _context(evidence, span), horizon, zoom)
    fig.update_xaxes(title_text="time (ms)" if timed else "event number (the history has no times)", range=xrange)
    if trace:
        _style.shade_faults(fig, [p._replace(node=None) for p in _style.fault_periods(trace)
                                  if p.kind in ("crash", "pause")], {}, label=True, label_within=xrange)
    return fig


def _context(evidence, span, n=4):
    """The last few completed operations of each partial order: what the stuck one contradicts."""
    out = set()
    for key in evidence.get("stuck", {}):
        done = [i for i in evidence.get("order", {}).get(key, []) if span[i][1] != float("inf")]
        out.update(done[-n:])
    return out


def _xrange(span, stuck, window, horizon, zoom):
    """The whole history, or (``zoom``) the stretch around the operations that cannot be ordered."""
    start = min([s for s, _ in span] + [0.0])
    if not (zoom and stuck):
        return [start, horizon]
    ends = [span[i][1] for i in stuck]
    near = [i for i in window if span[i][1] != float("inf")] + list(stuck)
    lo = min(span[i][0] for i in near)
    hi = max([e for e in ends if e != float("inf")] + [span[i][1] for i in near if span[i][1] != float("inf")]
             + [lo + 1.0])
    pad = max(1.0, 0.6 * (hi - lo))
    return [max(start, lo - pad), min(horizon, hi + pad)]


def _hover(i, op, span, unit, in_window):
    end = "∞ (may take effect any time later)" if span[1] == float("inf") else f"{span[1]:g}"
    text = (f"<b>#{i} process {op.process}: {_label(op)}</b><br>{op.status}"
            f"{'' if op.complete is None or op.complete.error is None else f' ({op.complete.error})'}"
            f"<br>{unit} {span[0]:g} → {end}")
    if in_window:
        text += "<br><i>in the window the checker could not order</i>"
    return text


def _wrap(text, width=70):
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + len(w) + 1 > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return "<br>".join(lines + [cur] if cur else lines)


def _title(result):
    if result is None:
        return "Client history"
    if result.verdict == "ok":
        return "Client history — linearizable (numbers: one valid order)"
    if result.verdict == "violated":
        keys = [v["key"] for v in result.violations if v["key"] is not None]
        where = f" on key {keys[0]!r}" if keys else ""
        return f"Client history — NOT linearizable{where} (red: cannot be ordered; hover for why)"
    return "Client history — unknown (the checker ran out of time or memory)"
