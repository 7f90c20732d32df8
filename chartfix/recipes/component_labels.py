"""component-labels: give every controller whose selector catches other pods a label of its own.

What it fixes
    `overlap`: a Deployment/StatefulSet/DaemonSet selector also matches pods of Jobs, CronJobs,
    test Pods or other controllers. `stray`: a Service, PodDisruptionBudget or NetworkPolicy
    selects such pods.

The fix (the FleetDM fix of DOMAIN.md §1, done by a tool)
    Add `component: ROLE` to the controller's pod template labels and `spec.selector`, and the
    same entry to each Service, PDB and NetworkPolicy meant for that controller (decided by
    ports, then names). The key follows the chart's convention: `app.kubernetes.io/component`
    when its selector uses `app.kubernetes.io/*` keys, `component` otherwise. Literal lines
    are inserted next to shared helper includes, in the workload's own template: helpers used
    by other workloads are never changed. Jobs, CronJobs and test Pods are left alone unless
    `label_jobs` is set (a non-hook Job's pod template is immutable).

    When the pods already carry a component label written with a templated key or value
    (`{{ .Values.x | default "app.kubernetes.io/component" }}: controller`), selectors get
    the same text, so that they ask for what the pods carry under any values; a selector that
    already writes that key under a condition (a `useComponentLabel` toggle) is left, with the
    reason: adding the key again would render it twice when the toggle is on.

    When the controller already selects on its component value and other pods carry that
    value too, the controller keeps its selector: the Job, CronJob or test Pod gets a value
    of its own (its role) where its template writes the shared one, and the consumers meant
    for the controller alone select on its value. StatefulSets made by one `range` that
    share every selector label select also on the pod label that tells them apart
    (`shard: {{ $i | quote }}`).

Fix safety
    Unsafe for the controller: `spec.selector` is immutable, so upgrading a release needs the
    migration note. Safe for Services, PDBs and NetworkPolicies. A new component value is safe
    for test Pods, CronJobs and hook Jobs Helm recreates; unsafe for any other Job (its pod
    template is immutable: the migration note deletes it before the upgrade).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from chartfix.model.changes import Unfixed
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef, Rendering, mapping_at, string_map
from chartfix.recipes.attribution import (
    consumers_of,
    controllers_selected,
    meant_for,
    namespace_of,
    unattributed,
)
from chartfix.recipes.base import (
    FixUnit,
    LabelChange,
    Plan,
    PlannedEdit,
    RecipeContext,
    RecipeOption,
)
from chartfix.recipes.explicit_selector import write_selector
from chartfix.recipes.naming import (
    COMPONENT_KEYS,
    component_for,
    component_key,
    component_value,
    unique,
    workload_names,
)
from chartfix.rules.context import subchart_dir
from chartfix.sources.helm.template.edit import NotEditable, insert_entry, replace_value
from chartfix.sources.helm.template.helpers import included_helper
from chartfix.sources.helm.template.labels import (
    component_argument_edit,
    conditional_twin,
    insert_written,
    value_text,
    written_as,
)


@dataclass(frozen=True)
class Label:
    key: str
    value: str
    templated: bool = False
    note: str = field(default="", compare=False)
    """Said in the fix's notes: why the label is not the one the user asked for."""
    written: tuple[str, str] | None = field(default=None, compare=False)
    """Key and value as the pod template writes them, when either is templated: selectors
    copy them, so that they ask for what the pods carry under any values."""


