"""Single-decree Paxos: one test per rule, dueling proposers, faults, and the checker."""
import pytest

from faultlab import ConfigError, Harness, nemesis
from faultlab.check import paxos as check_paxos
from faultlab.protocols import paxos
from faultlab.protocols.paxos import (NO_BALLOT, Accept, Accepted, Nack, Paxos, Prepare, Promise)

NAMES = ["n1", "n2", "n3"]
DUEL_SEEDS = range(5)  # the duel is built (constant link delay), so it must happen for every seed
BROKEN_ACCEPTOR_SEED = 18   # forget_on_restart under random faults: two values chosen


def harness(proposers=("n1", "n2"), **kw):
    return Harness(lambda: Paxos(proposers=list(proposers), **kw), names=NAMES)


def deliver(h, msgs, to=None):
    for src, dst, m in msgs:
        if to is None or dst in to:
            h.deliver(dst, src, m)


def choose_first_value(h):
    """n1 runs both phases with n1 and n2 only; returns the chosen ballot."""
    h.take(src="n2")                                          # n2's first Prepare is lost
    deliver(h, h.take(src="n1", kind="Prepare"), to={"n1", "n2"})
    deliver(h, h.take(kind="Promise"))
    deliver(h, h.take(src="n1", kind="Accept"), to={"n1", "n2"})
    deliver(h, h.take(kind="Accepted"))
    return (1, "n1")


# -- acceptor rules -------------------------------------------------------------

def test_acceptor_promises_a_new_ballot_and_reports_nothing_accepted():
    h = harness(proposers=["n1"])
    h.deliver("n3", "n1", Prepare((1, "n1")))
    assert h.take(src="n3") == [("n3", "n1", Promise((1, "n1"), NO_BALLOT, None))]
    assert h.storage["n3"]["promised"] == (1, "n1")


def test_an_acceptor_never_accepts_a_ballot_lower_than_one_it_promised():
    h = harness(proposers=["n1"])
    h.deliver("n3", "n2", Prepare((5, "n2")))
    h.take()
    h.deliver("n3", "n1", Accept((4, "n1"), "x"))
    assert h.take(src="n3") == [("n3", "n1", Nack((4, "n1"), (5, "n2")))]
    assert h.storage["n3"]["accepted"] is None


def test_an_acceptor_never_promises_a_ballot_lower_than_one_it_promised():
    h = harness(proposers=["n1"])
    h.deliver("n3", "n2", Prepare((5, "n2")))
    h.take()
    h.deliver("n3", "n1", Prepare((3, "n1")))
    assert h.take(src="n3") == [("n3", "n1", Nack((3, "n1"), (5, "n2")))]


def test_a_promise_carries_the_last_accepted_value():
    h = harness(proposers=["n1"])
    h.deliver("n3", "n1", Accept((2, "n1"), "x"))
    h.take()
    h.deliver("n3", "n2", Prepare((3, "n2")))
    assert h.take(src="n3") == [("n3", "n2", Promise((3, "n2"), (2, "n1"), "x"))]


def test_promises_and_acceptances_survive_a_restart():
    h = harness(proposers=["n1"])
    h.deliver("n3", "n1", Accept((2, "n1"), "x"))
    h.boot("n3")
    assert h.storage["n3"]["promised"] == (2, "n1") and h.storage["n3"]["accepted"] == ((2, "n1"), "x")


# -- proposer and learner rules ------------------------------------------------------

def test_a_proposer_adopts_the_value_of_the_highest_ballot_among_the_promises():
    h = harness(proposers=["n1"])
    h.take()
    h.deliver("n1", "n2", Promise((1, "n1"), (1, "n9"), "old"))
    h.deliver("n1", "n3", Promise((1, "n1"), (3, "n8"), "newer"))
    assert {m for _, _, m in h.take(src="n1", kind="Accept")} == {Accept((1, "n1"), "newer")}


def test_a_proposer_proposes_its_own_value_only_if_no_promise_reports_one():
    h = harness(proposers=["n1"], value=None)
    h.take()
    h.deliver("n1", "n2", Promise((1, "n1"), NO_BALLOT, None))
    h.deliver("n1", "n3", Promise((1, "n1"), NO_BALLOT, None))
    assert {m for _, _, m in h.take(src="n1", kind="Accept")} == {Accept((1, "n1"), "v-n1")}


