"""Client-side recipes on real coordination services: election, lock, lease keep-alive, fencing token.

Each recipe takes the client first, as kazoo's own recipes do (``Lock(client, path)``),
and works with either client the course uses: a kazoo ``KazooClient`` (ZooKeeper)
or an etcd3gw client (etcd). The same call on both services is the point: the
ideas are the same, only the vocabulary differs (session vs lease, czxid vs
create revision). The recipes return values, not printed text, so a caller can
turn them into verdicts that do not change from run to run.

>>> leaders = []
>>> campaign(zk_client, "/election/report", "A", leaders)   # doctest: +SKIP
>>> lock = acquire(etcd_client, "report", ttl=2)             # doctest: +SKIP
>>> fencing_token(etcd_client, lock)                         # doctest: +SKIP
"""
from __future__ import annotations

import base64
import threading
import time

from ..errors import ConfigError

__all__ = ["campaign", "leader", "acquire", "keep_alive", "fencing_token", "wait_until"]


def wait_until(predicate, timeout=15.0, interval=0.05):
    """Poll ``predicate()`` until truthy; returns (value, seconds waited) -- value None on timeout."""
    t0 = time.monotonic()
    while True:
        got = predicate()
        if got:
            return got, time.monotonic() - t0
        if time.monotonic() - t0 >= timeout:
            return None, time.monotonic() - t0
        time.sleep(interval)


def _kind(client):
    """'zookeeper' for a kazoo client, 'etcd' for an etcd3gw client; a clear error otherwise."""
    from kazoo.client import KazooClient
    if isinstance(client, KazooClient):
        return "zookeeper"
    from etcd3gw.client import Etcd3Client
    if isinstance(client, Etcd3Client):
        return "etcd"
    raise ConfigError(f"a recipe takes a kazoo KazooClient or an etcd3gw client first "
                      f"(zk.client() / etcd.client()), got {type(client).__name__}")


def _b64(text):
    return base64.b64encode(text.encode()).decode()


# -- leader election ---------------------------------------------------------------------------
def campaign(client, election, name, leaders, lease=None, timeout=10.0):
    """Campaign for ``election`` as ``name`` in the background; the winner appends ``name`` to ``leaders``.

    ZooKeeper: kazoo's ``Election`` (ephemeral sequential znodes; the lowest leads).
    etcd: the server's election service, the leadership tied to ``lease`` (required).
    Returns once the contender is registered, so contenders queue in call order; it
    leads until its session ends or its lease expires.
    """
    kind = _kind(client)
    if kind == "zookeeper":
        if lease is not None:
            raise ConfigError("a ZooKeeper election is tied to the client's session: leave lease out")
        race = client.Election(election, name)

        def lead():
            leaders.append(name)
            threading.Event().wait()          # do the leader's work "forever" (until the session ends)
        run, registered = (lambda: race.run(lead)), (lambda: name in race.contenders())
    else:
        if lease is None:
            raise ConfigError("an etcd election is tied to a lease: pass lease=client.lease(ttl=5)")

        def run():
            client.post(client.get_url("/election/campaign"),
                        json={"name": _b64(election), "value": _b64(name), "lease": lease.id})
            leaders.append(name)

        def registered():
            return any(int(meta.get("lease", 0)) == int(lease.id)
                       for _, meta in client.get_prefix(f"{election}/"))
    threading.Thread(target=run, daemon=True, name=f"campaign-{name}").start()
    if not wait_until(registered, timeout)[0]:
        raise TimeoutError(f"{name} did not join the election {election!r} within {timeout:g} s")


def leader(client, election):
    """The name of the current leader of ``election``, or None when nobody leads."""
    if _kind(client) == "zookeeper":
        contenders = client.Election(election).contenders()
        return contenders[0] if contenders else None
    try:
        got = client.post(client.get_url("/election/leader"), json={"name": _b64(election)})
    except Exception as e:  # noqa: BLE001 - etcd answers an error when nobody leads
        if "no leader" in f"{getattr(e, 'detail_text', '')} {e}":
            return None
        raise
    return base64.b64decode(got["kv"]["value"]).decode()


# -- locks and leases --------------------------------------------------------------------------
def acquire(client, name, identifier="", ttl=5, timeout=15.0):
    """Take the lock ``name``, waiting up to ``timeout`` s; returns the held lock, or None.

    ZooKeeper: kazoo's ``Lock`` (``identifier`` names the holder; ``ttl`` does not apply,
    the lock lives as long as the session). etcd: etcd3gw's lock, a key on a lease of
    ``ttl`` s; it tries once per call, so this retries until ``timeout``.
    """
    if _kind(client) == "zookeeper":
        from kazoo.exceptions import LockTimeout
        lock = client.Lock(name, identifier)
        try:
            return lock if lock.acquire(timeout=timeout) else None
        except LockTimeout:              # kazoo withdraws its contender znode before raising
            return None
    lock = client.lock(name, ttl=ttl)
    got, _ = wait_until(lock.acquire, timeout, 0.1)
    return lock if got else None


def keep_alive(client, lease, every=0.5):
    """Refresh an etcd ``lease`` through ``client`` in the background, as etcd's own clients do.

    Returns ``stop()``. A refresh that cannot get through (a cut link) is retried on the
    next beat -- the lease then expires on the servers' clock, which is the point.
    """
    if _kind(client) == "zookeeper":
        raise ConfigError("a ZooKeeper session is kept alive by kazoo itself; keep_alive is for etcd leases")
    from etcd3gw.lease import Lease
    mine = Lease(lease.id, client)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                mine.refresh()
            except Exception:  # noqa: BLE001 - link down: the refresh times out, keep trying
                pass
            stop.wait(every)
    threading.Thread(target=loop, daemon=True, name=f"keep-alive-{lease.id}").start()
    return stop.set


def fencing_token(client, lock):
    """The fencing token of a held lock: a number that grows with every grant of it.

    ZooKeeper: the czxid of the lock's znode (the zxid of the write that created it).
    etcd: the create revision of the lock's key. Both come from the one total order of
    writes, so a later holder's token is always larger.
    """
    if lock is None:
        raise ConfigError("no lock was acquired (acquire() returned None), so there is no token")
    if _kind(client) == "zookeeper":
        stat = client.exists(f"{lock.path}/{lock.node}") if lock.node else None
        if stat is None:
            raise ConfigError("this lock is not held (its znode does not exist), so it has no token")
        return stat.czxid
    got = client.get(lock.key, metadata=True)
    if not got:
        raise ConfigError("this lock is not held (its key does not exist), so it has no token")
    return int(got[0][1]["create_revision"])
