"""The client's view: how long operations took, and how long no write got through.

``unavailability_windows`` is the number a fault-recovery course is about: after
a fault, for how many milliseconds could the system not accept a write? It
looks at successful write completions and returns every gap longer than
``min_gap`` ms (from the first write attempt to the end of the history).
"""
from __future__ import annotations

from collections import namedtuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import ConfigError
from . import _style

WRITE_FS = ("write", "put", "append", "cas", "add", "delete", "set", "incr")
STATUS_COLORS = {"ok": "#2CA02C", "fail": "#FF7F0E", "info": "#D62728"}
Window = namedtuple("Window", "start end duration")


def _history(history, who):
    if hasattr(history, "history") and not hasattr(history, "operations"):
        history = history.history
    if not hasattr(history, "operations"):
        raise ConfigError(f"{who}() needs a faultlab History (world.history), got {type(history).__name__}")
    return history


def unavailability_windows(history, min_gap=100.0, writes=WRITE_FS, end=None):
    """Windows ``Window(start, end, duration)`` in ms longer than ``min_gap`` with no successful write.

    The clock starts at the first write invocation; the last window runs to
    ``end`` (default: the last event in the history).
    """
    history = _history(history, "unavailability_windows")
    if isinstance(min_gap, bool) or not isinstance(min_gap, (int, float)) or not min_gap > 0:
        raise ConfigError(f"min_gap must be a positive number of ms, got {min_gap!r}")
    writes = set(writes)
    invokes = [e.time for e in history if e.type == "invoke" and e.f in writes]
    if not invokes:
        return []
    oks = sorted(e.time for e in history if e.type == "ok" and e.f in writes)
    last = end if end is not None else max(e.time for e in history)
    out, prev = [], min(invokes)
    for t in oks + [last]:
        if t - prev > min_gap:
            out.append(Window(prev, t, t - prev))
        prev = max(prev, t)
    return out


def availability(history, trace=None, min_gap=100.0, bucket=100.0, title=None, height=None, time_unit=None):
    """Latency of every operation over time (top) and successful writes per ``bucket`` ms (bottom).

    Red bands are the unavailability windows; pass the ``trace`` to outline the
    faults that caused them (in the fault colours, with a "fault" legend).
    ``time_unit``: 'ms', 's' or None (seconds from a 10 s span on).
    """
    history = _history(history, "availability")
    if isinstance(bucket, bool) or not isinstance(bucket, (int, float)) or not bucket > 0:
        raise ConfigError(f"bucket must be a positive number of ms, got {bucket!r}")
    ops = [op for op in history.operations() if op.complete is not None]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08)
    for status in ("ok", "fail", "info"):
        mine = [op for op in ops if op.status == status]
        if not mine:
            continue
        label = {"ok": "ok", "fail": "failed (did not happen)", "info": "timed out (unknown)"}[status]
        fig.add_trace(go.Scatter(
            x=[op.start for op in mine], y=[op.end - op.start for op in mine], mode="markers", name=label,
            marker=dict(color=STATUS_COLORS[status], size=5, opacity=0.75,
                        symbol="circle" if status == "ok" else "x"),
            hovertext=[f"{op.f} {'' if op.key is None else op.key} {_style.short(op.value, 40)} → {status}"
                       f"<br>process {op.process}, {op.start:.1f}–{op.end:.1f} ms ({op.end - op.start:.1f} ms)"
                       for op in mine], hoverinfo="text"), row=1, col=1)
    t_end = max((e.time for e in history), default=0.0)
    if trace is not None:
        trace = _style.check_trace(trace, "availability")
        t_end = max(t_end, trace[-1].t if trace else 0.0)
    n = int(t_end // bucket) + 1
    counts = [0] * n
    for op in ops:
        if op.status == "ok" and op.f in WRITE_FS:
            counts[min(int(op.end // bucket), n - 1)] += 1
    fig.add_trace(go.Bar(x=[(i + 0.5) * bucket for i in range(n)], y=counts, width=bucket * 0.9,
                         name=f"writes ok per {bucket:g} ms", marker_color="#4C72B0",
                         hovertemplate="%{y} writes ok<extra></extra>"), row=2, col=1)
    windows = unavailability_windows(history, min_gap=min_gap, end=t_end)
    label_ends = []                       # per label row: where its last label ends (ms)
    room = max(t_end, 1.0) * 0.13         # roughly the width of one label
    for w in windows:
        for row in (1, 2):
            fig.add_vrect(x0=w.start, x1=w.end, fillcolor="rgba(214, 39, 40, 0.12)", line_width=0,
                          layer="below", row=row, col=1)
        mid = (w.start + w.end) / 2
        level = next((i for i, end in enumerate(label_ends) if mid - end > room), len(label_ends))
        label_ends[level:level + 1] = [mid]
        text = f"no write for {w.duration:.0f} ms"
        x, anchor = _centred(mid, text, 0.0, max(t_end, 1.0))
        fig.add_annotation(x=x, xanchor=anchor, y=1.0 + 0.055 * level, yref="paper", yanchor="bottom",
                           showarrow=False, text=text, font=dict(size=11, color="#B22222"))
    in_legend = set()
    if trace is not None:
        for p in _style.fault_periods(trace, end=t_end):
            style = _style.FAULT_STYLE.get(p.kind, _style.FAULT_STYLE["partition"])
            fig.add_vrect(x0=p.start, x1=max(p.end, p.start + 0.5), line=dict(color=style.color, width=1.3,
                                                                             dash="dot"),
                          fillcolor="rgba(0,0,0,0)", layer="above", row=1, col=1,
                          **_style.fault_legend_entry(p.kind, style.name not in in_legend))
            in_legend.add(style.name)
            x, anchor = _style.label_x(p.start, p.label, 0.0, max(t_end, 1.0))
            fig.add_annotation(x=x, xanchor=anchor, y=1.0, yref="y domain", yanchor="top", showarrow=False,
                               text=p.label, font=dict(size=10, color=style.color),
                               bgcolor="rgba(255, 255, 255, 0.8)", row=1, col=1)
    total = sum(w.duration for w in windows)
    _style.base_layout(fig, f"{title or 'Client view'} <span style='font-size:12px;color:#666'>"
                       f"{len(ops)} operations · unavailable for writes {total:.0f} ms in "
                       f"{len(windows)} window(s) (gaps > {min_gap:g} ms)</span>", height or 520)
    fig.update_yaxes(title_text="latency (ms)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="writes ok", rangemode="tozero", row=2, col=1)
    unit = _style.time_unit(0.0, t_end, time_unit)
    axis = _style.time_axis(0.0, max(t_end, 1.0), unit)
    fig.update_xaxes(title=axis.pop("title"), row=2, col=1)
    fig.update_xaxes(**axis)
    fig.update_layout(margin=dict(t=80 + 20 * max(len(label_ends) - 1, 0)), bargap=0, meta={"time_unit": unit})
    if in_legend:
        fig.update_layout(legend2=_style.FAULT_LEGEND, margin=dict(r=_style.FAULT_LEGEND_MARGIN))
    return fig


def _centred(mid, text, t0, t1):
    """A label centred on ``mid``, or pushed against the axis's edge so it stays inside."""
    half = _style.label_width(text, t0, t1, size=11) / 2
    if mid + half > t1:
        return t1, "right"
    if mid - half < t0:
        return t0, "left"
    return mid, "center"
