"""`chartfix fix`: fix the charts under PATH..., then print, write or commit the result."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from chartfix.apply import Outcome, RunSummary, print_dry_run, report, write_change
from chartfix.diff import chart_diff
from chartfix.errors import ChartError, UsageError
from chartfix.pipeline import FixRequest, fix_chart, select_recipes
from chartfix.runner import run_parallel
from chartfix.targets import find_targets, is_cdk8s_app
from chartfix.write import recover


def request_from(args: argparse.Namespace) -> FixRequest:
    components = []
    for item in args.component:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"--component takes WORKLOAD=VALUE, not {item!r}")
        components.append((name, value))
    return FixRequest(
        recipes=tuple(args.recipe),
        values_files=tuple(args.values),
        set_values=tuple(args.set),
        components=tuple(components),
        label_jobs=args.label_jobs,
        release=args.release,
        namespace=args.namespace,
    )


def check_mode(args: argparse.Namespace) -> None:
    """Flag combinations that make no sense are usage errors (exit 2), before any work."""
    if args.push and not args.branch:
        raise UsageError("--push needs --branch")
    if args.open_pr and not args.push:
        raise UsageError("--open-pr needs --push")


def fix_outcome(root: Path, request: FixRequest) -> Outcome:
    """One chart (or cdk8s app), never raising for a bad one: the error travels in the
    outcome."""
    try:
        recovered = recover(root)  # a --write that a kill interrupted: finish it first
        if is_cdk8s_app(root):
            from chartfix.cdk8s import fix_app

            change = fix_app(root)
        else:
            change = fix_chart(root, request)
        if recovered:
            change.notes.insert(0, recovered)
        return Outcome(root, change=change)
    except ChartError as err:
        return Outcome(root, error=err)


def crashed(root: Path, error: BaseException) -> Outcome:
    """A chart on which chartfix itself failed (a bug, a dead worker): its error line."""
    reason = f"chartfix failed ({type(error).__name__}: {error})"
    return Outcome(root, error=ChartError(root, reason))


def fix_all(
    charts: Sequence[Path], request: FixRequest, jobs: int | None
) -> list[Outcome]:
    work = partial(fix_outcome, request=request)
    return list(run_parallel(work, charts, jobs, on_crash=crashed))


def run_fix(args: argparse.Namespace) -> int:
    check_mode(args)
    request = request_from(args)
    select_recipes(request.recipes)
    charts = find_targets(args.paths)
    if not charts:
        raise UsageError(
            f"no chart (Chart.yaml) or cdk8s app under {', '.join(map(str, args.paths))}"
        )
    outcomes = fix_all(charts, request, args.jobs)
    return finish(outcomes, args)


def apply_outcomes(outcomes: list[Outcome], args: argparse.Namespace) -> bool:
    """Write or commit the verified changes as asked; True when something was written."""
    if args.branch:
        from chartfix.publish import publish

        publish(outcomes, args)
        return True
    if args.write:
        for outcome in outcomes:
            if outcome.change is not None and outcome.change.files:
                try:
                    write_change(outcome.change)
                except ChartError as err:
                    outcome.error = err
        return True
    if args.pr_body:
        from chartfix.publish import write_pr_body

        write_pr_body(outcomes, args)
    return False


def finish(outcomes: list[Outcome], args: argparse.Namespace) -> int:
    """Apply the changes, print what happened, return the exit status."""
    written = apply_outcomes(outcomes, args)
    if written:  # what was written or committed: with --branch, the note and bump too
        diffs = [
            o.committed_diff if o.committed_diff is not None else chart_diff(o.change)
            for o in outcomes if o.change
        ]
        report(outcomes, sys.stderr, diffs, True)
    else:
        print_dry_run(outcomes)
    return RunSummary(outcomes).exit_status
