"""stable-selectors' Helm part: volatile keys out of a chart's selectors where its templates
write them, as the recipe asks (`SplitsHelpers.selector_removals`).

A literal entry is deleted in place. When the entry comes from a helper that also feeds
metadata labels, the helper is split: a selector-only copy without the volatile lines is
added next to it and the selectors include that one instead; a library's helper (say
`common.labels.standard`) is switched for its selector-only sibling. One such edit changes
several objects at once, which `Source.label_edits` (one object at a time) cannot express.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from chartfix.model.changes import FixUnit, Refused, Unfixed
from chartfix.model.edits import Edit, LabelChange, NotEditable, PlannedEdit, unique_edits
from chartfix.model.findings import Finding
from chartfix.model.objects import MANAGER_KEYS, K8sObject
from chartfix.sources.base import Removal
from chartfix.sources.helm.template.edit import remove_entry
from chartfix.sources.helm.template.helpers import Helper, find_helpers, included_helper
from chartfix.sources.helm.template.lexer import Action
from chartfix.sources.helm.template.locate import Templates, peers_of
from chartfix.sources.helm.template.outline import MappingSite

SELECTOR_HELPER_NAMES = ("matchLabels", "selectorLabels")


@dataclass
class _Target:
    finding: Finding
    obj: K8sObject
    site: MappingSite
    keys: list[str]
    path: str
    """The file that writes the selector: the object's template, or the define it includes."""


def selector_removals(
    templates: Templates, removals: Sequence[Removal]
) -> tuple[list[FixUnit], list[Unfixed]]:
    """Units taking each removal's keys out of its object's selector in the chart's
    templates, and the removals refused, with the reason."""
    units: list[FixUnit] = []
    refused: list[Unfixed] = []
    by_helper: dict[str, list[tuple[_Target, list[str]]]] = defaultdict(list)
    by_library_helper: dict[str, list[_Target]] = defaultdict(list)
    helpers = find_helpers(templates)
    for removal in removals:
        finding = removal.finding
        try:
            target = _target(templates, removal)
            literal = [k for k in target.keys if k in target.site.literal_keys()]
            generated = [k for k in target.keys if k not in literal]
            if not generated:
                units.append(_literal_unit(target, literal))
                continue
        except Refused as why:
            refused.append(Unfixed(finding, why.reason))
            continue
        try:
            helper = _helper_writing(target.site, generated, helpers)
        except Refused as why:
            library = _library_helper(target.site, helpers)
            if library is None or literal:
                refused.append(Unfixed(finding, why.reason))
            else:
                by_library_helper[library].append(target)
            continue
        by_helper[helper.name].append((target, literal))
    for name, targets in sorted(by_helper.items()):
        try:
            units.append(_split_unit(templates, helpers, name, targets))
        except Refused as why:
            refused.extend(Unfixed(t.finding, why.reason) for t, _ in targets)
    for name, library_targets in sorted(by_library_helper.items()):
        units.append(_switch_units(templates, name, library_targets))
    return units, refused


def _target(templates: Templates, removal: Removal) -> _Target:
    finding, obj, rendering = removal.finding, removal.obj, removal.rendering
    if obj.document.path.startswith("charts/"):
        raise Refused(f"{finding.obj} comes from a subchart: fix it there")
    keys = list(removal.keys)
    if not keys:
        raise Refused(f"{finding.obj}: the volatile entry is in matchExpressions; edit it by hand")
    path = obj.selector_path()
    place = templates.place_for(obj, peers_of(rendering))
    site = place.doc.sites.get(path) if place and path else None
    if place is None or site is None:
        raise Refused(f"{obj.document.path}: {path} of {obj.ref} is not written in the template")
    if place.shared:
        raise Refused(f"{place.shared_reason(obj.ref)}; edit it by hand")
    return _Target(finding, obj, site, keys, place.path)


def _removal_edits(target: _Target, keys: list[str]) -> list[PlannedEdit]:
    """Edits deleting the literal selector lines of `keys`; Refused: why one cannot go."""
    edits = []
    for key in keys:
        try:
            edit = remove_entry(target.site, key)
        except NotEditable as err:
            raise Refused(f"{target.path}:{target.site.line}: {err}") from err
        edits.append(PlannedEdit(target.path, edit, f"selector of {target.obj.ref}"))
    return edits


