"""Story support for chapter 4 (ZooKeeper and etcd, for real): the notebook's cells stay short.

Everything here drives the real servers of :mod:`faultlab.real`; nothing is
simulated. Helpers print *verdicts* ("a new leader within 5 s: yes") rather
than raw timings, ports or zxids, so the chapter's checked outputs stay the same
from run to run. The client-side recipes themselves (election, lock, lease
keep-alive, fencing token) live in :mod:`faultlab.real.recipes`.

One availability guard for the whole chapter: importing this module in a notebook
(and :func:`start`) registers the cell magic ``%%needs``. A cell that begins with ``%%needs zookeeper`` (or ``etcd``,
or both) runs as usual when those servers are up; when they are missing it runs
nothing and prints one line saying what is missing and how to install it -- so
the chapter still runs top to bottom on any machine.
"""
from __future__ import annotations

import ast
import concurrent.futures
import time
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..trace import Record
from ..real.recipes import acquire, wait_until
from .exercise import Exercise, yes

INSTALL = ("`make lab` in the faultlab folder installs them, or by hand on Debian/Ubuntu:\n"
           "    sudo apt-get install -y zookeeper default-jre-headless etcd-server etcd-client\n"
           "(or start the containers of docker-compose.yml if you have Docker).")
NAMES = {"zookeeper": "ZooKeeper", "etcd": "etcd"}
PACKAGES = {"zookeeper": "zookeeper default-jre-headless", "etcd": "etcd-server"}
_WHY_MISSING: dict = {}       # kind -> why the chapter's cluster of that kind is not running
_STARTED: set = set()         # kinds start() was asked for


def _classes():
    from ..real import EtcdCluster, ZooKeeperEnsemble
    return {"zookeeper": ZooKeeperEnsemble, "etcd": EtcdCluster}


def start(*kinds, n=3):
    """Start one real cluster per kind ('zookeeper', 'etcd') in parallel; ``None`` where impossible.

    Returns a single cluster for one kind, else a tuple. A missing server is not an
    error: it prints what is missing and how to install it, and ``%%needs`` cells skip.
    """
    from ..real import ClusterStartError, ServersNotInstalledError
    classes = _classes()
    bad = [k for k in kinds if k not in classes]
    if not kinds or bad:
        raise ConfigError(f"start() takes 'zookeeper' and/or 'etcd', got {kinds!r}")
    _register_magic()

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
        _STARTED.add(kind)
        if isinstance(c, Exception):
            installed = not isinstance(c, ServersNotInstalledError)
            _WHY_MISSING[kind] = (f"{name} did not start (see the 'Start the clusters' cell)" if installed else
                                  f"{name} is not installed (apt-get install {PACKAGES[kind]})")
            print(f"{name} {'did not start' if installed else 'is not installed here'}: {c}\n")
            out.append(None)
            continue
        _WHY_MISSING.pop(kind, None)
        settle(c)
        c.monitor(0.2)
        print(f"{name}: {n} servers running — {summary(c)}.")
        print(f"    partitions: {_partition_note(c)}")
        out.append(c)
    if any(c is None for c in out):
        print("The cells marked %%needs with a missing server will say 'skipped'. To get the servers:\n"
              + INSTALL)
    return out[0] if len(out) == 1 else tuple(out)


def _partition_note(cluster):
    if cluster.fabric is not None:
        return "available (each server has its own network namespace)"
    from ..real import netns
    return f"not available here ({netns.unavailable_reason() or 'loopback network'})"


# -- the one availability guard: %%needs ------------------------------------------------------
def _kinds(line):
    words = line.replace(",", " ").split()
    bad = [w for w in words if w not in NAMES]
    if not words or bad:
        raise ConfigError(f"%%needs takes 'zookeeper' and/or 'etcd' (e.g. %%needs zookeeper etcd), got {line!r}")
    return words


def skip_reason(line):
    """Why a ``%%needs <line>`` cell cannot run here ('' when it can)."""
    kinds = _kinds(line)
    why = [_WHY_MISSING[k] if k in _STARTED else f"{NAMES[k]} was not started (run the 'Start the clusters' "
           "cell first)" for k in kinds if k in _WHY_MISSING or k not in _STARTED]
    return "; ".join(why)


def run_cell_if_up(line, cell, namespace):
    """Run ``cell`` in ``namespace`` if the servers named in ``line`` are up; else say why not.

    Like a notebook cell, a final expression is the result (and is shown) unless the cell ends in ``;``.
    """
    why = skip_reason(line)
    if why:
        print(f"skipped: {why}")
        return None
    tree = ast.parse(cell, "<%%needs cell>")
    shown = tree.body and isinstance(tree.body[-1], ast.Expr) and not cell.rstrip().endswith(";")
    last = tree.body.pop() if shown else None
    exec(compile(tree, "<%%needs cell>", "exec"), namespace)          # noqa: S102 - the learner's own cell
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<%%needs cell>", "eval"), namespace)  # noqa: S307
    return None


