"""kube-state-metrics with autosharding, as rendered (docs/domain.md §3): which StatefulSet
runs it, on which image, and whether that image watches its StatefulSet by label.

Autosharding: kube-state-metrics run by a StatefulSet with `--pod` and `--pod-namespace`
(the pod's name and namespace, usually `$(POD_NAME)` and `$(POD_NAMESPACE)` from the downward
API) finds its shard from its StatefulSet. Before v2.13.0 it watched that StatefulSet with a
label selector built from the StatefulSet's labels at start-up; v2.13.0 watches it by name
(kubernetes/kube-state-metrics PR #2347, CHANGELOG: "Pod autosharding: transition from
labelselector to fieldselector").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chartfix.model.objects import K8sObject, ObjectRef, Rendering

FIXED_IN = (2, 13, 0)
FIXED = "v2.13.0"
UPSTREAM_ISSUE = "kubernetes/kube-state-metrics#2372"
UPSTREAM_FIX = "kubernetes/kube-state-metrics PR #2347"
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Autosharded:
    """A kube-state-metrics container a StatefulSet runs with autosharding."""

    container: str
    image: str
    sharding: str
    """What turns autosharding on, as rendered: `--pod=$(POD_NAME) --pod-namespace=...`."""
    older: bool | None
    """Its image is older than v2.13.0; None: its tag cannot be compared (`latest`, a
    digest only, a tag that is no version)."""

    @property
    def tag(self) -> str:
        return image_tag(self.image)


def autosharded(obj: K8sObject) -> Autosharded | None:
    """The kube-state-metrics container `obj` runs with autosharding, if it is a StatefulSet
    that does."""
    if obj.kind != "StatefulSet":
        return None
    for container in obj.containers():
        image = str(container.get("image") or "")
        if "kube-state-metrics" not in image.split("@")[0]:
            continue
        flags = _sharding_flags(container)
        if flags:
            return Autosharded(
                str(container.get("name") or ""), image, " ".join(flags), _older_than_fix(image)
            )
    return None


def _sharding_flags(container: Mapping[str, object]) -> list[str]:
    """The `--pod` and `--pod-namespace` arguments of a container, when it has both (the
    pair that turns autosharding on), as written (`--pod=$(POD_NAME)`)."""
    words: list[str] = []
    for key in ("command", "args"):
        raw = container.get(key)
        if isinstance(raw, list):
            words += [str(a) for a in raw]
    found: dict[str, str] = {}
    for index, word in enumerate(words):
        flag = word.split("=", 1)[0]
        if flag in ("--pod", "--pod-namespace") and flag not in found:
            value = word if "=" in word else " ".join(words[index : index + 2])
            found[flag] = value
    return [found["--pod"], found["--pod-namespace"]] if len(found) == 2 else []


def image_tag(image: str) -> str:
    """The tag of an image reference (`registry/ksm:v2.12.0@sha256:...` -> `v2.12.0`), ""
    when it has none."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def _older_than_fix(image: str) -> bool | None:
    match = _VERSION.match(image_tag(image))
    if not match:
        return None
    version = tuple(int(part or 0) for part in match.groups())
    return version < FIXED_IN


def runs_autosharded_ksm(obj: K8sObject) -> tuple[bool, str]:
    """(runs a kube-state-metrics that watches its StatefulSet by label, its image): older
    than v2.13.0, or a tag that cannot be compared (assume the worst)."""
    found = autosharded(obj)
    if found is None or found.older is False:
        return False, ""
    return True, found.image


def restarts_needed(before: Sequence[Rendering], after: Sequence[Rendering]) -> list[str]:
    """One warning per autosharded kube-state-metrics StatefulSet whose labels a fix
    changes."""
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
                f"{FIXED}): after its labels change, shards stop updating until its pods are "
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
