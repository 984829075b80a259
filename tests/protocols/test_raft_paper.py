"""Raft, one test per sentence of the paper (Ongaro & Ousterhout 2014), stepped by hand.

Each test quotes the sentence it checks, drives nodes through faultlab.sim.Harness
(init / step / check) and looks at their state and at what they sent.
"""
import pytest

from faultlab.protocols.raft import Raft
from faultlab.protocols.raft_messages import (NOOP, AppendEntries, AppendReply, Command, RequestVote,
                                              VoteReply)
from faultlab.sim import Harness
from faultlab.workloads import Op


def cluster(n=3, start=True, **opts):
    return Harness(lambda: Raft(**opts), names=[f"n{i}" for i in range(1, n + 1)], start=start)


def elect(h, name="n1"):
    """Fire ``name``'s election timer and deliver everything that follows."""
    h.fire(name, "election")
    h.flush()
    assert h.roles[name][0] == "leader"
    return h.nodes[name]


def cmd(i, f="put", key="k", value="v"):
    return Command(i, f, key, value)


def op(i, f="put", key="k", value="v", client="c1"):
    return Op(i, client, 0, f, key, value)


def seed_log(h, name, entries, term):
    """Give a stopped node a durable past (used with cluster(start=False))."""
    h.storage[name].update(term=term, voted_for=None, log=list(entries))


# -- 5.1 basics ---------------------------------------------------------------------
def test_servers_begin_as_followers():
    """"When servers start up, they begin as followers." """
    h = cluster()
    assert h.roles == {n: ("follower", 0) for n in ("n1", "n2", "n3")}


def test_stale_term_requests_are_rejected():
    """"If a server receives a request with a stale term number, it rejects the request." """
    h = cluster()
    h.storage["n2"]["term"] = 5
    h.deliver("n2", "n1", AppendEntries(3, "n1", 0, 0, (), 0))
    assert h.take(src="n2") == [("n2", "n1", AppendReply(5, False))]
    h.deliver("n2", "n1", RequestVote(4, "n1", 0, 0))
    assert h.take(src="n2") == [("n2", "n1", VoteReply(5, False))]


def test_out_of_date_leader_reverts_to_follower():
    """"If a candidate or leader discovers that its term is out of date, it immediately reverts to
    follower state" and "updates its current term to the larger value"."""
    h = cluster()
    leader = elect(h)
    h.deliver("n1", "n2", AppendReply(7, False))
    assert h.roles["n1"] == ("follower", 7) and leader.term == 7 and h.storage["n1"]["term"] == 7
    assert "heartbeat" not in h.timers["n1"] and "election" in h.timers["n1"]


# -- 5.2 leader election --------------------------------------------------------------
def test_follower_without_leader_starts_an_election_after_its_timeout():
    """"If a follower receives no communication over a period of time called the election timeout,
    then it assumes there is no viable leader and begins an election" — with timeouts "chosen
    randomly from a fixed interval (e.g., 150–300ms)"."""
    h = cluster(5)
    timeouts = [h.timers[n]["election"] for n in h.names]
    assert all(150 <= t <= 300 for t in timeouts)
    assert len(set(timeouts)) == 5                       # randomized per server


def test_a_candidate_increments_its_term_and_votes_for_itself():
    """"To begin an election, a follower increments its current term and transitions to candidate
    state. It then votes for itself and issues RequestVote RPCs in parallel to each of the other
    servers." """
    h = cluster()
    h.fire("n1", "election")
    assert h.roles["n1"] == ("candidate", 1)
    assert h.storage["n1"]["voted_for"] == "n1" and h.storage["n1"]["term"] == 1
    sent = h.take(src="n1")
    assert sorted(dst for _s, dst, _m in sent) == ["n2", "n3"]
    assert all(m == RequestVote(1, "n1", 0, 0) for _s, _d, m in sent)


def test_a_server_grants_at_most_one_vote_per_term_first_come_first_served():
    """"Each server will vote for at most one candidate in a given term, on a first-come-first-served
    basis." """
    h = cluster()
    h.deliver("n2", "n1", RequestVote(1, "n1", 0, 0))
    h.deliver("n2", "n3", RequestVote(1, "n3", 0, 0))
    h.deliver("n2", "n1", RequestVote(1, "n1", 0, 0))    # a retransmission gets the same answer
    assert [m for _s, _d, m in h.take(src="n2")] == [VoteReply(1, True), VoteReply(1, False),
                                                       VoteReply(1, True)]


