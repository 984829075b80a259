"""One host contract: the simulator's ctx and the harness's ctx are the same ``ctx`` to a node.

Both are held to ``faultlab.context.Context``, draw the same random numbers for the same seed,
node and incarnation, count restarts the same way, and the harness writes down everything a
node did (its transcript), the ``leader`` hint of ``ctx.fail`` included.
"""
import inspect

import pytest

from faultlab import ConfigError, Harness, Node, World
from faultlab.context import Context
from faultlab.grading import raft_election as lab
from faultlab.rng import seeded_rng
from faultlab.trace import Record
from faultlab.workloads import Op

CONTRACT = {"id", "peers", "nodes", "now", "rng", "storage", "incarnation", "send", "broadcast",
            "set_timer", "cancel_timer", "timer_pending", "reply", "fail", "note", "set_role"}


def contract_members():
    methods = {n for n, v in vars(Context).items() if inspect.isfunction(v) and not n.startswith("_")}
    return set(Context.__annotations__) | methods, methods


class Draws(Node):
    """Writes down, at each boot, its incarnation and the first numbers of its ctx.rng."""

    def on_start(self, ctx):
        ctx.storage.setdefault("boots", []).append((ctx.incarnation, [ctx.rng.random() for _ in range(4)]))
        self.ctx = ctx


def sim_world(seed=7, names=("n1", "n2", "n3")):
    w = World(seed=seed)
    for n in names:
        w.add_node(n, Draws)
    w.start()
    return w


def sim_ctx():
    return sim_world().hosts["n1"].ctx


def hand_ctx():
    return Harness(Draws, seed=7).ctx["n1"]


