"""restart-on-labels: kube-state-metrics' pods restart whenever its StatefulSet's labels change.

## What it fixes
`autosharding`: a StatefulSet runs kube-state-metrics older than v2.13.0 with autosharding,
and its metadata labels change with every release of the chart while its pods are not
restarted with them, so the running pods, which watch their StatefulSet by those labels,
stop updating their shards after an upgrade (kubernetes/kube-state-metrics#2372).

## What it does
Give the StatefulSet's pod template the annotation `checksum/labels`, a checksum of the label
helper its metadata labels include (`{{ include "NAME.labels" . | sha256sum }}`): whenever a
release changes those labels, it changes the pod template too, and the StatefulSet restarts
its pods, which is what upstream advises until the image is new enough. Nobody has to
remember a `kubectl rollout restart` after an upgrade. The annotation goes into the pod
template's `annotations:`, which is added when there is none; one written only under
`{{- with .Values.podAnnotations }}` moves above it, so the values' own annotations keep
their condition. Verification renders both releases again after the edit: every label that
changes with the next release must come with a change of the pod template. Not needed from
kube-state-metrics v2.13.0 on (kubernetes/kube-state-metrics PR #2347 watches the
StatefulSet by name): the note says so.

## Example
Before, `templates/_helpers.tpl`:
```yaml
{{- define "example.labels" -}}
app: ksm
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
```

Before, `templates/ksm.yaml`:
```yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ksm
  labels:
    {{- include "example.labels" . | nindent 4 }}
spec:
  serviceName: ksm
  selector:
    matchLabels:
      app: ksm
  template:
    metadata:
      labels:
        app: ksm
    spec:
      containers:
        - name: ksm
          image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0
          args: [--pod=$(POD_NAME), --pod-namespace=$(POD_NAMESPACE)]
```

After, `templates/ksm.yaml`: the pods restart whenever the labels change.
```yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ksm
  labels:
    {{- include "example.labels" . | nindent 4 }}
spec:
  serviceName: ksm
  selector:
    matchLabels:
      app: ksm
  template:
    metadata:
      annotations:
        checksum/labels: {{ include "example.labels" . | sha256sum }}
      labels:
        app: ksm
    spec:
      containers:
        - name: ksm
          image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0
          args: [--pod=$(POD_NAME), --pod-namespace=$(POD_NAMESPACE)]
```

## Fix safety
Safe: only the pod template's annotations change; the upgrade that brings the annotation
restarts the StatefulSet's pods once (a rolling update), and so does every later one that
changes its labels.
"""

from __future__ import annotations

from chartfix.model.changes import Refused
from chartfix.model.edits import LabelChange
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, Rendering
from chartfix.recipes.base import FixUnit, Plan, RecipeContext
from chartfix.rules.ksm import FIXED, UPSTREAM_FIX

KEY = "checksum/labels"
"""The annotation: Helm's `checksum/` idiom, of the labels."""


class RestartOnLabels:
    name = "restart-on-labels"
    summary = "Restart kube-state-metrics' StatefulSet pods whenever its labels change"
    rules = frozenset({"autosharding"})

    def plan(self, context: RecipeContext) -> Plan:
        plan = Plan()
        for finding in context.findings:
            if finding.rule not in self.rules:
                continue
            plan.attempt([finding], _unit, context, finding)
        return plan


def _unit(context: RecipeContext, finding: Finding) -> FixUnit:
    rendering = context.scenario_of(finding)
    obj = context.find(rendering, finding.obj)
    if obj is None:
        raise Refused(f"{finding.obj} not found in the rendered chart")
    edits = context.source.restart_edits(obj, rendering, KEY)
    image = finding.detail.get("image", "its image")
    return FixUnit(
        f"{obj.ref}: restart its pods when its labels change ({KEY})",
        edits,
        [finding],
        _changes(context, obj, rendering),
        "safe",
        notes=[
            f"{obj.ref} runs kube-state-metrics with autosharding on {image}, which watches "
            f"its StatefulSet by its labels ({finding.detail.get('labels', '')} change with "
            f"every release): its pod template now carries the annotation {KEY}, a checksum "
            "of those labels, so every upgrade that changes them restarts its pods (the "
            "upgrade that brings it restarts them once); verified by rendering this release "
            "and the next (Chart.yaml versions bumped) after the edit. Not needed from "
            f"kube-state-metrics {FIXED} on ({UPSTREAM_FIX} watches the StatefulSet by name)."
        ],
    )


def _changes(
    context: RecipeContext, obj: K8sObject, rendering: Rendering
) -> dict[tuple[str, str], list[LabelChange]]:
    """The annotation, on every object the StatefulSet's source writes in any scenario: a
    template that renders a Deployment when autosharding is off gives it the annotation too
    (its pods then also restart with its labels)."""
    written = context.written_by(context.origin(obj, rendering)) or [(obj, rendering)]
    changes: dict[tuple[str, str], list[LabelChange]] = {}
    for other, _ in written:
        path = (other.pod_labels_path() or "spec.template.metadata.labels").rsplit(".", 1)[0]
        change = LabelChange(f"{path}.annotations", KEY, None)
        kept = changes.setdefault((other.document.path, other.kind), [])
        if change not in kept:
            kept.append(change)
    return changes