class ComponentLabels:
    name = "component-labels"
    summary = "Add a component label to controllers whose selectors match other workloads' pods"
    rules = frozenset({"overlap", "stray"})
    options = (
        RecipeOption(
            "component-key", "component_key", str,
            "the component label's key (default: the chart's convention, else "
            "app.kubernetes.io/component beside app.kubernetes.io/* keys, else component)",
            "component",
        ),
        RecipeOption(
            "components", "components", dict,
            "component value per workload: rendered name, its role suffix, or a shell-style "
            "pattern (exact names win, then patterns in the order written)",
            "{'*-server': fleet-server}",
        ),
        RecipeOption(
            "label-jobs", "label_jobs", bool,
            "also label the Jobs, CronJobs and test Pods that overlap", "true",
        ),
    )

    def plan(self, context: RecipeContext) -> Plan:
        plan = Plan()
        # Findings grouped by the template document that writes the controller: one
        # Deployment may carry different names in different scenarios (fullnameOverride).
        groups: dict[DocKey, list[Finding]] = defaultdict(list)
        claimed: dict[DocKey, DocKey] = {}  # consumer -> controller it was meant for
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
                if owner is None:
                    plan.refused.append(Unfixed(finding, unattributed(obj, rendering)))
                    continue
                claimed[doc_key(context, obj, rendering)] = doc_key(context, owner, rendering)
                obj = owner
            groups[doc_key(context, obj, rendering)].append(finding)

        used: set[tuple[str, str]] = set()
        for key in sorted(groups):
            findings = groups[key]
            unit_or_reason = self._controller_unit(
                context, key, findings, claimed, used, plan.refused
            )
            if isinstance(unit_or_reason, str):
                plan.refused.extend(Unfixed(f, unit_or_reason) for f in findings)
            else:
                plan.units.append(unit_or_reason)
        if context.options.label_jobs:
            plan.units.extend(self._job_units(context))
        return plan

    # --- one controller ---------------------------------------------------------------------

    def _controller_unit(
        self,
        context: RecipeContext,
        key: DocKey,
        findings: list[Finding],
        claimed: dict[DocKey, DocKey],
        used: set[tuple[str, str]],
        refused: list[Unfixed],
    ) -> FixUnit | str:
        instances = list(_instances(context, key))
        if not instances:
            return f"{findings[0].obj} not found in the rendered chart"
        controller, rendering = instances[0]
        ref = controller.ref
        if controller.selector is None:
            return f"{ref} has no selector in the rendered chart"
        subchart = subchart_dir(controller)
        if subchart:
            return f"{ref} comes from the subchart in {subchart}: fix it there"
        own = _selected_component(controller)
        if own is not None:
            if context.sources is None:  # relabelling the other pods: Helm templates only
                return (
                    f"{ref} already selects on {own.key}={own.value}, which other pods carry "
                    f"too: give those pods a value of their own by hand"
                )
            return _own_values_unit(context, findings, instances, own, used)
        labelled = controller_label_edits(context, controller, rendering, used, instances)
        if isinstance(labelled, str):
            return labelled
        label, edits, own_changes = labelled
        changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
        for kind_key, more in own_changes.items():
            changes[kind_key].extend(more)

        own_edits = list(edits)
        notes: list[str] = [label.note] if label.note else []
        outcome: dict[DocKey, str | None] = {}  # consumer -> None (labelled) or why not
        edited: set[ObjectRef] = set()
        left: dict[ObjectRef, str] = {}
        for instance, scenario in instances:  # consumers may exist in some scenarios only
            for consumer in consumers_of(instance, scenario):
                consumer_key = doc_key(context, consumer, scenario)
                if consumer_key not in outcome:
                    outcome[consumer_key] = self._consumer(
                        context, key, consumer, scenario, claimed, label, edits, changes
                    )
                result = outcome[consumer_key]
                if result is None:
                    edited.add(consumer.ref)
                elif result:
                    left[consumer.ref] = result
        notes += sorted(set(left.values()))
        for finding in [f for f in findings if f.rule == "stray" and f.obj not in edited]:
            findings.remove(finding)
            reason = left.get(
                finding.obj, f"{finding.obj} could not be matched to {ref}'s pods"
            )
            refused.append(Unfixed(finding, reason))
        title = f"{ref}: add {label.key}={label.value}"
        fallback = FixUnit(
            title,
            own_edits,
            [f for f in findings if f.rule == "overlap"],
            {k: list(v) for k, v in own_changes.items()},
            "unsafe",
            [*notes, "the Services, PDBs and NetworkPolicies meant for it failed verification"],
        )
        unit = FixUnit(title, _unique(edits), findings, dict(changes), "unsafe", notes)
        unit.fallback = fallback if len(own_edits) < len(unit.edits) else None
        return unit

    def _consumer(
        self,
        context: RecipeContext,
        key: DocKey,
        consumer: K8sObject,
        scenario: Rendering,
        claimed: dict[DocKey, DocKey],
        label: Label,
        edits: list[PlannedEdit],
        changes: dict[tuple[str, str], list[LabelChange]],
    ) -> str | None:
        """Label one consumer of the controller `key`: None when done (or nothing to do),
        '' when it belongs to another controller, else why it is left as it is."""
        consumer_key = doc_key(context, consumer, scenario)
        if claimed.get(consumer_key, key) != key:
            return ""  # meant for another controller: its own unit labels it
        owner = meant_for(consumer, scenario)
        if owner is None:
            return (
                f"{consumer.ref} selects pods of several workloads and neither ports nor "
                "names tell which it is meant for; left as it is"
            )
        if doc_key(context, owner, scenario) != key:
            return ""
        planned = consumer_edit(context, consumer, scenario, label)
        if isinstance(planned, str):
            return planned
        if planned is not None:
            edits.append(planned)
            value = None if label.templated else label.value
            changes[(consumer.source.path, consumer.kind)].append(
                LabelChange(str(consumer.selector_path()), label.key, value)
            )
        return None

    # --- Jobs, CronJobs and test Pods (opt-in) ------------------------------------------------

    def _job_units(self, context: RecipeContext) -> list[FixUnit]:
        """Opt-in: label the Jobs, CronJobs and test Pods that controllers' selectors catch."""
        units: list[FixUnit] = []
        seen: set[DocKey] = set()
        for finding in context.findings:
            if finding.rule != "overlap":
                continue
            rendering = context.scenario_of(finding)
            for ref in finding.related:
                obj = context.find(rendering, ref)
                if obj is None or obj.is_controller:
                    continue
                key = doc_key(context, obj, rendering)
                if key in seen:
                    continue
                seen.add(key)
                unit = _job_unit(context, obj, rendering)
                if unit is not None:
                    units.append(unit)
        return units


