"""What the 2PC and 3PC tests share: phase one stepped by hand, notes, the crash-at-any-step check."""
from faultlab.scenarios import commit as sc


def begin_and_vote(h, first, key="x", value=1):
    """The coordinator begins a transaction and sends ``first`` (its message kind) to everyone;
    every participant that is working casts its vote (the votes stay in the outbox). Returns the txn id.
    """
    txn = h.nodes["co"].begin(h.ctx["co"], key, value)
    for _src, dst, msg in h.take(src="co", kind=first):
        h.deliver(dst, "co", msg)
    for p in h.names:
        if p != "co" and h.timers[p].get(f"work:{txn}") is not None:
            h.fire(p, f"work:{txn}")
    return txn


def notes(h, node, text):
    """The fields of every ``text`` note written by ``node``, in order."""
    return [{k: v for k, v in r.info.items() if k != "text"} for r in h.records("note", node, text=text)]


def crash_at_step_recovers(protocol, step, victim, at_note):
    """Crash ``victim`` at ``step`` of one scripted transaction, restart it 400 ms later, and check
    that the outcome is atomic, decided once, and nobody is left uncertain. Returns the run.
    """
    run = sc.crash_at_step(protocol, step, victim, down=400, at_note=at_note)
    assert any(r.kind == "crash" and r.node == victim for r in run.world.trace), run.story
    st = run.check.stats
    if (step, victim, at_note) == ("begin", "co", True):
        # crashed before any first message left: nobody ever hears of t1, nobody decides anything,
        # so atomicity has no evidence either way
        assert run.check.verdict == "unknown" and run.check.evidence["missing"] == "decisions"
        assert st["committed"] + st["aborted"] == 0 and st["undecided"] == 1
    else:
        assert run.check.ok, run.check
        assert st["committed"] + st["aborted"] == 1, run.check
    assert all(not s["still_uncertain"] for s in st["participants"].values()), run.check
    return run
