"""Shared test set-up for the whole suite (keep it small; per-area fixtures live next to their tests)."""
from __future__ import annotations

import functools
import subprocess

import pytest


@functools.lru_cache(maxsize=1)
def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers, else why not (asked once per session)."""
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return "no docker command"
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 20 s"
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return f"no Docker engine ({lines[-1] if lines else 'docker info failed'})"
    return None


def pytest_collection_modifyitems(config, items):
    """`docker`-marked tests skip themselves where there is no engine; every other marker runs."""
    docker_items = [item for item in items if item.get_closest_marker("docker")]
    if docker_items and (reason := docker_unavailable_reason()):
        for item in docker_items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, for a module of JupyterLab tests (start-up: tests/browser/_lab.py)."""
    from _lab import chromium
    with chromium() as b:
        yield b
