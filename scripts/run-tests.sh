#!/usr/bin/env bash
# Run every test suite after the set-up: pytest over tests/ (all markers), then nbval over the
# committed notebooks. Always runs both, then prints one summary line; exit 0 only if all passed.
#   PYTEST_ARGS  what the first suite runs (default: tests)
#   NBVAL        0 skips the notebook suite (default: 1)
#   NBVAL_PATHS  where to look for notebooks (default: notebooks labs); tests/nbval_ignore.txt
#                lists notebooks that nbval must not run (solutions, notebooks driven by tests)
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTEST_ARGS=${PYTEST_ARGS:-tests}
NBVAL=${NBVAL:-1}
NBVAL_PATHS=${NBVAL_PATHS:-notebooks labs}
venv_bin=$(cd "$VENV/bin" && pwd) || { echo "[test] no virtual environment at $VENV: run 'make test'"; exit 1; }
py=$venv_bin/python

export PATH="$venv_bin:$PATH"
export PYTHONUNBUFFERED=1
# kaleido (static figure export) finds the Debian Chromium through BROWSER_PATH.
[[ -z ${BROWSER_PATH:-} && -x /usr/bin/chromium ]] && export BROWSER_PATH=/usr/bin/chromium

now() { date +%s; }
fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
start=$(now)
setup_s=$((start - ${FAULTLAB_T0:-$start}))

# --- suite 1: pytest ---------------------------------------------------------------------
printf '\n[test] pytest %s\n' "$PYTEST_ARGS"
s=$(now)
# PYTEST_ARGS is split like a shell line, so PYTEST_ARGS="tests -m 'not slow'" works.
mapfile -t pytest_args < <("$py" -c 'import shlex, sys; print(*shlex.split(sys.argv[1]), sep="\n")' "$PYTEST_ARGS")
# --durations lists the slowest tests: keep the whole run under 30 minutes on 2 cores.
"$py" -m pytest -p no:cacheprovider --durations=15 "${pytest_args[@]}"
rc_py=$?
py_s=$(($(now) - s))
case $rc_py in
    0) py_msg="passed" ;;
    5) py_msg="FAILED (no tests collected)" ;;
    *) py_msg="FAILED (exit $rc_py)" ;;
esac

# --- suite 2: nbval over the committed notebooks -----------------------------------------
rc_nb=0
nb_s=0
if [[ $NBVAL == 0 ]]; then
    nb_msg="skipped (NBVAL=0)"
else
    # shellcheck disable=SC2086
    mapfile -t notebooks < <("$py" scripts/list_notebooks.py $NBVAL_PATHS)
    if ((${#notebooks[@]} == 0)); then
        nb_msg="no notebooks yet"
    else
        printf '\n[test] nbval over %d notebooks\n' "${#notebooks[@]}"
        s=$(now)
        "$py" -m pytest -p no:cacheprovider --nbval --nbval-current-env \
            --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 \
            "${notebooks[@]}"
        rc_nb=$?
        nb_s=$(($(now) - s))
        case $rc_nb in
            0) nb_msg="${#notebooks[@]} notebooks passed" ;;
            5) nb_msg="no notebook cells to check"; rc_nb=0 ;;
            *) nb_msg="FAILED (exit $rc_nb)" ;;
        esac
    fi
fi

total=$(($(now) - ${FAULTLAB_T0:-$start}))
verdict=PASS
((rc_py != 0 || rc_nb != 0)) && verdict=FAIL
((nb_s > 0)) && nb_msg="$nb_msg ($(fmt "$nb_s"))"
printf '\n[test] %s: set-up %s | pytest: %s (%s) | nbval: %s | total %s\n' \
    "$verdict" "$(fmt "$setup_s")" "$py_msg" "$(fmt "$py_s")" "$nb_msg" "$(fmt "$total")"
[[ $verdict == PASS ]]
