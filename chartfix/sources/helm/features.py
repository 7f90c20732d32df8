"""Feature switches: the objects a chart renders only when an off-by-default feature is on.

Charts keep most optional objects (PodDisruptionBudgets, NetworkPolicies, metrics Services,
test Pods, extra workers) behind boolean values, false in values.yaml, whose `if` wraps the
whole object:

    {{- if .Values.podDisruptionBudget.enabled }}
    apiVersion: policy/v1
    kind: PodDisruptionBudget

A render of the defaults and the ci/ files never sees them. This module reads the chart's own
templates (not its subcharts'), finds those switches from the conditions around each `kind:`
line, and names the scenarios that turn them on: one switch at a time, or the small group an
`and`/nested `if` needs together (`metrics.enabled` and `metrics.serviceMonitor.enabled`).

A switch is left out when it chooses between modes rather than adding objects: it appears
under `not`, in an `eq`/`ne`/`ternary`, or an `if` on it has an `else` that writes
objects (a Deployment-or-StatefulSet choice). Only switches that add kinds the rules read
(workloads, Services, PDBs, NetworkPolicies) are rendered: a ServiceMonitor selects Services,
not pods, so a switch that adds only one costs a render and shows nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartfix.errors import TargetError
from chartfix.files import decode
from chartfix.model.objects import ALL_FEATURES, ANALYZED_KINDS, FEATURE_PREFIX
from chartfix.sources.base import DEFAULT_FEATURE_RENDERS
from chartfix.sources.helm.chart import (
    ABSENT,
    Scenario,
    read_default_values,
    scenarios_at,
    value_at,
)
from chartfix.sources.helm.render import scenario_values
from chartfix.sources.helm.template.lexer import TemplateSyntaxError, lex

MAX_GROUP = 3
"""A switch needs at most this many values on together (`and A B`, nested `if`s)."""

_REF = re.compile(r"^\(?\$?\.Values\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\)?$")
_ANY_REF = re.compile(r"\$?\.Values\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)")
_PATH = r"\$?\.Values\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)"
_NEGATED = re.compile(r"\b(?:not|eq|ne)\s+\(?" + _PATH)
"""A value read as `not X` or compared: it chooses between modes, it does not add objects."""
_KIND_LINE = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z][A-Za-z0-9]*)", re.MULTILINE)
_KIND_TEMPLATED = re.compile(r"^kind:[ \t]*\{\{", re.MULTILINE)
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl")


@dataclass(frozen=True)
class Switch:
    """Values to turn on together, and the kinds of the objects they add."""

    paths: tuple[str, ...]
    kinds: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def setting(self) -> str:
        """As `--set` writes it: `a.enabled=true,b.enabled=true`."""
        return ",".join(f"{p}=true" for p in self.paths)

    @property
    def name(self) -> str:
        return f"{FEATURE_PREFIX}{self.setting}"


def scenarios_with_features(
    root: Path,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    base: str = "",
    limit: int = DEFAULT_FEATURE_RENDERS,
) -> list[Scenario]:
    """The chart's scenarios (`chart.scenarios_at`: the defaults or the user's values, and
    each ci/ file), then one per feature switch over the first of them (see
    feature_scenarios)."""
    cases = scenarios_at(root, values_files, set_values, base)
    return cases + feature_scenarios(root, cases[0], limit)


def feature_scenarios(
    root: Path, first: Scenario, limit: int = DEFAULT_FEATURE_RENDERS
) -> list[Scenario]:
    """One scenario per chosen switch over `first`'s values (the defaults, or the user's),
    at most `limit` of them; none when `limit` is 0."""
    if limit <= 0:
        return []
    return [_over(first, s.name, (s.setting,)) for s in _chosen(root, first, limit)]


def _chosen(root: Path, first: Scenario, limit: int) -> list[Switch]:
    """The first `limit` switches that `first`'s own values (the user's -f/--set) do not
    turn on already: that render is the first scenario's."""
    if not (first.values_files or first.set_values or first.base):
        return switches(root)[:limit]
    given = scenario_values(first)
    return [
        s for s in switches(root)
        if not all(value_at(given, p) not in (ABSENT, False, None) for p in s.paths)
    ][:limit]


def all_features_scenario(
    root: Path, first: Scenario, limit: int = DEFAULT_FEATURE_RENDERS
) -> Scenario | None:
    """Every chosen switch on together (they add objects, none excludes another): the
    scenario a fix is verified against besides the others; None with fewer than two."""
    chosen = _chosen(root, first, limit) if limit > 0 else []
    if len(chosen) < 2:
        return None
    return _over(first, ALL_FEATURES, tuple(s.setting for s in chosen))


def _over(first: Scenario, name: str, settings: tuple[str, ...]) -> Scenario:
    return Scenario(
        name, first.values_files, (*first.set_values, *settings), first.base
    )


