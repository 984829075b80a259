"""What lab 1 gives the student: the messages, the timing constants, the quorum size.

The student writes the handlers (``faultlab.Node`` subclass); the messages are
fixed so that the grader can read them in the trace. Every message carries the
sender's current term, which is how Raft nodes learn that time has moved on.
"""
from __future__ import annotations

from dataclasses import dataclass

ELECTION_TIMEOUT = (150.0, 300.0)
"""A follower that hears no leader for this long (ms, drawn at random in the range) runs for election."""

HEARTBEAT_INTERVAL = 50.0
"""A leader sends AppendEntries this often (ms), well inside the shortest election timeout."""


@dataclass(frozen=True)
class RequestVote:
    """A candidate asks for a vote in ``term``."""
    term: int
    candidate: str


@dataclass(frozen=True)
class VoteReply:
    """The answer to RequestVote; ``term`` is the voter's current term."""
    term: int
    granted: bool


@dataclass(frozen=True)
class AppendEntries:
    """A leader's heartbeat (this lab replicates no log entries)."""
    term: int
    leader: str


@dataclass(frozen=True)
class AppendReply:
    """The answer to AppendEntries; ``term`` is the follower's current term."""
    term: int
    success: bool


MESSAGES = (RequestVote, VoteReply, AppendEntries, AppendReply)


def majority(ctx):
    """How many votes (the candidate's own included) win an election: more than half of all nodes."""
    return len(ctx.nodes) // 2 + 1
