"""Simulated runs that grade lab 1, and the trace analyses that judge them.

Each run builds a seeded 5-node ``World`` of the student's class, drives it
through faults, and returns ``(world, faults, problem)``: ``faults`` describes
what was done (for the report), ``problem`` is None or one sentence saying what
went wrong. Same class and seed, same run: ``reproduce`` relies on that.
"""
from __future__ import annotations

from collections import defaultdict

from ..errors import FaultlabError
from ..rng import seeded_rng
from ..nemesis import Crash, Restart
from ..sim import World
from .election_kit import VoteReply

NODES = 5
BOUND = 2000.0
"""ms within which a leader must emerge after a fault when a majority is up (~10 election timeouts)."""


MAX_EVENTS = 50_000
"""Trace records one run may produce; a correct solution needs a few thousand."""


class Problem(Exception):
    """A run broke a rule; the message is one sentence for the student."""


class TooBusy(FaultlabError):
    """The nodes flood the simulator (a message storm, or 0 ms timers re-armed forever)."""


def _world(factory, seed, latency=(1.0, 5.0)):
    world = World(seed=seed, latency=latency)
    world.add_nodes(NODES, factory)

    def limit(_record):
        if len(world.trace) > MAX_EVENTS:
            raise TooBusy(f"the nodes produced over {MAX_EVENTS} events by t={world.now:.0f} ms (a correct "
                          "solution needs a few thousand): does a handler answer every message with more "
                          "messages, or re-arm a timer with no delay?")

    world.listeners.append(limit)
    return world


def _leader_term(r):
    term = r.info["term"]
    if isinstance(term, bool) or not isinstance(term, int):
        raise Problem(f"{r.node} announced itself leader with term {term!r}; announce roles with "
                      "ctx.set_role(role, term) where term is the current term number")
    return term


def _leaders(world, since=0):
    for r in world.trace[since:]:
        if r.kind == "role" and r.info["role"] == "leader":
            yield r, _leader_term(r)


def _count(world, since, role):
    return sum(1 for r in world.trace[since:] if r.kind == "role" and r.info["role"] == role)


def _run(fn, factory, seed):
    """Call a scenario; turn the student's exceptions into a problem sentence."""
    faults: list = []
    world = None
    try:
        world = fn(factory, seed, faults)
        return world, faults, None
    except Problem as p:
        return getattr(p, "world", world), faults, str(p)
    except FaultlabError as e:
        return world, faults, f"your node raised an exception: {e}"


# -- 1. election safety -------------------------------------------------------
def two_leaders(world):
    """The first term with two different leaders, as a sentence, or None."""
    first = {}
    for r, term in _leaders(world):
        if term in first and first[term].node != r.node:
            a = first[term]
            return (f"two leaders in term {term}: {a.node} (t={a.t:.1f} ms) and {r.node} (t={r.t:.1f} ms); "
                    "each won a majority, but any two majorities share a voter, and a voter may grant "
                    "only one vote per term (even across a crash)")
        first.setdefault(term, r)
    return None


def safety(factory, seed, faults):
    """Slow links so candidates overlap; voters crash right after voting; the leader crashes often."""
    world = _world(factory, seed, latency=(2.0, 40.0))

    def crash_after_vote(rec):
        if rec.kind == "send" and isinstance(rec.info["msg"], VoteReply) and rec.info["msg"].granted:
            world.at(world.now, world.crash, rec.node)
            world.at(world.now + 1.0, world.restart, rec.node)

    world.listeners.append(crash_after_vote)
    schedule = []
    for t in range(700, 7000, 700):
        schedule += [(t, Crash("leader")), (t + 350, Restart("*"))]
    world.schedule(schedule)
    faults += ["links 2-40 ms", "every voter crashes right after granting a vote and restarts 1 ms later",
               "the leader crashes every 700 ms and restarts 350 ms later"]
    _guarded(world, lambda: world.run(until=7000))
    problem = two_leaders(world)
    if problem:
        raise _with_world(Problem(problem), world)
    return world


