"""spans: a Service, PodDisruptionBudget or NetworkPolicy selects pods of several controllers.

## What it does
Reports a Service, PodDisruptionBudget or NetworkPolicy whose selector matches the pods of
two or more controllers (Deployments, StatefulSets, DaemonSets, ReplicaSets) in the same
namespace.

## Why it matters
Often a sign of the shared-selector-labels bug: a Service meant for the server also sends
traffic to the worker, and a PodDisruptionBudget counts both. Sometimes it is deliberate (a
headless Service over every member of a cluster), hence a warning, not an error.

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
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: web, component: worker}}
  template:
    metadata: {labels: {app: web, component: worker}}
    spec: {containers: [{name: worker, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}     # the web Deployment and the worker Deployment both carry it
  ports: [{port: 80}]
```

## How to fix
If the consumer is meant for one workload, add that workload's component label to its
selector (once the workloads have distinguishing labels). If it spans them on purpose (a
headless Service over every member of a cluster, a gossip ring), accept it with an
annotation on the consumer in its template, giving the reason:
`ignore-check.chartfix.io/spans: "gossip ring: every member on purpose"`.

## Fix safety
Safe when done: consumer selectors may change. `chartfix fix` leaves these alone unless
ports and names show which workload the consumer is for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chartfix.model.findings import Finding, Impact, Location, Severity
from chartfix.model.objects import K8sObject
from chartfix.rules.context import RuleContext, chart_of, sorted_refs
from chartfix.rules.impact import consumer_effect, sentences
from chartfix.rules.policy import IGNORE_PREFIX
from chartfix.rules.stray import selected

CODE = "spans"
SEVERITY: Severity = "warning"
NAME = "SelectorSpansControllers"
"""The rule's name for people and SARIF (its `name`; the code is the stable id)."""
SUMMARY = "A Service, PDB or NetworkPolicy selects pods of several controllers"


def check(objects: Sequence[K8sObject], context: RuleContext) -> Iterator[Finding]:
    for consumer in objects:
        controllers = [o for o in selected(consumer, objects, context) if o.is_controller]
        if len(controllers) < 2:
            continue
        related = sorted_refs(controllers)
        names = ", ".join(map(str, related))
        impact, effects = _impact(consumer, controllers)
        said = "; ".join(effects) if impact == "effect" else f"latent: {'; '.join(effects)}"
        yield Finding(
            rule=CODE,
            severity=SEVERITY,
            obj=consumer.ref,
            message=f"selector {consumer.selector} matches the pods of {len(related)} controllers: "
            f"{names}: {said}",
            remediation=f"If {consumer.ref} is meant for one of them, add that workload's "
            "component label to its selector; if it spans them on purpose, accept it with the "
            f"annotation `{IGNORE_PREFIX}{CODE}: \"<why>\"` on {consumer.ref} in "
            f"{consumer.document.path}.",
            location=Location(consumer.document.path),
            at=consumer.selector_path(),
            related=related,
            chart=chart_of(consumer, context),
            detail={"selector": str(consumer.selector)},
            impact=impact,
            effects=effects,
        )


def _impact(
    consumer: K8sObject, controllers: Sequence[K8sObject]
) -> tuple[Impact, tuple[str, ...]]:
    """An effect when the consumer acts on the pods of two controllers or more (a Service
    routing to both); latent when it acts on one alone (the others lack its target port).
    The severity stays a warning either way: spanning is often deliberate."""
    effects = [consumer_effect(consumer, c) for c in controllers]
    if sum(e.real for e in effects) >= 2:
        return "effect", sentences([e for e in effects if e.real])
    return "latent", sentences([e for e in effects if not e.real])
