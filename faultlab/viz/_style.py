"""Shared looks for every figure: node colours, lanes, fault periods and their shading.

Every figure derives its node order and colours from the same functions, so n3
has the same colour in the space-time diagram, the timeline and the log grid.
"""
from __future__ import annotations

import re
from collections import namedtuple

from ..errors import ConfigError

# Okabe-Ito-like palette, readable for colour-blind viewers, then a few extra.
NODE_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C6D1F",
                "#7B3294", "#1B7837", "#B2182B")
CLIENT_COLOR = "#888888"
FAULT_COLORS = {"crash": "rgba(214, 39, 40, 0.18)", "pause": "rgba(255, 165, 0, 0.35)",
                "partition": "rgba(120, 120, 120, 0.13)", "cut": "rgba(120, 120, 120, 0.10)"}
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=13)

Period = namedtuple("Period", "kind node start end label")


def natural_key(name):
    """Sort n2 before n10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(name))]


def server_nodes(trace):
    """Server node ids in a trace: those that started, in natural order."""
    seen = {r.node for r in trace if r.kind in ("start", "role", "crash", "restart", "pause", "timer")
            and r.node is not None}
    return sorted(seen, key=natural_key)


def client_nodes(trace):
    return sorted({r.node for r in trace if r.kind in ("invoke", "complete") and r.node is not None},
                  key=natural_key)


def node_color(node, nodes=None):
    """The colour of ``node``: by its position in the natural order of ``nodes`` (or its number)."""
    if nodes is not None and node in nodes:
        i = sorted(nodes, key=natural_key).index(node)
    else:
        digits = re.findall(r"\d+", str(node))
        i = int(digits[-1]) - 1 if digits else sum(map(ord, str(node)))
    return NODE_PALETTE[i % len(NODE_PALETTE)]


def lane_label(node, nodes):
    """A tick label in the node's colour (plotly renders the span's colour)."""
    return f'<span style="color:{node_color(node, nodes)}"><b>{node}</b></span>'


def check_trace(trace, who):
    """Accept a World or a list of records; say clearly what is wrong otherwise."""
    if hasattr(trace, "trace") and not isinstance(trace, (list, tuple)):
        trace = trace.trace
    if not isinstance(trace, (list, tuple)):
        raise ConfigError(f"{who}() needs a trace (world.trace, a list of Record(t, kind, node, info)), "
                          f"got {type(trace).__name__}")
    if trace and not all(hasattr(r, "kind") and hasattr(r, "t") for r in trace[:5]):
        raise ConfigError(f"{who}() needs trace records with t, kind, node and info fields "
                          f"(like world.trace); the first item is {trace[0]!r}")
    return trace


def check_window(start, end, who):
    for name, v in (("start", start), ("end", end)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != v):
            raise ConfigError(f"{who}(): {name} must be a time in ms or None, got {v!r}")
    if start is not None and end is not None and end <= start:
        raise ConfigError(f"{who}(): the window end ({end:g} ms) must come after its start ({start:g} ms)")


def fault_periods(trace, end=None):
    """Crash/pause periods per node and partition/cut periods for the whole cluster.

    A period still open at the end of the trace runs to ``end`` (default: last record).
    """
    if end is None:
        end = trace[-1].t if trace else 0.0
    out, open_crash, open_pause, open_net = [], {}, {}, None
    for r in trace:
        k = r.kind
        if k == "crash":
            open_crash.setdefault(r.node, r.t)
        elif k == "restart" and r.node in open_crash:
            out.append(Period("crash", r.node, open_crash.pop(r.node), r.t, f"{r.node} crashed"))
        elif k == "pause":
            open_pause.setdefault(r.node, r.t)
        elif k == "resume" and r.node in open_pause:
            out.append(Period("pause", r.node, open_pause.pop(r.node), r.t, f"{r.node} paused"))
        elif k in ("partition", "cut"):
            if open_net is not None:
                out.append(Period(open_net[0], None, open_net[1], r.t, open_net[2]))
            if k == "partition":
                label = "partition " + " | ".join(",".join(g) for g in r.info.get("groups", []))
            else:
                label = f"cut {r.info.get('src')}→{r.info.get('dst')}"
            open_net = (k, r.t, label)
        elif k == "heal" and open_net is not None:
            out.append(Period(open_net[0], None, open_net[1], r.t, open_net[2]))
            open_net = None
    for node, t in open_crash.items():
        out.append(Period("crash", node, t, end, f"{node} crashed"))
    for node, t in open_pause.items():
        out.append(Period("pause", node, t, end, f"{node} paused"))
    if open_net is not None:
        out.append(Period(open_net[0], None, open_net[1], end, open_net[2]))
    return out


def shade_faults(fig, periods, lane_of, start=None, end=None, row=None, col=None, label=True, above=False):
    """Shade fault periods: a band on the node's lane, or the full height for partitions."""
    for p in periods:
        x0 = p.start if start is None else max(p.start, start)
        x1 = p.end if end is None else min(p.end, end)
        if x1 < x0 or (x1 == x0 and p.end != p.start):
            continue
        if x1 == x0:
            x1 = x0 + 0.5
        kw = dict(x0=x0, x1=x1, fillcolor=FAULT_COLORS.get(p.kind, FAULT_COLORS["partition"]),
                  line_width=0, layer="above" if above else "below")
        if row is not None:
            kw.update(row=row, col=col)
        if p.node is None:
            fig.add_vrect(**kw, annotation_text=p.label if label else None,
                          annotation_position="top left", annotation_font_size=10,
                          annotation_font_color="#555")
        elif p.node in lane_of:
            y = lane_of[p.node]
            fig.add_shape(type="rect", y0=y - 0.42, y1=y + 0.42, **kw)
            if label:
                fig.add_annotation(x=x0, y=y + 0.3, text=p.kind + ("ed" if p.kind == "crash" else "d"),
                                   showarrow=False, xanchor="left", font=dict(size=10, color="#777"),
                                   **({} if row is None else dict(row=row, col=col)))
    return fig


def base_layout(fig, title, height):
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left"), height=height,
                      template="plotly_white", font=FONT, margin=dict(l=70, r=20, t=60, b=50),
                      hoverlabel=dict(font_size=12), legend=dict(orientation="h", y=-0.18, x=0))
    return fig


def lanes_axis(fig, nodes, all_nodes=None, row=None, col=None):
    """A categorical-looking y axis with one lane per node, first node on top."""
    lane_of = {n: i for i, n in enumerate(nodes)}
    kw = dict(tickvals=list(range(len(nodes))), ticktext=[lane_label(n, all_nodes or nodes) for n in nodes],
              range=[len(nodes) - 0.4, -0.6], showgrid=False, zeroline=False, title_text=None)
    if row is not None:
        kw.update(row=row, col=col)
    fig.update_yaxes(**kw)
    return lane_of


def short(obj, limit=140):
    """A one-line repr for hover text, cut to ``limit`` characters."""
    text = repr(obj)
    return text if len(text) <= limit else text[:limit - 1] + "…"
