"""save_png renders through kaleido and the system Chromium (no browser download)."""
import struct

import plotly.graph_objects as go
import pytest

from faultlab import ConfigError
from faultlab.viz import save_png, timeline
from faultlab.viz.png import find_browser

import toy_leader  # noqa: E402


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(find_browser() is None, reason="needs Chromium (apt-get install chromium)")
def test_save_png_writes_a_png_of_the_requested_size(tmp_path):
    w = toy_leader.build(3, seed=1)
    w.run(until=500)
    out = save_png(timeline(w), tmp_path / "sub" / "timeline.png", width=800, height=300, scale=1)
    assert _png_size(out) == (800, 300)


def test_save_png_rejects_what_it_cannot_write(tmp_path):
    with pytest.raises(ConfigError, match="ending in .png"):
        save_png(go.Figure(), tmp_path / "x.svg")
    with pytest.raises(ConfigError, match="plotly Figure"):
        save_png({"data": []}, tmp_path / "x.png")
