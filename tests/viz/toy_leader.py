"""A tiny leader protocol for figure and widget tests: the lowest-numbered live node leads.

Every node heartbeats; a node that hears from no lower-numbered peer for
``timeout`` ms takes over with a higher term. The leader accepts client writes
into its log and followers copy the leader's log from the heartbeats, so a
partition produces two leaders and conflicting log entries: enough to exercise
every figure without depending on a full consensus protocol.
"""
from faultlab import Node, World, register_workload


class ToyLeader(Node):
    def __init__(self, interval=50.0, timeout=160.0):
        self.interval, self.timeout = interval, timeout
        self.heard = {}
        self.role = None
        self.leader = None

    def on_start(self, ctx):
        ctx.storage.setdefault("term", 0)
        self.log = ctx.storage.setdefault("log", [])
        self.commit = 0
        self.become(ctx, "follower")
        ctx.set_timer("beat", 0)
        ctx.set_timer("check", self.timeout + ctx.rng.uniform(0, 20))

    def become(self, ctx, role):
        if role == "leader":
            ctx.storage["term"] += 1
            self.leader = ctx.id
        self.role = role
        ctx.set_role(role, ctx.storage["term"])

    def on_timer(self, ctx, name):
        if name == "beat":
            ctx.broadcast(("beat", ctx.storage["term"], self.role == "leader", list(ctx.storage["log"])))
            ctx.set_timer("beat", self.interval)
        else:
            lower = [p for p, t in self.heard.items() if p < ctx.id and ctx.now - t <= self.timeout]
            if not lower and self.role != "leader":
                self.become(ctx, "leader")
            elif lower and self.role == "leader":
                self.become(ctx, "follower")
            ctx.set_timer("check", self.interval)

    def on_message(self, ctx, src, msg):
        _, term, is_leader, log = msg
        self.heard[src] = ctx.now
        if term > ctx.storage["term"]:
            ctx.storage["term"] = term
            if self.role == "leader" and src < ctx.id:
                self.become(ctx, "follower")
        if is_leader and src < ctx.id:
            self.leader = src
            ctx.storage["log"] = self.log = list(log)
            self.commit = len(log)
            if self.role != "follower" or term != ctx.storage["term"]:
                self.role = "follower"
                ctx.set_role("follower", ctx.storage["term"])

    def on_request(self, ctx, op):
        if self.role != "leader":
            ctx.fail(op, "not the leader", leader=self.leader)
            return
        ctx.storage["log"].append((ctx.storage["term"], f"{op.f} {op.value}"))
        self.commit = len(ctx.storage["log"])
        ctx.reply(op, None)

    def status(self):
        return {"log": list(self.log), "leader": self.leader, "commit_index": self.commit}


def build(n=5, seed=0, clients=0, **kw):
    """A ``World`` with ``n`` toy-leader nodes (and optional register clients)."""
    w = World(seed=seed)
    w.add_nodes(n, lambda: ToyLeader(**kw))
    if clients:
        w.add_clients(clients, register_workload(), timeout=200.0, think=(5.0, 20.0))
    return w
