"""Click-to-figure latency of the fault panel on a long 5-node Raft run.

In-process, inside an asyncio loop like the Jupyter kernel's: click "crash" on
the leader's tile, click "step" to advance 1 simulated second, and stop the
clock when the live figure has been rebuilt and pushed to the FigureWidget
(the comm message is what the browser would receive). The run is first grown
to at least ``--records`` trace records with clients writing, so the figure is
drawn from a long trace: the redraw must be windowed and incremental to stay
fast. Each round restarts the crashed node and lets the cluster settle (not
timed). The last line is ``click_to_figure_ms=<median ms>``; target <= 100.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from faultlab import register_workload
from faultlab.protocols import raft
from faultlab.widgets import FaultPanel

TARGET_MS = 100.0


def build(records, clients, seed):
    world = raft.build(n=5, seed=seed)
    world.add_clients(clients, register_workload(), timeout=300.0, think=(5.0, 20.0))
    while len(world.trace) < records:
        world.run(duration=1000.0)
    return world


async def measure(panel, rounds):
    world = panel.cluster
    totals, redraws, leaders = [], [], []
    for _ in range(rounds):
        while world.leader() is None:
            panel.advance(200.0)
        old = world.leader()
        title = panel.figure.layout.title.text
        t0 = time.perf_counter()
        panel.tiles[old].buttons["crash"].click()
        panel.clock.step.click()                   # advance 1 simulated second, then redraw
        await asyncio.sleep(0)                     # let any deferred redraw run (it should be a no-op)
        totals.append((time.perf_counter() - t0) * 1000.0)
        if panel.figure.layout.title.text == title:
            raise SystemExit("the figure did not change after the step: benchmark invalid")
        leaders.append((old, world.leader()))
        t1 = time.perf_counter()
        panel.redraw()
        redraws.append((time.perf_counter() - t1) * 1000.0)
        panel.tiles[old].buttons["restart"].click()  # not timed: heal and settle for the next round
        panel.advance(500.0)
    return totals, redraws, leaders


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000, help="grow the trace to at least this many records")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figure", default="spacetime")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    world = build(args.records, args.clients, args.seed)
    print(f"run: 5-node Raft, {args.clients} clients, seed {args.seed}: {len(world.trace):,} trace records at "
          f"t={world.now:,.0f} ms (built in {time.perf_counter() - t:.1f} s)")
    panel = FaultPanel(world, figure=args.figure, window=1500.0, step=1000.0)
    totals, redraws, leaders = asyncio.run(measure(panel, args.rounds))
    changed = sum(1 for old, new in leaders if new not in (None, old))
    med, redraw = statistics.median(totals), statistics.median(redraws)
    print(f"rounds: {args.rounds}; new leader within the simulated second in {changed}/{args.rounds}")
    print(f"trace at the end: {len(world.trace):,} records")
    print(f"click+step+redraw ms: median {med:.1f}, min {min(totals):.1f}, max {max(totals):.1f}")
    print(f"of which redraw alone (figure '{args.figure}', 1.5 s window) ms: median {redraw:.1f}; "
          f"simulation of 1 s and tiles: ~{med - redraw:.1f}")
    print(f"median / target ({TARGET_MS:g} ms): {med / TARGET_MS:.2f}")
    print(f"click_to_figure_ms={med:.1f}")


if __name__ == "__main__":
    main()
