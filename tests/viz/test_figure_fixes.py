"""Figures read at a glance: fault colours no role uses, labels inside the plot, bars until now,
seconds on long and real-cluster axes."""
import colorsys

import pytest

import toy_leader

from faultlab import ConfigError, register_workload
from faultlab.protocols import raft
from faultlab.trace import Record
from faultlab.viz import availability, spacetime, timeline
from faultlab.viz._style import FAULT_STYLE
from faultlab.viz.timeline import OTHER_ROLE_COLORS, ROLE_COLORS

# A lower bound on a 10 px label's width: 6 px a character on a 1000 px wide plot. A label that
# crosses the axis's edge by this much is cut off in any figure at least that wide.
CHAR_PX, PLOT_PX = 6.0, 1000.0


def _hsv(color):
    if color.startswith("#"):
        rgb = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    else:                                                    # rgba(r, g, b, a)
        rgb = [float(v) / 255 for v in color[color.index("(") + 1:].split(",")[:3]]
    return colorsys.rgb_to_hsv(*rgb)


def _tell_apart(a, b):
    """Two colours a reader tells apart: hues at least 30° apart, or one grey and one colourful."""
    (ha, sa, _va), (hb, sb, _vb) = _hsv(a), _hsv(b)
    if sa < 0.15 or sb < 0.15:
        return (sa < 0.15) != (sb < 0.15) and max(sa, sb) >= 0.25
    gap = abs(ha - hb) * 360
    return min(gap, 360 - gap) >= 30


def test_the_helper_tells_the_old_pause_orange_from_nothing_it_should_not():
    assert not _tell_apart("rgba(255, 165, 0, 0.35)", ROLE_COLORS["candidate"]), "the old pause = candidate"
    assert _tell_apart("#1B5E20", "#8E24AA") and not _tell_apart("#616161", "#9E9E9E")


@pytest.mark.parametrize("kind", sorted(FAULT_STYLE))
def test_each_fault_colour_differs_from_every_role_colour(kind):
    style = FAULT_STYLE[kind]
    for role_color in set(ROLE_COLORS.values()) | set(OTHER_ROLE_COLORS):
        for fault_color in (style.color, style.fill):
            assert _tell_apart(fault_color, role_color), f"{kind} {fault_color} looks like role {role_color}"


def test_crash_pause_and_partition_differ_from_each_other():
    kinds = ("crash", "pause", "partition")
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            assert _tell_apart(FAULT_STYLE[a].color, FAULT_STYLE[b].color), (a, b)


@pytest.fixture(scope="module")
def edge_world():
    """Faults of every kind, the last ones in the final 40 ms before the figures end."""
    w = toy_leader.build(5, seed=3, clients=2)
    w.run(until=400)
    w.partition(["n1", "n2"], ["n3", "n4", "n5"])
    w.run(until=700)
    w.heal()
    w.pause("n3")
    w.run(until=1180)
    w.crash("n4")
    w.run(until=1205)
    w.pause("n5")
    w.run(until=1220)
    return w


def _legend_names(fig):
    return {s.name for s in fig.layout.shapes if s.showlegend and s.legend == "legend2"}


def test_timeline_and_spacetime_colour_each_fault_kind_and_list_it_in_the_fault_legend(edge_world):
    for fig in (timeline(edge_world), spacetime(edge_world, start=300, end=1220)):
        assert _legend_names(fig) == {"crash", "pause", "partition"}
        assert fig.layout.legend2.title.text == "fault"
        for s in fig.layout.shapes:
            assert s.fillcolor == FAULT_STYLE[s.name].fill
        fills = {s.name: s.fillcolor for s in fig.layout.shapes}
        assert len(set(fills.values())) == 3
        roles = {tr.marker.color for tr in fig.data if tr.type == "bar"}
        assert not roles & set(fills.values())


def _label_extent(x, anchor, text, t0, t1, size=10):
    width = len(text) * CHAR_PX * size / 10 / PLOT_PX * (t1 - t0)
    return {"left": (x, x + width), "right": (x - width, x), "center": (x - width / 2, x + width / 2)}[anchor]


