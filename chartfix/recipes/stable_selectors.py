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

from chartfix.model.changes import Refused, Unfixed
from chartfix.model.edits import unique_edits
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
)
from chartfix.recipes.explicit_selector import SELECTOR, unstable_removals
from chartfix.recipes.labels import (
    ComponentNaming,
    Label,
    consumer_edit,
    controller_label_edits,
)
from chartfix.rules.attribution import controllers_selected
from chartfix.sources.base import Removal, SplitsHelpers


class StableSelectors:
    name = "stable-selectors"
    summary = "Remove chart and app versions from selectors"
    rules = frozenset({"volatile"})
    Options = ComponentNaming
    """When a version was all that told two workloads apart, the controller gets a component
    label in the same change, named as component-labels would name it."""

    def plan(self, context: RecipeContext) -> Plan:
        """A defaulted selector is written out; a source that splits shared helpers
        (`SplitsHelpers`: Helm) takes the other keys out itself; any other source removes
        them from each object through `label_edits`."""
        plan = Plan()
        splits = context.source if isinstance(context.source, SplitsHelpers) else None
        removals: list[Removal] = []
        for finding in [f for f in context.findings if f.rule in self.rules]:
            try:
                unit = _defaulted_unit(context, finding)
                if unit is None and splits is not None:
                    removals.append(_removal(context, finding))
                    continue
                plan.units.append(unit or _removal_unit(context, finding))
            except Refused as why:
                plan.refused.append(Unfixed(finding, why.reason))
        if splits is not None:
            units, refused = splits.selector_removals(removals)
            plan.units += units
            plan.refused += refused
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


def _removal(context: RecipeContext, finding: Finding) -> Removal:
    """The keys `finding` names, to take out of its object's selector."""
    rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None:
        raise Refused(f"{finding.obj} not found in the rendered {context.source.facts.noun}")
    return Removal(finding, obj, rendering, tuple(volatile_keys(obj, finding)))


def _defaulted_unit(context: RecipeContext, finding: Finding) -> FixUnit | None:
    """A selector the API server fills in from the pod labels, written out of the stable
    ones; None when the finding's object writes its own selector."""
    rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None or not obj.selector_defaulted or obj.document.path.startswith("charts/"):
        return None
    removals = unstable_removals(context, obj)
    removals += [
        c for c in _removals(SELECTOR, volatile_keys(obj, finding)) if c not in removals
    ]
    edits, changes = label_edits(context, obj, rendering, removals)
    return FixUnit(
        f"{obj.ref}: write its defaulted selector out, without {finding.detail.get('keys')}",
        edits,
        [finding],
        {(obj.document.path, obj.kind): changes},
        "unsafe",
    )


def _removal_unit(context: RecipeContext, finding: Finding) -> FixUnit:
    """The volatile keys removed from the selector wherever the source writes them (any
    source kind but Helm, whose helpers the units above split)."""
    rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None:
        raise Refused(f"{finding.obj} not found in the rendered {context.source.kind} source")
    keys = volatile_keys(obj, finding)
    path = obj.selector_path()
    if not keys or path is None:
        raise Refused(f"{finding.obj}: the volatile entry is in matchExpressions; edit it by hand")
    edits, changes = label_edits(context, obj, rendering, _removals(path, keys))
    return FixUnit(
        f"{obj.ref}: remove {', '.join(keys)} from its selector",
        edits,
        [finding],
        {(obj.document.path, obj.kind): changes},
        "unsafe" if obj.is_controller else "safe",
    )


def _removals(path: str, keys: list[str]) -> list[LabelChange]:
    return [LabelChange(path, key, None, removed=True) for key in keys]


# --- when the volatile entry was the only difference ---------------------------------------


def _kept_apart(context: RecipeContext, units: list[FixUnit]) -> list[FixUnit]:
    """Units whose removal would make a controller's selector catch other workloads' pods
    (the volatile entry was all that told them apart) also give that controller a component
    label, and the consumers meant for it select on it too: in one unit, since none of these
    edits is right without the others: removing the entry alone would make the controller
    adopt the other workload's pods."""
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
            try:
                label, edits, changes = controller_label_edits(context, obj, rendering, used)
            except Refused as why:
                unit.notes.append(f"{obj.ref} needs a label of its own: {why.reason}")
                continue
            _extend(unit, edits, changes)
            unit.title += f"; add {label.key}={label.value}"
            unit.fallback = None
            labels[obj.ref] = (label, unit)
    if not labels:
        return units
    merged: dict[FixUnit, FixUnit] = {}  # a consumer's unit -> the unit it went into
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
            try:
                planned = consumer_edit(context, obj, rendering, label, owners[0].ref)
            except Refused as why:
                owner_unit.notes.append(why.reason)
                continue
            target = merged.get(unit, unit)
            if planned is not None:
                _extend(target, planned[0], {(obj.document.path, obj.kind): planned[1]})
            if target is not owner_unit:
                _extend(owner_unit, target.edits, target.changes)
                owner_unit.targets += [t for t in target.targets if t not in owner_unit.targets]
                owner_unit.notes += target.notes
                if target.applicability == "unsafe":
                    owner_unit.applicability = "unsafe"
                merged[unit] = owner_unit
    return [u for u in units if u not in merged]


def _without_removed(obj: K8sObject, unit: FixUnit) -> LabelSelector | None:
    """The controller's selector as the unit leaves it, when the unit removes entries."""
    selector = obj.selector
    removed = {
        c.key for c in unit.changes.get((obj.document.path, obj.kind), ())
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
