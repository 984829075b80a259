"""A ZooKeeper ensemble from the Debian ``zookeeper`` package, one JVM per server.

Each server runs ``QuorumPeerMain`` directly (not zkServer.sh, which ignores
our log directory and opens a JMX port) with its own zoo.cfg, data dir and
log4j config, -Xmx128m. The admin HTTP server is off, so a server opens only
its client, quorum and election ports. ``tickTime`` is 500 ms (not 2000) so
failures are detected within a couple of seconds and sessions can be short.
"""
from __future__ import annotations

import logging
import os
import shutil

from .cluster import RealCluster
from .errors import ServersNotInstalledError

JAVA_DIR = "/usr/share/java"
JARS = ("zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar")
TICK_MS = 500
# kazoo logs every dropped connection as a warning; during fault lessons that is noise
KAZOO_LOG = logging.getLogger("faultlab.real.kazoo")
KAZOO_LOG.setLevel(logging.ERROR)

_LOG4J = """log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
"""


def parse_srvr(text):
    """The fields of a ``srvr`` four-letter-word answer that matter for roles."""
    if "not currently serving" in text:
        return {"role": "looking", "term": None, "zxid": None, "mode": "looking"}
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    mode = fields.get("Mode", "").strip()
    if not mode:
        raise ValueError(f"unexpected srvr answer: {text[:200]!r}")
    zxid = int(fields.get("Zxid", "0x0"), 16)
    role = "leader" if mode == "standalone" else mode
    return {"role": role, "term": zxid >> 32, "zxid": hex(zxid), "mode": mode}


class ZooKeeperEnsemble(RealCluster):
    """``ZooKeeperEnsemble(n=3)``: n local ZooKeeper servers forming one ensemble.

    ``status()`` gives each server's role (leader, follower, or ``looking`` while
    it searches for a quorum), ``term`` = the epoch (upper 32 bits of the zxid)
    and the zxid itself. ``client()`` returns a started kazoo ``KazooClient``.
    """

    kind = "zookeeper"
    client_port = 2181

    def _check_installed(self):
        missing = [j for j in JARS if not os.path.exists(os.path.join(JAVA_DIR, j))]
        if shutil.which("java") is None:
            missing.append("java")
        if missing:
            raise ServersNotInstalledError("ZooKeeper", "zookeeper default-jre-headless", ", ".join(missing))

    def _assign_ports(self):
        self._zk_ports = {}
        for node in self._nodes:
            if self.fabric is not None:
                self._zk_ports[node] = (2181, 2888, 3888)
            else:
                self._zk_ports[node] = tuple(self._alloc(3))

    def _client_port(self, node):
        return self._zk_ports[node][0]

    def myid(self, node):
        return self._nodes.index(node) + 1

    def _prepare(self, node):
        d = self.node_dir(node)
        os.makedirs(os.path.join(d, "data"), exist_ok=True)
        with open(os.path.join(d, "data", "myid"), "w") as f:
            f.write(f"{self.myid(node)}\n")
        client, _, _ = self._zk_ports[node]
        lines = [f"tickTime={TICK_MS}", "initLimit=10", "syncLimit=4",
                 f"dataDir={d}/data", f"clientPort={client}", f"clientPortAddress={self._host[node]}",
                 "admin.enableServer=false", "4lw.commands.whitelist=*",
                 "autopurge.purgeInterval=0", "standaloneEnabled=true"]
        if self.n > 1:
            for peer in self._nodes:
                _, quorum, election = self._zk_ports[peer]
                lines.append(f"server.{self.myid(peer)}={self._host[peer]}:{quorum}:{election}")
        with open(os.path.join(d, "zoo.cfg"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(d, "log4j.properties"), "w") as f:
            f.write(_LOG4J)

    def _argv(self, node):
        d = self.node_dir(node)
        cp = ":".join([d] + [os.path.join(JAVA_DIR, j) for j in JARS])
        return ["java", "-Xmx128m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true",
                "-Dzookeeper.jmx.log4j.disable=true", "-Dzookeeper.cnxTimeout=1000",
                f"-Dzookeeper.log.dir={d}", "-cp", cp,
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(d, "zoo.cfg")]

    def four_letter(self, node, word, timeout=1.0):
        """Send a four-letter word (``srvr``, ``mntr``, ``stat``...) and return the answer text."""
        s = self._connect(node, self._client_port(node), timeout)
        try:
            s.settimeout(timeout)
            s.sendall(word.encode())
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        finally:
            s.close()
        return b"".join(chunks).decode("utf-8", "replace")

    def _probe(self, node):
        return parse_srvr(self.four_letter(node, "srvr"))

    def _ready(self, answers):
        roles = [a["role"] for a in answers.values() if a]
        if self.n == 1:
            return roles == ["leader"]
        return roles.count("leader") == 1 and roles.count("leader") + roles.count("follower") > self.n // 2

    @property
    def hosts(self):
        """The kazoo/zkCli connection string (through the client-link proxies)."""
        return ",".join(p.address for p in self.proxies.values())

    def client(self, nodes=None, timeout=10.0, start=True, **kwargs):
        """A kazoo ``KazooClient`` connected through the proxies of ``nodes`` (default: all)."""
        from kazoo.client import KazooClient
        nodes = self._nodes if nodes is None else [self._check(n) for n in nodes]
        kwargs.setdefault("connection_retry", {"max_tries": -1, "delay": 0.1, "max_delay": 1.0})
        kwargs.setdefault("logger", KAZOO_LOG)
        zk = KazooClient(hosts=",".join(self.proxies[n].address for n in nodes), timeout=timeout, **kwargs)
        if start:
            zk.start(timeout=30)
        return zk
