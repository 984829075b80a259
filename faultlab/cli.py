"""The ``faultlab`` command. Each subcommand lives in its own module and registers here."""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> module with ``add_arguments(parser)`` and ``run(args) -> int``
SUBCOMMANDS = {
    "doctor": "faultlab.doctor",
    "check": "faultlab.check.cli",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="faultlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, modname in SUBCOMMANDS.items():
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        modules[name] = mod
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(p)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
