"""Lab 1: Raft leader election — the kit the student imports and the checks that grade it.

The student writes a ``faultlab.Node`` subclass using the messages and constants
below; each check cell calls one ``check_*`` function, which prints a
deterministic PASS/FAIL block (see ``faultlab.grading.report``). ``score``
prints the total from the results the check cells cached (per class and seed
list), so the summary cell does not run the simulations again.
"""
from __future__ import annotations

from . import _election_runs, _election_steps
from .election_kit import (ELECTION_TIMEOUT, HEARTBEAT_INTERVAL, MESSAGES, AppendEntries, AppendReply,
                           RequestVote, VoteReply, majority)
from .report import Failure, Outcome, score_report
from .seeds import grading_seeds
from ..errors import ConfigError

TITLE = "Lab 1 — Raft leader election"

# number, title, points, what a pass verified, simulated scenario, hand-stepped scenario
CHECKS = {
    "safety": (1, "election safety", 30,
               "never two leaders in one term, even when voters crash and restart right after voting",
               "safety", "revote"),
    "liveness": (2, "liveness", 25,
                 f"a leader emerges within {_election_runs.BOUND:g} ms after a cold start, leader crashes "
                 "and a partition whenever a majority is up",
                 "liveness", None),
    "majority": (3, "no leader without a majority", 20,
                 "every leader held granted votes from a majority of its term, through duplicated "
                 "messages and partitions",
                 "majority", None),
    "terms": (4, "term rules", 15,
              "higher terms adopted, stale RequestVote/AppendEntries refused, stale votes ignored, "
              "leaders step down",
              None, "terms"),
    "heartbeats": (5, "heartbeats", 10,
                   "an elected leader stays in office: no election while it is up and connected",
                   "heartbeats", None),
}

_cache: dict = {}

__all__ = ["ELECTION_TIMEOUT", "HEARTBEAT_INTERVAL", "RequestVote", "VoteReply", "AppendEntries",
           "AppendReply", "MESSAGES", "majority", "CHECKS", "grade", "check_safety", "check_liveness",
           "check_majority", "check_terms", "check_heartbeats", "score", "results", "reproduce", "watch",
           "timeline", "grading_seeds"]


def _check_name(name):
    if name not in CHECKS:
        raise ConfigError(f"unknown check {name!r}; lab 1 has {', '.join(map(repr, CHECKS))}")
    return name


def _check_factory(node_class):
    if not callable(node_class):
        raise ConfigError(f"pass your node class (e.g. RaftElection), got {node_class!r}")
    return node_class


def grade(node_class, check, seeds=None, fresh=False):
    """Run one check over the grading seeds and return its :class:`Outcome`.

    Outcomes are cached per (class, check, seeds) so that ``score`` need not
    run the simulations again; ``fresh=True`` (what check cells use) re-runs.
    """
    _check_name(check)
    _check_factory(node_class)
    seeds = grading_seeds(seeds)
    key = (node_class, check, seeds)
    if fresh or key not in _cache:
        _cache[key] = _grade(node_class, check, seeds)
    return _cache[key]


def _grade(node_class, check, seeds):
    number, title, points, verified, scenario, stepped = CHECKS[check]
    outcome = Outcome(number, title, points, verified)
    if stepped:
        broken, _harness = _election_steps.step(stepped, node_class)
        if broken:
            outcome.failure = Failure(broken, "a hand-stepped scenario (3 nodes; the grader delivers each "
                                              "message itself, no seed involved)",
                                      reproduce=f"lab.reproduce({_name(node_class)}, {check!r}) prints the "
                                                "grader's steps and your node's answers")
            return outcome
    if scenario:
        outcome.total_runs = len(seeds)
        for seed in seeds:
            _world, faults, problem = _election_runs.run(scenario, node_class, seed)
            if problem:
                outcome.failed_runs += 1
                if outcome.failure is None:
                    outcome.failure = Failure(problem, f"seed {seed}", "; ".join(faults),
                                              f"world = lab.reproduce({_name(node_class)}, {check!r}, "
                                              f"seed={seed})")
    return outcome


