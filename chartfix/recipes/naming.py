"""Component labels: which key and which value, one set of rules for every source kind.

The key follows the target's own convention: `app.kubernetes.io/component` beside
`app.kubernetes.io/*` keys (or where some pods already carry it), `component` otherwise;
the user may name it. The value is the user's choice for the workload, else the first name
its author wrote for it that names a role (`Source.role_names`: the literal part of a Helm
name template, its helper or define, its template file's stem; a cdk8s construct id; a
manifest's name; then its containers' names), without the words that only repeat its kind
(`deployment`, `sts`, `svc`...: `minio-deployment` is no `deployment` role), not a generic
or one-letter word (`main`, `c`) nor the target's own name; else a default for its kind
(`server`, `agent` for a DaemonSet). Never a word a render made up (the release name, a
truncation, a synthesized value): the value is the same for every `--release`.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from chartfix.model.objects import COMPONENT_KEYS, K8sObject, component_key

__all__ = [
    "COMPONENT_KEYS",
    "component_for",
    "component_key",
    "component_value",
    "default_role",
    "label_value",
    "role_word",
    "unique",
    "unmatched",
    "unmatched_line",
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
_GENERIC = frozenset({"main", "app", "container", "default"})
"""Container names that say nothing of what a workload does."""
_DEFAULT_ROLE = {"DaemonSet": "agent", "Job": "job", "CronJob": "cronjob", "Pod": "test"}

T = TypeVar("T")


def workload_names(
    obj: K8sObject, target_name: str, release: str, roles: Sequence[str] = ()
) -> tuple[str, ...]:
    """The names `--component NAME=VALUE` (or a pattern) may give a workload: its rendered
    name, the part after the release fullname, and the names its author wrote
    (`Source.role_names`: the same under every release)."""
    own = name_suffix(obj.ref.name, release, target_name)  # x-test-* -> test-*
    return tuple(dict.fromkeys(n for n in (obj.name, own, *roles) if n))


def name_suffix(name: str, release: str, target_name: str) -> str:
    """The part of `name` after the release fullname (or the release, or the chart name),
    when that prefix is a whole word of it: `shop-web` -> `web`, `shoplike` -> ''."""
    fullname = release if target_name in release else f"{release}-{target_name}"
    for prefix in (fullname, release, target_name):
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


def unmatched(patterns: Iterable[str], known: Mapping[str, str]) -> dict[str, list[str]]:
    """Each of `patterns` (names or shell-style patterns, as `--component`, a recipe file
    or `.chartfix.yaml` give them) that no workload name in `known` (every name a workload
    may be given -> the name shown for it) matches -> the workloads it could have meant:
    the closest names, else them all."""
    out: dict[str, list[str]] = {}
    shown = sorted(set(known.values()))
    for pattern in patterns:
        if any(fnmatch.fnmatchcase(name, pattern) for name in known):
            continue
        close = difflib.get_close_matches(pattern.strip("*?"), list(known), n=3, cutoff=0.5)
        out[pattern] = sorted({known[n] for n in close}) or shown
    return out


def unmatched_line(origin: str, pattern: str, meant: Sequence[str]) -> str:
    """How every output says a component name or pattern matches no workload."""
    could = f"did you mean {', '.join(meant)}?" if meant else "there is no workload"
    return (
        f"{origin} {pattern!r} matches no workload (by name, name without the release, or "
        f"role); its value is not used: {could}"
    )


def component_value(
    obj: K8sObject,
    target_name: str,
    components: Mapping[str, str],
    roles: Sequence[str],
    names: Sequence[str] = (),
) -> str:
    """The component value for a workload: the user's choice (for one of `names`, or of
    `roles`), else the first of the names its author wrote (`roles`, most telling first)
    that names a role, else a default for its kind. Never a word a render made up."""
    chosen = component_for(components, [*names, *roles])
    if chosen is not None:
        return chosen
    return role_word(roles, target_name) or default_role(obj.kind)


def role_word(roles: Sequence[str], target_name: str) -> str | None:
    """The first of `roles` that names a role, as a label value: without its kind words
    and a leading target name (`shop-migrate` of chart `shop` -> `migrate`), not a
    generic or one-letter word (`main`, `c`), not the target's own name."""
    own = target_name.lower()
    for name in roles:
        word = _as_value(without_kind_words(name))
        if word.startswith(own + "-"):
            word = word[len(own) + 1:]
        if len(word) > 1 and word not in _GENERIC and word != own:
            return word
    return None


def default_role(kind: str) -> str:
    """The role a workload of `kind` gets when its author named none."""
    return _DEFAULT_ROLE.get(kind, "server")


def without_kind_words(name: str) -> str:
    """`name` without its whole words that name a kind (`minio-deployment` -> `minio`,
    `deploy` -> ''); the rest of it byte for byte."""
    return _KIND_WORD.sub("", name).strip("-._")


def label_value(text: str) -> str:
    """`text` as a label value: lower case, invalid characters as `-`, at most 63."""
    return _as_value(text) or "server"


def _as_value(text: str) -> str:
    value = _INVALID_VALUE_CHARS.sub("-", text.lower()).strip("-_.")
    return value[:63].rstrip("-_.")


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
