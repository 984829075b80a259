"""The client-side recipes of faultlab.real.recipes on real ZooKeeper and etcd (one cluster per kind).

Each test runs the same recipe call on both services, and shows the recipe doing its
job under the fault it exists for: a new leader when the old one's session/lease ends,
a lock taken over only after the holder is gone, a lease that lives exactly as long as
its keep-alive gets through, and a later holder's token larger than an earlier one's.
"""
import pytest

from faultlab.errors import ConfigError
from faultlab.real import EtcdCluster, ZooKeeperEnsemble
from faultlab.real.recipes import acquire, campaign, fencing_token, keep_alive, leader, wait_until

pytestmark = pytest.mark.real
KINDS = {"zookeeper": ZooKeeperEnsemble, "etcd": EtcdCluster}


@pytest.fixture(scope="module", params=list(KINDS))
def cluster(request):
    with KINDS[request.param](n=3) as c:
        yield c


def _client(cluster, node=None, timeout=None):
    """A fresh client of its own (its own session on ZooKeeper)."""
    if cluster.kind == "zookeeper":
        return cluster.client([node] if node else None, timeout=timeout or 4.0)
    return cluster.client(node, timeout=timeout or 5.0)


def _end(cluster, client, lease=None):
    """End a contender: close the ZooKeeper session, or revoke the etcd lease."""
    if cluster.kind == "zookeeper":
        client.stop()
        client.close()
    else:
        lease.revoke()


def test_election_first_contender_leads_and_the_next_takes_over_when_it_ends(cluster, request):
    path = f"/election/{request.node.name[-12:]}-{cluster.kind}"
    a, b, watcher = _client(cluster), _client(cluster, timeout=30), _client(cluster)
    leases = [a.lease(ttl=5), b.lease(ttl=5)] if cluster.kind == "etcd" else [None, None]
    leaders = []
    campaign(a, path, "A", leaders, lease=leases[0])
    campaign(b, path, "B", leaders, lease=leases[1])
    assert wait_until(lambda: leaders == ["A"], 10)[0]
    assert leader(watcher, path) == "A"
    _end(cluster, a, leases[0])
    assert wait_until(lambda: leaders == ["A", "B"], 15)[0], leaders
    assert wait_until(lambda: leader(watcher, path) == "B", 10)[0]
    _end(cluster, b, leases[1])
    assert wait_until(lambda: leader(watcher, path) is None, 15)[0]


def test_lock_is_exclusive_and_later_holders_get_larger_tokens(cluster):
    a, b = _client(cluster), _client(cluster)
    lock_a = acquire(a, "/locks/t1" if cluster.kind == "zookeeper" else "t1", "A", ttl=5)
    assert lock_a is not None
    token_a = fencing_token(a, lock_a)
    assert acquire(b, "/locks/t1" if cluster.kind == "zookeeper" else "t1", "B", ttl=5, timeout=1.0) is None
    lock_a.release()
    lock_b = acquire(b, "/locks/t1" if cluster.kind == "zookeeper" else "t1", "B", ttl=5, timeout=10)
    assert lock_b is not None and fencing_token(b, lock_b) > token_a
    lock_b.release()
    with pytest.raises(ConfigError, match="not held"):
        fencing_token(b, lock_b)
    with pytest.raises(ConfigError, match="no lock was acquired"):
        fencing_token(b, None)


def test_a_silenced_holder_loses_the_lock_only_after_its_session_or_lease_ends(cluster):
    link = cluster.link(cluster.nodes[0])
    if cluster.kind == "zookeeper":
        from kazoo.client import KazooClient
        a = KazooClient(hosts=link.address, timeout=2.0, connection_retry={"max_tries": -1, "delay": 0.1})
        a.start(timeout=15)
    else:
        import etcd3gw
        a = etcd3gw.client(host="127.0.0.1", port=link.port, timeout=1.0, api_path="/v3/")
    b = _client(cluster, cluster.nodes[1])
    name = "/locks/zombie" if cluster.kind == "zookeeper" else "zombie"
    lock_a = acquire(a, name, "A", ttl=2)
    stop = keep_alive(a, lock_a.lease) if cluster.kind == "etcd" else (lambda: None)
    token_a = fencing_token(a, lock_a)
    assert acquire(b, name, "B", ttl=2, timeout=3.0) is None, "the holder is alive: nobody else gets the lock"
    link.blackhole()
    lock_b = acquire(b, name, "B", ttl=2, timeout=20)
    assert lock_b is not None and fencing_token(b, lock_b) > token_a
    if cluster.kind == "zookeeper":
        assert lock_a.is_acquired, "kazoo cannot know yet: the zombie still believes it holds the lock"
    link.heal()
    stop()
    lock_b.release()
    if cluster.kind == "zookeeper":
        a.stop()
        a.close()


@pytest.mark.parametrize("cluster", ["etcd"], indirect=True)     # a ZooKeeper session has no lease
def test_keep_alive_holds_a_lease_and_stopping_it_lets_the_lease_expire(cluster):
    c = _client(cluster)
    lease = c.lease(ttl=2)
    c.put("/kept", "alive", lease=lease)
    stop = keep_alive(c, lease, every=0.5)
    assert wait_until(lambda: not c.get("/kept"), 4.0)[0] is None, "kept alive for twice the TTL"
    stop()
    gone, _ = wait_until(lambda: not c.get("/kept"), 10.0)
    assert gone


@pytest.mark.parametrize("cluster", ["zookeeper"], indirect=True)
def test_recipes_say_which_clients_they_take_and_what_they_need(cluster):
    with pytest.raises(ConfigError, match="takes a kazoo KazooClient or an etcd3gw client first"):
        acquire("localhost:2181", "/locks/x")
    zk = _client(cluster)
    with pytest.raises(ConfigError, match="kept alive by kazoo"):
        keep_alive(zk, None)
    with pytest.raises(ConfigError, match="tied to the client's session"):
        campaign(zk, "/election/x", "A", [], lease=object())
