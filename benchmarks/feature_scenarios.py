"""What do feature scenarios (objects behind off-by-default switches) add, and what do they cost?

    python benchmarks/feature_scenarios.py TREE... [--json FILE]

For each TREE, in one run:
1. `chartfix check TREE -j 1` with feature scenarios and with `--no-features`, each in a
   fresh process, alternating (`--rounds N`: the best of N each): the ratio is the cost of
   the feature renders;
2. per chart: feature scenarios rendered (renders spent; a scenario that needed values made
   up costs more renders, counted apart), objects they added beyond the first scenario, and
   the findings seen only there (new findings);
3. `fix_target` (a dry run, the default route) on each chart with such findings: how many
   of them the fix covers.

Not a test: nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chartfix.commands.checking import CheckOptions, check_all
from chartfix.errors import TargetError
from chartfix.model.objects import is_feature
from chartfix.pipeline import FixRequest, fix_target
from chartfix.sources.base import DEFAULT_FEATURE_RENDERS
from chartfix.sources.targets import find_targets


def _feature_only(findings: Any) -> list[Any]:
    return [f for f in findings if f.scenarios and all(is_feature(s) for s in f.scenarios)]


def timed_check(tree: Path, *flags: str) -> float:
    """Seconds of `chartfix check TREE -j 1` in a fresh process, the result cache off (as a
    user meets a tree the first time)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "chartfix", "check", str(tree), "-j", "1", "--format", "json",
         *flags], capture_output=True, check=False, env={**os.environ, "CHARTFIX_NO_CACHE": "1"},
    )
    return time.perf_counter() - started


def measure(tree: Path, rounds: int = 1) -> dict[str, Any]:
    charts = find_targets([tree])
    plain_time = feature_time = float("inf")
    for _ in range(rounds):  # alternating, the best of each: the machine's load varies
        plain_time = min(plain_time, timed_check(tree, "--no-features"))
        feature_time = min(feature_time, timed_check(tree))
    plain = check_all(charts, CheckOptions(jobs=1, features=0))
    reports = check_all(charts, CheckOptions(jobs=1, features=DEFAULT_FEATURE_RENDERS))
    per_chart = []
    for report in reports:
        if report.error is not None:
            continue
        new = _feature_only(report.findings)
        synthesized = [s for s in report.synthesized if is_feature(s)]
        per_chart.append({
            "chart": report.root.name,
            "renders": len(report.features) + len([s for s in report.unrendered if is_feature(s)]),
            "with_made_up_values": len(synthesized),
            "objects_added": sum(report.features.values()),
            "new_findings": [f"{f.severity} {f.rule} {f.obj} [{', '.join(f.scenarios)}]"
                             for f in new],
            "new_errors": sum(1 for f in new if f.severity == "error"),
        })
    for entry, report in zip(
        per_chart, [r for r in reports if r.error is None], strict=True
    ):
        if not entry["new_errors"]:
            continue
        try:
            change = fix_target(report.root, FixRequest())
        except TargetError as err:
            entry["fix_error"] = str(err)
            continue
        keys = {(f.rule, f.obj) for f in _feature_only(report.findings)}
        entry["new_fixed"] = sum(1 for f in change.fixed if (f.rule, f.obj) in keys)
        entry["new_left"] = [
            f"{u.finding.rule} {u.finding.obj}: {u.reason}" for u in change.unfixed
            if (u.finding.rule, u.finding.obj) in keys
        ]
    return {
        "tree": str(tree),
        "charts": len(charts),
        "check_seconds_no_features": round(plain_time, 1),
        "check_seconds_features": round(feature_time, 1),
        "ratio": round(feature_time / plain_time, 2) if plain_time else None,
        "errors_no_features": sum(r.errors for r in plain),
        "errors_features": sum(r.errors for r in reports),
        "switches": sum(e["renders"] for e in per_chart),
        "charts_with_switches": sum(1 for e in per_chart if e["renders"]),
        "objects_added": sum(e["objects_added"] for e in per_chart),
        "new_errors": sum(e["new_errors"] for e in per_chart),
        "new_fixed": sum(e.get("new_fixed", 0) for e in per_chart),
        "per_chart": [e for e in per_chart if e["renders"]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rounds", type=int, default=1, help="timed check runs per setting")
    args = parser.parse_args()
    results = []
    for tree in args.trees:
        result = measure(tree, args.rounds)
        results.append(result)
        print(
            f"{tree}: {result['charts']} charts, {result['charts_with_switches']} with "
            f"switches; {result['switches']} feature scenarios rendered, "
            f"{result['objects_added']} objects added, {result['new_errors']} new errors, "
            f"{result['new_fixed']} fixed; check {result['check_seconds_no_features']}s "
            f"without, {result['check_seconds_features']}s with (x{result['ratio']})",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
