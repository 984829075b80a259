"""An etcd cluster from the Debian ``etcd-server`` package, one process per member.

Status comes from the v3 HTTP gateway (``/v3/maintenance/status``): the
member's raft term and the id of the leader it follows. The learner's client
is ``etcd3gw`` -- maintained, pure HTTP against that same gateway, so it
needs no gRPC/protobuf build. (The older ``etcd3`` package imports protobuf
code generated for protobuf 3 and breaks with current protobuf releases.)
"""
from __future__ import annotations

import http.client
import json
import os
import shutil

from .cluster import RealCluster
from .errors import ServersNotInstalledError

HEARTBEAT_MS = 100
ELECTION_MS = 1000


class _Conn(http.client.HTTPConnection):
    def __init__(self, sock, timeout):
        super().__init__("etcd", timeout=timeout)
        self.sock = sock
        sock.settimeout(timeout)

    def connect(self):      # the socket is made by the cluster (maybe inside a namespace)
        raise OSError("connection closed")


def role_of(status, member_id):
    """leader / follower / candidate (no leader known) from a maintenance/status answer."""
    leader = str(status.get("leader", "0"))
    if leader in ("0", "", "None"):
        return "candidate"
    return "leader" if leader == str(member_id) else "follower"


class EtcdCluster(RealCluster):
    """``EtcdCluster(n=3)``: n local etcd members forming one raft cluster.

    ``status()`` gives each member's role (leader, follower, or candidate while it
    knows no leader), its raft ``term`` and raft index, and who it thinks leads.
    ``client()`` returns an ``etcd3gw`` client (KV, leases, watch, lock).
    """

    kind = "etcd"
    client_port = 2379

    def _check_installed(self):
        if shutil.which("etcd") is None:
            raise ServersNotInstalledError("etcd", "etcd-server etcd-client", "the `etcd` program")
        self._ids: dict = {}

    def _assign_ports(self):
        self._etcd_ports = {node: ((2379, 2380) if self.fabric is not None else tuple(self._alloc(2)))
                            for node in self._nodes}

    def _client_port(self, node):
        return self._etcd_ports[node][0]

    def _url(self, node, which):
        return f"http://{self._host[node]}:{self._etcd_ports[node][which]}"

    def _prepare(self, node):
        os.makedirs(os.path.join(self.node_dir(node), "data"), exist_ok=True)

    def _argv(self, node):
        data = os.path.join(self.node_dir(node), "data")
        fresh = not os.path.exists(os.path.join(data, "member"))
        cluster = ",".join(f"{p}={self._url(p, 1)}" for p in self._nodes)
        return ["etcd", "--name", node, "--data-dir", data,
                "--listen-client-urls", self._url(node, 0), "--advertise-client-urls", self._url(node, 0),
                "--listen-peer-urls", self._url(node, 1), "--initial-advertise-peer-urls", self._url(node, 1),
                "--initial-cluster", cluster,
                "--initial-cluster-token", "faultlab-" + os.path.basename(self.dir),
                "--initial-cluster-state", "new" if fresh and not self._started_once(node) else "existing",
                f"--heartbeat-interval={HEARTBEAT_MS}", f"--election-timeout={ELECTION_MS}",
                "--logger=zap", "--log-outputs=stderr", "--enable-pprof=false"]

    def _started_once(self, node):
        return node in self._procs

    def call(self, node, path, body=None, timeout=1.0):
        """POST ``body`` (a dict) to ``node``'s gateway at ``/v3/<path>``; returns the JSON answer."""
        conn = _Conn(self._connect(node, self._client_port(node), timeout), timeout)
        try:
            conn.request("POST", "/v3/" + path, body=json.dumps(body or {}),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
        except http.client.HTTPException as e:
            raise OSError(f"bad HTTP answer from {node}: {e}") from None
        finally:
            conn.close()
        if resp.status != 200:
            raise OSError(f"{node} answered HTTP {resp.status} to {path}: {data[:200]!r}")
        return json.loads(data)

    def _probe(self, node):
        st = self.call(node, "maintenance/status")
        me = str(st["header"]["member_id"])
        self._ids[me] = node
        leader = str(st.get("leader", "0"))
        if leader not in self._ids and leader != "0":
            for m in self.call(node, "cluster/member/list").get("members", []):
                if m.get("name"):
                    self._ids[str(m["ID"])] = m["name"]
        return {"role": role_of(st, me), "term": int(st.get("raftTerm", 0)),
                "raft_index": int(st.get("raftIndex", 0)), "leader_id": self._ids.get(leader),
                "member_id": me}

    def _ready(self, answers):
        ok = [a for a in answers.values() if a]
        leaders = {a["leader_id"] for a in ok if a["role"] != "candidate"}
        if len(leaders) != 1 or None in leaders:
            return False
        leader = leaders.pop()
        return answers.get(leader) is not None and answers[leader]["role"] == "leader" \
            and len(ok) > self.n // 2

    def client(self, node=None, timeout=5.0):
        """An ``etcd3gw.Etcd3Client`` for ``node`` (default: the first), through its link proxy."""
        import etcd3gw
        node = self._nodes[0] if node is None else self._check(node)
        return etcd3gw.client(host="127.0.0.1", port=self.proxies[node].port, timeout=timeout,
                              api_path="/v3/")
