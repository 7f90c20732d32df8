"""Which controller a Service, PodDisruptionBudget or NetworkPolicy was meant for.

A consumer that selects the pods of one controller was meant for it. One that selects the
pods of several is told apart by its ports (a Service's targetPort names and numbers against
the containers' ports), then by its name being the controller's, then by the file each is
written in (`minio-standalone-service.yaml` goes with `minio-standalone-deployment.yaml`,
not `minio-distributed-statefulset.yaml`: a folder of alternatives, or a chart's
`templates/server-service.yaml` beside `templates/server-deployment.yaml`), then by its
name starting with the controller's; when none decides, nobody can say, and the consumer is
left as it is.

A rule (`stray`: which consumer `chartfix fix` narrows) and the recipes (which consumers
follow a controller's new label) must decide it alike: it lives here, below both.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from chartfix.model.objects import K8sObject, Rendering

KIND_WORDS = frozenset({
    "service", "services", "svc", "deployment", "deployments", "deploy", "statefulset",
    "statefulsets", "sts", "daemonset", "daemonsets", "ds", "replicaset", "rs", "pod", "pods",
    "job", "jobs", "cronjob", "cronjobs", "pdb", "poddisruptionbudget", "networkpolicy",
    "netpol", "policy", "yaml", "yml", "tpl", "json", "py",
})
"""Words of a file name that say what kind of object it holds, not which component: they
tell nothing about which controller a consumer goes with."""


def namespace_of(obj: K8sObject, rendering: Rendering) -> str:
    """An object without a namespace lands in the release's."""
    return obj.namespace or rendering.namespace


def consumers_of(controller: K8sObject, rendering: Rendering) -> list[K8sObject]:
    """Services, PDBs and NetworkPolicies whose selector matches the controller's pods."""
    pods = controller.pod_labels or {}
    return [
        obj
        for obj in rendering.selector_index().selecting(pods, namespace_of(controller, rendering))
        if obj.is_consumer and obj.selector is not None and not obj.selector.is_empty
    ]


def controllers_selected(consumer: K8sObject, rendering: Rendering) -> list[K8sObject]:
    selector = consumer.selector
    if selector is None or selector.is_empty:
        return []
    namespace = namespace_of(consumer, rendering)
    return [o for o in rendering.pod_index().matching(selector, namespace) if o.is_controller]


def meant_for(consumer: K8sObject, rendering: Rendering) -> K8sObject | None:
    """The controller a consumer was meant for: the only one it selects, else the one its
    ports and then its name point at. None when that cannot be told."""
    candidates = controllers_selected(consumer, rendering)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    scored = sorted(
        ((_evidence(consumer, c), c) for c in candidates), key=lambda t: t[0], reverse=True
    )
    best, runner_up = scored[0], scored[1]
    if best[0] > runner_up[0]:
        return best[1]
    return None


def _evidence(consumer: K8sObject, controller: K8sObject) -> tuple[int, ...]:
    """How strongly `consumer` points at `controller`, strongest evidence first."""
    name = _name_score(consumer.name, controller.name)
    return (
        _port_score(consumer, controller),
        name if name == 3 else 0,
        _file_score(consumer.document.path, controller.document.path),
        name,
    )


def _file_score(consumer_path: str, controller_path: str) -> int:
    """Words the two objects' file names share, kind words left out: an author who writes
    `minio-standalone-service.yaml` beside `minio-standalone-deployment.yaml` says which
    goes with which. Objects written in one file share every word, which says as much."""
    return len(file_words(consumer_path) & file_words(controller_path))


def file_words(path: str) -> frozenset[str]:
    """The words of a file's name (its folder left out) that may name a component."""
    words = re.split(r"[^a-z0-9]+", PurePosixPath(path).name.lower())
    return frozenset(w for w in words if w and w not in KIND_WORDS)


def _port_score(consumer: K8sObject, controller: K8sObject) -> int:
    if consumer.kind != "Service":
        return 0
    names: set[str] = set()
    numbers: set[str] = set()
    for container in controller.containers():
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                if port.get("name"):
                    names.add(str(port["name"]))
                if port.get("containerPort") is not None:
                    numbers.add(str(port["containerPort"]))
    score = 0
    for port in (consumer.body.get("spec") or {}).get("ports") or []:
        if not isinstance(port, dict):
            continue
        target = str(port.get("targetPort", port.get("port", "")))
        if target in names or target in numbers:
            score += 1
    return score


def _name_score(consumer_name: str, controller_name: str) -> int:
    if consumer_name == controller_name:
        return 3
    if consumer_name.startswith(controller_name + "-"):
        return 2
    if controller_name.startswith(consumer_name + "-"):
        return 1
    return 0


def unattributed(consumer: K8sObject | None, rendering: Rendering) -> str:
    if consumer is None:
        return "object not found in the rendered chart"
    controllers = controllers_selected(consumer, rendering)
    if not controllers:
        return f"{consumer.ref} selects no controller's pods, only Job or test pods"
    names = ", ".join(str(c.ref) for c in controllers)
    return f"cannot tell which of {names} {consumer.ref} is meant for (ports and names tie)"
