"""component-labels: give every controller whose selector catches other pods a label of its own.

## What it fixes
`overlap`: a Deployment/StatefulSet/DaemonSet selector also matches pods of Jobs, CronJobs,
test Pods or other controllers. `stray`: a Service, PodDisruptionBudget or NetworkPolicy
selects such pods.

## What it does
The fix FleetDM made by hand in its chart 6.6.5 (docs/domain.md §1), done by a tool: add
`component: ROLE` to the controller's pod template labels and `spec.selector`, and the same
entry to each Service, PDB and NetworkPolicy meant for that controller (decided by ports,
then names). The key follows the
chart's convention: `app.kubernetes.io/component` when its selector uses
`app.kubernetes.io/*` keys, `component` otherwise. The value is the workload's role, as its
author wrote it in the source (the literal part of its name template, its template file's
stem, a literal container name; kind words such as `deployment` dropped), else `server`
(see recipes/naming.py): the same for every release. Literal lines are
inserted next to shared helper includes, in the workload's own template: helpers used by
other workloads are never changed. Jobs, CronJobs and test Pods are left alone unless
`label-jobs` is set (a non-hook Job's pod template is immutable).

When the pods already carry a component label written with a templated key or value
(`{{ .Values.x | default "app.kubernetes.io/component" }}: controller`), selectors get the
same text, so that they ask for what the pods carry under any values. A selector that
already writes that key under a condition cannot get it again (it would render twice when
the condition holds): where the condition is the chart's own toggle (`useComponentLabel`,
a plain boolean off in values.yaml), the toggle is turned on by default instead, kept
only when verification sees it make the planned label change and nothing else; a scenario
whose own values keep it off keeps its finding, with that reason. Else it is left, with the
reason.

When the controller already selects on its component value and other pods carry that value
too, the controller keeps its selector: the Job, CronJob or test Pod gets a value of its own
(its role) where its template writes the shared one (from a helper it shares with the
controller: the helper's component argument, else the helper's output without that key,
`omit (include ... | fromYaml) KEY | toYaml`, and the key on the line after it), and the
consumers meant for the controller alone select on its value. StatefulSets made by one
`range` that share every selector label select also on the pod label that tells them apart
(`shard: {{ $i | quote }}`).

The route, per controller (its overlap and the strays of its consumers): where the
component route would change an immutable field and Helm replaces all the other pods itself
(helm test Pods, hook Jobs Helm deletes before creating again), the safe route: they get a
value of their own for a key the selector holds instead, and nothing immutable changes
(`app.kubernetes.io/name: {{ include "web.name" . }}-test-connection` after the helper's
output without it, written as the helper writes the shared value; `app: {{ template "x.name"
. }}-cleanup` after a templated value; the role alone,
`app.kubernetes.io/name: test-connection`, where the shared value embeds the release name (a
fullname: with the role after it, a long release name makes it too long for a label value);
never the release's key, never a key added alone). The component route above is taken for
the others (a second controller, a non-hook Job, a CronJob), where it changes nothing
immutable either (the controller selects on its component already), when the safe edit
fails verification, and always with `prefer: component`. With `prefer: safe`, a controller
whose other pods include CronJobs takes the safe route too: their job template changes
freely, but a Job the CronJob started before the upgrade keeps running with the old labels
until it ends. With `--safe-only`, a controller whose other pods are not all recreated
freely keeps its selector: its pod template gets the component label and the consumers
meant for it select on it (the strays go, the overlap is left, with the command that fixes
it).

A consumer meant for several controllers (a headless Service over every StatefulSet of a
cluster, or one whose ports and name tie) is not narrowed to one: it selects also on a label
their pods share and the other pods lack, one they already carry, written alike in every
template, else `member-of: ROLE` (ROLE from the consumer's name, `headless`) added to their
pod templates. Their selectors stay.

## Example
Before, `templates/app.yaml`: the migration Job's pods carry the Deployment's only label.
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
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
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

After, `templates/app.yaml`:
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
      component: web
  template:
    metadata:
      labels:
        app: web
        component: web
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    app: web
    component: web
  ports:
    - port: 80
```

## Fix safety
Safe on the safe route (only pods recreated freely change) and under `--safe-only` (the
controller's pod template and its consumers change: a rolling update). Unsafe for the
controller on the component route: `spec.selector` is immutable, so upgrading a release needs
the migration note. Safe for Services, PDBs and NetworkPolicies, and for a label added to pod
templates only (a rolling update). A new component value is safe for test Pods, CronJobs and
hook Jobs Helm recreates; unsafe for any other Job (its pod template is immutable: the
migration note deletes it before the upgrade).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from chartfix.errors import display_path
from chartfix.model.changes import Refused, Unfixed
from chartfix.model.edits import unique_edits
from chartfix.model.findings import Finding
from chartfix.model.objects import (
    MANAGER_KEYS,
    K8sObject,
    ObjectRef,
    Origin,
    Rendering,
)
from chartfix.model.selectors import valid_label_value
from chartfix.recipes.base import (
    FixUnit,
    LabelChange,
    Plan,
    PlannedEdit,
    RecipeContext,
    option,
    overridden_targets,
)
from chartfix.recipes.labels import (
    ComponentNaming,
    Label,
    consumer_edit,
    controller_label_edits,
    role_of,
)
from chartfix.recipes.naming import (
    COMPONENT_KEYS,
    component_key,
    label_value,
    role_word,
)
from chartfix.rules.attribution import (
    consumers_of,
    controllers_selected,
    meant_for,
    namespace_of,
    unattributed,
)
from chartfix.rules.context import subchart_dir
from chartfix.rules.volatile import VERSION_KEYS

ROUTES = ("component", "safe")


def _route_problem(value: str) -> str | None:
    return None if value in ROUTES else f"must be one of {', '.join(ROUTES)}"


@dataclass(frozen=True)
class ComponentLabelsOptions(ComponentNaming):
    label_jobs: bool = option(
        "label-jobs", "also label the Jobs, CronJobs and test Pods that overlap", "true",
        default=False,
    )
    prefer: str | None = option(
        "prefer",
        "the route per controller: safe (wherever it fixes every finding, only pods Helm or "
        "a CronJob recreates get values of their own: no immutable field changes) or "
        "component (always its pod template, selector and consumers); unset: safe where the "
        "other pods are all helm test Pods and hook Jobs Helm recreates, else component",
        "safe", default=None, check=_route_problem,
    )


class ComponentLabels:
    name = "component-labels"
    summary = "Add a component label to controllers whose selectors match other workloads' pods"
    rules = frozenset({"overlap", "stray"})
    Options = ComponentLabelsOptions

    def plan(self, context: RecipeContext) -> Plan:
        plan = Plan()
        # Findings grouped by the template document that writes the controller: one
        # Deployment may carry different names in different scenarios (fullnameOverride).
        groups: dict[Origin, list[Finding]] = defaultdict(list)
        claimed: dict[Origin, Origin] = {}  # consumer -> controller it was meant for
        spanning: dict[Origin, list[Finding]] = defaultdict(list)
        for finding in context.findings:
            if finding.rule not in self.rules:
                continue
            rendering = context.scenario_of(finding)
            obj = context.find(rendering, finding.obj)
            if obj is None:
                plan.refused.append(Unfixed(finding, f"{finding.obj} not found"))
                continue
            if finding.rule == "stray":
                owner = meant_for(obj, rendering)
                if owner is None and len(controllers_selected(obj, rendering)) > 1:
                    # Meant for several controllers, as far as anyone can tell: it keeps
                    # them all (its own unit); the controllers' units leave it alone.
                    consumer_key = context.origin(obj, rendering)
                    spanning[consumer_key].append(finding)
                    claimed[consumer_key] = consumer_key
                    continue
                if owner is None:
                    plan.refused.append(Unfixed(finding, unattributed(obj, rendering)))
                    continue
                claimed[context.origin(obj, rendering)] = context.origin(owner, rendering)
                obj = owner
            groups[context.origin(obj, rendering)].append(finding)

        used: set[tuple[str, str]] = set()
        for key in sorted(groups):
            findings = groups[key]
            plan.attempt(findings, self._route, context, key, findings, claimed, used)
        for key in sorted(spanning):
            plan.attempt(spanning[key], _spanning_unit, context, key, spanning[key])
        if context.options.label_jobs:
            plan.units.extend(self._job_units(context))
        return plan

    # --- the route ---------------------------------------------------------------------------

    def _route(
        self,
        context: RecipeContext,
        key: Origin,
        findings: list[Finding],
        claimed: dict[Origin, Origin],
        used: set[tuple[str, str]],
    ) -> Plan:
        """The least-breaking complete fix asked for (see `Fix safety`). Where the other
        pods are all replaced by Helm (test Pods, hook Jobs: by default) or all recreated
        freely (CronJobs too: `prefer: safe`, `--safe-only`), and the component route would
        change an immutable field, they get values of their own instead, with the component
        route as the fallback verification tries. Under `--safe-only` a controller whose
        other pods are not all recreated freely keeps its selector and its consumers are
        narrowed (the overlap stays, with the command that fixes it)."""
        others = other_pods(context, findings)
        freely = _relabelled(context)
        if freely is None or not others or not all(freely(o) for o, _ in others):
            return self._controller_plan(context, key, findings, claimed, used)
        if not context.safe_only:  # the component route, where it breaks nothing either
            taken = set(used)
            with suppress(Refused):
                component = self._controller_plan(context, key, findings, claimed, taken)
                if _changes_nothing_immutable(component):
                    used |= taken
                    return component
        try:
            safe = _relabel_unit(context, key, findings, others, used)
        except Refused:
            return self._controller_plan(context, key, findings, claimed, used)
        with suppress(Refused):  # tried when the safe route fails verification
            instead = self._controller_plan(context, key, findings, claimed, set(used))
            safe.fallback = instead.units[0] if instead.units else None
        return Plan([safe])

    # --- one controller ---------------------------------------------------------------------

    def _controller_plan(
        self,
        context: RecipeContext,
        key: Origin,
        findings: list[Finding],
        claimed: dict[Origin, Origin],
        used: set[tuple[str, str]],
    ) -> Plan:
        """The component route. Under `--safe-only` the label goes on the pod template only
        (a rolling update) and on the consumers, the selector stays: the strays go, the
        overlaps are left (refused with the command that fixes them)."""
        instances = list(_instances(context, key))
        if not instances:
            raise Refused(f"{findings[0].obj} not found in the rendered chart")
        controller, _ = instances[0]
        ref = controller.ref
        if controller.selector is None:
            raise Refused(f"{ref} has no selector in the rendered chart")
        subchart = subchart_dir(controller)
        if subchart:
            raise Refused(f"{ref} comes from the subchart in {subchart}: fix it there")
        own = _selected_component(controller)
        if own is not None:
            return Plan([_own_values_unit(context, findings, instances, own, used)])
        if not context.safe_only:
            return self._labelled(context, key, instances, findings, claimed, used)
        overlaps = [f for f in findings if f.rule == "overlap"]
        if len(overlaps) == len(findings):
            raise Refused(_selector_needed(context, ref))
        plan = Plan(refused=[Unfixed(f, _selector_needed(context, ref)) for f in overlaps])
        strays = [f for f in findings if f.rule != "overlap"]
        plan.attempt(strays, self._labelled, context, key, instances, strays, claimed, used)
        return plan

    def _labelled(
        self,
        context: RecipeContext,
        key: Origin,
        instances: list[tuple[K8sObject, Rendering]],
        findings: list[Finding],
        claimed: dict[Origin, Origin],
        used: set[tuple[str, str]],
    ) -> Plan:
        """The controller's unit: its component label, and its consumers' selectors asking
        for it (under `--safe-only`, `narrow`: its pod template only, not its selector); the
        findings it leaves, with why."""
        narrow = context.safe_only
        controller, rendering = instances[0]
        ref = controller.ref
        label, own_edits, own_changes = controller_label_edits(
            context, controller, rendering, used, instances, selector=not narrow
        )
        targets, overridden = overridden_targets(findings, own_edits, ref)
        if not any(f.rule == "overlap" for f in targets) and overridden:
            raise Refused(overridden[0].reason)  # its scenarios all keep the chart's toggle off
        consumers = self._consumers(context, key, instances, claimed, label)
        edits = [*own_edits, *consumers.edits]
        changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
        for kind_key, more in [*own_changes.items(), *consumers.changes.items()]:
            changes[kind_key].extend(more)
        notes = [label.note] if label.note else []
        notes += sorted(set(consumers.left.values()))
        unmatched = [
            Unfixed(f, consumers.left.get(f.obj, f"{f.obj} could not be matched to {ref}'s pods"))
            for f in targets if f.rule == "stray" and f.obj not in consumers.edited
        ]
        targets = [f for f in targets if f.rule != "stray" or f.obj in consumers.edited]
        plan = Plan(refused=[*overridden, *unmatched])
        if narrow:
            title = f"{ref}: pods get {label.key}={label.value}, its consumers select on it"
            notes.append(
                f"{ref} keeps its selector: its pods get {label.key}={label.value} (a rolling "
                "update) and the Services, PDBs and NetworkPolicies meant for it select on it"
            )
            plan.units.append(
                FixUnit(title, unique_edits(edits), targets, dict(changes), "safe", notes)
            )
            return plan
        title = f"{ref}: add {label.key}={label.value}"
        fallback = FixUnit(
            title,
            own_edits,
            [f for f in targets if f.rule == "overlap"],
            {k: list(v) for k, v in own_changes.items()},
            "unsafe",
            [*notes, "the Services, PDBs and NetworkPolicies meant for it failed verification"],
        )
        unit = FixUnit(title, unique_edits(edits), targets, dict(changes), "unsafe", notes)
        unit.fallback = fallback if len(own_edits) < len(unit.edits) else None
        plan.units.append(unit)
        return plan

    def _consumers(
        self,
        context: RecipeContext,
        key: Origin,
        instances: list[tuple[K8sObject, Rendering]],
        claimed: dict[Origin, Origin],
        label: Label,
    ) -> _Consumers:
        """The consumers of the controller `key` in any scenario (consumers may exist in some
        scenarios only) meant for it, labelled as its pods write `label` (each origin once),
        and why those that cannot be are left."""
        out = _Consumers()
        asked: set[Origin] = set()
        theirs: set[Origin] = set()  # meant for it
        left: dict[Origin, str] = {}
        for instance, scenario in instances:
            for consumer in consumers_of(instance, scenario):
                consumer_key = context.origin(consumer, scenario)
                if consumer_key not in asked:
                    asked.add(consumer_key)
                    try:
                        planned = self._consumer(
                            context, key, consumer, scenario, claimed, label, instance.ref
                        )
                    except Refused as why:
                        left[consumer_key] = why.reason
                        planned = None
                    if planned is not None:
                        theirs.add(consumer_key)
                        out.edits.extend(planned[0])
                        out.changes[(consumer.document.path, consumer.kind)].extend(planned[1])
                if consumer_key in theirs:
                    out.edited.add(consumer.ref)
                elif consumer_key in left:
                    out.left[consumer.ref] = left[consumer_key]
        return out

    def _consumer(
        self,
        context: RecipeContext,
        key: Origin,
        consumer: K8sObject,
        scenario: Rendering,
        claimed: dict[Origin, Origin],
        label: Label,
        controller: ObjectRef,
    ) -> tuple[list[PlannedEdit], list[LabelChange]] | None:
        """The edits labelling one consumer of the controller `key` (`controller` in
        `scenario`) as its pods write the label, and the changes they make (none when it
        has it); None when it belongs to another controller (its own unit labels it).
        Refused: why it is left as it is."""
        consumer_key = context.origin(consumer, scenario)
        if claimed.get(consumer_key, key) != key:
            return None
        owner = meant_for(consumer, scenario)
        if owner is None:
            raise Refused(
                f"{consumer.ref} selects pods of several workloads and neither ports nor "
                "names tell which it is meant for; left as it is"
            )
        if context.origin(owner, scenario) != key:
            return None
        return consumer_edit(context, consumer, scenario, label, controller) or ([], [])

    # --- Jobs, CronJobs and test Pods (opt-in) ------------------------------------------------

    def _job_units(self, context: RecipeContext) -> list[FixUnit]:
        """Opt-in: label the Jobs, CronJobs and test Pods that controllers' selectors catch."""
        units: list[FixUnit] = []
        seen: set[Origin] = set()
        for finding in context.findings:
            if finding.rule != "overlap":
                continue
            rendering = context.scenario_of(finding)
            for ref in finding.related:
                obj = context.find(rendering, ref)
                if obj is None or obj.is_controller:
                    continue
                key = context.origin(obj, rendering)
                if key in seen:
                    continue
                seen.add(key)
                unit = _job_unit(context, obj, rendering)
                if unit is not None:
                    units.append(unit)
        return units


