"""volatile: a selector holds a label that changes from one release version to the next.

## What it does
Reports a controller, Service, PodDisruptionBudget or NetworkPolicy whose selector
(`matchLabels` or `matchExpressions`) has an entry keyed `helm.sh/chart`,
`app.kubernetes.io/version` or `version`, or whose value holds the chart version or the app
version as a whole token (`chart: mychart-1.2.3`). Entries keyed `heritage` or
`app.kubernetes.io/managed-by` are reported as a warning: they changed once already (Tiller
to Helm).

## Why it matters
Labels are not identity. A controller's `spec.selector` is immutable: the first `helm
upgrade` that bumps the chart version fails with `field is immutable`. A Service selector
with the version silently stops matching pods that were not restarted.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchLabels: {app: web, chart: example-0.1.0}    # the chart's name and version
  template:
    metadata: {labels: {app: web, chart: example-0.1.0}}
    spec: {containers: [{name: web, image: nginx}]}
```

## How to fix
Keep the version labels in `metadata.labels` and in the pod template, and remove them from
selectors. `chartfix fix` does it, splitting a shared label helper
into a selector-only one when needed.

## Fix safety
Unsafe for controllers (immutable selector: follow the migration note), safe for Services,
PodDisruptionBudgets and NetworkPolicies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from chartfix.model.findings import RECIPE_MARK, Finding, Severity
from chartfix.model.objects import K8sObject
from chartfix.model.selectors import LabelSelector
from chartfix.rules.context import RuleContext, chart_of
from chartfix.rules.ksm import runs_autosharded_ksm

CODE = "volatile"
SEVERITY: Severity = "error"
SEVERITY_NOTE = "warning for `heritage`/`managed-by`"
SUMMARY = "A selector holds the chart or app version"

VERSION_KEYS = frozenset({"helm.sh/chart", "app.kubernetes.io/version", "version"})
MANAGER_KEYS = frozenset({"heritage", "app.kubernetes.io/managed-by"})


def holds_version(value: str, version: str) -> bool:
    """True when `version` occurs in `value` as a whole token: "1" is not in "v10" or "1.2"."""
    if not version:
        return False
    candidates = {version, version.replace("+", "_")}  # Helm writes `+` as `_` in labels
    return any(
        re.search(rf"(?<![0-9A-Za-z.]){re.escape(v)}(?![0-9A-Za-z.])", value) for v in candidates
    )


def volatile_entries(
    selector: LabelSelector, versions: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(keys that change with every version, keys that name the release manager)."""
    entries: list[tuple[str, list[str]]] = [(k, [v]) for k, v in selector.match_labels.items()]
    entries += [(r.key, sorted(r.values)) for r in selector.match_expressions]
    errors: list[str] = []
    warnings: list[str] = []
    for key, values in entries:
        if key in VERSION_KEYS or any(holds_version(v, ver) for v in values for ver in versions):
            if key not in errors:
                errors.append(key)
        elif key in MANAGER_KEYS and key not in warnings:
            warnings.append(key)
    return errors, warnings


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    versions = [v for v in (context.chart_version, context.app_version) if v]
    for obj in objects:
        selector = obj.selector
        if not (obj.is_controller or obj.is_consumer) or selector is None:
            continue
        errors, warnings = volatile_entries(selector, versions)
        if not errors and not warnings:
            continue
        keys = errors + warnings
        detail = {"selector": str(selector)}
        if errors:
            detail["keys"] = ", ".join(errors)
        if warnings:
            detail["warning_keys"] = ", ".join(warnings)
        severity: Severity = "error" if errors else "warning"
        parts = []
        if errors:
            parts.append(f"{', '.join(errors)} (changes with the chart or app version)")
        if warnings:
            parts.append(
                f"{', '.join(warnings)} (names the release manager, which changed once already:"
                " Tiller to Helm)"
            )
        message = f"selector holds {' and '.join(parts)}"
        remediation = (
            f"Remove {', '.join(keys)} from the selector of {obj.ref} and keep "
            f"{'it' if len(keys) == 1 else 'them'} in metadata and pod template labels; "
            + _who_does_it(obj, keys, selector)
        )
        if obj.selector_defaulted:
            message = (
                f"selector, which {obj.api_version} fills in from the pod labels (no "
                f"spec.selector is written), holds {' and '.join(parts)}"
            )
            remediation = (
                f"Write spec.selector.matchLabels of {obj.ref} with its pod labels but "
                f"{', '.join(keys)}; " + _who_does_it(obj, keys, selector)
            )
        affected, image = runs_autosharded_ksm(obj)
        if affected:
            message += (
                f"; it runs kube-state-metrics with autosharding on {image} (older than "
                "v2.13.0): when its labels change, shards stop updating until its pods are "
                "restarted"
            )
        yield Finding(
            rule=CODE,
            severity=severity,
            obj=obj.ref,
            message=message,
            remediation=remediation
            + (" (unsafe: the selector is immutable)." if obj.is_controller else "."),
            location=context.location(obj, obj.selector_path(), objects),
            chart=chart_of(obj, context),
            detail=detail,
        )


def _who_does_it(obj: K8sObject, keys: Sequence[str], selector: LabelSelector) -> str:
    """The command that removes `keys`, or why it is a hand edit: the advice must work. The
    recipe is named by its mark (a default run fixes errors only; warnings need the recipe
    asked for by name), filled in where the finding is printed."""
    if obj.source.path.startswith("charts/"):
        return f"edit the subchart that renders it ({obj.source.path}) by hand"
    in_expressions = [k for k in keys if k not in selector.match_labels]
    if in_expressions:
        return f"edit the matchExpressions entry of {', '.join(in_expressions)} by hand"
    return f"`chartfix fix --recipe {RECIPE_MARK}` does it"
