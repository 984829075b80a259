#!/usr/bin/env bash
# Run a pip command with one known notice filtered out of its stderr, counted instead.
# A machine whose own pip configuration (pip config list) names file:// index locations that do
# not exist makes pip print "WARNING: Location 'file:///...' is ignored: ..." once per package and
# location, ~130 lines that bury the set-up's own [setup] lines. Those lines only are dropped;
# every other line (errors, other warnings) passes through unchanged, and pip's exit status is
# this script's (pipefail), so a failing install still fails the set-up.
#   scripts/pip-quiet.sh <command...>      e.g. scripts/pip-quiet.sh .venv/bin/python -m pip install ...
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 <pip command...>" >&2; exit 2; }
# stdout goes straight through (fd 3); stderr goes through the filter, back to stderr.
{ "$@" 2>&1 1>&3 3>&- | awk '
    /^WARNING: Location .file:\/\/[^ ]*. is ignored: / { hidden++; next }
    { print > "/dev/stderr"; fflush("/dev/stderr") }
    END { if (hidden) printf "[setup] hid %d pip notices about this machine'"'"'s pip configuration " \
                             "(file:// index locations that do not exist; see: pip config list)\n", hidden }'
} 3>&1
