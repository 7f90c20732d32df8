"""autosharding: kube-state-metrics watches its StatefulSet by labels that change each release.

## What it does
Reports a StatefulSet that runs kube-state-metrics with autosharding (its `--pod` and
`--pod-namespace` arguments, as the kube-state-metrics chart's `autosharding.enabled` writes
them) on an image older than v2.13.0, whose own metadata labels change with the chart's next
release while its pods are not restarted with them. chartfix renders the default scenario
again as the next release (Chart.yaml's `version` and `appVersion` bumped), and once more
unchanged where noise must be told apart: a metadata label whose value differs only in the
next release changes with every upgrade. The pods restart with such a label when their
template carries its value (a pod label with it, an annotation holding it, a `checksum/`
annotation that changes with it) and the StatefulSet's `updateStrategy` is not `OnDelete`;
an image tag that follows the app version does not count (a release that bumps only the
chart version changes `helm.sh/chart` and not the image). An image tag that cannot be
compared with v2.13.0 (`latest`, a digest alone) is reported as a warning that says so;
v2.13.0 or newer: no finding.

## Why it matters
Before v2.13.0, kube-state-metrics with autosharding watched its StatefulSet through a label
selector built from the StatefulSet's labels when the pod started. Labels are mutable: when
a chart upgrade changes them (`helm.sh/chart=kube-state-metrics-5.18.1`,
`app.kubernetes.io/version=2.12.0`) and the pods are not restarted, the running pods no
longer see their StatefulSet and stop recomputing their shard: after the next scale, shards
go stale or overlap until every pod restarts (kubernetes/kube-state-metrics#2355, #2372).
v2.13.0 watches the StatefulSet by name with a field selector (kubernetes/kube-state-metrics
PR #2347, "Pod autosharding: transition from labelselector to fieldselector", in its
CHANGELOG under v2.13.0 / 2024-07-18).

## Example
```yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ksm
  labels: {app: ksm, chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}
spec:
  serviceName: ksm
  selector: {matchLabels: {app: ksm}}
  template:
    metadata: {labels: {app: ksm}}          # the chart version is not on the pods
    spec:
      containers:
        - name: ksm
          image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0
          args: [--pod=$(POD_NAME), --pod-namespace=$(POD_NAMESPACE)]
```

## How to fix
Use kube-state-metrics v2.13.0 or newer. Until then, make the pods restart whenever those
labels change: `chartfix fix --recipe restart-on-labels` adds a pod-template annotation
carrying them (`checksum/labels: {{ include "NAME.labels" . | sha256sum }}`, a checksum of
the chart's own label helper), so every upgrade that changes the labels rolls the pods; by
hand after an upgrade: `kubectl rollout restart statefulset/NAME`.

## Fix safety
Safe: only the pod template's annotations change (a rolling restart on the upgrade that
brings it, and on every one that changes the labels).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from chartfix.model.findings import RECIPE_MARK, Finding, Location, Severity
from chartfix.model.objects import K8sObject, mapping_at, string_map
from chartfix.model.releases import Drift, ReleaseDiff
from chartfix.rules.context import RuleContext, chart_of
from chartfix.rules.ksm import FIXED, UPSTREAM_FIX, UPSTREAM_ISSUE, Autosharded, autosharded
from chartfix.rules.volatile import VERSION_KEYS, holds_version

CODE = "autosharding"
SEVERITY: Severity = "error"
SEVERITY_NOTE = "warning when the image tag cannot be compared with v2.13.0"
NAME = "KsmAutoshardingLabelChange"
"""The rule's name for people and SARIF (its `name`; the code is the stable id)."""
SUMMARY = "kube-state-metrics watches its StatefulSet by labels that change with every release"

LABELS = "metadata.labels"
CHECKSUM = "checksum/"
"""Annotations so named hold a checksum of rendered text (Helm's idiom for restarting pods
when a ConfigMap changes): one that changes with the release restarts the pods with it."""


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    for obj in objects:
        found = autosharded(obj)
        if found is None or found.older is False:
            continue
        changing = volatile_labels(obj, context)
        untied = untied_labels(obj, changing, context.releases)
        if untied:
            yield _finding(obj, found, changing, untied, objects, context)


