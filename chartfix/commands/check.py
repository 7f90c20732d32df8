"""`chartfix check`: render every chart under every scenario, run the rules, report.

Exit status, as `helm lint`'s: 0 when no finding is an error, 1 when some is (with
`--strict`, warnings too: warning findings and suppressions that match nothing), 2 when any
chart could not be processed, even if other charts had findings (a CI job must not pass over
a chart it never checked). Suppressed findings count for nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TextIO

from chartfix.config import load_config, organisation_values
from chartfix.errors import ChartError, UsageError, display_path
from chartfix.model.objects import Rendering
from chartfix.model.releases import ReleaseDiff
from chartfix.model.report import ChartReport
from chartfix.rules import Analysis, Policy, analyze_each, apply_policy, merge_findings
from chartfix.runner import crash_reason, default_jobs, run_parallel
from chartfix.sources.base import RenderSettings
from chartfix.sources.helm.chart import (
    Chart,
    Scenario,
    kustomization_not_built,
    load_chart,
    scenarios_at,
)
from chartfix.sources.helm.releases import release_diff
from chartfix.sources.helm.synthesis import Rendered, render_scenario, render_scenarios
from chartfix.sources.targets import find_targets, kind_of, nothing_found, only_files
from chartfix.values import values_once

FORMATS = ("text", "json", "sarif")


def check_chart(
    root: Path,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    release: str = "release-name",
    namespace: str = "default",
    keep_renderings: bool = True,
    policy: Policy | None = None,
    run_apps: bool | None = None,
) -> ChartReport:
    """Render the chart at `root` under each scenario and analyze it. Never raises for a bad
    chart: its ChartError travels in the report. `policy`: the command line's rule control,
    on top of the chart's `.chartfix.yaml`."""
    policy = policy or Policy()
    if kind_of(root).name != "helm":
        settings = RenderSettings(tuple(values_files), tuple(set_values), "", release, namespace)
        report = ChartReport(root=root, name=root.name, namespace=namespace)
        return _check_source(report, policy, run_apps, settings)
    cases = tuple(scenarios_at(root, values_files, set_values))
    task = ScenarioTask(root, cases, release, namespace, policy, cases[0])
    result, renderings = _check(task)
    report = _report(root, [(task, result)])
    if keep_renderings and report.error is None:
        report.renderings = renderings
    return report


def _check_source(
    report: ChartReport, policy: Policy, run_apps: bool | None, settings: RenderSettings
) -> ChartReport:
    """A target of another source kind than Helm (a cdk8s app): rendered through its
    kind, then the same rules and policy as a chart (when the user lets its code run).
    Helm charts take `_check`, which shares a big chart's scenarios among workers."""
    from chartfix.pipeline import located

    kind = kind_of(report.root)
    try:
        report.skipped = kind.skip_reason(report.root, run_apps, ())
        if report.skipped is not None:
            return report
        source = kind.load(report.root)
        report.name = source.name
        config = load_config(report.root)
        settings = replace(
            settings, base_values=organisation_values(config.values, settings.base_values)
        )
        rendered = source.render_all(settings)
        if not rendered.renderings:
            raise rendered.unrendered[0][1]
        report.scenarios = [r.scenario for r in rendered.renderings]
        report.unrendered = {name: err.reason for name, err in rendered.unrendered}
        report.warnings = list(dict.fromkeys(w for r in rendered.renderings for w in r.warnings))
        logged = (line for r in rendered.renderings for line in r.engine_log)
        report.engine_log = list(dict.fromkeys(logged))
        releases = source.releases(rendered.renderings[0])
        per_scenario = located(
            source, analyze_each(source, rendered.renderings, releases), rendered.renderings
        )
        effective = config.policy.overridden_by(policy)
        _keep(report, apply_policy(per_scenario, rendered.renderings, effective, report.root))
    except ChartError as err:
        report.error = err
        report.warnings = list(err.notes)
    return report


def _keep(report: ChartReport, analysis: Analysis) -> None:
    report.findings = analysis.findings
    report.suppressed = analysis.suppressed
    report.suppressions = Analysis(declared=analysis.declared, used=analysis.used)


def crashed_report(root: Path, error: BaseException) -> ChartReport:
    """A chart whose check raised something other than ChartError (a bug, a dead worker)."""
    return ChartReport(root=root, name=root.name, error=ChartError(root, crash_reason(error)))


@dataclass(frozen=True)
class ScenarioTask:
    """Some scenarios of one chart: the unit of parallel work. Charts differ a lot in cost
    (one big chart can take a third of a tree's time), so a heavy chart's scenarios are
    shared out among the workers; a light chart stays one task (it is loaded and staged
    once)."""

    root: Path
    scenarios: tuple[Scenario, ...]
    release: str
    namespace: str
    policy: Policy = field(default_factory=Policy)
    first: Scenario | None = None
    """The chart's first scenario (default, or the user's values), which every task of the
    chart renders again as the next release (chartfix.sources.helm.releases), so that its
    findings do not depend on how the chart's scenarios were shared out."""


