"""The kubectl lines of the steps: labels for running pods, deletes, rollouts and listings,
with selectors quoted alike everywhere.

A label step must reach the pods (and a Deployment's ReplicaSets) of one controller only: its
selector plus the key only its own pods carry (`OWN_POD_KEY`), plus a requirement that sets
them apart from another controller's pods the selector also matches; when no label does, a
listing by owner and a line to run per pod.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from chartfix.model.objects import K8sObject
from chartfix.model.selectors import LabelSelector

# A label only the controller's own pods carry, so that Job pods sharing the old selector are
# never relabelled (docs/domain.md §2).
OWN_POD_KEY = {
    "Deployment": "pod-template-hash",
    "StatefulSet": "statefulset.kubernetes.io/pod-name",
    "DaemonSet": "controller-revision-hash",
}


# Controllers whose pods carry each kind's own-pod key (OWN_POD_KEY): a label step selecting
# by that key reaches their pods too when they match the old selector.
_SAME_KEY_KINDS = {
    "Deployment": ("Deployment",),
    "StatefulSet": ("StatefulSet",),
    "DaemonSet": ("DaemonSet", "StatefulSet"),
}


_STATEFULSET_POD = OWN_POD_KEY["StatefulSet"]


def label_commands(
    obj: K8sObject, selector: LabelSelector, labels: Mapping[str, str], ns: str,
    rendered: Sequence[K8sObject], targets: Sequence[str] = (),
) -> tuple[list[str], str]:
    """kubectl lines giving `labels` to the pods (and ReplicaSets) of `obj` that `selector`
    selects, and a sentence for the reader when other controllers share those labels.

    Selected with `-l` (never a pipe into xargs: kubectl wants the resources before the
    labels, and a step that selects nothing must do nothing). When another controller's
    pods match too, a label they lack (or hold with another value) tells them apart; when no
    label does, the step lists the objects with their owner and labels by owner. `targets`:
    what to label (default: a Deployment's ReplicaSets and pods, another's pods).
    """
    label_args = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(labels.items()))
    extra, tangled = _apart_from_others(obj, selector, rendered)
    base = ",".join([str(selector), *extra])
    if tangled:
        why = (
            f"The pods of {', '.join(tangled)} carry the same labels, so no label selects only "
            f"those of {obj.kind} `{obj.name}`: list them with their owner and label those it "
            "owns."
        )
        return _by_owner(obj, base, label_args, ns), why
    own = quote(f"{base},{OWN_POD_KEY[obj.kind]}")
    targets = targets or (["rs", "pods"] if obj.kind == "Deployment" else ["pods"])
    return [
        f"kubectl -n {ns} label {target} -l {own} --overwrite {label_args}"
        for target in targets
    ], ""


def _apart_from_others(
    obj: K8sObject, selector: LabelSelector, rendered: Sequence[K8sObject]
) -> tuple[list[str], list[str]]:
    """(requirements that set `obj`'s pods apart from the other controllers' pods `selector`
    matches, `Kind/name` of the controllers no requirement sets apart)."""
    mine = obj.pod_labels or {}
    extra: list[str] = []
    tangled: list[str] = []
    for other in rendered:
        if (
            other.ref == obj.ref or other.kind not in _SAME_KEY_KINDS[obj.kind]
            or other.pod_labels is None or not selector.matches(other.pod_labels)
        ):
            continue
        if obj.kind == "DaemonSet" and other.kind == "StatefulSet":
            requirement: str | None = f"!{_STATEFULSET_POD}"
        else:
            requirement = _distinguishing(mine, other.pod_labels)
        if requirement is None:
            tangled.append(str(other.ref))
        elif requirement not in extra:
            extra.append(requirement)
    return extra, tangled


def _by_owner(obj: K8sObject, base: str, label_args: str, ns: str) -> list[str]:
    """A listing of what `base` selects with its owner, and the line to run for each one
    `obj` owns: a Deployment's ReplicaSets by their pod-template-hash, else pod by pod."""
    if obj.kind == "Deployment":
        return [
            f"kubectl -n {ns} get rs -l {quote(base)} -o custom-columns="
            "NAME:.metadata.name,HASH:.metadata.labels.pod-template-hash,"
            "OWNER:.metadata.ownerReferences[0].name",
            f"kubectl -n {ns} label rs,pods -l {quote(base + ',pod-template-hash=HASH')}"
            f" --overwrite {label_args}  # once per HASH whose OWNER is {obj.name}",
        ]
    return [
        f"kubectl -n {ns} get pods -l {quote(base + ',' + OWN_POD_KEY[obj.kind])} -o "
        "custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name",
        f"kubectl -n {ns} label pods POD --overwrite {label_args}"
        f"  # once per POD whose OWNER is {obj.name}",
    ]


