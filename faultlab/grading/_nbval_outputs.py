"""pytest plugin for the submission grader: keep what each notebook cell printed under nbval.

nbval only says *that* a cell's output differs from the stored one. A student who
fails needs the report their code printed (which rule broke, in which run, how to
replay it), so the grader loads this plugin (``-p faultlab.grading._nbval_outputs``)
and reads the JSON file named by ``FAULTLAB_NBVAL_OUTPUTS`` afterwards:
``{"<notebook file name>": {"<cell number>": "<printed text>"}}``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ENV_VAR = "FAULTLAB_NBVAL_OUTPUTS"
_printed: dict = {}


def printed_text(outputs):
    """What a cell showed, as text: its streams, plain-text results and errors (without tracebacks)."""
    parts = []
    for out in outputs or ():
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("display_data", "execute_result"):
            parts.append(out.get("data", {}).get("text/plain", "") + "\n")
        elif kind == "error":
            parts.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}\n")
    return "".join(parts)


def pytest_runtest_makereport(item, call):
    if call.when == "call" and hasattr(item, "cell_num"):
        _printed.setdefault(Path(str(item.fspath)).name, {})[str(item.cell_num)] = \
            printed_text(getattr(item, "test_outputs", None))


def pytest_sessionfinish(session):
    target = os.environ.get(ENV_VAR)
    if target:
        Path(target).write_text(json.dumps(_printed))
