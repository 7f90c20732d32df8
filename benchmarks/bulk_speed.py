"""Bulk dry run against a plain serial loop of render + fix + re-render, in one run.

    python benchmarks/bulk_speed.py [TREE] [-j N]
    python benchmarks/bulk_speed.py --scale 100 1000 [-j N] [--shards 4]

The baseline fixes each chart in turn in this process, exactly as `chartfix fix` does for one
chart (render every scenario, analyze, plan, render again to verify). The contender is the
bulk path: the same work spread over N worker processes, pool start-up included. Both run
on the same charts in the same run; the script prints their times, charts per second and the
ratio contender/baseline (goal on 2 cores: <= 0.6). Not a test: nothing here asserts a time.

`--scale`: trees of generated charts (copies of the fixture charts, renamed in Chart.yaml),
one per size. On each, `chartfix bulk -j N` as one process, then `--shard i/S` for every i,
one process after another, then `report merge`: an organisation run on one machine. Charts/s
at each size show whether the per-chart cost stays flat as the tree grows; the baseline is
the plain serial loop over the first 100 charts, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from chartfix.commands.fixing import fix_outcome
from chartfix.pipeline import FixRequest
from chartfix.runner import run_parallel
from chartfix.sources.helm.chart import find_charts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=Path("fixtures"))
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scale", type=int, nargs="+", metavar="CHARTS")
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    if args.scale:
        scale(args.tree, args.scale, args.jobs, args.shards)
        return
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


def generate(fixtures: Path, tree: Path, count: int) -> None:
    """`count` charts in `tree`: the fixture charts over and over, each renamed."""
    sources = find_charts([fixtures])
    for i in range(count):
        source = sources[i % len(sources)]
        target = tree / f"{source.name}-{i:04d}"
        shutil.copytree(source, target, symlinks=True)
        chart_yaml = target / "Chart.yaml"
        text = chart_yaml.read_text(encoding="utf-8")
        chart_yaml.write_text(re.sub(r"(?m)^name: .*$", f"name: {target.name}", text, count=1))


def _chartfix(*argv: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "chartfix", *argv], cwd=cwd, env={**os.environ, "CI": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return time.perf_counter() - start


def scale(fixtures: Path, sizes: list[int], jobs: int, shards: int) -> None:
    request = FixRequest()
    with tempfile.TemporaryDirectory(prefix="chartfix-scale-") as scratch:
        base = Path(scratch)
        sample = base / "sample"
        generate(fixtures, sample, min(100, max(sizes)))
        charts = find_charts([sample])
        start = time.perf_counter()
        for chart in charts:
            fix_outcome(chart, request)
        serial = (time.perf_counter() - start) / len(charts)
        print(f"serial render+fix+re-render: {1 / serial:.1f} charts/s ({len(charts)} charts)")
        for size in sizes:
            tree = base / f"tree-{size}"
            generate(fixtures, tree, size)
            one = _chartfix("bulk", tree.name, "-j", str(jobs), "--report", "one.json", cwd=base)
            sharded = sum(
                _chartfix("bulk", tree.name, "-j", str(jobs), "--shard", f"{i}/{shards}",
                          "--report", f"s{size}-{i}.json", cwd=base)
                for i in range(shards)
            )
            sharded += _chartfix(
                "report", "merge", *(f"s{size}-{i}.json" for i in range(shards)),
                "-o", "merged.json", cwd=base,
            )
            same = _charts(base / "one.json") == _charts(base / "merged.json")
            print(
                f"{size} charts: bulk -j {jobs} {one:.1f} s ({size / one:.1f} charts/s, "
                f"{one / size / serial:.2f} x serial per chart); {shards} shards one after "
                f"another + merge {sharded:.1f} s ({size / sharded:.1f} charts/s, "
                f"{sharded / size / serial:.2f} x serial); same report: {same}"
            )


def _charts(report: Path) -> list[object]:
    return list(json.loads(report.read_text(encoding="utf-8"))["charts"])


if __name__ == "__main__":
    main()
