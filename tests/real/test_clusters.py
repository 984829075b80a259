"""Real ZooKeeper and etcd under the simulator's fault vocabulary (one cluster per kind, reused)."""
import threading
import time

import pytest

from faultlab import nemesis
from faultlab.check import linearizable
from faultlab.check.models import KeyValue
from faultlab.real import EtcdCluster, ZooKeeperEnsemble
from faultlab.real.workload import recover, run_workload

pytestmark = pytest.mark.real
KINDS = {"zookeeper": ZooKeeperEnsemble, "etcd": EtcdCluster}


@pytest.fixture(scope="module", params=list(KINDS))
def cluster(request):
    with KINDS[request.param](n=3) as c:
        yield c


@pytest.fixture(autouse=True)
def healthy(cluster):
    """Every test starts and ends with all three servers up, healed and agreeing on a leader."""
    recover(cluster)
    yield
    recover(cluster)
    assert cluster.wait_for(lambda st: all(s["role"] in ("leader", "follower") for s in st), 30), \
        f"cluster did not settle: {cluster.status()}"


def needs_namespaces(cluster):
    if cluster.fabric is None:
        from faultlab.real import netns
        pytest.skip(f"partitions need network namespaces: {netns.unavailable_reason()}")


class Writer:
    """Writes through exactly the given nodes (kazoo session or etcd3gw clients)."""

    def __init__(self, cluster, nodes, timeout=3.0):
        self.kind = cluster.kind
        if self.kind == "zookeeper":
            self.zk = cluster.client(nodes, timeout=4.0)
            self.zk.ensure_path("/t")
        else:
            self.clients = [cluster.client(n, timeout=timeout) for n in nodes]
        self.timeout = timeout

    def put(self, key, value):
        if self.kind == "zookeeper":
            from kazoo.exceptions import NoNodeError
            path = f"/t/{key}"
            try:                                  # every branch is a write request
                self.zk.set_async(path, value.encode()).get(timeout=self.timeout)
            except NoNodeError:
                self.zk.create_async(path, value.encode()).get(timeout=self.timeout)
        else:
            last = None
            for c in self.clients:
                try:
                    return c.put(key, value)
                except Exception as e:  # noqa: BLE001 - try the next member
                    last = e
            raise last

    def get(self, key):
        if self.kind == "zookeeper":
            self.zk.sync("/t")
            got = self.zk.exists(f"/t/{key}")
            return self.zk.get(f"/t/{key}")[0].decode() if got else None
        got = self.clients[0].get(key)
        return got[0].decode() if got else None

    def close(self):
        if self.kind == "zookeeper":
            self.zk.stop()
            self.zk.close()


def new_leader(cluster, old, among=None, timeout=20):
    among = among or [n for n in cluster.nodes if n != old]
    return cluster.wait_for(lambda st: next((s["node"] for s in st if s["node"] in among and s["state"] == "up"
                                             and s["role"] == "leader"), None), timeout)


def test_kill_the_leader_elects_a_new_one_and_writes_succeed(cluster):
    old = cluster.leader()
    assert old is not None
    survivors = [n for n in cluster.nodes if n != old]
    w = Writer(cluster, survivors)
    try:
        assert cluster.crash(old)
        new = new_leader(cluster, old)
        assert new in survivors
        w.put("after-kill", "yes")
        assert w.get("after-kill") == "yes"
        assert cluster.restart(old)
        assert cluster.wait_for(lambda st: st[cluster.nodes.index(old)]["role"] == "follower", 30)
    finally:
        w.close()


def test_pause_the_leader_others_elect_and_it_steps_down_after_resume(cluster):
    old = cluster.leader()
    survivors = [n for n in cluster.nodes if n != old]
    w = Writer(cluster, survivors)
    try:
        assert cluster.pause(old) and cluster.state(old) == "paused"
        new = new_leader(cluster, old)
        assert new in survivors, cluster.status()
        w.put("during-pause", "yes")
        assert cluster.resume(old)
        stepped = cluster.wait_for(lambda st: st[cluster.nodes.index(old)]["role"] in ("follower",), 30)
        assert stepped, f"{old} did not step down after resume: {cluster.status()}"
        assert cluster.leader() != old
    finally:
        w.close()
    assert [r.kind for r in cluster.trace if r.node == old and r.kind in ("pause", "resume")][-2:] == \
        ["pause", "resume"]


def test_partition_majority_progresses_minority_cannot_commit(cluster):
    needs_namespaces(cluster)
    old = cluster.leader()
    majority = [n for n in cluster.nodes if n != old]
    minority_writer = Writer(cluster, [old], timeout=3.0)
    majority_writer = Writer(cluster, majority)
    try:
        assert cluster.partition([old], majority)
        new = new_leader(cluster, old, majority)
        assert new in majority
        majority_writer.put("majority", "committed")
        assert majority_writer.get("majority") == "committed"
        with pytest.raises(Exception):           # times out, loses its connection, or "no leader"
            minority_writer.put("minority", "lost")
        assert cluster.heal()
        assert cluster.wait_for(lambda st: st[cluster.nodes.index(old)]["role"] == "follower", 30)
        assert majority_writer.get("minority") is None, "a write on the minority side was committed"
        assert majority_writer.get("majority") == "committed"
    finally:
        minority_writer.close()
        majority_writer.close()


