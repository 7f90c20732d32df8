"""stray: a Service, PodDisruptionBudget or NetworkPolicy also selects Job or test pods.

## What it does
Reports a Service, PodDisruptionBudget or NetworkPolicy whose selector matches the pods of a
controller and also the pods of a Job, a CronJob, or a bare Pod (helm test and hook pods
included) in the same namespace.

## Why it matters
What the consumer does to those pods decides the severity (docs/domain.md §6), and the
message says it. A Service routes a numeric `targetPort` to every Ready pod it selects (a
Job or test Pod without a readiness probe is Ready while it runs), a named one only to pods
declaring a container port of that name: a `targetPort: http` over a test Pod with no ports
sends it nothing (a warning: latent, a numeric port would make it real). A
PodDisruptionBudget counts the Job's pods as healthy, and with `maxUnavailable` or a
percentage refuses every eviction while they exist (a Job has no scale). A NetworkPolicy
with egress rules cuts what the Job may reach; an ingress-only one changes nothing for pods
that serve nothing (a warning).

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web, component: server}}
  template:
    metadata: {labels: {app: web, component: server}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}          # matches the Deployment's pods and the test Pod's
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-test
  labels: {app: web}
  annotations: {helm.sh/hook: test}
spec: {restartPolicy: Never, containers: [{name: test, image: busybox}]}
```

## How to fix
Add the distinguishing label of the controller the consumer is meant for (its component
label) to the consumer's selector. `chartfix fix` does it together with the controller.
A consumer meant for several controllers (a headless Service over every member of a
cluster) selects them all on a label their pods share and the other pods lack: one they
carry already, else `member-of: ROLE` added to their pod templates (their selectors stay).

## Fix safety
Safe: Service and PodDisruptionBudget selectors and NetworkPolicy pod selectors may change.

Consumers that select no controller's pods at all are left alone: their selector was
written for the Job or Pod itself (a NetworkPolicy for a migration Job). Empty selectors
(`podSelector: {}`) mean "every pod" on purpose and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chartfix.model.findings import Finding, Location, Severity
from chartfix.model.objects import BATCH_KINDS, K8sObject, Rendering
from chartfix.rules.attribution import meant_for
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
from chartfix.rules.impact import advice, consumer_effect, grade

CODE = "stray"
SEVERITY: Severity = "error"
SEVERITY_NOTE = (
    "warning when latent: a named targetPort those pods lack, an ingress-only policy over "
    "pods serving nothing"
)
NAME = "StrayConsumerSelector"
"""The rule's name for people and SARIF (its `name`; the code is the stable id)."""
SUMMARY = "A Service, PDB or NetworkPolicy also selects Job, CronJob or test pods"


def selected(
    consumer: K8sObject, objects: Sequence[K8sObject], context: RuleContext
) -> list[K8sObject]:
    """Pod-making objects whose pods the consumer's (non-empty) selector matches."""
    selector = consumer.selector
    if not consumer.is_consumer or selector is None or selector.is_empty:
        return []
    return [
        o
        for o in context.pods(objects).matching(selector, context.namespace_of(consumer))
        if o is not consumer and (o.is_controller or o.kind in BATCH_KINDS or o.kind == "Pod")
    ]


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    rendering = context.rendering(objects)
    for consumer in objects:
        matched = selected(consumer, objects, context)
        owners = [o for o in matched if o.is_controller]
        strays = [o for o in matched if not o.is_controller]
        if not owners or not strays:
            continue
        described = ", ".join(sorted(describe(o) for o in strays))
        meant = ", ".join(sorted(str(o.ref) for o in owners))
        severity, impact, effects = grade([
            consumer_effect(consumer, o, objects, rendering.namespace) for o in strays
        ])
        said = "; ".join(effects) if impact == "effect" else f"latent: {'; '.join(effects)}"
        yield Finding(
            rule=CODE,
            severity=severity,
            obj=consumer.ref,
            message=f"selector {consumer.selector} matches the pods of {meant} and also of "
            f"{described}: {said}",
            remediation=advice(
                _remediation(consumer, owners, strays, rendering, context), impact
            ),
            location=Location(consumer.document.path),
            at=consumer.selector_path(),
            related=sorted_refs(strays),
            chart=chart_of(consumer, context),
            detail={"selector": str(consumer.selector), "meant_for": meant,
                    **special_detail(strays)},
            impact=impact,
            effects=effects,
        )


