"""The panel's figure agrees with its clock, and a real cluster's figure counts seconds."""
import pytest

from faultlab.protocols import raft
from faultlab.widgets import FaultPanel


def _bar_ends(fig):
    return [b + x for tr in fig.data if tr.type == "bar" for b, x in zip(tr.base, tr.x)]


def test_timeline_bars_reach_the_time_the_clock_shows():
    world = raft.build(n=3, seed=0)
    world.run(until=1000)
    panel = FaultPanel(world, figure="timeline", window=800)
    for node in world.nodes:
        panel.tiles[node].buttons["pause"].click()     # a paused cluster records nothing more
    panel.advance(250)
    assert world.trace[-1].t < world.now == 1250, "precondition: the trace stops before now"
    assert "t = 1,250 ms" in panel.clock.time.value
    ends = _bar_ends(panel.figure)
    assert max(ends) == pytest.approx(1250) and sum(e == pytest.approx(1250) for e in ends) == 3
    pauses = [s for s in panel.figure.layout.shapes if s.name == "pause"]
    assert len(pauses) == 3 and all(s.x1 == pytest.approx(1250) for s in pauses)
    assert panel.figure.layout.xaxis.title.text == "time (ms)"
    assert {s.name for s in panel.figure.layout.shapes if s.showlegend} == {"pause"}


@pytest.mark.real
@pytest.mark.timeout(120)
def test_a_real_cluster_panel_draws_its_timeline_in_seconds():
    from faultlab.real import EtcdCluster
    with EtcdCluster(n=1) as cluster:
        cluster.wait_for(lambda _status: cluster.leader(), timeout=60)
        panel = FaultPanel(cluster)                 # no event loop here: polled on demand
        try:
            axis = panel.figure.layout.xaxis
            assert panel.figure_kind == "timeline" and axis.title.text == "time (s)"
            assert axis.ticktext and all(t.endswith(" s") for t in axis.ticktext)
            assert max(_bar_ends(panel.figure)) == pytest.approx(axis.range[1]), "the leader's bar runs to now"
        finally:
            panel.close()
