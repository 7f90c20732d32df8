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

The route, per controller (its overlap and the strays of its consumers): where the component
route would change an immutable field and Helm replaces all the other pods itself (helm test
Pods, hook Jobs Helm deletes before creating again), the safe route: they get a value of
their own for a key the selector holds instead, and nothing immutable changes
(`app.kubernetes.io/name: {{ include "web.name" . }}-test-connection` after the helper's
output without it, written as the helper writes the shared value; `app: {{ template "x.name"
. }}-cleanup` after a templated value; the role alone, `app.kubernetes.io/name:
test-connection`, where the shared value embeds the release name (a fullname: with the role
after it, a long release name makes it too long for a label value); never the release's key,
never a key added alone, never a key that a Service, PDB or NetworkPolicy of those pods
alone selects them on: it would lose them). The component route above is taken for the
others (a second controller, a non-hook Job, a CronJob), where it changes nothing immutable
either (the controller selects on its component already), when the safe edit fails
verification, and always with `prefer: component`. With `prefer: safe`, a controller whose
other pods include CronJobs takes the safe route too: their job template changes freely, but
a Job the CronJob started before the upgrade keeps running with the old labels until it
ends. With `--safe-only`, a controller whose other pods are not all recreated freely keeps
its selector: its pod template gets the component label and the consumers meant for it
select on it (the strays go, the overlap is left, with the command that fixes it).

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
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from chartfix.errors import display_path
from chartfix.model.changes import Refused, Unfixed
from chartfix.model.edits import unique_edits
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef, Origin, Rendering
from chartfix.recipes.base import (
    FixUnit,
    LabelChange,
    Plan,
    PlannedEdit,
    RecipeContext,
    option,
    overridden_targets,
)
from chartfix.recipes.component_labels.members import spanning_unit
from chartfix.recipes.component_labels.own_values import (
    Consumers,
    own_values_unit,
    selected_component,
)
from chartfix.recipes.component_labels.safe_route import other_pods, relabel_unit, relabelled
from chartfix.recipes.labels import (
    ComponentNaming,
    Label,
    consumer_edit,
    controller_label_edits,
    role_of,
)
from chartfix.recipes.naming import component_key
from chartfix.rules.attribution import consumers_of, controllers_selected, meant_for, unattributed
from chartfix.rules.context import subchart_dir

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
            plan.attempt(spanning[key], spanning_unit, context, key, spanning[key])
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
        freely = relabelled(context)
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
            safe = relabel_unit(context, key, findings, others, used)
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
        instances = list(context.instances(key))
        if not instances:
            raise Refused(f"{findings[0].obj} not found in the rendered chart")
        controller, _ = instances[0]
        ref = controller.ref
        if controller.selector is None:
            raise Refused(f"{ref} has no selector in the rendered chart")
        subchart = subchart_dir(controller)
        if subchart:
            raise Refused(f"{ref} comes from the subchart in {subchart}: fix it there")
        own = selected_component(controller)
        if own is not None:
            return Plan([own_values_unit(context, findings, instances, own, used)])
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
    ) -> Consumers:
        """The consumers of the controller `key` in any scenario (consumers may exist in some
        scenarios only) meant for it, labelled as its pods write `label` (each origin once),
        and why those that cannot be are left."""
        out = Consumers()
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


def _changes_nothing_immutable(plan: Plan) -> bool:
    """Whether the plan fixes every finding it was made for and every unit of it is safe."""
    return bool(plan.units) and not plan.refused and all(
        unit.applicability == "safe" for unit in plan.units
    )


def _selector_needed(context: RecipeContext, ref: ObjectRef) -> str:
    """Why --safe-only leaves an overlap, and the command that fixes it."""
    return (
        f"fixing it changes {ref}'s selector, an immutable field (left by --safe-only): "
        f"`chartfix fix {display_path(context.source.root)}` does it, and the upgrade then "
        "needs the migration note"
    )


# --- --label-jobs: Jobs, CronJobs and test Pods get a label of their own ------------------


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


__all__: Sequence[str] = ("ComponentLabels", "ComponentLabelsOptions")
