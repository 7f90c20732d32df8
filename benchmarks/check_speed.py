"""How fast is `chartfix check -j N` next to rendering every chart serially?

    python benchmarks/check_speed.py [TREE] [--jobs N] [--pool process|thread]

(a) a plain serial render of every chart and scenario: `helm template` per chart and
    scenario when helm is on PATH, else Helm's engine through helm-python-sdk, serially:
    the chart archive (dependencies staged from siblings, as `helm dependency build` would
    vendor them) loaded and rendered, no YAML parsing, no analysis;
(b) `chartfix check -j N --format json` on the same tree, called in-process (`run_check`),
    including the worker pool's start-up.

Both run in the same process, (a) first (so (b) cannot profit from anything (a) warmed
but the OS file cache, which (a) warms for both). Prints both times, the ratio b/a and, from
(b)'s JSON, how many charts had findings per rule.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import helm_python

from chartfix import runner
from chartfix.commands.checking import CheckOptions, run_check
from chartfix.errors import TargetError
from chartfix.sources.helm.chart import find_charts, load_chart, scenarios
from chartfix.sources.helm.dependencies import stage
from chartfix.sources.helm.render import scenario_values


def serial_render(charts: list[Path]) -> tuple[float, int, int]:
    """Seconds for (a), renders done, renders that failed."""
    helm = shutil.which("helm")
    done = failed = 0
    start = time.perf_counter()
    for root in charts:
        try:
            chart = load_chart(root)
            cases = scenarios(chart)
        except TargetError:
            failed += 1
            continue
        for scenario in cases:
            done += 1
            if helm:
                argv = [helm, "template", "release-name", str(root)]
                for values in scenario.values_files:
                    argv += ["--values", str(values)]
                if subprocess.run(argv, capture_output=True, check=False).returncode:
                    failed += 1
                continue
            try:  # load and render, as `helm template` does: nothing kept between renders
                archive = stage(chart).archive_with(None)
                with helm_python.Chart.load_archive(archive) as loaded:
                    loaded.render(
                        values=scenario_values(scenario), name="release-name",
                        namespace="default", is_install=True,
                    )
            except Exception:  # a chart Helm refuses still cost its render time
                failed += 1
    return time.perf_counter() - start, done, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=Path("fixtures"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pool", choices=("process", "thread"), default=None)
    args = parser.parse_args()
    if args.pool:
        os.environ["CHARTFIX_POOL"] = args.pool

    charts = find_charts([args.tree])
    a, renders, failed = serial_render(charts)
    print(f"(a) serial render: {len(charts)} charts, {renders} renders ({failed} failed): "
          f"{a:.2f} s")

    out = io.StringIO()
    start = time.perf_counter()
    status = run_check([args.tree], CheckOptions(fmt="json", jobs=args.jobs), out)
    b = time.perf_counter() - start
    runner.shutdown()
    report = json.loads(out.getvalue())
    errors = sum(1 for c in report["charts"] if c["error"])
    pool = os.environ.get("CHARTFIX_POOL", runner.DEFAULT_KIND)
    print(f"(b) chartfix check -j {args.jobs} ({pool} pool, in-process run_check): {b:.2f} s, "
          f"exit {status}, {errors} charts could not be processed")
    print(f"ratio b/a = {b / a:.2f}")

    per_rule: Counter[str] = Counter()
    for chart in report["charts"]:
        for rule in {f["rule"] for f in chart["findings"]}:
            per_rule[rule] += 1
    with_findings = sum(1 for c in report["charts"] if c["findings"])
    print(f"charts with findings: {with_findings} of {len(report['charts'])}")
    for rule, count in sorted(per_rule.items()):
        print(f"  {rule}: {count} charts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
