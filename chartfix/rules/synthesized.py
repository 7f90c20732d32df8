"""Findings that only values chartfix made up would make: reported as such, never fixed.

A scenario that needs deploy-time values renders with placeholders, each one distinct
(`web.tier="placeholder-1"`, `job.tier="placeholder-2"`), so two values never compare
equal by accident. Whether the real values are equal, nobody here knows: the rules run a
second time over the scenario with every placeholder taken as one value, and what they
find only then is reported as made by synthesized values (`Finding.synthesized`, a
warning naming the values), for a person to check with the chart's real values. No recipe
fixes it: changing an immutable selector for a guess is no fix.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, Rendering

_PLACEHOLDER = re.compile(r"placeholder-\d+")
_SAME = "placeholder"


def placeholders(rendering: Rendering) -> dict[str, str]:
    """The string placeholders synthesized for `rendering` -> the value path each stands for."""
    out: dict[str, str] = {}
    for entry in rendering.synthesized:
        path, _, text = entry.partition("=")
        try:
            value = json.loads(text)
        except ValueError:
            continue
        for string in _strings(value):
            if _PLACEHOLDER.fullmatch(string):
                out[string] = path
    return out


def only_with_placeholders(
    rendering: Rendering,
    found: Sequence[Finding],
    check: Callable[[Sequence[K8sObject]], Iterable[Finding]],
) -> list[Finding]:
    """What `check` finds in `rendering` once its placeholders are taken as one value, and
    not in `found` (with them distinct): each marked with the values it depends on."""
    made_up = placeholders(rendering)
    if not made_up:
        return []
    same = [_collapsed(obj, made_up) for obj in rendering.objects]
    known = {f.key for f in found}
    out = []
    for finding in check(same):
        if finding.key in known:
            continue
        involved = [o for o in rendering.objects if o.ref in {finding.obj, *finding.related}]
        paths = sorted({made_up[v] for o in involved for v in _placeholders_in(o, made_up)})
        out.append(mark(finding, paths))
    return out


def mark(finding: Finding, paths: Sequence[str]) -> Finding:
    """`finding` as made by synthesized values: a warning that says so and names them."""
    named = ", ".join(paths) or "values chartfix made up"
    return dataclasses.replace(
        finding,
        severity="warning",
        synthesized=tuple(paths),
        message=(
            f"only if the values chartfix synthesized ({named}) are equal: {finding.message}"
        ),
        remediation=(
            f"check with the chart's real values for {named} (-f VALUES); chartfix does "
            "not fix a finding that only made-up values make"
        ),
    )


def _collapsed(obj: K8sObject, made_up: Mapping[str, str]) -> K8sObject:
    """`obj` with every placeholder in its labels and selectors one value; its name kept."""
    body = _replace(obj.body, made_up)
    body["metadata"] = {**body.get("metadata", {}), "name": obj.name}
    return dataclasses.replace(obj, body=body, text=None)


def _replace(value: Any, made_up: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: _SAME if m.group(0) in made_up else m.group(0), value)
    if isinstance(value, Mapping):
        return {k: _replace(v, made_up) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, made_up) for v in value]
    return value


def _placeholders_in(obj: K8sObject, made_up: Mapping[str, str]) -> set[str]:
    labels = [*obj.labels.values(), *(obj.pod_labels or {}).values()]
    selector = obj.selector
    if selector is not None:
        labels += list(selector.match_labels.values())
    return {p for text in labels for p in _PLACEHOLDER.findall(text) if p in made_up}


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
