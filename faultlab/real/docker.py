"""Drive the containers of docker-compose.yml with the same fault vocabulary.

``ComposeCluster("zookeeper")`` or ``("etcd")`` finds the services of that
kind in the compose file and acts on their containers through the docker CLI:
crash = ``docker kill``, stop = ``docker stop``, restart = ``docker start``,
pause/resume = ``docker pause``/``unpause`` (the cgroup freezer), and
partitions = ``docker network disconnect`` from the compose network. A
container can only be cut off from the whole network, so in a partition every
node outside the largest group is isolated (exact for three nodes).
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess

from ..errors import ConfigError, UnknownNodeError
from .etcd import role_of
from .zookeeper import parse_srvr

COMPOSE_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "docker-compose.yml")
PREFIX = {"zookeeper": "zk", "etcd": "etcd", "consul": "consul"}
INNER_PORT = {"zookeeper": 2181, "etcd": 2379, "consul": 8500}


def engine_reason():
    """None if a Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "the `docker` command is not installed"
    r = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"no Docker engine answers ({(r.stderr.strip().splitlines() or ['?'])[-1]})"
    return None


def services(kind, compose_file=COMPOSE_FILE):
    """{service: host port on 127.0.0.1} for the services of ``kind`` in the compose file."""
    if kind not in PREFIX:
        raise ConfigError(f"kind must be one of {', '.join(PREFIX)}, got {kind!r}")
    import yaml     # ships with JupyterLab; only needed here
    with open(compose_file) as f:
        spec = yaml.safe_load(f)
    out = {}
    for name, svc in spec.get("services", {}).items():
        if name.startswith(PREFIX[kind]) and name[len(PREFIX[kind]):].isdigit() or name == PREFIX[kind]:
            port = None
            for p in svc.get("ports", []):
                _ip, host_port, inner = str(p).split(":")
                if int(inner) == INNER_PORT[kind]:
                    port = int(host_port)
            out[name] = port
    return out


class ComposeCluster:
    """The containers of one kind from ``docker compose up``, as a Cluster (``nodes``, faults, status)."""

    def __init__(self, kind="zookeeper", project=None, compose_file=COMPOSE_FILE):
        reason = engine_reason()
        if reason:
            raise RuntimeError(f"ComposeCluster needs Docker: {reason}. Use faultlab.real.ZooKeeperEnsemble "
                               "/ EtcdCluster (local processes) or the simulator instead.")
        self.kind = kind
        self.ports = services(kind, compose_file)
        self.project = project or os.environ.get("FAULTLAB_COMPOSE_PROJECT", "faultlab")
        self.network = f"{self.project}_faultlab"
        self.inside = os.environ.get("FAULTLAB_COMPOSE_PROJECT") is not None   # running in the jupyter service
        self.disconnected: set = set()
        self._paused: set = set()

    @property
    def nodes(self):
        return list(self.ports)

    def _check(self, node):
        if node not in self.ports:
            raise UnknownNodeError(node, self.ports)
        return node

    def container(self, node):
        r = self._docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}",
                         "--filter", f"label=com.docker.compose.service={self._check(node)}")
        cid = r.strip().splitlines()
        if not cid:
            raise RuntimeError(f"no container for service {node!r}: run `docker compose up -d` first")
        return cid[0]

    def _docker(self, *args):
        r = subprocess.run(["docker", *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def state(self, node):
        info = json.loads(self._docker("inspect", self.container(node)))[0]["State"]
        if info.get("Paused"):
            return "paused"
        return "up" if info.get("Running") else "crashed"

    # -- faults ------------------------------------------------------------------
    def crash(self, node):
        if self.state(node) == "crashed":
            return False
        self._docker("kill", "-s", "KILL", self.container(node))
        return True

    def stop(self, node):
        if self.state(node) == "crashed":
            return False
        self._docker("stop", self.container(node))
        return True

    def restart(self, node):
        if self.state(node) != "crashed":
            return False
        self._docker("start", self.container(node))
        return True

    def pause(self, node):
        if self.state(node) != "up":
            return False
        self._docker("pause", self.container(node))
        return True

    def resume(self, node):
        if self.state(node) != "paused":
            return False
        self._docker("unpause", self.container(node))
        return True

    def partition(self, *groups):
        if len(groups) == 1 and groups[0] and all(isinstance(g, (list, tuple, set)) for g in groups[0]):
            groups = tuple(groups[0])
        groups = [list(g) for g in groups]
        for g in groups:
            for n in g:
                self._check(n)
        keep = max(groups, key=len)
        self.heal()
        for g in groups:
            if g is not keep:
                for n in g:
                    self._docker("network", "disconnect", self.network, self.container(n))
                    self.disconnected.add(n)
        return True

    def isolate(self, node):
        return self.partition([node], [n for n in self.nodes if n != node])

    def heal(self):
        for n in sorted(self.disconnected):
            self._docker("network", "connect", "--alias", n, self.network, self.container(n))
        self.disconnected.clear()
        return True

    # -- status ------------------------------------------------------------------
    def _address(self, node):
        if self.inside:
            return node, INNER_PORT[self.kind]
        return "127.0.0.1", self.ports[node]

    def _probe(self, node):
        host, port = self._address(node)
        if self.kind == "zookeeper":
            with socket.create_connection((host, port), timeout=1) as s:
                s.sendall(b"srvr")
                data = b"".join(iter(lambda: s.recv(4096), b""))
            return parse_srvr(data.decode())
        conn = http.client.HTTPConnection(host, port, timeout=1)
        conn.request("POST", "/v3/maintenance/status", body="{}")
        st = json.loads(conn.getresponse().read())
        conn.close()
        return {"role": role_of(st, st["header"]["member_id"]), "term": int(st.get("raftTerm", 0))}

    def status(self):
        out = []
        for node in self.nodes:
            state = self.state(node)
            info = {"role": None, "term": None}
            if state == "up":
                try:
                    info = self._probe(node)
                except (OSError, ValueError, KeyError):
                    pass
            out.append({"node": node, "state": state, **info})
        return out

    def leader(self):
        best = None
        for s in self.status():
            if s["state"] == "up" and s["role"] == "leader" and (best is None or s["term"] > best["term"]):
                best = s
        return best["node"] if best else None
