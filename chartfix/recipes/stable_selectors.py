"""stable-selectors: selectors hold only labels that never change for a release.

## What it fixes
`volatile`: a selector entry holding the chart version (`helm.sh/chart`, `chart:
NAME-VERSION`) or the app version (`app.kubernetes.io/version`, `version`). Every `helm
upgrade` that bumps it then fails on an immutable selector, or (Services) silently stops
matching pods that were not restarted (docs/domain.md §3).

## What it does
Remove the entry from controller and consumer selectors; keep it in metadata and pod
template labels. A literal entry is deleted in place. When the entry comes from a helper
that also feeds metadata labels, the helper is split: a selector-only helper without the
volatile lines is added next to it, and the selectors include that one instead. A selector
the API server defaults from the pod labels (extensions/v1beta1, apps/v1beta1 without
`spec.selector`) is written out, of the stable literal pod label lines. When the volatile
entry was all that told a controller's pods from another workload's, the same unit gives
the controller a component label (as component-labels would, with this recipe's
`component-key` and `components`) and the consumers meant for it select on that label.

## Example
Before, `templates/app.yaml`:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
      chart: {{ .Chart.Name }}-{{ .Chart.Version }}
  template:
    metadata:
      labels:
        app: web
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    app: web
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
  ports:
    - port: 80
```

After, `templates/app.yaml`: the pods keep the label, the selectors lose it.
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    app: web
  ports:
    - port: 80
```

## Fix safety
Unsafe for controllers (`spec.selector` is immutable: the migration note says what to do);
safe for Services, PodDisruptionBudgets and NetworkPolicies.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass

from chartfix.model.changes import Unfixed
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef, Rendering
from chartfix.model.selectors import LabelSelector
from chartfix.recipes.base import (
    FixUnit,
    LabelChange,
    Plan,
    PlannedEdit,
    RecipeContext,
    label_edits,
    unique_edits,
)
from chartfix.recipes.component_labels import (
    ComponentNaming,
    Label,
    consumer_edit,
    controller_label_edits,
)
from chartfix.recipes.explicit_selector import SELECTOR, unstable_removals
from chartfix.rules.attribution import controllers_selected
from chartfix.rules.volatile import MANAGER_KEYS
from chartfix.sources.helm.template.edit import Edit, NotEditable, remove_entry
from chartfix.sources.helm.template.helpers import Helper, find_helpers, included_helper
from chartfix.sources.helm.template.lexer import Action
from chartfix.sources.helm.template.outline import MappingSite

SELECTOR_HELPER_NAMES = ("matchLabels", "selectorLabels")


@dataclass
class _Target:
    finding: Finding
    obj: K8sObject
    site: MappingSite
    keys: list[str]
    path: str
    """The file that writes the selector: the object's template, or the define it includes."""


class StableSelectors:
    name = "stable-selectors"
    summary = "Remove chart and app versions from selectors"
    rules = frozenset({"volatile"})
    Options = ComponentNaming
    """When a version was all that told two workloads apart, the controller gets a component
    label in the same change, named as component-labels would name it."""

    def plan(self, context: RecipeContext) -> Plan:
        plan = Plan()
        if context.sources is None:  # no helpers to split: each source removes the entries
            for finding in [f for f in context.findings if f.rule in self.rules]:
                unit = _defaulted_unit(context, finding) or _removal_unit(context, finding)
                if isinstance(unit, str):
                    plan.refused.append(Unfixed(finding, unit))
                else:
                    plan.units.append(unit)
            plan.units = _kept_apart(context, plan.units)
            return plan
        by_helper: dict[str, list[tuple[_Target, list[str]]]] = defaultdict(list)
        by_library_helper: dict[str, list[_Target]] = defaultdict(list)
        helpers = find_helpers(context.templates)
        for finding in context.findings:
            if finding.rule != "volatile":
                continue
            defaulted = _defaulted_unit(context, finding)
            if defaulted is not None:
                if isinstance(defaulted, str):
                    plan.refused.append(Unfixed(finding, defaulted))
                else:
                    plan.units.append(defaulted)
                continue
            target = _target(context, finding)
            if isinstance(target, str):
                plan.refused.append(Unfixed(finding, target))
                continue
            literal = [k for k in target.keys if k in target.site.literal_keys()]
            generated = [k for k in target.keys if k not in literal]
            if not generated:
                unit = _literal_unit(target, literal)
                if isinstance(unit, str):
                    plan.refused.append(Unfixed(finding, unit))
                else:
                    plan.units.append(unit)
                continue
            helper = _helper_writing(target.site, generated, helpers)
            if isinstance(helper, str):
                library = _library_helper(target.site, helpers)
                if library is None or literal:
                    plan.refused.append(Unfixed(finding, helper))
                else:
                    by_library_helper[library].append(target)
                continue
            by_helper[helper.name].append((target, literal))
        for name, targets in sorted(by_helper.items()):
            unit = _split_unit(context, helpers, name, targets)
            if isinstance(unit, str):
                plan.refused.extend(Unfixed(t.finding, unit) for t, _ in targets)
            else:
                plan.units.append(unit)
        for name, library_targets in sorted(by_library_helper.items()):
            plan.units.append(_switch_units(context, name, library_targets))
        plan.units = _kept_apart(context, plan.units)
        return plan


