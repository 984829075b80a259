#!/usr/bin/env bash
# Start JupyterLab on the course: 127.0.0.1 only, the first free port from PORT (default 8888),
# a fresh token, news/update checks off. It runs in the learner's working copy WORK (default
# work/, ignored by git; see scripts/working_copy.py), so saving a chapter never touches a tracked
# file, and opens notebooks/00_start_here.ipynb. Prints the URL before handing over to Jupyter.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PORT=${PORT:-8888}
WORK=${WORK:-work}
py=$VENV/bin/python
start_page=notebooks/00_start_here.ipynb

"$py" scripts/working_copy.py --work "$WORK" sync

read -r port token < <("$py" - "$PORT" <<'PY'
import secrets, socket, sys
start = int(sys.argv[1])
for port in range(start, start + 50):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port, secrets.token_hex(24))
    break
else:
    sys.exit(f"no free port in {start}..{start + 49}; pass PORT=<number>")
PY
)

args=(--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" --ServerApp.port_retries=0
      --IdentityProvider.token="$token" --ServerApp.root_dir="$(cd "$WORK" && pwd)"
      --LabApp.default_url="/lab/tree/$start_page"
      --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate)
[[ $(id -u) == 0 ]] && args+=(--allow-root)
# kaleido (static figure export) finds the Debian Chromium through BROWSER_PATH.
[[ -z ${BROWSER_PATH:-} && -x /usr/bin/chromium ]] && export BROWSER_PATH=/usr/bin/chromium

url="http://127.0.0.1:$port/lab/tree/$start_page?token=$token"
printf '\n  faultlab is starting. Open this URL in your browser:\n\n      %s\n\n' "$url"
printf '  (Stop with Ctrl-C. Check the set-up any time with: %s/bin/faultlab doctor)\n\n' "$VENV"
exec "$VENV/bin/jupyter" lab "${args[@]}"
