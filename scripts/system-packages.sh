#!/usr/bin/env bash
# Install the Debian/Ubuntu packages that the real-cluster and browser chapters need
# (apt.txt, plus Chromium and python3-venv). The simulator chapters need none of them, so
# without root or passwordless sudo this only explains what to do and carries on.
# A no-op taking milliseconds when everything is already installed.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STRICT=${FAULTLAB_STRICT_SETUP:-0}   # 1 (CI): a failed apt-get install fails the set-up
start=$SECONDS

say() { printf '[setup] %s\n' "$*"; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: install ZooKeeper, etcd, a Java runtime and Chromium yourself"
    say "(or use the conda path in README.md); run '.venv/bin/faultlab doctor' to see what is missing."
    exit 0
fi

# apt.txt is shared with Binder (repo2docker); Chromium is a real package only on Debian.
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' apt.txt)
wanted+=(chromium)
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    wanted+=(python3 python3-venv)
elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    wanted+=(python3-venv)   # Debian splits ensurepip out of python3
fi

missing=()
for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)
    [[ $status == ii* ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
    say "system packages: all ${#wanted[@]} present"
    exit 0
fi

if [[ $(id -u) == 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    SUDO=(sudo -n)
else
    say "missing system packages: ${missing[*]}"
    say "they are needed only by the real-cluster (ZooKeeper/etcd) and browser parts; install them with:"
    say "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    say "continuing without them (the simulator chapters need nothing external)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 -q)

needs_update() {
    # A fresh machine has empty package lists; a stale one may not know a package.
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 0
    local pkg
    for pkg in "${missing[@]}"; do
        apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]' || return 0
    done
    return 1
}

install() { "${APT[@]}" install -y --no-install-recommends "${missing[@]}"; }

say "installing system packages: ${missing[*]}"
if needs_update; then
    say "apt-get update"
    "${APT[@]}" update || say "apt-get update failed (continuing)"
fi
if ! install; then
    say "apt-get install failed; refreshing package lists and retrying once"
    "${APT[@]}" update && install
    rc=$?
    if ((rc != 0)); then
        say "could not install: ${missing[*]} (apt-get exit $rc)"
        say "the real-cluster and browser parts will be unavailable; see '.venv/bin/faultlab doctor'"
        ((STRICT)) && exit "$rc"
        exit 0
    fi
fi
say "system packages installed in $((SECONDS - start)) s"
