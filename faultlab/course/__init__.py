"""Story support for the course notebooks: set-up, the course map, the machine check.

Logic lives here so notebook cells stay a few lines long. ``setup()`` is the
first call of every chapter: it fixes the seed and how figures are shown.

Figures: plotly's ``plotly_mimetype`` renderer stores each figure as JSON
(``application/vnd.plotly.v1+json``), drawn interactively by JupyterLab's
plotly extension; the notebook stays small because plotly.js (~4.8 MB) is not
embedded. When the committed notebooks are executed with
``FAULTLAB_STATIC_FIGURES=1``, every figure also carries a PNG (rendered by
kaleido with the system Chromium), which HTML exports and GitHub show offline.
"""
from __future__ import annotations

import os
import warnings

from ..errors import ConfigError
from .chapters import CHAPTERS, Chapter, course_map, course_map_markdown, show_course_map
from .exercise import EXPLAIN_SUMMARY, Exercise, yes
from .machine import doctor_report

STATIC_ENV = "FAULTLAB_STATIC_FIGURES"

__all__ = ["setup", "show_widget", "panel", "Exercise", "yes", "EXPLAIN_SUMMARY", "CHAPTERS", "Chapter", "course_map", "course_map_markdown",
           "show_course_map", "doctor_report"]


def _static_wanted(static):
    if static is not None:
        return bool(static)
    return os.environ.get(STATIC_ENV, "").strip().lower() in ("1", "yes", "true", "on")


def setup(seed=1, static=None):
    """Fix the chapter's seed and the plotly renderer; returns the seed.

    ``static=True`` (or ``FAULTLAB_STATIC_FIGURES=1``) adds a PNG to every figure for HTML export.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative whole number such as 1, got {seed!r}")
    import plotly.io as pio
    renderer = "plotly_mimetype"
    if _static_wanted(static):
        from ..viz.png import find_browser
        browser = find_browser()
        if browser is None:
            raise ConfigError(f"{STATIC_ENV}=1 needs Chromium for the PNG copies of figures "
                              "(apt-get install chromium, or set BROWSER_PATH); unset it to skip them")
        os.environ.setdefault("BROWSER_PATH", browser)
        _start_kaleido()
        pio.renderers["png"].width = 900
        pio.renderers["png"].scale = 1
        renderer = "plotly_mimetype+png"
    pio.renderers.default = renderer
    return seed


def _start_kaleido():
    """One Chromium for all PNGs of the kernel (about 0.4 s per figure instead of 5)."""
    warnings.filterwarnings("ignore", message="The kopts argument is ignored")
    try:
        import kaleido
        kaleido.start_sync_server(silence_warnings=True)
    except Exception as e:  # noqa: BLE001 - an already running server is fine; others are reported
        if "already" not in str(e).lower():
            raise


def show_widget(widget, text, html=None):
    """Display ``widget`` with ``text`` as its plain-text stand-in (and ``html``, if given).

    JupyterLab draws the live widget; an HTML export or GitHub, which have no kernel and (with
    ``store_widget_state=False``) no widget state, show ``html`` or ``text`` instead of a widget's
    repr. nbval compares both stand-ins (it skips the widget's model id).
    """
    from IPython.display import display
    bundle = widget._repr_mimebundle_()
    bundle["text/plain"] = text
    if html is not None:
        bundle["text/html"] = html
    display(bundle, raw=True)
    return None


def panel(cluster, elect=False, **options):
    """Show a :class:`~faultlab.widgets.FaultPanel` on ``cluster`` (options go to FaultPanel); returns it.

    ``elect=True`` first runs a simulated cluster until it has a leader (at most 5 simulated s), so
    the panel opens on a leader to crash and a figure with some history rather than an empty t = 0.
    """
    from ..widgets import FaultPanel
    if elect:
        _run_until_leader(cluster)
    p = FaultPanel(cluster, **options)
    show_widget(p, f"[fault panel on {len(p.nodes)} nodes ({', '.join(p.nodes)}): crash, pause, restart, "
                   "resume, partition and run time interactively — open this notebook in JupyterLab]")
    return p


def _run_until_leader(world, limit_ms=5000.0, step_ms=10.0):
    if not callable(getattr(world, "run", None)) or not hasattr(world, "now"):
        raise ConfigError("panel(elect=True) runs a simulated cluster until it elects a leader; "
                          f"{type(world).__name__} is not one (real clusters elect on their own)")
    end = world.now + limit_ms
    while world.leader() is None and world.now < end:
        world.run(duration=step_ms)
    if world.leader() is None:
        raise ConfigError(f"no leader after {limit_ms / 1000:g} simulated s: is a majority of the "
                          "cluster up and connected?")