# --- choosing the label ---------------------------------------------------------------------


def _choose_label(
    context: RecipeContext,
    controller: K8sObject,
    rendering: Rendering,
    used: set[tuple[str, str]],
) -> Label | str:
    selector = controller.selector
    assert selector is not None
    pod = controller.pod_labels or {}
    for key in COMPONENT_KEYS:
        if key in pod and key not in selector.label_keys():
            # The pods already say what they are; the selector just never asked.
            note = _kept_value_note(context, controller, rendering, key, pod[key])
            return Label(key, pod[key], note=note)
    for key in COMPONENT_KEYS:
        if key in selector.label_keys():
            return f"{controller.ref} already selects on {key}; its value is shared with other pods"
    key = component_key(
        selector.label_keys(), _chart_component_key(rendering), context.options.component_key
    )
    written = context.source.written_name(controller, rendering)
    if written is not None:
        # One template renders several controllers: their names tell them apart.
        return Label(key, written, templated=True)
    value = role_of(context, controller, rendering)
    if (key, value) in used:
        value = f"{value}-{controller.kind.lower()}"
    return Label(key, value)


def _kept_value_note(
    context: RecipeContext, controller: K8sObject, rendering: Rendering, key: str, value: str
) -> str:
    """Why a `--component` value given for `controller` is not used: its pods already carry
    `key: value`, and the selector must ask for what the pods carry."""
    names = workload_names(
        controller, context.chart.name, context.options.release,
        context.source.author_name(controller, rendering),
    )
    asked = component_for(context.options.components, names)
    if asked is None or asked == value:
        return ""
    return (
        f"--component {asked} for {controller.ref} is not used: its pods already carry "
        f"{key}={value}, so its selector asks for that; change the value in the pod "
        "template first to use another"
    )


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


