"""overlap: a controller's selector matches the pods of another workload.

## What it does
Reports a Deployment, StatefulSet, DaemonSet or ReplicaSet whose `spec.selector` matches the
pod labels of another object that makes pods in the same namespace: a Job, a CronJob's job
template, a Pod (helm test and hook pods included) or another controller.

## Why it matters
Kubernetes does not stop two workloads from sharing labels, but a controller believes every
pod its selector matches is its own. Charts that reuse one set of "selector labels" for the
server Deployment, a migration Job and a test Pod get Deployments that count, adopt or fight
over pods they never created, and two Deployments confuse each other's rollouts.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web, release: r}}
  template:
    metadata: {labels: {app: web, release: r}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: batch/v1
kind: Job            # a pre-install migration hook
metadata: {name: migrate, annotations: {helm.sh/hook: pre-install}}
spec:
  template:
    metadata: {labels: {app: web, release: r}}
    spec: {restartPolicy: Never, containers: [{name: migrate, image: busybox}]}
```

## How to fix
Give each workload a label that tells it apart, such as `app.kubernetes.io/component:
server` (or `component: server` in charts with legacy keys), in its pod template, and add it
to the controller's selector. `chartfix fix` does this.

## Fix safety
Unsafe: `spec.selector` of apps/v1 controllers is immutable, so upgrading an existing
release needs the steps of the migration note (orphan-delete, then upgrade).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chartfix.model.findings import Finding, Location, Severity
from chartfix.model.objects import K8sObject
from chartfix.rules.context import (
    RuleContext,
    chart_of,
    describe,
    own_value_advice,
    shared_component,
    sorted_refs,
    special_detail,
    subchart_dir,
)

CODE = "overlap"
SEVERITY: Severity = "error"
SUMMARY = "A controller's selector matches the pods of another workload"

POD_MAKER_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    pods = context.pods(objects)
    for controller in objects:
        selector = controller.selector
        if not controller.is_controller or selector is None or selector.is_empty:
            continue  # an empty controller selector is rejected by the API server
        others = [
            other
            for other in pods.matching(selector, context.namespace_of(controller))
            if other is not controller and other.kind in POD_MAKER_KINDS
        ]
        if not others:
            continue
        related = sorted_refs(others)
        described = ", ".join(sorted(describe(o) for o in others))
        yield Finding(
            rule=CODE,
            severity=SEVERITY,
            obj=controller.ref,
            message=f"selector {selector} also matches the pods of {described}",
            remediation=_remediation(controller, others),
            location=Location(controller.source.path),
            at=controller.selector_path(),
            related=related,
            chart=chart_of(controller, context),
            detail={"selector": str(selector), **special_detail(others)},
        )


def _remediation(controller: K8sObject, others: Sequence[K8sObject]) -> str:
    """The advice, naming `chartfix fix` only where it does the fix."""
    subchart = subchart_dir(controller)
    if subchart:
        return (
            f"{controller.ref} comes from the subchart in {subchart}: give its pods a "
            "distinguishing label in that chart's own source (run chartfix fix there)."
        )
    shared = shared_component(controller)
    if shared:
        done = own_value_advice(controller, others) if "=" in shared else None
        return (
            f"{controller.ref} already selects on {shared}, which the other pods carry too: "
            "give each workload its own component value"
            + (f"; {done}." if done else ", by hand.")
        )
    return (
        "Add a distinguishing label (e.g. app.kubernetes.io/component: <role>) to the pod "
        f"template and selector of {controller.ref}, and a different one to the other "
        "workloads' pods; `chartfix fix` does it (unsafe: the selector is immutable, follow "
        "the migration note to upgrade)."
    )
