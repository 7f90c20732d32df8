"""How many charts with selector bugs does `chartfix fix --write` really fix?

    python benchmarks/fix_rate.py TREE... [-j N] [--scratch DIR] [--json FILE]

For every chart under each TREE, as a new user would meet it:
1. render every scenario (defaults, each ci/ file; values a chart needs at deploy time
   synthesized, as fix does) with the project's code, one by one, and run the rules on
   those that rendered: a chart counts when it has an error finding;
2. copy the chart (and the dependency folders it is staged with: monorepo siblings,
   `file://` paths) into a scratch directory, keeping their relative layout;
3. run `python -m chartfix fix --write COPY` with the Python of the running environment;
4. render every scenario of the copy again and run the rules here, without trusting fix's
   own summary: the chart is "fixed" when no error finding is left on any scenario that
   rendered before, "broken" when such a scenario no longer renders; when findings are left
   and the chart stages dependency charts from the tree (monorepo siblings), fix --write
   those copies too, as a run over the whole monorepo would, and render again: a chart
   fixed that way is counted apart ("once the dependency charts ... are fixed too");
5. run fix --write once more: "not idempotent" when that second run changes a byte.

Prints one table per tree and one in total, each chart that is left with the reasons fix
printed for it, and a coverage line per tree (charts found, analyzed = at least one
scenario rendered, scenarios that did not render by reason). Not a test: nothing here
asserts a rate; the issue's goal (>= 95% fixed per tree) is printed beside the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from chartfix.commands.coverage import Coverage, error_kind
from chartfix.errors import TargetError
from chartfix.model.objects import Rendering
from chartfix.rules import analyze
from chartfix.runner import run_parallel
from chartfix.sources.helm.chart import Chart, find_charts, load_chart, scenarios
from chartfix.sources.helm.dependencies import stage
from chartfix.sources.helm.synthesis import render_scenarios

GOAL = 0.95
FIX_TIMEOUT = 900  # seconds for one `chartfix fix` of one chart


@dataclass
class ChartResult:
    """What happened to one chart; plain data so it crosses the process pool and --json."""

    tree: str
    chart: str
    scenarios: int = 0
    rendered: int = 0
    synthesized: bool = False
    """Some scenario rendered only with synthesized values."""
    not_rendered: list[str] = field(default_factory=list)
    """Why each scenario that did not render failed (one reason each), before any fix."""
    errors_before: int = 0
    errors_after: int = 0
    status: str = "clean"
    """clean (no error finding), fixed, left, or unanalyzed (no scenario rendered)."""
    reasons: list[str] = field(default_factory=list)
    """Why findings are left: what `fix` printed (its `left:` and `error:` lines)."""
    broken: list[str] = field(default_factory=list)
    """Scenarios that rendered before the fix and not after it."""
    idempotent: bool = True
    with_dependencies: bool = False
    """Fixed only once the dependency charts it stages from the tree were fixed as well (a
    monorepo run); its own fix left their findings ("comes from the subchart")."""
    fix_exit: int | None = None


def measure(root: Path, tree: Path, scratch: Path) -> ChartResult:
    """Steps 1-5 for the chart at `root`; never raises for a bad chart."""
    result = ChartResult(str(tree), str(root.relative_to(tree)) if root != tree else root.name)
    try:
        chart = load_chart(root)
        cases = scenarios(chart)
    except TargetError as err:
        result.not_rendered.append(err.reason)
        result.status = "unanalyzed"
        return result
    result.scenarios = len(cases)
    before, failures = _render_all(chart)
    result.not_rendered = list(failures.values())
    result.rendered = len(before)
    result.synthesized = any(r.synthesized for r in before)
    if not before:
        result.status = "unanalyzed"
        return result
    try:
        result.errors_before = _errors(chart, before)
    except TargetError as err:
        result.not_rendered.append(err.reason)
        result.status = "unanalyzed"
        return result
    if not result.errors_before:
        return result
    work = Path(tempfile.mkdtemp(prefix="fix-rate-", dir=scratch))
    try:
        copy, deps = _copy(chart, work)
        fixed = _run_fix([copy])
        result.fix_exit = fixed.returncode
        result.reasons = _fix_reasons(fixed.stderr)
        _judge(result, before, copy)
        if result.errors_after and deps:
            # A monorepo user fixes the sibling charts too: does that fix this one?
            _run_fix(deps)
            _judge(result, before, copy)
            if not result.errors_after and not result.broken:
                result.with_dependencies = True
        snapshot = _snapshot(work)
        _run_fix([copy, *deps] if result.with_dependencies else [copy])
        result.idempotent = _snapshot(work) == snapshot
    except (TargetError, OSError, subprocess.SubprocessError) as err:
        result.reasons.append(f"fix_rate could not finish: {err}")
        result.errors_after = result.errors_before
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.status = "fixed" if not result.errors_after and not result.broken else "left"
    if result.status == "left" and not result.reasons:
        result.reasons.append(
            f"fix said nothing is left, but {result.errors_after} error finding(s) remain"
            if not result.broken
            else "a scenario no longer renders"
        )
    return result


def _judge(result: ChartResult, before: list[Rendering], copy: Path) -> None:
    """Render the fixed copy's scenarios again and count what is left, here, not in fix."""
    after_chart = load_chart(copy)
    after, _ = _render_all(after_chart)
    rendered = {a.scenario for a in after}
    result.broken = [r.scenario for r in before if r.scenario not in rendered]
    result.errors_after = _errors(after_chart, after) if after else result.errors_before


