"""Scenarios for the Raft chapter: one simulated cluster per exercise, a scripted fault, a verdict.

Every exercise is a :class:`faultlab.course.exercise.Exercise` (predict → inject →
observe → explain, safe under Run All): ``ex.ask()`` asks for a prediction and
injects the fault on a click; ``ex.inject()`` does the same from code (a no-op
once the fault is in, so a notebook run top to bottom and a notebook clicked
through end in the same state); ``ex.report()`` verifies the claim with
faultlab's checkers and returns plain text that depends only on the seed, which
the notebook displays with ``ex.show``.
"""
from __future__ import annotations

from ..check import linearizable
from ..check import raft as raft_check
from ..errors import ConfigError
from ..protocols import raft
from ..workloads import kv_workload
from ..viz import log_grid, spacetime, timeline, unavailability_windows
from .exercise import Exercise, yes

SETTLE_MS = 1000.0


def safety_line(world):
    """One line: the five Raft properties, and linearizability of what the clients saw."""
    props = raft_check.check_all(world)
    lin = linearizable(world.history, "kv", timeout=20)
    text = f"safety properties: {_properties(props)}"
    return text + f"; client history linearizable: {yes(lin.ok) if lin.verdict != 'unknown' else 'unknown'}"


def _properties(result):
    """'all held', 'VIOLATED — …', or 'not checked — …' when the run held too little to check."""
    if result.ok:
        return "all held"
    word = "not checked" if result.verdict == "unknown" else "VIOLATED"
    return f"{word} — {result.explanation}"


def _status(world, node):
    return next(s for s in world.status() if s["node"] == node)


def _terms_led(world, since=0.0):
    return [(r.node, r.info["term"], r.t) for r in world.trace
            if r.kind == "role" and r.info["role"] == "leader" and r.t >= since]


class RaftExercise(Exercise):
    """A cluster of ``n`` Raft servers with a client writing to it, run until a leader settles."""

    def __init__(self, seed=1, n=5, clients=1):
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"seed must be a whole number (the same seed gives the same run), got {seed!r}")
        self.seed, self.n = seed, n
        self.world = raft.build(n, seed=seed)
        if clients:
            self.world.add_clients(clients, kv_workload(keys=2), timeout=150.0, think=(20.0, 60.0))
        self.world.run(until=SETTLE_MS)
        self.leader = self.world.leader()
        self.term = _status(self.world, self.leader)["term"]
        self.t_fault = None

    def inject(self):
        """Inject this exercise's fault and run on (once; later calls do nothing)."""
        if not self.injected:
            self.t_fault = self.world.now
        return super().inject()

    # figures around the fault
    def timeline(self, before=600.0, after=None, **kw):
        start = max(0.0, (self.t_fault or self.world.now) - before)
        return timeline(self.world.trace, start=start, end=self.world.now if after is None
                        else (self.t_fault or self.world.now) + after, **kw)

    def spacetime(self, before=100.0, after=500.0, **kw):
        t = self.t_fault or self.world.now
        return spacetime(self.world.trace, start=max(0.0, t - before), end=min(self.world.now, t + after),
                         **kw)

    def log_grid(self, **kw):
        return log_grid(self.world, **kw)


