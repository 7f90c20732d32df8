"""`chartfix check`: render every chart under every scenario, run the rules, report.

Exit status, as `helm lint`'s: 0 when no finding is an error, 1 when some is (with
`--strict`, warnings too: warning findings and suppressions that match nothing), 2 when any
chart could not be processed, even if other charts had findings (a CI job must not pass over
a chart it never checked). Suppressed findings count for nothing.
"""

from __future__ import annotations

import argparse
import sys

from chartfix.commands import options

HELP = "report selector bugs (no changes)"


def add_args(parser: argparse.ArgumentParser) -> None:
    options.add_paths(parser)
    options.add_render_args(parser)
    parser.add_argument(
        "--format", choices=options.CHECK_FORMATS, default="text",
        help="text for people (default); json for scripts; sarif for code scanning (paths "
        "relative to the repository's top); github: workflow annotations on each finding's "
        "line (::error file=...,line=...::)",
    )
    parser.add_argument(
        "--strict", action="store_true",
        help="fail on warnings too (warning findings, suppressions that match nothing)",
    )
    parser.add_argument(
        "--user-scenarios", action="store_true",
        help="render only the scenarios you wrote (the defaults or your values, ci/ files): "
        "no feature switches and no next-release render (volatile selector labels are then "
        "found by their keys); the fastest check",
    )
    options.add_jobs(parser)
    options.add_output_args(parser)


def run(args: argparse.Namespace) -> int:
    from chartfix.commands.checking import check_options, run_check

    return run_check(args.paths, check_options(args), sys.stdout)
