"""What a recipe is: detection and edit planning for one kind of bug, nothing else.

A recipe reads the chart as rendered (objects, findings) and as written (template outlines)
and returns a `Plan`: text edits, the findings they are meant to fix, and the changes they
are allowed to make to rendered objects. Rendering again, verifying, diffing, writing and
committing all live elsewhere, so a recipe stays a pure function of its context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from chartfix.model.changes import Unfixed
from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef, Rendering
from chartfix.sources.helm.template.locate import ChartSources

if TYPE_CHECKING:
    from chartfix.rules import ChartInfo
    from chartfix.sources.base import Source

Applicability = Literal["safe", "unsafe"]


@dataclass
class FixUnit:
    """Edits that only make sense together (a controller's selector and its pod labels), the
    findings they fix and what they change in rendered objects. Verification keeps or drops
    a unit as a whole."""

    title: str
    edits: list[PlannedEdit]
    targets: list[Finding]
    changes: dict[tuple[str, str], list[LabelChange]]
    """Allowed changes by (template path, kind) of the objects they apply to: one edit in a
    `range` or `define` changes every object that source renders."""
    applicability: Applicability
    notes: list[str] = field(default_factory=list)
    fallback: FixUnit | None = None
    """A smaller unit to try when this one fails verification (the controller without the
    consumers that were meant for it)."""


@dataclass
class Plan:
    units: list[FixUnit] = field(default_factory=list)
    refused: list[Unfixed] = field(default_factory=list)


@dataclass(frozen=True)
class FixOptions:
    """What the user may steer: component values per workload, labelling Jobs too."""

    components: Mapping[str, str] = field(default_factory=dict)
    """Workload name (rendered, or its suffix after the release fullname) or shell-style name
    pattern (`*-server`) -> component value; an exact name wins over a pattern."""
    label_jobs: bool = False
    component_key: str | None = None
    """The component label's key; None: the chart's own convention."""
    release: str = "release-name"
    namespace: str = "default"


@dataclass(frozen=True)
class RecipeContext:
    chart: ChartInfo
    sources: ChartSources | None
    """A Helm chart's templates (None for other source kinds): for the Helm-only recipes
    and template shapes; everything else asks `source`."""
    renderings: Sequence[Rendering]
    findings: Sequence[Finding]
    options: FixOptions
    source: Source
    """The target's source kind: where objects are written, and how to edit them."""

    @property
    def templates(self) -> ChartSources:
        """The chart's templates, for what only Helm recipes and template shapes need;
        they check `sources` first for other kinds."""
        if self.sources is None:
            raise TypeError(f"{self.source.kind} sources have no Helm templates")
        return self.sources

    def scenario_of(self, finding: Finding) -> Rendering:
        """The first rendering in which `finding` appears (its objects hold the evidence)."""
        for rendering in self.renderings:
            if rendering.scenario in finding.scenarios:
                return rendering
        return self.renderings[0]

    def find(self, rendering: Rendering, ref: ObjectRef) -> K8sObject | None:
        return rendering.find(ref)


@dataclass(frozen=True)
class RecipeOption:
    """An option a recipe declares (OpenRewrite's `@Option`): how a recipe file writes it,
    the `FixOptions` field it sets, its type, and what it means."""

    name: str
    field: str
    kind: type
    description: str
    example: str

    def check(self, value: Any) -> str | None:
        """Why `value` is no value of this option; None when it is."""
        if self.kind is bool:
            return None if isinstance(value, bool) else "must be true or false"
        if self.kind is dict:
            if not isinstance(value, dict) or not value:
                return "must map workload names or patterns to values"
            bad = [k for k, v in value.items() if not isinstance(v, str) or not v]
            return f"the value for {bad[0]!r} must be a string" if bad else None
        return None if isinstance(value, str) and value else "must be a non-empty string"


class Recipe(Protocol):
    name: str
    summary: str
    rules: frozenset[str]
    """Codes of the findings this recipe fixes."""

    def plan(self, context: RecipeContext) -> Plan: ...


def options_of(recipe: Recipe) -> tuple[RecipeOption, ...]:
    """The options a recipe declares (none when it declares nothing)."""
    return tuple(getattr(recipe, "options", ()))
