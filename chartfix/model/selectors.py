"""Kubernetes label-selector semantics: matchLabels plus matchExpressions.

Mirrors `k8s.io/apimachinery/pkg/labels`: all requirements must hold (logical AND); an empty
selector matches every pod; `NotIn` and `DoesNotExist` match pods that lack the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

LABEL_VALUE_RULE = (
    "a label value is at most 63 characters: letters, digits, and -_. between them"
)
LABEL_KEY_RULE = (
    "a label key is an optional DNS subdomain prefix and `/`, then a name of at most 63 "
    "characters: letters, digits, and -_. between them"
)


def valid_label_value(value: str) -> bool:
    """Kubernetes' rule for a label value (empty is valid)."""
    return len(value) <= 63 and _LABEL_VALUE.match(value) is not None


def valid_label_key(key: str) -> bool:
    """Kubernetes' rule for a label key: `[prefix/]name`, the prefix a DNS subdomain."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return bool(name) and valid_label_value(name)


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        raise ValueError(f"unknown selector operator {self.operator!r}")


@dataclass(frozen=True)
class LabelSelector:
    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[Requirement, ...] = ()

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any]) -> LabelSelector:
        """Parse a `metav1.LabelSelector` as it appears in a manifest."""
        labels_raw = raw.get("matchLabels")
        labels = (
            {str(k): "" if v is None else str(v) for k, v in labels_raw.items()}
            if isinstance(labels_raw, Mapping)
            else {}
        )
        expressions = []
        for expr in raw.get("matchExpressions") or []:
            if not isinstance(expr, Mapping):
                continue
            values = expr.get("values") or []
            expressions.append(
                Requirement(
                    key=str(expr.get("key", "")),
                    operator=str(expr.get("operator", "")),
                    values=frozenset(str(v) for v in values),
                )
            )
        return cls(labels, tuple(expressions))

    @property
    def is_empty(self) -> bool:
        """An empty selector matches everything (controllers reject it; PDBs and policies don't)."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        return all(req.matches(labels) for req in self.match_expressions)

    def label_keys(self) -> set[str]:
        return set(self.match_labels) | {r.key for r in self.match_expressions}

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.match_labels.items())]
        for r in self.match_expressions:
            if r.operator in ("In", "NotIn"):
                parts.append(f"{r.key} {r.operator.lower()} ({','.join(sorted(r.values))})")
            elif r.operator == "Exists":
                parts.append(r.key)
            else:
                parts.append(f"!{r.key}")
        return ",".join(parts) or "<everything>"
