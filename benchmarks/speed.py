"""chartfix against the floor of a render-based linter, in one run on one tree: ratios.

    python benchmarks/speed.py TREE [--chart CHART] [-j 2] [--rounds 1]
                                    [--no-bulk | --bulk-only | --one-only]

The baseline is what any render-based linter pays: a serial loop over the same charts that
renders the default values and each ci/*-values.yaml with helm-python-sdk (dependencies
staged as chartfix stages them), parses the output with PyYAML's CSafeLoader and scans every
object's selector. Measured against it, each as its own `python -m chartfix` process (start-up
included, as users run it):

- check cold (a fresh cache folder) and warm (the same folder again, nothing changed), with
  only the scenarios the user wrote (`--user-scenarios`: the defaults and ci/ files); then,
  separately, with chartfix's extra scenarios on: the next-release pair alone
  (`--no-features`) and with the feature switches too (check's default);
- one chart (--chart, default the bundled legacy-server): a process rendering it and parsing
  the objects against `chartfix check CHART` cold and warm, in wall time and in CPU (of the
  process and its workers); `--one-only` measures these alone (many rounds of them are
  cheap: a loaded machine needs them);
- bulk: the serial render + fix + re-render loop (chartfix's own fix of each chart in turn in
  one process, cache off) against `chartfix bulk -j N` (a dry run) cold and warm.

Rounds interleave the baseline and the contenders on the same tree, so that a loaded machine
slows both alike; each ratio printed is the median over the rounds. Ratios, never times, are
the result (times are printed for reading). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LEGACY = REPO / "fixtures" / "legacy-server"

ONE_CHART_RENDER = """
import sys, yaml, helm_python
from pathlib import Path
from chartfix.sources.helm.chart import load_chart, scenarios
from chartfix.sources.helm.dependencies import stage
from chartfix.sources.helm.render import scenario_values
chart = load_chart(Path(sys.argv[1]))
for scenario in scenarios(chart):
    with helm_python.Chart.load_archive(stage(chart).archive_with(None)) as loaded:
        out = loaded.render(values=scenario_values(scenario), name="release-name",
                            namespace="default", is_install=True)
    for path, text in out.items():
        if not path.endswith("NOTES.txt"):
            list(yaml.load_all(text, Loader=yaml.CSafeLoader))
