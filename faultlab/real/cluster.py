"""What every real cluster shares: processes, faults, partitions, status, trace, cleanup.

A real cluster has the same "Cluster" duck type as the simulator's World
(``nodes``, ``status()``, ``leader()``, ``state()``, ``crash/restart/pause/
resume/partition/isolate/heal``), so a nemesis schedule or a widget drives
either unchanged. Times in the trace are milliseconds since the cluster was
created, like the simulator's.
"""
from __future__ import annotations

import atexit
import collections
import concurrent.futures
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import weakref

from ..errors import ConfigError, UnknownNodeError
from ..partitions import partition_groups
from ..trace import Record
from . import _procs, netns, ports
from .errors import ClusterStartError, NamespaceUnavailableError
from .proxy import LinkProxy

UP, CRASHED, PAUSED = "up", "crashed", "paused"
LIVE: "weakref.WeakSet[RealCluster]" = weakref.WeakSet()
RECENT: collections.deque = collections.deque(maxlen=6)   # (title, {node: log tail}) of closed clusters


class RealCluster:
    """Base class of ZooKeeperEnsemble and EtcdCluster (subclasses fill in the server details).

    Every fault and every role change seen by ``status()`` lands in ``trace``;
    call ``monitor()`` to poll in the background for a complete role timeline
    (``run_workload`` does). ``network``: 'auto' (namespaces if we are root),
    'netns' or 'loopback'.
    """

    kind = "cluster"
    client_port = 0          # the server's client port inside a namespace
    leader_roles = ("leader",)

    def __init__(self, n=3, network="auto", client_ports=None, start=True, ready_timeout=60.0):
        if isinstance(n, bool) or n not in (1, 3, 5):
            raise ConfigError(f"a real cluster has 1, 3 or 5 servers (an odd number, so a majority "
                              f"exists; more does not fit a laptop), got n={n!r}")
        if network not in ("auto", "netns", "loopback"):
            raise ConfigError(f"network must be 'auto', 'netns' or 'loopback', got {network!r}")
        if client_ports is not None and len(client_ports) != n:
            raise ConfigError(f"client_ports needs one port per server ({n}), got {client_ports!r}")
        self._check_installed()
        self.n = n
        self._nodes = [f"n{i}" for i in range(1, n + 1)]
        self.dir = tempfile.mkdtemp(prefix=f"faultlab-{self.kind}-")
        _procs.guard_dir(self.dir)
        self.t0 = time.monotonic()
        self.trace: list = []
        self.listeners: list = []
        self._lock = threading.RLock()
        self._procs: dict = {}
        self._state = {node: CRASHED for node in self._nodes}
        self._last = {node: {} for node in self._nodes}     # last probe answer per node
        self._roles = {node: (None, None) for node in self._nodes}
        self._ports: list = []
        self._extra_proxies: list = []
        self._monitor = None
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=n + 2, thread_name_prefix=self.kind)
        self.closed = False
        self.fabric = None
        try:
            if network == "netns" or (network == "auto" and netns.unavailable_reason() is None):
                self.fabric = netns.Fabric(self._nodes, self.dir)
            self.network = "netns" if self.fabric else "loopback"
            self._host = {node: (self.fabric.addr[node] if self.fabric else "127.0.0.1")
                          for node in self._nodes}
            self._assign_ports()
            self.proxies = {node: LinkProxy(lambda node=node: self._connect(node, self._client_port(node)),
                                            port=(client_ports or [0] * n)[i], name=node)
                            for i, node in enumerate(self._nodes)}
            for node in self._nodes:
                os.makedirs(self.node_dir(node), exist_ok=True)
                self._prepare(node)
            LIVE.add(self)
            if start:
                self.start(ready_timeout)
        except BaseException:
            self.close()
            raise

    # -- subclass hooks ----------------------------------------------------------
    def _check_installed(self):
        raise NotImplementedError

    def _assign_ports(self):
        """Loopback mode: give each server its own ports (namespaces reuse fixed ones)."""

    def _client_port(self, node):
        return self.client_port

    def _prepare(self, node):
        raise NotImplementedError

    def _argv(self, node):
        raise NotImplementedError

    def _probe(self, node):
        """Ask one running server what it is: a dict with at least role and term."""
        raise NotImplementedError

    def _ready(self, answers):
        raise NotImplementedError

    # -- basics --------------------------------------------------------------------
    @property
    def nodes(self):
        return list(self._nodes)

    @property
    def now(self):
        """Milliseconds since the cluster was created (the trace's clock)."""
        return (time.monotonic() - self.t0) * 1000.0

    def node_dir(self, node):
        return os.path.join(self.dir, node)

    def log_path(self, node):
        return os.path.join(self.node_dir(node), "server.log")

    def _check(self, node):
        if node not in self._state:
            raise UnknownNodeError(node, self._nodes)
        return node

    def _alloc(self, count):
        got = ports.allocate(count)
        self._ports += got
        return got

    def _connect(self, node, port, timeout=2.0):
        if self.fabric is not None:
            return self.fabric.connect(node, port, timeout)
        return socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def record(self, kind, node, info):
        r = Record(round(self.now, 3), kind, node, info)
        with self._lock:
            self.trace.append(r)
        for fn in list(self.listeners):
            fn(r)
        return r

    def state(self, node):
        return self._state[self._check(node)]

    # -- starting ------------------------------------------------------------------
    def start(self, ready_timeout=60.0):
        for node in self._nodes:
            if self._state[node] == CRASHED:
                self._spawn(node)
                self.record("start", node, {})
        self.wait_ready(ready_timeout)
        return self

    def _spawn(self, node):
        ns = self.fabric.pid(node) if self.fabric else None
        self._procs[node] = _procs.spawn(self._argv(node), self.log_path(node), cwd=self.node_dir(node),
                                         env=self._env(node), netns_pid=ns)
        self._state[node] = UP

    def _env(self, node):
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.node_dir(node), "LANG": "C.UTF-8"}

    def wait_ready(self, timeout=60.0):
        """Block until a quorum answers (a leader and a majority agree); else ClusterStartError."""
        deadline = time.monotonic() + timeout
        while True:
            answers = self._probe_all()
            if self._ready(answers):
                return self
            for node, proc in self._procs.items():
                if self._state[node] == UP and proc.poll() is not None:
                    raise ClusterStartError(f"{self.kind} server {node} exited with code {proc.returncode} "
                                            f"while starting. Its log ends with:\n{self.log_tail(node, 25)}")
            if time.monotonic() > deadline:
                raise ClusterStartError(f"{self.kind} did not form a quorum within {timeout:g} s "
                                        f"(answers: {answers}). Last log lines:\n{self.log_tails(12)}")
            time.sleep(0.1)

    def wait_for(self, predicate, timeout=30.0, interval=0.1):
        """Poll ``predicate(status_list)`` until it returns something truthy; returns it (or None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = predicate(self.status())
            if got:
                return got
            time.sleep(interval)
        return None

    # -- looking -------------------------------------------------------------------
    def _probe_safe(self, node):
        try:
            return self._probe(node)
        except (OSError, ValueError):
            return None

    def _probe_all(self):
        live = [n for n in self._nodes if self._state[n] == UP]
        futures = {n: self._pool.submit(self._probe_safe, n) for n in live}
        return {n: f.result() for n, f in futures.items()}

    def status(self):
        """One dict per node: node, state, role, term, reachable and server-specific fields."""
        answers = self._probe_all()
        out = []
        for node in self._nodes:
            state = self._state[node]
            got = answers.get(node)
            if got is not None:
                self._last[node] = got
            if state == CRASHED:
                info = {"role": None, "term": None}
            elif state == PAUSED:          # it cannot answer; it still believes what it last said
                info = dict(self._last[node]) or {"role": None, "term": None}
            else:
                info = got if got is not None else {"role": None, "term": None}
            self._note_role(node, info.get("role"), info.get("term"))
            out.append({"node": node, "state": state, **info, "reachable": got is not None})
        return out

    def _note_role(self, node, role, term):
        with self._lock:
            if role is None or self._roles[node] == (role, term):
                return
            self._roles[node] = (role, term)
            self.record("role", node, {"role": role, "term": term})

    def leader(self):
        """The running node that says it leads (highest term wins), or None."""
        best = None
        for s in self.status():
            if s["state"] == UP and s["reachable"] and s["role"] in self.leader_roles:
                if best is None or (s["term"] or 0) > (best["term"] or 0):
                    best = s
        return best["node"] if best else None

    def monitor(self, interval=0.2):
        """Poll status in the background so ``trace`` gets a role timeline; returns a stop function."""
        if self._monitor is not None:
            return self._monitor[1]
        stop = threading.Event()

        def loop():
            while not stop.is_set() and not self.closed:
                try:
                    self.status()
                except RuntimeError:          # pool shut down while closing
                    return
                stop.wait(interval)
        t = threading.Thread(target=loop, daemon=True, name=f"{self.kind}-monitor")
        t.start()

        def halt():
            stop.set()
            t.join(5)
            self._monitor = None
        self._monitor = (t, halt)
        return halt

    def log_tail(self, node, lines=40):
        try:
            with open(self.log_path(self._check(node)), "rb") as f:
                text = f.read()[-200 * lines:].decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(text.splitlines()[-lines:])

    def log_tails(self, lines=40):
        return "\n".join(f"--- {node} ({self.log_path(node)}) ---\n{self.log_tail(node, lines)}"
                         for node in self._nodes)

    # -- node faults -----------------------------------------------------------------
    def crash(self, node):
        """SIGKILL the server (all of it: its whole process group). No-op if already down."""
        with self._lock:
            if self._state[self._check(node)] == CRASHED:
                return False
            _procs.kill_now(self._procs[node])
            self._state[node] = CRASHED
            self._roles[node] = (None, None)
        self.record("crash", node, {"signal": "SIGKILL"})
        return True

    def stop(self, node, timeout=10.0):
        """SIGTERM: let the server shut down cleanly (SIGKILL after ``timeout`` s)."""
        with self._lock:
            if self._state[self._check(node)] == CRASHED:
                return False
            proc = self._procs[node]
            _procs.signal_group(proc, signal.SIGTERM)
            _procs.signal_group(proc, signal.SIGCONT)     # a paused server must run to exit
            _procs.reap(proc, timeout)
            self._state[node] = CRASHED
            self._roles[node] = (None, None)
        self.record("crash", node, {"signal": "SIGTERM"})
        return True

    def restart(self, node):
        """Start a crashed or stopped server again on its data directory. No-op if running."""
        with self._lock:
            if self._state[self._check(node)] != CRASHED:
                return False
            self.record("restart", node, {})
            self._spawn(node)
        return True

    def pause(self, node):
        """SIGSTOP: the server freezes (like a long GC pause) but keeps its sockets and state."""
        with self._lock:
            if self._state[self._check(node)] != UP:
                return False
            _procs.signal_group(self._procs[node], signal.SIGSTOP)
            self._state[node] = PAUSED
        self.record("pause", node, {})
        return True

    def resume(self, node):
        with self._lock:
            if self._state[self._check(node)] != PAUSED:
                return False
            _procs.signal_group(self._procs[node], signal.SIGCONT)
            self._state[node] = UP
        self.record("resume", node, {})
        return True

    def wipe(self, node):
        """Lose the node's disk: crash it if running, delete its data; ``restart`` brings it back empty."""
        self.crash(node)
        shutil.rmtree(self.node_dir(node))
        os.makedirs(self.node_dir(node))
        self._prepare(node)
        self.record("note", node, {"text": "data wiped"})
        return True

    # -- network faults ----------------------------------------------------------------
    def _need_fabric(self):
        if self.fabric is None:
            raise NamespaceUnavailableError(netns.unavailable_reason() or
                                            "this cluster was started with network='loopback'")

    def partition(self, *groups):
        """Split the servers, e.g. ``partition(['n1'], ['n2', 'n3'])``; packets across groups vanish."""
        self._need_fabric()
        groups, seen = partition_groups(groups, self._nodes, self._check)
        self.fabric.set_blocked({a: {b for b in self._nodes if seen[b] != seen[a]} for a in self._nodes})
        self.record("partition", None, {"groups": groups})
        return True

    def isolate(self, node):
        self._check(node)
        return self.partition([node], [n for n in self._nodes if n != node])

    def cut(self, src, dst):
        """Drop every packet from ``src`` to ``dst`` (one way); ``heal()`` undoes it."""
        self._need_fabric()
        self._check(src), self._check(dst)
        blocked = {n: set(b) for n, b in self.fabric.blocked.items()}
        blocked[dst].add(src)
        self.fabric.set_blocked(blocked)
        self.record("cut", None, {"src": src, "dst": dst})
        return True

    def set_loss(self, p):
        """Lose each packet between servers with probability ``p`` (0 turns loss off)."""
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ConfigError(f"loss is a probability between 0 and 1, got {p!r}")
        self._need_fabric()
        self.fabric.set_loss(float(p))
        self.record("network", None, {"loss": float(p)})
        return True

    def heal(self):
        """Remove every partition and cut between servers (packet loss stays: ``set_loss(0)``)."""
        if self.fabric is not None:
            self.fabric.set_blocked({})
        self.record("heal", None, {})
        return True

    # -- client links --------------------------------------------------------------------
    def link(self, node):
        """A new private TCP proxy to ``node``'s client port, for one client's link faults."""
        self._check(node)
        p = LinkProxy(lambda: self._connect(node, self._client_port(node)), name=f"{node}-link")
        self._extra_proxies.append(p)
        return p

    # -- cleanup ---------------------------------------------------------------------------
    def close(self):
        """Kill every server, remove namespaces, proxies and the temp dir. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if self._monitor:
            self._monitor[1]()
        tails = {n: self.log_tail(n, 60) for n in self._nodes if os.path.exists(self.log_path(n))}
        if tails:
            RECENT.append((f"{self.kind} {self.dir}", tails))
        for p in [*getattr(self, "proxies", {}).values(), *self._extra_proxies]:
            p.close()
        for proc in self._procs.values():
            _procs.signal_group(proc, signal.SIGKILL)
        for proc in self._procs.values():
            _procs.reap(proc)
        if self.fabric is not None:
            self.fabric.close()
        self._pool.shutdown(wait=False)
        ports.release(self._ports)
        shutil.rmtree(self.dir, ignore_errors=True)
        _procs.guard_dir(self.dir, on=False)
        LIVE.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        states = " ".join(f"{n}:{self._state[n]}" for n in self._nodes)
        return f"<{type(self).__name__} n={self.n} network={self.network!r} {states}>"


@atexit.register
def _close_all():
    for c in list(LIVE):
        c.close()
