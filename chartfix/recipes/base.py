"""What a recipe is: detection and edit planning for one kind of bug, nothing else.

A recipe reads the chart as rendered (objects, findings) and as written (template outlines)
and returns a `Plan`: text edits, the findings they are meant to fix, and the changes they
are allowed to make to rendered objects. Rendering again, verifying, diffing, writing and
committing all live elsewhere, so a recipe stays a pure function of its context.
"""

from __future__ import annotations

import collections.abc
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cached_property
from typing import (
    TYPE_CHECKING,
    Any,
    ParamSpec,
    Protocol,
    TypeVar,
    get_args,
    get_origin,
    get_type_hints,
)

from chartfix.model.changes import FixUnit, Refused, Unfixed
from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.findings import Finding
from chartfix.model.objects import FileDocument, K8sObject, ObjectRef, Origin, Rendering

if TYPE_CHECKING:
    from chartfix.sources.base import Source


RECIPE_SECTIONS = ("What it fixes", "What it does", "Example", "Fix safety")
"""The `##` sections of every recipe's doc, in order (a rule's are in chartfix.rules)."""


def label_edits(
    context: RecipeContext, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
) -> tuple[list[PlannedEdit], list[LabelChange]]:
    """The source's edits making `changes` to `obj`, and what they change in rendered objects
    (for verification): the changes asked for, but removals from a selector the API server
    defaults (there was none to remove from), plus what the edits report besides (a
    defaulted selector written out copies the pod labels). Refused: the source's reason."""
    edits = context.source.label_edits(obj, rendering, changes)
    made = [
        c for c in changes
        if not (c.removed and obj.selector_defaulted and c.path == obj.selector_path())
    ]
    made += [c for planned in edits for c in planned.changes]
    return edits, made


def overridden_targets(
    findings: Sequence[Finding], edits: Sequence[PlannedEdit], ref: object
) -> tuple[list[Finding], list[Unfixed]]:
    """The findings as `edits` fix them, and those they leave: where some scenario's own
    values override an edit (`PlannedEdit.overridden`: a ci/ file keeps the chart's toggle
    off), the findings are targeted in the other scenarios only, and left there with the
    reason (the scenario's choice). A finding seen only in such scenarios is not targeted."""
    overridden = {s: why for planned in edits for s, why in planned.overridden}
    if not overridden:
        return list(findings), []
    targets: list[Finding] = []
    left: list[Unfixed] = []
    for finding in findings:
        kept = [s for s in finding.scenarios if s in overridden]
        if not kept:
            targets.append(finding)
            continue
        reasons = "; ".join(dict.fromkeys(overridden[s] for s in kept))
        rest = tuple(s for s in finding.scenarios if s not in overridden)
        how = (
            "there; the fix changes the chart's default" if rest
            else "(changing the chart's default would change nothing there)"
        )
        left.append(Unfixed(finding, f"{reasons}: {ref} is left as those values ask {how}"))
        if rest:
            targets.append(replace(finding, scenarios=rest))
    return targets, left


P = ParamSpec("P")


