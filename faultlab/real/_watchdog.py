"""Kill server process groups and remove their directories when the parent process dies.

Runs as a separate process (its own session) started by faultlab.real. The
parent keeps the write end of a pipe to our stdin; the kernel closes it when
the parent dies for any reason, SIGKILL included, so EOF on stdin is the one
reliable signal. Protocol, one command per line: ``+pgid N``, ``-pgid N``,
``+dir PATH``, ``-dir PATH``. Deliberately imports nothing from faultlab.
"""
import os
import shutil
import signal
import sys


def main():
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    pgids, dirs = set(), []
    for line in sys.stdin:
        op, _, arg = line.rstrip("\n").partition(" ")
        if op == "+pgid":
            pgids.add(int(arg))
        elif op == "-pgid":
            pgids.discard(int(arg))
        elif op == "+dir":
            dirs.append(arg)
        elif op == "-dir" and arg in dirs:
            dirs.remove(arg)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
