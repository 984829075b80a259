"""A small TCP proxy on 127.0.0.1 for client<->server link faults.

Learners' clients talk to a server through a :class:`LinkProxy`, which can

* ``cut()``        -- reset every connection and refuse new ones (a crashed NIC, a firewall REJECT);
* ``blackhole()``  -- keep connections open but move no bytes (a silent partition: the
  data waits, as TCP retransmissions would, and flows again after ``heal()``);
* ``delay(ms)``    -- deliver every chunk ``ms`` later (this kernel has no netem);
* ``heal()``       -- back to normal.

A blackhole long enough is what makes a ZooKeeper session or an etcd lease
expire while both the client and the server are perfectly healthy.
"""
from __future__ import annotations

import collections
import errno
import socket
import struct
import threading
import time

from .errors import PortInUseError

_MODES = ("pass", "cut", "blackhole")


def _reset(sock):
    """Close with RST (SO_LINGER 0) so the peer sees a reset, not a polite FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RD)     # wakes a thread blocked in recv() on it
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Pipe:
    """One direction of one connection: a reader thread and a writer thread."""

    def __init__(self, proxy, conn, src, dst):
        self.proxy, self.conn, self.src, self.dst = proxy, conn, src, dst
        self.queue: collections.deque = collections.deque()
        self.eof = False
        threading.Thread(target=self._read, daemon=True, name="proxy-read").start()
        threading.Thread(target=self._write, daemon=True, name="proxy-write").start()

    def _read(self):
        cond = self.proxy.cond
        while not self.conn.closed:
            try:
                data = self.src.recv(65536)
            except OSError:
                data = b""
            with cond:
                if not data:
                    self.eof = True
                else:
                    self.queue.append((time.monotonic(), data))
                cond.notify_all()
            if not data:
                return

    def _write(self):
        p, cond = self.proxy, self.proxy.cond
        while True:
            with cond:
                while True:
                    if self.conn.closed:
                        return
                    if p.mode == "pass" and self.queue:
                        due = self.queue[0][0] + p.delay_s
                        wait = due - time.monotonic()
                        if wait <= 0:
                            data = self.queue.popleft()[1]
                            break
                        cond.wait(wait)
                    elif p.mode == "pass" and self.eof:
                        data = None
                        break
                    else:
                        cond.wait(0.5)
            if data is None:
                self.conn.close()
                return
            try:
                self.dst.sendall(data)
            except OSError:
                self.conn.close()
                return


class _Conn:
    def __init__(self, proxy, client, upstream):
        self.proxy, self.client, self.upstream = proxy, client, upstream
        self.closed = False
        _Pipe(proxy, self, client, upstream)
        _Pipe(proxy, self, upstream, client)

    def close(self):
        with self.proxy.cond:
            if self.closed:
                return
            self.closed = True
            self.proxy.conns.discard(self)
            self.proxy.cond.notify_all()
        _reset(self.client)
        _reset(self.upstream)


class LinkProxy:
    """Forward ``127.0.0.1:<port>`` to ``connect()`` (a callable returning a connected socket)."""

    def __init__(self, connect, port=0, name="link"):
        self.connect, self.name = connect, name
        self.mode, self.delay_s = "pass", 0.0
        self.cond = threading.Condition()
        self.conns: set = set()
        self.accepted = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", port))
        except OSError as e:
            self.sock.close()
            if e.errno == errno.EADDRINUSE:
                raise PortInUseError(port, f"client port of {name}") from None
            raise
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name=f"proxy-{name}").start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "cut":
                _reset(client)
                continue
            threading.Thread(target=self._open, args=(client,), daemon=True).start()

    def _open(self, client):
        try:
            upstream = self.connect()
        except OSError:
            _reset(client)          # server down: the client sees a reset
            return
        for s in (client, upstream):
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(self, client, upstream)
        with self.cond:
            if self._closed or self.mode == "cut":
                closed = True
            else:
                closed = False
                self.conns.add(conn)
        if closed:
            conn.close()

    # -- faults ----------------------------------------------------------------
    def _set(self, mode, delay_s=None):
        with self.cond:
            self.mode = mode
            if delay_s is not None:
                self.delay_s = delay_s
            doomed = list(self.conns) if mode == "cut" else []
            self.cond.notify_all()
        for c in doomed:
            c.close()
        return True

    def cut(self):
        """Reset all connections and refuse new ones until ``heal()``."""
        return self._set("cut")

    def blackhole(self):
        """Hold every byte in both directions until ``heal()``; connections stay open."""
        return self._set("blackhole")

    def delay(self, ms):
        """Deliver every chunk ``ms`` milliseconds late (0 removes the delay)."""
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not ms >= 0:
            raise ValueError(f"delay is a number of ms >= 0, got {ms!r}")
        return self._set(self.mode, ms / 1000.0)

    def heal(self):
        return self._set("pass", 0.0)

    def reset_connections(self):
        """Reset current connections once (the server 'restarted' from the client's view)."""
        with self.cond:
            doomed = list(self.conns)
        for c in doomed:
            c.close()

    def close(self):
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the accept() thread
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        with self.cond:
            doomed = list(self.conns)
        for c in doomed:
            c.close()

    def __repr__(self):
        extra = f" delay={self.delay_s * 1000:g}ms" if self.delay_s else ""
        return f"<LinkProxy {self.name} {self.address} {self.mode}{extra} conns={len(self.conns)}>"