@dataclass
class Plan:
    """What a recipe plans: the units to verify, and the findings it refused, with why."""

    units: list[FixUnit] = field(default_factory=list)
    refused: list[Unfixed] = field(default_factory=list)

    def attempt(
        self,
        findings: Sequence[Finding],
        make: Callable[P, FixUnit | Plan],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """What `make(*args, **kwargs)` plans for `findings` added: a unit, or a plan of its
        own (units, and findings it refuses); when it raises `Refused`, `findings` are
        refused with its reason (as LibCST's runner records a codemod's `SkipFile`)."""
        try:
            made = make(*args, **kwargs)
        except Refused as why:
            self.refused.extend(Unfixed(f, why.reason) for f in findings)
            return
        if isinstance(made, Plan):
            self.units += made.units
            self.refused += made.refused
        else:
            self.units.append(made)


@dataclass(frozen=True)
class RecipeOptions:
    """A recipe's own options (OpenRewrite's `@Option` fields): a frozen dataclass, subclassed
    per recipe, whose fields are made with `option(...)`. This base declares none: a recipe
    without options uses it as it is."""

    @classmethod
    def declared(cls) -> tuple[RecipeOption, ...]:
        """The options as a recipe file, `chartfix recipes NAME` and the schema see them."""
        hints = get_type_hints(cls)
        return tuple(
            RecipeOption(
                f.metadata["name"], f.name, _kind(hints[f.name]), f.metadata["description"],
                f.metadata["example"], f.metadata["check"],
            )
            for f in fields(cls)
            if "name" in f.metadata
        )

    @classmethod
    def of(cls: type[OptionsT], *layers: Mapping[str, Any]) -> OptionsT:
        """The options `layers` give (each: option name as written -> value; later layers
        win, a mapping option merges name by name). Names this recipe does not declare are
        left: the command line's `--component` is for the recipes that name components.
        ValueError when a value is no value of its option."""
        declared = {o.name: o for o in cls.declared()}
        values: dict[str, Any] = {}
        for layer in layers:
            for name, value in layer.items():
                option = declared.get(name)
                if option is None:
                    continue
                problem = option.check(value)
                if problem:
                    raise ValueError(f"`{name}`: {problem}")
                if option.kind is dict:
                    value = {**values.get(option.field, {}), **value}
                values[option.field] = value
        return cls(**values)


def option(
    name: str, description: str, example: str, default: Any = MISSING,
    default_factory: Any = MISSING, check: Callable[[Any], str | None] | None = None,
) -> Any:
    """A field of a recipe's options: its name in recipe files, what it means, an example,
    and `check`, why a well-typed value is still wrong (None when it is right)."""
    metadata = {"name": name, "description": description, "example": example, "check": check}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


OptionsT = TypeVar("OptionsT", bound=RecipeOptions)


def _kind(hint: Any) -> type:
    """str, bool or dict: the YAML shape an option's type annotation asks for."""
    if hint is bool:
        return bool
    origin = get_origin(hint)
    if origin in (dict, Mapping, collections.abc.Mapping):
        return dict
    args = [a for a in get_args(hint) if a is not type(None)]
    if (args and all(a is str for a in args)) or hint is str:
        return str
    raise TypeError(f"recipe options are str, bool or Mapping[str, str], not {hint}")


_Rendered = tuple[str, FileDocument, ObjectRef]
"""An object of a run by what tells it apart: the scenario that rendered it, the document it
was read from and its kind, namespace and name."""


def _rendered(obj: K8sObject, rendering: Rendering) -> _Rendered:
    return (rendering.scenario, obj.document, obj.ref)


@dataclass(frozen=True)
class RecipeContext:
    """What a recipe decides on: the target (its `Source`: name and versions, where objects
    are written and how to edit them, whatever its kind), its renderings, the findings to
    fix and the recipe's own options; and the release the target was rendered for (run
    context, not an option: it names what is rendered, not how to fix it)."""

    source: Source
    renderings: Sequence[Rendering]
    findings: Sequence[Finding]
    options: Any = field(default_factory=RecipeOptions)
    """The running recipe's own options: an instance of its `Options`."""
    release: str = "release-name"
    namespace: str = "default"
    safe_only: bool = False
    """`fix --safe-only` (or a recipe file's `safe-only`): plan the fixes that change no
    immutable field wherever there are some; the others are dropped before verification."""

    def scenario_of(self, finding: Finding) -> Rendering:
        """The first rendering in which `finding` appears (its objects hold the evidence)."""
        for rendering in self.renderings:
            if rendering.scenario in finding.scenarios:
                return rendering
        return self.renderings[0]

    def find(self, rendering: Rendering, ref: ObjectRef) -> K8sObject | None:
        return rendering.find(ref)

    def origin(self, obj: K8sObject, rendering: Rendering) -> Origin:
        """`Source.origin` of `obj`, asked of the source once per object of the run."""
        known = self._origins[0].get(_rendered(obj, rendering))
        return known if known is not None else self.source.origin(obj, rendering)

    def written_by(self, origin: Origin) -> list[tuple[K8sObject, Rendering]]:
        """Every object the source piece `origin` writes, in every scenario (first first)."""
        return self._origins[1].get(origin, [])

    def instances(self, origin: Origin) -> list[tuple[K8sObject, Rendering]]:
        """The objects `origin` writes of a kind it may render, in every scenario (first
        first)."""
        return [(obj, r) for obj, r in self.written_by(origin) if origin.writes(obj.kind)]

    @cached_property
    def _origins(
        self,
    ) -> tuple[dict[_Rendered, Origin], dict[Origin, list[tuple[K8sObject, Rendering]]]]:
        """One pass over every rendered object: a recipe asking, for each of N workloads,
        which objects its source piece writes would otherwise ask N x N times."""
        by_object: dict[_Rendered, Origin] = {}
        by_origin: dict[Origin, list[tuple[K8sObject, Rendering]]] = {}
        for rendering in self.renderings:
            for obj in rendering.objects:
                key = self.source.origin(obj, rendering)
                by_object[_rendered(obj, rendering)] = key
                by_origin.setdefault(key, []).append((obj, rendering))
        return by_object, by_origin


@dataclass(frozen=True)
class RecipeOption:
    """An option a recipe declares, as recipe files write it: its name, the field of the
    recipe's `Options` it sets, its type, what it means, an example, and its own check."""

    name: str
    field: str
    kind: type
    description: str
    example: str
    extra_check: Callable[[Any], str | None] | None = None

    def check(self, value: Any) -> str | None:
        """Why `value` is no value of this option; None when it is."""
        if self.kind is bool:
            return None if isinstance(value, bool) else "must be true or false"
        if self.kind is dict:
            if not isinstance(value, dict) or not value:
                return "must map workload names or patterns to values"
            bad = [k for k, v in value.items() if not isinstance(v, str) or not v]
            if bad:
                return f"the value for {bad[0]!r} must be a string"
        elif not isinstance(value, str) or not value:
            return "must be a non-empty string"
        return self.extra_check(value) if self.extra_check else None


class Recipe(Protocol):
    """One kind of fix. Besides these, a recipe may have `Options`, its `RecipeOptions`
    subclass (none when it has no such attribute), and a docstring in `##` sections (the
    class's, else its module's: see `recipe_doc`)."""

    name: str
    summary: str
    rules: frozenset[str]
    """Codes of the findings this recipe fixes."""

    def plan(self, context: RecipeContext) -> Plan: ...


def options_class(recipe: Recipe) -> type[RecipeOptions]:
    """The recipe's `Options` (RecipeOptions itself when it declares none)."""
    declared = getattr(recipe, "Options", RecipeOptions)
    if not (isinstance(declared, type) and issubclass(declared, RecipeOptions)):
        raise TypeError(f"recipe {recipe.name}: Options must subclass RecipeOptions")
    return declared


def options_of(recipe: Recipe) -> tuple[RecipeOption, ...]:
    """The options a recipe declares (none when it declares nothing)."""
    return options_class(recipe).declared()


def recipe_doc(recipe: Recipe) -> str:
    """The recipe's documentation: its class's docstring, else its module's (a recipe module
    holds one recipe, as a rule module holds one rule)."""
    own = type(recipe).__dict__.get("__doc__")
    if own:
        return inspect.cleandoc(own)
    module = sys.modules.get(type(recipe).__module__)
    return inspect.cleandoc(module.__doc__ or "") if module is not None else ""
