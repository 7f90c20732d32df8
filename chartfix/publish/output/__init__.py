"""Report formats for `chartfix check`: text for people, JSON for scripts, SARIF for CI.

All three read the same `ChartReport`s and agree on paths: a file below the current
directory is shown relative to it, anything else absolute.
"""

from __future__ import annotations

import os
from pathlib import Path

from chartfix.errors import display_path
from chartfix.model.findings import Finding


def finding_path(chart_root: Path, finding: Finding) -> str:
    """The finding's template file as the user should see it (relative to cwd when below)."""
    return display_path(Path(os.path.normpath(chart_root / finding.location.path)))


def fingerprint(chart_name: str, finding: Finding) -> str:
    """What identifies a finding from run to run: chart, rule, object and related objects
    (random names in their stable form, `x-test-*`), never a line number or a message."""
    return "|".join([chart_name, finding.rule, str(finding.obj), *map(str, finding.related)])


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


__all__ = ["display_path", "finding_path", "fingerprint", "plural"]
