"""JSON for scripts: a stable, versioned schema (docs/output.md).

`version` changes only when a field changes meaning or disappears; new fields may be added
without a version bump. Keys are written in a fixed order, so two runs over the same charts
produce the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from chartfix.model.findings import Finding
from chartfix.model.objects import ObjectRef
from chartfix.publish.output import display_path, finding_path, fingerprint, remediation

if TYPE_CHECKING:
    from chartfix.model.report import ChartReport

SCHEMA_VERSION = 1


def report_document(reports: Sequence[ChartReport]) -> dict[str, Any]:
    return {"version": SCHEMA_VERSION, "charts": [chart_entry(r) for r in reports]}


def chart_entry(report: ChartReport) -> dict[str, Any]:
    return {
        "path": display_path(report.root),
        "name": report.name,
        "error": None if report.error is None else str(report.error),
        "skipped": report.skipped,
        "stand_in": report.stand_in,
        "warnings": list(report.warnings),
        "scenarios": list(report.scenarios),
        "synthesized": {name: list(values) for name, values in report.synthesized.items()},
        "unrendered": dict(report.unrendered),
        "features": dict(report.features),
        "findings": [_with_fingerprint(report, f) for f in report.findings],
        "suppressed": [_with_fingerprint(report, f) for f in report.suppressed],
        "unused_suppressions": list(report.unused_suppressions),
    }


def _with_fingerprint(report: ChartReport, finding: Finding) -> dict[str, Any]:
    path = finding_path(report.root, finding)
    entry = finding_entry(finding, path, report.namespace)
    return {**entry, "fingerprint": fingerprint(report.name, finding)}


def finding_entry(finding: Finding, path: str, namespace: str | None) -> dict[str, Any]:
    """`path`: the finding's template file as shown (check: relative to the current directory;
    bulk reports: relative to the chart); `namespace`: the release namespace."""
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "impact": finding.impact,
        "effects": list(finding.effects),
        "object": ref_entry(finding.obj, namespace),
        "related": [ref_entry(r, namespace) for r in finding.related],
        "location": {
            "path": path,
            "line": finding.location.line,
        },
        "message": finding.message,
        "remediation": remediation(finding),
        "scenarios": list(finding.scenarios),
        "chart": finding.chart,
        "detail": dict(sorted(finding.detail.items())),
        "synthesized": list(finding.synthesized),
        "suppression": None if finding.suppression is None else {
            "kind": finding.suppression.kind,
            "justification": finding.suppression.justification,
            "origin": finding.suppression.origin,
        },
    }


def ref_entry(ref: ObjectRef, namespace: str | None) -> dict[str, Any]:
    """An object as Helm installs it: without a namespace of its own, it lands in the
    release's (every object a finding names makes or selects pods: all are namespaced)."""
    return {"kind": ref.kind, "name": ref.name, "namespace": ref.namespace or namespace}


def write_json(reports: Sequence[ChartReport], stream: TextIO) -> None:
    json.dump(report_document(reports), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