def volatile_keys(obj: K8sObject, finding: Finding) -> list[str]:
    """Selector keys of `obj` (matchLabels only: those are what templates write as lines)
    that `finding` of the `volatile` rule names: values that change with the next release,
    and the release manager (`heritage`), which changed once already. The pipeline hands the
    recipe a finding only when it is to be fixed (errors; warnings too when the recipe was
    asked for by name), and fixing it means removing every key it names."""
    selector = obj.selector
    named = [
        k.strip()
        for field in ("keys", "warning_keys")
        for k in finding.detail.get(field, "").split(",")
    ]
    labels = selector.match_labels if selector is not None else {}
    return [k for k in dict.fromkeys(named) if k in labels]


def _target(context: RecipeContext, finding: Finding) -> _Target | str:
    rendering: Rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None:
        return f"{finding.obj} not found in the rendered chart"
    if obj.source.path.startswith("charts/"):
        return f"{finding.obj} comes from a subchart: fix it there"
    keys = volatile_keys(obj, finding)
    if not keys:
        return f"{finding.obj}: the volatile entry is in matchExpressions; edit it by hand"
    path = obj.selector_path()
    place = context.templates.place_for(obj, rendering.objects)
    site = place.doc.sites.get(path) if place and path else None
    if place is None or site is None:
        return f"{obj.source.path}: {path} of {obj.ref} is not written in the template"
    if place.shared:
        return f"{place.shared_reason(obj.ref)}; edit it by hand"
    return _Target(finding, obj, site, keys, place.path)


def _defaulted_unit(context: RecipeContext, finding: Finding) -> FixUnit | str | None:
    """A selector the API server fills in from the pod labels, written out of the stable
    ones; None when the finding's object writes its own selector."""
    rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None or not obj.selector_defaulted or obj.source.path.startswith("charts/"):
        return None
    removals = unstable_removals(context, obj)
    removals += [
        c for c in _removals(SELECTOR, volatile_keys(obj, finding)) if c not in removals
    ]
    written = label_edits(context, obj, rendering, removals)
    if isinstance(written, str):
        return written
    edits, changes = written
    return FixUnit(
        f"{obj.ref}: write its defaulted selector out, without {finding.detail.get('keys')}",
        edits,
        [finding],
        {(obj.source.path, obj.kind): changes},
        "unsafe",
    )


def _removal_unit(context: RecipeContext, finding: Finding) -> FixUnit | str:
    """The volatile keys removed from the selector wherever the source writes them (any
    source kind but Helm, whose helpers the units above split)."""
    rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None:
        return f"{finding.obj} not found in the rendered {context.source.kind} source"
    keys = volatile_keys(obj, finding)
    path = obj.selector_path()
    if not keys or path is None:
        return f"{finding.obj}: the volatile entry is in matchExpressions; edit it by hand"
    planned = label_edits(context, obj, rendering, _removals(path, keys))
    if isinstance(planned, str):
        return planned
    return FixUnit(
        f"{obj.ref}: remove {', '.join(keys)} from its selector",
        planned[0],
        [finding],
        {(obj.source.path, obj.kind): planned[1]},
        "unsafe" if obj.is_controller else "safe",
    )


