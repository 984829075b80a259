"""Role/term timeline: who was leader, candidate or follower (or primary/backup,
coordinator/participant state) over time, built from the trace's 'role' records.

Each node gets a lane; a bar per role period, coloured by role and labelled
with its term (epoch). A crash ends the node's role (volatile state is lost),
so crashed periods are blank and shaded red; pauses shade orange; partitions
shade the whole height.
"""
from __future__ import annotations

import plotly.graph_objects as go

from . import _style
from ._index import RolePeriod, index_for  # noqa: F401 - RolePeriod is part of the API

ROLE_COLORS = {"leader": "#1B5E20", "primary": "#1B5E20", "coordinator": "#1B5E20",
               "candidate": "#F9A825", "follower": "#90CAF9", "backup": "#90CAF9",
               "participant": "#90CAF9", "commit": "#43A047", "committed": "#43A047",
               "abort": "#E53935", "aborted": "#E53935"}
OTHER_ROLE_COLORS = ("#9575CD", "#4DB6AC", "#F06292", "#A1887F", "#FFB74D", "#7986CB")
DARK_ROLES = ("leader", "primary", "coordinator", "commit", "committed", "abort", "aborted")
ORDER = ("leader", "primary", "coordinator", "candidate", "follower", "backup", "participant")

def role_periods(trace, end=None):
    """Each node's role periods ``RolePeriod(node, role, term, start, end)`` from 'role' records."""
    trace = _style.check_trace(trace, "role_periods")
    end = end if end is not None else (trace[-1].t if trace else 0.0)
    out = index_for(trace).role_periods(end)
    return sorted(out, key=lambda p: (p.start, _style.natural_key(p.node)))


def role_color(role, roles_seen=()):
    if role in ROLE_COLORS:
        return ROLE_COLORS[role]
    others = sorted(r for r in set(roles_seen) if r not in ROLE_COLORS)
    i = others.index(role) if role in others else 0
    return OTHER_ROLE_COLORS[i % len(OTHER_ROLE_COLORS)]


def timeline(trace, start=None, end=None, title=None, height=None):
    """The role/term timeline of ``trace`` (or a World), optionally between ``start`` and ``end`` ms."""
    trace = _style.check_trace(trace, "timeline")
    _style.check_window(start, end, "timeline")
    nodes = _style.server_nodes(trace)
    t_end = trace[-1].t if trace else 0.0
    periods = role_periods(trace, end=t_end)
    t0 = start if start is not None else (trace[0].t if trace else 0.0)
    t1 = end if end is not None else max(t_end, t0 + 1.0)

    yaxis, lane_of = _style.lanes_yaxis(nodes)
    roles = sorted({p.role for p in periods},
                   key=lambda r: (ORDER.index(r) if r in ORDER else len(ORDER), str(r)))
    traces = []
    for role in roles:
        mine = [p for p in periods if p.role == role and p.end >= t0 and p.start <= t1]
        if not mine:
            continue
        traces.append(dict(
            type="bar", orientation="h", name=str(role), y=[lane_of[p.node] for p in mine],
            base=[p.start for p in mine], x=[max(p.end - p.start, 0.5) for p in mine],
            marker=dict(color=role_color(role, roles), line=dict(color="white", width=1)),
            width=0.62, text=[_term_label(p) for p in mine], textposition="inside",
            insidetextanchor="middle",
            textfont=dict(color="white" if role in DARK_ROLES else "#222", size=11),
            hovertext=[f"{p.node}: {p.role}{'' if p.term is None else f' (term {p.term})'}<br>"
                       f"{p.start:.1f}–{p.end:.1f} ms ({p.end - p.start:.0f} ms)" for p in mine],
            hoverinfo="text"))
    shapes, notes = _style.fault_shapes(_style.fault_periods(trace, end=t_end), lane_of, t0, t1, above=True)
    leaders = [p for p in periods if p.role in ("leader", "primary", "coordinator")]
    terms = sorted({p.term for p in leaders if p.term is not None})
    sub = f"{len(leaders)} leadership period(s)" + (f", terms {_ranges(terms)}" if terms else "")
    layout = _style.layout_dict(
        f"{title or 'Roles and terms'} <span style='font-size:12px;color:#666'>{sub}</span>",
        height or 120 + 60 * max(len(nodes), 1),
        xaxis=dict(title=dict(text="time (ms)"), range=[t0, t1], showgrid=True), yaxis=yaxis,
        shapes=shapes, annotations=notes, barmode="overlay", uniformtext=dict(minsize=9, mode="hide"))
    layout["legend"]["title"] = dict(text="role: ")
    # one unvalidated construction from plain dicts: fast enough for live widgets (tests validate)
    fig = go.Figure(data=traces, layout=layout, _validate=False)
    fig._validate = True
    return fig


def _term_label(p):
    return "" if p.term is None else f"T{p.term}"


def _ranges(nums):
    if len(nums) <= 6:
        return ", ".join(map(str, nums))
    return f"{nums[0]}–{nums[-1]}"
