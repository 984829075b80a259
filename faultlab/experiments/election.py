"""How long is a Raft cluster without a leader after its leader crashes?

For each seed: build a cluster, wait until it has a leader, crash that leader,
and time how long until another server announces itself leader. The election
timeout range decides most of it: servers that time out at nearly the same
moment split the vote, wait for another timeout, and try again. A wide range
spreads the timeouts out; a narrow one makes split votes (and slow elections)
common — the paper's Figure 16.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..protocols import raft

SETTLE_MS = 1000.0        # let the first leader settle before crashing it
MAX_WAIT_MS = 10000.0     # give up on a run after this long without a new leader


@dataclass
class ElectionData:
    """Per seed: ms from the leader crash to a new leader (None: none within the wait), the
    number of split votes (terms whose election ended without a leader) on the way, and whether
    a leader was there to crash at all (a run that never elected one measured nothing)."""
    n: int
    timeout_range: tuple
    latency: object
    seeds: list = field(default_factory=list)
    times: list = field(default_factory=list)
    split_votes: list = field(default_factory=list)
    crashed: list = field(default_factory=list)

    @property
    def elected(self):
        return [t for t in self.times if t is not None]

    @property
    def label(self):
        lo, hi = self.timeout_range
        return f"n={self.n}, timeouts {lo:g}–{hi:g} ms"

    def summary(self):
        """Median and 90th percentile (ms), mean split votes, runs without a new leader, and runs
        in which no first leader was elected, so nothing was crashed (``not_crashed``)."""
        times = sorted(self.elected)
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))] if times else None
        return {"runs": len(self.times), "median_ms": statistics.median(times) if times else None,
                "p90_ms": p90, "mean_split_votes": statistics.fmean(self.split_votes) if self.split_votes
                else None, "no_leader": len(self.times) - len(times),
                "not_crashed": self.crashed.count(False)}


def _one_run(n, seed, timeout_range, latency):
    lo = timeout_range[0]
    world = raft.build(n, seed=seed, latency=latency, election_timeout=timeout_range,
                       heartbeat=min(50.0, lo / 3))
    events = []
    world.listeners.append(lambda r: events.append(r) if r.kind == "role" else None)
    world.run(until=SETTLE_MS)
    while world.leader() is None and world.now < SETTLE_MS + MAX_WAIT_MS:
        world.run(duration=100)
    old = world.leader()
    if old is None:
        return None, 0, False
    crashed_at, old_term = world.now, world.status()[world.nodes.index(old)]["term"]
    world.crash(old)
    events.clear()
    new = None
    while new is None and world.now < crashed_at + MAX_WAIT_MS:
        world.run(duration=50)
        new = next((r for r in events if r.info["role"] == "leader"), None)
    candidate_terms = {r.info["term"] for r in events if r.info["role"] == "candidate"
                       and r.info["term"] > old_term and (new is None or r.t <= new.t)}
    if new is None:
        return None, len(candidate_terms), True
    return new.t - crashed_at, len(candidate_terms - {new.info["term"]}), True


def election_times(n=5, timeout_range=(150, 300), latency=(1, 5), seeds=range(100), progress=False):
    """Crash the leader once per seed and measure the time to the next leader.

    Returns an :class:`ElectionData`; ``progress=True`` shows a progress bar (in notebooks too).
    """
    seeds = list(seeds)
    if not seeds:
        raise ConfigError("election_times needs at least one seed, e.g. seeds=range(100)")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"measuring a failover needs at least 2 servers (the leader is crashed), "
                          f"got n={n!r}; 3 or 5 are typical")
    raft._check_options(timeout_range, min(50.0, _low(timeout_range) / 3), False)
    data = ElectionData(n, tuple(timeout_range), latency)
    it = seeds
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(seeds, desc=f"elections ({data.label})", unit="run")
    for seed in it:
        t, splits, crashed = _one_run(n, seed, tuple(timeout_range), latency)
        data.seeds.append(seed)
        data.times.append(t)
        data.split_votes.append(splits)
        data.crashed.append(crashed)
    return data


def _low(timeout_range):
    try:
        lo = float(timeout_range[0])
    except (TypeError, ValueError, IndexError, KeyError):
        raise ConfigError(f"timeout_range must be a (low, high) range in ms such as (150, 300), "
                          f"got {timeout_range!r}") from None
    if not lo > 0:
        raise ConfigError(f"timeout_range low end must be a positive number of ms, got {timeout_range!r}")
    return lo


def election_figure(data):
    """An ECDF of the leaderless time per run (one line per ElectionData), with split votes in the
    legend. Pass one ElectionData or a list of them to compare timeout ranges."""
    import plotly.graph_objects as go

    from ..viz._style import FONT, NODE_PALETTE
    datasets = [data] if isinstance(data, ElectionData) else list(data)
    if not datasets or not all(isinstance(d, ElectionData) for d in datasets):
        raise ConfigError("election_figure needs the ElectionData returned by election_times "
                          "(or a list of them)")
    fig = go.Figure()
    for k, d in enumerate(datasets):
        times = sorted(d.elected)
        s = d.summary()
        med = f"{s['median_ms']:.0f} ms" if s["median_ms"] is not None else "—"
        extra = f", {s['no_leader']} without leader" if s["no_leader"] else ""
        name = f"{d.label}: median {med}, {s['mean_split_votes']:.2f} split votes/run{extra}"
        fig.add_trace(go.Scatter(
            x=times, y=[(i + 1) / len(d.times) for i in range(len(times))], mode="lines",
            line=dict(shape="hv", width=2.5, color=NODE_PALETTE[k % len(NODE_PALETTE)]), name=name,
            hovertemplate="%{x:.0f} ms: %{y:.0%} of runs had a new leader<extra></extra>"))
    all_times = [t for d in datasets for t in d.elected if t > 0]
    if all_times and max(all_times) > 20 * min(all_times):
        fig.update_xaxes(type="log")          # narrow and wide ranges differ by orders of magnitude
    fig.update_layout(
        title="Time from leader crash to a new leader",
        xaxis_title="time without a leader after the crash (ms)",
        yaxis_title="fraction of runs with a new leader", yaxis_tickformat=".0%",
        yaxis_range=[0, 1.02], font=FONT, template="plotly_white", height=420,
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
        margin=dict(l=70, r=20, t=50, b=110))
    return fig
