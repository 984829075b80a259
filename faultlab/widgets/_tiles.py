"""One tile per node: who it is, what it thinks it is, and the four fault buttons."""
from __future__ import annotations

import html

import ipywidgets as W

from ..viz._style import node_color

LEADER_ROLES = ("leader", "primary", "coordinator")
STATE_STYLE = {"up": ("#E8F5E9", "up"), "crashed": ("#FDE0E0", "crashed"), "paused": ("#FFF1D6", "paused")}
ACTIONS = ("crash", "restart", "pause", "resume")


class NodeTile(W.VBox):
    """Role, term and state of one node, with crash/restart/pause/resume buttons.

    CSS classes ``faultlab-tile``, ``faultlab-node-<id>``, ``faultlab-leader`` and
    ``faultlab-<state>`` let a browser test (or a reader) find the leader's tile.
    """

    def __init__(self, node, nodes, on_action):
        self.node = node
        self.color = node_color(node, nodes)
        self.info = W.HTML()
        self.buttons = {}
        for action in ACTIONS:
            b = W.Button(description=action, tooltip=f"{action} {node}",
                         layout=W.Layout(width="74px", height="28px", margin="1px"))
            b.add_class(f"faultlab-{action}")
            b.on_click(lambda _b, a=action: on_action(a, node))
            self.buttons[action] = b
        grid = W.GridBox(list(self.buttons.values()),
                         layout=W.Layout(grid_template_columns="repeat(2, 76px)"))
        super().__init__([self.info, grid], layout=W.Layout(
            border=f"2px solid {self.color}", padding="4px", margin="2px", width="170px"))
        self.add_class("faultlab-tile")
        self.add_class(f"faultlab-node-{node}")
        self._classes = set()
        self.show({"node": node, "state": "up", "role": None, "term": None}, leader=False)

    def show(self, status, leader):
        """Redraw from a status dict; ``leader`` marks the cluster's current leader."""
        state = status.get("state", "up")
        role = status.get("role")
        term = status.get("term")
        bg, state_text = STATE_STYLE.get(state, ("#EEEEEE", str(state)))
        star = " ★" if leader else ""
        role_text = html.escape(str(role)) if role else "—"
        term_text = "—" if term is None else html.escape(str(term))
        self.info.value = (
            f"<div style='background:{bg};padding:3px 5px;border-radius:3px;line-height:1.35'>"
            f"<b style='color:{self.color};font-size:15px'>{html.escape(self.node)}</b>"
            f"<span class='faultlab-role' style='font-weight:bold'> {role_text}{star}</span><br>"
            f"term <span class='faultlab-term'>{term_text}</span> · "
            f"<span class='faultlab-state'>{html.escape(state_text)}</span></div>")
        self.buttons["crash"].disabled = state == "crashed"
        self.buttons["restart"].disabled = state != "crashed"
        self.buttons["pause"].disabled = state != "up"
        self.buttons["resume"].disabled = state != "paused"
        wanted = {f"faultlab-{state}"} | ({"faultlab-leader"} if leader else set())
        for c in self._classes - wanted:
            self.remove_class(c)
        for c in wanted - self._classes:
            self.add_class(c)
        self._classes = wanted
        self.layout.border = f"{'4px' if leader else '2px'} solid {self.color}"
        self.role, self.term, self.state, self.is_leader = role, term, state, leader
