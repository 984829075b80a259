"""The layers of docs/design.md §2, enforced: who may import whom inside faultlab.

The vocabulary (trace records, operations, histories, faults, errors) sits at the bottom so that
simulated and real clusters share it; only faultlab.sim knows SimPy; real servers never import the
simulator. A new module that breaks a rule fails here, with the import that broke it.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "faultlab"
VOCABULARY = {"errors", "rng", "trace", "workloads", "history", "partitions", "node", "nemesis",
              "context"}
ALLOWED = {
    "sim": VOCABULARY,
    "protocols": VOCABULARY | {"sim"},          # build() helpers make a World
    "check": VOCABULARY | {"protocols"},        # checkers read protocols' message types
    "real": VOCABULARY,
    "viz": VOCABULARY,
    "widgets": VOCABULARY | {"viz", "check"},
    "scenarios": VOCABULARY | {"sim", "protocols", "check"},
    "experiments": VOCABULARY | {"sim", "protocols", "check", "viz"},
    "grading": VOCABULARY | {"sim", "protocols", "check"},
}


def _imports(path):
    """(line, top-level faultlab module) for every faultlab import in ``path``, plus simpy."""
    here = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if here[-1] == "__init__":
        here = here[:-1]
    pkg = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                if node.module:
                    names = [".".join(base + [node.module])]
                else:
                    names = [".".join(base + [a.name]) for a in node.names]
            else:
                names = [node.module or ""]
        for name in names:
            parts = name.split(".")
            if parts[0] == "simpy":
                yield node.lineno, "simpy"
            elif parts[0] == "faultlab" and len(parts) > 1:
                yield node.lineno, parts[1]


def _layer(path):
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else rel[0][:-3]


def test_each_layer_imports_only_what_design_allows():
    broken = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        for line, target in _imports(path):
            if target == layer or target == "simpy":
                continue
            if layer in VOCABULARY and target not in VOCABULARY:
                broken.append(f"{path.relative_to(PACKAGE.parent)}:{line} (vocabulary) imports {target}")
            elif layer in ALLOWED and target not in ALLOWED[layer]:
                broken.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({layer}) imports {target}")
    assert not broken, "imports that break docs/design.md §2:\n" + "\n".join(broken)


def test_only_the_simulator_knows_simpy():
    users = {str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py")
             for _line, t in _imports(p) if t == "simpy"}
    assert users and all(u.startswith("faultlab/sim/") for u in users), sorted(users)


def test_the_rule_checker_sees_relative_imports():
    # The checker itself must find the imports it polices, or the first test could never fail.
    found = set(t for _l, t in _imports(PACKAGE / "sim" / "world.py"))
    assert {"simpy", "trace", "workloads", "errors"} <= found
