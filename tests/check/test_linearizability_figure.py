"""The history figure draws what the checker found: the order, or what cannot be ordered."""
import struct
from pathlib import Path

import pytest

from faultlab import ConfigError, nemesis
from faultlab.check import edn, linearizable
from faultlab.protocols import single
from faultlab.workloads import kv_workload
from faultlab.viz import save_png
from faultlab.viz.history import history_figure
from faultlab.viz.png import find_browser

DATA = Path(__file__).parent / "data"


def _traces(fig, name):
    return [t for t in fig.data if t.name and t.name.startswith(name)]


def _kv_world():
    world = single.build(seed=1, workload=kv_workload(keys=2), clients=3, stop=300)
    world.at(120, world.crash, "n1")
    world.at(180, world.restart, "n1")
    world.run(until=400)
    return world


def test_linearizable_history_shows_one_point_per_operation_inside_its_bar():
    world = _kv_world()
    ops = world.history.operations()
    result = linearizable(world.history, "kv")
    fig = history_figure(world, result)
    assert "linearizable" in fig.layout.title.text
    assert {t.name for t in _traces(fig, "linearization order")} == {
        "linearization order of k0", "linearization order of k1"}
    rows = {p: i for i, p in enumerate(sorted({op.process for op in ops}))}
    for trace in _traces(fig, "linearization order"):
        key = trace.name.rsplit(" ", 1)[1]
        order = result.evidence["order"][key]
        assert len(trace.x) == len(order)
        assert list(trace.x) == sorted(trace.x)                    # instants follow the order
        for x, y, i in zip(trace.x, trace.y, order):
            assert ops[i].start <= x <= min(ops[i].end, 1e9)        # inside the operation's bar
            assert round(y + 0.3) == rows[ops[i].process]
        assert trace.text[0] == f"{key}:1"
    info = _traces(fig, "info")[0]
    assert all(b + w >= max(op.end for op in ops if op.status == "ok") for b, w in zip(info.base, info.x))
    assert fig.layout.xaxis.title.text == "time (ms)"
    assert fig.layout.shapes, "the crash is shaded"


def test_violation_highlights_the_stuck_operation_and_zooms_to_it():
    world = single.build(seed=4, broken=True, clients=4, stop=3000)
    world.schedule([(730, nemesis.Crash("n1")), (1000, nemesis.Restart("n1")),
                    (2070, nemesis.Crash("leader")), (2500, nemesis.Restart("*"))])
    world.run(until=3500)
    result = linearizable(world.history, "register")
    assert result.verdict == "violated"
    fig = history_figure(world, result)
    assert "NOT linearizable" in fig.layout.title.text
    stuck_op = world.history.operations()[result.violations[0]["op"]]
    (stuck,) = _traces(fig, "cannot be linearized")
    assert list(stuck.base) == [stuck_op.start]
    assert "cannot be linearized" in stuck.hovertext[0]
    (around,) = _traces(fig, "overlapping it")
    assert len(around.base) == len(result.violations[0]["window"]) - 1
    lo, hi = fig.layout.xaxis.range
    assert lo <= stuck_op.start and stuck_op.end <= hi
    assert hi - lo < 0.5 * stuck_op.end                           # zoomed in, not the whole run
    assert _traces(fig, "longest partial order found")
    whole = history_figure(world, result, zoom=False)
    assert whole.layout.xaxis.range[0] == 0


def test_history_without_times_uses_event_numbers():
    h = edn.load(DATA / "register-bad.log")
    fig = history_figure(h, linearizable(h))
    assert fig.layout.xaxis.title.text.startswith("event number")
    assert [t.name for t in fig.data if t.type == "bar"] == ["ok", "cannot be linearized"]
    assert list(fig.layout.yaxis.ticktext) == ["process 0", "process 1", "process 2"]


def test_figure_without_a_result_and_bad_arguments():
    h = edn.load(DATA / "register-ok.log")
    fig = history_figure(h)
    assert fig.layout.title.text == "Client history"
    assert {t.name.split(" ")[0] for t in fig.data} == {"ok", "fail", "info"}
    with pytest.raises(ConfigError, match="needs a History"):
        history_figure("not a history")
    with pytest.raises(ConfigError, match="CheckResult"):
        history_figure(h, result="ok")


@pytest.mark.skipif(find_browser() is None, reason="needs Chromium (apt-get install chromium)")
def test_renders_to_png(tmp_path):
    h = edn.load(DATA / "register-ok.log")
    out = save_png(history_figure(h, linearizable(h)), tmp_path / "history.png", width=900, scale=1)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24])[0] == 900
