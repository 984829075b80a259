"""Space-time (Lamport) diagram: one lane per node, one arrow per message.

Time runs left to right in ms. An arrow goes from the sender's lane at the send
time to the receiver's lane at the delivery time, in the sender's colour, with a
head whose shape tells its message type (legend "message"); a dropped message ends in a
red cross where it died (hover for the reason). Crashes and pauses shade the
node's lane; partitions shade the whole height. Above ``max_messages`` arrows
the diagram keeps an evenly spaced sample and says so in the title: narrow the
time window or filter message kinds to see every one.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

import plotly.graph_objects as go

from ..errors import ConfigError
from ..trace import message_type
from . import _style

LOOKBACK_MS = 1000.0     # a message sent this long before the window may still arrive inside it
LEADER_ROLES = ("leader", "primary", "coordinator")
# (symbol, size) of the head on a delivered message, per message type; drops end in a red cross
HEADS = (("arrow", 10), ("circle", 7), ("square", 7), ("bowtie", 9), ("hexagon", 8),
         ("star", 9))           # no diamonds: those mark role changes
KIND_LEGEND = dict(title=dict(text="message"), orientation="v", x=1.02, xanchor="left", y=0, yanchor="bottom",
                   font=dict(size=11), itemclick=False, itemdoubleclick=False)
KIND_LEGEND_MARGIN = 150      # px on the right for the message and fault legends


def _window(trace, start, end):
    times = [r.t for r in trace] if len(trace) < 64 else None
    lo = 0 if start is None else (bisect_left(times, start - LOOKBACK_MS) if times
                                  else bisect_left(trace, start - LOOKBACK_MS, key=lambda r: r.t))
    hi = len(trace) if end is None else (bisect_right(times, end) if times
                                         else bisect_right(trace, end, key=lambda r: r.t))
    return trace[lo:hi]


def _arrows(records, lanes, kinds, start, end):
    """Pair sends with their deliveries/drops; keep those touching the window."""
    sends, arrows = {}, []
    for r in records:
        if r.kind == "send":
            sends[r.info["id"]] = r
        elif r.kind in ("deliver", "drop"):
            s = sends.get(r.info.get("id"))
            if s is None or s.node not in lanes or r.node not in lanes:
                continue
            mtype = message_type(r.info.get("msg"))
            if kinds is not None and mtype not in kinds:
                continue
            if (start is not None and r.t < start) or (end is not None and s.t > end):
                continue
            arrows.append((s, r, mtype))
    return arrows


def spacetime(trace, start=None, end=None, kinds=None, nodes=None, clients=False, max_messages=400,
              title=None, height=None, time_unit=None):
    """A Lamport diagram of ``trace`` (or a World) between ``start`` and ``end`` ms.

    ``kinds``: message types to show (e.g. ``{'AppendEntries'}``); ``nodes``: which
    lanes (default every server); ``clients=True`` adds client lanes and requests.
    ``end`` defaults to the world's current time; ``time_unit``: 'ms', 's' or None
    (seconds from a 10 s span on).
    """
    now = _style.clock_of(trace)
    trace = _style.check_trace(trace, "spacetime")
    _style.check_window(start, end, "spacetime")
    if not isinstance(max_messages, int) or max_messages < 1:
        raise ConfigError(f"spacetime(): max_messages must be a positive integer, got {max_messages!r}")
    if isinstance(kinds, str):
        kinds = {kinds}
    kinds = set(kinds) if kinds is not None else None
    servers = _style.server_nodes(trace)
    if nodes is None:
        lanes = list(servers)
    else:
        lanes = list(nodes)
        unknown = [n for n in lanes if n not in servers and n not in _style.client_nodes(trace)]
        if unknown:
            raise ConfigError(f"spacetime(): no node called {', '.join(map(repr, unknown))} in this trace; "
                              f"it has {', '.join(servers)}")
    if clients:
        lanes += [c for c in _style.client_nodes(trace) if c not in lanes]
    records = _window(trace, start, end)
    t0 = start if start is not None else (trace[0].t if trace else 0.0)
    t1 = end if end is not None else max(trace[-1].t if trace else 1.0, now or 0.0)
    if t1 <= t0:
        t1 = t0 + 1.0
    unit = _style.time_unit(t0, t1, time_unit)

    arrows = _arrows(records, set(lanes), kinds, start, end)
    total = len(arrows)
    if total > max_messages:
        stride = total / max_messages
        arrows = [arrows[int(i * stride)] for i in range(max_messages)]

    yaxis, lane_of = _style.lanes_yaxis(lanes, servers)
    kind_order = _style.index_for(trace).message_kinds
    traces = _message_traces(arrows, lanes, lane_of, servers, t1 - t0, kind_order) + _role_traces(
        records, lane_of, servers, start, end, t0, t1)
    traces += _kind_legend({mtype for _s, r, mtype in arrows if r.kind == "deliver"}, kind_order)
    shapes, notes = _style.fault_shapes(_style.fault_periods(trace, end=t1), lane_of, t0, t1)
    shown = f"{len(arrows)} of {total} messages (evenly sampled; narrow the window or filter kinds)" \
        if total > len(arrows) else f"{total} messages"
    head = title or "Space-time diagram"
    layout = _style.layout_dict(
        f"{head} <span style='font-size:12px;color:#666'>{t0:g}–{t1:g} ms · {shown}</span>",
        height or 120 + 70 * len(lanes), xaxis=_style.time_axis(t0, t1, unit),
        yaxis=yaxis, shapes=shapes, annotations=notes,
        meta={"messages_total": total, "messages_shown": len(arrows), "time_unit": unit})
    _style.with_fault_legend(layout, shapes)
    if any(tr.get("legend") == "legend3" for tr in traces):
        layout["legend3"] = dict(KIND_LEGEND)
        layout["margin"] = {**layout["margin"], "r": KIND_LEGEND_MARGIN}
    # Built in one go from plain dicts, unvalidated: validation and incremental updates cost
    # more than the drawing in a live widget. Validation is back on for the caller's edits.
    fig = go.Figure(data=traces, layout=layout, _validate=False)
    fig._validate = True
    return fig


def kind_head(kind, kind_order):
    """The arrowhead of a message type, by the order types first appear in the trace, so a type
    keeps its head while the trace grows (past the sixth type the heads repeat)."""
    return HEADS[kind_order.get(kind, len(kind_order)) % len(HEADS)]


def _kind_legend(kinds, kind_order):
    """One grey sample head per message type shown (the legend explains; it toggles nothing)."""
    out = []
    for kind in sorted(kinds, key=lambda k: (kind_order.get(k, len(kind_order)), k)):
        symbol, size = kind_head(kind, kind_order)
        out.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=kind, legend="legend3",
                        marker=dict(color="#555", symbol=symbol, size=size), hoverinfo="skip"))
    return out


def _message_traces(arrows, lanes, lane_of, servers, span, kind_order):
    by_sender = {n: ([], [], [], [], []) for n in lanes}
    dx, dy, dt, dsz = [], [], [], []
    stub = max(span * 0.006, 0.5)
    for s, r, mtype in arrows:
        ys, yd = lane_of[s.node], lane_of[r.node]
        text = f"{mtype} {s.node}→{r.node}<br>sent {s.t:.1f} ms"
        if r.kind == "deliver":
            text += f", delivered {r.t:.1f} ms<br>{_style.short(r.info.get('msg'))}"
            xs, ys_, ts, sizes, heads = by_sender[s.node]
            symbol, size = kind_head(mtype, kind_order)
            xs += [s.t, r.t, None]
            ys_ += [ys, yd, None]
            ts += [text, text, ""]
            sizes += [0, size, 0]
            heads += [symbol, symbol, symbol]
        else:
            reason = r.info.get("reason", "dropped")
            died_at = r.t if r.t > s.t else s.t + stub
            y_end = yd if r.t > s.t else ys + 0.35 * (yd - ys)
            text += f"<br><b>dropped ({reason})</b> at {r.t:.1f} ms<br>{_style.short(r.info.get('msg'))}"
            dx += [s.t, died_at, None]
            dy += [ys, y_end, None]
            dt += [text, text, ""]
            dsz += [0, 10, 0]
    out = []
    for node, (xs, ys_, ts, sizes, heads) in by_sender.items():
        if not xs:
            continue
        out.append(dict(
            type="scatter", x=xs, y=ys_, mode="lines+markers", name=f"from {node}", text=ts, hoverinfo="text",
            line=dict(color=_style.node_color(node, servers) if node in servers else _style.CLIENT_COLOR,
                      width=1.2),
            marker=dict(symbol=heads, angleref="previous", size=sizes),
            connectgaps=False))
    out.append(dict(
        type="scatter", x=dx, y=dy, mode="lines+markers", name="dropped", text=dt, hoverinfo="text",
        line=dict(color="#d62728", width=1, dash="dot"),
        marker=dict(symbol="x-thin", size=dsz, line=dict(color="#d62728", width=2.5)),
        connectgaps=False, visible=True if dx else "legendonly"))
    return out


def _role_traces(records, lane_of, servers, start, end, t0, t1):
    xs, ys, texts, labels, colors, where = [], [], [], [], [], []
    for r in records:
        if r.kind != "role" or r.node not in lane_of:
            continue
        if (start is not None and r.t < start) or (end is not None and r.t > end):
            continue
        role, term = r.info.get("role"), r.info.get("term")
        xs.append(r.t)
        ys.append(lane_of[r.node])
        term_txt = "" if term is None else f" T{term}"
        texts.append(f"{r.node} becomes {role}{term_txt} at {r.t:.1f} ms")
        labels.append(f"{role}{term_txt}" if role in LEADER_ROLES else "")
        colors.append(_style.node_color(r.node, servers))
        where.append(_text_position(r.t, labels[-1], t0, t1))
    if not xs:
        return []
    return [dict(
        type="scatter", x=xs, y=ys, mode="markers+text", name="role change", text=labels, hovertext=texts,
        hoverinfo="text", textposition=where, textfont=dict(size=11, color="#333"),
        marker=dict(symbol="diamond", size=10, color=colors, line=dict(color="white", width=1)))]


def _text_position(x, text, t0, t1):
    """'top center', or 'top left'/'top right' when a centred label would cross the axis's edge."""
    room = _style.label_width(text, t0, t1, size=11) / 2
    if x + room > t1:
        return "top left"
    if x - room < t0:
        return "top right"
    return "top center"
