"""Concurrent clients against a real cluster while a nemesis runs, recorded as a History.

Each client is a thread with its own connection (kazoo session / etcd3gw
clients). Operations are the simulator's: ``read``/``write``/``cas`` on a few
registers (keys), recorded Jepsen style in the same :class:`History` with
times in ms on the cluster's clock, so the same checker and figures apply.

Outcomes: ``ok``; ``fail`` only when the operation *certainly* did not take
effect (a cas whose comparison failed, a read that never reached a server);
``info`` for timeouts and lost connections -- the write may or may not have
happened. After an ``info`` the client continues as a new process, as in the
simulator. Each client also adds unique elements to a set (one znode or key
per element), which gives the "no acknowledged write lost" check.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..history import History
from ..rng import seeded_rng
from ..workloads import register_workload

SET_PREFIX = "faultlab-set"


class Indefinite(Exception):
    """The operation may or may not have happened (timeout, connection lost)."""


class Definite(Exception):
    """The operation certainly did not happen."""


def _decode(raw):
    if raw in (None, b"", ""):
        return None
    return int(raw)


class _ZkSession:
    """One kazoo session; ZooKeeper reads go through ``sync`` first so they are not stale."""

    def __init__(self, cluster, rng, timeout):
        nodes = cluster.nodes
        rng.shuffle(nodes)
        self.zk = cluster.client(nodes, timeout=6.0)
        self.timeout = timeout

    def _wait(self, async_result):
        from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError
        try:
            return async_result.get(timeout=self.timeout)
        except (BadVersionError, NoNodeError, NodeExistsError) as e:
            raise Definite(type(e).__name__) from None
        except Exception as e:  # noqa: BLE001 - connection loss, session expiry, timeouts
            raise Indefinite(type(e).__name__) from None

    def setup(self, keys):
        for k in keys:
            self.zk.ensure_path(f"/faultlab/{k}")
        self.zk.ensure_path(f"/{SET_PREFIX}")

    def read(self, key):
        path = f"/faultlab/{key}"
        self._wait(self.zk.sync_async(path))
        data, _ = self._wait(self.zk.get_async(path))
        return _decode(data)

    def write(self, key, value):
        self._wait(self.zk.set_async(f"/faultlab/{key}", str(value).encode()))

    def cas(self, key, expected, new):
        path = f"/faultlab/{key}"
        try:
            self._wait(self.zk.sync_async(path))
            data, stat = self._wait(self.zk.get_async(path))
        except Indefinite as e:
            raise Definite(f"read before cas: {e}") from None   # nothing was written yet
        if _decode(data) != expected:
            raise Definite("value differs")
        self._wait(self.zk.set_async(path, str(new).encode(), version=stat.version))

    def add(self, element):
        self._wait(self.zk.create_async(f"/{SET_PREFIX}/{element}", b"1"))

    def elements(self):
        self.zk.sync(f"/{SET_PREFIX}")
        return set(self.zk.get_children(f"/{SET_PREFIX}"))

    def close(self):
        try:
            self.zk.stop()
            self.zk.close()
        except Exception:  # noqa: BLE001 - best effort at shutdown
            pass


class _EtcdSession:
    """etcd3gw clients for every member; on trouble the next operation tries another member."""

    def __init__(self, cluster, rng, timeout):
        self.clients = [cluster.client(n, timeout=timeout) for n in cluster.nodes]
        self.i = rng.randrange(len(self.clients))

    def _call(self, fn, *args):
        from etcd3gw.exceptions import ConnectionFailedError
        c = self.clients[self.i]
        try:
            return fn(c, *args)
        except ConnectionFailedError as e:
            self.i = (self.i + 1) % len(self.clients)
            if "refused" in str(e).lower():
                raise Definite("connection refused") from None
            raise Indefinite(type(e).__name__) from None
        except Exception as e:  # noqa: BLE001 - timeouts, 'request timed out', 'leader changed'
            self.i = (self.i + 1) % len(self.clients)
            raise Indefinite(f"{type(e).__name__}: {str(e)[:80]}") from None

    def setup(self, keys):
        pass

    def read(self, key):
        got = self._call(lambda c: c.get(f"faultlab/{key}"))
        return _decode(got[0]) if got else None

    def write(self, key, value):
        self._call(lambda c: c.put(f"faultlab/{key}", str(value)))

    def cas(self, key, expected, new):
        if expected is None:
            raise Definite("cas from an unset register is not in this workload")
        if not self._call(lambda c: c.replace(f"faultlab/{key}", str(expected), str(new))):
            raise Definite("value differs")

    def add(self, element):
        self._call(lambda c: c.put(f"{SET_PREFIX}/{element}", "1"))

    def elements(self):
        got = self._call(lambda c: c.get_prefix(f"{SET_PREFIX}/"))
        return {meta["key"].decode().rsplit("/", 1)[1] for _value, meta in got}

    def close(self):
        for c in self.clients:
            c.session.close()


def session(cluster, rng=None, timeout=2.0):
    """A client session of the right kind for ``cluster``."""
    rng = rng or seeded_rng(0)
    return (_ZkSession if cluster.kind == "zookeeper" else _EtcdSession)(cluster, rng, timeout)


@dataclass
class RealRun:
    """What a workload run produced: the history, the cluster trace, and the set check."""
    history: History
    trace: list
    added: dict = field(default_factory=dict)        # element -> 'ok' | 'fail' | 'info'
    present: set = field(default_factory=set)
    nemesis_errors: list = field(default_factory=list)

    @property
    def lost(self):
        """Acknowledged set elements missing after recovery: must be empty."""
        return sorted(e for e, s in self.added.items() if s == "ok" and e not in self.present)

    @property
    def unexpected(self):
        """Elements present that no client ever tried to add: must be empty."""
        return sorted(self.present - set(self.added))

    def counts(self):
        out = {"ok": 0, "fail": 0, "info": 0}
        for op in self.history.operations():
            out[op.status] += 1
        out["adds_ok"] = sum(s == "ok" for s in self.added.values())
        return out


class _Worker(threading.Thread):
    def __init__(self, run, cluster, index, n, keys, workload, end, seed, timeout, think, lock):
        super().__init__(daemon=True, name=f"faultlab-client-{index}")
        self.run_, self.cluster, self.process, self.n = run, cluster, index, n
        self.keys, self.workload, self.end, self.timeout, self.think = keys, workload, end, timeout, think
        self.rng = seeded_rng(seed, "real-client", index)
        self.lock, self.seq = lock, 0

    def _event(self, kind, f, value, key, error=None):
        with self.lock:
            self.run_.history.append(kind, self.process, f, value, key, self.cluster.now, error)

    def run(self):
        s = session(self.cluster, self.rng, self.timeout)
        try:
            while time.monotonic() < self.end:
                self.seq += 1
                if self.seq % 4 == 0:
                    self._add(s)
                else:
                    self._op(s)
                time.sleep(self.rng.uniform(*self.think))
        finally:
            s.close()

    def _add(self, s):
        element = f"c{self.process}-{self.seq}"
        try:
            s.add(element)
            status = "ok"
        except Definite:
            status = "fail"
        except Indefinite:
            status = "info"
        with self.lock:
            self.run_.added[element] = status

    def _op(self, s):
        f, key, value = self.workload(self.rng)
        key = key if key is not None else self.rng.choice(self.keys)
        self._event("invoke", f, value, key)
        try:
            if f == "read":
                out = s.read(key)
            elif f == "write":
                s.write(key, value)
                out = value
            else:
                s.cas(key, *value)
                out = value
        except Definite as e:
            self._event("fail", f, value, key, str(e))
            return
        except Indefinite as e:
            self._event("info", f, value, key, str(e))
            self.process += self.n         # the old operation may still take effect
            return
        self._event("ok", f, out, key)


def _nemesis(cluster, schedule, start, run, stop):
    for t, op in sorted(schedule, key=lambda x: x[0]):
        if stop.wait(max(0.0, start + t / 1000.0 - time.monotonic())):
            return
        try:
            op.apply(cluster)
        except Exception as e:  # noqa: BLE001 - recorded, the run goes on
            run.nemesis_errors.append(f"{op}: {type(e).__name__}: {e}")


def recover(cluster, timeout=60.0):
    """Undo every fault: heal the network, resume paused and restart crashed servers."""
    cluster.heal()
    if getattr(cluster, "fabric", None) is not None and cluster.fabric.loss:
        cluster.set_loss(0)
    for node in cluster.nodes:
        cluster.resume(node)
        cluster.restart(node)
    cluster.wait_ready(timeout)


def run_workload(cluster, duration=30.0, clients=4, keys=("k0", "k1", "k2"), schedule=(),
                 workload=None, seed=0, timeout=2.0, think=(0.0, 0.02)):
    """Run ``clients`` threads for ``duration`` s while ``schedule`` ([(ms, nemesis op)]) fires.

    Afterwards every fault is undone, each client-visible key is read once more
    and the set is read back. Check with ``faultlab.check.linearizable(run.history,
    KeyValue(initial=None))`` and ``run.lost``.
    """
    run = RealRun(History(), cluster.trace)
    workload = workload or register_workload(values=5)
    first = session(cluster, seeded_rng(seed), timeout=10.0)
    first.setup(list(keys))
    halt_monitor = cluster.monitor(0.2)
    lock = threading.Lock()
    start = time.monotonic()
    stop = threading.Event()
    nem = threading.Thread(target=_nemesis, args=(cluster, list(schedule), start, run, stop), daemon=True)
    workers = [_Worker(run, cluster, i, clients, list(keys), workload, start + duration, seed, timeout,
                       think, lock) for i in range(clients)]
    nem.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join(duration + 60)
    stop.set()
    nem.join(30)
    recover(cluster)
    halt_monitor()
    final = 10 ** 6
    for key in keys:
        for _attempt in range(20):
            run.history.invoke(final, "read", None, key, cluster.now)
            try:
                run.history.ok(final, "read", first.read(key), key, cluster.now)
                break
            except (Definite, Indefinite) as e:
                run.history.info(final, "read", None, key, cluster.now, error=str(e))
                final += 1
                time.sleep(0.5)
    for _attempt in range(20):
        try:
            run.present = first.elements()
            break
        except Exception:  # noqa: BLE001 - the session may still be reconnecting
            time.sleep(0.5)
    first.close()
    return run