def _removal_edits(target: _Target, keys: list[str]) -> list[PlannedEdit] | str:
    """Edits deleting the literal selector lines of `keys`; else why one cannot go."""
    edits = []
    for key in keys:
        try:
            edit = remove_entry(target.site, key)
        except NotEditable as err:
            return f"{target.path}:{target.site.line}: {err}"
        edits.append(PlannedEdit(target.path, edit, f"selector of {target.obj.ref}"))
    return edits


def _literal_unit(target: _Target, keys: list[str]) -> FixUnit | str:
    obj = target.obj
    edits = _removal_edits(target, keys)
    if isinstance(edits, str):
        return edits
    return FixUnit(
        f"{obj.ref}: remove {', '.join(keys)} from its selector",
        edits,
        [target.finding],
        {(obj.source.path, obj.kind): _removals(target.site.path, keys)},
        "unsafe" if obj.is_controller else "safe",
    )


def _helper_writing(
    site: MappingSite, keys: list[str], helpers: dict[str, Helper]
) -> Helper | str:
    """The chart's own helper, included in `site`, whose body writes `keys`; else why not."""
    included = _included_helpers(site)
    for name in included:
        helper = helpers.get(name)
        if helper is not None and all(_writes(helper, k) for k in keys):
            return helper
    if not included:
        return f"{', '.join(keys)} in {site.path} is not written in the chart's own templates"
    return (
        f"{', '.join(keys)} comes from {', '.join(included)}, which the chart does not define "
        "with literal lines (a subchart or nested helper): edit it by hand"
    )


def _included_helpers(site: MappingSite) -> list[str]:
    """Helpers `site` always includes (on its unconditional entry lines or its key line)."""
    lines = [e.line for e in site.entries if e.generated and not e.conditional]
    if site.inline_generator:
        lines.append(site.key_line)
    return [n for line in lines for a in line.output_actions if (n := included_helper(a))]


def _renamed_includes(
    context: RecipeContext, target: _Target, name: str, new_name: str
) -> list[PlannedEdit]:
    """Edits pointing the includes of helper `name` in target's selector at `new_name`."""
    obj = target.obj
    text = context.templates.outline(target.path).text
    edits = []
    quoted = f'"{name}"'
    for action in _include_actions(target.site, name):
        start = action.start + text[action.start : action.end].index(quoted)
        edits.append(
            PlannedEdit(
                target.path,
                Edit(start, start + len(quoted), f'"{new_name}"'),
                f"selector of {obj.ref} uses {new_name}",
            )
        )
    return edits


def _library_helper(site: MappingSite, helpers: dict[str, Helper]) -> str | None:
    """The one helper `site` includes that the chart does not define (a library's, such as
    `common.labels.standard`), if that is where the labels come from."""
    foreign = sorted({n for n in _included_helpers(site) if n not in helpers and "." in n})
    return foreign[0] if len(foreign) == 1 else None


def _switch_units(context: RecipeContext, name: str, targets: list[_Target]) -> FixUnit:
    """Selectors include the library's selector-only sibling of `name` instead (say
    `common.labels.matchLabels` for `common.labels.standard`): tried in turn as fallbacks,
    verification keeps the first that renders the same selectors less the volatile keys."""
    prefix = name.rsplit(".", 1)[0]
    candidates = [f"{prefix}.{suffix}" for suffix in SELECTOR_HELPER_NAMES]
    units = [_switch_unit(context, name, new, targets) for new in candidates if new != name]
    for unit, fallback in itertools.pairwise(units):
        unit.fallback = fallback
    return units[0]