# -- 2. liveness ----------------------------------------------------------------
def _await_leader(world, what, eligible=None, bound=BOUND):
    """Run until an up node of ``eligible`` announces itself leader; raise Problem after ``bound`` ms."""
    start_t, start_i = world.now, len(world.trace)
    while True:
        for r, _term in _leaders(world, start_i):
            if (eligible is None or r.node in eligible) and world.state(r.node) == "up":
                return r.node
        if world.now >= start_t + bound:
            break
        _guarded(world, lambda: world.run(duration=10.0))
    elections = _count(world, start_i, "candidate")
    hint = ("no node started an election: when the election timer fires, a follower becomes a candidate"
            if elections == 0 else
            f"{elections} elections started but none won: do the nodes draw different timeouts, "
            "grant votes, and count replies?")
    raise _with_world(Problem(f"no leader within {bound:g} ms {what}; {hint}"), world)


def liveness(factory, seed, faults):
    """Cold start, crash the leader twice (3 of 5 stay up), then cut the leader off with one follower."""
    world = _world(factory, seed)
    rng = seeded_rng(seed, "grading", "liveness")
    _guarded(world, world.start)
    faults.append("cold start")
    leader = _await_leader(world, "after a cold start with all 5 nodes up")
    crashed = []
    for up in (4, 3):
        _guarded(world, lambda: world.run(duration=rng.uniform(200.0, 600.0)))
        leader = _current(world, leader)
        world.crash(leader)
        crashed.append(leader)
        faults.append(f"crash leader {leader} at t={world.now:.1f} ms")
        leader = _await_leader(world, f"after leader {crashed[-1]} crashed at t={world.now:.1f} ms "
                                      f"({up} of 5 nodes up)")
    for n in crashed:
        world.restart(n)
    faults.append(f"restart {', '.join(crashed)} at t={world.now:.1f} ms")
    _guarded(world, lambda: world.run(duration=rng.uniform(300.0, 600.0)))
    leader = _current(world, leader)
    others = [n for n in world.nodes if n != leader]
    rng.shuffle(others)
    minority, majority_side = sorted([leader, others[0]]), sorted(others[1:])
    world.partition(minority, majority_side)
    t_cut = world.now
    faults.append(f"partition {','.join(minority)} | {','.join(majority_side)} at t={t_cut:.1f} ms")
    _await_leader(world, f"on the majority side {','.join(majority_side)} after the partition at "
                         f"t={t_cut:.1f} ms", eligible=majority_side)
    _guarded(world, lambda: world.run(duration=500.0))
    world.heal()
    faults.append(f"heal at t={world.now:.1f} ms")
    _guarded(world, lambda: world.run(duration=1000.0))
    leaders = sorted(s["node"] for s in world.status() if s["state"] == "up" and s["role"] == "leader")
    if len(leaders) != 1:
        raise _with_world(Problem(
            f"1000 ms after the partition healed, {len(leaders)} nodes believe they lead "
            f"({', '.join(leaders) or 'none'}); the old leader must step down when it hears a higher term"),
            world)
    return world


def _current(world, fallback):
    return world.leader() or fallback


# -- 3. no leader without a majority --------------------------------------------
def leader_without_majority(world):
    """The first leader that had not received granted votes (its own included) from a majority."""
    need = len(world.nodes) // 2 + 1
    granted = defaultdict(set)
    groups = None
    for r in world.trace:
        if r.kind in ("crash", "restart", "start"):
            for key in [k for k in granted if k[0] == r.node]:
                del granted[key]
        elif r.kind == "partition":
            groups = r.info["groups"]
        elif r.kind == "heal":
            groups = None
        elif r.kind == "deliver" and isinstance(r.info["msg"], VoteReply) and r.info["msg"].granted:
            granted[(r.node, r.info["msg"].term)].add(r.info["src"])
        elif r.kind == "role" and r.info["role"] == "leader":
            term = _leader_term(r)
            voters = sorted(granted[(r.node, term)] | {r.node})
            if len(voters) < need:
                where = (" during the partition " + " | ".join(",".join(g) for g in groups)) if groups else ""
                return (f"{r.node} became leader of term {term} at t={r.t:.1f} ms{where} with votes from "
                        f"only {', '.join(voters)} (a majority of {len(world.nodes)} is {need}); count each "
                        "voter once, only granted votes, only for the current term")
    return None


