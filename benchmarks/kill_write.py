"""kill -9 at random points of `chartfix fix --write` on a large chart: is any chart left
mixed (some files old, some new) or unrenderable?

    python benchmarks/kill_write.py [--runs 50] [--workloads 120] [--seed N]

A chart of N workloads (big_chart.py: the fix edits all N template files) is copied afresh
for every run; `chartfix fix --write` starts on it and gets SIGKILL at a random moment:
a third at a uniform time over a whole run, a third 0-20 ms after the write journal
appears (staging), a third 0-3 ms after it says `replacing` (the replace step, where a kill
does the most harm). Each chart is then
classified as it lies on disk (old / new / mixed / other), then again after the next
`fix --write` on it (only --write finishes or rolls back an interrupted write; a dry run
refuses the chart; that run then fixes the chart, so "old" becomes "new"), and rendered with
`chartfix check` (exit 2 = unrenderable). The figures that must be 0 are marked.
For scale, (a) a plain serial render of the chart and (b) one whole `fix --write` run are
timed first, in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from big_chart import make_chart
from check_speed import serial_render

CHARTFIX = [sys.executable, "-m", "chartfix"]
JOURNAL = ".chartfix-write.json"


def templates(chart: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((chart / "templates").iterdir())}


def classify(chart: Path, old: dict[str, bytes], new: dict[str, bytes]) -> str:
    now = {k: v for k, v in templates(chart).items() if not k.endswith(".tmp")}
    if now == old:
        return "old"
    if now == new:
        return "new"
    if set(now) == set(old) and all(now[k] in (old[k], new[k]) for k in now):
        return "mixed"
    return "other"


def journal_state(chart: Path) -> str:
    try:
        return (chart / JOURNAL).read_text()
    except (OSError, UnicodeDecodeError):
        return ""


def leftovers(chart: Path) -> int:
    return sum(1 for p in chart.rglob("*") if p.name.endswith(".tmp") or p.name == JOURNAL)


def run_fix(chart: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHARTFIX, "fix", str(chart), "-j", "1", *extra], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--workloads", type=int, default=120)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="chartfix-kill-") as scratch:
        base = make_chart(Path(scratch) / "base", args.workloads)
        old = templates(base)
        a, _, _ = serial_render([base])
        done = Path(scratch) / "done"
        shutil.copytree(base, done)
        start = time.perf_counter()
        if run_fix(done, "--write").returncode != 0:
            print("fix --write failed on the chart", file=sys.stderr)
            return 2
        whole = time.perf_counter() - start
        new = templates(done)
        changed = sum(1 for k in old if old[k] != new[k])
        print(f"chart: {args.workloads} workloads, {changed} files changed by the fix")
        print(f"(a) serial render {a:.2f} s; (b) one fix --write run {whole:.2f} s; "
              f"ratio b/a {whole / a:.1f}")

        on_disk: Counter[str] = Counter()
        after: Counter[str] = Counter()
        unrenderable = left_behind = finished_first = 0
        for run in range(args.runs):
            chart = Path(scratch) / f"run{run}"
            shutil.rmtree(chart, ignore_errors=True)
            shutil.copytree(base, chart)
            proc = subprocess.Popen(
                [*CHARTFIX, "fix", str(chart), "-j", "1", "--write"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if run % 3 == 0:
                time.sleep(rng.uniform(0, whole))
            else:  # 1: while staging; 2: while replacing
                wanted = "staging" if run % 3 == 1 else "replacing"
                while proc.poll() is None and wanted not in journal_state(chart):
                    time.sleep(0.0002)
                time.sleep(rng.uniform(0, 0.02 if wanted == "staging" else 0.003))
            if proc.poll() is not None:
                finished_first += 1
            else:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            on_disk[classify(chart, old, new)] += 1
            run_fix(chart, "--write")  # finishes or rolls back what the kill interrupted
            after[classify(chart, old, new)] += 1
            left_behind += leftovers(chart) > 0
            if run_fix_check(chart) == 2:
                unrenderable += 1
            shutil.rmtree(chart)

    print(f"{args.runs} runs killed with SIGKILL ({finished_first} had finished first)")
    print("  right after the kill: " + ", ".join(f"{k} {on_disk[k]}"
                                                for k in ("old", "new", "mixed", "other")))
    print("  after the next run:   " + ", ".join(f"{k} {after[k]}"
                                                for k in ("old", "new", "mixed", "other")))
    bad = after["mixed"] + after["other"]
    print(f"  mixed or other after the next run (must be 0): {bad}")
    print(f"  unrenderable (must be 0): {unrenderable}")
    print(f"  temp files or journal left after the next run (must be 0): {left_behind}")
    return 1 if bad or unrenderable or left_behind else 0


def run_fix_check(chart: Path) -> int:
    return subprocess.run([*CHARTFIX, "check", str(chart)], capture_output=True).returncode


if __name__ == "__main__":
    sys.exit(main())
