"""Sequential specifications for the linearizability checker.

A model turns each operation of a history into a *step*: a function from a
state to the next state, or :data:`ILLEGAL` when the operation could not have
returned what it returned in that state. States are hashable so the search can
remember which (linearized operations, state) pairs it has already explored.

An operation reaches ``prepare`` as ``(f, value, status)``: ``value`` is the
input for writes and the observed result for successful reads; ``status`` is
'ok' (it happened and returned ``value``) or 'info' (it may or may not have
happened, its result is unknown). ``prepare`` returns ``None`` when the
operation constrains nothing (a read whose result is unknown) so the checker
can drop it.
"""
from __future__ import annotations

ILLEGAL = object()          # a step's answer when the operation is impossible in that state


class ModelError(ValueError):
    """An operation the model does not know, or a malformed value for it.

    ``event`` is the index of the history event at fault, when known.
    """

    def __init__(self, message, event=None):
        super().__init__(message)
        self.event = event


def freeze(value):
    """Lists (e.g. EDN vectors, JSON arrays) become tuples so states and values hash."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def _pair(f, value):
    value = freeze(value)
    if not (isinstance(value, tuple) and len(value) == 2):
        raise ModelError(f"{f} needs a value [expected, new], got {value!r}")
    return value


class Model:
    """Base class: ``init`` is the initial state, ``prepare`` builds one step per operation."""
    name = "model"
    partition_by_key = False     # True: check each key on its own (P-compositionality)
    fs: tuple = ()

    @property
    def init(self):
        raise NotImplementedError

    def prepare(self, f, value, status):
        raise NotImplementedError

    def prepare_failed(self, f, value):
        """A step for an operation that completed with ``fail``; ``None`` drops it (the default)."""
        return None

    def describe(self, state):
        """How a state reads in an explanation."""
        return repr(state)

    def _unknown(self, f):
        return ModelError(f"the {self.name} model has no operation {f!r}; it knows "
                          f"{', '.join(self.fs)}. Pick the model that matches the history (--model).")


class Register(Model):
    """One register with read / write / cas. An unset register reads ``None``.

    A ``cas [expected, new]`` that completed ok matched ``expected`` and stored
    ``new``. A cas that completed with ``fail`` did not take effect and is
    dropped like every failed operation (Knossos does the same), because a
    server also answers ``fail`` for reasons unrelated to the value ("not the
    leader"). With ``failed_cas_observes=True`` a failed cas is instead taken as
    an observation that the register did *not* hold ``expected``.
    """
    name = "register"
    fs = ("read", "write", "cas")
    _cas = "cas"

    def __init__(self, initial=None, failed_cas_observes=False):
        self.initial = freeze(initial)
        self.failed_cas_observes = failed_cas_observes

    @property
    def init(self):
        return self.initial

    def prepare(self, f, value, status):
        if f == "read":
            if status != "ok":
                return None
            want = freeze(value)
            return lambda s: s if s == want else ILLEGAL
        if f == "write":
            new = freeze(value)
            return lambda s: new
        if f == "cas":
            old, new = _pair(f, value)
            return lambda s: new if s == old else ILLEGAL
        raise self._unknown(f)

    def prepare_failed(self, f, value):
        if f == self._cas and self.failed_cas_observes:
            old, _new = _pair(f, value)
            return lambda s: s if s != old else ILLEGAL
        return None

    def describe(self, state):
        return "unset (None)" if state is None else repr(state)


class KeyValue(Register):
    """A map checked key by key: get / put / append (also read / write / cas per key).

    A key that was never written reads as ``initial`` (the empty string by
    default, as in etcd and ZooKeeper data); ``append`` concatenates strings.
    """
    name = "kv"
    partition_by_key = True
    fs = ("get", "put", "append", "read", "write", "cas")
    _ALIAS = {"get": "read", "put": "write"}

    def __init__(self, initial="", failed_cas_observes=False):
        super().__init__(initial, failed_cas_observes)

    def prepare(self, f, value, status):
        if f == "append":
            if not isinstance(value, str):
                raise ModelError(f"append needs a string value, got {value!r}")
            return lambda s: (s or "") + value
        if f not in self.fs:
            raise self._unknown(f)
        return super().prepare(self._ALIAS.get(f, f), value, status)

    def describe(self, state):
        return repr(state)


class SetModel(Model):
    """A grow-only set: ``add x``; ``read`` returns the whole set."""
    name = "set"
    fs = ("add", "read")

    @property
    def init(self):
        return frozenset()

    def prepare(self, f, value, status):
        if f == "add":
            x = freeze(value)
            return lambda s: s | {x}
        if f == "read":
            if status != "ok":
                return None
            want = frozenset(freeze(value) or ())
            return lambda s: s if s == want else ILLEGAL
        raise self._unknown(f)

    def describe(self, state):
        return "{" + ", ".join(sorted(map(repr, state))) + "}"


class Queue(Model):
    """A FIFO queue: ``enqueue x``; ``dequeue`` returns the head (``None`` when empty)."""
    name = "queue"
    fs = ("enqueue", "dequeue")

    @property
    def init(self):
        return ()

    def prepare(self, f, value, status):
        if f == "enqueue":
            x = freeze(value)
            return lambda s: s + (x,)
        if f == "dequeue":
            if status != "ok":     # it may have removed something: any head will do
                return lambda s: s[1:]
            want = freeze(value)
            if want is None:
                return lambda s: s if not s else ILLEGAL
            return lambda s: s[1:] if s and s[0] == want else ILLEGAL
        raise self._unknown(f)

    def describe(self, state):
        return "[" + ", ".join(map(repr, state)) + "]"


MODELS = {"register": Register, "kv": KeyValue, "set": SetModel, "queue": Queue}


def get_model(model):
    """A model instance from a name ('register', 'kv', 'set', 'queue') or an instance."""
    if isinstance(model, Model):
        return model
    if isinstance(model, type) and issubclass(model, Model):
        return model()
    if model in MODELS:
        return MODELS[model]()
    raise ModelError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