def _switch_unit(
    context: RecipeContext, name: str, new_name: str, targets: list[_Target]
) -> FixUnit:
    edits = []
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    for target in targets:
        obj = target.obj
        edits += _renamed_includes(context, target, name, new_name)
        selector = obj.selector
        keys = [k for k in (selector.match_labels if selector else {}) if k in MANAGER_KEYS]
        changes[(obj.source.path, obj.kind)].extend(
            _removals(target.site.path, [*target.keys, *keys])
        )
    unsafe = any(t.obj.is_controller for t in targets)
    return FixUnit(
        f"selectors use {new_name} instead of {name}",
        unique_edits(edits),
        [t.finding for t in targets],
        dict(changes),
        "unsafe" if unsafe else "safe",
    )


def _writes(helper: Helper, key: str) -> bool:
    return _key_line(helper.body, key) is not None


def _key_line(body: str, key: str) -> re.Match[str] | None:
    quoted = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    return re.search(rf"(?m)^[ \t]*{quoted}:[^\n]*(?:\n|$)", body)


def _split_unit(
    context: RecipeContext,
    helpers: dict[str, Helper],
    name: str,
    targets: list[tuple[_Target, list[str]]],
) -> FixUnit | str:
    """Add a selector-only copy of helper `name` and point the selectors at it."""
    helper = helpers[name]
    keys = sorted({k for t, _ in targets for k in t.keys if k not in t.site.literal_keys()})
    new_name = _new_helper_name(name, helpers)
    body = helper.body
    for key in keys:
        while (match := _key_line(body, key)) is not None:
            body = body[: match.start()] + body[match.end() :]
    body = _drop_emptied_blocks(helper.body, body)
    newline = context.templates.outline(helper.path).newline()
    opening = helper.text[helper.open.start : helper.open.end].replace(
        f'"{name}"', f'"{new_name}"', 1
    )
    closing = helper.text[helper.close.start : helper.close.end]
    definition = (
        f"{newline}{{{{/*{newline}Selector labels: {name} without the values that change "
        f"between releases.{newline}Selectors are immutable: an existing release needs "
        f"the migration steps that came with this change.{newline}"
        f"*/}}}}{newline}"
        f"{opening}{body}{closing}{newline}"
    )
    at = helper.end_of_definition
    edits = [PlannedEdit(helper.path, Edit(at, at, definition), f"add helper {new_name}")]
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    for target, literal in targets:
        obj = target.obj
        edits += _renamed_includes(context, target, name, new_name)
        removals = _removal_edits(target, literal)
        if isinstance(removals, str):
            return removals
        edits += removals
        changes[(obj.source.path, obj.kind)].extend(
            _removals(target.site.path, target.keys)
        )
    unsafe = any(t.obj.is_controller for t, _ in targets)
    return FixUnit(
        f"selectors use {new_name} ({name} without {', '.join(keys)})",
        unique_edits(edits),
        [t.finding for t, _ in targets],
        dict(changes),
        "unsafe" if unsafe else "safe",
    )


# An `if`/`with` block with nothing but `else` branches in it: it writes nothing.
_EMPTY_BLOCK = re.compile(
    r"(?m)^[ \t]*\{\{-?\s*(?:if|with)\b[^}]*\}\}"
    r"(?:\s|\{\{-?\s*else\b[^}]*\}\})*"
    r"\{\{-?\s*end\s*(?P<trim>-?)\}\}[ \t]*(?:\n|$)"
)


def _drop_emptied_blocks(original: str, body: str) -> str:
    """`body` without the conditionals that removing keys emptied (all their branches held
    only those keys), innermost first; a block that was empty in `original` stays, and so
    does one whose `-}}` trims text that follows it."""
    if _EMPTY_BLOCK.search(original):
        return body
    while True:
        for match in _EMPTY_BLOCK.finditer(body):
            rest = body[match.end():].lstrip()
            if not match.group("trim") or not rest or rest.startswith("{{-"):
                body = body[: match.start()] + body[match.end():]
                break
        else:
            return body


def _include_actions(site: MappingSite, name: str) -> list[Action]:
    """The actions in `site` that include helper `name` (on entry lines or the key line)."""
    lines = [e.line for e in site.entries if e.generated]
    if site.inline_generator:
        lines.append(site.key_line)
    return [a for line in lines for a in line.output_actions if included_helper(a) == name]


