"""Figures: what they draw must match the trace they were given."""
import json

import pytest

import toy_leader  # noqa: E402

from faultlab import ConfigError, History  # noqa: E402
from faultlab.viz import (availability, conflicts, fault_periods, log_grid, role_periods,  # noqa: E402
                          spacetime, timeline, unavailability_windows)
from faultlab.viz._index import TraceIndex  # noqa: E402
from faultlab.viz._style import FAULT_COLORS  # noqa: E402


@pytest.fixture(scope="module")
def world():
    w = toy_leader.build(5, seed=3, clients=2)
    w.run(until=600)
    w.crash("n1")
    w.run(until=1200)
    w.partition(["n1", "n2", "n3"], ["n4", "n5"])
    w.run(until=1600)
    w.heal()
    w.pause("n3")
    w.run(until=1900)
    w.resume("n3")
    w.restart("n1")
    w.run(until=2400)
    return w


def _window_messages(trace, start, end):
    sends = {r.info["id"]: r for r in trace if r.kind == "send"}
    return [(sends[r.info["id"]], r) for r in trace if r.kind in ("deliver", "drop") and start <= r.t <= end
            and sends[r.info["id"]].t <= end and r.info["id"] in sends
            and not (sends[r.info["id"]].node.startswith("c") or r.node.startswith("c"))]


def test_spacetime_draws_one_arrow_per_delivery_and_marks_drops(world):
    fig = spacetime(world, start=1100, end=1400, max_messages=10_000)
    expected = _window_messages(world.trace, 1100, 1400)
    delivered = sum(1 for _s, r in expected if r.kind == "deliver")
    dropped = sum(1 for _s, r in expected if r.kind == "drop")
    assert dropped > 0, "the partition and the crash must drop messages in this window"
    arrows = sum(sum(1 for x in tr.x if x is None) for tr in fig.data if tr.name.startswith("from "))
    drop_trace = next(tr for tr in fig.data if tr.name == "dropped")
    assert arrows == delivered
    assert sum(1 for x in drop_trace.x if x is None) == dropped
    assert any("partition" in t for t in drop_trace.text) and any("node down" in t for t in drop_trace.text)
    assert fig.layout.meta["messages_total"] == delivered + dropped


def test_spacetime_filters_kinds_nodes_and_downsamples(world):
    all_fig = spacetime(world, start=0, end=2400, max_messages=50)
    assert all_fig.layout.meta["messages_shown"] == 50
    assert "50 of" in all_fig.layout.title.text
    none = spacetime(world, start=0, end=2400, kinds={"no-such-kind"})
    assert none.layout.meta["messages_total"] == 0
    two = spacetime(world, start=0, end=500, nodes=["n2", "n3"], max_messages=10_000)
    assert list(two.layout.yaxis.tickvals) == [0, 1]
    with_clients = spacetime(world, start=0, end=500, clients=True, max_messages=10_000)
    assert len(with_clients.layout.yaxis.tickvals) == 7
    labels = with_clients.layout.yaxis.ticktext
    assert "#888888" in labels[5] and "c1" in labels[5], "client lanes are grey, not a node's colour"
    assert "#888888" not in labels[0]
    assert with_clients.layout.meta["messages_total"] > spacetime(world, start=0, end=500).layout.meta[
        "messages_total"]


def test_spacetime_shades_crash_and_partition(world):
    fig = spacetime(world, start=500, end=2000)
    lane_bands = [s for s in fig.layout.shapes if s.yref == "y"]
    full = [s for s in fig.layout.shapes if s.yref == "paper"]
    crash = next(s for s in lane_bands if s.x0 == 600)
    assert crash.x1 == 2000 - 100 and crash.y0 < 0 < crash.y1        # n1 is lane 0, restarted at 1900
    assert [(s.x0, s.x1) for s in full] == [(1200, 1600)]
    assert any(a.text.startswith("partition n1,n2,n3 | n4,n5") for a in fig.layout.annotations)


def test_spacetime_is_deterministic():
    figs = []
    for _ in range(2):
        w = toy_leader.build(5, seed=11)
        w.run(until=400)
        w.crash("n2")
        w.run(until=700)
        figs.append(json.dumps(spacetime(w).to_plotly_json(), sort_keys=True, default=str))
    assert figs[0] == figs[1]


def test_spacetime_bad_input_says_what_to_do(world):
    with pytest.raises(ConfigError, match="needs a trace"):
        spacetime(42)
    with pytest.raises(ConfigError, match="must come after its start"):
        spacetime(world, start=500, end=100)
    with pytest.raises(ConfigError, match="no node called 'zz'"):
        spacetime(world, nodes=["zz"])
    with pytest.raises(ConfigError, match="max_messages"):
        spacetime(world, max_messages=0)


def test_role_periods_end_at_crash_and_timeline_draws_them(world):
    periods = role_periods(world.trace)
    n1 = [p for p in periods if p.node == "n1"]
    assert any(p.end == 600 and p.role == "leader" for p in n1)
    assert not any(p.start < 1900 < p.end for p in n1), "n1 has no role while crashed"
    fig = timeline(world)
    bars = {tr.name: len(tr.x) for tr in fig.data}
    assert bars == {role: sum(1 for p in periods if p.role == role) for role in bars}
    assert set(bars) == {"leader", "follower"}
    leader = next(tr for tr in fig.data if tr.name == "leader")
    assert all(t.startswith("T") for t in leader.text)
    assert any(s.fillcolor == FAULT_COLORS["pause"] for s in fig.layout.shapes), "the pause is shaded"
    with pytest.raises(ConfigError, match="needs a trace"):
        timeline({"not": "a trace"})


