"""The route that changes no selector: the other pods a controller's selector catches get a
value of their own for a key the selector holds (a name key, never the release's), so that
it no longer catches them. By default those Helm replaces (helm test Pods, hook Pods and
Jobs); with `prefer: safe` or `--safe-only`, CronJobs' job templates too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from chartfix.model.changes import Refused
from chartfix.model.edits import unique_edits
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, Origin, Rendering
from chartfix.model.selectors import valid_label_value
from chartfix.recipes.base import FixUnit, LabelChange, PlannedEdit, RecipeContext
from chartfix.recipes.labels import role_of
from chartfix.recipes.naming import COMPONENT_KEYS
from chartfix.rules.attribution import controllers_selected, namespace_of
from chartfix.rules.context import subchart_dir

NAME_KEYS = ("app.kubernetes.io/name", "app", "name", "k8s-app")
"""Selector keys that name the application: after the component keys, the ones a relabelled
test Pod or Job takes a value of its own for (`app.kubernetes.io/name: web-test-connection`)."""
RELEASE_KEYS = frozenset({"app.kubernetes.io/instance", "release"})
"""Never relabelled: the release a pod belongs to is what Helm and its users select on."""


def relabelled(context: RecipeContext) -> Callable[[K8sObject], bool] | None:
    """Which other pods the route may give values of their own: those recreated freely
    (`prefer: safe`, `--safe-only`), those Helm replaces (unset), none (`prefer:
    component`)."""
    prefer = context.options.prefer
    if context.safe_only or prefer == "safe":
        return recreated_freely
    return replaced_by_helm if prefer is None else None


def replaced_by_helm(obj: K8sObject) -> bool:
    """Pods Helm itself replaces: helm test Pods, hook Pods, and hook Jobs Helm deletes
    before creating again (`recreated_by_helm`: those naming no delete policy too, Helm's
    default being `before-hook-creation`). Their labels may change with no immutable field
    changing, and once `helm upgrade` (or the next `helm test`) has run, none of their pods
    runs with the old ones: the safe route's default."""
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


def relabel_unit(
    context: RecipeContext,
    key: Origin,
    findings: list[Finding],
    others: Sequence[tuple[K8sObject, Rendering]],
    used: set[tuple[str, str]],
) -> FixUnit:
    """The safe route: each of `others` (pods recreated freely) gets a value of its own for
    a key the controller's selector holds, so no selector, and no immutable field, changes.
    Never a key added alone: the selector would still match a superset."""
    instances = context.instances(key)
    if not instances:
        raise Refused(f"{findings[0].obj} not found in the rendered chart")
    controller, home = instances[0]
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
        left = _left_behind(obj, rendering, label_key, value)
        if left is not None:
            raise Refused(
                f"{left.ref} selects the pods of {obj.ref} alone on {label_key}: another "
                "value would leave them out of it"
            )
        path = obj.pod_labels_path()
        assert path is not None
        change = LabelChange(path, label_key, value)
        edits.extend(context.source.label_edits(obj, rendering, [change]))
        changes[(obj.document.path, obj.kind)].append(change)
        names.append(f"{obj.ref}{_as_rendered(rendering, home)} gets {label_key}={value}")
    mixed = any(r.scenario != home.scenario for _, r in others)
    note = (
        f"the other pods the selector of {controller.ref}"
        + (f" (as {_values(home.scenario)} render it)" if mixed else "")
        + f" matches get values of their own: {'; '.join(names)} ("
        + _made_anew({obj.kind for obj, _ in others}) + ": no immutable field of theirs changes)"
    )
    return FixUnit(
        f"{controller.ref}: the other pods get values of their own",
        unique_edits(edits), findings, dict(changes), "safe", [note],
    )


def _as_rendered(rendering: Rendering, home: Rendering) -> str:
    """Which values an object's name comes from, when not the controller's: names differ
    between scenarios (a fullnameOverride in ci/ values)."""
    if rendering.scenario == home.scenario:
        return ""
    return f" (as {_values(rendering.scenario)} render it)"


def _values(scenario: str) -> str:
    return "the default values" if scenario == "default" else f"the values of `{scenario}`"


def _made_anew(kinds: set[str]) -> str:
    """How the relabelled pods' objects come back with their new labels, per kind: a Job is
    a Helm hook recreated by Helm, a CronJob's Jobs are created by it anew on each run, a
    test Pod is created anew by each `helm test`."""
    said = {
        "Job": "Helm recreates its hook Jobs",
        "CronJob": "a CronJob creates its Jobs anew on each run",
        "Pod": "each `helm test` creates its test Pods anew",
    }
    return "; ".join(said[kind] for kind in sorted(kinds) if kind in said) or "recreated"


def _left_behind(obj: K8sObject, rendering: Rendering, key: str, value: str) -> K8sObject | None:
    """A Service, PDB or NetworkPolicy of the pods of `obj` alone (it selects no
    controller's pods: a hook Job's own NetworkPolicy) that would no longer select them once
    they carry `key=value`."""
    pods = obj.pod_labels or {}
    after = {**pods, key: value}
    for consumer in rendering.selector_index().selecting(pods, namespace_of(obj, rendering)):
        selector = consumer.selector
        if not consumer.is_consumer or selector is None or selector.matches(after):
            continue
        if not controllers_selected(consumer, rendering):
            return consumer
    return None


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
