"""Primary–backup scenarios: what failover does to acknowledged writes and to who leads.

* :func:`async_failover` — async replication, the primary crashes: writes the
  clients were told had succeeded are gone after the failover.
* :func:`sync_failover` — the same run with sync replication: none are lost.
* :func:`naive_pause` — naive failover, the primary freezes (a GC pause) for
  longer than the failover timeout: a backup takes over, the old primary wakes
  up and acknowledges the writes it had queued — two primaries accepting writes.
* :func:`fenced_pause` — the same with fencing: the old primary's lease has
  expired, it refuses to answer, and then learns the newer epoch.
* :func:`naive_partition` — naive failover with the primary cut off from its
  backups, clients on both sides: both sides serve writes, one side's are lost.
* :func:`random_faults` — a seeded random nemesis (crash, pause, partition) with
  message loss, for many-seed safety runs.
"""
from __future__ import annotations

from ..check import primary_backup as check_pb
from ..protocols import primary_backup as pb
from ..workloads import kv_workload
from . import ScenarioRun

FAULT_AT = 625.0        # between two heartbeats (every 50 ms), so some writes are in flight
SETTLE = 1500.0         # ms of calm after the fault so replication can catch up


def _window(w, start, length, fault, undo, stop, story):
    """Run to ``start``, inject ``fault()``, ``undo()`` it ``length`` ms later, settle, check."""
    w.run(until=start)
    fault()
    w.run(until=start + length)
    undo()
    w.run(until=stop + SETTLE)
    return ScenarioRun(w, check_pb.check(w), story)


def failover(mode="async", policy="fenced", seed=0, crash_at=FAULT_AT, down_for=600.0, n=3):
    """Crash the primary ``n1`` at ``crash_at``, restart it ``down_for`` ms later, then settle."""
    stop = crash_at + down_for + 300
    w = pb.build(n, seed=seed, mode=mode, policy=policy, clients=3, stop=stop)
    story = (f"{mode} replication, {policy} failover: primary n1 crashed at t={crash_at:g} ms and came "
             f"back {down_for:g} ms later as a backup")
    return _window(w, crash_at, down_for, lambda: w.crash("n1"), lambda: w.restart("n1"), stop, story)


def async_failover(seed=0, **kw):
    """Async replication + crash of the primary: acknowledged writes are lost."""
    return failover("async", seed=seed, **kw)


def sync_failover(seed=0, **kw):
    """Sync replication + the same crash: no acknowledged write is lost."""
    return failover("sync", seed=seed, **kw)


def pause(policy="naive", mode="sync", seed=0, pause_at=FAULT_AT, pause_for=800.0, n=3):
    """Freeze the primary ``n1`` for ``pause_for`` ms (longer than the failover timeout).

    Two kinds of clients: three patient ones (timeout 1200 ms) that wait for
    the frozen primary, and two impatient ones (timeout 150 ms) that move on to
    whoever leads next.
    """
    stop = pause_at + pause_for + 400
    w = pb.build(n, seed=seed, mode=mode, policy=policy, clients=0)
    w.add_clients(3, kv_workload(), timeout=1200.0, stop=stop, prefix="patient")
    w.add_clients(2, kv_workload(), timeout=150.0, stop=stop, prefix="quick")
    story = (f"{policy} failover, {mode} replication: primary n1 paused from t={pause_at:g} to "
             f"t={pause_at + pause_for:g} ms")
    return _window(w, pause_at, pause_for, lambda: w.pause("n1"), lambda: w.resume("n1"), stop, story)


def naive_pause(seed=0, **kw):
    """Naive failover + a long pause of the primary: split brain."""
    return pause("naive", seed=seed, **kw)


def fenced_pause(seed=0, **kw):
    """Fenced failover + the same pause: the old primary acknowledges nothing."""
    return pause("fenced", seed=seed, **kw)


def naive_partition(seed=0, policy="naive", mode="sync", cut_at=FAULT_AT, heal_after=800.0, n=3):
    """Cut the primary off from its backups, then heal.

    Clients live on both sides (two talk only to ``n1``, two only to the
    others), as when a data centre loses its link to the other one.
    """
    stop = cut_at + heal_after + 300
    w = pb.build(n, seed=seed, mode=mode, policy=policy, clients=0)
    others = [x for x in w.nodes if x != "n1"]
    w.add_clients(2, kv_workload(), timeout=150.0, stop=stop, targets=["n1"], prefix="near")
    w.add_clients(2, kv_workload(), timeout=150.0, stop=stop, targets=others, prefix="far")
    story = (f"{policy} failover, {mode} replication: primary n1 cut off from its backups from "
             f"t={cut_at:g} to t={cut_at + heal_after:g} ms")
    return _window(w, cut_at, heal_after, lambda: w.isolate("n1"), w.heal, stop, story)


def random_faults(seed=0, mode="sync", policy="fenced", duration=3000.0, n=3, loss=0.02,
                  every=600.0, heal_after=400.0, kinds=("crash", "pause", "partition"),
                  duplicate=0.0, reorder=0.0):
    """A seeded random nemesis (crash, pause, partition) plus message loss, then a calm period.

    After ``duration`` ms every fault is undone (heal, resume, restart) and the
    run continues for ``SETTLE`` ms without faults before it is checked.
    """
    from .. import nemesis
    w = pb.build(n, seed=seed, mode=mode, policy=policy, clients=3, client_timeout=200.0, stop=duration)
    w.set_loss(loss)
    w.set_duplicate(duplicate)
    w.set_reorder(reorder, extra_delay=30.0)
    w.schedule(nemesis.random_schedule(w.nodes, duration, seed=seed, every=every, heal_after=heal_after,
                                       kinds=kinds))
    w.run(until=duration)
    w.set_loss(0.0)
    w.heal()
    for node in w.nodes:
        w.resume(node)
        w.restart(node)
    w.run(until=duration + SETTLE)
    story = (f"{mode} replication, {policy} failover, random {'/'.join(kinds)} every {every:g} ms "
             f"and {loss:g} loss for {duration:g} ms (seed {seed})")
    return ScenarioRun(w, check_pb.check(w), story)
