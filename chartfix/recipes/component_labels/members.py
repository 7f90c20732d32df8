"""Consumers meant for several controllers (a headless Service over every StatefulSet of a
cluster, or one whose ports and name tie): not narrowed to one, they select also on a label
those controllers' pods share and the other pods lack, else on `member-of: ROLE` added to
their pods."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from chartfix.model.changes import Refused
from chartfix.model.edits import unique_edits
from chartfix.model.findings import Finding
from chartfix.model.objects import MANAGER_KEYS, K8sObject, ObjectRef, Origin, Rendering
from chartfix.recipes.base import FixUnit, LabelChange, PlannedEdit, RecipeContext
from chartfix.recipes.labels import Label, consumer_edit
from chartfix.recipes.naming import label_value, role_word
from chartfix.rules.attribution import namespace_of
from chartfix.rules.context import subchart_dir
from chartfix.rules.volatile import VERSION_KEYS

MEMBER_KEY = "member-of"
"""The label that tells the pods of the controllers a consumer spans from the other pods
it selects, when no label they carry does: `member-of: headless` for `NAME-headless`."""


def members_edits(
    context: RecipeContext, consumer_key: Origin
) -> tuple[list[PlannedEdit], dict[tuple[str, str], list[LabelChange]], str]:
    """Edits making the consumer `consumer_key` (a headless Service over the StatefulSets of
    one cluster) select the pods of every controller it selects now, and no other pods: it
    selects also on a label those pods share and the others lack. A label the controllers'
    pod templates already write that way is used as it is; else they all get
    `member-of: ROLE` (ROLE from the consumer's name). Their selectors stay as they are. The
    edits, the changes they make by (file, kind), and a note. Refused: why not."""
    instances = context.instances(consumer_key)
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
    return edits, dict(changes), _members_note(consumer.ref, names, others, label, relabelled)


def _members_note(
    consumer: ObjectRef, names: str, others: Mapping[ObjectRef, K8sObject], label: Label,
    relabelled: bool,
) -> str:
    """What the consumer selects now, and whether its members' pods carried the label
    already or get it (a rolling update)."""
    stray = ", ".join(sorted(str(r) for r in others))
    how = (
        f"their pods get {label.key}={label.value} (a rolling update; until a pod is "
        f"replaced, {consumer} leaves it out: label the running pods first to keep them)"
        if relabelled else f"their pods already carry {label.key}={label.value}"
    )
    return (
        f"{consumer} keeps selecting {names}, no longer {stray}: it selects on "
        f"{label.key}={label.value}; {how}"
    )


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


def spanning_unit(context: RecipeContext, key: Origin, findings: list[Finding]) -> FixUnit:
    """The consumer `key`, meant for several controllers, selects them all on a label of
    theirs (`members_edits`)."""
    edits, changes, note = members_edits(context, key)
    return FixUnit(
        f"{findings[0].obj}: select the controllers it spans on a label of theirs",
        unique_edits(edits), findings, changes, "safe", [note],
    )
