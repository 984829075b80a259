"""The client-link proxy against a real echo server: pass, delay, blackhole, cut, heal."""
import socket
import threading
import time

import pytest

from faultlab.real import LinkProxy


def _echo(conn):
    try:
        for data in iter(lambda: conn.recv(4096), b""):
            conn.sendall(data)
    except OSError:          # the proxy resets connections on cut: expected
        pass
    conn.close()


@pytest.fixture
def echo():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(c,), daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()
    port = srv.getsockname()[1]
    proxy = LinkProxy(lambda: socket.create_connection(("127.0.0.1", port), timeout=2), name="echo")
    yield proxy
    proxy.close()
    srv.close()


def roundtrip(proxy, data=b"ping", timeout=2.0, sock=None):
    s = sock or socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)
    s.settimeout(timeout)
    t = time.monotonic()
    s.sendall(data)
    got = s.recv(100)
    return got, time.monotonic() - t, s


def test_pass_and_delay(echo):
    got, fast, s = roundtrip(echo)
    assert got == b"ping"
    echo.delay(150)
    got, slow, _ = roundtrip(echo, sock=s)
    assert got == b"ping" and slow >= 0.29 > fast       # 150 ms each way
    echo.heal()
    with pytest.raises(ValueError, match="ms"):
        echo.delay(-1)


def test_blackhole_holds_bytes_until_heal(echo):
    _, _, s = roundtrip(echo)
    echo.blackhole()
    with pytest.raises(socket.timeout):
        roundtrip(echo, b"held", timeout=0.5, sock=s)
    echo.heal()
    s.settimeout(2)
    assert s.recv(100) == b"held"          # nothing lost, only delayed, as with TCP retransmission


def test_cut_resets_connections_and_refuses_new_ones(echo):
    _, _, s = roundtrip(echo)
    echo.cut()
    time.sleep(0.1)
    with pytest.raises((ConnectionError, OSError)):
        got, _, _ = roundtrip(echo, sock=s)
        if got == b"":
            raise ConnectionResetError("closed")
    with pytest.raises((ConnectionError, OSError)):
        got, _, _ = roundtrip(echo)
        if got == b"":
            raise ConnectionResetError("closed")
    echo.heal()
    assert roundtrip(echo)[0] == b"ping"