def volatile_labels(obj: K8sObject, context: RuleContext) -> Drift:
    """The StatefulSet's metadata labels that change with the next release (rendered), else
    by the key list: version keys and values holding the chart or app version."""
    if context.releases.rendered:
        return context.releases.drift(obj, LABELS)
    versions = [v for v in (context.target_version, context.app_version) if v]
    return {
        k: (v, "")
        for k, v in obj.labels.items()
        if k in VERSION_KEYS or any(holds_version(v, ver) for ver in versions)
    }


def untied_labels(obj: K8sObject, changing: Drift, releases: ReleaseDiff) -> list[str]:
    """The keys of `changing` whose change does not restart the pods: every one when the
    StatefulSet updates `OnDelete`, else those the pod template does not carry."""
    if not changing:
        return []
    if _strategy(obj) == "OnDelete":
        return list(changing)
    pods = _pod_drift(obj, releases)
    if any(k.startswith(CHECKSUM) for k in pods.get("annotations", {})):
        return []
    carried = [d for drift in pods.values() for d in drift.values()]
    return [
        key for key, (now, later) in changing.items()
        if not any(_holds(old, now) and (not later or _holds(new, later)) for old, new in carried)
    ]


def _pod_drift(obj: K8sObject, releases: ReleaseDiff) -> dict[str, Drift]:
    """What changes in the pod template's labels and annotations with the next release
    (rendered); by the key list, their values as they are (`value -> ""`)."""
    path = obj.pod_labels_path() or "spec.template.metadata.labels"
    annotations = path.rsplit(".", 1)[0] + ".annotations"
    if releases.rendered:
        return {
            "labels": releases.drift(obj, path),
            "annotations": releases.drift(obj, annotations),
        }
    written = {
        "labels": obj.pod_labels or {},
        "annotations": string_map(mapping_at(obj.body, annotations)),
    }
    return {name: {k: (v, "") for k, v in entries.items()} for name, entries in written.items()}


def _holds(text: str, value: str) -> bool:
    """`value` occurs in `text` as a whole token (a label value in an annotation)."""
    return bool(value) and bool(
        re.search(rf"(?<![0-9A-Za-z._-]){re.escape(value)}(?![0-9A-Za-z._-])", text)
    )


def _strategy(obj: K8sObject) -> str:
    spec = obj.body.get("spec")
    strategy = spec.get("updateStrategy") if isinstance(spec, dict) else None
    return str(strategy.get("type") or "") if isinstance(strategy, dict) else ""


def _finding(
    obj: K8sObject,
    found: Autosharded,
    changing: Drift,
    untied: Sequence[str],
    objects: Sequence[K8sObject],
    context: RuleContext,
) -> Finding:
    labels = ", ".join(
        f"{k}={changing[k][0]}" + (f" -> {changing[k][1]}" if changing[k][1] else "")
        for k in untied
    )
    image = (
        f"{found.image} (older than {FIXED})" if found.older
        else f"{found.image} (its tag {found.tag or 'none'!r} cannot be compared with {FIXED}:"
        " assumed older)"
    )
    why = (
        "its updateStrategy is OnDelete" if _strategy(obj) == "OnDelete"
        else "its pod template does not carry them"
    )
    message = (
        f"runs kube-state-metrics with autosharding ({found.sharding}) on {image}, which "
        f"watches its StatefulSet by its labels; {labels} change with the chart's next "
        f"release and its pods are not restarted with them ({why}): after an upgrade, shards "
        f"stop updating until every pod restarts ({UPSTREAM_ISSUE})"
    )
    remediation = (
        f"Use kube-state-metrics {FIXED} or newer ({UPSTREAM_FIX} watches the StatefulSet by "
        f"name); until then restart its pods whenever these labels change: `chartfix fix "
        f"--recipe {RECIPE_MARK}` adds a pod-template annotation carrying them (safe); after "
        f"an upgrade by hand: kubectl rollout restart statefulset/{obj.name}."
    )
    return Finding(
        rule=CODE,
        severity="error" if found.older else "warning",
        obj=obj.ref,
        message=message,
        remediation=remediation,
        location=Location(obj.document.path),
        at=LABELS,
        chart=chart_of(obj, context),
        detail={
            "image": found.image,
            "autosharding": found.sharding,
            "labels": labels,
            "found_by": context.releases.describe(),
            "upstream": UPSTREAM_ISSUE,
        },
    )