@dataclass
class ScenarioResult:
    name: str
    analysis: Analysis = field(default_factory=Analysis)
    warnings: list[str] = field(default_factory=list)
    engine_log: list[str] = field(default_factory=list)
    error: ChartError | None = None
    synthesized: dict[str, list[str]] = field(default_factory=dict)
    unrendered: dict[str, ChartError] = field(default_factory=dict)


def check_scenarios(task: ScenarioTask) -> ScenarioResult:
    """Render some scenarios of one chart and run the rules; never raises ChartError."""
    return _check(task)[0]


def _check(task: ScenarioTask) -> tuple[ScenarioResult, list[Rendering]]:
    result = ScenarioResult(task.root.name)
    renderings: list[Rendering] = []
    try:
        chart = load_chart(task.root)
        result.name = chart.name
        result.warnings += kustomization_not_built(chart.root)
        config = load_config(chart.root)
        policy = config.policy.overridden_by(task.policy)
        base = organisation_values(config.values)
        cases = [replace(s, base=base) for s in task.scenarios] if base else task.scenarios
        rendered = render_scenarios(chart, cases, task.release, task.namespace)
        renderings = rendered.renderings
        result.unrendered = dict(rendered.unrendered)
        if not renderings:
            raise rendered.unrendered[0][1]
        releases = _releases(chart, task, base, rendered)
        result.analysis = apply_policy(
            analyze_each(chart, renderings, releases), renderings, policy, chart.root
        )
        for rendering in renderings:
            result.warnings += [w for w in rendering.warnings if w not in result.warnings]
            result.engine_log += [n for n in rendering.engine_log if n not in result.engine_log]
            if rendering.synthesized:
                result.synthesized[rendering.scenario] = list(rendering.synthesized)
    except ChartError as err:
        result.error = err
    return result, renderings


def _releases(chart: Chart, task: ScenarioTask, base: str, rendered: Rendered) -> ReleaseDiff:
    """How labels change with the chart's next release, from its first scenario: the one
    this task rendered, or rendered here (a task holding other scenarios of the chart)."""
    first = task.first or task.scenarios[0]
    done = next(
        (pair for pair in zip(rendered.scenarios, rendered.renderings, strict=True)
         if pair[0].name == first.name),
        None,
    )
    try:
        if done is None:
            done = render_scenario(
                chart, replace(first, base=base) if base else first, task.release,
                task.namespace,
            )
    except ChartError:
        return ReleaseDiff.by_keys(f"scenario {first.name} does not render")
    return release_diff(chart, done[0], done[1], None, task.release, task.namespace)


def _crashed_scenario(task: ScenarioTask, error: BaseException) -> ScenarioResult:
    return ScenarioResult(task.root.name, error=crashed_report(task.root, error).error)


def check_all(
    charts: Sequence[Path],
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    jobs: int | None = None,
    release: str = "release-name",
    namespace: str = "default",
    policy: Policy | None = None,
    run_apps: bool | None = None,
) -> list[ChartReport]:
    """Reports for `charts`, in their order, with `settle_suppressions` done.

    Helm charts are split into one task per scenario, biggest charts first, so that two
    workers stay busy until the end; cdk8s apps are one task each. Findings of a chart's
    scenarios are merged as `analyze` merges them.
    """
    values = tuple(Path(v).resolve() for v in values_files)
    apps = [c for c in charts if kind_of(c).name != "helm"]  # one task each
    helm = [c for c in charts if c not in apps]
    policy = policy or Policy()
    tasks = _tasks(
        helm, values, tuple(set_values), jobs or default_jobs(), release, namespace, policy
    )
    results: dict[Path, list[tuple[ScenarioTask, ScenarioResult]]] = {c: [] for c in helm}
    for task, result in zip(
        tasks, run_parallel(check_scenarios, tasks, jobs, on_crash=_crashed_scenario),
        strict=True,
    ):
        results[task.root].append((task, result))
    reports = {root: _report(root, parts) for root, parts in results.items()}
    app_work = partial(
        check_chart, values_files=values, set_values=tuple(set_values), release=release,
        namespace=namespace, keep_renderings=False, policy=policy, run_apps=run_apps,
    )  # values too: a kind without them says they are ignored
    for root, report in zip(
        apps, run_parallel(app_work, apps, jobs, on_crash=crashed_report), strict=True
    ):
        reports[root] = report
    ordered = [reports[c] for c in charts]
    settle_suppressions(ordered)
    return ordered


