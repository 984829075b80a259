"""Jepsen / Knossos EDN histories: reading both line forms, writing them back, clear errors."""
from pathlib import Path

import pytest

from faultlab.check import edn, linearizable
from faultlab.check.edn import HistoryFormatError, Keyword
from faultlab.protocols import single
from faultlab.workloads import kv_workload

DATA = Path(__file__).parent / "data"


def test_read_values_covers_the_edn_that_histories_use():
    text = r'nil true false -3 2.5 1e3 7N "a \"q\" \n" :timed-out :f/x sym [1 [2]] (3 4) {:a 1} #{1 2} #_ 9 #inst "x"'
    v = edn.read_values(text)
    assert v[:7] == [None, True, False, -3, 2.5, 1000.0, 7]
    assert v[7] == 'a "q" \n'
    assert v[8] == "timed-out" and isinstance(v[8], Keyword) and repr(v[8]) == ":timed-out"
    assert v[9] == "f/x" and v[10] == "sym"
    assert v[11:15] == [[1, [2]], [3, 4], {"a": 1}, {1, 2}]
    assert v[15:] == ["x"]                       # #_ discards, a tag keeps its value


@pytest.mark.parametrize("bad", ["[1 2", "[1 2)", "{:a}", "1.2.3x", ")"])
def test_read_values_rejects_malformed_text(bad):
    with pytest.raises(ValueError):
        edn.read_values(bad)


def test_map_form_reads_keys_times_and_errors():
    h = edn.load(DATA / "kv-ok.edn")
    first = h[0]
    assert (first.type, first.process, first.f, first.value, first.key) == ("invoke", 0, "put", "a", "x")
    assert first.time == pytest.approx(1.0)          # 1,000,000 ns = 1 ms
    assert linearizable(h, "kv").ok


def test_log_form_reads_jepsen_logger_lines():
    h = edn.load(DATA / "register-ok.log")
    assert [ev.process for ev in h] == [0, 0, 1, 2, 1, 2, 2, 2, 3, 3, 4, 4]   # nemesis, core lines skipped
    cas = h[4]
    assert (cas.type, cas.f, cas.value, cas.error) == ("info", "cas", [1, 2], "timed-out")
    read_timeout = h[11]
    assert read_timeout.type == "info" and read_timeout.error == "timed-out"   # :fail :read :timed-out
    assert h[9].type == "fail" and h[9].value == 4
    r = linearizable(h)
    assert r.ok                                       # needs the timed-out cas to take effect late
    assert 1 in r.evidence["order"][None]


def test_map_form_in_jepsen_key_order_with_index_and_nemesis():
    text = ("{:type :invoke, :f :read, :value nil, :process 0, :time 2316829, :index 0}\n"
            "{:type :info, :f :start, :value nil, :process :nemesis, :time 2400000, :index 1}\n"
            "{:type :ok, :f :read, :value 3, :process 0, :time 3316829, :index 2}\n")
    h = edn.loads(text)
    assert [(ev.type, ev.process, ev.value, ev.index) for ev in h] == [("invoke", 0, None, 0), ("ok", 0, 3, 1)]
    assert h[1].time == pytest.approx(3.316829)


def test_one_vector_of_maps_over_many_lines():
    h = edn.load(DATA / "register-bad-vector.edn")
    assert len(h) == 8 and h[2].value == 7             # the read's guess at invocation is kept...
    r = linearizable(h)
    assert r.verdict == "violated"                     # ...but its completion is what it observed
    stuck = h.operations()[r.evidence["stuck"][None]]
    assert (stuck.process, stuck.f, stuck.complete.value) == (3, "read", 1)
    again = edn.loads(edn.dumps(h))                    # written back one map per line
    assert again.events == h.events


def test_log_form_without_prefix_and_with_timestamps():
    text = ("3 :invoke :cas [1 4]\n"
            "2017-05-11 15:01:15,453{GMT}\tINFO\t[jepsen worker 3] jepsen.util: 3\t:fail\t:cas\t[1 4]\n")
    h = edn.loads(text)
    assert [(ev.type, ev.value) for ev in h] == [("invoke", [1, 4]), ("fail", [1, 4])]