def test_a_learner_learns_only_from_a_majority_in_one_ballot():
    h = harness(proposers=["n1"])
    h.deliver("n3", "n1", Accepted((1, "n1"), "x"))
    h.deliver("n3", "n2", Accepted((2, "n2"), "x"))
    assert h.nodes["n3"].learned is None               # two ballots: not (yet) a majority
    h.deliver("n3", "n2", Accepted((1, "n1"), "x"))
    assert h.nodes["n3"].learned == "x"
    assert ("n3", "learn", {"slot": 0, "value": "x", "ballot": (1, "n1")}) in h.notes


def test_a_restarted_proposer_never_reuses_a_ballot():
    h = harness(proposers=["n1"])
    h.boot("n1")
    assert {m.ballot for _, _, m in h.take(src="n1", kind="Prepare")} == {(1, "n1"), (2, "n1")}


# -- the checker catches a broken acceptor ---------------------------------------------

def test_a_durable_acceptor_makes_the_second_proposer_adopt_the_chosen_value():
    h = harness()
    choose_first_value(h)
    h.boot("n2")                                              # n2 restarts and proposes
    deliver(h, h.take(src="n2", kind="Prepare"), to={"n2", "n3"})
    deliver(h, h.take(kind="Promise", dst="n2"))
    accepts = h.take(src="n2", kind="Accept")
    assert {m.value for _, _, m in accepts} == {"v-n1"}
    deliver(h, accepts, to={"n2", "n3"})
    deliver(h, h.take(kind="Accepted"))
    result = check_paxos.check(h)
    assert result.ok and result.stats["slots_chosen"] == 1


def test_checker_catches_an_acceptor_that_forgets_its_promise_on_restart():
    h = harness(forget_on_restart=True)                      # BROKEN on purpose
    choose_first_value(h)
    h.boot("n2")
    deliver(h, h.take(src="n2", kind="Prepare"), to={"n2", "n3"})
    deliver(h, h.take(kind="Promise", dst="n2"))
    deliver(h, h.take(src="n2", kind="Accept"), to={"n2", "n3"})
    deliver(h, h.take(kind="Accepted"))
    result = check_paxos.check(h)
    assert result.verdict == "violated"
    kinds = {v["kind"] for v in result.violations}
    assert kinds == {"two-values-chosen", "learners-disagree"}
    two = [v for v in result.violations if v["kind"] == "two-values-chosen"][0]
    assert [(c["value"], c["ballot"], c["acceptors"]) for c in two["chosen"]] == \
        [("v-n1", (1, "n1"), ["n1", "n2"]), ("v-n2", (2, "n2"), ["n2", "n3"])]
    assert "'v-n1' was chosen in ballot (1, 'n1')" in result.explanation


def test_checker_flags_a_learner_that_learned_an_unchosen_value():
    recs = [faultlab_record("n1", "accept", slot=0, ballot=(1, "n1"), value="a"),
            faultlab_record("n2", "learn", slot=0, value="b")]
    result = check_paxos.check(recs, n=3)
    assert [v["kind"] for v in result.violations] == ["learned-unchosen"]


def faultlab_record(node, text, **fields):
    from faultlab.trace import Record
    return Record(1.0, "note", node, dict(text=text, **fields))


def test_checker_needs_the_number_of_acceptors_for_bare_records():
    with pytest.raises(ValueError, match="pass n="):
        check_paxos.check([faultlab_record("n1", "accept", slot=0, ballot=(1, "n1"), value="a")])


# -- dueling proposers and the fix ---------------------------------------------------

def _first_learn(w):
    times = [r.t for r in w.trace if r.kind == "note" and r.info["text"] == "learn"]
    return min(times) if times else None


def _notes(w, text):
    return [r for r in w.trace if r.kind == "note" and r.info["text"] == text]


