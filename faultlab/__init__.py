"""faultlab: break distributed systems on purpose and watch them recover.

The public API is listed in ``__all__`` (a test keeps it honest).
"""
from . import nemesis
from .errors import (ConfigError, FaultlabError, PartitionError, ProtocolError, UnknownNodeError,
                     WorldTimeError)
from .history import Event, History, Operation
from .node import Node
from .sim import Harness, World
from .workloads import kv_workload, register_workload

__version__ = "0.1.0"

__all__ = ["World", "Harness", "Node", "History", "Event", "Operation", "nemesis",
           "register_workload", "kv_workload",
           "FaultlabError", "ConfigError", "UnknownNodeError", "PartitionError", "ProtocolError",
           "WorldTimeError", "__version__"]
