"""Real ZooKeeper and etcd clusters on this machine, driven like the simulator.

>>> from faultlab.real import ZooKeeperEnsemble
>>> with ZooKeeperEnsemble(n=3) as zk:          # doctest: +SKIP
...     zk.crash(zk.leader()); zk.wait_for(lambda s: zk.leader())
"""
from .cluster import RealCluster
from .errors import (ClusterStartError, NamespaceUnavailableError, PortInUseError,
                     ServersNotInstalledError)
from .docker import ComposeCluster
from .etcd import EtcdCluster
from .measure import Failover, measure_failover
from .proxy import LinkProxy
from .workload import RealRun, recover, run_workload
from .zookeeper import ZooKeeperEnsemble

__all__ = ["RealCluster", "ZooKeeperEnsemble", "EtcdCluster", "LinkProxy", "ComposeCluster",
           "run_workload", "recover", "RealRun", "measure_failover", "Failover",
           "ClusterStartError", "NamespaceUnavailableError", "PortInUseError",
           "ServersNotInstalledError"]
