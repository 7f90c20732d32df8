"""Run a command so that every process it starts ends with it.

Executed as `python _reaper.py COMMAND...` in a child process (synth.py runs a cdk8s app
through it). It makes itself a child subreaper (Linux `prctl(PR_SET_CHILD_SUBREAPER)`, by
ctypes): a process the command starts that leaves it, by a double fork and `setsid`
(a daemon), is re-parented here, not to init. When the command exits, or this process is
told to stop (SIGTERM, SIGINT: chartfix's time limit), every process left below it is
killed and reaped; then it exits with the command's status. Where the kernel has no
subreaper (not Linux), the command runs as it is, and only its process group is ended.
This file must import nothing from chartfix.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from types import FrameType

PR_SET_CHILD_SUBREAPER = 36


class _Stop(Exception):
    """SIGTERM or SIGINT arrived: end the command and everything below it."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def subreaper() -> bool:
    """Make this process a child subreaper; False where the kernel cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def children() -> list[int]:
    """The processes whose parent is this one (read from /proc: no kernel option needed)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def end_all() -> None:
    """Kill every process below this one and reap it, until none is left: a killed
    process's own children are re-parented here, and found on the next round."""
    while True:
        for pid in children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if reaped == 0:  # one re-parented after the listing: the next round kills it
            time.sleep(0.01)


def run(command: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if not subreaper():
        os.execvp(command[0], command)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    status = 1
    try:
        while True:
            done, code = os.waitpid(-1, 0)  # orphans re-parented here are reaped too
            if done == pid:
                status = os.waitstatus_to_exitcode(code)
                break
    except _Stop:
        status = 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        end_all()
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
