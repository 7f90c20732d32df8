"""volatile: a selector holds a label that changes from one release version to the next.

## What it does
Reports a controller, Service, PodDisruptionBudget or NetworkPolicy whose selector
(`matchLabels` or `matchExpressions`) holds an entry whose value changes with the chart's
next release, whatever its key: chartfix renders the default scenario again as the next
release would (the same release name and values, Chart.yaml's `version` and `appVersion`
bumped) and, when some label changes otherwise than by the bumped version strings, once
more unchanged, as a control (what differs there, a random value, is noise and ignored).
Where the next release cannot be rendered (a target with no version, a chart
whose bumped render fails), it falls back to a list of keys: `helm.sh/chart`,
`app.kubernetes.io/version`, `version`, or a value holding the chart or app version as a whole
token (`chart: mychart-1.2.3`); the finding says which was used. Entries keyed `heritage` or
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
    matchLabels: {app: web, chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}
  template:
    metadata: {labels: {app: web, chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}}
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

from chartfix.model.findings import RECIPE_MARK, Finding, Location, Severity
from chartfix.model.objects import MANAGER_KEYS, K8sObject
from chartfix.model.releases import Drift, ReleaseDiff
from chartfix.model.selectors import LabelSelector
from chartfix.rules.context import RuleContext, chart_of

CODE = "volatile"
SEVERITY: Severity = "error"
SEVERITY_NOTE = "warning for `heritage`/`managed-by`"
NAME = "VolatileSelectorLabel"
"""The rule's name for people and SARIF (its `name`; the code is the stable id)."""
SUMMARY = "A selector holds a label that changes with the next release"

VERSION_KEYS = frozenset({"helm.sh/chart", "app.kubernetes.io/version", "version"})


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
    """By the key list: (keys that change with every version, keys that name the release
    manager)."""
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


def selector_drift(obj: K8sObject, releases: ReleaseDiff) -> Drift:
    """The selector entries of `obj` whose value changes with the next release, as rendered."""
    path = obj.selector_path()
    if path is None:
        return {}
    drift = releases.drift(obj, path)
    if obj.selector is not None and obj.selector.match_expressions:
        drift.update(releases.drift(obj, path.rsplit(".", 1)[0] + ".matchExpressions"))
    return drift


def _classified(
    obj: K8sObject, selector: LabelSelector, context: RuleContext
) -> tuple[list[str], list[str], Drift]:
    """(volatile keys, release-manager keys, how the volatile ones change when rendered)."""
    versions = [v for v in (context.target_version, context.app_version) if v]
    by_key, managers = volatile_entries(selector, versions)
    if not context.releases.rendered:
        return by_key, managers, {}
    drift = selector_drift(obj, context.releases)
    keys = [*selector.match_labels, *(r.key for r in selector.match_expressions)]
    errors = [k for k in dict.fromkeys(keys) if k in drift]
    return errors, [k for k in managers if k not in drift], drift


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    for obj in objects:
        selector = obj.selector
        if not (obj.is_controller or obj.is_consumer) or selector is None:
            continue
        errors, warnings, drift = _classified(obj, selector, context)
        if not errors and not warnings:
            continue
        keys = errors + warnings
        detail = {"selector": str(selector)}
        if errors:
            detail["keys"] = ", ".join(errors)
            detail["found_by"] = context.releases.describe()
        if drift:
            detail["changes"] = changes_text(drift, errors)
        if warnings:
            detail["warning_keys"] = ", ".join(warnings)
        severity: Severity = "error" if errors else "warning"
        parts = []
        if errors:
            parts.append(f"{', '.join(errors)} ({_how(context.releases, drift, errors)})")
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
        yield Finding(
            rule=CODE,
            severity=severity,
            obj=obj.ref,
            message=message,
            remediation=remediation
            + (" (unsafe: the selector is immutable)." if obj.is_controller else "."),
            location=Location(obj.document.path),
            at=obj.selector_path(),
            chart=chart_of(obj, context),
            detail=detail,
        )


def _how(releases: ReleaseDiff, drift: Drift, keys: Sequence[str]) -> str:
    """Why the keys are volatile: seen changing in the next release, or by their name."""
    if releases.rendered:
        return f"changes with the chart's next release, as rendered: {changes_text(drift, keys)}"
    return f"changes with the chart or app version; by key: {releases.reason}"


def changes_text(drift: Drift, keys: Sequence[str]) -> str:
    """`key=this -> next, ...` for the keys of `drift` (`key=this` where the next release
    did not render the object: it was matched by value)."""
    return ", ".join(
        f"{k}={drift[k][0]}" + (f" -> {drift[k][1]}" if drift[k][1] else "")
        for k in keys if k in drift
    )


def _who_does_it(obj: K8sObject, keys: Sequence[str], selector: LabelSelector) -> str:
    """The command that removes `keys`, or why it is a hand edit: the advice must work. The
    recipe is named by its mark (a default run fixes errors only; warnings need the recipe
    asked for by name), filled in where the finding is printed."""
    if obj.document.path.startswith("charts/"):
        return f"edit the subchart that renders it ({obj.document.path}) by hand"
    in_expressions = [k for k in keys if k not in selector.match_labels]
    if in_expressions:
        return f"edit the matchExpressions entry of {', '.join(in_expressions)} by hand"
    return f"`chartfix fix --recipe {RECIPE_MARK}` does it"