@pytest.mark.parametrize("make", [sim_ctx, hand_ctx], ids=["simulator", "harness"])
def test_both_contexts_have_exactly_the_contract_members_and_signatures(make):
    members, methods = contract_members()
    assert members == CONTRACT                       # the contract itself lists every member
    ctx = make()
    assert isinstance(ctx, Context)
    assert {n for n in dir(ctx) if not n.startswith("_")} == members
    for name in methods:
        want = list(inspect.signature(getattr(Context, name)).parameters.values())
        got = list(inspect.signature(getattr(type(ctx), name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in got] == [(p.name, p.kind, p.default) for p in want], name


def test_same_seed_node_and_incarnation_give_the_same_stream_in_both():
    w, h = sim_world(), Harness(Draws, seed=7)
    for n in ("n1", "n2"):
        assert w.storage(n)["boots"] == h.storage[n]["boots"]
        (inc, draws), = h.storage[n]["boots"]
        rng = seeded_rng(7, n, 1)
        assert inc == 1 and draws == [rng.random() for _ in range(4)]
    assert h.storage["n1"]["boots"] != h.storage["n2"]["boots"]                      # named by node
    assert Harness(Draws, seed=8).storage["n1"]["boots"] != h.storage["n1"]["boots"]  # and by seed
    w.crash("n2")
    w.restart("n2")
    h.crash_and_restart("n2")
    assert w.storage("n2")["boots"] == h.storage["n2"]["boots"]
    first, second = h.storage["n2"]["boots"]
    assert second[0] == 2 and second[1] != first[1]                                 # and by incarnation


def test_incarnation_counts_restarts_in_both():
    w, h = sim_world(), Harness(Draws, seed=7)
    for _ in range(2):
        w.crash("n3")
        w.restart("n3")
        h.crash_and_restart("n3")
    assert [inc for inc, _ in w.storage("n3")["boots"]] == [1, 2, 3]
    assert [inc for inc, _ in h.storage["n3"]["boots"]] == [1, 2, 3]
    assert w.hosts["n3"].ctx.incarnation == h.ctx["n3"].incarnation == h.incarnations["n3"] == 3
    assert h.ctx["n1"].incarnation == 1
    assert [(r.kind, r.info["incarnation"]) for r in h.records(node="n3")] == [
        ("start", 1), ("restart", 2), ("restart", 3)]
    # each boot record shows the storage the node booted from, not what it became later
    assert [len(r.info["storage"].get("boots", [])) for r in h.records(node="n3")] == [0, 1, 2]


def test_a_context_from_before_a_restart_can_no_longer_act_in_both():
    w, h = sim_world(), Harness(Draws, seed=7)
    old_sim, old_hand = w.hosts["n1"].ctx, h.ctx["n1"]
    w.crash("n1")
    w.restart("n1")
    h.crash_and_restart("n1")
    sent = len(w.trace)
    for old in (old_sim, old_hand):
        old.send("n2", "stale")
        old.set_timer("late", 5)
        old.set_role("leader", 9)
    assert [r for r in w.trace[sent:] if r.kind in ("send", "role")] == []
    assert "late" not in w.hosts["n1"].timers
    assert h.outbox == [] and h.timers["n1"] == {} and "n1" not in h.roles
    assert h.records("send") == [] and h.records("set_timer") == []


class Everything(Node):
    """Uses every ctx action once, so the transcript must hold every kind."""

    def on_start(self, ctx):
        ctx.set_role("follower", 0)
        ctx.set_role("follower", 0)             # no change: announced once
        ctx.set_timer("tick", 10)

    def on_timer(self, ctx, name):
        ctx.broadcast(("ping", ctx.incarnation))
        ctx.cancel_timer("tick")
        ctx.set_role("leader", 1)

    def on_message(self, ctx, src, msg):
        if msg == "boom":
            raise RuntimeError("cannot parse boom")
        if msg[0] == "ping":
            ctx.send(src, ("pong", msg[1]))
        ctx.note("heard", what=msg[0], src=src)

    def on_request(self, ctx, op):
        if op.f == "get":
            ctx.reply(op, "v")
        else:
            ctx.fail(op, "not leader", leader="b")


def test_the_transcript_records_each_step_and_everything_the_node_did():
    h = Harness(Everything, names=["a", "b"], seed=1)
    h.now = 10.0
    h.fire("a", "tick")
    h.remark("now a's ping arrives")
    h.flush()
    put, get = Op(1, "c1", 0, "put", "k", "x"), Op(2, "c1", 0, "get", "k", None)
    h.request("a", put)
    h.request("a", get)
    with pytest.raises(RuntimeError, match="cannot parse boom"):
        h.deliver("b", "a", "boom")             # the handler's error still reaches the test
    assert h.transcript == [
        Record(0.0, "start", "a", {"incarnation": 1, "storage": {}}),
        Record(0.0, "role", "a", {"role": "follower", "term": 0}),
        Record(0.0, "set_timer", "a", {"name": "tick", "delay": 10, "due": 10}),
        Record(0.0, "start", "b", {"incarnation": 1, "storage": {}}),
        Record(0.0, "role", "b", {"role": "follower", "term": 0}),
        Record(0.0, "set_timer", "b", {"name": "tick", "delay": 10, "due": 10}),
        Record(10.0, "timer", "a", {"name": "tick"}),
        Record(10.0, "send", "a", {"dst": "b", "msg": ("ping", 1)}),
        Record(10.0, "cancel_timer", "a", {"name": "tick"}),
        Record(10.0, "role", "a", {"role": "leader", "term": 1}),
        Record(10.0, "remark", None, {"text": "now a's ping arrives"}),
        Record(10.0, "deliver", "b", {"src": "a", "msg": ("ping", 1)}),
        Record(10.0, "send", "b", {"dst": "a", "msg": ("pong", 1)}),
        Record(10.0, "note", "b", {"text": "heard", "what": "ping", "src": "a"}),
        Record(10.0, "deliver", "a", {"src": "b", "msg": ("pong", 1)}),
        Record(10.0, "note", "a", {"text": "heard", "what": "pong", "src": "b"}),
        Record(10.0, "deliver", "a", {"src": "c1", "msg": put}),
        Record(10.0, "reply", "a", {"op": put, "status": "fail", "value": "not leader", "leader": "b"}),
        Record(10.0, "deliver", "a", {"src": "c1", "msg": get}),
        Record(10.0, "reply", "a", {"op": get, "status": "ok", "value": "v", "leader": None}),
        Record(10.0, "deliver", "b", {"src": "a", "msg": "boom"}),
        Record(10.0, "error", "b", {"event": "message str from 'a'",
                                    "error": "RuntimeError: cannot parse boom"}),
    ]
    assert h.replies == [("a", put, "fail", "not leader"), ("a", get, "ok", "v")]
    assert h.notes == [("b", "heard", {"what": "ping", "src": "a"}),
                       ("a", "heard", {"what": "pong", "src": "b"})]


def test_records_filters_by_kind_node_and_info():
    h = Harness(Everything, names=["a", "b", "c"])
    h.fire("a", "tick")
    h.flush()
    assert [r.info["dst"] for r in h.records("send", "a")] == ["b", "c"]
    assert [r.node for r in h.records("deliver", src="a")] == ["b", "c"]
    assert [r.node for r in h.records("note", what="pong")] == ["a", "a"]
    assert h.records("send", "a", dst="nobody") == [] and h.records(missing_field=1) == []
    assert len(h.records()) == len(h.transcript)


def test_fail_hint_reaches_the_transcript_as_the_simulator_sends_it():
    """The simulator turns ctx.fail(op, error, leader) into Reply(..., leader); the harness keeps it too."""
    h = Harness(Everything, names=["a", "b"])
    op = Op(1, "c1", 0, "put", "k", "x")
    h.request("a", op)
    (fail,) = h.records("reply", status="fail")
    assert (fail.node, fail.info["op"], fail.info["value"]) == ("a", op, "not leader")
    assert fail.info["leader"] == "b"


def test_a_harness_can_run_a_different_class_on_each_node():
    class Other(Everything):
        pass
    h = Harness({"a": Everything, "b": Other})
    assert h.names == ["a", "b"] and type(h.nodes["b"]) is Other and type(h.nodes["a"]) is Everything
    h.crash_and_restart("b")
    assert type(h.nodes["b"]) is Other and h.incarnations == {"a": 1, "b": 2}
    with pytest.raises(ConfigError, match=r"no factory for \['c'\]"):
        Harness({"a": Everything}, names=["a", "c"])


@pytest.mark.parametrize("make", [sim_ctx, hand_ctx], ids=["simulator", "harness"])
def test_both_refuse_a_negative_timer_delay_the_same_way(make):
    with pytest.raises(ValueError, match="timer 'x' needs a non-negative delay, got -1"):
        make().set_timer("x", -1)


def test_hand_stepped_reproduce_echoes_no_object_id(capsys):
    got = lab.reproduce(Node, "terms")                       # a node that does nothing fails fast
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("=> ") and "every rule held" not in out
    assert " at 0x" not in repr(got) and repr(got).startswith("<Harness seed=0 t=0ms nodes=n1,n2,n3")