def _literal_unit(target: _Target, keys: list[str]) -> FixUnit:
    obj = target.obj
    edits = _removal_edits(target, keys)
    return FixUnit(
        f"{obj.ref}: remove {', '.join(keys)} from its selector",
        edits,
        [target.finding],
        {(obj.document.path, obj.kind): _removals(target.site.path, keys)},
        "unsafe" if obj.is_controller else "safe",
    )


def _helper_writing(
    site: MappingSite, keys: list[str], helpers: dict[str, Helper]
) -> Helper:
    """The chart's own helper, included in `site`, whose body writes `keys`; Refused: why
    there is none."""
    included = _included_helpers(site)
    for name in included:
        helper = helpers.get(name)
        if helper is not None and all(_writes(helper, k) for k in keys):
            return helper
    if not included:
        raise Refused(
            f"{', '.join(keys)} in {site.path} is not written in the chart's own templates"
        )
    raise Refused(
        f"{', '.join(keys)} comes from {', '.join(included)}, which the chart does not define "
        "with literal lines (a subchart or nested helper): edit it by hand"
    )


def _included_helpers(site: MappingSite) -> list[str]:
    """Helpers `site` always includes (on its unconditional entry lines or its key line)."""
    lines = [e.line for e in site.entries if e.generated and not e.conditional]
    if site.inline_generator:
        lines.append(site.key_line)
    return [n for line in lines for a in line.output_actions if (n := included_helper(a))]


def _renamed_includes(
    templates: Templates, target: _Target, name: str, new_name: str
) -> list[PlannedEdit]:
    """Edits pointing the includes of helper `name` in target's selector at `new_name`."""
    obj = target.obj
    text = templates.outline(target.path).text
    edits = []
    quoted = f'"{name}"'
    for action in _include_actions(target.site, name):
        start = action.start + text[action.start : action.end].index(quoted)
        edits.append(
            PlannedEdit(
                target.path,
                Edit(start, start + len(quoted), f'"{new_name}"'),
                f"selector of {obj.ref} uses {new_name}",
            )
        )
    return edits


def _library_helper(site: MappingSite, helpers: dict[str, Helper]) -> str | None:
    """The one helper `site` includes that the chart does not define (a library's, such as
    `common.labels.standard`), if that is where the labels come from."""
    foreign = sorted({n for n in _included_helpers(site) if n not in helpers and "." in n})
    return foreign[0] if len(foreign) == 1 else None


def _switch_units(templates: Templates, name: str, targets: list[_Target]) -> FixUnit:
    """Selectors include the library's selector-only sibling of `name` instead (say
    `common.labels.matchLabels` for `common.labels.standard`): tried in turn as fallbacks,
    verification keeps the first that renders the same selectors less the volatile keys."""
    prefix = name.rsplit(".", 1)[0]
    candidates = [f"{prefix}.{suffix}" for suffix in SELECTOR_HELPER_NAMES]
    units = [_switch_unit(templates, name, new, targets) for new in candidates if new != name]
    for unit, fallback in itertools.pairwise(units):
        unit.fallback = fallback
    return units[0]


def _switch_unit(
    templates: Templates, name: str, new_name: str, targets: list[_Target]
) -> FixUnit:
    edits = []
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    for target in targets:
        obj = target.obj
        edits += _renamed_includes(templates, target, name, new_name)
        selector = obj.selector
        keys = [k for k in (selector.match_labels if selector else {}) if k in MANAGER_KEYS]
        _add(changes[(obj.document.path, obj.kind)],
             _removals(target.site.path, [*target.keys, *keys]))
    unsafe = any(t.obj.is_controller for t in targets)
    return FixUnit(
        f"selectors use {new_name} instead of {name}",
        unique_edits(edits),
        [t.finding for t in targets],
        dict(changes),
        "unsafe" if unsafe else "safe",
    )


def _writes(helper: Helper, key: str) -> bool:
    return _key_line(helper.body, key) is not None


def _key_line(body: str, key: str) -> re.Match[str] | None:
    quoted = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    return re.search(rf"(?m)^[ \t]*{quoted}:[^\n]*(?:\n|$)", body)