def _new_helper_name(name: str, helpers: dict[str, Helper]) -> str:
    prefix = name.rsplit(".", 1)[0] if "." in name else name
    for candidate in (f"{prefix}.selectorLabels", f"{prefix}.stableSelectorLabels"):
        if candidate not in helpers and candidate != name:
            return candidate
    return f"{name}.stable"


def _removals(path: str, keys: list[str]) -> list[LabelChange]:
    return [LabelChange(path, key, None, removed=True) for key in keys]


# --- when the volatile entry was the only difference ---------------------------------------


def _kept_apart(context: RecipeContext, units: list[FixUnit]) -> list[FixUnit]:
    """Units whose removal would make a controller's selector catch other workloads' pods
    (the volatile entry was all that told them apart) also give that controller a component
    label, and the consumers meant for it select on it too: in one unit, since none of these
    edits is right without the others (class 6 of issue #11)."""
    used: set[tuple[str, str]] = set()
    labels: dict[ObjectRef, tuple[Label, FixUnit]] = {}
    for unit in units:
        for finding in unit.targets:
            rendering = context.scenario_of(finding)
            obj = context.find(rendering, finding.obj)
            if obj is None or not obj.is_controller:
                continue
            reduced = _without_removed(obj, unit)
            if reduced is None or not _catches_others(obj, reduced, rendering):
                continue
            labelled = controller_label_edits(context, obj, rendering, used)
            if isinstance(labelled, str):
                unit.notes.append(f"{obj.ref} needs a label of its own: {labelled}")
                continue
            label, edits, changes = labelled
            _extend(unit, edits, changes)
            unit.title += f"; add {label.key}={label.value}"
            unit.fallback = None
            labels[obj.ref] = (label, unit)
    if not labels:
        return units
    merged: dict[int, FixUnit] = {}  # id of a consumer's unit -> the unit it went into
    for unit in units:
        for finding in unit.targets:
            rendering = context.scenario_of(finding)
            obj = context.find(rendering, finding.obj)
            if obj is None or obj.is_controller:
                continue
            owners = [o for o in controllers_selected(obj, rendering) if o.ref in labels]
            if len(owners) != 1:
                continue
            label, owner_unit = labels[owners[0].ref]
            planned = consumer_edit(context, obj, rendering, label, owners[0].ref)
            if isinstance(planned, str):
                owner_unit.notes.append(planned)
                continue
            target = merged.get(id(unit), unit)
            if planned is not None:
                _extend(target, planned[0], {(obj.source.path, obj.kind): planned[1]})
            if target is not owner_unit:
                _extend(owner_unit, target.edits, target.changes)
                owner_unit.targets += [t for t in target.targets if t not in owner_unit.targets]
                owner_unit.notes += target.notes
                if target.applicability == "unsafe":
                    owner_unit.applicability = "unsafe"
                merged[id(unit)] = owner_unit
    return [u for u in units if id(u) not in merged]


def _without_removed(obj: K8sObject, unit: FixUnit) -> LabelSelector | None:
    """The controller's selector as the unit leaves it, when the unit removes entries."""
    selector = obj.selector
    removed = {
        c.key for c in unit.changes.get((obj.source.path, obj.kind), ())
        if c.removed and c.path == obj.selector_path()
    }
    if selector is None or not removed:
        return None
    kept = {k: v for k, v in selector.match_labels.items() if k not in removed}
    return LabelSelector(kept, selector.match_expressions)


def _catches_others(obj: K8sObject, selector: LabelSelector, rendering: Rendering) -> bool:
    """The selector would match pods of another workload that it does not match today."""
    before = obj.selector
    assert before is not None
    return any(
        other is not obj and other.pod_labels is not None
        and selector.matches(other.pod_labels) and not before.matches(other.pod_labels)
        for other in rendering.objects
    )


def _extend(
    unit: FixUnit,
    edits: list[PlannedEdit],
    changes: dict[tuple[str, str], list[LabelChange]],
) -> None:
    unit.edits = unique_edits([*unit.edits, *edits])
    merged = {key: list(value) for key, value in unit.changes.items()}
    for key, more in changes.items():
        merged.setdefault(key, []).extend(c for c in more if c not in merged[key])
    unit.changes = merged
