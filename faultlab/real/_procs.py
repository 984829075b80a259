"""Child processes that cannot outlive us.

Three guards, because each alone has a hole:

* every server runs in its own process group (``setsid``), so a signal reaches
  the JVM or etcd and anything they fork;
* ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child: the kernel kills it when
  the *thread* that forked it exits -- so all forks happen on one long-lived
  spawner thread, never on a short-lived worker (e.g. a nemesis thread);
* a watchdog process reads a pipe from us and, on EOF (we died, even by
  SIGKILL), kills every registered process group and removes our temp dirs.
"""
from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
CLONE_NEWNET = 0x40000000


def _errno_error(what):
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


def unshare_net():
    if _libc.unshare(CLONE_NEWNET) != 0:
        raise _errno_error("unshare(CLONE_NEWNET)")


def setns_net(pid):
    """Move the calling *thread* into the network namespace of process ``pid``."""
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise _errno_error(f"setns into the network namespace of pid {pid}")
    finally:
        os.close(fd)


def _child_setup(parent_pid, netns_pid, new_netns):
    """Runs in the child between fork and exec (async-signal-safe enough for CPython)."""
    def setup():
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:       # parent already gone before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)
        if new_netns:
            unshare_net()
        elif netns_pid is not None:
            setns_net(netns_pid)
    return setup


class _Spawner:
    """One daemon thread that performs every fork, so PDEATHSIG means 'our process died'."""

    def __init__(self):
        self.q: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="faultlab-spawner", daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            fn, box, done = self.q.get()
            try:
                box["value"] = fn()
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                box["error"] = e
            done.set()

    def call(self, fn):
        if threading.current_thread() is self.thread:
            return fn()
        box, done = {}, threading.Event()
        self.q.put((fn, box, done))
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["value"]


class _Watchdog:
    def __init__(self):
        script = os.path.join(os.path.dirname(__file__), "_watchdog.py")
        self.proc = subprocess.Popen([sys.executable, "-S", "-u", script], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True, close_fds=True, text=True)
        self.lock = threading.Lock()

    def send(self, line):
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()


_state_lock = threading.Lock()
_spawner = None
_watchdog = None
_pid = None


def _singletons():
    """Per-process spawner and watchdog (recreated in a forked child)."""
    global _spawner, _watchdog, _pid
    with _state_lock:
        if _pid != os.getpid():
            _spawner, _watchdog, _pid = _Spawner(), None, os.getpid()
        if _watchdog is None or _watchdog.proc.poll() is not None:
            _watchdog = _Spawner.call(_spawner, _Watchdog)
        return _spawner, _watchdog


def guard_dir(path, on=True):
    """Have the watchdog remove ``path`` if we die without cleaning up."""
    _singletons()[1].send(("+dir " if on else "-dir ") + str(path))


def spawn(argv, log_path, cwd=None, env=None, netns_pid=None, new_netns=False):
    """Start ``argv`` in a new session, output appended to ``log_path``; returns Popen."""
    spawner, watchdog = _singletons()
    parent = os.getpid()

    def start():
        with open(log_path, "ab") as log:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=cwd, env=env, start_new_session=True, close_fds=True,
                                    preexec_fn=_child_setup(parent, netns_pid, new_netns))
    proc = spawner.call(start)
    watchdog.send(f"+pgid {proc.pid}")
    return proc


def signal_group(proc, sig):
    """Send ``sig`` to the process group of ``proc``; False if it is already gone."""
    try:
        os.killpg(proc.pid, sig)
        return True
    except ProcessLookupError:
        return False


def reap(proc, timeout=10.0):
    """Wait for ``proc`` to exit (SIGKILL after ``timeout``) and forget its group."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_group(proc, signal.SIGKILL)
        signal_group(proc, signal.SIGCONT)
        proc.wait(5)
    # the group may still hold grandchildren; kill them too before forgetting it
    signal_group(proc, signal.SIGKILL)
    _singletons()[1].send(f"-pgid {proc.pid}")


def kill_now(proc):
    """SIGKILL the whole group and wait for it."""
    signal_group(proc, signal.SIGKILL)
    reap(proc)
