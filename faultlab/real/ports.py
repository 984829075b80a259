"""Free TCP ports on 127.0.0.1 that two faultlab processes can never both take.

The kernel hands out a free port for ``bind(('127.0.0.1', 0))``; once that
socket is closed, another process may get the same number before our server
binds it. So each port we hand out is also locked with ``flock`` on a file in
a shared directory, held until released or until our process dies (the kernel
drops the lock then). Other faultlab processes skip locked ports. A released
port's lock file is deleted; a process that dies leaves only an empty, unlocked
file behind, which the next allocation of that port reuses.
"""
from __future__ import annotations

import atexit
import errno
import fcntl
import os
import socket
import tempfile
import threading

from .errors import PortInUseError

LOCK_DIR = os.path.join(tempfile.gettempdir(), "faultlab-ports")
_held: dict = {}          # port -> open lock fd
_lock = threading.Lock()


def _lock_dir():
    if not os.path.isdir(LOCK_DIR):
        os.makedirs(LOCK_DIR, exist_ok=True)
        try:
            os.chmod(LOCK_DIR, 0o1777)      # shared by every user, like /tmp itself
        except PermissionError:
            pass
    return LOCK_DIR


def _try_lock(port):
    path = os.path.join(_lock_dir(), f"{port}.lock")
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDONLY, 0o644)   # flock needs no write access
    except PermissionError:                 # another user's lock file: treat the port as taken
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # the holder unlinks the file on release; if that happened after our open, our lock
        # is on a dead inode and protects nothing: treat the port as busy this time
        if os.fstat(fd).st_ino != os.stat(path).st_ino:
            raise OSError("lock file replaced")
    except OSError:
        os.close(fd)
        return None
    return fd


def _bindable(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return False
        raise
    finally:
        s.close()


def allocate(count=1):
    """Reserve ``count`` distinct free ports; release them with :func:`release`."""
    out = []
    with _lock:
        for _ in range(200 * count):
            if len(out) == count:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            if port in _held:
                continue
            fd = _try_lock(port)
            if fd is None:
                continue
            if not _bindable(port):        # taken again between close and lock
                os.close(fd)
                continue
            _held[port] = fd
            out.append(port)
    if len(out) < count:
        release(out)
        raise OSError("could not find enough free ports on 127.0.0.1")
    return out


def reserve(port, what="port"):
    """Reserve one specific port, with a clear error if someone else has it."""
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"a port is an integer between 1 and 65535, got {port!r}")
    with _lock:
        if port in _held:
            raise PortInUseError(port, what)
        fd = _try_lock(port)
        if fd is None or not _bindable(port):
            if fd is not None:
                os.close(fd)
            raise PortInUseError(port, what)
        _held[port] = fd
    return port


def release(ports):
    """Give ports back; their lock files are removed while still locked, so none pile up."""
    with _lock:
        for p in ports:
            fd = _held.pop(p, None)
            if fd is not None:
                try:
                    os.unlink(os.path.join(LOCK_DIR, f"{p}.lock"))
                except OSError:
                    pass
                os.close(fd)


@atexit.register
def _release_all():
    release(list(_held))