def test_client_link_blackhole_expires_the_session_or_lease(cluster):
    node = cluster.nodes[0]
    link = cluster.link(node)
    if cluster.kind == "zookeeper":
        from kazoo.client import KazooClient
        from kazoo.protocol.states import KazooState
        states = []
        zk = KazooClient(hosts=link.address, timeout=2.0, logger=cluster.client.__globals__["KAZOO_LOG"])
        zk.add_listener(states.append)
        zk.start(timeout=15)
        zk.create("/ephemeral", b"me", ephemeral=True)
        observer = cluster.client()
        try:
            assert observer.exists("/ephemeral")
            time.sleep(3)                       # heartbeats keep a healthy session alive past its timeout
            assert observer.exists("/ephemeral")
            t0 = time.monotonic()
            link.blackhole()
            while observer.exists("/ephemeral") and time.monotonic() - t0 < 15:
                time.sleep(0.1)
            gone_after = time.monotonic() - t0
            assert observer.exists("/ephemeral") is None, "the ephemeral node outlived its session"
            assert gone_after >= 1.5            # not before the 2 s session timeout (minus ticks)
            link.heal()
            deadline = time.monotonic() + 15
            while KazooState.LOST not in states and time.monotonic() < deadline:
                time.sleep(0.1)
            assert KazooState.LOST in states, f"client never learned its session expired: {states}"
        finally:
            observer.stop()
            zk.stop()
            zk.close()
    else:
        import etcd3gw
        client = etcd3gw.client(host="127.0.0.1", port=link.port, timeout=1.0, api_path="/v3/")
        lease = client.lease(ttl=2)
        client.put("leased", "me", lease=lease)
        stop = threading.Event()

        def keepalive():
            while not stop.is_set():
                try:
                    lease.refresh()
                except Exception:  # noqa: BLE001 - blackholed: the refresh times out
                    pass
                stop.wait(0.5)
        threading.Thread(target=keepalive, daemon=True).start()
        observer = cluster.client(cluster.nodes[1])
        try:
            time.sleep(3)                       # keep-alives hold the lease past its TTL
            assert observer.get("leased") == [b"me"]
            t0 = time.monotonic()
            link.blackhole()
            while observer.get("leased") and time.monotonic() - t0 < 15:
                time.sleep(0.1)
            gone_after = time.monotonic() - t0
            assert observer.get("leased") == [], "the leased key outlived its lease"
            assert gone_after >= 1.0
        finally:
            stop.set()
            link.heal()


def test_total_packet_loss_leaves_no_leader_and_lifting_it_recovers(cluster):
    needs_namespaces(cluster)
    assert cluster.set_loss(1.0)
    leaderless = cluster.wait_for(lambda st: all(s["role"] not in ("leader", "follower") for s in st), 20)
    assert leaderless, f"someone still leads or follows with every packet lost: {cluster.status()}"
    assert cluster.set_loss(0)
    assert cluster.wait_for(lambda st: cluster.leader(), 30)
    with pytest.raises(ValueError, match="probability"):
        cluster.set_loss(1.5)


def test_servers_listen_only_on_their_own_ports(cluster):
    """No admin HTTP server, no JMX, no metrics port: only client, quorum and election ports."""
    needs_namespaces(cluster)
    import subprocess
    allowed = {"zookeeper": {2181, 2888, 3888}, "etcd": {2379, 2380}}[cluster.kind]
    for node in cluster.nodes:
        out = subprocess.run(["nsenter", "-t", str(cluster.fabric.pid(node)), "-n", "ss", "-Hltn"],
                             capture_output=True, text=True, check=True).stdout
        listening = {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines()}
        assert listening and listening <= allowed, f"{node} listens on {sorted(listening)}"


@pytest.mark.slow
def test_nemesis_with_concurrent_clients_loses_nothing_and_stays_linearizable(cluster, record_property):
    needs_namespaces(cluster)
    schedule = nemesis.random_schedule(cluster.nodes, 30000, seed=11, every=3000, heal_after=2000,
                                       kinds=("crash", "pause", "partition", "crash-leader", "pause-leader"))
    start = len(cluster.trace)
    run = run_workload(cluster, duration=30.0, clients=4, schedule=schedule, seed=11)
    faults = {r.kind for r in cluster.trace[start:]}
    assert {"crash", "pause", "partition"} <= faults, faults
    assert run.nemesis_errors == []
    counts = run.counts()
    print(f"{cluster.kind}: {counts} set adds={len(run.added)} present={len(run.present)}")
    record_property(f"{cluster.kind}_ops", counts)
    assert counts["ok"] >= 300, counts
    assert run.lost == [], f"acknowledged writes lost: {run.lost[:10]}"
    assert run.unexpected == []
    result = linearizable(run.history, KeyValue(initial=None), timeout=120)
    assert result.verdict == "ok", str(result)


@pytest.mark.parametrize("fault", ["pause", "isolate"])
def test_measured_failover_after_pause_or_isolation(cluster, fault):
    if fault == "isolate":
        needs_namespaces(cluster)
    from faultlab.real import measure_failover
    m = measure_failover(cluster, fault)
    assert m.new_leader not in (None, m.old_leader)
    assert 0 < m.to_leader_s < 20 and 0 < m.to_write_s < 20, m
    with pytest.raises(ValueError, match="fault must be"):
        measure_failover(cluster, "explode")


def test_fault_panel_drives_a_real_cluster(cluster):
    from faultlab.widgets import FaultPanel
    panel = FaultPanel(cluster, poll=0.2)
    try:
        old = panel.leader
        assert old == cluster.leader()
        panel.crash(old)                       # what the tile's crash button does
        assert cluster.state(old) == "crashed"
        deadline = time.monotonic() + 20
        while panel.leader in (None, old) and time.monotonic() < deadline:
            time.sleep(0.1)
            panel.refresh(force=True)
        assert panel.leader not in (None, old)
        assert any(r.kind == "role" and r.node == panel.leader and r.info["role"] == "leader"
                   for r in panel.observed)
        assert panel.figure is not None and len(panel.figure.data) > 0
    finally:
        panel.close()
