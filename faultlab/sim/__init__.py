"""The deterministic cluster simulator (the only part of faultlab that knows SimPy)."""
from .harness import HandContext, Harness
from .host import CRASHED, PAUSED, UP, SimContext
from .latency import constant, exponential, uniform
from .world import World

__all__ = ["World", "Harness", "SimContext", "HandContext", "constant", "uniform", "exponential",
           "UP", "CRASHED", "PAUSED"]
