"""Reference protocols as event-driven state machines (docs/design.md §3).

Each module also has a ``build(...) -> World`` for a ready-made cluster.
"""
from . import multipaxos, paxos, primary_backup, raft, three_phase, two_phase
from .heartbeat import Heartbeat, HeartbeatMsg
from .multipaxos import MultiPaxos
from .paxos import Paxos
from .primary_backup import PrimaryBackup
from .raft import Raft
from .raft_messages import AppendEntries, AppendReply, RequestVote, VoteReply
from .raft_messages import Command as RaftCommand
from .three_phase import ThreePhaseCoordinator, ThreePhaseParticipant
from .two_phase import TwoPhaseCoordinator, TwoPhaseParticipant

__all__ = ["Heartbeat", "HeartbeatMsg", "Raft", "RequestVote", "VoteReply", "AppendEntries",
           "AppendReply", "RaftCommand", "Paxos", "MultiPaxos", "PrimaryBackup",
           "TwoPhaseCoordinator", "TwoPhaseParticipant", "ThreePhaseCoordinator",
           "ThreePhaseParticipant", "raft", "paxos", "multipaxos", "primary_backup", "two_phase",
           "three_phase"]
