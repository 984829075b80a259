"""Replicated-log grid: each node's log by index, coloured by term.

One row per node, one cell per log entry, labelled with its term. Entries up to
the node's commit index are solid and end at a black bar; entries beyond it are
faded (not yet safe). Where nodes hold different terms at the same index the
cells get a red border: those are the conflicting entries a new leader must
overwrite. Long logs show their last ``max_entries`` indices.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..errors import ConfigError
from . import _style

TERM_PALETTE = ("#A6CEE3", "#B2DF8A", "#FDBF6F", "#CAB2D6", "#80CDC1", "#FFFF99", "#8DD3C7",
                "#BEBADA", "#80B1D3", "#FCCDE5", "#D9D9D9", "#CCEBC5")


def _statuses(status_or_world):
    src = status_or_world
    if hasattr(src, "status") and callable(src.status):
        src = src.status()
    if isinstance(src, dict):
        src = [src]
    if not isinstance(src, (list, tuple)) or not all(isinstance(s, dict) for s in src):
        raise ConfigError("log_grid() needs a cluster/World or a list of node status dicts "
                          f"(world.status()), got {type(status_or_world).__name__}")
    if src and not any("log" in s for s in src):
        raise ConfigError("log_grid(): no node status has a 'log' entry; this works for log-replicating "
                          "protocols whose status() returns 'log' as a list of (term, command)")
    return src


def _term(entry):
    if isinstance(entry, (tuple, list)) and entry:
        return entry[0]
    if isinstance(entry, dict) and "term" in entry:
        return entry["term"]
    if hasattr(entry, "term"):
        return entry.term
    raise ConfigError(f"log_grid(): a log entry should be (term, command); got {entry!r}")


def _command(entry):
    if isinstance(entry, (tuple, list)) and len(entry) > 1:
        return entry[1]
    if isinstance(entry, dict):
        return entry.get("command", entry)
    return getattr(entry, "command", entry)


def conflicts(statuses):
    """Log indices (1-based) where two nodes hold entries of different terms."""
    by_index = {}
    for s in statuses:
        for i, e in enumerate(s.get("log") or [], 1):
            by_index.setdefault(i, set()).add(_term(e))
    return sorted(i for i, terms in by_index.items() if len(terms) > 1)


def log_grid(status_or_world, start=None, end=None, max_entries=60, title=None, height=None):
    """The logs of every node, indices ``start``..``end`` (default: the last ``max_entries``)."""
    statuses = sorted(_statuses(status_or_world), key=lambda s: _style.natural_key(s.get("node", "")))
    for name, v in (("start", start), ("end", end), ("max_entries", max_entries)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"log_grid(): {name} must be a positive log index (int), got {v!r}")
    nodes = [s.get("node", f"node{i}") for i, s in enumerate(statuses, 1)]
    longest = max((len(s.get("log") or []) for s in statuses), default=0)
    hi = min(end or longest, longest) if longest else 0
    lo = start or max(1, hi - max_entries + 1)
    if end is not None and start is not None and end < start:
        raise ConfigError(f"log_grid(): end ({end}) must not come before start ({start})")
    hi = max(hi, lo)
    bad = set(conflicts(statuses))
    terms = sorted({_term(e) for s in statuses for e in (s.get("log") or [])}, key=lambda t: (t is None, t))
    slot = {t: k for k, t in enumerate(terms)}

    cols = list(range(lo, hi + 1))
    z, text, hover, faded = [], [], [], []
    shapes = []
    for row, s in enumerate(statuses):
        log = s.get("log") or []
        commit = s.get("commit_index") or 0
        zr, tr, hr, fr = [], [], [], []
        for i in cols:
            if i <= len(log):
                e = log[i - 1]
                t = _term(e)
                zr.append(slot[t])
                tr.append(f"T{t}")
                state = "committed" if i <= commit else "not committed"
                hr.append(f"{nodes[row]} [{i}] term {t}: {_style.short(_command(e), 80)}<br>{state}"
                          + ("<br><b>conflicts with another node's entry</b>" if i in bad else ""))
                fr.append(1 if i > commit else None)
                if i in bad:
                    shapes.append(dict(type="rect", xref="x", yref="y", x0=i - 0.45, x1=i + 0.45, y0=row - 0.4, y1=row + 0.4,
                                       line=dict(color="#D62728", width=3), layer="above"))
            else:
                zr.append(None)
                tr.append("")
                hr.append("")
                fr.append(None)
        z.append(zr)
        text.append(tr)
        hover.append(hr)
        faded.append(fr)
        if commit and lo - 1 <= commit <= hi:
            shapes.append(dict(type="line", xref="x", yref="y", x0=commit + 0.5, x1=commit + 0.5, y0=row - 0.48, y1=row + 0.48,
                               line=dict(color="#111", width=4), layer="above"))

    n = max(len(terms), 1)
    scale = []
    for k, t in enumerate(terms or [0]):
        c = TERM_PALETTE[(t if isinstance(t, int) else k) % len(TERM_PALETTE)]   # a term keeps its colour
        scale += [[k / n, c], [(k + 1) / n, c]]
    rows = list(range(len(nodes)))
    traces = [dict(type="heatmap", x=cols, y=rows, z=z, text=text, texttemplate="%{text}", hovertext=hover,
                   hoverinfo="text", colorscale=scale, zmin=-0.5, zmax=n - 0.5, showscale=False, xgap=2,
                   ygap=6, textfont=dict(size=11)),
              dict(type="heatmap", x=cols, y=rows, z=faded, hoverinfo="skip", showscale=False,
                   colorscale=[[0, "rgba(255,255,255,0.6)"], [1, "rgba(255,255,255,0.6)"]], xgap=2, ygap=6)]
    labels = []
    for s in statuses:
        note = "" if s.get("state", "up") == "up" else f" ({s['state']})"
        role = f"<br><span style='font-size:10px;color:#666'>{s.get('role') or ''}{note}</span>"
        labels.append(_style.lane_label(s.get("node", ""), nodes) + role)
    span = f"indices {lo}–{hi} of {longest}" if longest else "empty logs"
    extra = f" · {len(bad)} conflicting index(es)" if bad else ""
    xaxis = dict(title=dict(text="log index"), range=[lo - 0.5, hi + 0.5], showgrid=False, zeroline=False)
    if hi - lo < 30:
        xaxis["dtick"] = 1
    layout = _style.layout_dict(
        f"{title or 'Replicated logs'} <span style='font-size:12px;color:#666'>"
        f"{span}; black bar = commit index, faded = not committed{extra}</span>",
        height or 120 + 55 * max(len(nodes), 1), xaxis=xaxis,
        yaxis=dict(tickvals=rows, ticktext=labels, range=[len(nodes) - 0.5, -0.5], showgrid=False,
                   zeroline=False), shapes=shapes)
    layout["margin"]["l"] = 110
    # one unvalidated construction from plain dicts: fast enough for live widgets (tests validate)
    fig = go.Figure(data=traces, layout=layout, _validate=False)
    fig._validate = True
    return fig