def settle_suppressions(reports: Sequence[ChartReport]) -> None:
    """Warn about suppressions that matched nothing in the whole run, each once, in the
    first chart that declared it (an entry of a shared `.chartfix.yaml` may be meant for
    another chart)."""
    used: set[str] = set()
    for report in reports:
        used |= report.suppressions.used
    warned: set[str] = set()
    for report in reports:
        report.unused_suppressions = []
        for ident, message in report.suppressions.declared.items():
            if ident not in used and ident not in warned:
                warned.add(ident)
                report.unused_suppressions.append(message)


def _tasks(
    charts: Sequence[Path],
    values: tuple[Path, ...],
    set_values: tuple[str, ...],
    jobs: int,
    release: str,
    namespace: str,
    policy: Policy,
) -> list[ScenarioTask]:
    """Tasks biggest first; a chart costing more than half a worker's fair share is split
    into `jobs` tasks of consecutive scenarios."""
    cost = {c: _size(c) * len(scenarios_at(c, values, set_values)) for c in charts}
    share = sum(cost.values()) / (2 * jobs) if charts else 0
    tasks = []
    for root in sorted(charts, key=cost.__getitem__, reverse=True):
        cases = scenarios_at(root, values, set_values)
        parts = jobs if cost[root] > share and len(cases) > 1 else 1
        size = -(-len(cases) // parts)
        for start in range(0, len(cases), size):
            chunk = tuple(cases[start : start + size])
            tasks.append(ScenarioTask(root, chunk, release, namespace, policy, cases[0]))
    return tasks


def _report(root: Path, parts: list[tuple[ScenarioTask, ScenarioResult]]) -> ChartReport:
    """One chart's report from its tasks' results, in scenario order (the first error
    wins, as a serial check would have stopped there)."""
    report = ChartReport(root=root, name=parts[0][1].name if parts else root.name)
    report.namespace = parts[0][0].namespace if parts else report.namespace
    report.scenarios = [s.name for task, _ in parts for s in task.scenarios]
    rendered = [part for _, part in parts if part.error is None]
    for _, part in parts:
        if part.error is not None and (not rendered or not part.unrendered):
            report.error = part.error  # a broken chart, or no scenario renders at all
            report.warnings = list(part.error.notes)
            return report
    for _, part in parts:
        report.warnings += [w for w in part.warnings if w not in report.warnings]
        report.engine_log += [n for n in part.engine_log if n not in report.engine_log]
        report.synthesized.update(part.synthesized)
        report.unrendered.update({n: e.reason for n, e in part.unrendered.items()})
    analyses = [part.analysis for _, part in parts if part.error is None]
    _keep(report, Analysis.combine(analyses, merge_findings))
    return report


def _size(root: Path) -> int:
    """A chart's bytes on disk, as an estimate of how long it takes to render."""
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue  # vanished or unreadable: the render will say so
    return total


def exit_status(reports: Sequence[ChartReport], strict: bool = False) -> int:
    """2 when a chart could not be processed; else 1 on an error finding, or with `strict` on
    a warning finding or an unused suppression; else 0."""
    if any(r.error is not None for r in reports):
        return 2
    if any(r.errors for r in reports):
        return 1
    if strict and any(r.warning_findings or r.unused_suppressions for r in reports):
        return 1
    return 0


def _say_engine_log(reports: Sequence[ChartReport]) -> None:
    """With JSON or SARIF on stdout, Helm's log lines go to stderr, each naming its chart
    (text output shows them in the chart's section)."""
    for report in reports:
        for line in report.engine_log:
            print(f"{display_path(report.root)}: {line}", file=sys.stderr)


def run_check(
    paths: Sequence[Path],
    values_files: Sequence[Path],
    set_values: Sequence[str],
    fmt: str,
    jobs: int | None,
    stream: TextIO,
    release: str = "release-name",
    namespace: str = "default",
    strict: bool = False,
    policy: Policy | None = None,
    run_apps: bool | None = None,
) -> int:
    """The `check` command: find charts, check them in parallel, print, return the status."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    values_files = values_once(values_files)  # -f <(...): read once, here
    charts = find_targets(paths)
    if not charts and not only_files(paths):
        raise UsageError(
            nothing_found(paths)
        )
    # Files no chart holds (a hook's changed files): nothing to check, and that is a pass.
    reports = check_all(charts, values_files, set_values, jobs, release, namespace, policy,
                        run_apps)
    if fmt in ("json", "sarif"):
        _say_engine_log(reports)
    if fmt == "json":
        from chartfix.publish.output.json import write_json

        write_json(reports, stream)
    elif fmt == "sarif":
        from chartfix.publish.output.sarif import write_sarif

        write_sarif(reports, stream)
    else:
        from chartfix.publish.output.text import write_text

        write_text(reports, stream)
    return exit_status(reports, strict)
