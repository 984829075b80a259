"""Hand-stepping nodes without SimPy: the basis of one-test-per-sentence protocol tests."""
from faultlab import Harness
from faultlab.protocols import Heartbeat
from faultlab.protocols.heartbeat import HeartbeatMsg


def test_harness_steps_heartbeats_by_hand():
    h = Harness(Heartbeat, names=["a", "b"])
    assert h.timers["a"] == {"beat": 0.0, "check": 350.0}
    h.fire("a", "beat")
    assert h.take(src="a") == [("a", "b", HeartbeatMsg("a", 1, 1))]
    h.now = 400
    h.fire("b", "check")
    assert h.nodes["b"].suspected == {"a"}
    h.deliver("b", "a", HeartbeatMsg("a", 1, 2))
    assert h.nodes["b"].suspected == set()
    assert h.notes == [("b", "suspect", {"peer": "a"}), ("b", "trust", {"peer": "a"})]


def test_restart_keeps_storage_only():
    h = Harness(Heartbeat, names=["a", "b"])
    h.nodes["a"].suspected.add("b")
    h.boot("a")
    assert h.nodes["a"].suspected == set() and h.storage["a"]["boots"] == 2