def _render_all(chart: Chart) -> tuple[list[Rendering], dict[str, str]]:
    """Renderings of the scenarios that render (synthesizing missing values as fix does),
    and the reason of each that does not."""
    rendered = render_scenarios(chart, scenarios(chart))
    failed = {name: f"{name}: {err.reason}" for name, err in rendered.unrendered}
    return rendered.renderings, failed


def _errors(chart: Chart, renderings: list[Rendering]) -> int:
    return sum(1 for f in analyze(chart, renderings) if f.severity == "error")


def _copy(chart: Chart, work: Path) -> tuple[Path, list[Path]]:
    """Copy the chart and the folders its dependencies are staged from (monorepo siblings,
    `file://` paths) into `work`, keeping their layout relative to each other; return the
    chart's copy and the copies of dependency charts outside it."""
    dirs = [Path(d) for d in stage(chart).watched]
    base = Path(os.path.commonpath([chart.root.parent, *dirs]))
    for folder in sorted(set(dirs)):
        shutil.copytree(
            folder, work / folder.relative_to(base), symlinks=True, dirs_exist_ok=True
        )
    deps = sorted({
        work / d.relative_to(base) for d in dirs
        if d != chart.root and not d.is_relative_to(chart.root)
    })
    return work / chart.root.relative_to(base), deps


def _run_fix(charts: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chartfix", "fix", "--write", *map(str, charts)],
        capture_output=True,
        text=True,
        timeout=FIX_TIMEOUT,
        check=False,
    )


_LEFT = re.compile(r"^  left: (\S+) (\S+): (.*)$")
_ERROR = re.compile(r"^error: (.*)$")


def _fix_reasons(stderr: str) -> list[str]:
    """fix's own words for what it left: `rule object: reason` per finding, or its error."""
    reasons = []
    for line in stderr.splitlines():
        if match := _LEFT.match(line):
            reasons.append(f"{match[1]} {match[2]}: {match[3]}")
        elif match := _ERROR.match(line):
            reasons.append(f"error: {match[1]}")
    if not reasons and "Traceback" in stderr:
        reasons.append("fix crashed: " + stderr.strip().splitlines()[-1])
    return reasons


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            if not path.is_symlink():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --- reasons and tables ------------------------------------------------------------------------


def reason_kind(reason: str) -> str:
    """A reason without the names of objects, files and values, to count alike reasons."""
    text = re.sub(r"^(error: )\S+: ", r"\1", reason)  # the error's file
    text = re.sub(r"^[a-z]+ \S+: ", "", text)  # `rule object: ` of a left finding
    text = re.sub(r"\([^()]*:\d+:\d+\)", "(…)", text)  # Helm's template positions
    text = re.sub(r"\S*/\S*", "…", text)  # object refs, paths
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", text)
    text = re.sub(r"\b\d+\b", "N", text)
    return text[:110]


