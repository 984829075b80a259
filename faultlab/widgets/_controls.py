"""Panel controls: the partition builder, network sliders and the simulated clock."""
from __future__ import annotations

import ipywidgets as W

GROUPS = ("A", "B", "C")
SPEEDS = (("0.1×", 0.1), ("0.25×", 0.25), ("0.5×", 0.5), ("1×", 1.0), ("2×", 2.0), ("4×", 4.0))


class PartitionBuilder(W.VBox):
    """Put each node in group A, B or C, then apply the partition or heal it."""

    def __init__(self, nodes, on_apply, on_heal):
        self.pickers = {n: W.Dropdown(options=GROUPS, value="A", description=n,
                                      layout=W.Layout(width="118px"),
                                      style={"description_width": "34px"}) for n in nodes}
        self.apply_button = W.Button(description="apply partition", button_style="warning",
                                     layout=W.Layout(width="130px"))
        self.heal_button = W.Button(description="heal", button_style="success", layout=W.Layout(width="70px"))
        self.apply_button.add_class("faultlab-partition")
        self.heal_button.add_class("faultlab-heal")
        self.apply_button.on_click(lambda _b: on_apply(self.groups()))
        self.heal_button.on_click(lambda _b: on_heal())
        super().__init__([W.HTML("<b>Partition</b> (nodes in different groups cannot talk)"),
                          W.HBox(list(self.pickers.values()), layout=W.Layout(flex_flow="row wrap")),
                          W.HBox([self.apply_button, self.heal_button])])

    def groups(self):
        """The non-empty groups, in A, B, C order."""
        out = [[n for n, p in self.pickers.items() if p.value == g] for g in GROUPS]
        return [g for g in out if g]

    def set(self, assignment):
        """Set pickers from ``{node: 'A'|'B'|'C'}`` (handy in notebooks and tests)."""
        for n, g in assignment.items():
            self.pickers[n].value = g


class NetworkSliders(W.VBox):
    """Message loss and latency for simulated worlds (real networks cannot be tuned this way)."""

    def __init__(self, loss, latency, on_loss, on_latency):
        self.loss = W.FloatSlider(value=loss, min=0.0, max=0.5, step=0.01, description="loss",
                                  continuous_update=False, readout_format=".0%",
                                  layout=W.Layout(width="300px"))
        self.latency = W.FloatRangeSlider(value=latency, min=0.0, max=200.0, step=1.0,
                                          description="latency ms", continuous_update=False,
                                          style={"description_width": "72px"}, layout=W.Layout(width="360px"))
        self.loss.observe(lambda ch: on_loss(ch["new"]), names="value")
        self.latency.observe(lambda ch: on_latency(tuple(ch["new"])), names="value")
        super().__init__([W.HTML("<b>Network</b>"), W.HBox([self.loss, self.latency])])


class Clock(W.HBox):
    """Play/pause, step and speed for simulated time, with the current time."""

    def __init__(self, step_ms, on_play, on_step, speed=1.0):
        self.play = W.ToggleButton(value=False, description="play", icon="play",
                                   layout=W.Layout(width="90px"))
        self.step = W.Button(description=f"step {step_ms:g} ms", icon="step-forward",
                             layout=W.Layout(width="130px"))
        self.speed = W.Dropdown(options=SPEEDS, value=speed if speed in dict(SPEEDS).values() else 1.0,
                                description="speed", layout=W.Layout(width="150px"),
                                style={"description_width": "44px"})
        self.time = W.HTML()
        self.play.add_class("faultlab-play")
        self.step.add_class("faultlab-step")
        self.play.observe(lambda ch: on_play(ch["new"]), names="value")
        self.step.on_click(lambda _b: on_step())
        super().__init__([self.play, self.step, self.speed, self.time],
                         layout=W.Layout(align_items="center"))

    def show(self, now_ms, leader):
        lead = leader or "none"
        self.time.value = (f"<span class='faultlab-clock' style='font-family:monospace;margin-left:10px'>"
                           f"t = {now_ms:,.0f} ms · leader: <b class='faultlab-leader-name'>{lead}</b></span>")
        self.play.description = "pause" if self.play.value else "play"
        self.play.icon = "pause" if self.play.value else "play"
