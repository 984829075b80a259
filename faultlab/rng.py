"""One way to make a seeded random stream.

Every stream is named by its parts (seed, node, incarnation, purpose...), so two
runs with the same seed draw the same numbers whatever else runs beside them,
and the stream does not depend on PYTHONHASHSEED.
"""
from __future__ import annotations

import random


def seeded_rng(*parts) -> random.Random:
    """A ``random.Random`` seeded from ``parts`` joined with ':' (e.g. ``seeded_rng(7, "n1", 2)``)."""
    return random.Random(":".join(str(p) for p in parts))
