"""What a recipe is: detection and edit planning for one kind of bug, nothing else.

A recipe reads the chart as rendered (objects, findings) and as written (template outlines)
and returns a `Plan`: text edits, the findings they are meant to fix, and the changes they
are allowed to make to rendered objects. Rendering again, verifying, diffing, writing and
committing all live elsewhere, so a recipe stays a pure function of its context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from chartfix.changes import Unfixed
from chartfix.findings import Finding
from chartfix.objects import K8sObject, ObjectRef, Rendering
from chartfix.template.edit import Edit
from chartfix.template.locate import ChartSources

if TYPE_CHECKING:
    from chartfix.chart import Chart

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class LabelChange:
    """A change a plan may make to rendered objects at `path` (`spec.selector.matchLabels`...):
    `key` added with `value` (any value when None: a templated value), or removed.
    Verification allows exactly these."""

    path: str
    key: str
    value: str | None
    removed: bool = False


@dataclass(frozen=True)
class PlannedEdit:
    path: str
    """Chart-relative file the edit applies to."""
    edit: Edit
    why: str


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
    """Workload name (rendered, or its suffix after the release fullname) -> component value."""
    label_jobs: bool = False
    release: str = "release-name"
    namespace: str = "default"


@dataclass(frozen=True)
class RecipeContext:
    chart: Chart
    sources: ChartSources
    renderings: Sequence[Rendering]
    findings: Sequence[Finding]
    options: FixOptions

    def scenario_of(self, finding: Finding) -> Rendering:
        """The first rendering in which `finding` appears (its objects hold the evidence)."""
        for rendering in self.renderings:
            if rendering.scenario in finding.scenarios:
                return rendering
        return self.renderings[0]

    def find(self, rendering: Rendering, ref: ObjectRef) -> K8sObject | None:
        return rendering.find(ref)


class Recipe(Protocol):
    name: str
    summary: str
    rules: frozenset[str]
    """Codes of the findings this recipe fixes."""

    def plan(self, context: RecipeContext) -> Plan: ...


def registry() -> dict[str, Recipe]:
    """Built-in recipes by name, in the order they run."""
    from chartfix.recipes.component_labels import ComponentLabels
    from chartfix.recipes.stable_selectors import StableSelectors

    recipes: list[Recipe] = [StableSelectors(), ComponentLabels()]
    return {r.name: r for r in recipes}
