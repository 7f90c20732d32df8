"""Component labels as both label recipes add them (component-labels, stable-selectors when a
version was all that told two workloads apart): which key and value a controller gets, and
the edits giving it to the controller's pod template and selector and to a consumer meant
for it, through `Source.label_edits` whatever the source kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chartfix.model.changes import Refused
from chartfix.model.objects import (
    K8sObject,
    ObjectRef,
    Rendering,
    mapping_at,
    string_map,
)
from chartfix.model.selectors import (
    LABEL_KEY_RULE,
    LABEL_VALUE_RULE,
    valid_label_key,
    valid_label_value,
)
from chartfix.recipes.base import (
    LabelChange,
    PlannedEdit,
    RecipeContext,
    RecipeOptions,
    label_edits,
    option,
)
from chartfix.recipes.explicit_selector import unstable_removals
from chartfix.recipes.naming import (
    COMPONENT_KEYS,
    component_for,
    component_key,
    component_value,
    workload_names,
)


@dataclass(frozen=True)
class Label:
    key: str
    value: str
    templated: bool = False
    """`value` is the name as the source writes it (`Source.written_name`): one piece of
    source writes several controllers, each gets its own."""
    note: str = field(default="", compare=False)
    """Said in the fix's notes: why the label is not the one the user asked for."""

    def change(self, path: str, like: ObjectRef | None = None) -> LabelChange:
        """The label added at `path`, written as the pods of `like` write it (a templated
        key or value copied as written: see `LabelChange.like`)."""
        value = None if self.templated else self.value
        return LabelChange(path, self.key, value, like=like, named=self.templated)


def _key_problem(key: str) -> str | None:
    return None if valid_label_key(key) else f"{key!r} is no label key: {LABEL_KEY_RULE}"


def _values_problem(components: Mapping[str, str]) -> str | None:
    bad = [name for name, value in components.items() if not valid_label_value(value)]
    if not bad:
        return None
    return f"the value for {bad[0]!r} is no label value: {LABEL_VALUE_RULE}"


@dataclass(frozen=True)
class ComponentNaming(RecipeOptions):
    """How a component label is named: the options of every recipe that adds one."""

    component_key: str | None = option(
        "component-key",
        "the component label's key (default: the chart's convention, else "
        "app.kubernetes.io/component beside app.kubernetes.io/* keys, else component)",
        "component", default=None, check=_key_problem,
    )
    components: Mapping[str, str] = option(
        "components",
        "component value per workload: a name or shell-style pattern, matched against the "
        "rendered name, the name without the release and the role (exact names win, then "
        "patterns in the order written; one matching no workload is a warning)",
        "{'*-server': fleet-server}", default_factory=dict, check=_values_problem,
    )


def _choose_label(
    context: RecipeContext,
    controller: K8sObject,
    rendering: Rendering,
    used: set[tuple[str, str]],
) -> Label:
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
            raise Refused(
                f"{controller.ref} already selects on {key}; its value is shared with other pods"
            )
    key = component_key(
        selector.label_keys(), rendering.component_key(), context.options.component_key
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
    asked = component_for(context.options.components, _names(context, controller, rendering))
    if asked is None or asked == value:
        return ""
    return (
        f"--component {asked} for {controller.ref} is not used: its pods already carry "
        f"{key}={value}, so its selector asks for that; change the value in the pod "
        "template first to use another"
    )


def controller_label_edits(
    context: RecipeContext,
    controller: K8sObject,
    rendering: Rendering,
    used: set[tuple[str, str]],
    instances: Sequence[tuple[K8sObject, Rendering]] = (),
    selector: bool = True,
) -> tuple[Label, list[PlannedEdit], dict[tuple[str, str], list[LabelChange]]]:
    """The component label for `controller` and the edits adding it to its pod template and
    selector (where they lack it; with `selector` False, to its pod template only), with the
    changes they make by (file, kind): every kind the same source writes (a Deployment or a
    DaemonSet by values, `instances`: the objects it writes in every scenario). Refused:
    why not."""
    label = _choose_label(context, controller, rendering, used)
    used.add((label.key, label.value))
    paths = (controller.pod_labels_path(), controller.selector_path() if selector else None)
    wanted = [
        label.change(path, like=controller.ref)
        for path in paths
        if path is not None and _labels_at(controller, path).get(label.key) != label.value
    ]
    removals = unstable_removals(context, controller) if selector else []
    edits, made = label_edits(context, controller, rendering, [*wanted, *removals])
    key_of = (controller.document.path, controller.kind)
    # One source may write another kind in another scenario (Deployment or DaemonSet).
    kinds = context.origin(controller, rendering).kinds
    also = [(controller.document.path, k) for k in kinds if k != controller.kind]
    also += sorted({(o.document.path, o.kind) for o, _ in instances} - {key_of, *also})
    return label, edits, {k: list(made) for k in (key_of, *also)}


def role_of(context: RecipeContext, obj: K8sObject, rendering: Rendering) -> str:
    """The component value for a workload (see naming.component_value)."""
    return component_value(
        obj, context.source.name, context.options.components,
        context.source.role_names(obj, rendering), _names(context, obj, rendering),
    )


def _names(context: RecipeContext, obj: K8sObject, rendering: Rendering) -> tuple[str, ...]:
    """The names `--component` may give `obj` (naming.workload_names)."""
    return workload_names(
        obj, context.source.name, context.release, context.source.role_names(obj, rendering)
    )


def consumer_edit(
    context: RecipeContext,
    consumer: K8sObject,
    rendering: Rendering,
    label: Label,
    like: ObjectRef | None = None,
) -> tuple[list[PlannedEdit], list[LabelChange]] | None:
    """The edits adding `label` to a consumer's selector, written as the pods of `like`
    write it, and the changes they make; None when it is there already. Refused: why not,
    naming the consumer."""
    path = consumer.selector_path()
    assert path is not None
    if _labels_at(consumer, path).get(label.key) == label.value:
        return None
    try:
        planned = label_edits(context, consumer, rendering, [label.change(path, like)])
    except Refused as why:
        if str(consumer.ref) in why.reason:
            raise
        raise Refused(f"{consumer.ref} left as it is: {why.reason}") from why
    return planned if planned[0] else None


def _labels_at(obj: K8sObject, path: str) -> dict[str, str]:
    return string_map(mapping_at(obj.body, path))