def _remediation(
    consumer: K8sObject,
    owners: Sequence[K8sObject],
    strays: Sequence[K8sObject],
    rendering: Rendering,
    context: RuleContext,
) -> str:
    """The advice, naming `chartfix fix` only where it does the fix: the consumer's owner
    is told by the same attribution the recipe uses (ports, then names)."""
    owner = meant_for(consumer, rendering)
    subchart = subchart_dir(consumer)
    every = (
        "for all of them, `chartfix fix` makes it select them on a label their pods share "
        "and the other pods lack (no selector of theirs changes; when their pods get a new "
        "label for it, the migration note labels the running ones before `helm upgrade`)"
    )
    if owner is None:
        names = ", ".join(sorted(str(o.ref) for o in owners))
        return (
            f"Decide which of {names} {consumer.ref} is meant for (its ports and name do not "
            "tell): for one of them, add that workload's component label to its selector, by "
            + ("hand." if subchart else f"hand; {every}.")
        )
    shared = shared_component(owner)
    if shared and not subchart and len(owners) > 1:
        names = ", ".join(sorted(str(o.ref) for o in owners))
        return (
            f"{consumer.ref} selects the pods of {names}: {every}; if it is meant for "
            f"{owner.ref} alone, add {shared} to its selector, by hand."
        )
    if shared and not subchart and "=" in shared:
        own = _own_value_remediation(consumer, owner, strays, rendering.objects, context, shared)
        if own is not None:
            return own
    if subchart or shared:
        why = (
            f"it comes from the subchart in {subchart}" if subchart
            else f"{owner.ref} already selects on {shared}, which the other pods carry too"
        )
        return (
            f"Give {owner.ref} a component label of its own and add it to the selector of "
            f"{consumer.ref}, by hand: {why}."
        )
    return (
        f"{NARROWED}{consumer.ref} is meant for ({owner.ref}) to its selector so that it "
        "matches only those pods; `chartfix fix` does it (safe)."
    )


NARROWED = "Add the component label of the workload "
"""How the stray advice for a consumer narrowed to its workload begins (check's advice says
what fix does instead where fix's planner takes a safe route)."""


def _own_value_remediation(
    consumer: K8sObject,
    owner: K8sObject,
    strays: Sequence[K8sObject],
    objects: Sequence[K8sObject],
    context: RuleContext,
    shared: str,
) -> str | None:
    """`owner` selects on its component value `shared` (`key=value`): when no stray pod
    carries it, the consumer only lacks it in its selector (the plain advice, None here);
    when some do, `chartfix fix` gives them a value of their own, as it does for overlap,
    unless another controller shares the value too (None: by hand)."""
    key, value = shared.split("=", 1)
    carriers = [o for o in strays if (o.pod_labels or {}).get(key) == value]
    if not carriers:
        return (
            f"Add {shared}, the component label of the workload {consumer.ref} is meant for "
            f"({owner.ref}), to its selector so that it matches only those pods; `chartfix "
            "fix` does it (safe)."
        )
    selector = owner.selector
    assert selector is not None
    sharing = [
        o for o in objects
        if o is not owner and o.pod_labels is not None and context.same_scope(o, owner)
        and selector.matches(o.pod_labels)
    ]
    advice = own_value_advice(owner, sharing)
    if advice is None:
        return None
    asks = (consumer.selector.match_labels if consumer.selector else {}).get(key) == value
    names = ", ".join(sorted(str(o.ref) for o in carriers))
    return (
        f"{owner.ref} already selects on {shared}, which {names} "
        f"{'carry' if len(carriers) > 1 else 'carries'} too: {advice}; "
        f"{consumer.ref} then selects on {shared}"
        + ("." if asks else " (added to its selector by the same fix).")
    )
