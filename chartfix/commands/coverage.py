"""Coverage: of the charts found, how many could chartfix look at at all?

A chart is analysed when at least one of its scenarios rendered (with its own values, the
organisation's, or synthesized ones); the others are errors, counted by kind of reason.
bulk prints this under its final table; benchmarks/fix_rate.py prints it per tree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from chartfix.publish.output import features_said, plural

ERROR_KINDS = (
    # (kind, pattern over the error line with paths left out), first match wins
    ("a cdk8s app not run (see --run-apps)", r"^not run: "),
    ("a required/fail check no placeholder satisfies", r"execution error at"),
    ("values schema", r"schema"),
    ("a Helm 2 built-in Helm 3 lacks (.Release.Time)", r"\.Release\.Time\b"),
    ("nil pointer off values", r"nil pointer"),
    ("a dependency is missing or unusable", r"[Dd]ependenc|missing in charts/|no template"),
    ("a template function failed", r"error calling|executing|template:"),
    ("a symlink leaves the repository", r"symlink"),
    ("rendered YAML does not parse", r"rendered invalid YAML"),
    ("unreadable chart files", r"invalid (?:values )?YAML|cannot read|Chart\.yaml"),
    ("chartfix failed", r"chartfix failed"),
)


def error_kind(error: str) -> str:
    """A short kind for a chart's (or scenario's) error line, for counting."""
    text = re.sub(r"\S*/\S*\.(?:yaml|yml|tpl|txt)\b", "…", error)
    for kind, pattern in ERROR_KINDS:
        if re.search(pattern, text):
            return kind
    return "other"


@dataclass
class Coverage:
    found: int = 0
    analyzed: int = 0
    synthesized: int = 0
    """Analysed charts with at least one scenario rendered with synthesized values."""
    partial: int = 0
    """Analysed charts with some scenario that still could not render."""
    errors: Counter[str] = field(default_factory=Counter)
    earlier: int = 0
    """Charts a resumed bulk run skipped as done: analysed by an earlier run."""
    switches: int = 0
    """Feature scenarios rendered (off-by-default switches turned on)."""
    feature_objects: int = 0
    """Objects those scenarios rendered beyond the first scenario's."""

    def add(
        self, error: str | None, synthesized: bool = False, partial: bool = False,
        features: Mapping[str, int] | None = None,
    ) -> None:
        self.found += 1
        if error:
            self.errors[error_kind(error)] += 1
            return
        self.analyzed += 1
        self.synthesized += synthesized
        self.partial += partial
        self.switches += len(features or {})
        self.feature_objects += sum((features or {}).values())

    def skipped_as_done(self, count: int) -> None:
        self.found += count
        self.analyzed += count
        self.earlier += count

    def lines(self) -> list[str]:
        share = f"{self.analyzed / self.found:.0%}" if self.found else ""
        if self.earlier:
            share += f"; {self.earlier} of them by an earlier run"
        first = (
            f"coverage: {self.found} charts found, {self.analyzed} analyzed"
            + (f" ({share})" if share else "")
            + f", {self.synthesized} {'in this run ' if self.earlier else 'of them '}"
            "with synthesized values"
        )
        if self.partial:
            first += f", {self.partial} with a scenario that could not render"
        if self.switches:
            first += f", {features_said(self.switches, self.feature_objects)}"
        errors = sum(self.errors.values())
        out = [first + f"; {plural(errors, 'error')}" + (":" if errors else "")]
        out += [f"  {n} x {kind}" for kind, n in self.errors.most_common()]
        return out