def controller_label_edits(
    context: RecipeContext,
    controller: K8sObject,
    rendering: Rendering,
    used: set[tuple[str, str]],
    instances: Sequence[tuple[K8sObject, Rendering]] = (),
) -> tuple[Label, list[PlannedEdit], dict[tuple[str, str], list[LabelChange]]] | str:
    """The component label for `controller` and the edits adding it to its pod template and
    selector (where they lack it), with the changes they make by (template, kind); else why
    not. `instances`: the objects its document renders in every scenario."""
    ref = controller.ref
    label = _choose_label(context, controller, rendering, used)
    if isinstance(label, str):
        return label
    used.add((label.key, label.value))
    if context.sources is None:
        return _source_label_edits(context, controller, rendering, label)

    place = context.templates.place_for(controller, rendering.objects)
    if place is None:
        return f"no template document in {controller.source.path} renders {ref}"
    if place.shared and not label.templated:
        return place.shared_reason(ref)
    doc, where = place.doc, place.path
    newline = context.templates.outline(where).newline()
    edits: list[PlannedEdit] = []
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    pod_site = context.templates.site(doc, str(controller.pod_labels_path()))
    text = context.templates.outline(where).text
    as_written = (
        written_as(text, pod_site, label.key, label.value) if pod_site is not None else None
    )
    if isinstance(as_written, str):
        return f"{where}:{pod_site.line if pod_site else '?'}: {ref}: {as_written}"
    value = None if label.templated else label.value
    key_of = (controller.source.path, controller.kind)
    # One document may render another kind in another scenario (Deployment or DaemonSet).
    also = [(controller.source.path, k) for k in doc.kinds if k != controller.kind]
    also += sorted({(o.source.path, o.kind) for o, _ in instances} - {key_of, *also})
    for path, why in (
        (controller.pod_labels_path(), "pod template labels"),
        (controller.selector_path(), "selector"),
    ):
        assert path is not None
        rendered = _labels_at(controller, path)
        if rendered.get(label.key) == label.value:
            continue  # already there (the pod template often has it already)
        if path == controller.selector_path() and controller.selector_defaulted:
            written = write_selector(
                context, controller, rendering, (label.key, label.value), label.templated
            )
            if isinstance(written, str):
                return written
            edits += written[0]
            for kind_key in (key_of, *also):
                changes[kind_key] += written[1]
            continue
        site = context.templates.site(doc, path)
        if site is None:
            return f"{where}: {path} of {ref} is not written in the template"
        clash = conditional_twin(text, site, label.key, as_written)
        if clash:
            return f"{where}:{site.line}: {ref}: {clash}"
        try:
            edit = (
                insert_written(site, as_written, newline) if as_written is not None
                else component_argument_edit(site, label.value)
                or insert_entry(site, label.key, label.value, newline)
            )
        except NotEditable as err:
            return f"{where}:{site.line}: {err}"
        edits.append(PlannedEdit(where, edit, f"{why} of {ref}"))
        for kind_key in (key_of, *also):
            changes[kind_key].append(LabelChange(path, label.key, value))
    if as_written is not None:
        label = replace(label, written=as_written)
    return label, edits, {k: changes[k] for k in (key_of, *also)}


