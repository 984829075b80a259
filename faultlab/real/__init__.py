"""Real ZooKeeper and etcd clusters on this machine, driven like the simulator.

>>> from faultlab.real import ZooKeeperEnsemble
>>> with ZooKeeperEnsemble(n=3) as zk:          # doctest: +SKIP
...     zk.crash(zk.leader()); zk.wait_for(lambda s: zk.leader())
"""
from .cluster import RealCluster
from .errors import (ClusterStartError, NamespaceUnavailableError, NodeStateError, PortInUseError,
                     ServersNotInstalledError)
from .proxy import LinkProxy
from .etcd import EtcdCluster
from .zookeeper import ZooKeeperEnsemble

__all__ = ["RealCluster", "ZooKeeperEnsemble", "EtcdCluster", "LinkProxy",
           "ClusterStartError", "NamespaceUnavailableError", "NodeStateError", "PortInUseError",
           "ServersNotInstalledError"]
