"""Shared looks for every figure: node colours, lanes, fault periods and their shading.

Every figure derives its node order and colours from the same functions, so n3
has the same colour in the space-time diagram, the timeline and the log grid.
"""
from __future__ import annotations

import math
import re
from collections import namedtuple

from ..errors import ConfigError
from ._index import Period, index_for  # noqa: F401 - Period is part of this module's API

# Okabe-Ito-like palette, readable for colour-blind viewers, then a few extra.
NODE_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C6D1F",
                "#7B3294", "#1B7837", "#B2182B")
CLIENT_COLOR = "#888888"
# Faults get hues no role colour uses (see timeline.ROLE_COLORS): red for a crash, purple for a pause,
# grey for the network. ``color`` draws outlines, labels and the legend swatch; ``fill`` the band.
FaultStyle = namedtuple("FaultStyle", "color fill name")
FAULT_STYLE = {"crash": FaultStyle("#C62828", "rgba(198, 40, 40, 0.16)", "crash"),
               "pause": FaultStyle("#8E24AA", "rgba(142, 36, 170, 0.20)", "pause"),
               "partition": FaultStyle("#616161", "rgba(97, 97, 97, 0.13)", "partition"),
               "cut": FaultStyle("#616161", "rgba(97, 97, 97, 0.09)", "one-way cut")}
FAULT_COLORS = {kind: style.fill for kind, style in FAULT_STYLE.items()}
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


def clock_of(source):
    """The current time (ms) of a World or cluster handed to a figure, or None for a bare trace.

    A role held until now must be drawn until now, not until the last record."""
    if isinstance(source, (list, tuple)):
        return None
    now = getattr(source, "now", None)
    return float(now) if isinstance(now, (int, float)) and not isinstance(now, bool) else None


def is_real_cluster(source):
    """A real cluster (it keeps a trace but has no simulated clock): its figures count seconds."""
    return not isinstance(source, (list, tuple)) and hasattr(source, "trace") and not hasattr(source, "env")


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


LABEL_PLOT_PX = 640   # plot width assumed when placing labels: narrow, so wider figures fit them too
LABEL_CHAR_PX = 6.6   # width of one character at 10 px (DejaVu Sans), with the label box's padding


def _plain(text):
    return re.sub(r"<[^>]+>", "", str(text))


def label_width(text, t0, t1, size=10):
    """About how many ms of an axis from ``t0`` to ``t1`` a label of ``size`` px takes."""
    return (len(_plain(text)) * LABEL_CHAR_PX * size / 10 + 8) / LABEL_PLOT_PX * (t1 - t0)


def label_x(x0, text, t0, t1, size=10):
    """Where a label that starts at ``x0`` goes so it stays inside the axis range ``t0..t1``:
    ``(x, xanchor)``, left-aligned at ``x0`` when it fits, else right-aligned at ``t1``."""
    if t0 is None or t1 is None or t1 <= t0:
        return x0, "left"
    width = label_width(text, t0, t1, size)
    x0 = max(x0, t0)
    if x0 + width <= t1:
        return x0, "left"
    return t1, "right"


def fault_label(kind):
    """'crashed', 'paused', ... as a lane label says it."""
    return {"crash": "crashed", "pause": "paused"}.get(kind, kind)


def fault_shapes(periods, lane_of, start=None, end=None, label=True, above=False, label_dy=0.3,
                 label_within=None):
    """Layout shapes and labels for fault periods: a band on the node's lane, or the full height
    for partitions. Returns ``(shapes, annotations)`` as plain dicts.

    Each kind has its own colour (``FAULT_STYLE``) and one entry in the figure's second
    legend ("fault"); labels stay inside ``start..end``. ``label_dy``: where a lane's label
    sits, in lanes below the lane's centre (0 puts it on the lane, boxed, over a bar);
    ``label_within``: the axis range ``(t0, t1)`` the labels keep inside when the bands
    are not cut to ``start..end``."""
    shapes, notes, in_legend = [], [], set()
    lo, hi = label_within if label_within is not None and start is None and end is None else (start, end)
    layer = "above" if above else "below"
    for p in periods:
        x0 = p.start if start is None else max(p.start, start)
        x1 = p.end if end is None else min(p.end, end)
        if x1 < x0 or (x1 == x0 and p.end != p.start):
            continue
        if x1 == x0:
            x1 = x0 + 0.5
        style = FAULT_STYLE.get(p.kind, FAULT_STYLE["partition"])
        legend = fault_legend_entry(p.kind, style.name not in in_legend)
        in_legend.add(style.name)
        line = dict(color=style.color, width=1.2, dash="dot")
        if p.node is None:
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1,
                               fillcolor=style.fill, line=dict(width=0), layer=layer, **legend))
            if label:
                x, anchor = label_x(x0, p.label, lo, hi)
                notes.append(dict(x=x, y=1, xref="x", yref="paper", xanchor=anchor, yanchor="top",
                                  text=p.label, showarrow=False, font=dict(size=10, color="#444")))
        elif p.node in lane_of:
            y = lane_of[p.node]
            shapes.append(dict(type="rect", xref="x", yref="y", x0=x0, x1=x1, y0=y - 0.42, y1=y + 0.42,
                               fillcolor=style.fill, line=line, layer=layer, **legend))
            if label:
                text = fault_label(p.kind)
                x, anchor = label_x(x0, text, lo, hi)
                notes.append(dict(x=x, y=y + label_dy, xref="x", yref="y", xanchor=anchor, yanchor="middle",
                                  showarrow=False, text=text, font=dict(size=10, color=style.color),
                                  bgcolor="rgba(255, 255, 255, 0.85)", borderpad=1))
    return shapes, notes


