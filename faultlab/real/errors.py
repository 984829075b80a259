"""Errors of the real-cluster layer; each says what went wrong and what to do instead."""
from __future__ import annotations

from ..errors import FaultlabError


class ServersNotInstalledError(FaultlabError, RuntimeError):
    """The server binaries (ZooKeeper jars, the etcd binary) are missing."""

    def __init__(self, what, package, missing):
        self.what, self.package, self.missing = what, package, missing
        super().__init__(
            f"{what} is not installed (missing: {missing}). Install the Debian/Ubuntu package with "
            f"`sudo apt-get install -y {package}` (or run `make lab`), or use the simulator "
            "(faultlab.World) or the containers in docker-compose.yml instead.")


class PortInUseError(FaultlabError, OSError):
    """A port asked for explicitly is already bound by another process."""

    def __init__(self, port, what="port"):
        self.port = port
        super().__init__(f"127.0.0.1:{port} ({what}) is already in use by another process. "
                         "Leave the port out to let faultlab pick a free one, or stop whatever "
                         f"listens there (`ss -ltnp 'sport = :{port}'` shows who).")


class NamespaceUnavailableError(FaultlabError, RuntimeError):
    """Network partitions need network namespaces, which need root (CAP_NET_ADMIN)."""

    def __init__(self, reason):
        super().__init__(
            "partitions between real servers need each server in its own network namespace, "
            f"and this machine does not allow that ({reason}). Run as root (or with CAP_NET_ADMIN), "
            "or learn partitions on the simulator (faultlab.World.partition) or with the containers "
            "in docker-compose.yml (faultlab.real.ComposeCluster). Crash, pause, restart and "
            "client-link faults still work here.")


class ClusterStartError(FaultlabError, RuntimeError):
    """Servers were started but did not form a working cluster in time."""
