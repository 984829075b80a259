"""Hand-stepped scenarios for lab 1: one Raft rule each, no randomness, no timing luck.

The grader plays the network with ``faultlab.sim.Harness``: it fires timers,
delivers chosen messages (some from an old term on purpose) and reads what the
student's node answered. A scenario returns None or the first broken rule;
``story`` retells the harness's transcript for ``lab.reproduce``.
"""
from __future__ import annotations

from ..sim import Harness
from .election_kit import AppendEntries, AppendReply, RequestVote, VoteReply


class Broken(Exception):
    """A rule the node broke, as one sentence."""


_STEPS = ("start", "restart", "deliver", "timer", "remark")


def _heading(r):
    if r.kind in ("start", "restart"):
        return f"boot {r.node} (its storage: {r.info['storage']})"
    if r.kind == "deliver":
        return f"deliver to {r.node} from {r.info['src']}: {r.info['msg']}"
    if r.kind == "timer":
        return f"t={r.t:.1f} ms: fire {r.node}'s timer {r.info['name']!r}"
    return r.info["text"]


def story(h):
    """The harness transcript as ``lab.reproduce`` prints it: each step of the grader, then what
    the node sent and the role it ended the step in, if that changed (a step that raised shows
    only its heading: the error is the last line of the report)."""
    lines, announced, step = [], {}, []
    for r in h.transcript + [None]:
        if step and (r is None or r.kind in _STEPS):
            head, answers = step[0], step[1:]
            before = announced.get(head.node)
            announced.update((a.node, (a.info["role"], a.info["term"]))
                             for a in answers if a.kind == "role")
            lines.append(_heading(head))
            if not any(a.kind == "error" for a in answers):
                lines += [f"    {a.node} -> {a.info['dst']}: {a.info['msg']}"
                          for a in answers if a.kind == "send"]
                if head.node is not None and announced.get(head.node) != before:
                    role, term = announced[head.node]
                    lines.append(f"    {head.node} announces {role} in term {term}")
            step = []
        if r is not None:
            step.append(r)
    return lines


def _role(h, node):
    return h.roles.get(node, (None, None))


def _fire_election(h, node, limit=20):
    """Fire ``node``'s timers in deadline order until it asks for votes; return its RequestVote."""
    sent, fired = [], []
    while not sent and len(fired) < limit:
        if not h.timers[node]:
            raise Broken(f"{node} has no timer pending (fired so far: {fired or 'none'}): a follower arms "
                         "its election timer in on_start and whenever it must wait for a leader")
        name = min(h.timers[node], key=h.timers[node].get)
        h.now = max(h.now, h.timers[node][name])
        h.fire(node, name)
        fired.append(name)
        sent = h.take(src=node, kind="RequestVote")
    peers = sorted(dst for _src, dst, _msg in sent)
    expected = sorted(n for n in h.names if n != node)
    if peers != expected:
        raise Broken(f"after its timers fired ({', '.join(map(repr, fired))}), {node} sent RequestVote to "
                     f"{', '.join(peers) or 'nobody'}; when its election timer fires, a follower becomes a "
                     f"candidate and asks every peer ({', '.join(expected)}) for a vote")
    terms = {msg.term for _s, _d, msg in sent}
    if len(terms) != 1:
        raise Broken(f"{node} asked for votes in several terms at once: {sorted(terms)}")
    return sent[0][2]


def _answer(h, src, dst, kind):
    """The single reply of type ``kind`` that ``src`` sent to ``dst``."""
    got = h.take(src=src, dst=dst, kind=kind)
    if len(got) != 1:
        raise Broken(f"{src} should answer {dst} with exactly one {kind}, but sent {len(got)}")
    return got[0][2]


def revote_after_crash(h):
    """n1 and n2 run in term 1; n3 votes for n1, crashes, restarts, then hears n2."""
    rv1 = _fire_election(h, "n1")
    rv2 = _fire_election(h, "n2")
    if rv1.term != 1 or rv2.term != 1:
        raise Broken(f"a fresh node's first election should be for term 1 (terms start at 0), "
                     f"got n1 term {rv1.term} and n2 term {rv2.term}")
    h.deliver("n3", "n1", rv1)
    first = _answer(h, "n3", "n1", "VoteReply")
    if not first.granted:
        raise Broken("n3 (a follower in term 0) refused its vote to n1, the first candidate of term 1; "
                     "a node grants its vote to the first candidate that asks in a term")
    h.remark("crash n3 (everything on self is lost, ctx.storage is kept)")
    h.crash_and_restart("n3")
    h.deliver("n3", "n2", rv2)
    second = _answer(h, "n3", "n2", "VoteReply")
    if second.granted:
        raise Broken("n3 voted for n1 in term 1, crashed, restarted and then voted for n2 in term 1 too: "
                     "with both votes, n1 and n2 both lead term 1; the vote must survive a crash "
                     "(ctx.storage)")
    return None


