"""The command line: check, fix, bulk, recipes, rule, report (merge and html, for bulk
reports).

Exit status: `check` 0 when no finding is an error (with --strict: no finding at all, and no
unused suppression), 1 otherwise; `fix`/`bulk` 0 every finding fixed (dry run: fixable), 1
some finding left; all commands 2 when a chart could not be processed or the command was
misused.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from chartfix.commands import build_parser, command
from chartfix.commands.options import set_environment
from chartfix.errors import ChartError, UsageError


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
    args = build_parser().parse_args(argv)
    set_environment(args)
    try:
        return command(args.command).run(args)
    except UsageError as err:
        print(f"chartfix: {err}", file=sys.stderr)
        return 2
    except ChartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # quietly: no traceback, no worker left running
        from chartfix.runner import abandon

        abandon()
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
