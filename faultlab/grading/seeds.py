"""Which seeds the graders run: shipped defaults, or the instructor's choice.

An instructor sets ``FAULTLAB_GRADING_SEEDS`` so that answers tuned to the
shipped seeds fail: either a list (``"101,202,303"``) or a count and a salt
(``"12@spring-2027"``: twelve seeds derived from the text after ``@``).
Passing reports never print the seeds, so they read the same for any choice.
"""
from __future__ import annotations

import hashlib
import os

from ..errors import ConfigError

ENV_VAR = "FAULTLAB_GRADING_SEEDS"
DEFAULT_SEEDS = tuple(range(1, 17))
MAX_SEEDS = 200

_HELP = (f"set {ENV_VAR} to comma-separated non-negative integers such as '101,202,303', "
         f"or to a count and a salt such as '12@spring-2027' (1 to {MAX_SEEDS} seeds), or unset it "
         "to use the shipped seeds")


def parse_seeds(text):
    """Turn the text of ``FAULTLAB_GRADING_SEEDS`` into a tuple of seeds."""
    text = (text or "").strip()
    if not text:
        raise ConfigError(f"{ENV_VAR} is empty; {_HELP}")
    if "@" in text:
        count, _, salt = text.partition("@")
        if not count.strip().isdigit() or not salt.strip():
            raise ConfigError(f"{ENV_VAR}={text!r} is not '<count>@<salt>'; {_HELP}")
        n = int(count)
        if not 1 <= n <= MAX_SEEDS:
            raise ConfigError(f"{ENV_VAR}={text!r} asks for {n} seeds; {_HELP}")
        return tuple(int.from_bytes(hashlib.sha256(f"{salt.strip()}:{i}".encode()).digest()[:4], "big")
                     for i in range(n))
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise ConfigError(f"{ENV_VAR}={text!r}: {part!r} is not a non-negative integer; {_HELP}")
        seeds.append(int(part))
    if len(seeds) > MAX_SEEDS:
        raise ConfigError(f"{ENV_VAR} lists {len(seeds)} seeds; {_HELP}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"{ENV_VAR}={text!r} repeats a seed; {_HELP}")
    return tuple(seeds)


def grading_seeds(seeds=None):
    """The seeds to grade with: ``seeds`` if given, else the environment, else the defaults."""
    if seeds is not None:
        seeds = tuple(seeds)
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
            raise ConfigError(f"seeds must be a non-empty list of non-negative integers, got {seeds!r}")
        return seeds
    env = os.environ.get(ENV_VAR)
    if env is None:
        return DEFAULT_SEEDS
    return parse_seeds(env)
