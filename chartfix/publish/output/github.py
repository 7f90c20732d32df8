"""GitHub Actions workflow commands: one `::error`/`::warning` annotation per finding, as
ruff and other linters print them (`--format github`), so a pull request shows each finding
on its template line.

Files are named relative to the repository's top (GitHub resolves them from the workspace,
whatever folder the step ran in). Repository text is escaped as the runner requires: `%`,
CR and LF in the message; also `:` and `,` in the properties (file, title).
https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from chartfix.model.findings import Finding
from chartfix.publish.output import display_path, in_repository, remediation, repository_path

if TYPE_CHECKING:
    from chartfix.model.report import ChartReport


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str) -> str:
    """`::level key=value,...::message`, every part escaped."""
    said = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{level}{' ' if said else ''}{said}::{escape_data(message)}"


def annotation(report: ChartReport, finding: Finding) -> str:
    properties = {"file": repository_path(report.root, finding)}
    if finding.location.line is not None:
        properties["line"] = str(finding.location.line)
    properties["title"] = f"chartfix ({finding.rule})"
    message = f"{finding.obj}: {finding.message}\n{remediation(finding)}"
    return command(finding.severity, message, **properties)


def write_github(reports: Sequence[ChartReport], stream: TextIO) -> None:
    """One line per finding, and one `::error` per chart that could not be processed (on its
    folder); suppressed findings are not annotated."""
    for report in reports:
        if report.error is not None:
            found = in_repository(report.root)
            where = found[1] if found else display_path(report.root)
            stream.write(command("error", str(report.error), file=where, title="chartfix") + "\n")
            continue
        for finding in report.findings:
            stream.write(annotation(report, finding) + "\n")
