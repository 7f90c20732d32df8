"""`chartfix check`: render every chart under every scenario, run the rules, report.

Exit status: 0 when no chart has a finding, 1 when some chart has a finding (errors and
warnings alike: a warning still asks for a look), 2 when any chart could not be processed,
even if other charts had findings (a CI job must not pass over a chart it never checked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TextIO

from chartfix.analysis import analyze
from chartfix.chart import load_chart, scenarios
from chartfix.errors import ChartError, UsageError
from chartfix.findings import Finding
from chartfix.objects import Rendering
from chartfix.render import render
from chartfix.runner import run_parallel
from chartfix.targets import find_targets, is_cdk8s_app

FORMATS = ("text", "json", "sarif")


@dataclass
class ChartReport:
    """What `check` learned about one chart; picklable, so it can come back from a worker."""

    root: Path
    name: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: ChartError | None = None
    scenarios: list[str] = field(default_factory=list)
    renderings: list[Rendering] = field(default_factory=list, repr=False)
    """The evidence (not serialized; dropped when the report crosses processes)."""

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warning_findings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def check_chart(
    root: Path,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    release: str = "release-name",
    namespace: str = "default",
    keep_renderings: bool = True,
) -> ChartReport:
    """Render the chart at `root` under each scenario and analyze it. Never raises for a bad
    chart: its ChartError travels in the report."""
    report = ChartReport(root=root, name=root.name)
    if is_cdk8s_app(root):
        return _check_cdk8s_app(report)
    try:
        chart = load_chart(root)
        report.name = chart.name
        cases = scenarios(chart, values_files, set_values)
        report.scenarios = [s.name for s in cases]
        renderings = [render(chart, s, None, release, namespace) for s in cases]
        report.findings = analyze(chart, renderings)
    except ChartError as err:
        report.error = err
        return report
    for rendering in renderings:
        for warning in rendering.warnings:
            if warning not in report.warnings:
                report.warnings.append(warning)
    if keep_renderings:
        report.renderings = renderings
    return report


def _check_cdk8s_app(report: ChartReport) -> ChartReport:
    """A cdk8s app: synthesized by cdk8s, then the same rules as a chart."""
    from chartfix.cdk8s import check_app, load_app

    try:
        report.name = load_app(report.root).name
        report.scenarios = ["synth"]
        report.findings = check_app(report.root)
    except ChartError as err:
        report.error = err
    return report


def crashed_report(root: Path, error: BaseException) -> ChartReport:
    """A chart whose check raised something other than ChartError (a bug, a dead worker)."""
    reason = f"chartfix failed on this chart: {type(error).__name__}: {error}"
    return ChartReport(root=root, name=root.name, error=ChartError(root, reason))


def check_all(
    charts: Sequence[Path],
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    jobs: int | None = None,
    release: str = "release-name",
    namespace: str = "default",
) -> list[ChartReport]:
    """Reports for `charts`, in their order; renderings are dropped (they are not needed
    for output, and pickling them back from workers costs more than the rules)."""
    work = partial(
        check_chart,
        values_files=tuple(Path(v).resolve() for v in values_files),
        set_values=tuple(set_values),
        release=release,
        namespace=namespace,
        keep_renderings=False,
    )
    return list(run_parallel(work, charts, jobs, on_crash=crashed_report))


def exit_status(reports: Sequence[ChartReport]) -> int:
    if any(r.error is not None for r in reports):
        return 2
    return 1 if any(r.findings for r in reports) else 0


def run_check(
    paths: Sequence[Path],
    values_files: Sequence[Path],
    set_values: Sequence[str],
    fmt: str,
    jobs: int | None,
    stream: TextIO,
    release: str = "release-name",
    namespace: str = "default",
) -> int:
    """The `check` command: find charts, check them in parallel, print, return the status."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    for values in values_files:
        if not Path(values).is_file():
            raise UsageError(f"{values}: no such values file")
    charts = find_targets(paths)
    if not charts:
        raise UsageError(
            f"no chart (Chart.yaml) or cdk8s app under {', '.join(map(str, paths))}"
        )
    reports = check_all(charts, values_files, set_values, jobs, release, namespace)
    if fmt == "json":
        from chartfix.output.json import write_json

        write_json(reports, stream)
    elif fmt == "sarif":
        from chartfix.output.sarif import write_sarif

        write_sarif(reports, stream)
    else:
        from chartfix.output.text import write_text

        write_text(reports, stream)
    return exit_status(reports)
