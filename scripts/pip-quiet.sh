#!/usr/bin/env bash
# Run a pip command with one known notice filtered out of its stderr, counted instead.
# A machine whose own pip configuration (pip config list) names file:// index locations that do
# not exist makes pip print "WARNING: Location 'file:///...' is ignored: ..." once per package and
# location, ~130 lines that bury the set-up's own [setup] lines. Those lines only are dropped;
# every other line (errors, other warnings) passes through unchanged, and pip's exit status is
# this script's (pipefail), so a failing install still fails the set-up.
#   scripts/pip-quiet.sh <command...>      e.g. scripts/pip-quiet.sh .venv/bin/python -m pip install ...
#   scripts/pip-quiet.sh --total FILE      print the one summary line for the counts tallied in FILE
# With PIP_QUIET_TALLY=FILE each run adds its count to FILE instead of printing it, so several pip
# runs end in one summary line (setup-venv.sh does this).
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 <pip command...> | --total FILE" >&2; exit 2; }

summary() {
    (($1)) && printf "[setup] hid %d pip notices about this machine's pip configuration (file:// index %s\n" \
        "$1" "locations that do not exist; see: pip config list)"
    return 0
}
if [[ $1 == --total ]]; then
    summary "$(awk '{ n += $1 } END { print n + 0 }' "$2" 2>/dev/null || echo 0)"
    exit 0
fi

count=$(mktemp)
trap 'rm -f "$count"' EXIT
# stdout goes straight through (fd 3); stderr goes through the filter, back to stderr.
{ "$@" 2>&1 1>&3 3>&- | awk -v count="$count" '
    /^WARNING: Location .file:\/\/[^ ]*. is ignored: / { hidden++; next }
    { print > "/dev/stderr"; fflush("/dev/stderr") }
    END { print hidden + 0 > count }'
} 3>&1 || status=$?
if [[ -n ${PIP_QUIET_TALLY:-} ]]; then
    cat "$count" >> "$PIP_QUIET_TALLY"
else
    summary "$(cat "$count")"
fi
exit "${status:-0}"