def test_auto_detects_the_format():
    assert edn.detect_format("\n{:process 0}") == "edn"
    assert edn.detect_format('{"process": 0}') == "json"
    assert edn.detect_format("INFO  jepsen.util - 3 :invoke :read nil") == "jepsen"


def _sim_history():
    world = single.build(seed=3, workload=kv_workload(), clients=3, stop=600)
    world.at(200, world.crash, "n1")
    world.at(450, world.restart, "n1")
    world.run(until=900)
    return world.history


@pytest.mark.parametrize("form", ["edn", "jepsen"])
def test_simulated_history_round_trips(form):
    h = _sim_history()
    assert any(ev.type == "info" for ev in h)
    text = edn.dumps(h, form)
    back = edn.loads(text)
    if form == "jepsen":                               # no keys or times in the log form
        back = edn.unwrap_independent(back)
        assert [(e.type, e.process, e.f, e.value, e.key) for e in back] == \
               [(e.type, e.process, e.f, e.value, e.key) for e in h]
    else:
        assert [(e.type, e.process, e.f, e.value, e.key, e.error) for e in back] == \
               [(e.type, e.process, e.f, e.value, e.key, e.error) for e in h]
        assert [e.time for e in back] == pytest.approx([e.time for e in h], abs=1e-6)
    assert edn.dumps(back, form) == text               # written back: the same text
    assert linearizable(back, "kv").verdict == linearizable(h, "kv").verdict == "ok"


@pytest.mark.parametrize("name", ["register-ok.log", "register-bad.log", "kv-ok.edn", "kv-bad.edn"])
def test_files_read_checked_and_written_back_round_trip(name):
    h = edn.load(DATA / name)
    model = "kv" if name.startswith("kv") else "register"
    verdict = linearizable(h, model).verdict
    form = "jepsen" if name.endswith(".log") else "edn"
    text = edn.dumps(h, form)
    again = edn.loads(text)
    assert edn.dumps(again, form) == text
    assert again.events == h.events
    assert linearizable(again, model).verdict == verdict
    assert verdict == ("ok" if "-ok" in name else "violated")


def test_json_is_faultlab_jsonl():
    h = _sim_history()
    assert edn.loads(h.to_jsonl(), "json").events == h.events
    assert edn.dumps(h, "json") == h.to_jsonl()


def test_independent_values_become_keys():
    h = edn.unwrap_independent(edn.load(DATA / "kv-independent-bad.log"))
    assert [ev.key for ev in h] == [5, 5, 6, 6, 5, 5]
    r = linearizable(h, "kv")
    assert r.verdict == "violated" and [v["key"] for v in r.violations] == [5]


@pytest.mark.parametrize("name,line,words", [
    ("bad-malformed.edn", 2, "never closed"),
    ("bad-orphan-completion.log", 3, "without a matching :invoke"),
    ("bad-unknown-type.edn", 2, "unknown event type :done"),
    ("bad-vector-unclosed.edn", 3, "'{' at line 3 is closed by ']'"),
])
def test_bad_files_name_the_line(name, line, words):
    with pytest.raises(HistoryFormatError) as err:
        edn.load(DATA / name)
    assert err.value.line == line
    assert f"line {line}:" in str(err.value) and words in str(err.value)
    assert name in str(err.value)


@pytest.mark.parametrize("text,words", [
    ("{:process 0, :type :invoke}\n", "missing :f"),
    ("{:process 0} {:f :read}\n", "one map per line"),
    ("{:process 0, :type :invoke, :f :read, :time :soon}\n", ":time must be a number"),
    ("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :invoke, :f :read}\n", "invokes again"),
    ("3 :invoke\n", "expected 'PROCESS :TYPE :F VALUE"),
    ("3 :invoke 7 nil\n", ":f must be a keyword"),
])
def test_malformed_events_are_explained(text, words):
    with pytest.raises(HistoryFormatError, match=words):
        edn.loads(text)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="choose one of auto, edn, jepsen, json"):
        edn.loads("", "yaml")
