"""Story support for the practice chapter (ZooKeeper and etcd): the notebook's cells stay short.

Everything here drives the real servers of :mod:`faultlab.real`; nothing is
simulated. Helpers print *verdicts* ("a new leader within 5 s: yes") rather
than raw timings, ports or zxids, so a chapter's stored outputs stay the same
from run to run. Where the servers are missing, :func:`start` says how to get
them and returns ``None``, and :func:`have` lets each cell skip its real work
with a clear message -- the chapter still runs top to bottom.
"""
from __future__ import annotations

import base64
import concurrent.futures
import threading
import time
from dataclasses import dataclass, field

from .errors import ConfigError
from .trace import Record

INSTALL = ("`make lab` in the faultlab folder installs them, or by hand on Debian/Ubuntu:\n"
           "    sudo apt-get install -y zookeeper default-jre-headless etcd-server etcd-client\n"
           "(or start the containers of docker-compose.yml if you have Docker).")
NAMES = {"zookeeper": "ZooKeeper", "etcd": "etcd"}
_MISSING: dict = {}


def _classes():
    from .real import EtcdCluster, ZooKeeperEnsemble
    return {"zookeeper": ZooKeeperEnsemble, "etcd": EtcdCluster}


def start(*kinds, n=3):
    """Start one real cluster per kind ('zookeeper', 'etcd') in parallel; ``None`` where impossible.

    Returns a single cluster for one kind, else a tuple. A missing server is not an
    error: it prints what is missing and how to install it.
    """
    from .real import ClusterStartError, ServersNotInstalledError
    classes = _classes()
    bad = [k for k in kinds if k not in classes]
    if not kinds or bad:
        raise ConfigError(f"start() takes 'zookeeper' and/or 'etcd', got {kinds!r}")

    def one(kind):
        try:
            return classes[kind](n=n)
        except (ServersNotInstalledError, ClusterStartError) as e:
            return e
    with concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:
        got = list(pool.map(one, kinds))
    out = []
    for kind, c in zip(kinds, got):
        name = NAMES[kind]
        if isinstance(c, Exception):
            _MISSING[kind] = str(c)
            reason = "is not installed here" if isinstance(c, ServersNotInstalledError) else "did not start"
            print(f"{name} {reason}: {c}\n")
            out.append(None)
            continue
        _MISSING.pop(kind, None)
        settle(c)
        c.monitor(0.2)
        print(f"{name}: {n} servers running — {summary(c)}.")
        print(f"    partitions: {_partition_note(c)}")
        out.append(c)
    if any(c is None for c in out):
        print("The cells that need a missing server will say 'skipped'. To get the servers:\n" + INSTALL)
    return out[0] if len(out) == 1 else tuple(out)


def _partition_note(cluster):
    if cluster.fabric is not None:
        return "available (each server has its own network namespace)"
    from .real import netns
    return f"not available here ({netns.unavailable_reason() or 'loopback network'})"


def have(*things):
    """True when every cluster/client given exists; otherwise print why the cell skips its work."""
    if all(t is not None for t in things):
        return True
    print("skipped: this cell needs the real servers, which are not running here "
          "(see the note under 'Start the clusters').")
    return False


def settle(cluster, timeout=30.0):
    """Wait until every running server is a leader or a follower (a restarted one catches up)."""
    return cluster.wait_for(lambda st: all(s["role"] in ("leader", "follower") for s in st
                                           if s["state"] == "up"), timeout)


def summary(cluster):
    """'1 leader, 2 followers' -- the shape of the cluster, not who is who."""
    st = cluster.status()
    counts: dict = {}
    for s in st:
        what = s["role"] if s["state"] == "up" and s["reachable"] else s["state"]
        counts[what] = counts.get(what, 0) + 1
    order = ["leader", "follower", "candidate", "looking", "paused", "crashed"]
    parts = [f"{counts[k]} {k}{'s' if counts[k] > 1 and k in ('leader', 'follower', 'candidate') else ''}"
             for k in order if k in counts]
    parts += [f"{v} {k}" for k, v in counts.items() if k not in order]
    return ", ".join(parts)


def yes(flag):
    return "yes" if flag else "no"