def test_a_candidate_wins_with_votes_from_a_majority():
    """"A candidate wins an election if it receives votes from a majority of the servers in the full
    cluster for the same term." """
    h = cluster(5)
    h.fire("n1", "election")
    h.take()
    h.deliver("n1", "n2", VoteReply(1, True))
    assert h.roles["n1"] == ("candidate", 1)             # 2 of 5
    h.deliver("n1", "n2", VoteReply(1, True))            # a duplicate vote does not count twice
    assert h.roles["n1"] == ("candidate", 1)
    h.deliver("n1", "n3", VoteReply(1, True))
    assert h.roles["n1"] == ("leader", 1)                # 3 of 5


def test_votes_from_an_older_term_do_not_count():
    h = cluster()
    h.fire("n1", "election")
    h.fire("n1", "election")                            # split vote: a new term
    h.take()
    h.deliver("n1", "n2", VoteReply(1, True))
    assert h.roles["n1"] == ("candidate", 2)


def test_a_candidate_returns_to_follower_when_a_legitimate_leader_appears():
    """"If the leader's term ... is at least as large as the candidate's current term, then the
    candidate recognizes the leader as legitimate and returns to follower state." """
    h = cluster()
    h.fire("n1", "election")
    h.deliver("n1", "n2", AppendEntries(1, "n2", 0, 0, (), 0))
    assert h.roles["n1"] == ("follower", 1) and h.nodes["n1"].leader == "n2"


def test_leaders_send_empty_append_entries_as_heartbeats():
    """"Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all
    followers in order to maintain their authority." """
    h = cluster()
    elect(h)
    assert h.timers["n1"]["heartbeat"] == h.now + 50
    h.fire("n1", "heartbeat")
    sent = h.take(src="n1")
    assert sorted(d for _s, d, _m in sent) == ["n2", "n3"]
    assert all(isinstance(m, AppendEntries) and m.entries == () for _s, _d, m in sent)


# -- 5.3 log replication ----------------------------------------------------------------
def test_the_leader_appends_the_command_and_replicates_it():
    """"The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in
    parallel to each of the other servers to replicate the entry." """
    h = cluster()
    leader = elect(h)
    h.request("n1", op(1))
    assert leader.log[-1] == (1, cmd(1))
    sent = h.take(src="n1")
    assert len(sent) == 2 and all(m.entries == ((1, cmd(1)),) for _s, _d, m in sent)


def test_a_committed_entry_is_applied_and_answered():
    """"When the entry has been safely replicated ..., the leader applies the entry to its state
    machine and returns the result of that execution to the client." """
    h = cluster()
    leader = elect(h)
    h.request("n1", op(1, value="x"))
    assert h.replies == []                               # not before a majority holds it
    h.flush()
    assert leader.commit_index == 2 and leader.kv.data == {"k": "x"}
    assert h.replies == [("n1", op(1, value="x"), "ok", "x")]


def test_followers_apply_entries_once_they_learn_they_are_committed():
    """"Once a follower learns that a log entry is committed, it applies the entry to its local
    state machine (in log order)." """
    h = cluster()
    elect(h)
    h.request("n1", op(1, value="x"))
    h.flush()
    assert h.nodes["n2"].commit_index < 2
    h.fire("n1", "heartbeat")
    h.flush()
    assert h.nodes["n2"].commit_index == 2 and h.nodes["n2"].kv.data == {"k": "x"}


def test_the_leader_retries_append_entries_after_a_loss():
    """"If followers crash or run slowly, or if network packets are lost, the leader retries
    AppendEntries RPCs indefinitely." """
    h = cluster()
    elect(h)
    h.request("n1", op(1))
    assert len(h.take(src="n1")) == 2                    # both copies lost
    h.fire("n1", "heartbeat")
    h.flush()
    assert h.nodes["n2"].log == h.nodes["n1"].log == [(1, NOOP), (1, cmd(1))]


