"""The simulator core: hosting, crash/restart/pause, network faults, clients."""
from dataclasses import dataclass

import pytest

import faultlab
from faultlab import Node, World
from faultlab.protocols import Heartbeat
from faultlab.workloads import register_workload


@dataclass(frozen=True)
class Ping:
    n: int


class Recorder(Node):
    """Remembers what it saw in volatile state and counts boots durably."""

    def __init__(self):
        self.seen = []

    def on_start(self, ctx):
        ctx.storage["boots"] = ctx.storage.get("boots", 0) + 1

    def on_message(self, ctx, src, msg):
        self.seen.append((ctx.now, src, msg))

    def on_timer(self, ctx, name):
        self.seen.append((ctx.now, "timer", name))


def two_nodes(**kw):
    w = World(seed=1, latency=10, **kw)
    w.add_nodes(2, Recorder)
    w.start()
    return w


def send(w, src, dst, msg):
    w.hosts[src].ctx.send(dst, msg)


def test_message_arrives_after_latency():
    w = two_nodes()
    send(w, "n1", "n2", Ping(1))
    w.run(until=9.9)
    assert w.node("n2").seen == []
    w.run(until=10)
    assert w.node("n2").seen == [(10.0, "n1", Ping(1))]


def test_crash_loses_volatile_state_but_keeps_storage():
    w = two_nodes()
    send(w, "n1", "n2", Ping(1))
    w.run(until=20)
    assert w.node("n2").seen
    w.crash("n2")
    assert w.node("n2") is None and w.state("n2") == "crashed"
    send(w, "n1", "n2", Ping(2))
    w.run(until=40)
    drops = [r for r in w.trace if r.kind == "drop"]
    assert drops and drops[-1].info["reason"] == "node down"
    w.restart("n2")
    assert w.node("n2").seen == [] and w.storage("n2")["boots"] == 2


def test_crashed_node_timers_never_fire_and_old_context_is_dead():
    w = two_nodes()
    old_ctx = w.hosts["n1"].ctx
    old_ctx.set_timer("t", 5)
    w.crash("n1")
    w.restart("n1")
    old_ctx.send("n2", Ping(9))             # a zombie handle must not act
    w.run(until=50)
    assert w.node("n1").seen == []
    assert w.node("n2").seen == []


def test_pause_freezes_then_resume_delivers_backlog_in_order():
    w = two_nodes()
    w.pause("n2")
    send(w, "n1", "n2", Ping(1))
    w.hosts["n2"].set_timer("t", 5)
    send(w, "n1", "n2", Ping(2))
    w.run(until=100)
    assert w.node("n2").seen == []
    w.resume("n2")
    assert [s[1:] for s in w.node("n2").seen] == [("timer", "t"), ("n1", Ping(1)), ("n1", Ping(2))]
    assert all(s[0] == 100 for s in w.node("n2").seen)


def test_fault_operations_are_idempotent():
    w = two_nodes()
    assert w.crash("n1") and not w.crash("n1")
    assert not w.pause("n1") and not w.resume("n1")
    assert w.restart("n1") and not w.restart("n1")


def test_total_loss_drops_everything_and_says_why():
    w = two_nodes()
    w.set_loss(1.0)
    for i in range(5):
        send(w, "n1", "n2", Ping(i))
    w.run(until=50)
    assert w.node("n2").seen == []
    assert [r.info["reason"] for r in w.trace if r.kind == "drop"] == ["loss"] * 5


def test_duplication_delivers_twice():
    w = two_nodes()
    w.set_duplicate(1.0)
    send(w, "n1", "n2", Ping(1))
    w.run(until=100)
    assert [s[2] for s in w.node("n2").seen] == [Ping(1), Ping(1)]


def test_reordering_changes_arrival_order():
    w = World(seed=4, latency=1)
    w.add_nodes(2, Recorder)
    w.start()
    w.set_reorder(0.5, extra_delay=50)
    for i in range(50):
        send(w, "n1", "n2", Ping(i))
    w.run(until=200)
    got = [s[2].n for s in w.node("n2").seen]
    assert sorted(got) == list(range(50)) and got != list(range(50))


def test_partition_blocks_both_ways_and_drops_messages_in_flight():
    w = World(seed=1, latency=10)
    w.add_nodes(3, Recorder)
    w.start()
    send(w, "n1", "n3", Ping(0))           # in flight when the partition starts
    w.run(until=5)
    w.partition(["n1"], ["n2", "n3"])
    send(w, "n1", "n2", Ping(1))
    send(w, "n3", "n1", Ping(2))
    send(w, "n2", "n3", Ping(3))
    w.run(until=50)
    assert w.node("n3").seen == [(15.0, "n2", Ping(3))]
    assert w.node("n1").seen == [] and w.node("n2").seen == []
    w.heal()
    send(w, "n1", "n2", Ping(4))
    w.run(until=100)
    assert w.node("n2").seen == [(60.0, "n1", Ping(4))]


