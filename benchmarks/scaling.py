"""Does fixing a chart scale with its size? Time grows near-linearly, not quadratically.

    python benchmarks/scaling.py [--sizes 200,400,800]

For each size N, a chart of N workloads (big_chart.py: N Deployments, N Services, N hook
Jobs, one overlap and one stray finding per workload) is written to a scratch folder, then
(a) a plain serial render of it (`helm template` when helm is on PATH, else Helm's engine
    through helm-python-sdk, as check_speed.py does), and
(b) `chartfix fix` on it, dry run, one process (`fix_target`: render, analyse, plan, verify;
    the cache off, so that every size does all of its work)
are timed in the same run. Prints both, the ratio b/a, and how much (b) grew from the
previous size: ~2x per doubling is linear, ~4x quadratic.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from big_chart import make_chart
from check_speed import serial_render

from chartfix.pipeline import FixRequest, fix_target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,400,800")
    args = parser.parse_args()
    os.environ["CHARTFIX_NO_CACHE"] = "1"
    previous: float | None = None
    with tempfile.TemporaryDirectory(prefix="chartfix-scaling-") as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            chart = make_chart(Path(scratch) / f"big{size}", size)
            a, _, failed = serial_render([chart])
            start = time.perf_counter()
            change = fix_target(chart, FixRequest())
            b = time.perf_counter() - start
            growth = f", x{b / previous:.2f} over the previous size" if previous else ""
            print(
                f"{size} workloads: (a) serial render {a:.2f} s{' (failed)' if failed else ''}; "
                f"(b) chartfix fix {b:.2f} s ({len(change.fixed)} findings fixable, "
                f"{len(change.files)} files); ratio b/a {b / a:.1f}{growth}",
                flush=True,
            )
            previous = b
    return 0


if __name__ == "__main__":
    sys.exit(main())
