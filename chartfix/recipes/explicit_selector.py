"""Controllers whose selector the API server defaults: write it out, of stable labels only.

extensions/v1beta1 and apps/v1beta1 Deployments (and DaemonSets, ReplicaSets, StatefulSets)
may leave `spec.selector` out; the API server then copies the pod template labels into it,
chart version and all, so the selector changes with every chart version. Both recipes that
touch such a controller's selector write it the same way, with the same edit: a
`selector: matchLabels:` block before `template:`, copying the pod template's literal label
lines but the ones that change between releases (and the release manager's). An edit
identical in two units is applied once.
"""

from __future__ import annotations

from chartfix.model.objects import K8sObject, Rendering
from chartfix.model.selectors import LabelSelector
from chartfix.recipes.base import LabelChange, PlannedEdit, RecipeContext
from chartfix.rules.volatile import volatile_entries
from chartfix.sources.helm.template.edit import (
    NotEditable,
    explicit_selector,
    selector_entry_insertion,
)

SELECTOR = "spec.selector.matchLabels"


def write_selector(
    context: RecipeContext,
    obj: K8sObject,
    rendering: Rendering,
    extra: tuple[str, str] | None = None,
    value_templated: bool = False,
) -> tuple[list[PlannedEdit], list[LabelChange]] | str:
    """Edits writing `obj`'s defaulted selector out (plus the `extra` entry, a component
    label), and the changes they make to it; else why they cannot be made."""
    place = context.templates.place_for(obj, rendering.objects)
    if place is None:
        return f"no template document in {obj.source.path} renders {obj.ref}"
    versions = [v for v in (context.chart.version, context.chart.app_version) if v]
    errors, managers = volatile_entries(LabelSelector(obj.pod_labels or {}), versions)
    source = context.templates.outline(place.path)
    newline = source.newline()
    try:
        edit, keys = explicit_selector(source, place.doc, [*errors, *managers], newline)
    except NotEditable as err:
        return (
            f"{place.path}: {obj.ref} has no spec.selector ({obj.api_version} fills it in from "
            f"the pod labels) and it cannot be written out: {err}"
        )
    edits = [PlannedEdit(place.path, edit, f"explicit selector of {obj.ref}")]
    changes = [LabelChange(SELECTOR, key, None) for key in keys]
    if extra is not None:
        key, value = extra
        insertion = selector_entry_insertion(place.doc, key, value, newline)
        edits.append(PlannedEdit(place.path, insertion, f"selector of {obj.ref}"))
        changes.append(LabelChange(SELECTOR, key, None if value_templated else value))
    return edits, changes
