"""Re-render the figure PNGs in this folder: ``python docs/figures/render.py [--real]``.

A 5-node Raft run with two clients: the leader crashes at 1 s, a partition
at 1.8 s isolates the old leader's side, everything heals at 2.6 s and one
node pauses for 0.4 s. The log-grid example with conflicts is hand-made so
that every case (conflict, uncommitted tail, crashed node) shows at once.
``timeline_now.png`` is what the fault panel shows right after a crash and a
pause near the clock's time: labels inside the plot, bars until now;
``history.png`` a client history with a crash and a late pause.
``--real`` also draws a 3-member etcd cluster whose leader is killed and
restarted (``timeline_etcd.png``: a real cluster's timeline counts seconds).
"""
import sys
import time
from pathlib import Path

from faultlab import register_workload
from faultlab.protocols import raft
from faultlab.widgets import _live
from faultlab.check import linearizable
from faultlab.viz import availability, history_figure, log_grid, save_png, spacetime, timeline

OUT = Path(__file__).resolve().parent

CONFLICTING_LOGS = [
    {"node": "n1", "state": "up", "role": "follower", "commit_index": 4,
     "log": [(1, "x=1"), (1, "x=2"), (2, "y=1"), (2, "y=2"), (2, "z=1")]},
    {"node": "n2", "state": "up", "role": "leader", "commit_index": 5,
     "log": [(1, "x=1"), (1, "x=2"), (2, "y=1"), (2, "y=2"), (4, "z=9"), (4, "w=1")]},
    {"node": "n3", "state": "up", "role": "follower", "commit_index": 5,
     "log": [(1, "x=1"), (1, "x=2"), (2, "y=1"), (2, "y=2"), (4, "z=9")]},
    {"node": "n4", "state": "crashed", "role": None, "commit_index": 2,
     "log": [(1, "x=1"), (1, "x=2"), (3, "q=1"), (3, "q=2")]},
    {"node": "n5", "state": "up", "role": "follower", "commit_index": 5,
     "log": [(1, "x=1"), (1, "x=2"), (2, "y=1"), (2, "y=2"), (4, "z=9"), (4, "w=1")]},
]


def simulated():
    w = raft.build(n=5, seed=0)
    w.add_clients(3, register_workload(), timeout=300, think=(5, 30))
    w.run(until=1000)
    old = w.leader()
    w.crash(old)
    w.run(until=1800)
    buddy = "n1" if old != "n1" else "n2"
    w.partition([old, buddy], [n for n in w.nodes if n not in (old, buddy)])
    w.run(until=2600)
    w.heal()
    w.restart(old)
    w.pause("n3")
    w.run(until=3000)
    w.resume("n3")
    w.run(until=3600)
    save_png(spacetime(w, start=900, end=1400), OUT / "spacetime.png")
    save_png(timeline(w), OUT / "timeline.png")
    save_png(availability(w.history, trace=w.trace), OUT / "availability.png")
    save_png(log_grid(CONFLICTING_LOGS), OUT / "log_grid_conflicts.png")
    save_png(log_grid(w, max_entries=40), OUT / "log_grid_raft.png")
    return 5


def panel_view():
    """The panel's timeline 1,250 ms in: the leader crashed 30 ms ago, a follower paused 10 ms ago."""
    w = raft.build(n=5, seed=0)
    w.run(until=1220)
    w.crash(w.leader())
    w.run(until=1240)
    w.pause(next(n for n in w.nodes if w.state(n) == "up"))
    w.run(until=1250)
    fig = _live.draw("timeline", w.trace, w, w.now, window=1500.0)      # exactly what the panel draws
    save_png(fig, OUT / "timeline_now.png", width=960)
    return 1


def client_history():
    """A 3-node register: the leader crashes at 600 ms, a node pauses near the end."""
    w = raft.build(n=3, seed=1)
    w.add_clients(2, register_workload(), timeout=300, think=(5, 30))
    w.run(until=600)
    w.crash(w.leader())
    w.run(until=1150)
    w.pause("n1")
    w.run(until=1200)
    save_png(history_figure(w, linearizable(w.history)), OUT / "history.png")
    return 1


def real_etcd():
    from faultlab.real import EtcdCluster
    with EtcdCluster(n=3) as cluster:
        cluster.monitor()
        cluster.wait_for(lambda _s: cluster.leader(), timeout=60)
        time.sleep(2)
        old = cluster.leader()
        start = cluster.now - 1000
        cluster.crash(old)
        cluster.wait_for(lambda _s: cluster.leader() not in (None, old), timeout=60)
        time.sleep(2)
        cluster.restart(old)
        time.sleep(3)
        save_png(timeline(cluster, start=start, title="etcd: leader killed and restarted (T = Raft term)"),
                 OUT / "timeline_etcd.png")
    return 1


def main():
    done = simulated() + panel_view() + client_history() + (real_etcd() if "--real" in sys.argv else 0)
    print(f"wrote {done} PNGs to {OUT}")


if __name__ == "__main__":
    main()
