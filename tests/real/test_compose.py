"""docker-compose.yml: structure checked everywhere; containers driven only where an engine runs."""
import os
import re
import time

import pytest
import yaml

from faultlab.real import docker as fdocker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
SPEC = yaml.safe_load(open(os.path.join(ROOT, "docker-compose.yml")))
SERVICES = SPEC["services"]


def test_services_are_the_three_clusters_consul_and_jupyter():
    assert set(SERVICES) == {"zk1", "zk2", "zk3", "etcd1", "etcd2", "etcd3", "consul", "jupyter"}


def test_every_published_port_is_on_127_0_0_1_only():
    published = [(name, p) for name, svc in SERVICES.items() for p in svc.get("ports", [])]
    assert len(published) == 8
    for name, p in published:
        assert isinstance(p, str) and re.fullmatch(r"127\.0\.0\.1:\d+:\d+", p), f"{name} publishes {p!r}"
    hosts = [p.split(":")[1] for _, p in published]
    assert len(hosts) == len(set(hosts)), "two services publish the same host port"
    assert all("network_mode" not in svc for svc in SERVICES.values()), "host networking bypasses 127.0.0.1"


def test_official_images():
    for name, svc in SERVICES.items():
        if name.startswith("zk"):
            assert svc["image"].startswith("zookeeper:3.")
        elif name.startswith("etcd"):
            assert svc["image"].startswith("gcr.io/etcd-development/etcd:v3.")
        elif name == "consul":
            assert svc["image"].startswith("hashicorp/consul:")


def test_zookeeper_ensemble_config():
    ids = []
    for name in ("zk1", "zk2", "zk3"):
        env = SERVICES[name]["environment"]
        ids.append(env["ZOO_MY_ID"])
        assert env["ZOO_ADMINSERVER_ENABLED"] == "false"          # no extra HTTP port
        assert env["ZOO_SERVERS"].split() == [f"server.{i}=zk{i}:2888:3888;2181" for i in (1, 2, 3)]
    assert ids == ["1", "2", "3"]


def test_etcd_members_agree_on_the_initial_cluster():
    clusters = set()
    for i in (1, 2, 3):
        args = dict(a.lstrip("-").split("=", 1) for a in SERVICES[f"etcd{i}"]["command"][1:])
        assert args["name"] == f"etcd{i}"
        assert args["initial-advertise-peer-urls"] == f"http://etcd{i}:2380"
        clusters.add(args["initial-cluster"])
    assert clusters == {"etcd1=http://etcd1:2380,etcd2=http://etcd2:2380,etcd3=http://etcd3:2380"}


def test_jupyter_service_builds_from_docker_dockerfile():
    svc = SERVICES["jupyter"]
    assert svc["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
    text = open(os.path.join(ROOT, "docker", "Dockerfile")).read()
    assert "apt.txt" in text and "requirements/lock.txt" in text and "jupyter" in text
    apt = open(os.path.join(ROOT, "apt.txt")).read().split()
    assert {"zookeeper", "etcd-server", "default-jre-headless"} <= set(apt)
    assert set(svc["depends_on"]) == set(SERVICES) - {"jupyter"}


def test_compose_services_map_to_published_ports():
    assert fdocker.services("zookeeper") == {"zk1": 2181, "zk2": 2182, "zk3": 2183}
    assert fdocker.services("etcd") == {"etcd1": 23791, "etcd2": 23792, "etcd3": 23793}
    with pytest.raises(ValueError, match="kind"):
        fdocker.services("kafka")


def test_without_an_engine_compose_cluster_says_what_to_use_instead():
    if fdocker.engine_reason() is None:
        pytest.skip("a Docker engine is running here")
    with pytest.raises(RuntimeError, match="needs Docker.*simulator"):
        fdocker.ComposeCluster("zookeeper")


needs_engine = pytest.mark.skipif(fdocker.engine_reason() is not None,
                                  reason=f"no Docker engine: {fdocker.engine_reason()}")


@pytest.mark.docker
@needs_engine
@pytest.mark.parametrize("kind", ["zookeeper", "etcd"])
def test_containers_kill_pause_partition(kind):
    """Needs `docker compose up -d` (zk*, etcd*) on this machine."""
    c = fdocker.ComposeCluster(kind)
    old = c.leader()
    assert old in c.nodes
    assert c.crash(old) and c.state(old) == "crashed"
    deadline = time.monotonic() + 30
    while c.leader() in (None, old) and time.monotonic() < deadline:
        time.sleep(0.2)
    new = c.leader()
    assert new not in (None, old)
    assert c.restart(old)
    assert c.pause(new) and c.state(new) == "paused"
    assert c.resume(new)
    assert c.isolate(c.nodes[0]) and c.heal()
