#!/usr/bin/env bash
# Refresh requirements/lock.txt: resolve the newest versions that pyproject.toml allows, from PyPI
# alone (this machine's pip config, local indexes and wheel dirs are ignored so the lock works on a
# fresh machine), in a throwaway virtual environment. Then run `make test` and commit the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
# Resolve with the oldest interpreter we support in practice: Debian 12's python3 (3.11.2). Some
# releases need a newer patch level (e.g. Requires-Python >=3.11.5), and a lock made with a newer
# Python would not install on a stock Debian 12 machine.
if [[ -z ${PYTHON:-} ]]; then
    PYTHON=python3
    [[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_CONSTRAINT PIP_NO_INDEX PIP_REQUIRE_VIRTUALENV

"$PYTHON" -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip install --progress-bar off -q --index-url https://pypi.org/simple)
"${pip[@]}" --upgrade pip setuptools
"${pip[@]}" --no-build-isolation .

{
    echo "# faultlab pinned dependencies: every distribution installed by \`make lab\` / \`make test\`."
    echo "# Used as a pip constraints file:  pip install -c requirements/lock.txt -e ."
    "$tmp/venv/bin/python" -c 'import platform, sys; print(f"# Resolved from PyPI alone with CPython {platform.python_version()} on Linux {platform.machine()}; works on that patch level and newer.")'
    echo "# Refresh with \`make lock\` (see README.md, \"Refreshing the pinned dependencies\"); do not edit by hand."
    "$tmp/venv/bin/python" -m pip freeze --all --exclude faultlab
} > requirements/lock.txt.new
mv requirements/lock.txt.new requirements/lock.txt
echo "[lock] wrote requirements/lock.txt ($(grep -vc '^#' requirements/lock.txt) pins); review 'git diff requirements/', run 'make test', commit"
