"""The deterministic cluster simulator (the only part of faultlab that knows SimPy)."""
from .clients import Op, Reply, kv_workload, register_workload
from .harness import Harness
from .host import CRASHED, PAUSED, UP, Context
from .latency import constant, exponential, uniform
from .trace import Record, digest, message_type
from .world import World

__all__ = ["World", "Harness", "Context", "Op", "Reply", "Record", "digest", "message_type",
           "register_workload", "kv_workload", "constant", "uniform", "exponential",
           "UP", "CRASHED", "PAUSED"]