def _assert_inside(fig, t0, t1):
    assert list(fig.layout.xaxis.range) == [t0, t1]
    for a in fig.layout.annotations:
        if a.xref != "x":
            continue
        lo, hi = _label_extent(a.x, a.xanchor or "center", a.text, t0, t1, (a.font.size or 12))
        assert t0 <= lo and hi <= t1, f"label {a.text!r} spans {lo:.0f}–{hi:.0f} ms outside {t0}–{t1} ms"


def test_fault_labels_stay_inside_the_plot_even_at_its_right_edge(edge_world):
    t1 = edge_world.now
    fig = timeline(edge_world)
    _assert_inside(fig, 0.0, t1)
    assert {a.text for a in fig.layout.annotations} >= {"crashed", "paused"}
    edge = [a for a in fig.layout.annotations if a.text in ("crashed", "paused") and a.xanchor == "right"]
    assert edge, "the labels of the last faults are pulled left of the right edge"
    st = spacetime(edge_world, start=300, end=t1)
    _assert_inside(st, 300, t1)


def test_role_change_labels_near_an_edge_lean_inwards():
    w = raft.build(n=3, seed=0)
    w.run(until=1000)
    first = next(r for r in w.trace if r.kind == "role" and r.info.get("role") == "leader")
    late = spacetime(w, start=first.t - 500, end=first.t + 2)
    early = spacetime(w, start=first.t - 2, end=first.t + 500)
    for fig, side in ((late, "top left"), (early, "top right")):
        roles = next(tr for tr in fig.data if tr.name == "role change")
        i = list(roles.text).index(f"leader T{first.info['term']}")
        assert roles.textposition[i] == side


def test_availability_labels_stay_inside_the_plot():
    w = raft.build(n=3, seed=2)
    w.add_clients(2, register_workload(), timeout=300, think=(5, 30))
    w.run(until=1000)
    w.crash(w.leader())
    w.run(until=1030)
    fig = availability(w.history, trace=w.trace)
    t1 = fig.layout.xaxis2.range[1]
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.endswith("crashed") for t in texts) and any(t.startswith("no write for") for t in texts)
    for a in fig.layout.annotations:
        lo, hi = _label_extent(a.x, a.xanchor or "center", a.text, 0.0, t1, a.font.size or 12)
        assert 0.0 <= lo and hi <= t1, f"label {a.text!r} spans {lo:.0f}–{hi:.0f} ms outside 0–{t1:.0f} ms"
    assert _legend_names(fig) == {"crash"}


def test_bars_and_faults_run_until_the_worlds_current_time():
    w = raft.build(n=3, seed=0)
    w.run(until=1000)
    for n in w.nodes:
        w.pause(n)                                # nobody records anything until now
    w.run(until=1250)
    assert w.trace[-1].t < w.now == 1250, "precondition: the trace ends before now"
    for fig in (timeline(w), timeline(w.trace, end=w.now), timeline(w.trace, start=800, end=w.now)):
        ends = [b + x for tr in fig.data for b, x in zip(tr.base, tr.x)]
        assert max(ends) == pytest.approx(1250)
        assert sum(1 for e in ends if e == pytest.approx(1250)) == 3, "every node's role lasts until now"
        pauses = [s for s in fig.layout.shapes if s.name == "pause"]
        assert len(pauses) == 3 and all(s.x1 == pytest.approx(1250) for s in pauses)
    assert spacetime(w).layout.xaxis.range[1] == 1250


def test_bars_are_cut_to_the_window_so_their_labels_show():
    w = raft.build(n=3, seed=0)
    w.run(until=3000)
    fig = timeline(w, start=2000, end=2500)
    for tr in fig.data:
        assert all(2000 <= b and b + x <= 2500 + 1e-9 for b, x in zip(tr.base, tr.x))


