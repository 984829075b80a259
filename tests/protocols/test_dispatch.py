"""Every protocol reacts to messages one way: a handler per message class, and a stray message is noted."""
import pytest

from faultlab import Harness
from faultlab.protocols import heartbeat, multipaxos, paxos, primary_backup, raft, single
from faultlab.protocols import three_phase, two_phase
from faultlab.protocols._dispatch import HandlerNode


class Stray:
    """A message no protocol knows."""


NODES = {
    "raft": lambda: Harness(raft.Raft, names=["n1", "n2", "n3"]),
    "paxos": lambda: Harness(paxos.Paxos, names=["n1", "n2", "n3"]),
    "multipaxos": lambda: Harness(multipaxos.MultiPaxos, names=["n1", "n2", "n3"]),
    "primary_backup": lambda: Harness(primary_backup.PrimaryBackup, names=["n1", "n2", "n3"]),
    "single": lambda: Harness(single.SingleServer, names=["n1"]),
    "async_primary_backup": lambda: Harness(single.AsyncPrimaryBackup, names=["n1", "n2"]),
    "heartbeat": lambda: Harness(heartbeat.Heartbeat, names=["n1", "n2"]),
    "2pc": two_phase.harness,
    "3pc": three_phase.harness,
}


@pytest.mark.parametrize("protocol", sorted(NODES))
def test_an_unknown_message_is_noted_in_the_transcript_and_changes_nothing(protocol):
    h = NODES[protocol]()
    for name in h.names:
        assert isinstance(h.nodes[name], HandlerNode)
        before = dict(vars(h.nodes[name]))
        h.outbox.clear()
        h.deliver(name, "elsewhere", Stray())
        assert h.records("note", name, text="ignored unknown message", type="Stray"), protocol
        assert not h.records("error", name) and h.outbox == []
        assert vars(h.nodes[name]) == before


def test_a_subclass_keeps_its_parents_handlers_and_may_override_one():
    class Quiet(paxos.Paxos):
        def _on_prepare(self, ctx, src, m):        # same name: the override is what runs
            ctx.note("quiet")

    h = Harness(Quiet, names=["n1", "n2", "n3"])
    h.outbox.clear()                                # the proposers' own first Prepares
    h.deliver("n2", "n1", paxos.Prepare(ballot=(1, "n1")))
    assert h.records("note", "n2", text="quiet") and not h.take(src="n2")
    assert set(Quiet.handlers) == set(paxos.Paxos.handlers)
