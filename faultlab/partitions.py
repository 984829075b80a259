"""Partition groups: one reading and one validation for simulated and real clusters alike."""
from __future__ import annotations

from .errors import PartitionError


def partition_groups(groups, nodes, check_node):
    """Return ``(groups, side)`` for ``partition(*groups)``; ``side[node]`` is its group's index.

    Accepts ``partition(['n1'], ['n2', 'n3'])`` and ``partition([['n1'], ['n2', 'n3']])``,
    with lists, tuples or sets. Every node of ``nodes`` must be in exactly one group;
    ``check_node`` raises the cluster's own unknown-node error.
    """
    if len(groups) == 1 and groups[0] and all(isinstance(g, (list, tuple, set, frozenset)) for g in groups[0]):
        groups = tuple(groups[0])
    groups = [sorted(g) if isinstance(g, (set, frozenset)) else list(g) for g in groups]
    if len(groups) < 2:
        raise PartitionError("a partition needs at least two groups, e.g. [['n1'], ['n2', 'n3']]")
    side = {}
    for i, g in enumerate(groups):
        if not g:
            raise PartitionError(f"partition group {i} is empty")
        for node in g:
            check_node(node)
            if node in side:
                raise PartitionError(f"node {node!r} is in two partition groups ({side[node]} and {i}); "
                                     "each node belongs to exactly one group")
            side[node] = i
    missing = [n for n in nodes if n not in side]
    if missing:
        raise PartitionError(f"partition groups leave out {', '.join(map(repr, missing))}; "
                             "put every node in some group (or use isolate(node))")
    return groups, side