def _real_like_trace():
    """Records as a real cluster keeps them: ms since the cluster started, faults seconds apart."""
    out = [Record(float(t), "start", n, {}) for t, n in ((800, "n1"), (810, "n2"), (820, "n3"))]
    out += [Record(6200.0, "role", "n1", {"role": "leader", "term": 1})]
    out += [Record(6210.0 + i, "role", n, {"role": "follower", "term": 1}) for i, n in enumerate(("n2", "n3"))]
    out += [Record(12000.0, "crash", "n1", {"signal": "SIGKILL"}),
            Record(12400.0, "role", "n2", {"role": "candidate", "term": 2}),
            Record(14900.0, "role", "n2", {"role": "leader", "term": 2}),
            Record(19000.0, "restart", "n1", {}),
            Record(21500.0, "role", "n1", {"role": "follower", "term": 2})]
    return out


def test_a_long_real_cluster_like_trace_gets_a_seconds_axis():
    fig = timeline(_real_like_trace(), start=11000, end=26000)
    axis = fig.layout.xaxis
    assert axis.title.text == "time (s)" and fig.layout.meta["time_unit"] == "s"
    assert list(axis.ticktext) == [f"{s} s" for s in (12, 14, 16, 18, 20, 22, 24, 26)]
    assert list(axis.tickvals) == [s * 1000.0 for s in (12, 14, 16, 18, 20, 22, 24, 26)]
    assert all(11000 <= v <= 26000 for v in axis.tickvals)
    crash = next(s for s in fig.layout.shapes if s.name == "crash")
    assert (crash.x0, crash.x1) == (12000, 19000), "the data stays in ms; only the labels count seconds"


def test_short_simulated_figures_keep_full_ms_labels(edge_world):
    for fig in (timeline(edge_world), spacetime(edge_world),
                availability(edge_world.history, trace=edge_world.trace)):
        titles = [ax.title.text for ax in fig.select_xaxes() if ax.title.text]
        assert titles == ["time (ms)"]
        assert fig.layout.meta["time_unit"] == "ms"
        assert fig.layout.xaxis.exponentformat == "none", "12,000 ms, never 12k"
    assert timeline(_real_like_trace(), start=11000, end=26000, time_unit="ms").layout.xaxis.title.text \
        == "time (ms)"
    assert timeline(edge_world, time_unit="s").layout.xaxis.ticktext[-1] == "1.2 s"
    with pytest.raises(ConfigError, match="time_unit must be 'ms', 's' or None"):
        timeline(edge_world, time_unit="min")



def _heads_by_kind(fig):
    """message type -> the set of head symbols its delivered arrows end in (read from the hover text)."""
    out = {}
    for tr in fig.data:
        if not tr.name.startswith("from "):
            continue
        for text, symbol, size in zip(tr.text, tr.marker.symbol, tr.marker.size):
            if size:                                     # the delivery end of an arrow
                out.setdefault(text.split()[0], set()).add(symbol)
    return out


def test_message_kinds_end_in_heads_of_their_own_that_stay_put_while_the_trace_grows():
    w = raft.build(n=3, seed=0)
    w.run(until=600)
    early = _heads_by_kind(spacetime(w, start=0, end=600, max_messages=10_000))
    w.crash(w.leader())
    w.run(until=2000)
    late_fig = spacetime(w, start=600, end=2000, max_messages=10_000)
    late = _heads_by_kind(late_fig)
    assert {"RequestVote", "VoteReply", "AppendEntries", "AppendReply"} <= set(early) & set(late)
    assert all(len(heads) == 1 for heads in (*early.values(), *late.values())), "one head per type"
    assert len({next(iter(h)) for h in late.values()}) == len(late), "no two types share a head"
    assert all(early[k] == late[k] for k in early if k in late), "a type keeps its head"
    legend = {tr.name: tr.marker.symbol for tr in late_fig.data if tr.legend == "legend3"}
    assert {k: {v} for k, v in legend.items()} == late
    assert "diamond" not in {next(iter(h)) for h in late.values()}, "diamonds mark role changes"
