"""Bulk dry run against a plain serial loop of render + fix + re-render, in one run.

    python benchmarks/bulk_speed.py [TREE] [-j N]

The baseline fixes each chart in turn in this process, exactly as `chartfix fix` does for one
chart (render every scenario, analyze, plan, render again to verify). The contender is the
bulk path: the same work spread over N worker processes, pool start-up included. Both run
on the same charts in the same run; the script prints their times, charts per second and the
ratio contender/baseline (goal on 2 cores: <= 0.6). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial
from pathlib import Path

from chartfix.chart import find_charts
from chartfix.fixcmd import fix_outcome
from chartfix.pipeline import FixRequest
from chartfix.runner import run_parallel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=Path("fixtures"))
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    charts = find_charts([args.tree])
    request = FixRequest()

    start = time.perf_counter()
    serial = [fix_outcome(chart, request) for chart in charts]
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    parallel = list(run_parallel(partial(fix_outcome, request=request), charts, args.jobs))
    contender = time.perf_counter() - start

    same = sorted(_summary(o) for o in serial) == sorted(_summary(o) for o in parallel)
    errors = sum(1 for o in parallel if o.error)
    fixed = sum(len(o.change.fixed) for o in parallel if o.change)
    print(f"charts: {len(charts)} ({errors} could not be processed), findings fixable: {fixed}")
    print(f"serial render+fix+re-render: {baseline:.2f} s ({len(charts) / baseline:.1f} charts/s)")
    print(
        f"chartfix bulk -j {args.jobs}:          {contender:.2f} s "
        f"({len(charts) / contender:.1f} charts/s)"
    )
    print(f"ratio bulk/serial: {contender / baseline:.2f} (goal <= 0.6); same results: {same}")


def _summary(outcome: object) -> tuple[str, int, int, str]:
    change = getattr(outcome, "change", None)
    error = getattr(outcome, "error", None)
    return (
        str(getattr(outcome, "root", "")),
        len(change.fixed) if change else -1,
        len(change.unfixed) if change else -1,
        str(error or ""),
    )


if __name__ == "__main__":
    main()
