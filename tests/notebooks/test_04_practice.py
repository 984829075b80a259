"""Chapter 4 (ZooKeeper and etcd, for real): what nbval cannot show.

nbval checks the chapter against its stored outputs on a machine with the servers.
Here: (1) on a machine *without* the servers -- a kernel whose PATH has neither
``java`` nor ``etcd``, which is exactly how faultlab detects a missing server --
the chapter still runs top to bottom, says how to install them, and every
real-cluster cell says it skipped; (2) the fencing-token storage and the
prediction check behave, and bad input says what was wrong.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from faultlab import practice
from faultlab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "04_practice_zookeeper_etcd.ipynb"

pytestmark = pytest.mark.notebook


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream")


@pytest.fixture(scope="module")
def without_servers(tmp_path_factory):
    """The chapter executed in a fresh kernel whose PATH finds Python but no java and no etcd."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for tool in ("python", "python3"):
        (bin_dir / tool).symlink_to(sys.executable)
    env = dict(os.environ, PATH=str(bin_dir), FAULTLAB_STATIC_FIGURES="0")
    assert shutil.which("java", path=env["PATH"]) is None and shutil.which("etcd", path=env["PATH"]) is None
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}},
                   store_widget_state=False).execute(env=env)
    return nb


def test_without_servers_the_chapter_runs_and_says_how_to_install_them(without_servers):
    code = [c for c in without_servers.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o["output_type"] == "error"]
    assert errors == []
    start = next(c for c in code if "practice.start(" in c.source)
    said = _text(start)
    assert "ZooKeeper is not installed here" in said and "etcd is not installed here" in said
    assert "make lab" in said and "apt-get install -y zookeeper default-jre-headless etcd-server" in said
    assert "servers running" not in said


def test_without_servers_every_real_cluster_cell_says_it_skipped(without_servers):
    real = [c for c in without_servers.cells if c.cell_type == "code" and "practice.have(" in c.source]
    assert len(real) >= 15
    for cell in real:
        assert _text(cell).startswith("skipped: this cell needs the real servers"), cell.source
    last = without_servers.cells[-1]
    assert "practice.close" in last.source and _text(last) == "all servers stopped\n"


def test_fencing_storage_rejects_the_zombie_only_when_it_checks_tokens():
    plain, fenced = practice.Storage(fencing=False), practice.Storage(fencing=True)
    for store in (plain, fenced):
        assert store.write("report", "B", 7, "B")
    assert plain.write("report", "A (stale)", 5, "A") is True
    assert plain.data == {"report": "A (stale)"}
    assert fenced.write("report", "A (stale)", 5, "A") is False
    assert fenced.data == {"report": "B"} and "REJECTED" in str(fenced)
    assert fenced.write("report", "C", 9, "C") and fenced.newest == 9
    with pytest.raises(ConfigError, match="fencing token is an int"):
        fenced.write("report", "x", "7", "D")


def test_prediction_check_reports_right_wrong_and_missing(capsys):
    choices = practice.CHOICES["zombie"]
    practice.check(" B ", "b", choices)
    assert "Your prediction: right." in capsys.readouterr().out
    practice.check("a", "b", choices)
    assert "not this time" in capsys.readouterr().out
    practice.check("", "b", choices)
    assert "did not write a prediction" in capsys.readouterr().out
    practice.check("z", "b", choices)
    assert "not one of a, b" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="unknown outcome"):
        practice.check("a", "q", choices)


def test_start_names_what_it_accepts():
    with pytest.raises(ConfigError, match="'zookeeper' and/or 'etcd'"):
        practice.start("consul")
    with pytest.raises(ConfigError, match="'zookeeper' and/or 'etcd'"):
        practice.start()