def fault_legend_entry(kind, show):
    """The legend keys of a fault's shape: one entry per kind in the "fault" legend, in a fixed order."""
    style = FAULT_STYLE.get(kind, FAULT_STYLE["partition"])
    rank = list(FAULT_STYLE).index(kind) if kind in FAULT_STYLE else len(FAULT_STYLE)
    return dict(name=style.name, legend="legend2", legendgroup=style.name, legendrank=1000 + rank,
                showlegend=show)


FAULT_LEGEND = dict(title=dict(text="fault"), orientation="v", x=1.02, xanchor="left", y=1, yanchor="top",
                    font=dict(size=12))
FAULT_LEGEND_MARGIN = 115     # px on the right for the fault legend


def with_fault_legend(layout, shapes):
    """Give ``layout`` the fault legend (right of the plot) when any shape is in it."""
    if any(s.get("legend") == "legend2" for s in shapes):
        layout["legend2"] = dict(FAULT_LEGEND)
        layout["margin"] = {**layout["margin"], "r": FAULT_LEGEND_MARGIN}
    return layout


LONG_SPAN_MS = 10_000.0   # from this span on, a time axis counts seconds (real clusters always do)
_SECOND_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)


def time_unit(t0, t1, unit=None):
    """'ms' or 's' for an axis from ``t0`` to ``t1`` ms: ``unit`` if given, else seconds for long spans."""
    if unit not in (None, "ms", "s"):
        raise ConfigError(f"time_unit must be 'ms', 's' or None (choose by span), got {unit!r}")
    if unit is None:
        unit = "s" if t1 - t0 >= LONG_SPAN_MS else "ms"
    return unit


def time_axis(t0, t1, unit="ms", **extra):
    """An x axis dict over ``t0..t1`` ms, labelled in ms (full numbers, never "10k") or in seconds.

    The data stays in ms either way; a seconds axis puts its ticks at whole steps of
    0.1 s, 1 s, 5 s ... and labels them "10 s"."""
    axis = dict(range=[t0, t1], showgrid=True, **extra)
    if unit == "ms":
        axis.update(title=dict(text="time (ms)"), exponentformat="none", separatethousands=True)
        return axis
    span_s = max((t1 - t0) / 1000.0, 1e-3)
    step = next((st for st in _SECOND_STEPS if span_s / st <= 8), _SECOND_STEPS[-1])
    first = math.ceil(t0 / 1000.0 / step - 1e-9)
    ticks = []
    k = first
    while k * step * 1000.0 <= t1 + 1e-6:
        ticks.append(round(k * step, 6))
        k += 1
    axis.update(title=dict(text="time (s)"), tickmode="array", tickvals=[v * 1000.0 for v in ticks],
                ticktext=[f"{v:g} s" for v in ticks])
    return axis


def shade_faults(fig, periods, lane_of, start=None, end=None, label=True, above=False, label_within=None):
    """Add :func:`fault_shapes` to ``fig`` in one layout update."""
    shapes, notes = fault_shapes(periods, lane_of, start, end, label, above, label_within=label_within)
    fig.update_layout(shapes=list(fig.layout.shapes or ()) + shapes,
                      annotations=list(fig.layout.annotations or ()) + notes)
    if shapes:
        fig.update_layout(legend2=FAULT_LEGEND, margin=dict(r=FAULT_LEGEND_MARGIN))
    return fig


XAXIS_STYLE = dict(gridcolor="#EBF0F8", linecolor="#BBB", zerolinecolor="#EBF0F8", ticks="outside",
                   tickcolor="#BBB", exponentformat="none", separatethousands=True)   # 12,000 ms, not 12k
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
