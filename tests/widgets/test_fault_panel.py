"""FaultPanel on a real simulated Raft cluster: clicks change the world, the tiles and the figure."""
import asyncio

import pytest

from faultlab import ConfigError, World, nemesis
from faultlab.protocols import raft
from faultlab.widgets import FaultPanel


@pytest.fixture
def panel():
    world = raft.build(n=5, seed=0)
    world.run(until=1000)
    return FaultPanel(world, figure="spacetime", window=800)


def _figure_state(p):
    return (p.figure.layout.title.text, tuple(len(tr.x or ()) for tr in p.figure.data))


def test_crash_button_crashes_the_leader_and_a_new_one_takes_over(panel):
    world = panel.cluster
    old = world.leader()
    assert old is not None and panel.tiles[old].is_leader
    assert sum(t.is_leader for t in panel.tiles.values()) == 1
    before = _figure_state(panel)
    panel.tiles[old].buttons["crash"].click()
    assert world.state(old) == "crashed"
    tile = panel.tiles[old]
    assert tile.state == "crashed" and not tile.is_leader and "faultlab-crashed" in tile._dom_classes
    assert tile.buttons["crash"].disabled and not tile.buttons["restart"].disabled
    assert world.trace[-1].kind == "crash" and world.trace[-1].node == old
    panel.clock.step.click()                         # 100 ms is too short for an election
    panel.advance(1000)
    new = world.leader()
    assert new not in (None, old)
    assert panel.tiles[new].is_leader and "faultlab-leader" in panel.tiles[new]._dom_classes
    assert panel.tiles[new].term > 0 and f"<b class='faultlab-leader-name'>{new}</b>" in panel.clock.time.value
    assert _figure_state(panel) != before
    assert "t = 2,100 ms" in panel.clock.time.value
    assert [e[1] for e in panel.events] == [f"crash {old}"]
    assert f"crash {old}" in panel.event_log.value


def test_restart_pause_resume_and_no_op_clicks_are_reported(panel):
    world = panel.cluster
    panel.tiles["n3"].buttons["pause"].click()
    assert world.state("n3") == "paused" and panel.tiles["n3"].buttons["resume"].disabled is False
    panel.tiles["n3"].buttons["resume"].click()
    panel.tiles["n4"].buttons["crash"].click()
    panel.advance(200)
    panel.tiles["n4"].buttons["restart"].click()
    assert world.state("n3") == "up" and world.state("n4") == "up"
    panel.crash("n4")
    panel.crash("n4")                                  # already crashed: nothing to do
    assert [k for _t, k, inj in panel.events if inj] == ["pause n3", "resume n3", "crash n4", "restart n4",
                                                         "crash n4"]
    assert "nothing to do" in panel.events[-1][1]
    kinds = [r.kind for r in world.trace if r.kind in ("pause", "resume", "crash", "restart")]
    assert kinds == ["pause", "resume", "crash", "restart", "crash"]


def test_partition_builder_and_heal(panel):
    world = panel.cluster
    panel.partition.apply_button.click()
    assert "at least two groups" in panel.events[-1][1]
    panel.partition.set({"n1": "B", "n2": "B"})
    panel.partition.apply_button.click()
    rec = [r for r in world.trace if r.kind == "partition"][-1]
    assert rec.info["groups"] == [["n3", "n4", "n5"], ["n1", "n2"]]
    panel.advance(1000)
    leader = world.leader()
    assert leader in ("n3", "n4", "n5"), "only the majority side can elect a leader"
    assert any(s.yref == "paper" for s in panel.figure.layout.shapes), "the partition is shaded"
    panel.partition.heal_button.click()
    assert world.trace[-1].kind == "heal"


def test_network_sliders_change_the_simulated_network(panel):
    world = panel.cluster
    panel.network.loss.value = 0.2
    panel.network.latency.value = (10.0, 30.0)
    assert world.network.loss == 0.2
    assert repr([r.info for r in world.trace if r.kind == "network"][-1]["latency"]) == "uniform(10, 30)"
    assert [e[1] for e in panel.events] == ["loss 20%", "latency 10–30 ms"]


def test_faults_from_the_panel_replay_from_seed_and_fault_schedule(panel):
    world = panel.cluster
    leader = world.leader()
    panel.crash(leader)
    panel.advance(500)
    panel.partition.set({"n1": "B", "n2": "B"})
    panel.partition.apply_button.click()
    panel.advance(400)
    panel.partition.heal_button.click()
    panel.tiles[leader].buttons["restart"].click()
    panel.advance(600)
    replay = raft.build(n=5, seed=0)
    replay.schedule(world.fault_schedule())
    replay.run(until=world.now)
    assert replay.trace_digest() == world.trace_digest()
    assert any(isinstance(op, nemesis.Partition) for _t, op in world.fault_schedule())


def test_play_advances_time_without_blocking_the_event_loop(panel):
    world = panel.cluster
    ticks = []

    async def scenario():
        panel.clock.speed.value = 2.0
        panel.play()
        for _ in range(20):                      # other work keeps running while time advances
            ticks.append(world.now)
            await asyncio.sleep(0.02)
        panel.stop()
        await asyncio.sleep(0.15)
        stopped_at = world.now
        await asyncio.sleep(0.3)
        return stopped_at

    start = world.now
    stopped_at = asyncio.run(scenario())
    assert world.now > start + 100
    assert len(set(ticks)) > 2, "the loop interleaved with the simulation"
    assert world.now == stopped_at, "stop() must stop simulated time"
    assert panel._task.done() and panel.clock.play.description == "play"
    assert f"–{world.now:g} ms" in panel.figure.layout.title.text, "the figure caught up with the clock"


def test_play_without_an_event_loop_says_to_use_step(panel):
    panel.play()
    assert panel.clock.play.value is False
    assert "use step" in panel.events[-1][1]


@pytest.mark.parametrize("kind", ["timeline", "log_grid"])
def test_other_figures_follow_the_picker(panel, kind):
    panel.figure_picker.value = kind
    assert panel.figure_kind == kind
    title = panel.figure.layout.title.text
    assert ("Roles and terms" if kind == "timeline" else "Replicated logs") in title


def test_availability_figure_with_clients():
    from faultlab import register_workload
    world = raft.build(n=3, seed=1)
    world.add_clients(2, register_workload(), timeout=300)
    world.run(until=1500)
    p = FaultPanel(world, figure="availability")
    assert "Client view" in p.figure.layout.title.text


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ConfigError, match="lacks nodes, status"):
        FaultPanel(object())
    with pytest.raises(ConfigError, match="unknown figure 'pie'"):
        FaultPanel(World(seed=0), figure="pie")
    with pytest.raises(ConfigError, match="window must be a positive number"):
        FaultPanel(World(seed=0), window=0)


def test_message_filter_offers_the_types_seen_and_filters_the_diagram(panel):
    panel.advance(500)
    types = [v for _label, v in panel.message_picker.options if v]
    assert len(types) >= 2, types
    total = panel.figure.layout.meta["messages_total"]
    panel.message_picker.value = types[0]
    only = panel.figure.layout.meta["messages_total"]
    assert 0 < only < total
    assert panel.kinds == {types[0]}
    panel.message_picker.value = ""
    assert panel.figure.layout.meta["messages_total"] == total
