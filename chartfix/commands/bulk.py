"""`chartfix bulk`: every chart under some roots, or in many repositories, in one run.

Charts are processed in parallel; one chart's failure never stops the others. `--shard I/N`
picks charts by a hash of their identity, so N machines (a CI matrix, an indexed Kubernetes
Job's completion index) split the work without talking to each other, and `chartfix report
merge` joins their reports. A re-run with the same `--report` skips charts recorded as done
whose files have not changed since, and retries the rest. Exit status as `fix`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chartfix.commands import options

HELP = "fix every chart under roots or in many repos"


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "roots", nargs="*", type=Path, metavar="ROOT",
        help="a folder searched for targets (a monorepo, a folder of checkouts); or --repos",
    )
    parser.add_argument("--repos", type=Path, help="file listing git repositories (paths or URLs)")
    parser.add_argument("--workdir", type=Path, help="where --repos clones go (reused on re-runs)")
    options.add_fix_args(parser)
    options.add_jobs(parser)
    options.add_output_args(parser)
    parser.add_argument(
        "--shard", metavar="I/N|auto",
        help="process only the I-th (0-based) of N deterministic shares; auto: I from "
        "JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), N from CHARTFIX_SHARDS",
    )
    parser.add_argument("--report", type=Path, help="write a JSON report to FILE")
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="write the report as one HTML page to FILE"
    )
    parser.add_argument(
        "--branch-per-chart", action="store_true", help="one branch per chart, not per repo"
    )
    parser.add_argument("--pr-body-dir", type=Path, help="write one PR description per branch")


def run(args: argparse.Namespace) -> int:
    from chartfix.commands.bulking import BulkOptions, run_bulk
    from chartfix.commands.fixing import fix_options

    chosen = fix_options(
        args, args.roots, pr_body_dir=args.pr_body_dir, branch_per_chart=args.branch_per_chart
    )
    return run_bulk(BulkOptions(
        chosen, tuple(args.roots), args.repos, args.workdir, args.shard, args.report, args.html,
    ))