def _own_values_unit(
    context: RecipeContext,
    findings: list[Finding],
    instances: list[tuple[K8sObject, Rendering]],
    label: Label,
    used: set[tuple[str, str]],
) -> FixUnit | str:
    """The controller already selects on its component value, and other pods share it
    (class 5 of issue #11): give those pods a value of their own, and add the value to
    the consumers meant for the controller that do not select on it yet. The controller
    itself keeps its selector."""
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
    done: set[DocKey] = set()
    for instance, scenario in instances:
        for other in _sharing_pods(instance, scenario, label):
            other_key = doc_key(context, other, scenario)
            if other_key in done:
                continue
            done.add(other_key)
            if other.is_controller:
                return (
                    f"{controller.ref} and {other.ref} share every selector label, "
                    f"{label.key}={label.value} included"
                )
            planned = _own_value_edit(context, other, scenario, label, used)
            if isinstance(planned, str):
                return planned
            edit, value = planned
            edits.append(edit)
            changes[(other.source.path, other.kind)].append(
                LabelChange(str(other.pod_labels_path()), label.key, value)
            )
            if other.kind == "Job" and not other.recreated_by_helm:
                unsafe = True
                notes.append(
                    f"{other.ref} is a Job; its pod template is immutable: delete it "
                    "before upgrading"
                )
    # Only the consumers found selecting other pods change, and only when they select
    # this controller alone: narrowing one that spans several would drop the others.
    strays = {f.obj for f in findings if f.rule == "stray"}
    for instance, scenario in instances:
        for consumer in consumers_of(instance, scenario):
            consumer_key = doc_key(context, consumer, scenario)
            if consumer.ref not in strays or consumer_key in done:
                continue
            done.add(consumer_key)
            owners = controllers_selected(consumer, scenario)
            if len(owners) > 1:
                return (
                    f"{consumer.ref} selects the pods of {len(owners)} controllers "
                    f"({', '.join(str(o.ref) for o in owners)}) and of other workloads; "
                    f"selecting on {label.key}={label.value} would drop all but "
                    f"{controller.ref}"
                )
            selector_edit = consumer_edit(context, consumer, scenario, label)
            if isinstance(selector_edit, str):
                return selector_edit
            if selector_edit is not None:
                edits.append(selector_edit)
                changes[(consumer.source.path, consumer.kind)].append(
                    LabelChange(str(consumer.selector_path()), label.key, label.value)
                )
    if not edits:
        return (
            f"{controller.ref} already selects on {label.key}={label.value}; "
            "no pod or selector to change was found"
        )
    return FixUnit(
        f"{controller.ref}: other pods get their own {label.key}",
        _unique(edits),
        findings,
        dict(changes),
        "unsafe" if unsafe else "safe",
        notes,
    )


def _range_unit(
    context: RecipeContext,
    findings: list[Finding],
    siblings: list[K8sObject],
    rendering: Rendering,
) -> FixUnit | str:
    """Controllers one `range` renders share every selector label: their selector asks also
    for a pod label that tells them apart, written as their pod template writes it
    (`shard: {{ $i | quote }}`)."""
    controller = siblings[0]
    selector = controller.selector
    assert selector is not None
    pods = [o.pod_labels or {} for o in siblings]
    keys = [
        k for k in pods[0]
        if k not in selector.label_keys() and all(k in p for p in pods)
        and len({p[k] for p in pods}) == len(pods)
    ]
    place = context.templates.place_for(controller, rendering.objects)
    pod_path, path = controller.pod_labels_path(), controller.selector_path()
    assert pod_path is not None and path is not None
    pod_site = context.templates.site(place.doc, pod_path) if place is not None else None
    site = context.templates.site(place.doc, path) if place is not None else None
    if place is None or site is None or pod_site is None:
        return f"no template document in {controller.source.path} renders {controller.ref}"
    if place.shared:
        return place.shared_reason(controller.ref)
    text = context.templates.outline(place.path).text
    written = [(k, v) for k in keys if (v := value_text(text, pod_site, k))]
    if not written:
        names = ", ".join(str(o.ref) for o in siblings)
        return (
            f"{names} are rendered by one template and share every selector label; no pod "
            "label written in the template tells them apart: add one by hand"
        )
    key, value = written[0]
    newline = context.templates.outline(place.path).newline()
    try:
        edit = insert_entry(site, key, value, newline)
    except NotEditable as err:
        return f"{place.path}:{site.line}: {err}"
    return FixUnit(
        f"{controller.source.path}: the {controller.kind}s it renders select on {key}",
        [PlannedEdit(place.path, edit, f"selector of {controller.ref} and its siblings")],
        [f for f in findings if f.rule == "overlap"],
        {(controller.source.path, controller.kind): [LabelChange(path, key, None)]},
        "unsafe",
    )


