"""overlap: a controller's selector matches the pods of another workload.

## What it does
Reports a Deployment, StatefulSet, DaemonSet or ReplicaSet whose `spec.selector` matches the
pod labels of another object that makes pods in the same namespace: a Job, a CronJob's job
template, a Pod (helm test and hook pods included) or another controller.

## Why it matters
Kubernetes does not stop two workloads from sharing labels. Whether the match does harm
depends on who acts on it (docs/domain.md §6): a DaemonSet or a bare ReplicaSet adopts a
matching bare Pod (a `helm test` Pod) and may delete it; a StatefulSet claims pods named
after its ordinals; an autoscaler on the controller scales it on every matched pod's
metrics; a Service, PDB or NetworkPolicy meant for the controller reaches the other pods
too. Those are errors, named in the message. A Deployment never adopts a Job's or a test
Pod's pods (its ReplicaSets also select on `pod-template-hash`, and Job pods have their
Job as controller): with nothing else reading the selector the match is latent, a warning
saying what would make it real. It still mixes the workloads in `kubectl get -l`,
dashboards and whatever lists by the selector.

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
from chartfix.model.objects import COMPONENT_KEYS, K8sObject, Rendering, component_key
from chartfix.rules.attribution import consumers_of, meant_for
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
from chartfix.rules.impact import (
    AUTOSCALER,
    LATENT_OVERLAP,
    Effect,
    adoption,
    advice,
    autoscaler_effect,
    consumer_effect,
    grade,
    scales,
)

CODE = "overlap"
SEVERITY: Severity = "error"
SEVERITY_NOTE = "warning when latent: no adoption, autoscaler or consumer acts on the pods"
NAME = "ControllerSelectorOverlap"
"""The rule's name for people and SARIF (its `name`; the code is the stable id)."""
SUMMARY = "A controller's selector matches the pods of another workload"

POD_MAKER_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    pods = context.pods(objects)
    rendering = context.rendering(objects)
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
        severity, impact, effects = grade(_effects(controller, others, rendering, context))
        yield Finding(
            rule=CODE,
            severity=severity,
            obj=controller.ref,
            message=f"selector {selector} also matches the pods of {described}: "
            + _said(impact, effects),
            remediation=advice(_remediation(controller, others, rendering), impact),
            location=Location(controller.document.path),
            at=controller.selector_path(),
            related=related,
            chart=chart_of(controller, context),
            detail={"selector": str(selector), **special_detail(others)},
            impact=impact,
            effects=effects,
        )


def _effects(
    controller: K8sObject,
    others: Sequence[K8sObject],
    rendering: Rendering,
    context: RuleContext,
) -> list[Effect]:
    """What acts on each matched workload's pods through this controller: its adoption of
    them, an autoscaler reading its selector, a consumer meant for it that reaches them."""
    scalers = [
        o for o in rendering.of_kind(AUTOSCALER)
        if scales(o, controller) and context.same_scope(o, controller)
    ]
    readers = [
        c for c in consumers_of(controller, rendering) if meant_for(c, rendering) is controller
    ]
    found = []
    for other in others:
        found.append(adoption(controller, other))
        found += [autoscaler_effect(h, controller, other) for h in scalers]
        for consumer in readers:
            if consumer.selector is not None and consumer.selector.matches(other.pod_labels or {}):
                effect = consumer_effect(consumer, other, rendering.objects, rendering.namespace)
                if effect.real:
                    meant = f" ({consumer.ref} is meant for {controller.ref})"
                    found.append(Effect(True, effect.text + meant, effect.pods))
    return found


def _fix_key(controller: K8sObject, rendering: Rendering) -> str:
    """The component key `fix` adds: the one the pods carry already, else the chart's
    convention (a key other pods carry), else by the selector's keys (`component_key`)."""
    pods = controller.pod_labels or {}
    own = next((k for k in COMPONENT_KEYS if k in pods), None)
    keys = controller.selector.label_keys() if controller.selector else set()
    return own or component_key(keys, rendering.component_key(), None)


def _said(impact: str, effects: Sequence[str]) -> str:
    """The effects, or why the match is latent and what would make it real."""
    if impact == "effect":
        return "; ".join(effects)
    return f"latent: {'; '.join(effects)}; {LATENT_OVERLAP}"


def _remediation(
    controller: K8sObject, others: Sequence[K8sObject], rendering: Rendering
) -> str:
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
        f"Add a distinguishing label (e.g. {_fix_key(controller, rendering)}: <role>) to the pod "
        f"template and selector of {controller.ref}, and a different one to the other "
        f"workloads' pods; {SELECTOR_CHANGE}"
    )


SELECTOR_CHANGE = (
    "`chartfix fix` does it (unsafe: the selector is immutable, follow the migration note to "
    "upgrade)."
)
"""How the overlap advice promises the component route's selector change (check's advice
says what fix does instead where fix's planner takes a safe route)."""