class CrashLeader(RaftExercise):
    question = "The leader crashes. What does the cluster do next?"
    choices = ("nothing: it waits for the leader to come back",
               "within about a second, another server becomes leader in a higher term",
               "every server declares itself leader")
    explain = ("Followers hear no heartbeat, their election timers expire, one becomes a candidate "
               "in a new term and wins the votes of a majority (3 of 5 are still up).")

    def _inject(self):
        self.world.crash(self.leader)
        self.world.run(duration=1000)

    def new_leader(self):
        return next(((n, term, t) for n, term, t in _terms_led(self.world, self.t_fault)), None)

    def outcome(self):
        new = self.new_leader()
        if new is None:
            return self.choices[0]
        return self.choices[1], f"{new[0]} became leader of term {new[1]} {new[2] - self.t_fault:.0f} ms later"

    def report(self):
        new = self.new_leader()
        gaps = [w for w in unavailability_windows(self.world.history, end=self.world.now)
                if w.end >= self.t_fault]
        lines = [f"leader {self.leader} (term {self.term}) crashed at t = {self.t_fault:.0f} ms",
                 f"new leader elected: {yes(new)}" + (f" ({new[0]}, term {new[1]}, "
                                                       f"{new[2] - self.t_fault:.0f} ms after the crash)"
                                                       if new else ""),
                 f"longest time without a successful write: "
                 f"{max((w.duration for w in gaps), default=0):.0f} ms",
                 safety_line(self.world)]
        return "\n".join(lines)


class PartitionLeader(RaftExercise):
    question = ("The leader and one follower are cut off from the other three, and a client keeps "
                "writing to the old leader. What happens to those writes?")
    choices = ("they are committed: the old leader is still leader",
               "they stay uncommitted, and are thrown away after the partition heals",
               "both sides commit different writes and keep them")
    explain = ("Two servers are not a majority of five, so the old leader can append but never commit. "
               "The three others elect a new leader in a higher term and commit their own writes. On "
               "healing, the old leader sees the higher term, steps down, and its uncommitted entries "
               "are overwritten by the new leader's log.")

    def __init__(self, seed=1, n=5):
        super().__init__(seed, n, clients=1)
        self.follower = next(x for x in self.world.nodes if x != self.leader)
        self.minority = sorted([self.leader, self.follower])
        self.majority = [x for x in self.world.nodes if x not in self.minority]
        self.before_heal = None
        self.t_heal = None

    def _inject(self):
        w = self.world
        w.partition(self.minority, self.majority)
        w.add_clients(1, kv_workload(keys=2), targets=[self.leader], timeout=150.0, think=(20.0, 60.0),
                      stop=w.now + 1000, prefix="stale")
        w.run(duration=1200)
        self.before_heal = w.status()
        self.old_during = _status(w, self.leader)
        self.t_heal = w.now
        w.heal()
        w.run(duration=800)

    def log_grids(self, width=30):
        """The logs just before and after the heal, over the same indices (the stale ones and after)."""
        first = max(1, self.old_during["commit_index"] - 3)
        before = log_grid(self.before_heal, start=first, end=first + width - 1, title="Before the heal")
        after = log_grid(self.world, start=first, end=first + width - 1, title="After the heal")
        return before, after

    def stale_entries(self):
        """Entries the old leader held beyond its commit index just before the heal."""
        s = self.old_during
        return s["log"][s["commit_index"]:]

    def outcome(self):
        s_old, s_now = self.old_during, _status(self.world, self.leader)
        lost = [e for e in self.stale_entries() if e not in s_now["log"]]
        if s_old["commit_index"] == len(s_old["log"]) and not lost:
            return self.choices[0]
        return self.choices[1], f"{len(self.stale_entries())} entries never committed; {len(lost)} overwritten"

    def report(self):
        w = self.world
        now = _status(w, self.leader)
        stale = self.stale_entries()
        committed_in_partition = [r for r in w.trace if r.kind == "note" and r.node == self.leader
                                  and r.info.get("text") == "commit" and self.t_fault <= r.t < self.t_heal]
        elected = [(n, term) for n, term, t in _terms_led(w, self.t_fault) if t < self.t_heal]
        lines = [f"partition: {{{', '.join(self.minority)}}} | {{{', '.join(self.majority)}}} "
                 f"at t = {self.t_fault:.0f} ms, healed at t = {self.t_heal:.0f} ms",
                 f"old leader {self.leader} committed anything while cut off: {yes(committed_in_partition)} "
                 f"({len(stale)} entries appended but not committed)",
                 f"majority elected a new leader: {yes(elected)}"
                 + (f" ({elected[0][0]}, term {elected[0][1]})" if elected else ""),
                 f"after the heal {self.leader} stepped down: {yes(now['role'] == 'follower')} "
                 f"(now term {now['term']})",
                 f"its uncommitted entries were overwritten: "
                 f"{yes(stale and not any(e in now['log'] for e in stale))}",
                 f"all logs equal again: {yes(len({tuple(s['log']) for s in w.status()}) == 1)}",
                 safety_line(w)]
        return "\n".join(lines)


