"""What a selector's match does in a cluster: the impact model behind the severities.

A selector that matches another workload's pods is not a fault by itself: it is one when
something acts on the match. Each function here answers, for one reader of a selector and
one object whose pods it matches, what happens to those pods today (`Effect.real`) or why
nothing does yet, with what would make it real. The facts, with their sources, are in
docs/domain.md ("What a match does").

- A Service routes a port to a pod only if the pod has the target port: a numeric
  `targetPort` reaches every selected Ready pod, a named one only pods declaring a container
  port of that name. A headless Service's own DNS name resolves to every selected pod; the
  per-pod names it gives a StatefulSet (`web-0.SERVICE`) only to that pod: a Job's or test
  Pod's pods in it matter when something resolves the Service's own name (a rendered object
  naming it: a seed-hosts list, an Ingress backend), not when it only names a StatefulSet's
  pods.
- A PodDisruptionBudget counts every selected pod; with `maxUnavailable` or a percentage it
  needs each pod's controller's scale, which a Job lacks: evictions are refused.
- A NetworkPolicy cuts egress of every pod it selects when it governs egress; an
  ingress-only policy changes nothing for pods that serve nothing.
- Controllers adopt only orphans: a DaemonSet or bare ReplicaSet adopts a matching bare Pod,
  a StatefulSet only pods named `NAME-<ordinal>`, a Deployment only bare ReplicaSets (its
  ReplicaSets select on `pod-template-hash`); pods of a Job or controller are never adopted.
- A HorizontalPodAutoscaler reads its target's selector: it scales on every matched pod.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chartfix.model.findings import Impact, Severity
from chartfix.model.objects import BATCH_KINDS, K8sObject

AUTOSCALER = "HorizontalPodAutoscaler"


@dataclass(frozen=True)
class Effect:
    """What one reader of a selector does to one object's pods: `text` says it (a real
    effect), or why nothing happens and what would make it happen (latent). `{pods}` in the
    text stands for `pods`, so that a sentence said of several objects is said once."""

    real: bool
    text: str
    pods: str = ""


def grade(effects: Sequence[Effect]) -> tuple[Severity, Impact, tuple[str, ...]]:
    """A finding's severity, impact and sentences from its matches' effects: an error when
    any is real (the real ones said), else a warning saying why each is latent."""
    real = [e for e in effects if e.real]
    if real:
        return "error", "effect", sentences(real)
    return "warning", "latent", sentences(effects)


def sentences(effects: Sequence[Effect]) -> tuple[str, ...]:
    """Each distinct sentence once, in order, naming together the objects it is said of."""
    subjects: dict[str, list[str]] = {}
    for effect in effects:
        named = subjects.setdefault(effect.text, [])
        if effect.pods and effect.pods not in named:
            named.append(effect.pods)
    return tuple(text.replace("{pods}", ", ".join(sorted(pods))) for text, pods in subjects.items())


def advice(remediation: str, impact: Impact) -> str:
    """A finding's advice, naming the command that fixes it as it is graded: a latent match
    is fixed only with `--fix-latent`."""
    if impact != "latent":
        return remediation
    return re.sub(r"`chartfix fix(?=[ `])", "`chartfix fix --fix-latent", remediation)


def consumer_effect(
    consumer: K8sObject, pods: K8sObject, objects: Sequence[K8sObject] = (),
    namespace: str = "",
) -> Effect:
    """What a Service, PodDisruptionBudget or NetworkPolicy does to the pods of `pods`,
    which its selector matches (`objects`: the rendering's, which may name a Service;
    `namespace`: the release's, where those of them that write none land)."""
    if consumer.kind == "Service":
        return _service_effect(consumer, pods, objects, namespace)
    if consumer.kind == "PodDisruptionBudget":
        return _budget_effect(consumer, pods)
    return _policy_effect(consumer, pods)


def _service_effect(
    service: K8sObject, pods: K8sObject, objects: Sequence[K8sObject], namespace: str
) -> Effect:
    ports = [p for p in _spec(service).get("ports") or [] if isinstance(p, Mapping)]
    subject = str(pods.ref)
    if _spec(service).get("clusterIP") == "None":  # ports or not, every Ready pod is a record
        return _headless_effect(service, pods, objects, namespace)
    if not ports:
        return Effect(True, f"{service.ref} has no ports: its DNS name resolves to the pods of "
                      "{pods} too", subject)
    declared = _declared_port_names(pods)
    reached, missed = [], []
    for port in ports:
        target = port.get("targetPort", port.get("port"))
        if _numeric(target) or str(target) in declared:
            reached.append(str(target))
        else:
            missed.append(str(target))
    while_they_run = "" if pods.is_controller else " while they run"
    if reached:
        return Effect(True, f"{service.ref} routes {_ports(reached)} to the pods of {{pods}}"
                      + while_they_run, subject)
    names = " or ".join(sorted(set(missed)))
    return Effect(False, f"{service.ref} sends the pods of {{pods}} no traffic: they declare no "
                  f"container port named {names} (a numeric targetPort, or such a port on them, "
                  "would route to them)", subject)


def _headless_effect(
    service: K8sObject, pods: K8sObject, objects: Sequence[K8sObject], namespace: str
) -> Effect:
    """A headless Service's own name resolves to `pods` too. For the short-lived pods of a
    Job or test Pod in the Service of a StatefulSet, that acts only if something resolves that
    name: the StatefulSet's per-pod names do not return them."""
    subject = str(pods.ref)
    said = f"{service.ref} is headless: its DNS name resolves to the pods of {{pods}} too"
    if pods.is_controller:
        return Effect(True, said, subject)
    governed = [
        o for o in objects
        if o.kind == "StatefulSet" and _spec(o).get("serviceName") == service.name
        and (o.namespace or namespace) == (service.namespace or namespace)
    ]
    if not governed or _named_elsewhere(service, objects):
        return Effect(True, said + " while they run", subject)
    named = ", ".join(sorted(str(o.ref) for o in governed))
    return Effect(False, f"{service.ref} is headless: it gives the pods of {named} their DNS "
                  f"names ({governed[0].name}-0.{service.name}), one pod each; its own name "
                  "also resolves to the pods of {pods} while they run, and nothing in the chart "
                  "resolves it (a client that did would reach them)", subject)


def _named_elsewhere(service: K8sObject, objects: Sequence[K8sObject]) -> bool:
    """Whether a rendered object other than `service` names it as a host (`svc`,
    `svc.ns.svc`, `http://svc:80`; not `web-0.svc`, a per-pod name) or by name (an Ingress
    backend), a StatefulSet's `serviceName` apart."""
    name = re.escape(service.name)
    bare = re.compile(rf"(?<![\w.-]){name}(?![\w-])")
    governs = re.compile(rf"""["']?serviceName["']?\s*:\s*["']?{name}(?![\w-])""")
    for other in objects:
        if other is service:
            continue
        text = other.text if other.text is not None else json.dumps(other.body)
        if service.name in text and bare.search(governs.sub("", text)):
            return True
    return False


def _ports(targets: Sequence[str]) -> str:
    unique = list(dict.fromkeys(targets))
    return ("port " if len(unique) == 1 else "ports ") + ", ".join(unique)


def _budget_effect(budget: K8sObject, pods: K8sObject) -> Effect:
    spec = _spec(budget)
    scaled = next(
        (f"{key} {spec[key]}" for key in ("maxUnavailable", "minAvailable")
         if key in spec and (key == "maxUnavailable" or _percentage(spec[key]))),
        None,
    )
    if scaled and pods.kind in BATCH_KINDS:
        return Effect(True, f"{budget.ref} refuses evictions while pods of {{pods}} exist: its "
                      f"{scaled} needs each pod's controller's scale, and a Job has none "
                      f"({_while_they_exist(pods)})", str(pods.ref))
    if pods.is_controller:
        return Effect(True, f"{budget.ref} counts the pods of {{pods}} in one budget",
                      str(pods.ref))
    return Effect(True, f"{budget.ref} counts the pods of {{pods}} as healthy replicas while "
                  "they run: evictions may take the pods it protects below its budget",
                  str(pods.ref))


def _while_they_exist(pods: K8sObject) -> str:
    """How long the refused evictions last, graded by what the pods are."""
    if pods.is_hook:
        return ("a Helm hook's pods, short-lived: node drains are delayed while they exist, "
                "not hung")
    if pods.kind == "CronJob":
        return "node drains are delayed while a run's pods exist, not hung"
    return "node drains are delayed until the Job's pods are gone"


def _policy_effect(policy: K8sObject, pods: K8sObject) -> Effect:
    spec = _spec(policy)
    types = spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]
    if "Egress" in types and not _allows_all(spec.get("egress")):
        return Effect(True, f"{policy.ref} restricts the egress of the pods of {{pods}}: they "
                      "reach only what its rules allow (a database, the API server)",
                      str(pods.ref))
    served = sorted(_declared_ports(pods))
    if served and "Ingress" in types and not _allows_all(spec.get("ingress")):
        return Effect(True, f"{policy.ref} restricts ingress to the pods of {{pods}}, which serve "
                      f"{_ports(served)}", str(pods.ref))
    egress = "allows every egress" if "Egress" in types else "governs ingress only"
    ingress = (
        "admits every ingress to the pods of {pods}" if served
        else "the pods of {pods} serve nothing (no container port)"
    )
    return Effect(False, f"{policy.ref} {egress}, and {ingress}: egress rules that restrict "
                  "would cut what they reach", str(pods.ref))


