"""Process hygiene and errors: nothing survives a SIGKILLed parent, no collisions, clear errors."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from faultlab import UnknownNodeError
from faultlab.errors import ConfigError
from faultlab.real import (EtcdCluster, NamespaceUnavailableError, PortInUseError, ServersNotInstalledError,
                           ZooKeeperEnsemble, netns, ports, zookeeper)

pytestmark = pytest.mark.real
HELPER = os.path.join(os.path.dirname(__file__), "_start_cluster.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def start_helper(kind, n, network):
    return subprocess.Popen([sys.executable, HELPER, kind, str(n), network], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


def read_info(proc, timeout=90):
    line = proc.stdout.readline()
    assert line, f"helper exited with {proc.wait(timeout)} before reporting"
    return json.loads(line)


@pytest.mark.parametrize("kind", ["zookeeper", "etcd"])
def test_servers_die_when_the_parent_is_sigkilled(kind):
    proc = start_helper(kind, 3, "auto")
    info = read_info(proc)
    assert info["wrote"]
    pids = info["pids"] + [info["watchdog"]]
    assert len(info["pids"]) >= 3 and all(alive(p) for p in pids)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (any(alive(p) for p in pids) or os.path.exists(info["dir"])):
        time.sleep(0.05)
    assert [p for p in pids if alive(p)] == [], "server processes outlived their parent"
    assert not os.path.exists(info["dir"]), "the cluster's temp dir was left behind"


def test_two_processes_start_clusters_at_once_without_colliding():
    # loopback mode: every server port comes from the shared allocator, the case that could collide
    procs = [start_helper(kind, 3, "loopback") for kind in ("zookeeper", "zookeeper", "etcd", "etcd")]
    try:
        infos = [read_info(p) for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
    for p in procs:
        assert p.wait(60) == 0
    assert all(i["wrote"] and i["network"] == "loopback" for i in infos)
    used = [port for i in infos for port in i["ports"]]
    assert len(used) == len(set(used)) == 3 * 3 * 2 + 2 * 3 * 2


def test_port_allocator_never_hands_out_a_locked_port():
    mine = ports.allocate(20)
    assert len(set(mine)) == 20
    code = ("from faultlab.real import ports; import json; print(json.dumps(ports.allocate(200)))")
    theirs = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       cwd=ROOT, check=True).stdout)
    assert not set(mine) & set(theirs)
    ports.release(mine)


def test_single_node_loopback_cluster_and_its_clear_errors():
    with ZooKeeperEnsemble(n=1, network="loopback") as zk:
        assert zk.network == "loopback"
        assert zk.status()[0]["role"] == "leader" and zk.leader() == "n1"
        with pytest.raises(NamespaceUnavailableError, match="simulator"):
            zk.isolate("n1")
        with pytest.raises(UnknownNodeError, match="n1"):
            zk.crash("n9")
        assert zk.crash("n1") and not zk.crash("n1")
        assert zk.state("n1") == "crashed"
        assert zk.restart("n1")
        zk.wait_ready(30)
        c = zk.client()
        c.create("/x", b"1")
        c.stop()


def test_bad_parameters_and_missing_servers_say_what_to_do(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="1, 3 or 5"):
        EtcdCluster(n=2)
    with pytest.raises(ConfigError, match="network"):
        EtcdCluster(n=1, network="wifi")
    monkeypatch.setattr(zookeeper, "JAVA_DIR", str(tmp_path))
    with pytest.raises(ServersNotInstalledError, match="apt-get install -y zookeeper"):
        ZooKeeperEnsemble(n=1)


def test_without_root_partitions_say_what_to_use_instead(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert "root" in netns.unavailable_reason()
    with pytest.raises(NamespaceUnavailableError, match="root.*simulator.*docker-compose"):
        EtcdCluster(n=1, network="netns")


def test_a_taken_client_port_is_reported():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        with pytest.raises(PortInUseError, match=str(s.getsockname()[1])):
            EtcdCluster(n=1, client_ports=[s.getsockname()[1]])
    finally:
        s.close()


@pytest.mark.parametrize("cls", [ZooKeeperEnsemble, EtcdCluster], ids=["zookeeper", "etcd"])
def test_five_servers_start_and_wipe_loses_a_node_data(cls):
    with cls(n=5) as c:
        # ready = a quorum (3 of 5) answers; the last servers may still be joining
        st = c.wait_for(lambda st: st if sum(s["role"] == "follower" for s in st) == 4 else None, 30)
        assert st and c.leader() is not None, c.status()
        victim = [n for n in c.nodes if n != c.leader()][0]
        assert c.wipe(victim) and c.state(victim) == "crashed"
        data = os.path.join(c.node_dir(victim), "data")
        assert os.listdir(data) in ([], ["myid"])          # ZooKeeper keeps only its id


def test_single_etcd_member():
    with EtcdCluster(n=1) as etcd:
        assert etcd.leader() == "n1"
        etcd.client().put("k", "v")
        assert etcd.client().get("k") == [b"v"]