class PauseLeader(RaftExercise):
    question = ("The leader freezes for 1.5 s (a long garbage-collection pause, a stopped VM) and then "
                "carries on as if nothing happened. What does it do when it wakes up?")
    choices = ("it keeps leading: nobody told it otherwise",
               "it steps down as soon as it hears a higher term",
               "it and the new leader both commit writes for a while")
    explain = ("While it was frozen the others elected a new leader in a higher term. The zombie wakes up "
               "still believing it leads its old term, but the first message it handles (the new "
               "leader's heartbeats were waiting for it) carries the higher term, so it steps down. It "
               "could not have committed anything anyway: no majority accepts entries of a stale term.")

    def _inject(self):
        w = self.world
        w.pause(self.leader)
        w.run(duration=1500)
        self.t_resume = w.now
        w.resume(self.leader)
        w.run(duration=500)

    def spacetime(self, before=10.0, after=60.0, **kw):
        """Messages around the moment the paused leader wakes up."""
        return spacetime(self.world.trace, start=self.t_resume - before, end=self.t_resume + after, **kw)

    def step_down(self):
        return next(((r.t, r.info["term"]) for r in self.world.trace if r.node == self.leader
                     and r.kind == "role" and r.t >= self.t_resume and r.info["role"] == "follower"), None)

    def outcome(self):
        down = self.step_down()
        if down is None:
            return self.choices[0]
        return self.choices[1], f"it stepped down {down[0] - self.t_resume:.1f} ms after waking up"

    def report(self):
        w = self.world
        down = self.step_down()
        elected = [(n, term) for n, term, t in _terms_led(w, self.t_fault) if t < self.t_resume]
        zombie_commits = [r for r in w.trace if r.kind == "note" and r.node == self.leader
                          and r.info.get("text") == "commit" and r.info.get("term") == self.term
                          and r.t >= self.t_resume]
        lines = [f"{self.leader} (leader of term {self.term}) paused at t = {self.t_fault:.0f} ms, "
                 f"resumed at t = {self.t_resume:.0f} ms",
                 f"new leader elected while it was frozen: {yes(elected)}"
                 + (f" ({elected[0][0]}, term {elected[0][1]})" if elected else ""),
                 f"zombie stepped down on seeing a higher term: {yes(down)}"
                 + (f" (term {down[1]}, {down[0] - self.t_resume:.1f} ms after waking)" if down else ""),
                 f"commits by the zombie after waking: {len(zombie_commits)}",
                 safety_line(w)]
        return "\n".join(lines)


def crash_leader(seed=1):
    return CrashLeader(seed)


def partition_leader(seed=1):
    return PartitionLeader(seed)


def pause_leader(seed=1):
    return PauseLeader(seed)


def first_election(world, before=15.0, after=40.0):
    """``(start, end)`` ms around the first time a server became leader (for a space-time window)."""
    t = next((r.t for r in world.trace if r.kind == "role" and r.info["role"] == "leader"), 0.0)
    return max(0.0, float(round(t - before))), float(round(t + after))


def one_write(world, before=2.0, after=3.0):
    """``(start, end)`` ms around the last client operation that completed (invoke to answer)."""
    done = [r for r in world.trace if r.kind == "complete" and r.info.get("type") == "ok"]
    if not done:
        return 0.0, world.now
    end = done[-1].t
    start = max(r.t for r in world.trace if r.kind == "invoke" and r.node == done[-1].node and r.t <= end)
    return float(round(start - before)), float(round(end + after))


