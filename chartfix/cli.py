"""The command line: check, fix, bulk, recipes, rule, report (merge and html, for bulk
reports).

Exit status: `check` 0 when no finding is an error (with --strict: no finding at all, and no
unused suppression), 1 otherwise; `fix`/`bulk` 0 every finding fixed (dry run: fixable), 1
some finding left; all commands 2 when a chart could not be processed or the command was
misused.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import sys
from collections.abc import Sequence

from chartfix.commands import build_parser, command, named
from chartfix.commands.options import set_environment
from chartfix.errors import TargetError, UsageError
from chartfix.terminal import OutputError


def program() -> int:
    """`chartfix` as a program (the console script, `python -m chartfix`): `main` on this
    process's command line, its exit status returned for the process to exit with. What the
    run made is then frozen out of the garbage collector's sight (`gc.freeze`): the process
    ends next, and Python's collections at exit walked every object the run had made (about
    a twentieth of a one-chart check, a tenth of a run the cache answers). Callers that go
    on (tests, scripts) call `main`."""
    status = main()
    gc.freeze()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command with stdout and stderr guarded: a control character from a repository
    (an escape sequence, a carriage return, a bidirectional override) is shown escaped,
    never obeyed by the terminal or CI log (see chartfix.terminal)."""
    from chartfix.terminal import for_terminal

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = for_terminal(out), for_terminal(err)
    try:
        return _command(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _command(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(only=named(words)).parse_args(words)
    set_environment(args)
    try:
        status = command(args.command).run(args)
        sys.stdout.flush()  # a full disk under `> FILE` is said here, not at exit
        return status
    except OutputError as err:
        return _output_failed(err)
    except UsageError as err:
        print(f"chartfix: {err}", file=sys.stderr)
        return 2
    except TargetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # quietly: no traceback, no worker left running
        from chartfix.runner import abandon

        abandon()
        return 130
    except BrokenPipeError:
        if not _reader_gone():
            raise  # a pipe of our own work (a subprocess's input), not our output: a bug
        from chartfix.runner import abandon

        abandon()
        return _stop_writing()


def _output_failed(err: OutputError) -> int:
    """One line on stderr (when it can still take one), exit 2; what is left buffered for
    the failed stream goes to the null device, so that Python's flush at exit says nothing."""
    from chartfix.runner import abandon

    abandon()
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is None:
            continue
        try:
            stream.flush()
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stream.fileno())
            os.close(null)
    with contextlib.suppress(OSError):
        print(f"chartfix: {err}", file=sys.__stderr__, flush=True)
    return 2


SIGPIPE_STATUS = 128 + 13
"""What a shell reports for a process SIGPIPE ended (`git log | head -1`, `yes | head`)."""


def _reader_gone() -> bool:
    """Whether the reader of stdout or stderr went away (`chartfix check | head -1`): the
    write end of a pipe whose read end is closed polls as an error."""
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is None:
            continue
        try:
            poll = select.poll()
            poll.register(stream.fileno(), 0)
            if any(events & select.POLLERR for _, events in poll.poll(0)):
                return True
        except (AttributeError, OSError, ValueError):  # no poll here, or no such stream
            continue
    return False


def _stop_writing() -> int:
    """Stop quietly, as other command-line tools do when their reader has gone: no
    traceback, and no "Exception ignored" when Python flushes the streams at exit (what is
    still buffered for a closed pipe goes to the null device)."""
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is None:
            continue
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stream.fileno())
            os.close(null)
    return SIGPIPE_STATUS


if __name__ == "__main__":
    raise SystemExit(main())
