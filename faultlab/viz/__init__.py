"""Figures: pure functions from a trace, history or status to a plotly Figure.

Every figure uses the same node colours and lane order, labels time in ms (in
seconds for real clusters and spans of 10 s or more) and shades faults in colours
no role uses, listed in a "fault" legend; ``save_png`` renders any of them to a PNG.
"""
from ._style import NODE_PALETTE, fault_periods, node_color
from .availability import availability, unavailability_windows
from .log_grid import conflicts, log_grid
from .png import save_png
from .spacetime import spacetime
from .timeline import role_periods, timeline

try:  # the history/linearizability view lives in its own module, maintained separately
    from .history import history_figure
except ImportError:  # pragma: no cover - not there yet
    history_figure = None

__all__ = ["spacetime", "timeline", "log_grid", "availability", "unavailability_windows", "save_png",
           "history_figure", "fault_periods", "role_periods", "conflicts", "node_color", "NODE_PALETTE"]
