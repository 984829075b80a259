"""Static PNG export through kaleido 1.x, which drives a Chrome/Chromium.

kaleido finds the browser through ``BROWSER_PATH``; we point it at the system
Chromium (Debian's ``chromium`` package, installed by ``make test``) unless the
caller already chose one, so no browser is ever downloaded.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import ConfigError, FaultlabError

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_browser():
    """The Chrome/Chromium kaleido should use, or None."""
    env = os.environ.get("BROWSER_PATH")
    if env and Path(env).exists():
        return env
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def save_png(fig, path, width=None, height=None, scale=1.5):
    """Write ``fig`` to ``path`` as a PNG and return the path.

    Width defaults to 1000 px, height to the figure's own height.
    """
    if not hasattr(fig, "write_image"):
        raise ConfigError(f"save_png() needs a plotly Figure, got {type(fig).__name__}")
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError(f"save_png() writes PNG files; give a path ending in .png, got {str(path)!r}")
    browser = find_browser()
    if browser is None:
        raise FaultlabError("save_png() needs Chromium or Chrome for kaleido: install it "
                            "(Debian/Ubuntu: apt-get install chromium) or set BROWSER_PATH to its binary")
    os.environ.setdefault("BROWSER_PATH", browser)
    path.parent.mkdir(parents=True, exist_ok=True)
    width = width or 1000
    height = height or fig.layout.height or 500
    fig.write_image(str(path), format="png", width=width, height=height, scale=scale)
    return path