def _allows_all(rules: Any) -> bool:
    """A rule list holding a rule with no peers and no ports (`- {}`) allows everything in
    its direction (NetworkPolicy API: an empty rule matches all sources or destinations and
    all ports)."""
    return isinstance(rules, list) and any(
        isinstance(r, Mapping) and not any(r.get(k) for k in ("to", "from", "ports"))
        for r in rules
    )


def adoption(controller: K8sObject, other: K8sObject) -> Effect:
    """Whether `controller` takes the pods (or ReplicaSet) of `other` as its own."""
    owned = _controlled(other)
    subject = str(other.ref)
    if other.kind == "Pod" and not owned:
        if controller.kind in ("DaemonSet", "ReplicaSet"):
            return Effect(True, f"{controller.ref} adopts {{pods}}, a bare Pod (no controller of "
                          "its own), and may delete it as surplus", subject)
        if controller.kind == "StatefulSet":
            if re.fullmatch(re.escape(controller.name) + r"-\d+", other.name):
                return Effect(True, f"{controller.ref} claims {{pods}}: its name is one of the "
                              "StatefulSet's ordinals", subject)
            return Effect(False, f"a StatefulSet claims only pods named {controller.name}-"
                          "<ordinal>, not {pods}", subject)
        return Effect(False, "a Deployment adopts no bare Pod such as {pods} (its ReplicaSets "
                      "also select on pod-template-hash)", subject)
    if (
        other.kind == "ReplicaSet" and controller.kind == "Deployment" and not owned
        and controller.selector is not None and controller.selector.matches(other.labels)
    ):
        return Effect(True, f"{controller.ref} adopts {{pods}}, a bare ReplicaSet, and scales it "
                      "as an old revision", subject)
    owner = "their Job as controller" if other.kind in BATCH_KINDS else "a controller of their own"
    return Effect(False, f"the pods of {{pods}} have {owner}: no adoption", subject)