def test_a_follower_rejects_append_entries_whose_prev_log_does_not_match():
    """"If the follower does not find an entry in its log with the same index and term, then it
    refuses the new entries." """
    h = cluster(start=False)
    seed_log(h, "n2", [(1, cmd(1)), (2, cmd(2))], term=2)
    h.boot("n2")
    h.deliver("n2", "n1", AppendEntries(3, "n1", 2, 3, ((3, cmd(9)),), 0))
    assert h.nodes["n2"].log == [(1, cmd(1)), (2, cmd(2))]
    assert h.take(src="n2")[0][2] == AppendReply(3, False, conflict_index=2, conflict_term=2, rejected=2)
    h.deliver("n2", "n1", AppendEntries(3, "n1", 5, 3, (), 0))   # log too short
    assert h.take(src="n2")[0][2] == AppendReply(3, False, conflict_index=3, rejected=5)


def test_a_conflicting_entry_and_all_that_follow_it_are_deleted():
    """"If an existing entry conflicts with a new one (same index but different terms), delete the
    existing entry and all that follow it" (Figure 2), then append the new ones."""
    h = cluster(start=False)
    seed_log(h, "n2", [(1, cmd(1)), (2, cmd(2)), (2, cmd(3))], term=2)
    h.boot("n2")
    h.deliver("n2", "n1", AppendEntries(3, "n1", 1, 1, ((3, cmd(7)),), 0))
    assert h.nodes["n2"].log == [(1, cmd(1)), (3, cmd(7))]
    assert h.storage["n2"]["log"] == [(1, cmd(1)), (3, cmd(7))]        # durable
    assert h.take(src="n2")[0][2] == AppendReply(3, True, match=2)


def test_a_late_duplicate_append_entries_does_not_truncate_the_log():
    """Only a *conflict* deletes entries: an old AppendEntries arriving late must not cut entries
    that a newer one already added (the follower would forget entries it acknowledged)."""
    h = cluster()
    h.deliver("n2", "n1", AppendEntries(1, "n1", 0, 0, ((1, cmd(1)), (1, cmd(2))), 0))
    h.deliver("n2", "n1", AppendEntries(1, "n1", 0, 0, ((1, cmd(1)),), 0))
    assert h.nodes["n2"].log == [(1, cmd(1)), (1, cmd(2))]
    assert [m.match for _s, _d, m in h.take(src="n2")] == [2, 1]


def test_a_leader_never_overwrites_its_log():
    """"A leader never overwrites or deletes entries in its own log; it only appends new entries." """
    h = cluster()
    leader = elect(h)
    h.request("n1", op(1))
    before = list(leader.log)
    h.deliver("n1", "n2", AppendEntries(0, "n2", 0, 0, ((0, cmd(9)),), 0))   # an old leader
    h.deliver("n1", "n2", AppendReply(1, False, conflict_index=1))            # a follower lagging
    assert leader.log == before and h.roles["n1"] == ("leader", 1)


def test_fast_backup_skips_a_whole_conflicting_term_in_one_round_trip():
    """The optimisation of §5.3: "the follower can include the term of the conflicting entry and the
    first index it stores for that term", so the leader bypasses all conflicting entries of that term
    in one AppendEntries round trip instead of one per entry."""
    h = cluster(start=False)
    common = [(1, cmd(1))]
    seed_log(h, "n1", common + [(3, cmd(100 + i)) for i in range(5)], term=3)
    seed_log(h, "n2", common + [(2, cmd(200 + i)) for i in range(30)], term=2)
    seed_log(h, "n3", common + [(3, cmd(100 + i)) for i in range(5)], term=3)
    for n in h.names:
        h.boot(n)
    h.fire("n1", "election")
    h.flush()
    from_n2 = [r.info["msg"] for r in h.records("deliver", "n1", src="n2")
               if isinstance(r.info["msg"], AppendReply)]
    assert [m.success for m in from_n2] == [False, True]
    assert from_n2[0].conflict_term == 2 and from_n2[0].conflict_index == 2
    assert h.nodes["n2"].log == h.nodes["n1"].log and len(h.nodes["n1"].log) == 7


# -- 5.4 safety -----------------------------------------------------------------------
@pytest.mark.parametrize("voter_log, granted", [
    ([(1, "a"), (2, "b")], False),             # voter's last term is later
    ([(1, "a"), (1, "b"), (1, "c")], False),   # same last term, voter's log is longer
    ([(1, "a"), (1, "b")], True),              # equally up to date
    ([(1, "a")], True),
])
def test_a_voter_denies_its_vote_if_its_own_log_is_more_up_to_date(voter_log, granted):
    """"The voter denies its vote if its own log is more up-to-date than that of the candidate."
    "If the logs have last entries with different terms, then the log with the later term is more
    up-to-date. If the logs end with the same term, then whichever log is longer is more up-to-date." """
    h = cluster(start=False)
    seed_log(h, "n2", [(t, Command(c, "put", "k", c)) for t, c in voter_log], term=2)
    h.boot("n2")
    h.deliver("n2", "n1", RequestVote(3, "n1", last_index=2, last_term=1))
    assert h.take(src="n2")[0][2] == VoteReply(3, granted)
    assert h.storage["n2"]["voted_for"] == ("n1" if granted else None)