def switches(root: Path) -> list[Switch]:
    """The chart's feature switches, those adding workloads and their consumers first, in
    template order; a group contained in a larger one is rendered by it."""
    try:
        defaults = read_default_values(root)
    except TargetError:
        return []  # an unreadable values.yaml is the default scenario's error
    found: dict[tuple[str, ...], set[str]] = {}
    modes: set[str] = set()
    for text in _templates(root):
        try:
            _scan(text, defaults, found, modes)
        except TemplateSyntaxError:
            continue  # the render says what is wrong with it
    groups = {
        paths: kinds for paths, kinds in found.items()
        if not modes.intersection(paths) and len(paths) <= MAX_GROUP
        and (kinds & ANALYZED_KINDS or "*" in kinds)
    }
    kept = [
        Switch(paths, frozenset(kinds)) for paths, kinds in groups.items()
        if not any(set(paths) < set(other) for other in groups)
    ]
    return sorted(kept, key=lambda s: not (s.kinds & ANALYZED_KINDS))


def _templates(root: Path) -> list[str]:
    folder = root / "templates"
    if not folder.is_dir() or folder.is_symlink():
        return []
    texts = []
    for path in sorted(folder.rglob("*")):
        if (
            path.suffix in _TEMPLATE_SUFFIXES and path.is_file() and not path.is_symlink()
            and not path.name.startswith("_")
        ):
            try:
                texts.append(decode(path.read_bytes()))
            except (OSError, UnicodeDecodeError):
                continue
    return texts


@dataclass
class _Frame:
    keyword: str
    needs: tuple[str, ...] | None
    """Values the block's condition needs on (an `if`); None: no boolean turns it on."""
    in_else: bool = False
    refs: tuple[str, ...] = ()


def _scan(
    text: str, defaults: Mapping[str, Any], found: dict[tuple[str, ...], set[str]],
    modes: set[str],
) -> None:
    """Record in `found` the switches wrapping each object of `text` (and its kinds), and in
    `modes` the values that choose between modes."""
    stack: list[_Frame] = []
    pos = 0
    for action in [*lex(text), None]:
        end = action.start if action is not None else len(text)
        _objects_in(text[pos:end], stack, found, modes)
        if action is None:
            break
        pos = action.end
        inner = action.inner
        if action.kind == "open":
            refs = tuple(_ANY_REF.findall(inner))
            needs = _needs(inner.split(None, 1)[1] if " " in inner else "", defaults)
            stack.append(_Frame(action.keyword, needs if action.keyword == "if" else (), refs=refs))
        elif action.kind == "else" and stack:
            stack[-1].in_else = True
            if inner.startswith("else if"):
                modes.update(stack[-1].refs)
                stack[-1].needs = None
        elif action.kind == "end" and stack:
            stack.pop()
        modes.update(_NEGATED.findall(inner))
        if "ternary" in inner:
            modes.update(_ANY_REF.findall(inner))


def _objects_in(
    chunk: str, stack: list[_Frame], found: dict[tuple[str, ...], set[str]], modes: set[str]
) -> None:
    """Record the switches the objects of `chunk` (text between two actions) need on; an
    object in an `else` branch makes its `if`'s values modes (on removes it)."""
    kinds = set(_KIND_LINE.findall(chunk))
    if _KIND_TEMPLATED.search(chunk):
        kinds.add("*")
    if not kinds or any(f.keyword in ("define", "block") for f in stack):
        return
    for frame in stack:
        if frame.keyword == "if" and frame.in_else:
            modes.update(frame.refs)
    needs: list[str] = []
    for frame in stack:
        if frame.keyword != "if":
            continue
        if frame.in_else or frame.needs is None:
            return  # an else branch, or a condition no boolean turns on
        needs += [p for p in frame.needs if p not in needs]
    if needs:
        found.setdefault(tuple(needs), set()).update(kinds)


def _needs(condition: str, defaults: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The values, false by default, that make `condition` true when set: `() ` when it
    holds already, None when no boolean can make it hold (or it is no plain condition)."""
    words = condition.split()
    if not words:
        return None
    if words[0] == "and":
        out: list[str] = []
        for arg in words[1:]:
            need = _arg_needs(arg, defaults)
            if need is None:
                return None
            out += need
        return tuple(out)
    if words[0] == "or":
        needs = [_arg_needs(arg, defaults) for arg in words[1:]]
        if any(n == () for n in needs):
            return ()
        return next((n for n in needs if n), None)
    return _arg_needs(condition, defaults) if len(words) == 1 else None


def _arg_needs(arg: str, defaults: Mapping[str, Any]) -> tuple[str, ...] | None:
    match = _REF.match(arg.strip())
    if match is None:
        return None
    path = match.group(1)
    value = value_at(defaults, path)
    if value is False:
        return (path,)
    if value is ABSENT or not value:
        return None  # unset, empty or zero: not a boolean switch
    return ()


__all__: Sequence[str] = (
    "Switch", "all_features_scenario", "feature_scenarios",
    "scenarios_with_features", "switches",
)
