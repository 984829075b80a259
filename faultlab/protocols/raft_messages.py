"""Raft's messages and log commands: small frozen dataclasses with short reprs.

The reprs are what a space-time diagram shows on hover, so they read like the
paper's notation: ``AE(t3 prev=7/2 +2 commit=6)`` is an AppendEntries of term 3
whose previous entry is index 7 of term 2, carrying two entries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import kv


@dataclass(frozen=True)
class Command:
    """A state-machine command in the log; ``id`` is the client op id (None for a no-op)."""
    id: Any
    f: str
    key: Any = None
    value: Any = None

    def __repr__(self):
        if self.f == kv.NOOP:
            return "noop"
        if self.f == "cas" and isinstance(self.value, tuple) and len(self.value) == 2:
            arg = f"{self.value[0]!r}->{self.value[1]!r}"
        else:
            arg = "" if self.value is None else repr(self.value)
        key = "" if self.key is None else f"{self.key}"
        inner = ",".join(x for x in (key, arg) if x)
        return f"{self.f}({inner})#{self.id}"


NOOP = Command(id=None, f=kv.NOOP)


@dataclass(frozen=True)
class RequestVote:
    """A candidate asks for a vote; with ``pre_vote`` it only asks "would you?" (term not adopted)."""
    term: int
    candidate: str
    last_index: int
    last_term: int
    pre_vote: bool = False

    def __repr__(self):
        kind = "PreVote" if self.pre_vote else "RequestVote"
        return f"{kind}(t{self.term} last={self.last_index}/{self.last_term})"


@dataclass(frozen=True)
class VoteReply:
    term: int
    granted: bool
    pre_vote: bool = False

    def __repr__(self):
        kind = "PreVoteReply" if self.pre_vote else "VoteReply"
        return f"{kind}(t{self.term} {'yes' if self.granted else 'no'})"


@dataclass(frozen=True)
class AppendEntries:
    """Replicate ``entries`` after (prev_index, prev_term); empty entries = heartbeat."""
    term: int
    leader: str
    prev_index: int
    prev_term: int
    entries: tuple
    commit: int

    def __repr__(self):
        body = f" +{len(self.entries)}" if self.entries else ""
        return f"AE(t{self.term} prev={self.prev_index}/{self.prev_term}{body} commit={self.commit})"


@dataclass(frozen=True)
class AppendReply:
    """``match`` is the last index known to agree (on success).

    On failure the fast-backup hints say where to retry: ``conflict_term`` is
    the term of the follower's entry at prev_index (None if its log is too
    short) and ``conflict_index`` the first index it holds of that term (or its
    log length + 1).
    """
    term: int
    success: bool
    match: int = 0
    conflict_index: int = 0
    conflict_term: Any = None
    rejected: int = 0            # the prev_index that did not match (tells stale rejections apart)

    def __repr__(self):
        if self.success:
            return f"AEReply(t{self.term} ok match={self.match})"
        hint = f"xterm={self.conflict_term} " if self.conflict_term is not None else ""
        return f"AEReply(t{self.term} no {hint}xindex={self.conflict_index})"