def status_table(world):
    """Each server's role, term, log length and commit index, one line each (plain text)."""
    lines = [f"t = {world.now:,.0f} ms, leader: {world.leader() or 'none'}"]
    for s in world.status():
        if s["state"] == "crashed":
            lines.append(f"  {s['node']}  crashed")
            continue
        lines.append(f"  {s['node']}  {s['role']:<9} term {s['term']}  log {len(s['log']):>3} entries  "
                     f"committed up to {s['commit_index']:>3}" + ("  (paused)" if s["state"] == "paused" else ""))
    return "\n".join(lines)


class FigureEightExercise(Exercise):
    """The paper's Figure 8 twice: with the counting mistake and with Raft's rule."""

    question = ("n1 leads term 4 and has copied w2, an entry from term 1, to n2, n3 and n4: a majority. "
                "If n1 counts replicas and commits w2, can w2 still be lost?")
    choices = ("no: an entry on a majority is safe",
               "yes: n5 can still win an election and overwrite it")
    explain = ("n5's last entry has term 2, newer than the term 1 of w2, so n2, n3 and n4 all find n5's "
               "log more up to date and vote for it. Raft therefore commits an older-term entry only "
               "together with an entry of the leader's own term.")

    def __init__(self, seed=8):
        from .figure8 import FigureEight
        self.mistake = FigureEight(counting=True, seed=seed)
        self.rule = FigureEight(counting=False, seed=seed)

    def _inject(self):
        self.mistake.run()
        self.rule.run()

    def outcome(self):
        lost = self.mistake.committed_w2 and not self.mistake.check().ok
        return (self.choices[1] if lost else self.choices[0]), "see the logs below"


    def log_grid(self, run, step):
        """The logs of ``run`` ('mistake' or 'rule') after step 'a'..'d'."""
        fig8 = {"mistake": self.mistake, "rule": self.rule}[run]
        label, rows = next((lbl, rows) for lbl, rows in fig8.steps if lbl.startswith(step))
        name = "counting replicas (the mistake)" if run == "mistake" else "Raft's rule"
        return log_grid(rows, title=f"{name}, step {step}", height=330)

    def report(self):
        return self.mistake.report() + "\n\n" + self.rule.report()


class ElectionExercise(Exercise):
    """Leader crash over many seeds: a narrow election-timeout range against Raft's usual one."""

    question = ("All five servers draw their election timeouts from 150–155 ms instead of 150–300 ms. "
                "After the leader crashes, how long does the cluster go without a leader?")
    choices = ("shorter: everyone reacts sooner", "about the same", "longer: votes get split again and again")
    explain = ("With nearly equal timeouts several followers become candidates within a few ms of each "
               "other, each votes for itself, and nobody reaches a majority: a split vote. They all wait "
               "another timeout and often split again. A wide range makes one server time out well "
               "before the rest, so it usually wins in one round.")

    def __init__(self, seeds=range(60), narrow=(150, 155), wide=(150, 300), n=5, progress=True):
        self.seeds, self.narrow_range, self.wide_range, self.n = list(seeds), narrow, wide, n
        self.progress = progress
        self.narrow = self.wide = None

    def _inject(self):
        from ..experiments.election import election_times
        self.narrow = election_times(self.n, self.narrow_range, seeds=self.seeds, progress=self.progress)
        self.wide = election_times(self.n, self.wide_range, seeds=self.seeds, progress=self.progress)

    def outcome(self):
        a, b = self.narrow.summary(), self.wide.summary()
        if a["median_ms"] > 1.2 * b["median_ms"]:
            return self.choices[2], f"median {a['median_ms']:.0f} ms against {b['median_ms']:.0f} ms"
        if a["median_ms"] < 0.8 * b["median_ms"]:
            return self.choices[0]
        return self.choices[1]


    def figure(self):
        from ..experiments.election import election_figure
        return election_figure([self.narrow, self.wide])

    def report(self):
        lines = []
        for d in (self.narrow, self.wide):
            s = d.summary()
            lo, hi = d.timeout_range
            lines.append(f"timeouts {lo:g}–{hi:g} ms: median {s['median_ms']:.0f} ms, 90% within "
                         f"{s['p90_ms']:.0f} ms, {s['mean_split_votes']:.2f} split votes/run, "
                         f"{s['no_leader']} of {s['runs']} runs without a leader")
        a, b = self.narrow.summary(), self.wide.summary()
        lines.append(f"narrow range slower (median): {yes(a['median_ms'] > b['median_ms'])}; "
                     f"more split votes: {yes(a['mean_split_votes'] > b['mean_split_votes'])}")
        return "\n".join(lines)


