"""Bad input gets a clear error that says what was wrong and what to do."""
import math

import pytest

from faultlab import (ConfigError, Node, PartitionError, ProtocolError, UnknownNodeError, World,
                      WorldTimeError, nemesis)
from faultlab.protocols import Heartbeat


@pytest.fixture
def world():
    w = World(seed=0)
    w.add_nodes(3, Heartbeat)
    return w


def test_unknown_node_names_the_known_ones(world):
    with pytest.raises(UnknownNodeError, match=r"unknown node 'n9'.*'n1', 'n2', 'n3'"):
        world.crash("n9")
    with pytest.raises(UnknownNodeError):
        world.partition(["n1"], ["n2", "n9"])


def test_overlapping_partition_groups_say_which_node(world):
    with pytest.raises(PartitionError, match=r"'n2' is in two partition groups"):
        world.partition(["n1", "n2"], ["n2", "n3"])


def test_partition_that_misses_a_node_says_which(world):
    with pytest.raises(PartitionError, match=r"leave out 'n3'"):
        world.partition(["n1"], ["n2"])


def test_partition_needs_two_groups(world):
    with pytest.raises(PartitionError, match="at least two groups"):
        world.partition(["n1", "n2", "n3"])


@pytest.mark.parametrize("bad", [-1, math.nan, "fast", (5, 1)])
def test_bad_latency(world, bad):
    with pytest.raises(ConfigError, match="latency"):
        world.set_latency(bad)


def test_latency_callable_returning_negative_is_caught_when_used():
    w = World(seed=0, latency=lambda rng: -3)
    w.add_nodes(2, Heartbeat)
    with pytest.raises(ProtocolError, match="latency returned by the callable must be a non-negative") as e:
        w.run(until=10)
    assert isinstance(e.value.cause, ConfigError)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, True])
def test_loss_outside_unit_interval(world, bad):
    with pytest.raises(ConfigError, match=r"probability in \[0, 1\]"):
        world.set_loss(bad)
    with pytest.raises(ConfigError):
        world.set_duplicate(bad)


def test_running_back_in_time(world):
    world.run(until=100)
    with pytest.raises(WorldTimeError, match="already at t=100 ms"):
        world.run(until=50)
    world.run(until=100)                     # standing still is fine
    world.run(duration=10)
    assert world.now == 110


def test_run_needs_exactly_one_bound(world):
    with pytest.raises(ConfigError, match="exactly one"):
        world.run()


def test_bad_clock_rate(world):
    with pytest.raises(ConfigError, match="positive"):
        world.set_clock_rate("n1", 0)


def test_handler_that_raises_names_node_event_and_time_and_keeps_trace():
    class Faulty(Node):
        def on_start(self, ctx):
            ctx.set_timer("boom", 42)

        def on_timer(self, ctx, name):
            raise KeyError("missing")
    w = World(seed=0)
    w.add_nodes(2, Faulty)
    with pytest.raises(ProtocolError, match=r"node 'n1' raised KeyError.*timer 'boom' at t=42 ms") as e:
        w.run(until=100)
    assert e.value.node == "n1" and e.value.time == 42
    assert w.trace[-1].kind == "error" and w.trace[-1].node == "n1"
    assert [r.kind for r in w.trace[:2]] == ["start", "start"]


def test_duplicate_and_bad_node_ids(world):
    with pytest.raises(ConfigError, match="already a node"):
        world.add_node("n1", Heartbeat)
    with pytest.raises(ConfigError, match="non-empty strings"):
        world.add_node(3, Heartbeat)
    with pytest.raises(ConfigError, match="positive integer"):
        World().add_nodes(0, Heartbeat)


def test_heartbeat_options_are_checked():
    with pytest.raises(ConfigError, match="interval"):
        Heartbeat(interval=0)
    with pytest.raises(ConfigError, match="must exceed the interval"):
        Heartbeat(interval=100, timeout=50)


def test_nemesis_schedule_arguments():
    with pytest.raises(ConfigError, match="heal_after"):
        nemesis.random_schedule(["n1"], 1000, every=100, heal_after=200)
    with pytest.raises(ConfigError, match="unknown fault kind"):
        nemesis.random_schedule(["n1"], 1000, kinds=("meteor",))


def test_clients_need_a_positive_timeout(world):
    from faultlab.workloads import register_workload
    with pytest.raises(ConfigError, match="timeout"):
        world.add_clients(1, register_workload(), timeout=0)