def _own_value_edit(
    context: RecipeContext,
    obj: K8sObject,
    rendering: Rendering,
    label: Label,
    used: set[tuple[str, str]],
) -> tuple[PlannedEdit, str] | str:
    """An edit giving the pods of `obj` (a Job, CronJob or test Pod) their own value for
    `label.key`, written where their template writes the shared one; else why not."""
    subchart = subchart_dir(obj)
    if subchart:
        return f"{obj.ref} comes from the subchart in {subchart}: fix it there"
    value = role_of(context, obj, rendering)
    if value == label.value or (label.key, value) in used:
        value = f"{value}-{obj.kind.lower()}"
    path = obj.pod_labels_path()
    place = context.templates.place_for(obj, rendering.objects)
    site = context.templates.site(place.doc, path) if place and path else None
    if place is None or site is None:
        return f"{obj.source.path}: {path} of {obj.ref} is not written in the template"
    if place.shared:
        return place.shared_reason(obj.ref)
    text = context.templates.outline(place.path).text
    if label.key not in site.literal_keys():
        helpers = [
            name for entry in site.entries if entry.generated
            for action in entry.line.output_actions if (name := included_helper(action))
        ]
        source = f"the helper {', '.join(helpers)}" if helpers else "a templated line"
        return (
            f"{obj.ref} gets {label.key}={label.value} from {source} "
            f"({place.path}:{site.line}), like the controller's pods: give it a value "
            "of its own there by hand"
        )
    try:
        edit = replace_value(text, site, label.key, value)
    except NotEditable as err:
        return (
            f"{obj.ref} shares {label.key}={label.value} with the controller, and "
            f"{place.path}:{site.line} cannot give it another: {err}"
        )
    return PlannedEdit(place.path, edit, f"pod labels of {obj.ref}"), value


def _chart_component_key(rendering: Rendering) -> str | None:
    """The component key the chart already puts on some pods, if any: its own convention."""
    key: str | None = rendering.memo("component-key", _first_component_key)
    return key


def _first_component_key(objects: Sequence[K8sObject], namespace: str) -> str | None:
    for obj in objects:
        for key in COMPONENT_KEYS:
            if key in (obj.pod_labels or {}):
                return key
    return None


def role_of(context: RecipeContext, obj: K8sObject, rendering: Rendering) -> str:
    """The component value for a workload (see naming.component_value)."""
    return component_value(
        obj, context.chart.name, context.options.release, context.options.components,
        context.source.author_name(obj, rendering),
    )


# --- consumers --------------------------------------------------------------------------------


def consumer_edit(
    context: RecipeContext, consumer: K8sObject, rendering: Rendering, label: Label
) -> PlannedEdit | str | None:
    """The edit adding `label` to a consumer's selector; None when it is there already,
    else why it cannot be added."""
    path = consumer.selector_path()
    assert path is not None
    if _labels_at(consumer, path).get(label.key) == label.value:
        return None
    if context.sources is None:
        planned = context.source.label_edits(
            consumer, rendering, [LabelChange(path, label.key, label.value)]
        )
        if isinstance(planned, str):
            return f"{consumer.ref} left as it is: {planned}"
        return planned[0] if planned else None
    if consumer.source.path.startswith("charts/"):
        return f"{consumer.ref} comes from a subchart; left as it is"
    place = context.templates.place_for(consumer, rendering.objects)
    site = place.doc.sites.get(path) if place else None
    if place is None or site is None:
        return f"{consumer.source.path}: {path} of {consumer.ref} is not written in the template"
    if place.shared:
        return f"{place.shared_reason(consumer.ref)}; left as it is"
    newline = context.templates.outline(place.path).newline()
    text = context.templates.outline(place.path).text
    clash = conditional_twin(text, site, label.key, label.written)
    if clash:
        return f"{place.path}:{site.line}: {consumer.ref} left as it is: {clash}"
    try:
        edit = (
            insert_written(site, label.written, newline) if label.written is not None
            else insert_entry(site, label.key, label.value, newline)
        )
    except NotEditable as err:
        return f"{place.path}:{site.line}: {consumer.ref} left as it is: {err}"
    return PlannedEdit(place.path, edit, f"selector of {consumer.ref}")


