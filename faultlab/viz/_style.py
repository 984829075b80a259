"""Shared looks for every figure: node colours, lanes, fault periods and their shading.

Every figure derives its node order and colours from the same functions, so n3
has the same colour in the space-time diagram, the timeline and the log grid.
"""
from __future__ import annotations

import re

from ..errors import ConfigError
from ._index import Period, index_for  # noqa: F401 - Period is part of this module's API

# Okabe-Ito-like palette, readable for colour-blind viewers, then a few extra.
NODE_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C6D1F",
                "#7B3294", "#1B7837", "#B2182B")
CLIENT_COLOR = "#888888"
FAULT_COLORS = {"crash": "rgba(214, 39, 40, 0.18)", "pause": "rgba(255, 165, 0, 0.35)",
                "partition": "rgba(120, 120, 120, 0.13)", "cut": "rgba(120, 120, 120, 0.10)"}
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=13, color="#2A3F5F")
_BLANK_TEMPLATE = "none"



def natural_key(name):
    """Sort n2 before n10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(name))]


def server_nodes(trace):
    """Server node ids in a trace, in natural order."""
    return sorted(index_for(trace).servers, key=natural_key)


def client_nodes(trace):
    return sorted(index_for(trace).clients, key=natural_key)


def node_color(node, nodes=None):
    """The colour of ``node``: by its position in the natural order of ``nodes`` (or its number)."""
    if nodes is not None and node in nodes:
        i = sorted(nodes, key=natural_key).index(node)
    else:
        digits = re.findall(r"\d+", str(node))
        i = int(digits[-1]) - 1 if digits else sum(map(ord, str(node)))
    return NODE_PALETTE[i % len(NODE_PALETTE)]


def lane_label(node, nodes):
    """A tick label in the node's colour (plotly renders the span's colour); clients are grey."""
    color = node_color(node, nodes) if node in nodes else CLIENT_COLOR
    return f'<span style="color:{color}"><b>{node}</b></span>'


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
    return index_for(trace).periods(end)


def fault_shapes(periods, lane_of, start=None, end=None, label=True, above=False):
    """Layout shapes and labels for fault periods: a band on the node's lane, or the full height
    for partitions. Returns ``(shapes, annotations)`` as plain dicts."""
    shapes, notes = [], []
    layer = "above" if above else "below"
    for p in periods:
        x0 = p.start if start is None else max(p.start, start)
        x1 = p.end if end is None else min(p.end, end)
        if x1 < x0 or (x1 == x0 and p.end != p.start):
            continue
        if x1 == x0:
            x1 = x0 + 0.5
        fill = FAULT_COLORS.get(p.kind, FAULT_COLORS["partition"])
        if p.node is None:
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1,
                               fillcolor=fill, line=dict(width=0), layer=layer))
            if label:
                notes.append(dict(x=x0, y=1, xref="x", yref="paper", xanchor="left", yanchor="top",
                                  text=p.label, showarrow=False, font=dict(size=10, color="#555")))
        elif p.node in lane_of:
            y = lane_of[p.node]
            shapes.append(dict(type="rect", xref="x", yref="y", x0=x0, x1=x1, y0=y - 0.42, y1=y + 0.42,
                               fillcolor=fill, line=dict(width=0), layer=layer))
            if label:
                notes.append(dict(x=x0, y=y + 0.3, xref="x", yref="y", xanchor="left", showarrow=False,
                                  text=p.kind + ("ed" if p.kind == "crash" else "d"),
                                  font=dict(size=10, color="#777")))
    return shapes, notes


def shade_faults(fig, periods, lane_of, start=None, end=None, label=True, above=False):
    """Add :func:`fault_shapes` to ``fig`` in one layout update."""
    shapes, notes = fault_shapes(periods, lane_of, start, end, label, above)
    fig.update_layout(shapes=list(fig.layout.shapes or ()) + shapes,
                      annotations=list(fig.layout.annotations or ()) + notes)
    return fig


XAXIS_STYLE = dict(gridcolor="#EBF0F8", linecolor="#BBB", zerolinecolor="#EBF0F8", ticks="outside",
                   tickcolor="#BBB")
YAXIS_STYLE = dict(gridcolor="#EBF0F8", zerolinecolor="#EBF0F8")


def layout_dict(title, height, xaxis=None, yaxis=None, **extra):
    """The house layout as a plain dict (nested keys only, so it needs no validation).

    A small explicit style instead of a named template: assigning a template deep-copies
    it, which costs tens of ms per figure, and live widgets redraw several times a second.
    """
    out = dict(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=17, color="#2A3F5F")),
               height=height, template=_BLANK_TEMPLATE, font=dict(FONT), paper_bgcolor="white",
               plot_bgcolor="white", colorway=list(NODE_PALETTE), margin=dict(l=70, r=20, t=60, b=100),
               hoverlabel=dict(font=dict(size=12)),
               legend=dict(orientation="h", yref="container", y=0.005, yanchor="bottom", x=0),
               xaxis={**XAXIS_STYLE, **(xaxis or {})}, yaxis={**YAXIS_STYLE, **(yaxis or {})})
    out.update(extra)
    return out


def base_layout(fig, title, height):
    """Apply the house layout to an existing figure (also to every subplot's axes)."""
    layout = layout_dict(title, height)
    del layout["xaxis"], layout["yaxis"]
    fig.update_layout(layout)
    fig.update_xaxes(**XAXIS_STYLE)
    fig.update_yaxes(**YAXIS_STYLE)
    return fig


def lanes_yaxis(nodes, all_nodes=None):
    """A y axis dict with one lane per node, first node on top, and the lane index of each node."""
    lane_of = {n: i for i, n in enumerate(nodes)}
    axis = dict(tickvals=list(range(len(nodes))), ticktext=[lane_label(n, all_nodes or nodes) for n in nodes],
                range=[len(nodes) - 0.4, -0.6], showgrid=False, zeroline=False)
    return axis, lane_of


def lanes_axis(fig, nodes, all_nodes=None):
    axis, lane_of = lanes_yaxis(nodes, all_nodes)
    fig.update_yaxes(**axis)
    return lane_of


def short(obj, limit=140):
    """A one-line repr for hover text, cut to ``limit`` characters."""
    text = repr(obj)
    return text if len(text) <= limit else text[:limit - 1] + "…"
