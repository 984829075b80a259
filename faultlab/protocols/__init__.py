"""Reference protocols as event-driven state machines (DESIGN §3)."""
from .heartbeat import Heartbeat, HeartbeatMsg

__all__ = ["Heartbeat", "HeartbeatMsg"]
