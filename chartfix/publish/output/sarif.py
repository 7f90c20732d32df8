"""SARIF 2.1.0 for code-scanning services (GitHub, GitLab, Azure DevOps).

One run, tool `chartfix`, one reporting descriptor per rule (its help text is the rule's
docstring; its `name` PascalCase, its `helpUri` the docs), one result per finding located at
the template file and line: relative to `%SRCROOT%`, the git repository the run is in, so
code scanning finds the file from whichever folder the step ran. Charts that could
not be processed become error notifications of the run's invocation, which is then marked
unsuccessful: a scanner must not read "no results" as "clean". Suppressed findings are
results with `suppressions` (kind `inSource` for an annotation, `external` for a
`.chartfix.yaml` entry; the reason is the justification); suppressions that match nothing
are warning-level tool configuration notifications.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from chartfix import DOCS_URL, __version__
from chartfix.files import git_repository
from chartfix.model.findings import Finding
from chartfix.publish.output import display_path, fingerprint, remediation
from chartfix.rules import RULES, Rule
from chartfix.sources.base import synthesized_note, unrendered_note

if TYPE_CHECKING:
    from chartfix.model.report import ChartReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def source_root() -> Path:
    """What `%SRCROOT%` stands for: the git repository the run is in (code scanning names
    files from the repository's top, whatever folder the step ran in), else the current
    folder."""
    return git_repository(Path.cwd()) or Path.cwd().resolve()


def location(path: Path) -> dict[str, Any]:
    """An artifactLocation: relative to `%SRCROOT%` for a file below it, else an absolute
    file:// URI."""
    absolute = Path(os.path.abspath(path))
    root = source_root()
    for candidate in (absolute, absolute.resolve()):
        if candidate.is_relative_to(root):
            return {"uri": quote(candidate.relative_to(root).as_posix()), "uriBaseId": SRCROOT}
    return {"uri": absolute.as_uri()}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    what = rule.section("What it does")
    help_md = "\n\n".join(
        f"## {title}\n{rule.section(title)}"
        for title in ("What it does", "Why it matters", "Example", "How to fix", "Fix safety")
        if rule.section(title)
    )
    return {
        "id": rule.code,
        "name": rule.name,
        "helpUri": f"{DOCS_URL}output.md#rules",
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(what.split())},
        "help": {"text": " ".join(rule.section("How to fix").split()), "markdown": help_md},
        "defaultConfiguration": {"level": rule.severity},
    }


def result(report: ChartReport, finding: Finding, rule_index: int) -> dict[str, Any]:
    region = {"startLine": finding.location.line} if finding.location.line else None
    physical: dict[str, Any] = {
        "artifactLocation": location(report.root / finding.location.path)
    }
    if region:
        physical["region"] = region
    entry: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": finding.severity,
        "message": {"text": f"{finding.message}. {remediation(finding)}"},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"chartfix/v1": fingerprint(report.name, finding)},
        "properties": {
            "chart": display_path(report.root),
            "object": str(finding.obj),
            "related": [str(r) for r in finding.related],
            "scenarios": list(finding.scenarios),
        },
    }
    if finding.impact is not None:
        entry["properties"]["impact"] = finding.impact
        entry["properties"]["effects"] = list(finding.effects)
    synthesized = {s: report.synthesized[s] for s in finding.scenarios if s in report.synthesized}
    if synthesized:
        entry["properties"]["synthesized"] = synthesized
        entry["message"]["text"] += " " + " ".join(
            f"({synthesized_note(s, v)})" for s, v in synthesized.items()
        )
    if rule_index >= 0:
        entry["ruleIndex"] = rule_index
    if finding.suppression is not None:
        accepted = finding.suppression
        suppression: dict[str, Any] = {"kind": accepted.kind, "status": "accepted"}
        if accepted.justification:
            suppression["justification"] = accepted.justification
        suppression["properties"] = {"origin": accepted.origin}
        entry["suppressions"] = [suppression]
    return entry


def sarif_document(reports: Sequence[ChartReport]) -> dict[str, Any]:
    codes = list(RULES)
    results = [
        result(report, f, codes.index(f.rule) if f.rule in codes else -1)
        for report in reports
        for f in [*report.findings, *report.suppressed]
    ]
    notifications = [
        *(_notification("error", str(r.error), r.root) for r in reports if r.error is not None),
        *(
            _notification("warning", unrendered_note(name, why), r.root)
            for r in reports
            for name, why in r.unrendered.items()
        ),
    ]
    configuration = [
        _notification("warning", unused, r.root)
        for r in reports
        for unused in r.unused_suppressions
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "chartfix",
                        "version": __version__,
                        "informationUri": DOCS_URL,
                        "rules": [rule_descriptor(RULES[c]) for c in codes],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not any(
                            n["level"] == "error" for n in notifications
                        ),
                        "toolExecutionNotifications": notifications,
                        "toolConfigurationNotifications": configuration,
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": source_root().as_uri() + "/"}},
                "results": results,
            }
        ],
    }


def _notification(level: str, text: str, root: Path) -> dict[str, Any]:
    """A tool notification about a whole target (`root`): an error, a scenario that did not
    render, a suppression nothing used."""
    return {
        "level": level,
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": location(root)}}],
    }


def write_sarif(reports: Sequence[ChartReport], stream: TextIO) -> None:
    json.dump(sarif_document(reports), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
