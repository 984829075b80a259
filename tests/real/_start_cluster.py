"""Helper run as a subprocess by the tests: start a cluster, report its processes, wait."""
import json
import sys

from faultlab.real import EtcdCluster, ZooKeeperEnsemble
from faultlab.real import _procs

kind, n, network = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cls = ZooKeeperEnsemble if kind == "zookeeper" else EtcdCluster
c = cls(n=n, network=network)
if kind == "zookeeper":
    zk = c.client()
    zk.create("/hello", b"world")
    wrote = zk.get("/hello")[0] == b"world"
    zk.stop()
else:
    cl = c.client(c.leader())
    cl.put("hello", "world")
    wrote = cl.get("hello") == [b"world"]
pids = [p.pid for p in c._procs.values()]
if c.fabric is not None:
    pids += [c.fabric.hub.pid] + [h.pid for h in c.fabric.holders.values()]
print(json.dumps({"pids": pids, "dir": c.dir, "watchdog": _procs._watchdog.proc.pid, "wrote": wrote,
                  "network": c.network, "ports": sorted(c._ports)}), flush=True)
sys.stdin.read()          # wait until the test closes our stdin (or kills us)
c.close()
