"""The one key-value state machine: its semantics agree with the linearizability model."""
import pytest

from faultlab.check.models import ILLEGAL, KeyValue, Register
from faultlab.protocols import kv
from faultlab.protocols.kv import KVStore, check_op
from faultlab.protocols.raft_messages import NOOP, Command


def test_unset_keys_read_empty_and_an_unset_register_reads_none():
    store = KVStore()
    assert store.execute("get", "a", None) == ("ok", "")
    assert store.execute("read", None, None) == ("ok", None)


def test_writes_answer_what_they_stored():
    store = KVStore()
    assert store.execute("put", "a", "1") == ("ok", "1")
    assert store.execute("append", "a", "2") == ("ok", "12")      # the whole new value
    assert store.execute("append", "b", "x") == ("ok", "x")
    assert store.execute("write", None, 3) == ("ok", 3)
    assert store.execute("cas", None, [3, 4]) == ("ok", 4)
    assert store.data == {"a": "12", "b": "x", None: 4}


def test_a_cas_that_does_not_match_fails_and_changes_nothing():
    store = KVStore({None: 4})
    status, why = store.execute("cas", None, [3, 5])
    assert status == "fail" and why == "cas failed: expected 3, found 4"
    assert store.data == {None: 4}


@pytest.mark.parametrize("f,value,words", [
    ("incr", 1, "unknown operation 'incr'; this key-value store knows get, put, append, read, write, cas"),
    ("cas", 3, "cas needs a value [expected, new], got 3"),
    ("cas", [1, 2, 3], "cas needs a value [expected, new], got [1, 2, 3]"),
    ("append", 7, "append needs a string value, got 7"),
])
def test_bad_operations_get_one_clear_error_before_and_when_applied(f, value, words):
    assert check_op(f, value) == words
    store = KVStore()
    assert store.execute(f, "k", value) == ("fail", words)
    assert store.data == {}


def test_a_logged_command_is_applied_at_most_once_and_a_noop_changes_nothing():
    store = KVStore()
    assert store.apply(Command(id=7, f="append", key="k", value="a")) == ("ok", "a")
    assert store.apply(Command(id=7, f="append", key="k", value="a")) == ("ok", "a")   # logged twice
    assert store.apply(Command(id=8, f="append", key="k", value="a")) == ("ok", "aa")
    assert store.apply(NOOP) == ("ok", None)
    assert store.data == {"k": "aa"}


def test_a_dict_handed_in_is_the_state():
    """SingleServer keeps its map in durable storage: the store must write through to it."""
    durable = {}
    KVStore(durable).execute("put", "k", "v")
    assert durable == {"k": "v"}


def test_every_operation_the_checker_knows_is_served_and_the_other_way_round():
    assert set(kv.OPS) == set(KeyValue.fs) and set(Register.fs) <= set(kv.OPS)
    assert set(kv.READS) | set(kv.WRITES) == set(kv.OPS) and not set(kv.READS) & set(kv.WRITES)


@pytest.mark.parametrize("ops", [
    [("put", "k", "1"), ("append", "k", "2"), ("get", "k", None), ("append", "j", "x"), ("get", "j", None)],
    [("write", None, 1), ("cas", None, [1, 2]), ("read", None, None), ("cas", None, [1, 3]),
     ("read", None, None)],
])
def test_what_the_store_answers_is_legal_for_the_model(ops):
    """Apply a sequence, then replay its answers through the checker's model: every step is legal."""
    store = KVStore()
    model = KeyValue() if ops[0][1] is not None else Register()
    states: dict = {}
    for f, key, value in ops:
        status, out = store.execute(f, key, value)
        if status != "ok":
            assert f == "cas"
            continue
        step = model.prepare(f, out if f in kv.READS else value, "ok")
        states[key] = step(states.get(key, model.init))
        assert states[key] is not ILLEGAL, (f, key, value, out)
        assert states[key] == store.data.get(key, model.init)