# -- section 2: the up-to-date rule, terms and roles drawn from a run ---------------------------------
class UpToDateVote:
    """§5.4.1 of the paper on a run: a follower cut off alone comes back with the highest term and a
    short log; the others refuse it their votes, and a server with the full log wins.

    Alone, it times out again and again and starts an election in a new term each time: those terms
    end without a leader, which is why term numbers can jump.
    """

    def __init__(self, seed=1, n=5, apart_ms=1200.0):
        w = self.world = raft.build(n, seed=seed)
        w.add_clients(1, kv_workload(keys=2), timeout=150.0, think=(20.0, 60.0))
        w.run(until=SETTLE_MS)
        self.old_leader = w.leader()
        self.loner = next(x for x in w.nodes if x != self.old_leader)
        self.others = [x for x in w.nodes if x != self.loner]
        self.t_cut, self.term_before = w.now, _status(w, self.loner)["term"]
        w.partition([self.loner], self.others)
        w.run(duration=apart_ms)
        self.alone, self.rest = _status(w, self.loner), _status(w, w.leader())
        self.t_heal = w.now
        w.heal()
        w.run(duration=800)

    def refused(self):
        """``(term, refusals, grants)`` of the loner's vote requests after the heal, per term."""
        asked = {r.info["msg"].term for r in self.world.trace if r.kind == "send" and r.node == self.loner
                 and r.t >= self.t_heal and type(r.info["msg"]).__name__ == "RequestVote"}
        replies = [r.info["msg"] for r in self.world.trace if r.kind == "send" and r.t >= self.t_heal
                   and r.info.get("dst") == self.loner and type(r.info["msg"]).__name__ == "VoteReply"]
        return [(t, sum(not m.granted for m in replies if m.term == t),
                 sum(m.granted for m in replies if m.term == t)) for t in sorted(asked)]

    def report(self):
        w, a, r = self.world, self.alone, self.rest
        new = [(n, term) for n, term, _ in _terms_led(w, self.t_heal)]
        caught_up = _status(w, self.loner)["log"] == _status(w, w.leader())["log"]
        lines = [f"{self.loner} cut off alone at t = {self.t_cut:.0f} ms, reconnected at t = {self.t_heal:.0f} ms",
                 f"alone, it stood for election {_elections(w, self.loner, self.t_cut, self.t_heal)} times: "
                 f"term {self.term_before} -> {a['term']}, no leader in any of those terms",
                 f"its log then: {len(a['log'])} entries; the others' (leader {r['node']}, "
                 f"term {r['term']}): {len(r['log'])} entries"]
        lines += [f"its vote request for term {t} after reconnecting: {no} refusals, {ok} grants"
                  for t, no, ok in self.refused()]
        lines += [f"new leader after reconnecting: {yes(new)}" + (f" ({new[0][0]}, term {new[0][1]}, "
                                                                 f"{len(_status(w, new[0][0])['log'])} entries)"
                                                                 if new else ""),
                  f"{self.loner} now has the full log: {yes(caught_up)}",
                  safety_line(w)]
        return "\n".join(lines)

    def timeline(self):
        return timeline(self.world.trace, start=self.t_cut - 300, end=self.world.now,
                        title=f"{self.loner} cut off alone, then reconnected")


