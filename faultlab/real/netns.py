"""A private network for one cluster: one network namespace per server, joined by a bridge.

Layout: a *hub* namespace holds a Linux bridge; each server gets its own
namespace with one veth interface ``eth0`` at ``10.77.0.<i>/24`` plugged into
the bridge. Nothing is added to the host's own network namespace, so the
10.77.0.0/24 addresses exist only inside namespaces this module made.

Every namespace is anonymous and held open by a tiny ``sleep`` process that
dies with us (see ``_procs``): when those holders and the servers die, the
kernel destroys the namespaces, their veths, the bridge and every filter rule
in them. Nothing to clean up after a crash.

A partition installs an nftables table in each affected server namespace that
drops *incoming* packets from the other side, so senders see silence (like a
real partition), not an immediate error. Random loss uses the same table
(``numgen random``; this kernel has no netem, so there is no injected delay).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading

from . import _procs
from .errors import NamespaceUnavailableError

SUBNET = "10.77.0"


def address(index):
    return f"{SUBNET}.{index}"


def unavailable_reason():
    """None if we can build namespaces here, else a short reason why not."""
    for tool in ("ip", "nft", "nsenter"):
        if shutil.which(tool) is None:
            return f"the `{tool}` command is missing (install iproute2, nftables, util-linux)"
    if os.geteuid() != 0:
        return "not running as root, and faultlab does not build rootless (user-namespace) networks"
    r = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"creating a network namespace failed: {r.stderr.strip() or r.returncode}"
    return None


def _run(argv, what):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed: {' '.join(argv)}: {r.stderr.strip()}")
    return r.stdout


def _in(pid, *argv):
    return _run(["nsenter", "-t", str(pid), "-n", *argv], argv[0])


class Fabric:
    """The namespaces and bridge of one cluster; ``close()`` (or our death) removes them."""

    def __init__(self, names, workdir):
        reason = unavailable_reason()
        if reason:
            raise NamespaceUnavailableError(reason)
        self.names = list(names)
        self.addr = {n: address(i) for i, n in enumerate(self.names, 1)}
        self.holders: dict = {}
        log = os.path.join(workdir, "netns.log")
        self.hub = _procs.spawn(["sleep", "infinity"], log, new_netns=True)
        _in(self.hub.pid, "ip", "link", "set", "lo", "up")
        _in(self.hub.pid, "ip", "link", "add", "br0", "type", "bridge")
        _in(self.hub.pid, "ip", "link", "set", "br0", "up")
        for i, name in enumerate(self.names, 1):
            h = _procs.spawn(["sleep", "infinity"], log, new_netns=True)
            self.holders[name] = h
            _in(self.hub.pid, "ip", "link", "add", f"p{i}", "type", "veth", "peer", "name", "eth0",
                "netns", str(h.pid))
            _in(self.hub.pid, "ip", "link", "set", f"p{i}", "master", "br0", "up")
            _in(h.pid, "ip", "link", "set", "lo", "up")
            _in(h.pid, "ip", "addr", "add", f"{self.addr[name]}/24", "dev", "eth0")
            _in(h.pid, "ip", "link", "set", "eth0", "up")
        self.blocked: dict = {n: set() for n in self.names}   # node -> peers it cannot hear
        self.loss = 0.0

    def pid(self, name):
        """The pid whose network namespace ``name``'s server runs in."""
        return self.holders[name].pid

    def connect(self, name, port, timeout=2.0):
        """A TCP socket connected to ``name``'s ``port`` from inside its namespace."""
        box = {}

        def work():
            try:
                _procs.setns_net(self.pid(name))
                box["sock"] = socket.create_connection((self.addr[name], port), timeout=timeout)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                box["error"] = e
        t = threading.Thread(target=work, name=f"netns-connect-{name}", daemon=True)
        t.start()
        t.join()
        if "error" in box:
            raise box["error"]
        return box["sock"]

    def set_blocked(self, blocked):
        """``blocked[node]`` = the peers whose packets ``node`` must drop (replaces old rules)."""
        for name in self.names:
            want = set(blocked.get(name, ()))
            if want != self.blocked[name]:
                self._apply(name, want, self.loss)
                self.blocked[name] = want

    def set_loss(self, p):
        """Drop each packet between servers with probability ``p`` (on arrival, both directions)."""
        for name in self.names:
            self._apply(name, self.blocked[name], p)
        self.loss = p

    def _apply(self, name, blocked, loss):
        script = "table inet faultlab {}\ndelete table inet faultlab\n"
        rules = []
        if blocked:
            rules.append(f"ip saddr {{ {', '.join(self.addr[p] for p in sorted(blocked))} }} drop")
        if loss >= 1:
            rules.append('iifname "eth0" drop')
        elif loss > 0:
            rules.append(f'iifname "eth0" numgen random mod 10000 < {max(1, round(loss * 10000))} drop')
        if rules:
            script += ("table inet faultlab {\n chain input {\n"
                       "  type filter hook input priority 0; policy accept;\n"
                       + "".join(f"  {r}\n" for r in rules) + " }\n}\n")
        r = subprocess.run(["nsenter", "-t", str(self.pid(name)), "-n", "nft", "-f", "-"],
                           input=script, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nft in {name}'s namespace failed: {r.stderr.strip()}")

    def close(self):
        for h in [*self.holders.values(), self.hub]:
            _procs.kill_now(h)