def test_commit_index_only_advances_by_counting_replicas_of_current_term_entries():
    """Figure 8: "Raft never commits log entries from previous terms by counting replicas. Only log
    entries from the leader's current term are committed by counting replicas; once an entry from the
    current term has been committed in this way, then all prior entries are committed indirectly." """
    h = cluster(start=False)
    seed_log(h, "n1", [(1, cmd(1)), (2, cmd(2))], term=2)      # index 2 exists only on n1
    seed_log(h, "n2", [(1, cmd(1))], term=2)
    seed_log(h, "n3", [(1, cmd(1))], term=2)
    for n in h.names:
        h.boot(n)
    h.fire("n1", "election")
    for _s, _d, m in h.take(src="n1"):
        h.deliver("n1", "n2", VoteReply(m.term, True))
    leader = h.nodes["n1"]
    assert h.roles["n1"] == ("leader", 3) and leader.log[-1] == (3, NOOP)
    h.take()
    h.deliver("n1", "n2", AppendReply(3, True, match=2))       # the term-2 entry is on a majority...
    assert leader.commit_index == 0                            # ...but is not committed by counting
    h.deliver("n1", "n2", AppendReply(3, True, match=3))       # the term-3 no-op is on a majority
    assert leader.commit_index == 3                            # so index 2 commits with it


def test_restart_recovers_term_vote_and_log_from_storage():
    """Figure 2: currentTerm, votedFor and log[] are "persistent state on all servers (updated on
    stable storage before responding to RPCs)"; a restarted server keeps its vote."""
    h = cluster()
    h.deliver("n2", "n1", RequestVote(4, "n1", 0, 0))
    h.deliver("n2", "n1", AppendEntries(4, "n1", 0, 0, ((4, cmd(1)),), 1))
    assert h.take(src="n2")[0][2] == VoteReply(4, True)      # stored before this reply was sent
    h.boot("n2")                                              # crash and restart
    node = h.nodes["n2"]
    assert (node.term, node.voted_for, node.log) == (4, "n1", [(4, cmd(1))])
    h.deliver("n2", "n3", RequestVote(4, "n3", 5, 4))
    assert h.take(src="n2")[-1][2] == VoteReply(4, False)     # no second vote in term 4


def test_the_state_machine_is_volatile_and_rebuilt_by_replaying_the_log():
    h = cluster()
    elect(h)
    h.request("n1", op(1, value="x"))
    h.request("n1", op(2, f="append", value="y"))
    h.flush()
    h.fire("n1", "heartbeat")
    h.flush()
    assert h.nodes["n2"].kv.data == {"k": "xy"}
    h.boot("n2")
    fresh = h.nodes["n2"]
    assert (fresh.commit_index, fresh.last_applied, fresh.kv.data) == (0, 0, {})
    h.fire("n1", "heartbeat")
    h.flush()
    assert (fresh.commit_index, fresh.last_applied, fresh.kv.data) == (3, 3, {"k": "xy"})


# -- clients ----------------------------------------------------------------------------
def test_a_follower_refuses_client_requests_and_names_the_leader():
    """"If a client contacts a follower, the follower rejects it and supplies information about the
    most recent leader it has heard from" (§8)."""
    h = cluster()
    elect(h)
    h.request("n2", op(1))
    assert h.replies == [("n2", op(1), "fail", "not leader")]
    assert h.records("reply", "n2")[0].info["leader"] == "n1"
    assert h.nodes["n2"].leader == "n1"