def _register_magic():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        load_ipython_extension(shell)


def load_ipython_extension(shell):
    """``%load_ext faultlab.course.zk_etcd_chapter`` registers ``%%needs`` (start() does it too)."""
    def needs(line, cell):
        return run_cell_if_up(line, cell, shell.user_ns)
    needs.__doc__ = run_cell_if_up.__doc__
    shell.register_magic_function(needs, magic_kind="cell", magic_name="needs")


# -- the shape of a cluster -------------------------------------------------------------------
def settle(cluster, timeout=30.0):
    """Wait until every running server is a leader or a follower (a restarted one catches up)."""
    return cluster.wait_for(lambda st: all(s["role"] in ("leader", "follower") for s in st
                                           if s["state"] == "up"), timeout)


def summary(cluster):
    """'1 leader, 2 followers' -- the shape of the cluster, not who is who."""
    counts: dict = {}
    for s in cluster.status():
        what = s["role"] if s["state"] == "up" and s["reachable"] else s["state"]
        counts[what] = counts.get(what, 0) + 1
    order = ["leader", "follower", "candidate", "looking", "paused", "crashed"]
    parts = [f"{counts[k]} {k}{'s' if counts[k] > 1 and k in ('leader', 'follower', 'candidate') else ''}"
             for k in order if k in counts]
    parts += [f"{v} {k}" for k, v in counts.items() if k not in order]
    return ", ".join(parts)


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