def _split_unit(
    templates: Templates,
    helpers: dict[str, Helper],
    name: str,
    targets: list[tuple[_Target, list[str]]],
) -> FixUnit:
    """Add a selector-only copy of helper `name` and point the selectors at it."""
    helper = helpers[name]
    keys = sorted({k for t, _ in targets for k in t.keys if k not in t.site.literal_keys()})
    new_name = _new_helper_name(name, helpers)
    body = helper.body
    for key in keys:
        while (match := _key_line(body, key)) is not None:
            body = body[: match.start()] + body[match.end() :]
    body = _drop_emptied_blocks(helper.body, body)
    newline = templates.outline(helper.path).newline()
    opening = helper.text[helper.open.start : helper.open.end].replace(
        f'"{name}"', f'"{new_name}"', 1
    )
    closing = helper.text[helper.close.start : helper.close.end]
    definition = (
        f"{newline}{{{{/*{newline}Selector labels: {name} without the values that change "
        f"between releases.{newline}Selectors are immutable: an existing release needs "
        f"the migration steps that came with this change.{newline}"
        f"*/}}}}{newline}"
        f"{opening}{body}{closing}{newline}"
    )
    at = helper.end_of_definition
    if at == len(helper.text) and not helper.text.endswith("\n"):
        # the file ends with the helper's `{{ end }}` and no newline: it still ends without one
        definition = newline + definition.removesuffix(newline)
    edits = [PlannedEdit(helper.path, Edit(at, at, definition), f"add helper {new_name}")]
    changes: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    for target, literal in targets:
        obj = target.obj
        edits += _renamed_includes(templates, target, name, new_name)
        edits += _removal_edits(target, literal)
        _add(changes[(obj.document.path, obj.kind)], _removals(target.site.path, target.keys))
    unsafe = any(t.obj.is_controller for t, _ in targets)
    return FixUnit(
        f"selectors use {new_name} ({name} without {', '.join(keys)})",
        unique_edits(edits),
        [t.finding for t, _ in targets],
        dict(changes),
        "unsafe" if unsafe else "safe",
    )


# An `if`/`with` block with nothing but `else` branches in it: it writes nothing.
_EMPTY_BLOCK = re.compile(
    r"(?m)^[ \t]*\{\{-?\s*(?:if|with)\b[^}]*\}\}"
    r"(?:\s|\{\{-?\s*else\b[^}]*\}\})*"
    r"\{\{-?\s*end\s*(?P<trim>-?)\}\}[ \t]*(?:\n|$)"
)


def _drop_emptied_blocks(original: str, body: str) -> str:
    """`body` without the conditionals that removing keys emptied (all their branches held
    only those keys), innermost first; a block that was empty in `original` stays, and so
    does one whose `-}}` trims text that follows it."""
    if _EMPTY_BLOCK.search(original):
        return body
    while True:
        for match in _EMPTY_BLOCK.finditer(body):
            rest = body[match.end():].lstrip()
            if not match.group("trim") or not rest or rest.startswith("{{-"):
                body = body[: match.start()] + body[match.end():]
                break
        else:
            return body


def _include_actions(site: MappingSite, name: str) -> list[Action]:
    """The actions in `site` that include helper `name` (on entry lines or the key line)."""
    lines = [e.line for e in site.entries if e.generated]
    if site.inline_generator:
        lines.append(site.key_line)
    return [a for line in lines for a in line.output_actions if included_helper(a) == name]


def _new_helper_name(name: str, helpers: dict[str, Helper]) -> str:
    prefix = name.rsplit(".", 1)[0] if "." in name else name
    for candidate in (f"{prefix}.selectorLabels", f"{prefix}.stableSelectorLabels"):
        if candidate not in helpers and candidate != name:
            return candidate
    return f"{name}.stable"


def _removals(path: str, keys: list[str]) -> list[LabelChange]:
    return [LabelChange(path, key, None, removed=True) for key in keys]


def _add(changes: list[LabelChange], more: list[LabelChange]) -> None:
    """`more` appended to `changes`, each change once: a volatile finding's keys may name a
    manager key the selector holds anyway, and objects of one template share their entry."""
    changes.extend(c for c in dict.fromkeys(more) if c not in changes)
