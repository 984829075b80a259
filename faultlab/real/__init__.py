"""Real ZooKeeper and etcd clusters on this machine, driven like the simulator.

>>> from faultlab.real import ZooKeeperEnsemble
>>> with ZooKeeperEnsemble(n=3) as zk:          # doctest: +SKIP
...     zk.crash(zk.leader()); zk.wait_for(lambda s: zk.leader())

How it is built, and why:

* Servers are child processes of the OS packages (``zookeeper``, ``etcd-server``),
  each with its own data dir, in its own process group, killed by the kernel if
  we die (PDEATHSIG from one long-lived spawner thread, plus a watchdog process
  that notices our death through a pipe) -- see ``_procs``.
* With root, each server gets its own network namespace on a private bridge
  (``netns``); partitions are nftables drop rules *inside* those namespaces, so
  nothing touches the host's firewall and everything vanishes with the
  processes, even after SIGKILL. Without root (``network='loopback'``) servers
  bind 127.0.0.1 on ports locked against other faultlab processes (``ports``);
  crash/pause/restart and client-link faults work, partitions explain why not.
* Clients always reach servers through a TCP proxy on 127.0.0.1 (``proxy``)
  that can cut, blackhole or delay the client link (session/lease expiry).
* Learners' clients: kazoo for ZooKeeper, etcd3gw for etcd (maintained, plain
  HTTP to etcd's v3 gateway; the older ``etcd3`` package breaks with current
  protobuf).
* Client-side recipes -- election, lock, lease keep-alive, fencing token -- are in
  ``recipes``: one call for both clients, taking the client first as kazoo's do.
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