def scales(autoscaler: K8sObject, controller: K8sObject) -> bool:
    """`autoscaler` is a HorizontalPodAutoscaler whose target is `controller` (the caller
    checks they share a namespace)."""
    return autoscaler.kind == AUTOSCALER and _target(autoscaler) == (
        controller.kind, controller.name
    )


def autoscaler_effect(autoscaler: K8sObject, controller: K8sObject, other: K8sObject) -> Effect:
    return Effect(True, f"{autoscaler.ref} scales {controller.ref} on the metrics of every pod "
                  "its selector matches, those of {pods} too", str(other.ref))


LATENT_OVERLAP = (
    "it mixes them into `kubectl get -l`, dashboards and whatever lists by this selector; an "
    "autoscaler on it, or a Service, PDB or NetworkPolicy meant for it that reached them, "
    "would make it real"
)


def _target(autoscaler: K8sObject) -> tuple[str, str] | None:
    ref = _spec(autoscaler).get("scaleTargetRef")
    if not isinstance(ref, Mapping):
        return None
    return str(ref.get("kind") or ""), str(ref.get("name") or "")


def _controlled(obj: K8sObject) -> bool:
    """The object as written already names a controller owner (rendered charts rarely do)."""
    refs = obj.metadata.get("ownerReferences")
    return isinstance(refs, list) and any(
        isinstance(r, Mapping) and r.get("controller") is True for r in refs
    )


def _declared_ports(pods: K8sObject) -> set[str]:
    """Container ports the pods declare, by number."""
    return {
        str(p["containerPort"]) for p in _container_ports(pods) if "containerPort" in p
    }


def _declared_port_names(pods: K8sObject) -> set[str]:
    return {str(p["name"]) for p in _container_ports(pods) if p.get("name")}


def _container_ports(pods: K8sObject) -> list[Mapping[str, Any]]:
    return [
        p for c in pods.containers() for p in c.get("ports") or [] if isinstance(p, Mapping)
    ]


def _numeric(value: Any) -> bool:
    """A target port by number (IntOrString: a string of digits is no port name)."""
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _percentage(value: Any) -> bool:
    return isinstance(value, str) and value.strip().endswith("%")


def _spec(obj: K8sObject) -> Mapping[str, Any]:
    spec = obj.body.get("spec")
    return spec if isinstance(spec, Mapping) else {}
