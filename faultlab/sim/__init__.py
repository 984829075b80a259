"""The deterministic cluster simulator (the only part of faultlab that knows SimPy)."""
from .harness import Harness
from .host import CRASHED, PAUSED, UP, Context
from .latency import constant, exponential, uniform
from .world import World

__all__ = ["World", "Harness", "Context", "constant", "uniform", "exponential",
           "UP", "CRASHED", "PAUSED"]