def test_node_colours_agree_across_figures(world):
    a = spacetime(world).layout.yaxis.ticktext
    b = timeline(world).layout.yaxis.ticktext
    c = log_grid(world).layout.yaxis.ticktext
    assert list(a) == list(b)
    assert [t.split("<br>")[0] for t in c] == list(a)


def test_trace_index_is_incremental_and_matches_a_fresh_scan(world):
    partial = world.trace[:len(world.trace) // 2]
    grown = list(partial)
    idx = TraceIndex(grown).update()
    grown.extend(world.trace[len(partial):])
    idx.update()
    fresh = TraceIndex(list(world.trace)).update()
    end = world.trace[-1].t
    assert idx.periods(end) == fresh.periods(end) and idx.role_periods(end) == fresh.role_periods(end)
    assert sorted(p.kind for p in fault_periods(world.trace)) == ["crash", "partition", "pause"]


STATUSES = [
    {"node": "n1", "state": "up", "role": "leader", "commit_index": 3,
     "log": [(1, "a"), (1, "b"), (2, "c"), (2, "d")]},
    {"node": "n2", "state": "up", "role": "follower", "commit_index": 3,
     "log": [(1, "a"), (1, "b"), (2, "c")]},
    {"node": "n3", "state": "up", "role": "follower", "commit_index": 2,
     "log": [(1, "a"), (1, "b"), (1, "x"), (1, "y"), (1, "z")]},
]


def test_log_grid_marks_commit_index_and_conflicts():
    assert conflicts(STATUSES) == [3, 4]
    fig = log_grid(STATUSES)
    cells, faded = fig.data
    assert list(cells.text[0]) == ["T1", "T1", "T2", "T2", ""] and cells.text[2][2] == "T1"
    red = [s for s in fig.layout.shapes if s.type == "rect"]
    assert sorted((s.x0 + 0.45, s.y0 + 0.4) for s in red) == [(3, 0), (3, 1), (3, 2), (4, 0), (4, 2)]
    bars = sorted((s.x0, s.y0 + 0.48) for s in fig.layout.shapes if s.type == "line")
    assert bars == [(2.5, 2), (3.5, 0), (3.5, 1)]
    assert list(faded.z[0]) == [None, None, None, 1, None] and list(faded.z[2][2:]) == [1, 1, 1]
    assert "2 conflicting" in fig.layout.title.text


def test_log_grid_window_and_errors():
    long = [{"node": "n1", "log": [(1, i) for i in range(200)], "commit_index": 150}]
    fig = log_grid(long, max_entries=20)
    assert list(fig.data[0].x) == list(range(181, 201))
    with pytest.raises(ConfigError, match="no node status has a 'log'"):
        log_grid([{"node": "n1", "role": "leader"}])
    with pytest.raises(ConfigError, match="should be \\(term, command\\)"):
        log_grid([{"node": "n1", "log": [5]}])
    with pytest.raises(ConfigError, match="status dicts"):
        log_grid("n1")


def _history(ops):
    h = History()
    for p, f, t0, t1, kind in ops:
        h.invoke(p, f, 1, time=t0)
        getattr(h, kind)(p, f, 1, time=t1)
    return h


def test_unavailability_windows_are_the_gaps_without_a_successful_write():
    h = _history([(0, "write", 0, 10, "ok"), (0, "write", 20, 30, "ok"), (1, "read", 25, 300, "ok"),
                  (0, "write", 40, 540, "info"), (2, "write", 600, 650, "fail"), (3, "write", 660, 700, "ok"),
                  (3, "write", 710, 720, "ok")])
    assert unavailability_windows(h) == [(30, 700, 670)]
    assert unavailability_windows(h, min_gap=5) == [(0, 10, 10), (10, 30, 20), (30, 700, 670),
                                                    (700, 720, 20)]
    assert unavailability_windows(h, end=1000) == [(30, 700, 670), (720, 1000, 280)]
    assert unavailability_windows(History()) == []
    with pytest.raises(ConfigError, match="min_gap"):
        unavailability_windows(h, min_gap=0)
    with pytest.raises(ConfigError, match="History"):
        unavailability_windows([1, 2])


def test_availability_figure_shows_latency_writes_and_windows(world):
    fig = availability(world.history, trace=world.trace)
    ops = [op for op in world.history.operations() if op.complete is not None]
    points = sum(len(tr.x) for tr in fig.data if tr.type == "scatter")
    assert points == len(ops)
    bars = next(tr for tr in fig.data if tr.type == "bar")
    assert sum(bars.y) == sum(1 for op in ops if op.status == "ok" and op.f in ("write", "cas"))
    windows = unavailability_windows(world.history, end=world.trace[-1].t)
    assert windows, "crashing the leader must leave a window without writes"
    texts = [a.text for a in fig.layout.annotations]
    assert all(f"no write for {w.duration:.0f} ms" in texts for w in windows)


def test_figures_built_without_validation_are_still_valid_plotly(world):
    import plotly.graph_objects as go
    for fig in (spacetime(world, clients=True), timeline(world), log_grid(STATUSES),
                availability(world.history, trace=world.trace)):
        go.Figure(fig.to_plotly_json())          # validates every property; raises on a bad one