def test_one_way_cut():
    w = two_nodes()
    w.cut("n1", "n2")
    send(w, "n1", "n2", Ping(1))
    send(w, "n2", "n1", Ping(2))
    w.run(until=50)
    assert w.node("n2").seen == [] and len(w.node("n1").seen) == 1


@pytest.mark.parametrize("spec,lo,hi", [(7, 7, 7), ((2, 4), 2, 4),
                                        (faultlab.sim.exponential(5, base=1), 1, 200),
                                        (lambda rng: 3 + rng.random(), 3, 4)])
def test_latency_distributions(spec, lo, hi):
    w = World(seed=2, latency=spec)
    w.add_nodes(2, Recorder)
    w.start()
    for i in range(30):
        send(w, "n1", "n2", Ping(i))
    w.run(until=1000)
    times = [s[0] for s in w.node("n2").seen]
    assert len(times) == 30 and all(lo <= t <= hi for t in times)
    if lo != hi:
        assert len(set(times)) > 10


def test_per_link_latency():
    w = two_nodes()
    w.set_latency(100, src="n1", dst="n2")
    send(w, "n1", "n2", Ping(1))
    send(w, "n2", "n1", Ping(2))
    w.run(until=200)
    assert w.node("n2").seen[0][0] == 100 and w.node("n1").seen[0][0] == 10


def test_clock_drift_makes_timers_fire_early_and_local_clock_fast():
    w = two_nodes()
    w.set_clock_rate("n1", 2.0)
    w.hosts["n1"].ctx.set_timer("t", 100)
    w.run(until=50)
    assert w.node("n1").seen == [(100.0, "timer", "t")]   # local clock says 100 at global 50


def test_clients_record_a_history_and_timeouts_become_info():
    w = World(seed=5, latency=(1, 3))
    w.add_nodes(1, EchoRegister)
    w.add_clients(2, register_workload(), timeout=50, stop=500)
    w.add_clients(2, register_workload(), timeout=50, stop=500)      # a second group
    w.run(until=300)
    w.crash("n1")
    w.run(until=700)
    ops = w.history.operations()          # raises if two clients ever shared a process
    assert {o.status for o in ops} >= {"ok", "info"}
    infos = [o for o in ops if o.status == "info"]
    assert all(o.complete.error == "timeout" for o in infos)
    # an unknown outcome retires its process number for good; the client goes on under a new one
    for info in infos:
        assert not [o for o in ops if o.process == info.process and o.start > info.start]
    assert len({o.process for o in ops}) > 4


class EchoRegister(Node):
    def on_start(self, ctx):
        self.value = None

    def on_request(self, ctx, op):
        if op.f == "write":
            self.value = op.value
            ctx.reply(op)
        elif op.f == "read":
            ctx.reply(op, self.value)
        elif self.value == op.value[0]:
            self.value = op.value[1]
            ctx.reply(op)
        else:
            ctx.fail(op, "cas mismatch")


def test_heartbeat_detector_suspects_crashed_and_paused_nodes_then_trusts_again():
    w = World(seed=7)
    w.add_nodes(3, Heartbeat)
    w.run(until=1000)
    assert all(not s["suspects"] for s in w.status())
    w.crash("n2")
    w.pause("n3")
    w.run(until=2000)
    assert w.node("n1").status()["suspects"] == ["n2", "n3"]
    w.restart("n2")
    w.resume("n3")
    w.run(until=2500)
    assert w.node("n1").status()["suspects"] == []
    assert w.storage("n2")["boots"] == 2
    notes = [(r.node, r.info["text"], r.info["peer"]) for r in w.trace if r.kind == "note"]
    assert ("n1", "suspect", "n2") in notes and ("n1", "trust", "n2") in notes


def test_leader_is_the_up_node_with_the_highest_term():
    class Boss(Node):
        def on_start(self, ctx):
            ctx.set_role("leader", int(ctx.id[1:]))
    w = World(seed=0)
    w.add_nodes(3, Boss)
    w.start()
    assert w.leader() == "n3"
    w.crash("n3")
    assert w.leader() == "n2"
    roles = [(r.node, r.info) for r in w.trace if r.kind == "role"]
    assert roles[0] == ("n1", {"role": "leader", "term": 1})
