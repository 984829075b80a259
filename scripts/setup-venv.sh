#!/usr/bin/env bash
# Create the virtual environment and install faultlab with its pinned dependencies
# (requirements/lock.txt) plus the JupyterLab settings in jupyter/. Idempotent: a second run
# only re-checks the pins, and `make` skips it entirely while its stamp file is newer than the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
start=$SECONDS

say() { printf '[setup] %s\n' "$*"; }

if [[ ! -x $VENV/bin/python ]]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)"
    if ! "$PYTHON" -m venv "$VENV"; then
        say "could not create a virtual environment with '$PYTHON -m venv'."
        say "On Debian/Ubuntu: sudo apt-get install python3-venv   (or pass PYTHON=/path/to/python3.11)"
        exit 1
    fi
fi

py=$VENV/bin/python
# pip-quiet.sh drops only the notices this machine's own pip.conf causes; errors still show and fail.
# Their counts add up in one tally file, summed in a single line once pip is done.
PIP_QUIET_TALLY=$(mktemp)
export PIP_QUIET_TALLY
trap 'rm -f "$PIP_QUIET_TALLY"' EXIT
pip=(scripts/pip-quiet.sh "$py" -m pip install --progress-bar off --disable-pip-version-check -q
     -c requirements/lock.txt)
say "installing pinned dependencies (requirements/lock.txt) into $VENV"
"${pip[@]}" pip setuptools
# setuptools comes from the lock, so the editable build needs no isolated (unpinned) build env.
# (PYTHONWARNINGS hides setuptools' generic "editable installation" banner, nothing else.)
PYTHONWARNINGS=ignore::UserWarning "${pip[@]}" --no-build-isolation -e .
scripts/pip-quiet.sh --total "$PIP_QUIET_TALLY"

# JupyterLab reads <prefix>/share/jupyter/lab/settings/overrides.json (news/update pop-ups off).
settings=$VENV/share/jupyter/lab/settings
mkdir -p "$settings"
cp jupyter/overrides.json "$settings/overrides.json"

"$py" - <<'PY'
"""Fail loudly if what pip installed differs from the lock (e.g. a stray local wheel index)."""
import importlib.metadata as md, re, sys
pins = {}
for line in open("requirements/lock.txt"):
    line = line.split("#")[0].strip()
    if line:
        name, version = line.split("==")
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
wrong = []
for name, version in sorted(pins.items()):
    try:
        have = md.version(name)
    except md.PackageNotFoundError:
        continue  # pinned for another platform/Python; not needed here
    if have != version:
        wrong.append(f"{name} {have} (lock: {version})")
if wrong:
    sys.exit("[setup] installed versions differ from requirements/lock.txt: " + ", ".join(wrong))
PY
say "python environment ready in $((SECONDS - start)) s"