@dataclass
class _Consumers:
    """What labelling a controller's consumers plans: their edits and the changes they make,
    the consumers labelled (or selecting on the label already), why the others meant for it
    are left as they are, and notes for the user."""

    edits: list[PlannedEdit] = field(default_factory=list)
    changes: dict[tuple[str, str], list[LabelChange]] = field(
        default_factory=lambda: defaultdict(list)
    )
    edited: set[ObjectRef] = field(default_factory=set)
    left: dict[ObjectRef, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- choosing the label ---------------------------------------------------------------------


def _selected_component(controller: K8sObject) -> Label | None:
    """The component label the controller already selects on, if any."""
    selector = controller.selector
    assert selector is not None
    for key in COMPONENT_KEYS:
        if key in selector.match_labels:
            return Label(key, selector.match_labels[key])
    return None


def _sharing_pods(
    controller: K8sObject, rendering: Rendering, label: Label
) -> list[K8sObject]:
    """Other objects whose pods the controller's selector catches, component value and all."""
    selector = controller.selector
    assert selector is not None
    return [
        o for o in rendering.objects
        if o is not controller and o.pod_labels is not None
        and namespace_of(o, rendering) == namespace_of(controller, rendering)
        and o.pod_labels.get(label.key) == label.value and selector.matches(o.pod_labels)
    ]


def _own_values_unit(
    context: RecipeContext,
    findings: list[Finding],
    instances: list[tuple[K8sObject, Rendering]],
    label: Label,
    used: set[tuple[str, str]],
) -> FixUnit:
    """The controller already selects on its component value, and other pods share it (a
    migration Job labelled by the controller's helper): give those pods a value of their
    own, and add the value to the consumers meant for the controller that do not select on
    it yet. The controller keeps its selector: adding a label to it would not tell the pods
    apart, since they would carry it too."""
    controller, first = instances[0]
    siblings = [o for o, r in instances if r is first]
    if any(
        a is not b and a.selector is not None and a.selector.matches(b.pod_labels or {})
        for a in siblings for b in siblings
    ):
        return _range_unit(context, findings, siblings, first)
    used.add((label.key, label.value))
    edits: list[PlannedEdit] = []
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    notes: list[str] = []
    unsafe = False
    done: set[Origin] = set()
    for instance, scenario in instances:
        for other in _sharing_pods(instance, scenario, label):
            other_key = context.origin(other, scenario)
            if other_key in done:
                continue
            done.add(other_key)
            if other.is_controller:
                raise Refused(
                    f"{controller.ref} and {other.ref} share every selector label, "
                    f"{label.key}={label.value} included"
                )
            own_edits, change = _own_value_edit(context, other, scenario, label, used)
            edits.extend(own_edits)
            changes[(other.document.path, other.kind)].append(change)
            if other.kind == "Job" and not other.recreated_by_helm:
                unsafe = True
                notes.append(
                    f"{other.ref} is a Job; its pod template is immutable: delete it "
                    "before upgrading"
                )
    consumers = _stray_consumers(context, instances, findings, label, done)
    edits += consumers.edits
    for kind_key, more in consumers.changes.items():
        changes[kind_key].extend(more)
    notes += consumers.notes
    if not edits:
        raise Refused(
            f"{controller.ref} already selects on {label.key}={label.value}; "
            "no pod or selector to change was found"
        )
    return FixUnit(
        f"{controller.ref}: other pods get their own {label.key}",
        unique_edits(edits),
        findings,
        dict(changes),
        "unsafe" if unsafe else "safe",
        notes,
    )


def _stray_consumers(
    context: RecipeContext,
    instances: Sequence[tuple[K8sObject, Rendering]],
    findings: Sequence[Finding],
    label: Label,
    done: set[Origin],
) -> _Consumers:
    """The controller's consumers found selecting other pods (its `stray` findings), not
    among the origins `done`, made to select on `label` too, and notes. Only when they
    select this controller alone: one that spans several (a headless Service over every
    member of a cluster) selects them all on a label they share and the other pods lack,
    as narrowing it to this controller would drop the others."""
    out = _Consumers()
    seen = set(done)
    strays = {f.obj for f in findings if f.rule == "stray"}
    for instance, scenario in instances:
        for consumer in consumers_of(instance, scenario):
            consumer_key = context.origin(consumer, scenario)
            if consumer.ref not in strays or consumer_key in seen:
                continue
            seen.add(consumer_key)
            if len(controllers_selected(consumer, scenario)) > 1:
                member_edits, member_changes, note = _members_edits(context, consumer_key)
                out.edits += member_edits
                for kind_key, more in member_changes.items():
                    out.changes[kind_key].extend(more)
                out.notes.append(note)
                continue
            planned = consumer_edit(context, consumer, scenario, label)
            if planned is not None:
                out.edits += planned[0]
                out.changes[(consumer.document.path, consumer.kind)].extend(planned[1])
    return out


# --- the safe route: pods recreated freely get values of their own ---------------------------

NAME_KEYS = ("app.kubernetes.io/name", "app", "name", "k8s-app")
"""Selector keys that name the application: after the component keys, the ones a relabelled
test Pod or Job takes a value of its own for (`app.kubernetes.io/name: web-test-connection`)."""
RELEASE_KEYS = frozenset({"app.kubernetes.io/instance", "release"})
"""Never relabelled: the release a pod belongs to is what Helm and its users select on."""


def _relabelled(context: RecipeContext) -> Callable[[K8sObject], bool] | None:
    """Which other pods the route may give values of their own: those recreated freely
    (`prefer: safe`, `--safe-only`), those Helm replaces (unset), none (`prefer:
    component`)."""
    prefer = context.options.prefer
    if context.safe_only or prefer == "safe":
        return recreated_freely
    return replaced_by_helm if prefer is None else None


def _changes_nothing_immutable(plan: Plan) -> bool:
    """Whether the plan fixes every finding it was made for and every unit of it is safe."""
    return bool(plan.units) and not plan.refused and all(
        unit.applicability == "safe" for unit in plan.units
    )


def replaced_by_helm(obj: K8sObject) -> bool:
    """Pods Helm itself replaces: helm test Pods, hook Pods, and hook Jobs Helm deletes
    before creating again. Their labels may change with no immutable field changing, and
    once `helm upgrade` (or the next `helm test`) has run, none of their pods runs with the
    old ones: the safe route's default."""
    if obj.is_controller or not obj.is_hook:
        return False
    return obj.kind == "Pod" or (obj.kind == "Job" and obj.recreated_by_helm)


def recreated_freely(obj: K8sObject) -> bool:
    """Pods whose labels may change with no immutable field changing: those Helm replaces
    (`replaced_by_helm`) and a CronJob's (the next Jobs use its job template). A Job the
    CronJob started before the upgrade keeps running with the old labels until it ends, so
    CronJobs take the safe route only when asked (`prefer: safe`, `--safe-only`). A
    controller's or a non-hook Job's pods are not recreated freely."""
    return obj.kind == "CronJob" or replaced_by_helm(obj)


def other_pods(
    context: RecipeContext, findings: Sequence[Finding]
) -> list[tuple[K8sObject, Rendering]]:
    """The objects whose pods the controller's findings are about besides its own (the
    overlap's other workloads, the strays its consumers select), one per source piece."""
    out: list[tuple[K8sObject, Rendering]] = []
    seen: set[Origin] = set()
    for finding in findings:
        for rendering in context.renderings:
            if rendering.scenario not in finding.scenarios:
                continue
            for ref in finding.related:
                obj = rendering.find(ref)
                if obj is None or obj.pod_labels is None:
                    continue
                key = context.origin(obj, rendering)
                if key not in seen:
                    seen.add(key)
                    out.append((obj, rendering))
    return out


def _relabel_unit(
    context: RecipeContext,
    key: Origin,
    findings: list[Finding],
    others: Sequence[tuple[K8sObject, Rendering]],
    used: set[tuple[str, str]],
) -> FixUnit:
    """The safe route: each of `others` (pods recreated freely) gets a value of its own for
    a key the controller's selector holds, so no selector, and no immutable field, changes.
    Never a key added alone: the selector would still match a superset."""
    instances = _instances(context, key)
    if not instances:
        raise Refused(f"{findings[0].obj} not found in the rendered chart")
    controller, _ = instances[0]
    selector = controller.selector
    if selector is None or not selector.match_labels:
        raise Refused(f"{controller.ref} selects by expressions only; no value to change")
    consumers = [
        obj.selector.match_labels for f in findings if f.rule == "stray"
        for r in context.renderings if r.scenario in f.scenarios
        if (obj := r.find(f.obj)) is not None and obj.selector is not None
    ]
    edits: list[PlannedEdit] = []
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    names: list[str] = []
    for obj, rendering in others:
        subchart = subchart_dir(obj)
        if subchart:
            raise Refused(f"{obj.ref} comes from the subchart in {subchart}: fix it there")
        label_key = _leaving_key(selector.match_labels, consumers, obj.pod_labels or {})
        if label_key is None:
            raise Refused(
                f"{obj.ref} carries no label of {controller.ref}'s selector that may take "
                "a value of its own (the release's is not changed)"
            )
        value = _own_value(context, obj, rendering, label_key, used)
        path = obj.pod_labels_path()
        assert path is not None
        change = LabelChange(path, label_key, value)
        edits.extend(context.source.label_edits(obj, rendering, [change]))
        changes[(obj.document.path, obj.kind)].append(change)
        names.append(f"{obj.ref} gets {label_key}={value}")
    note = (
        f"the other pods {controller.ref}'s selector matches get values of their own: "
        f"{'; '.join(names)} (recreated by Helm or its CronJob: no immutable field of theirs "
        "changes)"
    )
    return FixUnit(
        f"{controller.ref}: the other pods get values of their own",
        unique_edits(edits), findings, dict(changes), "safe", [note],
    )


def _leaving_key(
    selector: Mapping[str, str], consumers: Sequence[Mapping[str, str]], pods: Mapping[str, str]
) -> str | None:
    """The selector key whose value the pods take their own for: one every stray consumer
    selects on too where there is one, a component key first, then the application's
    name; never the release's."""
    shared = [k for k, v in selector.items() if pods.get(k) == v and k not in RELEASE_KEYS]
    rank = {k: i for i, k in enumerate((*COMPONENT_KEYS, *NAME_KEYS))}
    shared.sort(key=lambda k: (not all(k in c for c in consumers), rank.get(k, len(rank))))
    return shared[0] if shared else None


def _own_value(
    context: RecipeContext, obj: K8sObject, rendering: Rendering, key: str,
    used: set[tuple[str, str]],
) -> str:
    """The pods' own value for `key`: their role for a component key, else the shared
    value with their role after it (`web-test-connection`), shortened to the role when too
    long for a label value. A shared value that embeds the release name (a fullname) grows
    with it, up to 63 characters: the role alone then, so that every release name gives a
    valid label value. Embedding means starting with the release name as a whole word (a
    fullname's prefix), not containing its letters: `r` is in `scaffold-helpers`, and the
    choice must not change with `--release`."""
    role = role_of(context, obj, rendering)
    shared = (obj.pod_labels or {}).get(key, "")
    embeds_release = shared == context.release or shared.startswith(f"{context.release}-")
    plain = key in COMPONENT_KEYS or not shared or embeds_release
    value = role if plain else f"{shared}-{role}"
    if not valid_label_value(value):
        value = role
    if value == shared or (key, value) in used:
        value = f"{value}-{obj.kind.lower()}"
    used.add((key, value))
    return value


def _selector_needed(context: RecipeContext, ref: ObjectRef) -> str:
    """Why --safe-only leaves an overlap, and the command that fixes it."""
    return (
        f"fixing it changes {ref}'s selector, an immutable field (left by --safe-only): "
        f"`chartfix fix {display_path(context.source.root)}` does it, and the upgrade then "
        "needs the migration note"
    )


MEMBER_KEY = "member-of"
"""The label that tells the pods of the controllers a consumer spans from the other pods
it selects, when no label they carry does: `member-of: headless` for `NAME-headless`."""


def _members_edits(
    context: RecipeContext, consumer_key: Origin
) -> tuple[list[PlannedEdit], dict[tuple[str, str], list[LabelChange]], str]:
    """Edits making the consumer `consumer_key` (a headless Service over the StatefulSets of
    one cluster) select the pods of every controller it selects now, and no other pods: it
    selects also on a label those pods share and the others lack. A label the controllers'
    pod templates already write that way is used as it is; else they all get
    `member-of: ROLE` (ROLE from the consumer's name). Their selectors stay as they are. The
    edits, the changes they make by (file, kind), and a note. Refused: why not."""
    instances = _instances(context, consumer_key)
    members, others, selector_keys = _selected(context, instances)
    consumer, first = instances[0]
    flat = [pair for group in members.values() for pair in group]
    if not flat or not others:
        raise Refused(f"{consumer.ref} does not select controllers' pods and other pods together")
    names = ", ".join(sorted({str(o.ref) for o, _ in flat}))
    for obj, _ in flat:
        subchart = subchart_dir(obj)
        if subchart:
            raise Refused(f"{obj.ref} comes from the subchart in {subchart}: fix it there")
    leaders = [group[0] for group in members.values()]  # one per piece of source
    pods = [o.pod_labels or {} for o, _ in flat]
    label = _shared_label(context, pods, leaders, others, selector_keys)
    edits: list[PlannedEdit] = []
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    relabelled = label is None
    if label is None:
        if any(MEMBER_KEY in p for p in [*pods, *(o.pod_labels or {} for o in others.values())]):
            raise Refused(
                f"{consumer.ref} selects the pods of {names} and of other workloads; no "
                f"label tells them apart, and {MEMBER_KEY} is taken: add one by hand"
            )
        # the consumer's own name as its author wrote it (`headless` of a Helm Service
        # named `{{ include "x.fullname" . }}-headless`, a cdk8s construct id), else the
        # target's name
        role = role_word(context.source.role_names(consumer, first), context.source.name)
        label = Label(MEMBER_KEY, label_value(role or context.source.name))
        for obj, scenario in leaders:
            change = label.change(str(obj.pod_labels_path()))
            edits.extend(context.source.label_edits(obj, scenario, [change]))
        for obj, _ in flat:
            pod_path = obj.pod_labels_path()
            assert pod_path is not None
            change = LabelChange(pod_path, label.key, label.value)
            if change not in changes[(obj.document.path, obj.kind)]:
                changes[(obj.document.path, obj.kind)].append(change)
    planned = consumer_edit(context, consumer, first, label)
    if planned is not None:
        edits.extend(planned[0])
        changes[(consumer.document.path, consumer.kind)].extend(planned[1])
    stray = ", ".join(sorted(str(r) for r in others))
    how = (
        f"their pods get {label.key}={label.value} (a rolling update; until a pod is "
        f"replaced, {consumer.ref} leaves it out: label the running pods first to keep them)"
        if relabelled else f"their pods already carry {label.key}={label.value}"
    )
    note = (
        f"{consumer.ref} keeps selecting {names}, no longer {stray}: it selects on "
        f"{label.key}={label.value}; {how}"
    )
    return edits, dict(changes), note


def _selected(
    context: RecipeContext, instances: Sequence[tuple[K8sObject, Rendering]]
) -> tuple[dict[Origin, list[tuple[K8sObject, Rendering]]], dict[ObjectRef, K8sObject], set[str]]:
    """What a consumer (its `instances`, in every scenario) selects: the controllers whose
    pods it selects, by origin; the other pod-making objects it selects; its selector keys."""
    members: dict[Origin, list[tuple[K8sObject, Rendering]]] = defaultdict(list)
    others: dict[ObjectRef, K8sObject] = {}
    selector_keys: set[str] = set()
    for consumer, scenario in instances:
        selector = consumer.selector
        if selector is None or selector.is_empty:
            continue
        selector_keys |= selector.label_keys()
        for obj in scenario.pod_index().matching(selector, namespace_of(consumer, scenario)):
            if obj.is_controller:
                members[context.origin(obj, scenario)].append((obj, scenario))
            else:
                others.setdefault(obj.ref, obj)
    return members, others, selector_keys


def _shared_label(
    context: RecipeContext,
    pods: Sequence[Mapping[str, str]],
    leaders: Sequence[tuple[K8sObject, Rendering]],
    others: Mapping[ObjectRef, K8sObject],
    selector_keys: set[str],
) -> Label | None:
    """A label every member's pods (`pods`) carry, the other pods lack, and each member's
    template (`leaders`: one object per origin) writes literally: a selector may ask for it
    as it is. Never a version, the release manager's, or a key the selector has."""
    taken = VERSION_KEYS | MANAGER_KEYS | selector_keys
    shared = [
        (k, v) for k, v in sorted(pods[0].items())
        if k not in taken and all(p.get(k) == v for p in pods)
        and not any((o.pod_labels or {}).get(k) == v for o in others.values())
    ]
    for key, value in shared:
        if all(
            context.source.writes_literally(obj, scenario, str(obj.pod_labels_path()), key)
            for obj, scenario in leaders
        ):
            return Label(key, value)
    return None


def _spanning_unit(context: RecipeContext, key: Origin, findings: list[Finding]) -> FixUnit:
    """The consumer `key`, meant for several controllers, selects them all on a label of
    theirs (`_members_edits`)."""
    edits, changes, note = _members_edits(context, key)
    return FixUnit(
        f"{findings[0].obj}: select the controllers it spans on a label of theirs",
        unique_edits(edits), findings, changes, "safe", [note],
    )


def _range_unit(
    context: RecipeContext,
    findings: list[Finding],
    siblings: list[K8sObject],
    rendering: Rendering,
) -> FixUnit:
    """Controllers one piece of source renders (a `range`) share every selector label:
    their selector asks also for a pod label that tells them apart, written as their pod
    template writes it (`shard: {{ $i | quote }}`), the first such label that is."""
    controller = siblings[0]
    selector = controller.selector
    path = controller.selector_path()
    assert selector is not None and path is not None
    pods = [o.pod_labels or {} for o in siblings]
    keys = [
        k for k in pods[0]
        if k not in selector.label_keys() and all(k in p for p in pods)
        and len({p[k] for p in pods}) == len(pods)
    ]
    for key in keys:
        change = LabelChange(path, key, None, like=controller.ref)
        try:
            edits = context.source.label_edits(controller, rendering, [change])
        except Refused:
            continue
        return FixUnit(
            f"{controller.document.path}: the {controller.kind}s it renders select on {key}",
            edits,
            [f for f in findings if f.rule == "overlap"],
            {(controller.document.path, controller.kind): [change]},
            "unsafe",
        )
    names = ", ".join(str(o.ref) for o in siblings)
    raise Refused(
        f"{names} are rendered by one template and share every selector label; no pod "
        "label written in the template tells them apart: add one by hand"
    )


def _own_value_edit(
    context: RecipeContext,
    obj: K8sObject,
    rendering: Rendering,
    label: Label,
    used: set[tuple[str, str]],
) -> tuple[list[PlannedEdit], LabelChange]:
    """Edits giving the pods of `obj` (a Job, CronJob or test Pod) their own value for
    `label.key` where their source writes the shared one, and the change. Refused: why
    not."""
    subchart = subchart_dir(obj)
    if subchart:
        raise Refused(f"{obj.ref} comes from the subchart in {subchart}: fix it there")
    value = role_of(context, obj, rendering)
    if value == label.value or (label.key, value) in used:
        value = f"{value}-{obj.kind.lower()}"
    path = obj.pod_labels_path()
    assert path is not None  # its pods share the controller's label
    change = LabelChange(path, label.key, value)
    return context.source.label_edits(obj, rendering, [change]), change


# --- consumers --------------------------------------------------------------------------------


def _job_unit(context: RecipeContext, obj: K8sObject, rendering: Rendering) -> FixUnit | None:
    """`--label-jobs`: the Job, CronJob or test Pod gets a component label of its own,
    where its source can add one (else it is left quietly: labelling it is optional)."""
    path = obj.pod_labels_path()
    pods = obj.pod_labels or {}
    key = component_key(pods, None, None)
    if path is None or key in pods:
        return None
    change = LabelChange(path, key, role_of(context, obj, rendering))
    try:
        return _labelled_job(obj, context.source.label_edits(obj, rendering, [change]), change)
    except Refused:
        return None


def _labelled_job(obj: K8sObject, edits: list[PlannedEdit], change: LabelChange) -> FixUnit:
    kind = "hook " if obj.is_hook else ""
    # Only a Job's own pod template is immutable; a CronJob's applies to the Jobs it makes
    # next, test Pods are recreated by `helm test`, and hooks Helm recreates are safe too.
    safe = obj.kind != "Job" or obj.recreated_by_helm
    note = (
        f"{obj.ref} is a {kind}{obj.kind}"
        + ("" if safe else "; its pod template is immutable: delete it before upgrading")
    )
    return FixUnit(
        f"{obj.ref}: add {change.key}={change.value}",
        edits,
        [],
        {(obj.document.path, obj.kind): [change]},
        "safe" if safe else "unsafe",
        [note],
    )


# --- helpers ----------------------------------------------------------------------------------


def _instances(context: RecipeContext, key: Origin) -> list[tuple[K8sObject, Rendering]]:
    """The objects the document `key` renders, in every scenario (first scenario first)."""
    return [(obj, rendering) for obj, rendering in context.written_by(key) if key.writes(obj.kind)]


__all__: Sequence[str] = ("ComponentLabels", "ComponentLabelsOptions")