def _distinguishing(mine: Mapping[str, str], theirs: Mapping[str, str]) -> str | None:
    """A selector requirement our pods meet and theirs do not, or None: our own value of a
    key both carry (one requirement then sets us apart from every other), else a key only
    they carry, else a key only we carry."""
    for key in sorted(mine):
        if key in theirs and mine[key] != theirs[key]:
            return f"{key}={mine[key]}"
    for key in sorted(theirs):
        if key not in mine:
            return f"!{key}"
    for key in sorted(mine):
        if key not in theirs:
            return key
    return None


def quote(text: str) -> str:
    """Single quotes always: a selector is easier to read, and to edit, when it looks alike
    in every command."""
    return "'" + text.replace("'", "'\\''") + "'"


def selector_text(selector: LabelSelector | None) -> str:
    return str(selector) if selector is not None else "<none>"


def delete_job(ns: str, name: str) -> str:
    return f"kubectl -n {ns} delete job {name} --ignore-not-found"


def orphan_delete(ns: str, kind: str, name: str) -> str:
    """Delete a controller but not its pods (they wait for the new one to adopt them)."""
    return f"kubectl -n {ns} delete {kind} {name} --cascade=orphan"


def delete_with_pods(ns: str, kind: str, name: str) -> str:
    """Delete a controller and, in the background, what it owns: left with an owner that is
    gone, its ReplicaSets and pods are never adopted by another controller."""
    return f"kubectl -n {ns} delete {kind} {name}"


def rollout_restart(ns: str, kind: str, name: str) -> str:
    return f"kubectl -n {ns} rollout restart {kind}/{name}"


def rollout_status(ns: str, kind: str, name: str) -> str:
    return f"kubectl -n {ns} rollout status {kind}/{name}"


def orphans_listing(ns: str, kind: str, old_selector: LabelSelector) -> str:
    """What an orphaned controller leaves that the new one does not adopt: a Deployment's old
    ReplicaSets (with their OWNER once adopted), else its revision history, which the new
    selector never matches."""
    selected = quote(selector_text(old_selector))
    if kind == "Deployment":
        return (
            f"kubectl -n {ns} get rs -l {selected} -o custom-columns="
            "NAME:.metadata.name,READY:.status.readyReplicas,OWNER:.metadata.ownerReferences[0].name"
        )
    return (
        f"kubectl -n {ns} get controllerrevisions -l {selected} -o "
        "custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name"
    )


def members_listing(ns: str, selector: LabelSelector, names: Sequence[str]) -> str:
    """The pods `selector` finds, with their owner: every pod of the controllers `names`."""
    return (
        f"kubectl -n {ns} get pods -l {quote(selector_text(selector))} -o "
        + quote("custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name")
        + f"  # every pod of {', '.join(names)}"
    )


def endpoints_listing(ns: str, service: str) -> str:
    """The pods a Service has as endpoints, by name."""
    return (
        f"kubectl -n {ns} get endpointslices -l "
        f"{quote('kubernetes.io/service-name=' + service)} -o "
        + quote("custom-columns=NAME:.metadata.name,PODS:.endpoints[*].targetRef.name")
    )