"""


def baseline(charts: list[Path]) -> tuple[int, int]:
    """The serial loop: (renders, selectors seen)."""
    import helm_python
    import yaml

    from chartfix.errors import TargetError
    from chartfix.sources.helm.chart import load_chart, scenarios
    from chartfix.sources.helm.dependencies import stage
    from chartfix.sources.helm.render import scenario_values

    renders = selectors = 0
    for root in charts:
        try:
            chart = load_chart(root)
            cases = scenarios(chart)
        except TargetError:
            continue
        for scenario in cases:
            renders += 1
            try:
                with helm_python.Chart.load_archive(stage(chart).archive_with(None)) as loaded:
                    out = loaded.render(
                        values=scenario_values(scenario), name="release-name",
                        namespace="default", is_install=True,
                    )
            except Exception:
                continue
            for text in _manifests(out):
                try:
                    docs = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
                except yaml.YAMLError:
                    continue
                selectors += sum(_selector(doc) is not None for doc in docs)
    return renders, selectors


def _manifests(out: dict[str, str]) -> list[str]:
    """The rendered manifests (Helm's NOTES.txt is no YAML)."""
    return [text for path, text in out.items() if not path.endswith("NOTES.txt")]


def _selector(doc: object) -> object:
    if not isinstance(doc, dict):
        return None
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return None
    selector = spec.get("selector")
    return selector.get("matchLabels", selector) if isinstance(selector, dict) else selector


def serial_fix(charts: list[Path]) -> None:
    """The serial render + fix + re-render loop: chartfix's fix of each chart in turn."""
    from chartfix.commands.fixing import fix_outcome
    from chartfix.pipeline import FixRequest

    os.environ["CHARTFIX_NO_CACHE"] = "1"
    try:
        for chart in charts:
            fix_outcome(chart, FixRequest())
    finally:
        del os.environ["CHARTFIX_NO_CACHE"]


def chartfix(*args: str, cache: Path) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(
            [sys.executable, "-m", "chartfix", *args, "--cache-dir", str(cache)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )
    return run


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def cpu_timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of `work`'s processes: user and system time of the children
    waited for meanwhile (a chartfix process counts its workers, which it waits for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = timed(work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--chart", type=Path, default=LEGACY)
    parser.add_argument("-j", "--jobs", default="2")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-bulk", action="store_true")
    parser.add_argument("--bulk-only", action="store_true", help="only the bulk lines")
    parser.add_argument("--one-only", action="store_true", help="only the one-chart lines")
    args = parser.parse_args()
    # as pip leaves an install: compiled, so that no run pays for compiling chartfix
    # (PYTHONDONTWRITEBYTECODE would make every process compile it again)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "chartfix")], check=True)
    from chartfix.sources.helm.chart import find_charts

    charts = [] if args.one_only else find_charts([args.tree])
    tree_lines = not (args.bulk_only or args.one_only)
    tree, chart, jobs = str(args.tree), str(args.chart), args.jobs
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="chartfix-speed-") as scratch:
        for round_ in range(args.rounds):
            caches = {n: Path(scratch) / f"{n}-{round_}" for n in ("u", "r", "f", "one", "bulk")}
            base = timed(lambda: baseline(charts)) if tree_lines else 0.0
            row = {} if not tree_lines else {
                "check cold, user scenarios (--user-scenarios)":
                    chartfix("check", tree, "-j", jobs, "--user-scenarios", cache=caches["u"]),
                "check warm, user scenarios (--user-scenarios)":
                    chartfix("check", tree, "-j", jobs, "--user-scenarios", cache=caches["u"]),
                "check cold, extra: next release (--no-features)":
                    chartfix("check", tree, "-j", jobs, "--no-features", cache=caches["r"]),
                "check cold, extra: next release and feature switches (default)":
                    chartfix("check", tree, "-j", jobs, cache=caches["f"]),
                "check warm, extra: next release and feature switches (default)":
                    chartfix("check", tree, "-j", jobs, cache=caches["f"]),
            }
            for name, work in row.items():
                took = timed(work)
                ratios.setdefault(name, []).append(took / base)
                print(f"round {round_}: {name}: {took:.2f} s (baseline {base:.2f} s)")
            one, one_cpu = (0.0, 0.0) if args.bulk_only else cpu_timed(lambda: subprocess.run(
                [sys.executable, "-c", ONE_CHART_RENDER, chart], check=True,
            ))
            for name in () if args.bulk_only else ("one chart cold", "one chart warm"):
                took, cpu = cpu_timed(chartfix("check", chart, cache=caches["one"]))
                ratios.setdefault(name, []).append(took / one)
                ratios.setdefault(f"{name}, CPU", []).append(cpu / one_cpu)
                print(f"round {round_}: {name}: {took:.3f} s, {cpu:.3f} s CPU "
                      f"(render process {one:.3f} s, {one_cpu:.3f} s CPU)")
            if args.no_bulk or args.one_only:
                continue
            loop = timed(lambda: serial_fix(charts))
            for name in ("bulk -j N cold", "bulk -j N warm"):
                took = timed(chartfix("bulk", tree, "-j", jobs, cache=caches["bulk"]))
                ratios.setdefault(name, []).append(took / loop)
                print(f"round {round_}: {name}: {took:.2f} s (serial fix loop {loop:.2f} s)")
    measured = chart if args.one_only else f"{len(charts)} charts under {tree}, -j {jobs}"
    print(f"\n{measured}, {args.rounds} round(s), load {os.getloadavg()[0]:.1f}; median ratios:")
    for name, values in ratios.items():
        against = (
            "a one-chart render process" if name.startswith("one") else
            "the serial render+fix+re-render loop" if name.startswith("bulk") else
            "the baseline (serial render + parse + selector scan)"
        )
        print(f"  {name}: {statistics.median(values):.2f}x {against}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
