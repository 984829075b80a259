"""The panel's live figure: which figure to draw over which window, and pushing it to the browser.

Figures are windowed (the last ``window`` ms of the trace) and the trace
indexes are incremental, so a redraw costs the same after a minute of
simulated time as after a second.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..errors import ConfigError
from ..viz import availability, log_grid, spacetime, timeline

FIGURES = ("spacetime", "timeline", "log_grid", "availability")


def is_simulated(cluster):
    return hasattr(cluster, "run") and hasattr(cluster, "env") and hasattr(cluster, "trace")


def draw(kind, trace, cluster, now, window, max_messages=300, kinds=None, statuses=None):
    """Build the named figure for the window ending at ``now`` (roles held now are drawn to now).

    A real cluster's figures count seconds: its clock runs from the cluster's start, so
    its times are large and its faults take seconds to recover from."""
    start = max(0.0, now - window)
    end = max(now, start + 1.0)
    unit = None if is_simulated(cluster) else "s"
    if callable(kind):
        return kind(cluster, start, end)
    if kind == "spacetime":
        return spacetime(trace, start=start, end=end, kinds=kinds, max_messages=max_messages, height=420,
                         time_unit=unit)
    if kind == "timeline":
        return timeline(trace, start=max(0.0, now - 4 * window), end=end, height=380, time_unit=unit)
    if kind == "log_grid":
        return log_grid(statuses if statuses is not None else cluster.status(), max_entries=40, height=380)
    if kind == "availability":
        history = getattr(cluster, "history", None)
        if history is None:
            raise ConfigError("the availability figure needs a cluster that records a client history")
        return availability(history, trace=trace, height=420, time_unit=unit)
    raise ConfigError(f"unknown figure {kind!r}; choose one of {', '.join(FIGURES)} "
                      "or pass a function (cluster, start_ms, end_ms) -> Figure")


def check_figure(kind):
    if not callable(kind) and kind not in FIGURES:
        raise ConfigError(f"unknown figure {kind!r}; choose one of {', '.join(FIGURES)} "
                          "or pass a function (cluster, start_ms, end_ms) -> Figure")
    return kind


def push(widget: go.FigureWidget, fig):
    """Make the widget show ``fig`` with as little traffic to the browser as possible.

    When the traces line up (same count and types, the usual case while time
    advances) one ``plotly_restyle`` message carries only the trace properties
    that changed; otherwise the traces are replaced. Then the layout is assigned
    whole. (Setting trace attributes one by one on an unvalidated FigureWidget
    never reaches the browser, so we do not do that.)
    """
    same = len(widget.data) == len(fig.data) and all(
        a.type == b.type for a, b in zip(widget.data, fig.data))
    if same and fig.data:
        keys = set().union(*(t._props for t in fig.data), *(t._props for t in widget.data)) - {"type", "uid"}
        restyle = {k: [t._props.get(k) for t in fig.data] for k in sorted(keys)}
        widget.plotly_restyle(restyle, trace_indexes=list(range(len(fig.data))))
    else:
        with widget.batch_update():
            widget.data = []
            widget.add_traces(list(fig.data))
    widget.layout = fig.layout        # a whole-layout assignment keeps the Python side in step too