def table(title: str, results: list[ChartResult]) -> str:
    errors = [r for r in results if r.errors_before]
    fixed = [r for r in errors if r.status == "fixed"]
    left = [r for r in errors if r.status == "left"]
    broken = [r for r in errors if r.broken]
    unstable = [r for r in errors if not r.idempotent]
    rate = f"{len(fixed) / len(errors):.0%}" if errors else "-"
    met = len(fixed) >= GOAL * len(errors)
    goal = "" if not errors else f" (goal >= 95%: {'met' if met else 'NOT met'})"
    through_deps = [r for r in fixed if r.with_dependencies]
    lines = [
        f"== {title}",
        f"charts with error findings  {len(errors)}",
        f"fixed                       {len(fixed)}  {rate}{goal}",
        f"  by its own fix            {len(fixed) - len(through_deps)}",
        f"  once the dependency charts it stages from the tree are fixed too: "
        f"{len(through_deps)}",
        f"left                        {len(left)}",
    ]
    by_kind = Counter(kind for r in left for kind in {reason_kind(x) for x in r.reasons})
    lines += [f"  {n:3d} x {kind}" for kind, n in by_kind.most_common()]
    lines += [
        f"broken renders              {len(broken)}",
        f"not idempotent              {len(unstable)}",
    ]
    # Coverage: how much of the tree chartfix could look at at all, as bulk says
    coverage = Coverage()
    for r in results:
        error = r.not_rendered[0] if r.status == "unanalyzed" and r.not_rendered else None
        coverage.add(error or ("unanalyzed" if r.status == "unanalyzed" else None),
                     r.synthesized, r.status != "unanalyzed" and bool(r.not_rendered))
    lines += coverage.lines()
    lines.append(
        f"  scenarios {sum(r.scenarios for r in results)}, "
        f"rendered {sum(r.rendered for r in results)}"
    )
    kinds = Counter(error_kind(x) for r in results for x in r.not_rendered)
    lines += [f"  not rendered: {n:3d} x {kind}" for kind, n in kinds.most_common()]
    return "\n".join(lines)


def details(results: list[ChartResult]) -> str:
    lines = []
    for r in results:
        if r.errors_before and (
            r.status != "fixed" or r.broken or not r.idempotent or r.with_dependencies
        ):
            flags = [f"broken: {', '.join(r.broken)}"] if r.broken else []
            flags += [] if r.idempotent else ["not idempotent"]
            flags += ["once its dependency charts are fixed too"] if r.with_dependencies else []
            lines.append(f"{r.chart}: {r.status}, {r.errors_before} error finding(s) before, "
                         f"{r.errors_after} after" + (f" ({'; '.join(flags)})" if flags else ""))
            lines += [f"    {reason}" for reason in dict.fromkeys(r.reasons)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scratch", type=Path, default=None,
                        help="where chart copies are made (default: a new temp directory)")
    parser.add_argument("--json", type=Path, default=None, help="write every chart's result")
    args = parser.parse_args()
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="fix-rate-"))
    scratch.mkdir(parents=True, exist_ok=True)
    everything: list[ChartResult] = []
    for tree in args.trees:
        tree = tree.resolve()
        charts = find_charts([tree])
        work = partial(measure, tree=tree, scratch=scratch)
        results = list(run_parallel(work, charts, args.jobs, on_crash=partial(_crashed, tree)))
        everything += results
        print(table(str(tree), results), flush=True)
        print(details(results), flush=True)
    if len(args.trees) > 1:
        print(table("total", everything))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in everything], indent=1))
    if args.scratch is None:
        shutil.rmtree(scratch, ignore_errors=True)


def _crashed(tree: Path, root: Path, error: BaseException) -> ChartResult:
    result = ChartResult(str(tree), str(root), status="unanalyzed")
    result.not_rendered.append(f"fix_rate crashed: {type(error).__name__}: {error}")
    return result


if __name__ == "__main__":
    main()
