"""FaultPanel: click faults into a running cluster and watch it recover.

One tile per node (role, term, state, crash/restart/pause/resume), a partition
builder, network sliders (simulated worlds only), a clock for simulated time,
a live figure and an event log. Faults go through the cluster's own methods,
so on a ``World`` they land in the trace like any scripted fault and the run
replays from ``World(seed)`` plus ``world.fault_schedule()``.

Simulated time advances from an asyncio task in small chunks (the kernel's
event loop keeps serving button clicks in between); real clusters are polled
from a worker thread so a slow ``status()`` never freezes the notebook.
"""
from __future__ import annotations

import asyncio
import html
import time

import ipywidgets as W
import plotly.graph_objects as go

from ..errors import ConfigError
from ..trace import Record, message_type
from . import _live
from ._controls import Clock, NetworkSliders, PartitionBuilder
from ._tiles import LEADER_ROLES, NodeTile

LOG_LINES = 12
REQUIRED = ("nodes", "status", "leader", "crash", "restart", "pause", "resume", "partition", "heal")


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return None
        return loop if loop.is_running() else None


class FaultPanel(W.VBox):
    """A fault-injection panel for a simulated ``World`` or a real cluster.

    ``figure``: 'spacetime', 'timeline', 'log_grid', 'availability' or a function
    ``(cluster, start_ms, end_ms) -> Figure``; ``window``: ms of history shown;
    ``step``: ms per step click; ``speed``: simulated seconds per wall second;
    ``poll``: seconds between status polls of a real cluster; ``width``: figure width
    in px (None lets plotly size it, which in JupyterLab often means a narrow 700 px).
    """

    def __init__(self, cluster, figure=None, window=1500.0, step=100.0, speed=1.0, chunk=0.1,
                 refresh=0.4, poll=1.0, max_messages=300, kinds=None, width=960):
        missing = [m for m in REQUIRED if not hasattr(cluster, m)]
        if missing:
            raise ConfigError(f"FaultPanel needs a cluster (a faultlab World or a real cluster); "
                              f"{type(cluster).__name__} lacks {', '.join(missing)}")
        for name, v in (("window", window), ("step", step), ("speed", speed), ("chunk", chunk),
                        ("refresh", refresh), ("poll", poll)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ConfigError(f"FaultPanel: {name} must be a positive number, got {v!r}")
        self.cluster = cluster
        self.simulated = _live.is_simulated(cluster)
        self.figure_kind = _live.check_figure(figure or ("spacetime" if self.simulated else "timeline"))
        self.window, self.step_ms, self.chunk, self.refresh_s, self.poll_s = window, step, chunk, refresh, poll
        self.max_messages, self.kinds, self.width = max_messages, kinds, width
        self.nodes = list(cluster.nodes)
        self.events: list = []          # (t_ms, text, injected) of everything done from the panel
        # Real clusters keep their own trace (faults and polled role changes); for a cluster
        # without one the panel records what it injects and what polling shows.
        self._own_trace = not isinstance(getattr(cluster, "trace", None), list)
        self.observed: list = [] if self._own_trace else cluster.trace
        self._t0 = time.monotonic()
        self._last_status: dict = {}
        self._task = None
        self._poller = None
        self._last_draw = 0.0
        self._redraw_pending = False
        self.statuses: list = []
        self.leader = None

        self.tiles = {n: NodeTile(n, self.nodes, self._on_action) for n in self.nodes}
        self.partition = PartitionBuilder(self.nodes, self._on_partition, self._on_heal)
        self.clock = Clock(step, self._on_play, self._on_step, speed)
        self.figure = None               # created with its first content (see redraw)
        self.figure_box = W.VBox(layout=W.Layout(min_height="300px", width="100%"))
        self.figure_picker = W.Dropdown(
            options=list(_live.FIGURES) if not callable(self.figure_kind) else [self.figure_kind.__name__],
            value=self.figure_kind if not callable(self.figure_kind) else self.figure_kind.__name__,
            description="figure", layout=W.Layout(width="220px"), style={"description_width": "44px"})
        self.figure_picker.observe(self._on_figure, names="value")
        self.message_picker = W.Dropdown(options=[("all messages", "")], value="", description="messages",
                                         layout=W.Layout(width="270px"), style={"description_width": "74px"})
        self.message_picker.observe(self._on_message_kind, names="value")
        self._types, self._scanned = set(), 0
        self.event_log = W.HTML()
        self.event_log.add_class("faultlab-event-log")
        parts = [W.HBox(list(self.tiles.values()), layout=W.Layout(flex_flow="row wrap")), self.partition]
        if self.simulated:
            self.network = NetworkSliders(self._current_loss(), self._current_latency(),
                                          self._on_loss, self._on_latency)
            parts += [self.network, W.HBox([self.clock, self.figure_picker, self.message_picker],
                                           layout=W.Layout(flex_flow="row wrap"))]
        else:
            self.network = None
            self.clock.time.value = ""
            parts += [W.HBox([W.HTML("<i>real cluster: status polled every "
                                     f"{poll:g} s</i>"), self.figure_picker])]
        parts += [self.figure_box, W.HTML("<b>Injected</b>"), self.event_log]
        super().__init__(parts)
        self.add_class("faultlab-panel")
        self._write_log()
        if self.simulated:
            cluster.start()
            self.refresh(force=True)
        else:
            self._start_polling()

    # -- time --------------------------------------------------------------
    @property
    def now(self):
        """Milliseconds: the world's simulated time, or time since the panel opened."""
        if self.simulated or not self._own_trace:
            return self.cluster.now
        return (time.monotonic() - self._t0) * 1000.0

    def advance(self, ms):
        """Run simulated time forward by ``ms`` and redraw (what play and step do)."""
        if not self.simulated:
            raise ConfigError("advance() is for simulated worlds; a real cluster runs on its own clock")
        self.cluster.run(duration=ms)
        self.refresh(force=True)

    def play(self):
        """Start advancing simulated time in the background (needs a running event loop)."""
        self.clock.play.value = True

    def stop(self):
        self.clock.play.value = False

    def _on_play(self, playing):
        self.clock.show(self.now, self.leader)
        if not playing and self.simulated:
            self.refresh(force=True)          # play redraws at most every `refresh` s: catch up now
        if playing and (self._task is None or self._task.done()):
            loop = _running_loop()
            if loop is None:
                self.clock.play.value = False
                self._note("play needs a running event loop (it runs in Jupyter); use step instead")
                return
            self._task = loop.create_task(self._play_loop())

    async def _play_loop(self):
        try:
            while self.clock.play.value:
                started = time.monotonic()
                sim_ms = self.clock.speed.value * self.chunk * 1000.0
                self.cluster.run(duration=sim_ms)
                self.refresh()
                spent = time.monotonic() - started
                await asyncio.sleep(max(0.005, self.chunk - spent))
        except Exception as e:  # noqa: BLE001 - shown to the reader instead of vanishing in a task
            self.clock.play.value = False
            self._note(f"stopped: {type(e).__name__}: {e}")

    def _on_step(self):
        if self.simulated:
            self.advance(self.step_ms)
        else:
            self._poll_soon()

    # -- faults --------------------------------------------------------------
    def _apply(self, text, fn, *args):
        """Run a fault; on a real cluster in a worker thread so the kernel stays responsive."""
        if self.simulated:
            self._done(text, fn, args)
            return None
        loop = _running_loop()
        if loop is None:
            self._done(text, fn, args)
            return None
        fut = loop.run_in_executor(None, self._call, fn, args)
        fut.add_done_callback(lambda f: self._after(text, f))
        return fut

    @staticmethod
    def _call(fn, args):
        try:
            return fn(*args), None
        except Exception as e:  # noqa: BLE001 - reported in the event log
            return None, e

    def _after(self, text, fut):
        result, error = fut.result()
        self._report(text, result, error)
        self._poll_soon()

    def _poll_soon(self):
        """Ask a real cluster for its status in a worker thread, then redraw (a probe of a
        crashed or paused server can take seconds; the kernel must not wait for it)."""
        loop = _running_loop()
        if loop is None:
            self.refresh(force=True)
            return
        fut = loop.run_in_executor(None, self._call, self.cluster.status, ())

        def done(f):
            statuses, error = f.result()
            if error is not None:
                self._note(f"status failed: {error}")
            else:
                self.refresh(force=True, statuses=statuses)
        fut.add_done_callback(done)

    def _done(self, text, fn, args):
        result, error = self._call(fn, args)
        self._report(text, result, error)
        self.refresh(draw=False)
        self._request_redraw()

    def _request_redraw(self):
        """Redraw soon: right away without an event loop, else once the click handler returns
        (so a burst of clicks, or a click followed by a step, costs one redraw)."""
        loop = _running_loop()
        if loop is None:
            self.redraw()
        elif not self._redraw_pending:
            self._redraw_pending = True
            loop.call_soon(self._deferred_redraw)

    def _deferred_redraw(self):
        if self._redraw_pending:
            self.redraw()

    def _report(self, text, result, error):
        if error is not None:
            self._note(f"could not {text}: {error}")
        elif result is False:
            self._note(f"{text}: nothing to do (already in that state)")
        else:
            self._note(text, injected=True)
            if self._own_trace and not self.simulated:
                self._observe(Record(self.now, text.split()[0], text.split()[1] if " " in text else None, {}))

    def _on_action(self, action, node):
        fn = getattr(self.cluster, action)
        self._apply(f"{action} {node}", fn, node)

    def crash(self, node):
        """Same as clicking the node's crash button."""
        self._on_action("crash", node)

    def _on_partition(self, groups):
        if len(groups) < 2:
            self._note("partition: put the nodes into at least two groups first")
            return
        label = " | ".join(",".join(g) for g in groups)
        self._apply(f"partition {label}", self.cluster.partition, *groups)

    def _on_heal(self):
        self._apply("heal", self.cluster.heal)

    def _on_loss(self, p):
        self._apply(f"loss {p:.0%}", self.cluster.set_loss, p)

    def _on_latency(self, lo_hi):
        self._apply(f"latency {lo_hi[0]:g}–{lo_hi[1]:g} ms", self.cluster.set_latency, tuple(lo_hi))

    def _current_loss(self):
        return float(getattr(getattr(self.cluster, "network", None), "loss", 0.0) or 0.0)

    def _current_latency(self):
        lat = getattr(getattr(self.cluster, "network", None), "latency", None)
        lo, hi = getattr(lat, "lo", None), getattr(lat, "hi", None)
        if lo is None:
            lo = hi = getattr(lat, "ms", 1.0)
        return (min(float(lo), 200.0), min(float(hi), 200.0))

    # -- looking -------------------------------------------------------------
    def refresh(self, force=False, statuses=None, draw=True):
        """Redraw tiles, clock and (at most every ``refresh`` s unless forced) the figure."""
        if statuses is None:
            statuses = self.cluster.status()
        self.statuses = statuses
        self.leader = self._leader(statuses)
        for s in statuses:
            tile = self.tiles.get(s.get("node"))
            if tile is not None:
                tile.show(s, leader=s.get("node") == self.leader)
        if self.simulated:
            self.clock.show(self.now, self.leader)
        elif self._own_trace:
            self._observe_statuses(statuses)
        wall = time.monotonic()
        if draw and (force or wall - self._last_draw >= self.refresh_s):
            self.redraw()

    def _leader(self, statuses):
        if self.simulated:
            return self.cluster.leader()
        best = None
        for s in statuses:
            if s.get("state", "up") == "up" and s.get("role") in LEADER_ROLES:
                if best is None or (s.get("term") or 0) > (best.get("term") or 0):
                    best = s
        return best["node"] if best else None

    def redraw(self):
        """Rebuild the live figure for the current window and push it to the browser."""
        self._redraw_pending = False
        self._last_draw = time.monotonic()
        trace = self.cluster.trace if self.simulated else self.observed
        self._learn_message_types(trace)
        try:
            fig = _live.draw(self.figure_kind, trace, self.cluster, self.now, self.window,
                             self.max_messages, self.kinds, self.statuses)
        except Exception as e:  # noqa: BLE001 - a figure error must not break the panel
            self._note(f"figure failed: {type(e).__name__}: {e}")
            return
        if self.width:
            fig.layout.width = self.width
        if self.figure is None:
            # Born with its content: a FigureWidget filled before the browser first renders it
            # can come up with a half-applied layout in JupyterLab.
            self.figure = go.FigureWidget(fig, _validate=False)   # figures arrive already built
            self.figure_box.children = [self.figure]
        else:
            _live.push(self.figure, fig)

    def _learn_message_types(self, trace):
        """Offer every message type seen so far in the messages filter (reads only new records)."""
        new = {message_type(r.info.get("msg")) for r in trace[self._scanned:] if r.kind == "send"}
        self._scanned = len(trace)
        if new - self._types:
            self._types |= new
            self.message_picker.options = [("all messages", "")] + [(t, t) for t in sorted(self._types)]

    def _on_message_kind(self, change):
        self.kinds = {change["new"]} if change["new"] else None
        self.refresh(force=True)

    def _on_figure(self, change):
        if not callable(self.figure_kind):
            self.figure_kind = change["new"]
            self.refresh(force=True)

    # -- real clusters: polling in the background ------------------------------
    def _start_polling(self):
        loop = _running_loop()
        if loop is None:
            self.refresh(force=True)     # no event loop (a script or a test): poll on demand
            return
        self._poller = loop.create_task(self._poll_loop())

    async def _poll_loop(self):
        loop = asyncio.get_running_loop()
        while True:
            result, error = await loop.run_in_executor(None, self._call, self.cluster.status, ())
            if error is not None:
                self._note(f"status failed: {error}")
            else:
                self.refresh(statuses=result)
            await asyncio.sleep(self.poll_s)

    def _observe_statuses(self, statuses):
        for s in statuses:
            key = (s.get("state"), s.get("role"), s.get("term"))
            if self._last_status.get(s.get("node")) != key:
                self._last_status[s.get("node")] = key
                self._observe(Record(self.now, "role", s.get("node"), {"role": s.get("role"),
                                                                       "term": s.get("term")}))

    def _observe(self, record):
        self.observed.append(record)

    def close(self):
        """Stop background tasks and close the widgets."""
        for task in (getattr(self, "_task", None), getattr(self, "_poller", None)):
            if task is not None:
                task.cancel()
        if hasattr(self, "clock"):
            self.clock.play.value = False
        super().close()

    # -- event log -----------------------------------------------------------
    def _note(self, text, injected=False):
        self.events.append((round(self.now, 3), text, injected))
        self._write_log()

    def _write_log(self):
        lines = [f"t={t:>9,.1f} ms  {'⚡ ' if inj else '   '}{html.escape(text)}"
                 for t, text, inj in self.events[-LOG_LINES:]]
        body = "\n".join(lines) or "(nothing injected yet: click a button above)"
        self.event_log.value = (f"<pre style='font-size:12px;line-height:1.3;max-height:16em;overflow:auto;"
                          f"margin:0'>{body}</pre>")
