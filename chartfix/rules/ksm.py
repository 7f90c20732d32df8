"""The kube-state-metrics lesson (docs/domain.md §3), as a check on a change.

kube-state-metrics before v2.13.0, sharded automatically (a StatefulSet run with `--pod` and
`--pod-namespace`), found its own StatefulSet through a selector built from that
StatefulSet's labels. When the labels change and the pods are not restarted, the running pods
keep the old selector and silently stop recomputing shards. A change that relabels such a
StatefulSet must end with restarting it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chartfix.model.objects import K8sObject, ObjectRef, Rendering

FIXED_IN = (2, 13, 0)
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def runs_autosharded_ksm(obj: K8sObject) -> tuple[bool, str]:
    """(runs an affected kube-state-metrics, its image) for a StatefulSet."""
    if obj.kind != "StatefulSet":
        return False, ""
    for container in obj.containers():
        image = str(container.get("image") or "")
        if "kube-state-metrics" not in image:
            continue
        args = [str(a) for a in (container.get("args") or [])] + [
            str(a) for a in (container.get("command") or [])
        ]
        sharded = any(a.startswith("--pod=") for a in args) and any(
            a.startswith("--pod-namespace") for a in args
        )
        if sharded and _older_than_fix(image):
            return True, image
    return False, ""


def _older_than_fix(image: str) -> bool:
    """True when the image tag is older than v2.13.0, or cannot be read (assume the worst)."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    match = _VERSION.match(tag)
    if not match:
        return True
    version = tuple(int(part or 0) for part in match.groups())
    return version < FIXED_IN


def restarts_needed(before: Sequence[Rendering], after: Sequence[Rendering]) -> list[str]:
    """One warning per autosharded kube-state-metrics StatefulSet whose labels change."""
    warnings: list[str] = []
    seen: set[ObjectRef] = set()
    for old, new in zip(before, after, strict=True):
        new_objects = {o.ref: o for o in new.objects}
        for obj in old.objects:
            if obj.ref in seen:
                continue
            affected, image = runs_autosharded_ksm(obj)
            changed = new_objects.get(obj.ref)
            if not affected or changed is None or _labels(obj) == _labels(changed):
                continue
            seen.add(obj.ref)
            warnings.append(
                f"{obj.ref} runs kube-state-metrics with autosharding on {image} (older than "
                "v2.13.0): after its labels change, shards stop updating until its pods are "
                f"restarted: kubectl rollout restart statefulset/{obj.name}"
            )
    return warnings


def _labels(obj: K8sObject) -> tuple[object, ...]:
    selector = obj.selector
    return (
        tuple(sorted(obj.labels.items())),
        tuple(sorted((obj.pod_labels or {}).items())),
        tuple(sorted(selector.match_labels.items())) if selector else (),
    )
