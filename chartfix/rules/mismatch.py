"""mismatch: a controller's own pod template does not satisfy its selector.

## What it does
Reports a Deployment, StatefulSet, DaemonSet or ReplicaSet whose pod template labels do not
match its own `spec.selector`.

## Why it matters
The API server rejects such an object (`selector does not match template labels`): the
install or upgrade fails. It usually comes from a label added to the selector but not to
the pod template, or a pod label overridden by values.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web, component: server}}
  template:
    metadata: {labels: {app: web}}     # component is missing
    spec: {containers: [{name: web, image: nginx}]}
```

## How to fix
Make the pod template labels carry every selector entry (the same helper for both, plus
the same extra literal lines).

## Fix safety
Not fixed automatically: the chart cannot be installed as it is, so a person has to decide
which side is right.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chartfix.model.findings import Finding, Location, Severity
from chartfix.model.objects import K8sObject
from chartfix.rules.context import RuleContext, chart_of

CODE = "mismatch"
SEVERITY: Severity = "error"
NAME = "SelectorPodLabelMismatch"
"""The rule's name for people and SARIF (its `name`; the code is the stable id)."""
SUMMARY = "A controller's pod template labels do not satisfy its own selector"


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    for controller in objects:
        selector = controller.selector
        pods = controller.pod_labels
        if not controller.is_controller or selector is None or pods is None:
            continue
        if selector.matches(pods):
            continue
        unmet = [f"{k}={v}" for k, v in sorted(selector.match_labels.items()) if pods.get(k) != v]
        unmet += [
            f"{r.key} {r.operator} ({','.join(sorted(r.values))})"
            for r in selector.match_expressions
            if not r.matches(pods)
        ]
        yield Finding(
            rule=CODE,
            severity=SEVERITY,
            obj=controller.ref,
            message=f"pod template labels do not satisfy the selector: unmet {'; '.join(unmet)}",
            remediation=f"Add the unmet selector entries to the pod template labels of "
            f"{controller.ref} (or drop them from the selector); Kubernetes rejects it as is.",
            location=Location(controller.document.path),
            at=controller.selector_path(),
            chart=chart_of(controller, context),
            detail={"selector": str(selector), "unmet": "; ".join(unmet)},
        )
