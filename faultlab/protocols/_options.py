"""Option checks every protocol shares, and the majority size.

Each check returns the value it accepted (a float for times) or raises a
:class:`~faultlab.errors.ConfigError` that names the option, says what it must
be and shows what it got. Builders validate by construction (:func:`validated`):
they build one node with the caller's options, so a builder never repeats a
class's defaults and a bad option fails before any world exists.
"""
from __future__ import annotations

import functools
import math

from ..errors import ConfigError


def _number(v):
    return not isinstance(v, bool) and isinstance(v, (int, float)) and not math.isnan(v)


def positive_ms(name, v):
    """``v`` as a float, or a ConfigError saying ``name`` must be a positive number of ms."""
    if not (_number(v) and v > 0):
        raise ConfigError(f"{name} must be a positive number of ms, got {v!r}")
    return float(v)


def non_negative_ms(name, v):
    """``v`` as a float, or a ConfigError saying ``name`` must be a non-negative number of ms."""
    if not (_number(v) and v >= 0):
        raise ConfigError(f"{name} must be a non-negative number of ms, got {v!r}")
    return float(v)


def probability(name, v):
    """``v`` as a float in [0, 1], or a ConfigError."""
    if not (_number(v) and 0 <= v <= 1):
        raise ConfigError(f"{name} must be a probability in [0, 1], got {v!r}")
    return float(v)


def flag(name, v):
    """``v`` if it is True or False, else a ConfigError."""
    if not isinstance(v, bool):
        raise ConfigError(f"{name} must be True or False, got {v!r}")
    return v


def one_of(what, v, choices, hint=""):
    """``v`` if it is one of ``choices``; else a ConfigError listing them (and ``hint``, why)."""
    if v not in choices:
        raise ConfigError(f"unknown {what} {v!r}; choose one of {', '.join(map(str, choices))}"
                          + (f" ({hint})" if hint else ""))
    return v


def count(name, v, least, why):
    """``v`` if it is a whole number >= ``least``; else a ConfigError that says ``why``."""
    if isinstance(v, bool) or not isinstance(v, int) or v < least:
        raise ConfigError(f"{why}, got {name}={v!r}")
    return v


def majority(n):
    """The smallest number of nodes out of ``n`` that any two such groups share one of."""
    return n // 2 + 1


def validated(cls, *args, **options):
    """A factory for ``cls(*args, **options)``, called once now so a bad option raises here."""
    make = functools.partial(cls, *args, **options)
    make()
    return make


def world_of(factories, seed, latency):
    """A World running ``{node id: factory}`` (factories from :func:`validated`)."""
    from ..sim import World
    world = World(seed=seed, latency=latency)
    for name, make in factories.items():
        world.add_node(name, make)
    return world


def add_kv_clients(world, clients, workload=None, **client_options):
    """``clients`` key-value clients (the default :func:`~faultlab.workloads.kv_workload`), if any."""
    from ..workloads import kv_workload
    if clients:
        world.add_clients(clients, workload or kv_workload(), **client_options)
