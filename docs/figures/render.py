"""Re-render the figure PNGs in this folder: ``python docs/figures/render.py``.

A 5-node Raft run with two clients: the leader crashes at 1 s, a partition
at 1.8 s isolates the old leader's side, everything heals at 2.6 s and one
node pauses for 0.4 s. The log-grid example with conflicts is hand-made so
that every case (conflict, uncommitted tail, crashed node) shows at once.
"""
from pathlib import Path

from faultlab import register_workload
from faultlab.protocols import raft
from faultlab.viz import availability, log_grid, save_png, spacetime, timeline

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


def main():
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
    print(f"wrote 5 PNGs to {OUT}")


if __name__ == "__main__":
    main()
