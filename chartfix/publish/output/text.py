"""Text for a terminal or a CI log: findings grouped by chart, one summary line at the end.

Each finding starts with `path:line: severity[code] Object/name: message`, the shape editors
and CI logs turn into links. Colour only on a TTY and never when NO_COLOR is set
(https://no-color.org).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from chartfix.model.findings import Finding
from chartfix.model.objects import is_feature
from chartfix.publish.output import (
    display_path,
    features_said,
    finding_path,
    plural,
    remediation,
    said_once,
)
from chartfix.sources.base import synthesized_note, unrendered_note
from chartfix.sources.targets import targets_noun
from chartfix.terminal import shown

if TYPE_CHECKING:
    from chartfix.model.report import ChartReport

_STYLES = {"error": "\033[1;31m", "warning": "\033[1;33m", "bold": "\033[1m", "dim": "\033[2m"}
_RESET = "\033[0m"


def use_color(stream: TextIO) -> bool:
    """`--color always` (FORCE_COLOR) paints anywhere; `--color never` or NO_COLOR nowhere;
    else a terminal only."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write_text(
    reports: Sequence[ChartReport], stream: TextIO, color: bool | None = None,
    quiet: bool = False,
) -> None:
    """`quiet` (`-q`): each chart's heading, finding lines and errors, nothing else."""
    paint = _Paint(use_color(stream) if color is None else color)
    run_notes = said_once(
        [[*_notes(r), *r.warnings, *r.engine_log] for r in reports],
        [display_path(r.root) for r in reports],
    )
    for report, warnings in zip(reports, run_notes, strict=True):
        _write_report(report, [] if quiet else warnings, stream, paint, quiet)
    if not quiet:
        stream.write(summary_line(reports) + "\n")


@dataclass(frozen=True)
class _Paint:
    """Text in a style (`_STYLES`), when the stream shows colour."""

    color: bool

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text


def _write_report(
    report: ChartReport, warnings: Sequence[str], stream: TextIO, paint: _Paint, quiet: bool
) -> None:
    """One target's lines: its error or why it was skipped, else (when it has something to
    say) its heading, findings, suppressed findings, unused suppressions and notes."""
    if report.error is not None:
        stream.write(f"{paint('error', 'error')}: {report.error}\n")
        for note in report.error.notes:
            stream.write(f"  {paint('warning', 'note')}: {shown(note)}\n")
        return
    if report.skipped is not None:
        stream.write(f"skipped: {shown(display_path(report.root))}: {shown(report.skipped)}\n")
        return
    if not (report.findings or report.suppressed or report.unused_suppressions or warnings):
        return
    if quiet and not report.findings:
        return
    heading = f"{display_path(report.root)} ({report.name})"
    stream.write(paint("bold", shown(heading)) + "\n")
    for finding in report.findings:
        _write_finding(report, finding, stream, paint, quiet)
    if quiet:
        return
    for finding in report.suppressed:
        assert finding.suppression is not None
        accepted = finding.suppression
        stream.write(
            paint(
                "dim",
                f"  suppressed[{finding.rule}] " + shown(
                    f"{finding.obj}: {accepted.justification or '-'} ({accepted.origin})"
                ),
            )
            + "\n"
        )
    for unused in report.unused_suppressions:
        stream.write(f"  {paint('warning', 'warning')}: {shown(unused)}\n")
    for warning in warnings:
        stream.write(f"  {paint('warning', 'note')}: {shown(warning)}\n")


def _write_finding(
    report: ChartReport, finding: Finding, stream: TextIO, paint: _Paint, quiet: bool
) -> None:
    """A finding's line (file:line, severity and rule, object and message), then, unless
    `quiet`, its scenarios and how to fix it."""
    where = finding_path(report.root, finding)
    if finding.location.line is not None:
        where += f":{finding.location.line}"
    label = paint(finding.severity, f"{finding.severity}[{finding.rule}]")
    said = shown(f"{finding.obj}: {finding.message}")
    stream.write(f"  {shown(where)}: {label} {said}\n")
    if quiet:
        return
    scenarios = shown(scenarios_said(finding))
    stream.write(paint("dim", f"    scenarios: {scenarios}") + "\n")
    stream.write(f"    fix: {shown(remediation(finding))}\n")


def _notes(report: ChartReport) -> list[str]:
    """The scenarios a chart's check made values up for, or could not render."""
    return [
        *(synthesized_note(n, v) for n, v in report.synthesized.items()),
        *(unrendered_note(n, why) for n, why in report.unrendered.items()),
    ]


def summary_line(reports: Sequence[ChartReport]) -> str:
    """"3 charts, 2 with findings: 4 errors, 1 warning; 2 suppressed; 1 unused suppression;
    1 chart could not be processed"."""
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warning_findings for r in reports)
    with_findings = sum(1 for r in reports if r.findings)
    failed = sum(1 for r in reports if r.error is not None)
    skipped = sum(1 for r in reports if r.skipped is not None)
    suppressed = sum(len(r.suppressed) for r in reports)
    unused = sum(len(r.unused_suppressions) for r in reports)
    line = targets_noun([r.root for r in reports])
    if with_findings:
        line += (
            f", {with_findings} with findings: {plural(errors, 'error')}, "
            f"{plural(warnings, 'warning')}"
        )
    elif reports and failed + skipped == len(reports):
        line += ", none checked"  # "no findings" would read as a pass
    else:
        line += ", no findings"
    if suppressed:
        line += f"; {suppressed} suppressed"
    if unused:
        line += f"; {plural(unused, 'unused suppression')}"
    if failed:
        broken = [r.root for r in reports if r.error is not None]
        line += f"; {targets_noun(broken)} could not be processed"
    stand_ins = sum(1 for r in reports if r.stand_in is not None and r.error is None)
    if stand_ins:
        line += f"; {plural(stand_ins, 'cdk8s app')} not run, checked from committed output"
    if skipped:
        line += f"; {plural(skipped, 'cdk8s app')} not run"
    switches = sum(len(r.features) for r in reports)
    if switches:
        added = sum(sum(r.features.values()) for r in reports)
        line += f"; {features_said(switches, added)}"
    return line


def scenarios_said(finding: Finding) -> str:
    """The scenarios a finding is seen in, saying when only feature switches show it."""
    said = ", ".join(finding.scenarios)
    if finding.scenarios and all(is_feature(s) for s in finding.scenarios):
        said += " (only with a feature switch on)"
    return said
