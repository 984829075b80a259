"""Role/term timeline: who was leader, candidate or follower (or primary/backup,
coordinator/participant state) over time, built from the trace's 'role' records.

Each node gets a lane; a bar per role period, coloured by role and labelled
with its term (epoch). A crash ends the node's role (volatile state is lost),
so crashed periods are blank and shaded red; pauses shade purple; partitions
shade the whole height grey. A role still held is drawn until the figure's end
(the world's "now"), and real clusters' timelines count seconds.
"""
from __future__ import annotations

import plotly.graph_objects as go

from . import _style
from ._index import RolePeriod, index_for  # noqa: F401 - RolePeriod is part of the API

# Role colours keep clear of the fault colours (_style.FAULT_STYLE: red crash, purple pause,
# grey network), so a shaded fault never reads as a role.
_LEAD, _TRY, _FOLLOW = "#1B5E20", "#F9A825", "#90CAF9"
ROLE_COLORS = {"leader": _LEAD, "primary": _LEAD, "coordinator": _LEAD,
               "candidate": _TRY, "looking": _TRY,
               "follower": _FOLLOW, "backup": _FOLLOW, "participant": _FOLLOW, "observer": _FOLLOW,
               "working": _FOLLOW, "prepared": "#26A69A", "uncertain": "#26A69A", "precommitted": "#3949AB",
               "commit": "#43A047", "committed": "#43A047", "abort": "#37474F", "aborted": "#37474F"}
OTHER_ROLE_COLORS = ("#4DB6AC", "#5C6BC0", "#C0CA33", "#0097A7", "#827717", "#4FC3F7")
DARK_ROLES = ("leader", "primary", "coordinator", "commit", "committed", "abort", "aborted", "precommitted")
ORDER = ("leader", "primary", "coordinator", "candidate", "looking", "follower", "backup", "participant")

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


def timeline(trace, start=None, end=None, title=None, height=None, time_unit=None):
    """The role/term timeline of ``trace`` (or a World or real cluster), optionally between
    ``start`` and ``end`` ms.

    A role still held runs to ``end`` (default: the world's current time, else the last
    record). ``time_unit``: 'ms', 's', or None for seconds on real clusters and spans of
    10 s or more, ms otherwise."""
    real = _style.is_real_cluster(trace)
    now = _style.clock_of(trace)
    trace = _style.check_trace(trace, "timeline")
    _style.check_window(start, end, "timeline")
    nodes = _style.server_nodes(trace)
    t_last = trace[-1].t if trace else 0.0
    t0 = start if start is not None else (trace[0].t if trace else 0.0)
    t1 = end if end is not None else max(t_last, now or 0.0, t0 + 1.0)
    t_end = max(t_last, t1)                      # open roles and faults last until the figure's end
    periods = role_periods(trace, end=t_end)
    unit = _style.time_unit(t0, t1, "s" if time_unit is None and real else time_unit)

    yaxis, lane_of = _style.lanes_yaxis(nodes)
    roles = sorted({p.role for p in periods},
                   key=lambda r: (ORDER.index(r) if r in ORDER else len(ORDER), str(r)))
    traces = []
    for role in roles:
        mine = [p for p in periods if p.role == role and p.end >= t0 and p.start <= t1]
        if not mine:
            continue
        # bars cut to the window, so a term label sits in the visible part of its bar
        shown = [(max(p.start, t0), min(p.end, t1)) for p in mine]
        traces.append(dict(
            type="bar", orientation="h", name=str(role), y=[lane_of[p.node] for p in mine],
            base=[a for a, _b in shown], x=[max(b - a, 0.5) for a, b in shown],
            marker=dict(color=role_color(role, roles), line=dict(color="white", width=1)),
            width=0.62, text=[_term_label(p) for p in mine], textposition="inside",
            insidetextanchor="middle",
            textfont=dict(color="white" if role in DARK_ROLES else "#222", size=11),
            hovertext=[f"{p.node}: {p.role}{'' if p.term is None else f' (term {p.term})'}<br>"
                       f"{p.start:.1f}–{p.end:.1f} ms ({p.end - p.start:.0f} ms)" for p in mine],
            hoverinfo="text"))
    shapes, notes = _style.fault_shapes(_style.fault_periods(trace, end=t_end), lane_of, t0, t1, above=True,
                                        label_dy=0.0)
    leaders = [p for p in periods if p.role in ("leader", "primary", "coordinator")]
    terms = sorted({p.term for p in leaders if p.term is not None})
    sub = f"{len(leaders)} leadership period(s)" + (f", terms {_ranges(terms)}" if terms else "")
    layout = _style.layout_dict(
        f"{title or 'Roles and terms'} <span style='font-size:12px;color:#666'>{sub}</span>",
        height or 120 + 60 * max(len(nodes), 1), xaxis=_style.time_axis(t0, t1, unit), yaxis=yaxis,
        shapes=shapes, annotations=notes, barmode="overlay", uniformtext=dict(minsize=9, mode="hide"),
        meta={"time_unit": unit})
    layout["legend"]["title"] = dict(text="role: ")
    _style.with_fault_legend(layout, shapes)
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
