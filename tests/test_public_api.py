"""The curated public API: everything in __all__ exists, and nothing private leaks in."""
import faultlab
import faultlab.protocols
import faultlab.sim


def test_all_names_exist_and_are_public():
    for mod in (faultlab, faultlab.sim, faultlab.protocols):
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.__all__ names {name!r}, which does not exist"
            assert not name.startswith("_") or name == "__version__"


def test_core_entry_points_are_exported():
    assert {"World", "Harness", "Node", "History", "nemesis", "ProtocolError"} <= set(faultlab.__all__)


def test_star_import_gives_exactly_all():
    ns = {}
    exec("from faultlab import *", ns)
    assert set(ns) - {"__builtins__"} == set(faultlab.__all__)
