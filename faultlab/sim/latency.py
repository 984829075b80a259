"""Latency distributions for simulated links, in milliseconds.

Each is a small callable ``dist(rng) -> ms`` so that a link can also take any
user function of the seeded RNG.
"""
from __future__ import annotations

import math

from ..errors import ConfigError


def _check(name, x):
    if not isinstance(x, (int, float)) or math.isnan(x) or x < 0:
        raise ConfigError(f"{name} must be a non-negative number of milliseconds, got {x!r}")
    return float(x)


class Constant:
    def __init__(self, ms):
        self.ms = _check("latency", ms)

    def __call__(self, rng):
        return self.ms

    def __repr__(self):
        return f"constant({self.ms:g})"


class Uniform:
    def __init__(self, lo, hi):
        self.lo, self.hi = _check("latency low", lo), _check("latency high", hi)
        if self.hi < self.lo:
            raise ConfigError(f"uniform latency needs low <= high, got {lo} > {hi}")

    def __call__(self, rng):
        return rng.uniform(self.lo, self.hi)

    def __repr__(self):
        return f"uniform({self.lo:g}, {self.hi:g})"


class Exponential:
    """``base`` plus an exponential tail of mean ``mean``: a few slow messages."""

    def __init__(self, mean, base=0.0):
        self.mean, self.base = _check("latency mean", mean), _check("latency base", base)

    def __call__(self, rng):
        return self.base + (rng.expovariate(1.0 / self.mean) if self.mean > 0 else 0.0)

    def __repr__(self):
        return f"exponential(mean={self.mean:g}, base={self.base:g})"


class _Checked:
    """Wraps a user callable and rejects negative or NaN delays it returns."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, rng):
        return _check("latency returned by the callable", self.fn(rng))

    def __repr__(self):
        return getattr(self.fn, "__name__", "callable")


def as_latency(spec):
    """Accept a number (constant), a (lo, hi) pair (uniform), a distribution or a callable."""
    if isinstance(spec, (Constant, Uniform, Exponential, _Checked)):
        return spec
    if isinstance(spec, bool):
        raise ConfigError(f"latency must be a number, a (low, high) pair or a callable, got {spec!r}")
    if isinstance(spec, (int, float)):
        return Constant(spec)
    if isinstance(spec, tuple) and len(spec) == 2:
        return Uniform(*spec)
    if callable(spec):
        return _Checked(spec)
    raise ConfigError(f"latency must be a number, a (low, high) pair or a callable, got {spec!r}")


constant, uniform, exponential = Constant, Uniform, Exponential