@pytest.mark.parametrize("seed", DUEL_SEEDS)
def test_naive_retry_duels_without_deciding_whatever_the_seed(seed):
    w = paxos.dueling("naive", seed=seed, until=2000)
    assert _first_learn(w) is None
    rounds = _notes(w, "propose")
    assert len(rounds) > 500 and {r.node for r in rounds} == {"n1", "n2"}
    failed = _notes(w, "round failed")
    assert len(failed) >= len(rounds) - 2 and {r.info["why"] for r in failed} == {"pre-empted"}
    accepts = [r for r in w.trace if r.kind == "deliver" and type(r.info["msg"]).__name__ == "Accept"]
    assert len(accepts) > 100                                 # phase 2 is reached, over and over ...
    result = check_paxos.check(w)
    assert result.stats["accepts"] == 0                       # ... and every Accept is refused
    assert result.verdict == "unknown" and not result.violations   # livelock: nothing to judge


def test_the_naive_duel_is_the_same_run_for_every_seed():
    """Nothing in it is drawn at random: the duel comes from the construction, not from a seed."""
    digests = {paxos.dueling("naive", seed=seed, until=300).trace_digest() for seed in DUEL_SEEDS}
    assert len(digests) == 1


@pytest.mark.parametrize("retry", ["backoff", "leader"])
@pytest.mark.parametrize("seed", DUEL_SEEDS)
def test_backoff_or_a_distinguished_proposer_decides_in_the_same_setting(retry, seed):
    w = paxos.dueling(retry, seed=seed, until=2000)
    t = _first_learn(w)
    assert t is not None and t < 100
    assert len(set(paxos.learned(w).values())) == 1 and None not in paxos.learned(w).values()


def test_backoff_ends_a_duel_that_naive_retry_is_stuck_in():
    """Three proposers on five nodes: naive retry rarely decides in a second, back-off always does."""
    stuck = 0
    for seed in range(10):
        naive = paxos.build(5, seed=seed, retry="naive", proposers=("n1", "n2", "n3"))
        naive.run(until=1000)
        stuck += _first_learn(naive) is None
        fixed = paxos.build(5, seed=seed, retry="backoff", proposers=("n1", "n2", "n3"))
        fixed.run(until=1000)
        assert _first_learn(fixed) is not None
    assert stuck >= 5


# -- loss, duplication, reordering, crashes ----------------------------------------------

def faulty_run(seed, forget=False):
    w = paxos.build(5, seed=seed, proposers=("n1", "n2", "n3"), timeout=50, forget_on_restart=forget)
    w.set_loss(0.1), w.set_duplicate(0.1), w.set_reorder(0.2)
    w.schedule(nemesis.random_schedule(w.nodes, 1500, seed=seed, every=100, heal_after=80, start=5))
    w.run(until=1500)
    w.set_loss(0), w.heal()
    for node in w.nodes:
        w.resume(node), w.restart(node)
    w.run(until=3000)
    return w


def test_safe_and_decided_under_loss_duplication_reordering_and_crashes():
    for seed in range(100):
        w = faulty_run(seed)
        result = check_paxos.check(w)
        assert result.ok, (seed, result.explanation)
        values = paxos.learned(w)
        assert len(set(values.values())) == 1 and None not in values.values(), seed


def test_random_faults_expose_the_forgetful_acceptor_for_a_named_seed():
    result = check_paxos.check(faulty_run(BROKEN_ACCEPTOR_SEED, forget=True))
    assert result.verdict == "violated" and result.violations[0]["kind"] == "two-values-chosen"


# -- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("kw,words", [({"retry": "sometimes"}, "unknown retry policy 'sometimes'"),
                                      ({"timeout": 0}, "timeout must be a positive"),
                                      ({"backoff": -1}, "backoff must be a positive")])
def test_bad_options(kw, words):
    with pytest.raises(ConfigError, match=words):
        Paxos(**kw)


def test_bad_cluster():
    with pytest.raises(ConfigError, match="at least one acceptor"):
        paxos.build(0)
    with pytest.raises(ConfigError, match="proposers must be some of n1, n2, n3"):
        paxos.build(3, proposers=("n7",))


def test_same_seed_same_trace():
    def digest(seed):
        w = faulty_run(seed)
        return w.trace_digest()
    assert digest(3) == digest(3) and digest(3) != digest(4)
