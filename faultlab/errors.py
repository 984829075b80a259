"""Errors that tell the reader what was wrong and what to do about it."""


class FaultlabError(Exception):
    """Base class: every error faultlab raises on purpose derives from this."""


class ConfigError(FaultlabError, ValueError):
    """A parameter is out of range or malformed (negative delay, loss > 1, ...)."""


class UnknownNodeError(FaultlabError, KeyError):
    """A node id that the cluster does not have."""

    def __init__(self, node, known):
        self.node = node
        self.known = list(known)
        super().__init__(node)

    def __str__(self):
        return (f"unknown node {self.node!r}; this cluster has {', '.join(map(repr, self.known))}. "
                "Use one of those ids (see cluster.nodes).")


class PartitionError(ConfigError):
    """Partition groups that overlap or leave a node out."""


class ProtocolError(FaultlabError, RuntimeError):
    """A protocol handler raised; says which node, which event and when.

    The world's trace up to the failure is kept, so the run can be inspected.
    """

    def __init__(self, node, event, time, cause):
        self.node, self.event, self.time, self.cause = node, event, time, cause
        super().__init__(f"node {node!r} raised {type(cause).__name__}: {cause} "
                         f"while handling {event} at t={time:g} ms "
                         "(the trace up to this point is kept in world.trace)")


class WorldTimeError(FaultlabError, ValueError):
    """Asked to run a world to a time it has already passed."""
