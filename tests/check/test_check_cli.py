"""`faultlab check FILE`: verdicts, exit codes and bad-input messages."""
import subprocess
import sys
from pathlib import Path

import pytest

from faultlab import nemesis
from faultlab.cli import main
from faultlab.protocols import single

DATA = Path(__file__).parent / "data"


def check(capsys, *argv):
    code = main(["check", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name,model,code,words", [
    ("register-ok.log", "register", 0, "linearizable: found a legal order"),
    ("register-bad.log", "register", 1, "not linearizable: #2 process 2's read → 1"),
    ("kv-ok.edn", "kv", 0, "over 2 keys"),
    ("kv-bad.edn", "kv", 1, "key 'x'"),
    ("kv-independent-bad.log", "kv", 1, "key 5"),
    ("register-bad-vector.edn", "register", 1, "process 3's read → 1"),
])
def test_verdicts_and_exit_codes(capsys, name, model, code, words):
    got, out, err = check(capsys, DATA / name, "--model", model)
    assert got == code, err
    assert words in out and not err


@pytest.mark.parametrize("name,argv,words", [
    ("bad-malformed.edn", [], "bad-malformed.edn: line 2: malformed EDN"),
    ("bad-vector-unclosed.edn", [], "line 3: malformed EDN"),
    ("bad-orphan-completion.log", [], "line 3: :ok for process 3 without a matching :invoke"),
    ("bad-unknown-type.edn", [], "line 2: unknown event type :done"),
    ("bad-unknown-op.edn", [], "line 3: operation at event 2 (frobnicate by process 1)"),
    ("register-ok.log", ["--model", "kv"], "line 1: the kv model needs a key"),
    ("kv-ok.edn", ["--model", "register"], "line 2: operation at event 0 (put by process 0)"),
    ("register-ok.log", ["--format", "edn"], "line 1: expected one map per line"),
    ("missing-file.edn", [], "cannot read"),
])
def test_bad_input_exits_3_and_names_the_line(capsys, name, argv, words):
    code, out, err = check(capsys, DATA / name, *argv)
    assert code == 3
    assert words in err and "bad input" in err and not out


@pytest.mark.parametrize("argv", [["--timeout", "-1"], ["--timeout", "soon"], ["--model", "tree"]])
def test_bad_options_exit_3(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        main(["check", str(DATA / "register-ok.log"), *argv])
    assert stop.value.code == 3
    assert "error:" in capsys.readouterr().err


def test_initial_value_of_unwritten_keys(capsys, tmp_path):
    path = tmp_path / "nil.edn"
    path.write_text('{:process 0, :type :invoke, :f :read, :value nil, :key 1}\n'
                    '{:process 0, :type :ok, :f :read, :value nil, :key 1}\n')
    assert check(capsys, path, "--model", "kv")[0] == 1              # unwritten keys read ""
    assert check(capsys, path, "--model", "kv", "--initial", "nil")[0] == 0
    assert check(capsys, DATA / "register-bad.log", "--initial", "0")[0] == 1
    with pytest.raises(SystemExit) as stop:
        main(["check", str(path), "--initial", "[1"])
    assert stop.value.code == 3
    code, _, err = check(capsys, path, "--model", "set", "--initial", "1")
    assert code == 3 and "--initial applies to" in err


def test_empty_file_is_bad_input(capsys, tmp_path):
    empty = tmp_path / "empty.edn"
    empty.write_text("; nothing here\n")
    code, _, err = check(capsys, empty)
    assert code == 3 and "no client operations" in err


def test_a_history_where_nothing_returned_ok_answers_unknown(capsys, tmp_path):
    path = tmp_path / "no-ok.edn"
    path.write_text('{:process 0, :type :invoke, :f :write, :value 1}\n'
                    '{:process 0, :type :fail, :f :write, :value 1}\n'
                    '{:process 1, :type :invoke, :f :read, :value nil}\n'
                    '{:process 1, :type :info, :f :read, :value nil}\n')
    code, out, err = check(capsys, path)
    assert code == 2 and not err and out.startswith("no completed operations")


def test_timeout_answers_unknown(capsys, tmp_path):
    # timed-out appends of distinct letters, then a read no order of them explains
    lines = [f'{{:process {p}, :type :invoke, :f :append, :value "{c}", :key "k"}}'
             for p, c in enumerate("abcdefghijklm")]
    lines += [f'{{:process {p}, :type :info, :f :append, :value "{c}", :key "k"}}'
              for p, c in enumerate("abcdefghijklm")]
    lines += ['{:process 99, :type :invoke, :f :get, :value nil, :key "k"}',
              '{:process 99, :type :ok, :f :get, :value "zz", :key "k"}']
    path = tmp_path / "maze.edn"
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = check(capsys, path, "--model", "kv", "--timeout", "0.3")
    assert code == 2 and out.startswith("unknown: the time limit ran out")


def test_json_histories_from_the_simulator(capsys, tmp_path):
    good = single.build(seed=4, clients=4, stop=3000)
    bad = single.build(seed=4, broken=True, clients=4, stop=3000)
    for world in (good, bad):
        world.schedule([(730, nemesis.Crash("n1")), (1000, nemesis.Restart("n1")),
                        (2070, nemesis.Crash("leader")), (2500, nemesis.Restart("*"))])
        world.run(until=3500)
    for world, code in ((good, 0), (bad, 1)):
        path = tmp_path / "h.jsonl"
        path.write_text(world.history.to_jsonl())
        assert check(capsys, path, "--format", "json")[0] == code
        assert check(capsys, path)[0] == code               # auto-detected


def test_stdin_and_the_installed_command():
    text = (DATA / "register-bad.log").read_text()
    proc = subprocess.run([sys.executable, "-m", "faultlab.cli", "check", "-", "--model", "register"],
                          input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("not linearizable")
