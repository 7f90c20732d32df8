"""Controllers whose selector the API server defaults: written out, of stable labels only.

extensions/v1beta1 and apps/v1beta1 Deployments (and DaemonSets, ReplicaSets, StatefulSets)
may leave `spec.selector` out; the API server then copies the pod template labels into it,
chart version and all, so the selector changes with every chart version. Both recipes that
touch such a controller's selector ask for it the same way: any change at its
`spec.selector.matchLabels` makes the source write the selector out of the pod labels
(`LabelChange`), and these removals leave out the ones that change between releases (and
the release manager's). An edit identical in two units is applied once.
"""

from __future__ import annotations

from chartfix.model.objects import K8sObject
from chartfix.model.selectors import LabelSelector
from chartfix.recipes.base import LabelChange, RecipeContext
from chartfix.rules.volatile import volatile_entries

SELECTOR = "spec.selector.matchLabels"


def unstable_removals(context: RecipeContext, obj: K8sObject) -> list[LabelChange]:
    """The pod labels a written-out selector of `obj` must not copy: chart and app versions
    and the release manager (none when the selector is not defaulted)."""
    if not obj.selector_defaulted:
        return []
    versions = [v for v in (context.source.version, context.source.app_version) if v]
    errors, managers = volatile_entries(LabelSelector(obj.pod_labels or {}), versions)
    return [LabelChange(SELECTOR, key, None, removed=True) for key in [*errors, *managers]]
