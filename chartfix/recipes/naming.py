"""Component labels: which key and which value, one set of rules for every source kind.

The key follows the target's own convention: `app.kubernetes.io/component` beside
`app.kubernetes.io/*` keys (or where some pods already carry it), `component` otherwise;
the user may name it. The value is the user's choice for the workload, else the name its
author gave it: the part of its rendered name after the release fullname (only as a whole
word: `shoplike` under release `shop` keeps its name), or the name in the source when the
rendered one is made up from it (a cdk8s construct id), without the words that only repeat
its kind (`deployment`, `sts`, `svc`...: `minio-deployment` is no `deployment` role), else
its first container's name, else a default for its kind.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from chartfix.model.objects import COMPONENT_KEYS, K8sObject

__all__ = [
    "COMPONENT_KEYS",
    "component_for",
    "component_key",
    "component_value",
    "label_value",
    "unique",
    "without_kind_words",
    "workload_names",
]

_INVALID_VALUE_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
_KIND_WORDS = (
    "deployment", "deploy", "statefulset", "sts", "daemonset", "ds", "replicaset", "rs",
    "app", "svc", "service",
)
"""Words of a workload's name that say what kind of object it is, not what it does."""
_KIND_WORD = re.compile(
    rf"(?:^|[-._])(?:{'|'.join(_KIND_WORDS)})(?=$|[-._])", re.IGNORECASE
)
_DEFAULT_ROLE = {"DaemonSet": "agent", "Job": "job", "CronJob": "cronjob", "Pod": "test"}

T = TypeVar("T")


def component_key(label_keys: Iterable[str], convention: str | None, asked: str | None) -> str:
    """The component key: the one asked for, else the target's convention (the key some
    pods already carry), else `app.kubernetes.io/component` beside `app.kubernetes.io/*`
    keys, else `component`."""
    if asked:
        return asked
    if convention:
        return convention
    recommended = any(k.startswith("app.kubernetes.io/") for k in label_keys)
    return "app.kubernetes.io/component" if recommended else "component"


def workload_names(
    obj: K8sObject, chart_name: str, release: str, author: str | None = None
) -> tuple[str, ...]:
    """The names `--component NAME=VALUE` may give a workload, most specific last: its
    rendered name, then the part its author chose (after the release fullname, or the
    name in the source)."""
    own = author or name_suffix(obj.ref.name, release, chart_name)  # x-test-* -> test-*
    return (obj.name, own) if own and own != obj.name else (obj.name,)


def name_suffix(name: str, release: str, chart_name: str) -> str:
    """The part of `name` after the release fullname (or the release, or the chart name),
    when that prefix is a whole word of it: `shop-web` -> `web`, `shoplike` -> ''."""
    fullname = release if chart_name in release else f"{release}-{chart_name}"
    for prefix in (fullname, release, chart_name):
        if prefix and name.startswith(prefix):
            rest = name[len(prefix):]
            if rest and not rest.startswith(("-", ".", "_")):
                continue  # `shoplike` is not `shop` + `like`
            return rest.strip("-")
    return ""


def component_for(components: Mapping[str, str], names: Sequence[str]) -> str | None:
    """The component value the user gave a workload known by `names`: an exact name first,
    then the first pattern (in the order written) that matches one of them."""
    for name in names:
        if name in components:
            return str(components[name])
    for pattern, value in components.items():
        if any(fnmatch.fnmatchcase(name, pattern) for name in names):
            return str(value)
    return None


def component_value(
    obj: K8sObject,
    chart_name: str,
    release: str,
    components: Mapping[str, str],
    author: str | None = None,
) -> str:
    """The component value for a workload: the user's choice, else the name its author gave
    it, else its first container's name, else a default for its kind."""
    names = workload_names(obj, chart_name, release, author)
    chosen = component_for(components, names)
    if chosen is not None:
        return chosen
    own = names[-1] if len(names) > 1 else (author or "")  # a plain manifest's `web`
    own = without_kind_words(own)
    if own:
        return label_value(own)
    containers = obj.containers()
    first = str(containers[0].get("name", "")) if containers else ""
    if first and first not in (chart_name, release, obj.name):
        return label_value(first)
    return _DEFAULT_ROLE.get(obj.kind, "server")


def without_kind_words(name: str) -> str:
    """`name` without its whole words that name a kind (`minio-deployment` -> `minio`,
    `deploy` -> ''); the rest of it byte for byte."""
    return _KIND_WORD.sub("", name).strip("-._")


def label_value(text: str) -> str:
    """`text` as a label value: lower case, invalid characters as `-`, at most 63."""
    value = _INVALID_VALUE_CHARS.sub("-", text.lower()).strip("-_.")
    return value[:63].rstrip("-_.") or "server"


def unique(items: Iterable[T], key: Callable[[T], Hashable] | None = None) -> list[T]:
    """Each item once (by `key`), in order: the same consumer seen in several scenarios is
    labelled once."""
    out: list[T] = []
    seen: set[Hashable] = set()
    for item in items:
        mark = item if key is None else key(item)
        if mark not in seen:
            seen.add(mark)
            out.append(item)
    return out