def _elections(world, node, since, until):
    return sum(1 for r in world.trace if r.node == node and r.kind == "role" and r.info["role"] == "candidate"
               and since <= r.t < until)


def term_spans(world):
    """``[(term, start, elected_at or None, end)]``: from the first server entering a term to the last
    one leaving it (terms overlap when servers disagree, e.g. one cut off), and when it got a leader."""
    entered, left, elected, current = {}, {}, {}, {}
    for r in world.trace:
        if r.kind == "role":
            old, term = current.get(r.node), r.info["term"]
            if old is not None and old != term:
                left[old] = max(left.get(old, 0.0), r.t)
            current[r.node] = term
            entered.setdefault(term, r.t)
            if r.info["role"] == "leader":
                elected.setdefault(term, r.t)
        elif r.kind == "crash" and r.node in current:
            old = current.pop(r.node)
            left[old] = max(left.get(old, 0.0), r.t)
    still = set(current.values())
    return [(t, entered[t], elected.get(t), world.now if t in still else left.get(t, world.now))
            for t in sorted(entered) if t > 0]


def vote_tally(world, candidate, term):
    """``(granted, refused_by)`` for ``candidate``'s election in ``term`` (its own vote included)."""
    replies = [r for r in world.trace if r.kind == "send" and r.info.get("dst") == candidate
               and type(r.info["msg"]).__name__ == "VoteReply" and not r.info["msg"].pre_vote
               and r.info["msg"].term == term]
    return 1 + sum(r.info["msg"].granted for r in replies), sorted(r.node for r in replies
                                                                   if not r.info["msg"].granted)


def leaderless_terms(world):
    """``[(term, candidate, votes, refused_by)]`` for every election that ended without a leader."""
    spans = term_spans(world)
    out = []
    for term, _, won, _ in spans:
        if won is None:
            for node in sorted({r.node for r in world.trace if r.kind == "role" and r.info["term"] == term
                                and r.info["role"] == "candidate"}):
                out.append((term, node, *vote_tally(world, node, term)))
    return out


def terms_figure(world, title="Terms in this run: election (yellow), then normal operation under a leader"):
    """The paper's Figure 5 drawn from a run: one row per term, from the first server entering it to
    the last one leaving it; a term without a leader is all election."""
    import plotly.graph_objects as go
    from ..viz.timeline import ROLE_COLORS
    fig = go.Figure()
    spans = term_spans(world)
    for term, start, won, end in spans:
        row = f"T{term}"
        fig.add_bar(y=[row], x=[(won or end) - start], base=[start], orientation="h", showlegend=False,
                    marker_color=ROLE_COLORS["candidate"],
                    hovertemplate=f"term {term}: election from {start:.0f} ms"
                                  + (f", leader at {won:.0f} ms" if won else f", no leader until {end:.0f} ms")
                                  + "<extra></extra>")
        if won:
            fig.add_bar(y=[row], x=[end - won], base=[won], orientation="h", showlegend=False,
                        marker_color=ROLE_COLORS["leader"],
                        hovertemplate=f"term {term}: normal operation {won:.0f}–{end:.0f} ms<extra></extra>")
        else:
            fig.add_annotation(x=end, y=row, text="no leader", xanchor="left", showarrow=False,
                               font=dict(size=10, color="#666"))
    fig.update_layout(barmode="overlay", height=110 + 26 * len(spans), title=title, xaxis_title="time (ms)",
                      yaxis=dict(autorange="reversed"), margin=dict(l=50, r=70, t=50, b=40),
                      plot_bgcolor="white", bargap=0.3)
    return fig


