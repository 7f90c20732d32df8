"""What `check` learned about one chart: the findings that count, and why some did not.

Every output format (text, JSON, SARIF) and the bulk report read these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chartfix.errors import TargetError
from chartfix.model.findings import Analysis, Finding
from chartfix.model.objects import Rendering


@dataclass
class ChartReport:
    """What `check` learned about one chart; picklable, so it can come back from a worker."""

    root: Path
    name: str
    namespace: str = "default"
    """The release namespace it was rendered for: where its objects without one land."""
    findings: list[Finding] = field(default_factory=list)
    """The findings that count (not suppressed, of enabled rules, at their set severity)."""
    warnings: list[str] = field(default_factory=list)
    engine_log: list[str] = field(default_factory=list)
    """What Helm's engine logged while rendering the chart (Rendering.engine_log): text
    output shows it in the chart's section; JSON and SARIF keep stdout for their document."""
    error: TargetError | None = None
    skipped: str | None = None
    """Why the target was not checked (a cdk8s app the user did not allow to run)."""
    stand_in: str | None = None
    """What was checked instead of the target's source (a cdk8s app not run: its committed
    output folder, `dist/`); None: the source itself."""
    scenarios: list[str] = field(default_factory=list)
    synthesized: dict[str, list[str]] = field(default_factory=dict)
    """Scenario -> the placeholder values chartfix made up so it renders (`a.b="placeholder"`):
    findings under it come from values that are not the chart's own."""
    unrendered: dict[str, str] = field(default_factory=dict)
    """Scenario -> why it could not render even so; the others were analysed."""
    features: dict[str, int] = field(default_factory=dict)
    """Feature scenario (`feature: pdb.enabled=true`) -> how many objects it rendered that
    the first scenario does not: what the off-by-default switches add."""
    renderings: list[Rendering] = field(default_factory=list, repr=False)
    """The evidence (not serialized; dropped when the report crosses processes)."""
    suppressed: list[Finding] = field(default_factory=list)
    """Accepted findings, each with its `suppression`."""
    unused_suppressions: list[str] = field(default_factory=list)
    """Suppressions that matched nothing in the run (filled in by `settle_suppressions`)."""
    suppressions: Analysis = field(default_factory=Analysis, repr=False)
    """Suppressions declared and used in this chart, by id."""

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warning_findings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")