def test_a_request_delivered_twice_is_applied_once():
    """Client op ids are unique, so a request the network duplicated is dropped, and a command that
    still reaches the log twice is applied only once (§8: "the state machine ... responds
    immediately without re-executing the request")."""
    h = cluster()
    leader = elect(h)
    h.request("n1", op(1, f="append", value="x"))
    h.request("n1", op(1, f="append", value="x"))              # duplicated by the network
    h.flush()
    assert [e for e in leader.log if e[1] != NOOP] == [(1, Command(1, "append", "k", "x"))]
    assert len(h.replies) == 1
    twice = Command(2, "append", "k", "z")
    assert leader.kv.apply(twice) == ("ok", "xz")
    assert leader.kv.apply(twice) == ("ok", "xz") and leader.kv.data == {"k": "xz"}


def test_reads_go_through_the_log():
    h = cluster()
    leader = elect(h)
    h.request("n1", op(1, f="read", key=None, value=None))
    assert leader.log[-1][1].f == "read" and h.replies == []
    h.flush()
    assert h.replies == [("n1", op(1, f="read", key=None, value=None), "ok", None)]   # unset: None


@pytest.mark.parametrize("ops, last", [
    ([op(1, "get", "a", None)], ("ok", "")),                                  # unset key reads ""
    ([op(1, "write", None, 3), op(2, "cas", None, [3, 4])], ("ok", 4)),
    ([op(1, "write", None, 3), op(2, "cas", None, [5, 4])], ("fail", "cas failed: expected 5, found 3")),
    ([op(1, "put", "a", "1"), op(2, "append", "a", "2"), op(3, "get", "a", None)], ("ok", "12")),
])
def test_key_value_and_register_operations(ops, last):
    h = cluster()
    elect(h)
    for o in ops:
        h.request("n1", o)
        h.flush()
    assert h.replies[-1][2:] == last


def test_an_unknown_operation_gets_a_clear_error():
    h = cluster()
    elect(h)
    h.request("n1", op(1, f="incr"))
    h.request("n1", op(2, f="cas", key=None, value=5))
    assert [r[3] for r in h.replies] == [
        "unknown operation 'incr'; this key-value store knows get, put, append, read, write, cas",
        "cas needs a value [expected, new], got 5"]


def test_an_answer_for_an_entry_that_lost_its_place_is_a_definite_failure():
    """A deposed leader's entry replaced by the new leader's never commits, so its client may be told."""
    h = cluster()
    elect(h)
    h.request("n1", op(1, value="lost"))
    h.take()                                                    # nobody gets it
    h.deliver("n1", "n2", AppendEntries(2, "n2", 1, 1, ((2, cmd(5, value="won")),), 2))
    assert h.replies == [("n1", op(1, value="lost"), "fail",
                          "lost leadership: another entry was committed in its place")]
    assert h.nodes["n1"].kv.data == {"k": "won"}


# -- pre-vote (thesis §9.6) -------------------------------------------------------------------
def test_pre_vote_does_not_raise_terms_until_a_majority_would_vote():
    h = cluster(pre_vote=True)
    h.fire("n1", "election")
    assert h.roles["n1"] == ("follower", 0) and h.storage["n1"]["term"] == 0
    sent = h.take(src="n1")
    assert all(m == RequestVote(1, "n1", 0, 0, pre_vote=True) for _s, _d, m in sent)
    h.deliver("n2", "n1", sent[0][2])
    assert h.storage["n2"]["term"] == 0                          # a pre-vote changes nothing
    h.deliver("n1", "n2", h.take(src="n2")[0][2])
    assert h.roles["n1"] == ("candidate", 1)


def test_pre_vote_is_refused_while_a_leader_is_heard_from():
    h = cluster(pre_vote=True)
    h.fire("n1", "election")
    h.flush()
    assert h.roles["n1"] == ("leader", 1)
    h.fire("n3", "election")                                    # n3's timer fired early (a pause)
    for _s, _d, m in h.take(src="n3"):
        h.deliver("n2", "n3", m)
    assert h.take(src="n2")[0][2] == VoteReply(1, False, pre_vote=True)
    assert h.roles["n1"] == ("leader", 1)


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("opts, message", [
    (dict(election_timeout=(0, 300)), "election_timeout low end must be a positive number"),
    (dict(election_timeout=(300, 150)), "is reversed"),
    (dict(election_timeout=200), "must be a (low, high) range"),
    (dict(heartbeat=-5), "heartbeat must be a positive number"),
    (dict(heartbeat=200), "must be shorter than the smallest election timeout"),
    (dict(pre_vote="yes"), "pre_vote must be True or False"),
])
def test_bad_options_raise_a_clear_config_error(opts, message):
    from faultlab import ConfigError
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Raft(**opts)
