"""Check a recorded history for linearizability (Jepsen EDN or log lines, or faultlab JSONL).

Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (time or memory ran
out, or no operation returned ok), 3 bad input (unreadable file, malformed line,
unknown operation...).
"""
from __future__ import annotations

import sys

from .edn import FORMATS, HistoryFormatError, loads_with_lines, unwrap_independent
from .models import MODELS, ModelError

EXIT = {"ok": 0, "violated": 1, "unknown": 2}
BAD_INPUT = 3


def _positive_seconds(text):
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--timeout needs a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--timeout must be more than 0 seconds, got {text}")
    return value


def _edn_value(text):
    import argparse

    from .edn import read_values
    try:
        values = read_values(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--initial needs one EDN value, got {text!r} ({e})") from None
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"--initial needs one EDN value such as nil or \"\", got {text!r}")
    return values


def add_arguments(parser):
    parser.add_argument("file", help="the history file ('-' reads standard input)")
    parser.add_argument("--model", choices=sorted(MODELS), default="register",
                        help="what the history operates on (default: register; kv is checked key by key)")
    parser.add_argument("--format", choices=FORMATS, default="auto",
                        help="edn: one {:process .. :type .. :f .. :value ..} map per line; "
                             "jepsen: Jepsen log lines like '3 :invoke :cas [1 4]'; json: faultlab JSONL "
                             "(History.to_jsonl); auto (default) guesses from the first line")
    parser.add_argument("--timeout", type=_positive_seconds, default=None, metavar="S",
                        help="give up after S seconds and answer unknown (exit 2)")
    parser.add_argument("--initial", type=_edn_value, default=None, metavar="EDN",
                        help="what an unwritten register or key reads, as EDN: nil, \"\", 0... "
                             "(default: nil for register, \"\" for kv)")

    def error(message):          # usage errors are bad input too: exit 3, not argparse's 2 (= unknown)
        parser.print_usage(sys.stderr)
        parser.exit(BAD_INPUT, f"{parser.prog}: error: {message}\n")
    parser.error = error


def _bad(message):
    print(f"faultlab check: bad input: {message}", file=sys.stderr)
    return BAD_INPUT


def run(args) -> int:
    from .linearizability import linearizable
    source = "<stdin>" if args.file == "-" else args.file
    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        return _bad(f"cannot read {source}: {e}")
    try:
        history, lines = loads_with_lines(text, args.format, source=source)
        if args.model == "kv" and len(history) and all(ev.key is None for ev in history):
            history = unwrap_independent(history, lines)      # Jepsen "independent" [key value] pairs
    except HistoryFormatError as e:
        if e.source is None:
            e = HistoryFormatError(e.line, e.problem, source)
        return _bad(f"{e}. Fix that line, or pick the right --format / --model.")
    if not len(history):
        return _bad(f"{source} holds no client operations")
    try:
        model = MODELS[args.model]
        initial = getattr(args, "initial", None)
        if initial is not None:
            if args.model not in ("register", "kv"):
                return _bad(f"--initial applies to the register and kv models, not {args.model}")
            model = model(initial=initial[0])
        result = linearizable(history, model() if isinstance(model, type) else model,
                              timeout=args.timeout)
    except ModelError as e:
        where = f"{source}: line {lines[e.event]}: " if e.event is not None else f"{source}: "
        return _bad(f"{where}{e}")
    print(result.explanation)
    return EXIT[result.verdict]