def _source_label_edits(
    context: RecipeContext, controller: K8sObject, rendering: Rendering, label: Label
) -> tuple[Label, list[PlannedEdit], dict[tuple[str, str], list[LabelChange]]] | str:
    """`label` added to the controller's pod template and selector by its source kind's
    own editor (any kind but Helm, whose template shapes controller_label_edits knows)."""
    wanted = [
        LabelChange(path, label.key, label.value)
        for path in (controller.pod_labels_path(), controller.selector_path())
        if path is not None and _labels_at(controller, path).get(label.key) != label.value
    ]
    edits = context.source.label_edits(controller, rendering, wanted)
    if isinstance(edits, str):
        return edits
    return label, edits, {(controller.source.path, controller.kind): wanted}


def _job_unit(context: RecipeContext, obj: K8sObject, rendering: Rendering) -> FixUnit | None:
    if context.sources is None:
        return _source_job_unit(context, obj, rendering)
    path = obj.pod_labels_path()
    place = context.templates.place_for(obj, rendering.objects)
    site = place.doc.sites.get(path) if place and path else None
    if place is None or site is None or path is None or obj.source.path.startswith("charts/"):
        return None
    if place.shared:
        return None
    pods = obj.pod_labels or {}
    key = component_key(pods, None, None)
    if key in pods:
        return None
    value = role_of(context, obj, rendering)
    newline = context.templates.outline(place.path).newline()
    try:
        edit = insert_entry(site, key, value, newline)
    except NotEditable:
        return None
    return _labelled_job(obj, [PlannedEdit(place.path, edit, f"pod labels of {obj.ref}")],
                         LabelChange(path, key, value))


def _source_job_unit(
    context: RecipeContext, obj: K8sObject, rendering: Rendering
) -> FixUnit | None:
    path = obj.pod_labels_path()
    pods = obj.pod_labels or {}
    key = component_key(pods, None, None)
    if path is None or key in pods:
        return None
    change = LabelChange(path, key, role_of(context, obj, rendering))
    edits = context.source.label_edits(obj, rendering, [change])
    return None if isinstance(edits, str) else _labelled_job(obj, edits, change)


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
        {(obj.source.path, obj.kind): [change]},
        "safe" if safe else "unsafe",
        [note],
    )


# --- helpers ----------------------------------------------------------------------------------


DocKey = tuple[str, str, int]
"""What writes a workload (Source.origin): one workload however its name renders."""
ANY_KIND = "*"


def doc_key(context: RecipeContext, obj: K8sObject, rendering: Rendering) -> DocKey:
    return context.source.origin(obj, rendering)  # type: ignore[return-value]


def _instances(context: RecipeContext, key: DocKey) -> list[tuple[K8sObject, Rendering]]:
    """The objects the document `key` renders, in every scenario (first scenario first)."""
    found = []
    for rendering in context.renderings:
        for obj in rendering.objects:
            kinds = key[1].split("|")
            if (obj.kind in kinds or ANY_KIND in kinds) and doc_key(context, obj, rendering) == key:
                found.append((obj, rendering))
    return found


def _unique(edits: list[PlannedEdit]) -> list[PlannedEdit]:
    """One edit per place: the same consumer, seen in several scenarios, is labelled once."""
    return unique(edits, key=lambda p: (p.path, p.edit))


def _labels_at(obj: K8sObject, path: str) -> dict[str, str]:
    return string_map(mapping_at(obj.body, path))


__all__: Sequence[str] = (
    "ComponentLabels", "Label", "consumer_edit", "controller_label_edits", "role_of"
)
