"""Atomic-commit scenarios: where 2PC blocks, how 3PC avoids it, and how a partition breaks 3PC.

* :func:`blocking_2pc` -- the coordinator crashes right after every participant
  voted yes: they hold their locks, uncertain, until it comes back. The check's
  ``stats`` say for how long (ms of simulated time).
* :func:`nonblocking_3pc` -- the same crash under 3PC: the participants run the
  termination protocol and decide without the coordinator.
* :func:`partition_3pc` -- a partition right after the coordinator sends
  PreCommit, which reaches only ``p1``: ``co`` and ``p1`` commit, ``p2`` and
  ``p3`` (all uncertain) abort. The checker reports the atomicity violation.
* :func:`crash_at_step` -- crash any node at any step of 2PC or 3PC and restart it.

Faults are triggered by trace notes (``world.listeners``), not by a clock time,
so "after every participant voted yes" means exactly that, for every seed.
"""
from __future__ import annotations

from ..check import commit as check_commit
from ..errors import ConfigError, UnknownNodeError
from ..nemesis import Loss, random_schedule
from ..protocols import three_phase, two_phase
from . import ScenarioRun

TXN_AT = 10.0           # the scripted transaction starts here
STEPS = ("begin", "vote", "all-voted", "precommit", "decide", "first-outcome", "end")
PROTOCOLS = {"2pc": two_phase, "3pc": three_phase}


def _protocol(protocol):
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; choose '2pc' or '3pc'")
    return PROTOCOLS[protocol]


def on_step(world, step, action, participants=None, at_note=False):
    """Call ``action(record)`` once, right after the first transaction reaches ``step``.

    Steps: begin (Prepare/CanCommit sent), vote (the first yes vote), all-voted
    (the last yes vote), precommit (3PC: the coordinator sends PreCommit),
    decide (a decision is logged), first-outcome (a participant commits or
    aborts), end (the coordinator has every acknowledgement).

    By default the action runs once the handler that wrote the note has
    finished (its messages are on their way). With ``at_note=True`` it runs at
    the note itself: a crash there loses the rest of that handler -- e.g. the
    decision is in the log but was never sent, or 'prepared' is logged but the
    yes vote never left.
    """
    if step not in STEPS:
        raise ConfigError(f"unknown step {step!r}; choose one of {', '.join(STEPS)}")
    parts = set(participants or [n for n in world.nodes if n != two_phase.COORDINATOR])
    voted, fired = set(), []

    def hit(r):
        if r.kind != "note" or r.info.get("txn") != "t1" or fired:
            return False
        text = r.info["text"]
        if text == "vote" and r.info.get("vote") == "yes":
            voted.add(r.node)
        return {"begin": text == "begin",
                "vote": text == "vote",
                "all-voted": text == "vote" and voted >= parts,
                "precommit": text == "precommit" and r.node == two_phase.COORDINATOR,
                "decide": text == "decide",
                "first-outcome": text in ("commit", "abort") and r.node in parts,
                "end": text == "end"}[step]

    def listener(r):
        if hit(r):
            fired.append(r)
            if at_note:
                action(r)
            else:
                world.at(r.t, action, r)    # after the current handler has finished
    world.listeners.append(listener)
    return fired


def crash_at_step(protocol="2pc", step="all-voted", victim="co", down=1000.0, seed=0,
                  participants=3, settle=2000.0, until=None, at_note=False, **options):
    """One scripted transaction; crash ``victim`` right after ``step`` and restart it ``down`` ms later.

    ``at_note=True`` crashes in the middle of the handler, at the step's note
    (see :func:`on_step`); only meaningful when ``victim`` is the node that notes it.

    The run lasts until ``TXN_AT + down + settle`` ms, or ``until`` if given
    (e.g. a crash-stop run: a huge ``down`` and a short ``until``).
    """
    proto = _protocol(protocol)
    w = proto.build(participants, seed=seed, script=[(TXN_AT, "x", 1)], **options)
    if victim not in w.nodes:
        raise UnknownNodeError(victim, w.nodes)

    def crash(r):
        w.crash(victim)
        w.at(w.now + down, w.restart, victim)
    fired = on_step(w, step, crash, at_note=at_note)
    w.run(until=until if until is not None else TXN_AT + down + settle)
    when = f"t={fired[0].t:g} ms" if fired else "never (the step was not reached)"
    how = "in the middle of" if at_note else "right after"
    story = (f"{protocol}: {victim} crashed {how} '{step}' ({when}) and restarted "
             f"{down:g} ms later")
    return ScenarioRun(w, check_commit.check(w), story)


