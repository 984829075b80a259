"""Simulated clients: closed-loop processes that issue operations and record a history.

A client sends a request over the simulated network to one node, waits for a
reply or a timeout, and records invoke/ok/fail/info. After a timeout the
outcome is unknown, so (as in Jepsen) the client continues under a new process
number, fresh in the whole world: the old operation may still take effect later.
"""
from __future__ import annotations

from ..errors import ConfigError
from ..rng import seeded_rng
from ..workloads import Op


class Client:
    def __init__(self, world, name, process, workload, timeout, think, stop, targets):
        if not timeout > 0:
            raise ConfigError(f"client timeout must be a positive number of ms, got {timeout!r}")
        self.world, self.name, self.process = world, name, process
        self.workload, self.timeout, self.think, self.stop = workload, timeout, think, stop
        self.targets = list(targets)
        self.rng = seeded_rng(world.seed, name)
        self.leader = None
        self.waiting = None          # (op id, simpy event)
        self.completed = 0

    def receive(self, reply):
        if self.waiting and self.waiting[0] == reply.op_id and not self.waiting[1].triggered:
            self.waiting[1].succeed(reply)

    def run(self):
        env, world, rng = self.world.env, self.world, self.rng
        while self.stop is None or env.now < self.stop:
            f, key, value = self.workload(rng)
            op = Op(world._next_op_id(), self.name, self.process, f, key, value)
            target = self.leader if self.leader in self.targets else rng.choice(self.targets)
            world.history.invoke(self.process, f, value, key, env.now)
            world.record("invoke", self.name, {"op": op, "target": target})
            answered = env.event()
            self.waiting = (op.id, answered)
            world._send(self.name, target, op)
            yield answered | env.timeout(self.timeout)
            self.waiting = None
            if answered.triggered:
                reply = answered.value
                if reply.status == "ok":
                    out = reply.value if f in ("read", "get") else value
                    world.history.ok(self.process, f, out, key, env.now)
                    self.leader = target
                else:
                    world.history.fail(self.process, f, value, key, env.now, error=reply.value)
                    self.leader = reply.leader
                world.record("complete", self.name, {"op": op.id, "type": reply.status,
                                                     "value": reply.value})
            else:
                world.history.info(self.process, f, value, key, env.now, error="timeout")
                world.record("complete", self.name, {"op": op.id, "type": "info", "value": None})
                self.process = world._next_process()
                self.leader = None
            self.completed += 1
            yield env.timeout(rng.uniform(*self.think))
