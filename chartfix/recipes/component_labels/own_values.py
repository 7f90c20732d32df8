"""A controller that already selects on its component value, which other pods carry too: it
keeps its selector, and the Jobs, CronJobs and test Pods get a value of their own where their
template writes the shared one (StatefulSets of one `range`: the label that tells them
apart); the consumers meant for it alone select on its value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from chartfix.model.changes import Refused
from chartfix.model.edits import unique_edits
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef, Origin, Rendering
from chartfix.recipes.base import FixUnit, LabelChange, PlannedEdit, RecipeContext
from chartfix.recipes.component_labels.members import members_edits
from chartfix.recipes.labels import Label, consumer_edit, role_of
from chartfix.recipes.naming import COMPONENT_KEYS
from chartfix.rules.attribution import consumers_of, controllers_selected, namespace_of
from chartfix.rules.context import subchart_dir


@dataclass
class Consumers:
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


def selected_component(controller: K8sObject) -> Label | None:
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


def own_values_unit(
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
    if _select_each_other(siblings):
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


def _select_each_other(objects: Sequence[K8sObject]) -> bool:
    """Whether one of `objects` selects another's pods: StatefulSets one `range` makes that
    share every selector label."""
    return any(
        a is not b and a.selector is not None and a.selector.matches(b.pod_labels or {})
        for a in objects for b in objects
    )


def _stray_consumers(
    context: RecipeContext,
    instances: Sequence[tuple[K8sObject, Rendering]],
    findings: Sequence[Finding],
    label: Label,
    done: set[Origin],
) -> Consumers:
    """The controller's consumers found selecting other pods (its `stray` findings), not
    among the origins `done`, made to select on `label` too, and notes. Only when they
    select this controller alone: one that spans several (a headless Service over every
    member of a cluster) selects them all on a label they share and the other pods lack,
    as narrowing it to this controller would drop the others."""
    out = Consumers()
    seen = set(done)
    strays = {f.obj for f in findings if f.rule == "stray"}
    for instance, scenario in instances:
        for consumer in consumers_of(instance, scenario):
            consumer_key = context.origin(consumer, scenario)
            if consumer.ref not in strays or consumer_key in seen:
                continue
            seen.add(consumer_key)
            if len(controllers_selected(consumer, scenario)) > 1:
                member_edits, member_changes, note = members_edits(context, consumer_key)
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