def majority(factory, seed, faults):
    """Duplicated messages, a three-way split with no majority, an isolated leader, a minority leader."""
    world = _world(factory, seed)
    world.set_duplicate(0.3)
    rng = seeded_rng(seed, "grading", "majority")
    faults.append("30% of messages delivered twice")
    _guarded(world, lambda: world.run(until=600.0))
    nodes = list(world.nodes)
    rng.shuffle(nodes)
    split = [sorted(nodes[:2]), sorted(nodes[2:4]), [nodes[4]]]
    steps = [(split, 1500.0), (None, 1000.0), ("isolate", 1000.0), ("pair", 1000.0)]
    for groups, hold in steps:
        if groups == "isolate":
            leader = world.leader() or nodes[0]
            groups = [[leader], sorted(n for n in world.nodes if n != leader)]
        elif groups == "pair":
            leader = world.leader() or nodes[0]
            mate = rng.choice([n for n in world.nodes if n != leader])
            groups = [sorted([leader, mate]), sorted(n for n in world.nodes if n not in (leader, mate))]
        if groups:
            world.partition(*groups)
            faults.append(f"partition {' | '.join(','.join(g) for g in groups)} at t={world.now:.1f} ms")
        _guarded(world, lambda: world.run(duration=hold))
        if groups:
            world.heal()
            faults.append(f"heal at t={world.now:.1f} ms")
        _guarded(world, lambda: world.run(duration=500.0))
    problem = leader_without_majority(world)
    if problem:
        raise _with_world(Problem(problem), world)
    return world


# -- 5. heartbeats keep the leader in office --------------------------------------
def heartbeats(factory, seed, faults):
    """No faults but one follower crash: once elected, the leader must stay and nobody run again."""
    world = _world(factory, seed)
    rng = seeded_rng(seed, "grading", "heartbeats")
    _guarded(world, world.start)
    leader = _await_leader(world, "after a cold start with all 5 nodes up")
    since = len(world.trace)
    _guarded(world, lambda: world.run(duration=rng.uniform(500.0, 1500.0)))
    follower = rng.choice([n for n in world.nodes if n != leader])
    world.crash(follower)
    faults.append(f"crash follower {follower} at t={world.now:.1f} ms")
    _guarded(world, lambda: world.run(duration=500.0))
    world.restart(follower)
    faults.append(f"restart {follower} at t={world.now:.1f} ms")
    _guarded(world, lambda: world.run(duration=2500.0))
    for r in world.trace[since:]:
        if r.kind == "role" and r.info["role"] in ("candidate", "leader"):
            raise _with_world(Problem(
                f"{r.node} became {r.info['role']} at t={r.t:.1f} ms although leader {leader} was up and "
                "connected: a leader sends AppendEntries every HEARTBEAT_INTERVAL and a follower that "
                "hears one resets its election timer"), world)
    return world


def _guarded(world, step):
    try:
        step()
    except FaultlabError as e:
        raise _with_world(Problem(f"your node raised an exception: {e}"), world) from None


def _with_world(problem, world):
    problem.world = world
    return problem


SCENARIOS = {"safety": safety, "liveness": liveness, "majority": majority, "heartbeats": heartbeats}


def run(name, factory, seed):
    """Run scenario ``name``: returns (world, faults, problem or None)."""
    return _run(SCENARIOS[name], factory, seed)