def _name(node_class):
    return getattr(node_class, "__name__", "YourNode")


def _print(node_class, check, seeds):
    print(grade(node_class, check, seeds, fresh=True).report())


def check_safety(node_class, seeds=None):
    """Check 1: at most one leader per term, across crashes and restarts."""
    _print(node_class, "safety", seeds)


def check_liveness(node_class, seeds=None):
    """Check 2: a leader emerges within the bound whenever a majority is up."""
    _print(node_class, "liveness", seeds)


def check_majority(node_class, seeds=None):
    """Check 3: nobody leads without granted votes from a majority."""
    _print(node_class, "majority", seeds)


def check_terms(node_class, seeds=None):
    """Check 4: stale terms refused, higher terms obeyed (hand-stepped)."""
    _print(node_class, "terms", seeds)


def check_heartbeats(node_class, seeds=None):
    """Check 5: heartbeats keep an elected leader in office."""
    _print(node_class, "heartbeats", seeds)


def results(node_class, seeds=None):
    """All outcomes, in check order (runs the checks not run yet)."""
    return [grade(node_class, c, seeds) for c in CHECKS]


def score(node_class, seeds=None):
    """Print the summary: one line per check and the total score."""
    print(score_report(TITLE, results(node_class, seeds)))


def reproduce(node_class, check, seed=None):
    """Replay a check: with ``seed``, its simulated run (returns the World: trace, status);
    without, its hand-stepped scenario (prints each step and the node's answers; returns the Harness)."""
    _check_name(check)
    _check_factory(node_class)
    _number, _title, _points, _verified, scenario, stepped = CHECKS[check]
    if seed is None:
        if stepped is None:
            raise ConfigError(f"check {check!r} runs simulations: give the seed its report names, e.g. "
                              f"lab.reproduce(RaftElection, {check!r}, seed=1)")
        broken, harness = _election_steps.step(stepped, node_class)
        for line in (_election_steps.story(harness) if harness else []):
            print(line)
        print(f"=> {broken or 'every rule held'}")
        return harness
    if scenario is None:
        raise ConfigError(f"check {check!r} is hand-stepped, with no seed: call "
                          f"lab.reproduce(RaftElection, {check!r}) without a seed")
    world, faults, problem = _election_runs.run(scenario, node_class, seed)
    print(f"{check} run, seed {seed}: {problem or 'no problem found'}")
    print("faults: " + ("; ".join(faults) or "none"))
    print("lab.timeline(world) prints its role changes and faults; world.trace has every event")
    return world


def timeline(world):
    """Print a world's role changes and faults, one line each (what to read after ``reproduce``)."""
    for r in world.trace:
        if r.kind == "role":
            print(f"t={r.t:8.1f} ms  {r.node}  {r.info['role']:<9} term {r.info['term']}")
        elif r.kind in ("crash", "restart", "pause", "resume"):
            print(f"t={r.t:8.1f} ms  {r.node}  {r.kind.upper()}")
        elif r.kind == "partition":
            print(f"t={r.t:8.1f} ms  PARTITION {' | '.join(','.join(g) for g in r.info['groups'])}")
        elif r.kind == "heal":
            print(f"t={r.t:8.1f} ms  HEAL")


def watch(node_class, seed=0, until=3000.0, crash_leader_at=1000.0):
    """Run a 5-node cluster, crash the leader once, print every role change; returns the World."""
    from ..nemesis import Crash
    world = _election_runs._world(_check_factory(node_class), seed)
    world.schedule([(crash_leader_at, Crash("leader"))])
    try:
        world.run(until=until)
    except Exception as e:  # noqa: BLE001 - show the student's error, keep the notebook running
        print(f"stopped at t={world.now:.1f} ms: {e}")
    timeline(world)
    return world