TRANSITIONS = (("start", "follower", "starts up"),
               ("follower", "candidate", "times out,<br>starts an election"),
               ("candidate", "candidate", "times out again:<br>new election, next term"),
               ("candidate", "leader", "votes from<br>a majority"),
               ("candidate", "follower", "finds a leader<br>or a higher term"),
               ("leader", "follower", "sees a higher term"))
_AT = {"start": (0.0, 0.0), "follower": (1.0, 0.0), "candidate": (2.5, 1.0), "leader": (4.0, 0.0)}
# where each transition's label sits, relative to the middle of its arrow
_LABEL_SHIFT = {("start", "follower"): (0.0, -0.22), ("follower", "candidate"): (-0.55, 0.12),
                ("candidate", "follower"): (0.5, -0.15), ("candidate", "leader"): (0.55, 0.12),
                ("leader", "follower"): (0.0, -0.25)}


def role_transitions(world):
    """``{(from, to): count}`` over every server of a run ('start' for a server's first role)."""
    counts = {(a, b): 0 for a, b, _ in TRANSITIONS}
    last = {}
    for r in world.trace:
        if r.kind == "role":
            key = (last.get(r.node, "start"), r.info["role"])
            if key in counts:
                counts[key] += 1
            last[r.node] = r.info["role"]
        elif r.kind == "crash":
            last[r.node] = "start"
    return counts


def _arrow(fig, a, b, side=1.0):
    """An arrow from role ``a`` to role ``b``, shortened to clear the circles, shifted to its left
    (so the two arrows of a pair of roles run side by side)."""
    (x0, y0), (x1, y1) = _AT[a], _AT[b]
    dx, dy = x1 - x0, y1 - y0
    length = (dx * dx + dy * dy) ** 0.5
    ux, uy, px, py = dx / length, dy / length, -dy / length * side, dx / length * side
    cut0 = 0.08 if a == "start" else 0.3
    fig.add_annotation(x=x1 - 0.3 * ux + 0.07 * px, y=y1 - 0.3 * uy + 0.07 * py,
                       ax=x0 + cut0 * ux + 0.07 * px, ay=y0 + cut0 * uy + 0.07 * py,
                       xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True, arrowhead=3,
                       arrowwidth=1.4, arrowcolor="#555")


def role_diagram(world, title="Roles, and what moves a server between them (× = times in this run)"):
    """The paper's Figure 4 drawn with plotly — follower, candidate, leader — with how often each
    transition happened in ``world``'s run."""
    import plotly.graph_objects as go
    from ..viz.timeline import ROLE_COLORS
    counts = role_transitions(world)
    fig = go.Figure()
    for a, b, why in TRANSITIONS:
        label = f"{why} <b>×{counts[(a, b)]}</b>"
        if a == b:                                        # a loop: label above the circle
            x, y = _AT[a]
            fig.add_annotation(x=x, y=y + 0.36, text="↻ " + label, showarrow=False, font=dict(size=11))
            continue
        _arrow(fig, a, b)
        (x0, y0), (x1, y1) = _AT[a], _AT[b]
        sx, sy = _LABEL_SHIFT[(a, b)]
        fig.add_annotation(x=(x0 + x1) / 2 + sx, y=(y0 + y1) / 2 + sy, text=label, showarrow=False,
                           font=dict(size=11))
    for role in ("follower", "candidate", "leader"):
        x, y = _AT[role]
        fig.add_scatter(x=[x], y=[y], mode="markers+text", text=[role], textposition="middle center",
                        marker=dict(size=74, color=ROLE_COLORS[role]), hoverinfo="skip", showlegend=False,
                        textfont=dict(color="white" if role == "leader" else "#2A3F5F", size=13))
    fig.add_scatter(x=[0.0], y=[0.0], mode="markers", marker=dict(size=9, color="#555"), hoverinfo="skip",
                    showlegend=False)
    fig.update_xaxes(visible=False, range=[-0.3, 4.9])
    fig.update_yaxes(visible=False, range=[-0.5, 1.55])
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white")
    return fig