# -- clients -------------------------------------------------------------------------------
def zk_worker(zk, node=None, timeout=2.0):
    """A kazoo client with its *own* link proxy (to ``node``, default the first server).

    Returns ``(client, link)``: ``link.blackhole()`` silences just this client --
    the server hears nothing from it, as if its process were frozen in a long pause.
    """
    from kazoo.client import KazooClient
    from .real.zookeeper import KAZOO_LOG
    link = zk.link(node or zk.nodes[0])
    client = KazooClient(hosts=link.address, timeout=timeout, logger=KAZOO_LOG,
                         connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    client.start(timeout=15)
    return client, link


def etcd_worker(etcd, node=None, timeout=1.0):
    """An etcd3gw client with its own link proxy; returns ``(client, link)``."""
    import etcd3gw
    link = etcd.link(node or etcd.nodes[0])
    return etcd3gw.client(host="127.0.0.1", port=link.port, timeout=timeout, api_path="/v3/"), link


def zk_token(client, lock):
    """The fencing token of a held kazoo lock: the czxid of its lock znode (grows with every lock)."""
    stat = client.exists(f"{lock.path}/{lock.node}")
    if stat is None:
        raise ConfigError("this lock is not held (its znode does not exist), so it has no token")
    return stat.czxid


def etcd_token(client, lock):
    """The fencing token of a held etcd3gw lock: the create revision of its key."""
    got = client.get(lock.key, metadata=True)
    if not got:
        raise ConfigError("this lock is not held (its key does not exist), so it has no token")
    return int(got[0][1]["create_revision"])


def run_election(election, name, leaders, timeout=10.0):
    """Campaign for a kazoo ``Election`` in a background thread (``election.run`` blocks).

    The winner appends ``name`` to ``leaders`` and leads until its session ends.
    Returns once this contender's znode is registered, so contenders queue in call order.
    """
    def lead():
        leaders.append(name)
        threading.Event().wait()          # do the leader's work "forever"
    threading.Thread(target=election.run, args=(lead,), daemon=True, name=f"election-{name}").start()
    registered, _ = wait_until(lambda: name in election.contenders(), timeout)
    if not registered:
        raise TimeoutError(f"{name} did not join the election within {timeout:g} s")


def keep_alive(lease, every=0.5):
    """Refresh an etcd lease in the background (what real etcd clients do); returns ``stop()``."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                lease.refresh()
            except Exception:  # noqa: BLE001 - link down: the refresh times out, keep trying
                pass
            stop.wait(every)
    threading.Thread(target=loop, daemon=True, name="lease-keepalive").start()
    return stop.set


def wait_until(predicate, timeout=15.0, interval=0.05):
    """Poll ``predicate()`` until truthy; returns (value, seconds waited) -- value None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        got = predicate()
        if got:
            return got, time.monotonic() - t0
        time.sleep(interval)
    return None, time.monotonic() - t0


def acquire(lock, timeout=15.0):
    """Try an etcd3gw lock (a single try) until it succeeds; returns (acquired, seconds waited)."""
    got, waited = wait_until(lock.acquire, timeout, 0.1)
    return bool(got), waited


# -- etcd's own election service (gRPC-gateway /v3/election/*) --------------------------
def _b64(text):
    return base64.b64encode(text.encode()).decode()


def campaign(client, election, value, lease):
    """Block until ``value`` leads ``election`` (etcd's server-side election); returns the leader key."""
    got = client.post(client.get_url("/election/campaign"),
                      json={"name": _b64(election), "value": _b64(value), "lease": lease.id})
    return got["leader"]


def election_leader(client, election):
    """The value of the current leader of ``election``, or None."""
    try:
        got = client.post(client.get_url("/election/leader"), json={"name": _b64(election)})
    except Exception as e:  # noqa: BLE001 - etcd answers an error when nobody leads
        if "no leader" in str(e):
            return None
        raise
    return base64.b64decode(got["kv"]["value"]).decode()


# -- a storage service that checks fencing tokens --------------------------------------------
@dataclass
class Storage:
    """A tiny storage service. With ``fencing=True`` it rejects a write whose token is older than
    the newest token it has already accepted -- the zombie lock holder's late write."""

    fencing: bool = True
    data: dict = field(default_factory=dict)
    newest: int = 0
    log: list = field(default_factory=list)

    def write(self, key, value, token, who):
        if not isinstance(token, int) or isinstance(token, bool):
            raise ConfigError(f"a fencing token is an int (the lock's czxid / revision), got {token!r}")
        if self.fencing and token < self.newest:
            self.log.append(f"{who}: write {value!r} with fencing token {token} -> REJECTED "
                            f"(already saw token {self.newest})")
            return False
        self.newest = max(self.newest, token)
        self.data[key] = value
        self.log.append(f"{who}: write {value!r} with fencing token {token} -> accepted")
        return True

    def __str__(self):
        head = "storage WITH fencing" if self.fencing else "storage without fencing"
        return "\n".join([head] + ["  " + line for line in self.log] + [f"  final value: {self.data}"])


# -- measured failovers ----------------------------------------------------------------------
def failover(cluster, fault, timeout=30.0):
    """Inject ``fault`` on the leader and time the recovery (then undo the fault)."""
    from .real import measure_failover
    got = measure_failover(cluster, fault, timeout=timeout)
    settle(cluster)
    return got


def failover_table(results):
    """Plain-text table of measured failovers (times vary from run to run)."""
    rows = [f"{'cluster':<10} {'fault':<8} {'old -> new leader':<18} {'new leader after':>17} "
            f"{'first write after':>18}"]
    for kind, r in results:
        lead = f"{r.old_leader} -> {r.new_leader or '-'}"
        t1 = f"{r.to_leader_s:.2f} s" if r.to_leader_s is not None else "none"
        t2 = f"{r.to_write_s:.2f} s" if r.to_write_s is not None else "none"
        rows.append(f"{kind:<10} {r.fault:<8} {lead:<18} {t1:>17} {t2:>18}")
    return "\n".join(rows)


def failover_verdicts(results, within=5.0):
    """The deterministic part of a measurement: did each recovery happen within ``within`` s?"""
    lines = []
    for kind, r in results:
        lead = r.new_leader not in (None, r.old_leader) and r.to_leader_s is not None and r.to_leader_s <= within
        write = r.to_write_s is not None and r.to_write_s <= within
        lines.append(f"{kind:<10} {r.fault:<6} new leader within {within:g} s: {yes(lead)}; "
                     f"a write acknowledged within {within:g} s: {yes(write)}")
    return "\n".join(lines)


def role_timeline(cluster, title, before_ms=1000.0):
    """The role timeline of a real cluster from just before its first fault until now."""
    from .viz import timeline
    faults = [r.t for r in cluster.trace if r.kind in ("crash", "pause", "partition", "cut")]
    last_role = max((r.t for r in cluster.trace if r.kind == "role"), default=0.0)
    if cluster.now - last_role < 1000.0:        # let the last roles show as bars, not slivers
        time.sleep(1.0)
    start = max(0.0, min(faults) - before_ms) if faults else None
    now = round(cluster.now, 3)          # a closing record, so each server's last role lasts until now
    trace = [*cluster.trace, Record(now, "note", None, {"text": "figure drawn"})]
    return timeline(trace, start=start, end=now, title=title)


def try_write(cluster, node, key, value, timeout=3.0):
    """Write through ``node`` only (a client that can reach just that server): 'ok' or why not."""
    if cluster.kind == "zookeeper":
        from kazoo.exceptions import NoNodeError
        try:
            c = cluster.client([node], timeout=2.0, start=False)
            c.start(timeout=timeout)
        except Exception as e:  # noqa: BLE001 - the server does not serve without a quorum
            return f"failed ({type(e).__name__}: could not open a session)"
        try:
            c.ensure_path("/practice")
            try:
                c.set_async(f"/practice/{key}", value.encode()).get(timeout=timeout)
            except NoNodeError:
                c.create_async(f"/practice/{key}", value.encode()).get(timeout=timeout)
            return "ok"
        except Exception as e:  # noqa: BLE001
            return f"failed ({type(e).__name__})"
        finally:
            c.stop()
            c.close()
    try:
        cluster.client(node, timeout=timeout).put(key, value)
        return "ok"
    except Exception as e:  # noqa: BLE001 - a minority member cannot commit: the request times out
        return f"failed ({type(e).__name__})"


def partition_leader(cluster, within=10.0):
    """Cut the leader off from the other two, write on both sides, heal; print what happened."""
    from .real import NamespaceUnavailableError
    old = cluster.leader()
    try:
        cluster.isolate(old)
    except NamespaceUnavailableError as e:
        print(f"partitions are not possible on this machine: {e}")
        return None
    majority = [n for n in cluster.nodes if n != old]
    new, waited = wait_until(lambda: next((s["node"] for s in cluster.status() if s["node"] in majority
                                           and s["role"] == "leader"), None), timeout=20)
    minority_write = try_write(cluster, old, "side", "minority")
    majority_write = try_write(cluster, majority[0], "side", "majority")
    cluster.heal()
    back, _ = wait_until(lambda: (cluster.status()[cluster.nodes.index(old)]["role"] == "follower")
                         and cluster.leader() not in (None, old), timeout=20)
    cluster.wait_ready(30)
    print(f"{NAMES[cluster.kind]}: leader cut off from the other two servers")
    print(f"  majority side elected a new leader within {within:g} s: {yes(new and waited <= within)}")
    print(f"  write through the old leader (minority side): {'ok' if minority_write == 'ok' else 'failed'}")
    print(f"  write through the majority side:              {'ok' if majority_write == 'ok' else 'failed'}")
    print(f"  after healing, the old leader follows the new one: {yes(back)}")
    return {"old": old, "new": new, "to_leader_s": waited, "minority": minority_write, "majority": majority_write}


CHOICES = {
    "kill": {"a": "the cluster stays without a leader until the dead server is restarted",
             "b": "the two others elect a new leader within seconds and writes succeed again",
             "c": "a new leader is elected, but writes acknowledged by the old leader are lost"},
    "pause": {"a": "the old leader still believes it leads and keeps acting as leader",
              "b": "the old leader cannot commit anything and soon follows the new leader"},
    "partition": {"a": "writes succeed on both sides, which diverge",
                  "b": "writes succeed only on the majority side",
                  "c": "no write succeeds until the partition heals"},
    "zombie": {"a": "A learns at once that it lost the lock",
               "b": "A still believes it holds the lock until it hears from the servers again"},
}


def role_of(cluster, node):
    """What ``node`` says it is right now (leader, follower, ...; 'crashed'/'paused' if not running)."""
    s = next(s for s in cluster.status() if s["node"] == node)
    return s["role"] if s["state"] == "up" else s["state"]


def stepped_down(cluster, node):
    """Did ``node`` follow another leader after its last resume/restart/heal? (trace + a fresh look)."""
    since = max((r.t for r in cluster.trace if r.kind in ("resume", "restart", "heal")
                 and r.node in (node, None)), default=0.0)
    seen = any(r.kind == "role" and r.node == node and r.t >= since and r.info.get("role") == "follower"
               for r in list(cluster.trace))
    return seen or role_of(cluster, node) == "follower"


def partition_outcome(splits):
    """Which partition answer the runs of ``partition_leader`` showed: 'a', 'b' or 'c' (None: not run)."""
    if not splits or any(s is None for s in splits):
        return None
    sides = {(s["minority"] == "ok", s["majority"] == "ok") for s in splits}
    if sides == {(False, True)}:
        return "b"
    if (True, True) in sides or (True, False) in sides:
        return "a"
    return "c"


def check(prediction, happened, choices):
    """Compare the reader's prediction (a letter) with what the cluster did; print both."""
    if happened is None:
        print("The experiment could not run on this machine, so there is nothing to compare; "
              "read the explanation below.")
        return
    if happened not in choices:
        raise ConfigError(f"unknown outcome {happened!r}; expected one of {sorted(choices)}")
    said = (prediction or "").strip().lower()
    print(f"What happened: ({happened}) {choices[happened]}")
    if not said:
        print("You did not write a prediction -- next time, commit to one before you inject.")
    elif said not in choices:
        print(f"Your prediction {prediction!r} is not one of {', '.join(sorted(choices))}.")
    elif said == happened:
        print("Your prediction: right.")
    else:
        print(f"Your prediction ({said}) {choices[said]} -- not this time; read the explanation below.")


def close(*clusters):
    """Stop the servers the chapter started (they also die with the kernel)."""
    for c in clusters:
        if c is not None:
            c.close()
    print("all servers stopped")