def term_rules(h):
    """Adopt higher terms, refuse stale RequestVote/AppendEntries, ignore stale votes, step down."""
    h.deliver("n1", "n2", AppendEntries(3, "n2"))
    if _role(h, "n1") != ("follower", 3):
        raise Broken(f"after AppendEntries(term=3) from leader n2, n1 should be follower in term 3, "
                     f"but announced {_role(h, 'n1')}; a higher term is adopted at once")
    ok = _answer(h, "n1", "n2", "AppendReply")
    if ok != AppendReply(3, True):
        raise Broken(f"n1 should answer the term-3 leader's heartbeat with AppendReply(term=3, success=True), "
                     f"sent {ok}")
    h.deliver("n1", "n3", RequestVote(2, "n3"))
    reply = _answer(h, "n1", "n3", "VoteReply")
    if reply.granted or reply.term != 3:
        raise Broken(f"n1 (term 3) got RequestVote(term=2) and answered {reply}; a request from an older "
                     "term must be refused with the current term: VoteReply(term=3, granted=False)")
    h.now += 10.0
    h.remark(f"the clock moves on to t={h.now:g} ms")
    timers = dict(h.timers["n1"])
    h.deliver("n1", "n3", AppendEntries(2, "n3"))
    stale = _answer(h, "n1", "n3", "AppendReply")
    if stale != AppendReply(3, False) or _role(h, "n1") != ("follower", 3):
        raise Broken(f"n1 (term 3) got AppendEntries(term=2) from a deposed leader and answered {stale}, "
                     f"role now {_role(h, 'n1')}; it must refuse with AppendReply(term=3, success=False)")
    if h.timers["n1"] != timers:
        raise Broken("n1 (term 3) reset its timers on AppendEntries(term=2): a deposed leader's heartbeat "
                     "must not keep a follower from electing a new leader")
    h.deliver("n1", "n3", RequestVote(4, "n3"))
    vote = _answer(h, "n1", "n3", "VoteReply")
    if vote != VoteReply(4, True) or _role(h, "n1") != ("follower", 4):
        raise Broken(f"n1 (term 3, no vote yet in term 4) got RequestVote(term=4) and answered {vote}; "
                     "it should adopt term 4 and grant: VoteReply(term=4, granted=True)")
    rv = _fire_election(h, "n1")
    if rv.term != 5 or _role(h, "n1") != ("candidate", 5):
        raise Broken(f"n1 in term 4 started an election as {_role(h, 'n1')} asking for term {rv.term}; "
                     "a candidate increments its term (to 5) and announces ctx.set_role('candidate', 5)")
    h.deliver("n1", "n2", VoteReply(4, True))
    if _role(h, "n1")[0] == "leader":
        raise Broken("n1 (candidate in term 5) became leader on a vote granted in term 4: a late reply "
                     "from an old election must not count")
    h.deliver("n1", "n3", VoteReply(5, True))
    if _role(h, "n1") != ("leader", 5):
        raise Broken(f"n1 (candidate in term 5) with its own vote and n3's (2 of 3) should be leader of "
                     f"term 5, but announced {_role(h, 'n1')}")
    h.take()
    h.deliver("n1", "n3", AppendReply(6, False))
    if _role(h, "n1") != ("follower", 6):
        raise Broken(f"leader n1 (term 5) heard term 6 from n3 and announced {_role(h, 'n1')}; "
                     "any message with a higher term makes a leader step down to follower in that term")
    return None


SCENARIOS = {"revote": revote_after_crash, "terms": term_rules}


def step(name, factory):
    """Run hand-stepped scenario ``name``: (broken rule or None, the harness or None);
    ``story(harness)`` tells what happened."""
    h = None
    try:
        h = Harness(factory, start=False)
        for node in h.names:
            h.boot(node)
        return SCENARIOS[name](h), h
    except Broken as b:
        return str(b), h
    except Exception as e:  # noqa: BLE001 - the student's code may raise anything
        return f"your node raised {type(e).__name__}: {e}", h