def blocking_2pc(seed=0, down=1000.0, participants=3, **options):
    """2PC, coordinator crash after all yes votes: participants blocked for about ``down`` ms."""
    run = crash_at_step("2pc", "all-voted", "co", down=down, seed=seed, participants=participants,
                        **options)
    blocked = {p: s["blocked_ms"] for p, s in run.check.stats["participants"].items()}
    run.story += ("; participants blocked (uncertain, locks held) for "
                  + ", ".join(f"{p} {ms:.0f} ms" for p, ms in blocked.items()))
    return run


def nonblocking_3pc(seed=0, down=1000.0, participants=3, **options):
    """3PC, the same crash: the termination protocol decides while the coordinator is down."""
    run = crash_at_step("3pc", "all-voted", "co", down=down, seed=seed, participants=participants,
                        **options)
    worst = run.check.stats["max_uncertain_ms"]
    run.story += f"; the participants decided without it (longest uncertainty {worst:.0f} ms)"
    return run


def partition_3pc(seed=0, heal_after=1000.0, **options):
    """3PC split by a partition just as PreCommit goes out: one side commits, the other aborts."""
    w = three_phase.build(3, seed=seed, script=[(TXN_AT, "x", 1)], **options)

    def split(r):
        # Messages already in flight across the cut are lost, so only p1 (same side) gets PreCommit.
        w.partition(["co", "p1"], ["p2", "p3"])
        w.at(w.now + heal_after, w.heal)
    on_step(w, "precommit", split)
    w.run(until=TXN_AT + heal_after + 1000.0)
    story = ("3PC: partition {co, p1} | {p2, p3} right after the coordinator sent PreCommit "
             f"(only p1 got it), healed {heal_after:g} ms later")
    return ScenarioRun(w, check_commit.check(w), story)


def random_faults(nodes, duration, seed=0, kinds=("crash", "pause", "partition"), every=300.0,
                  heal_after=200.0, loss=0.05):
    """Two overlapping seeded nemesis streams (so faults can coincide) plus bursts of message loss."""
    a = random_schedule(nodes, duration, seed=seed, every=every, heal_after=heal_after, kinds=kinds)
    b = random_schedule(nodes, duration, seed=f"{seed}:b", every=every, heal_after=heal_after,
                        kinds=kinds, start=every * 1.5)
    out = a + b
    if loss:
        t = every * 0.75
        while t + every <= duration:
            out += [(t, Loss(loss)), (t + every / 2, Loss(0.0))]
            t += every * 3
    return sorted(out, key=lambda e: e[0])


def random_run(protocol="2pc", seed=0, duration=1500.0, clients=2, kinds=("crash", "pause", "partition"),
               loss=0.05, vote="random", settle=1500.0, **options):
    """Clients send transactions under a random nemesis; then the faults stop and the run settles."""
    proto = _protocol(protocol)
    w = proto.build(3, seed=seed, vote=vote, **options)
    w.add_clients(clients, two_phase.txn_workload(), targets=[two_phase.COORDINATOR], stop=duration,
                  timeout=300.0)
    w.schedule(random_faults(w.nodes, duration, seed=seed, kinds=kinds, loss=loss))
    # Undo whatever is still active at the end, so that recovery can finish.
    w.at(duration + 1.0, _calm, w)
    w.run(until=duration + settle)
    story = f"{protocol}: {clients} clients for {duration:g} ms under random {'/'.join(kinds)} faults"
    return ScenarioRun(w, check_commit.check(w), story)


def _calm(world):
    world.heal()
    world.set_loss(0.0)
    for n in world.nodes:
        world.resume(n)
        world.restart(n)
