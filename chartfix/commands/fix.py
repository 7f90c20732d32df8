"""`chartfix fix`: fix the charts under PATH..., then print, write or commit the result.

Exit status: 0 when every finding was fixed (in a dry run: is fixable), 1 when some finding is
left, 2 when a chart could not be processed or the command was misused.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from chartfix.commands import options

if TYPE_CHECKING:
    from chartfix.commands.fixing import FixOptions
    from chartfix.publish.apply import Outcome

HELP = "fix selector bugs (dry run by default)"
FORMATS = ("text", "json")


def add_args(parser: argparse.ArgumentParser) -> None:
    options.add_paths(parser)
    options.add_fix_args(parser)
    parser.add_argument(
        "--format", choices=FORMATS, default="text",
        help="text: the patch on stdout, what it fixes on stderr (default); json: one JSON "
        "document on stdout, per target the patch, its fix units (what each changes, its "
        "applicability, the findings it fixes), the findings left and why (docs/output.md)",
    )
    options.add_jobs(parser)
    options.add_output_args(parser)


def run(args: argparse.Namespace) -> int:
    from chartfix.commands.fixing import check_components, fix_all, fix_options
    from chartfix.errors import UsageError
    from chartfix.pipeline import select_recipes
    from chartfix.sources.targets import find_targets, nothing_found

    chosen = fix_options(args, args.paths)
    select_recipes(chosen.request.recipes)
    charts = find_targets(args.paths)
    if not charts:
        raise UsageError(nothing_found(args.paths))
    outcomes = fix_all(charts, chosen)
    check_components(chosen.request, outcomes)
    return finish(outcomes, chosen, args.format)


def finish(outcomes: list[Outcome], chosen: FixOptions, fmt: str = "text") -> int:
    """Apply the changes, print what happened, return the exit status. `fmt` json: the JSON
    document on stdout; what happened still on stderr."""
    from chartfix.commands.fixing import apply_outcomes
    from chartfix.publish.apply import RunSummary, print_dry_run, report
    from chartfix.publish.diff import chart_diff

    written = apply_outcomes(outcomes, chosen.publish)
    if not written and fmt == "text":
        print_dry_run(outcomes, quiet=chosen.quiet)  # the patch on stdout, the rest on stderr
        return RunSummary(outcomes).exit_status
    if written:  # what was written or committed: with --branch, the note and bump too
        diffs = [
            o.committed_diff if o.committed_diff is not None else chart_diff(o.change)
            for o in outcomes if o.change and o.landed and o.branch_state != "unchanged"
        ]  # a branch that held this fix already: nothing changed by this run
    else:
        diffs = [chart_diff(o.change) for o in outcomes if o.change and o.error is None]
    report(outcomes, sys.stderr, diffs, written, quiet=chosen.quiet)
    if fmt == "json":
        from chartfix.publish.output.fix_json import write_fix_json

        write_fix_json(outcomes, chosen.request.mode, sys.stdout)
    return RunSummary(outcomes).exit_status