# -- clients with a link of their own -------------------------------------------------------
def worker(cluster, node=None, timeout=None):
    """A client with its *own* link proxy to ``node`` (default the first server): ``(client, link)``.

    ``link.blackhole()`` silences just this client -- the servers hear nothing from it,
    as if its process were frozen in a long pause. ZooKeeper: a started kazoo client whose
    session timeout is ``timeout`` (default 2 s); etcd: an etcd3gw client (request timeout 1 s).
    """
    link = cluster.link(node or cluster.nodes[0])
    if cluster.kind == "zookeeper":
        from kazoo.client import KazooClient
        from ..real.zookeeper import KAZOO_LOG
        client = KazooClient(hosts=link.address, timeout=timeout or 2.0, logger=KAZOO_LOG,
                             connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
        client.start(timeout=15)
        return client, link
    import etcd3gw
    return etcd3gw.client(host="127.0.0.1", port=link.port, timeout=timeout or 1.0, api_path="/v3/"), link


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


def zombie_write(token_a, token_b):
    """B writes with its token, then the zombie A with its older one; both storages, side by side."""
    stores = []
    for fencing in (False, True):
        store = Storage(fencing=fencing)
        store.write("report", "B's report", token_b, "B")
        store.write("report", "A's stale report", token_a, "A")      # the zombie wakes up
        stores.append(str(store))
    return "\n\n".join(stores)


# -- measured failovers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    """One measured failover, and whether a write acknowledged just before the fault survived it."""

    cluster: object
    failover: object              # faultlab.real.Failover
    acked_kept: bool | None       # None: the write before the fault was not acknowledged


def failovers(clusters, fault, timeout=30.0):
    """On each cluster: write a key, inject ``fault`` on the leader, time the recovery, read the key back."""
    from ..real import measure_failover
    out = []
    for c in clusters:
        value = f"before the {fault} at {len(c.trace)}"
        acked = try_write(c, c.leader(), "acked", value) == "ok"
        got = measure_failover(c, fault, timeout=timeout)
        settle(c)
        out.append(Recovery(c, got, (read(c, got.new_leader or c.leader(), "acked") == value) if acked else None))
    return out


def failover_table(runs):
    """Plain-text table of measured failovers (times vary from run to run: never a checked output)."""
    rows = [f"{'cluster':<10} {'fault':<8} {'old -> new leader':<18} {'new leader after':>17} "
            f"{'first write after':>18}"]
    for run in runs:
        r = run.failover
        lead = f"{r.old_leader} -> {r.new_leader or '-'}"
        t1 = f"{r.to_leader_s:.2f} s" if r.to_leader_s is not None else "none"
        t2 = f"{r.to_write_s:.2f} s" if r.to_write_s is not None else "none"
        rows.append(f"{run.cluster.kind:<10} {r.fault:<8} {lead:<18} {t1:>17} {t2:>18}")
    return "\n".join(rows)


def failover_verdicts(runs, within=5.0):
    """The deterministic part of a measurement: did each recovery happen within ``within`` s?"""
    lines = []
    for run in runs:
        r = run.failover
        lead = r.new_leader not in (None, r.old_leader) and r.to_leader_s is not None and r.to_leader_s <= within
        write = r.to_write_s is not None and r.to_write_s <= within
        lines.append(f"{run.cluster.kind:<10} {r.fault:<6} new leader within {within:g} s: {yes(lead)}; "
                     f"a write acknowledged within {within:g} s: {yes(write)}")
    return "\n".join(lines)


def role_timeline(cluster, title, before_ms=1000.0):
    """The role timeline of a real cluster from just before its first fault until now."""
    from ..viz import timeline
    faults = [r.t for r in cluster.trace if r.kind in ("crash", "pause", "partition", "cut")]
    last_role = max((r.t for r in cluster.trace if r.kind == "role"), default=0.0)
    if cluster.now - last_role < 1000.0:        # let the last roles show as bars, not slivers
        time.sleep(1.0)
    start = max(0.0, min(faults) - before_ms) if faults else None
    now = round(cluster.now, 3)          # a closing record, so each server's last role lasts until now
    trace = [*cluster.trace, Record(now, "note", None, {"text": "figure drawn"})]
    return timeline(trace, start=start, end=now, title=title, time_unit="s")   # real clocks: seconds


# -- writes through one server, and partitions --------------------------------------------------
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


def read(cluster, node, key, timeout=5.0):
    """Read what :func:`try_write` wrote, through ``node`` after it caught up (None: not there)."""
    if cluster.kind == "zookeeper":
        c = cluster.client([node], timeout=timeout)
        try:
            c.sync(f"/practice/{key}")
            return c.get(f"/practice/{key}")[0].decode() if c.exists(f"/practice/{key}") else None
        finally:
            c.stop()
            c.close()
    got = cluster.client(node, timeout=timeout).get(key)       # etcd reads are linearizable by default
    return got[0].decode() if got else None


def partition_leader(cluster):
    """Cut the leader off from the other two, write on both sides, heal; what happened (None: impossible)."""
    from ..real import NamespaceUnavailableError
    old = cluster.leader()
    try:
        cluster.isolate(old)
    except NamespaceUnavailableError as e:
        return {"kind": cluster.kind, "impossible": str(e)}
    majority = [n for n in cluster.nodes if n != old]
    new, waited = wait_until(lambda: next((s["node"] for s in cluster.status() if s["node"] in majority
                                           and s["role"] == "leader"), None), timeout=20)
    minority_write = try_write(cluster, old, "side", "minority")
    majority_write = try_write(cluster, majority[0], "side", "majority")
    cluster.heal()
    back, _ = wait_until(lambda: (cluster.status()[cluster.nodes.index(old)]["role"] == "follower")
                         and cluster.leader() not in (None, old), timeout=20)
    cluster.wait_ready(30)
    return {"kind": cluster.kind, "old": old, "new": new, "to_leader_s": waited, "back": bool(back),
            "minority": minority_write, "majority": majority_write}


def partition_report(split, within=10.0):
    """What one run of :func:`partition_leader` showed, as verdicts (no times, no node names)."""
    name = NAMES[split["kind"]]
    if "impossible" in split:
        return f"{name}: partitions are not possible on this machine: {split['impossible']}"
    elected = split["new"] is not None and split["to_leader_s"] <= within
    return "\n".join([
        f"{name}: leader cut off from the other two servers",
        f"  majority side elected a new leader within {within:g} s: {yes(elected)}",
        f"  write through the old leader (minority side): {'ok' if split['minority'] == 'ok' else 'failed'}",
        f"  write through the majority side:              {'ok' if split['majority'] == 'ok' else 'failed'}",
        f"  after healing, the old leader follows the new one: {yes(split['back'])}"])


def partition_outcome(splits):
    """Which partition answer the runs of ``partition_leader`` showed: 'a', 'b' or 'c' (None: not run)."""
    if not splits or any(s is None or "impossible" in s for s in splits):
        return None
    sides = {(s["minority"] == "ok", s["majority"] == "ok") for s in splits}
    if sides == {(False, True)}:
        return "b"
    if (True, True) in sides or (True, False) in sides:
        return "a"
    return "c"


# -- the chapter's exercises (predict -> inject -> observe -> explain) ------------------------------
def recovery_outcome(runs):
    """Which answer of the kill exercise ``runs`` (from :func:`failovers`) showed: 'a', 'b' or 'c'.

    'a': some cluster found no new leader or took no write; 'c': a write acknowledged
    before the fault was gone afterwards; 'b': every cluster recovered and kept it.
    """
    if not all(run.failover.new_leader and run.failover.to_write_s is not None for run in runs):
        return "a"
    return "c" if any(run.acked_kept is False for run in runs) else "b"


class KillLeader(Exercise):
    """SIGKILL the leader of each cluster; measure the failover; was an acknowledged write kept?"""

    question = "The leader process is killed without warning (SIGKILL). What happens?"
    choices = ("the cluster stays without a leader until someone restarts the dead server",
               "the two others elect a new leader within a few seconds and writes succeed again",
               "a new leader is elected, but writes the old leader had acknowledged are lost")
    fault, within = "crash", 5.0

    def __init__(self, *clusters):
        if not clusters or any(c is None for c in clusters):
            raise ConfigError(f"{type(self).__name__} needs running clusters (use it in a %%needs cell)")
        self.clusters, self.runs = clusters, None

    def _inject(self):
        self.runs = failovers(self.clusters, self.fault)

    def table(self):
        """The measured times (they vary from run to run: show them in an unchecked cell)."""
        return failover_table(self.runs)

    def report(self):
        lines = [failover_verdicts(self.runs, within=self.within)]
        lines += [f"{run.cluster.kind:<10} the write acknowledged before the {self.fault} is still there: "
                  f"{'unknown (not acknowledged)' if run.acked_kept is None else yes(run.acked_kept)}"
                  for run in self.runs]
        return "\n".join(lines)

    def outcome(self):
        return None if self.runs is None else recovery_outcome(self.runs)


class PauseLeader(KillLeader):
    """SIGSTOP the leader until another leads, then let it run: does it step down?"""

    question = ("We freeze the leader, wait until a new leader is elected, then let the old one run again. "
                "What does the old leader believe right after it wakes up?")
    choices = ("that it is still the leader (and it keeps accepting writes as leader)",
               "for a moment it may still think so, but it cannot commit anything, and it soon follows "
               "the new leader")
    fault, within = "pause", 10.0

    def _stepped_down(self):
        return [stepped_down(run.cluster, run.failover.old_leader) for run in self.runs]

    def report(self):
        lines = [failover_verdicts(self.runs, within=self.within)]
        lines += [f"{run.cluster.kind:<10} the old leader, resumed, followed the new leader: {yes(d)}"
                  for run, d in zip(self.runs, self._stepped_down())]
        return "\n".join(lines)

    def outcome(self):
        if self.runs is None:
            return None
        return "b" if all(self._stepped_down()) else "a"


class PartitionLeader(KillLeader):
    """Cut each leader off from its two followers; write on both sides; heal."""

    question = "With the leader alone on one side and two servers on the other, which writes succeed?"
    choices = ("writes on both sides (the system stays available, the two sides diverge)",
               "writes only on the majority side; the old leader's side cannot commit",
               "no writes at all until the partition heals")

    def _inject(self):
        self.runs = [partition_leader(c) for c in self.clusters]

    def report(self):
        return "\n".join(partition_report(split) for split in self.runs)

    def outcome(self):
        return partition_outcome(self.runs)


class LostLock(Exercise):
    """Worker A holds a ZooKeeper lock; its link goes silent; B asks for the same lock."""

    question = "While A is cut off, does A know that it lost the lock?"
    choices = ("yes: the lock object tells A at once, so A will not write",
               "no: until it hears from the servers again, A still believes it holds the lock")

    def __init__(self, link_a, lock_a, client_b, path, timeout=15.0):
        if not getattr(lock_a, "is_acquired", False):
            raise ConfigError("LostLock starts from a lock that A holds: acquire it first "
                              "(lock_a = recipes.acquire(a, path, 'A'))")
        self.link_a, self.lock_a, self.client_b, self.path, self.timeout = link_a, lock_a, client_b, path, timeout
        self.lock_b = None

    def _inject(self):
        self.link_a.blackhole()                      # A goes silent, as in a long pause
        self.lock_b = acquire(self.client_b, self.path, "B", timeout=self.timeout)

    def report(self):
        return (f"B gets the lock: {yes(self.lock_b is not None)}\n"
                f"A still believes it holds the lock: {yes(self.lock_a.is_acquired)}")

    def outcome(self):
        if self.lock_b is None:
            return None                  # B never got the lock: the question does not arise
        return "b" if self.lock_a.is_acquired else "a"


_register_magic()       # so a %%needs cell run before 'Start the clusters' says to run that cell first


def close(*clusters):
    """Stop the servers the chapter started (they also die with the kernel)."""
    for c in clusters:
        if c is not None:
            c.close()
    print("all servers stopped")
