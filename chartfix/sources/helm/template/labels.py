"""Label entries as templates write them: copying a templated entry, conditions, helpers.

What the Helm source's label edits (sources/helm/labels.py) need of a template beyond
inserting a line: how the pod template writes a label whose key or value is templated
(`{{ .Values.k | default "a/b" }}: controller`), so that selectors copy it as written;
whether a mapping already writes a key under an `if`; a helper's empty component argument
to fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chartfix.model.edits import Edit, NotEditable
from chartfix.sources.helm.template.edit import insert_entry
from chartfix.sources.helm.template.outline import MappingSite


def split_entry(text: str, entry_line_start: int, entry_line_end: int) -> tuple[str, str]:
    """The key and value of a one-line entry as written, actions kept whole
    (`{{ .Values.k | default "a/b" }}: controller` -> the action, `controller`)."""
    line = text[entry_line_start:entry_line_end].strip()
    depth, i = 0, 0
    while i < len(line):
        if line.startswith("{{", i):
            depth += 1
            i += 2
            continue
        if line.startswith("}}", i):
            depth -= 1
            i += 2
            continue
        if depth == 0 and line[i] == ":" and (i + 1 == len(line) or line[i + 1] == " "):
            return line[:i].strip(), line[i + 1:].strip()
        i += 1
    return line, ""


def written_as(
    text: str, site: MappingSite, label_key: str, label_value: str
) -> tuple[str, str] | None:
    """How the pod template writes the label `label_key` when its key or value is templated:
    the key and value texts to copy into selectors, so that they render what the pods carry
    under any values. None when it is written literally or by a helper (the rendered text is
    right). NotEditable when it is written under a condition, or which line writes it is
    unclear."""
    found = []
    for entry in site.entries:
        if entry.generated or entry.line is not entry.last:
            continue
        key, value = split_entry(text, entry.line.start, entry.line.end)
        if entry.key == label_key and "{{" not in value:
            if entry.conditional:
                raise NotEditable(
                    f"its pods carry {label_key} only under a condition; add it to the "
                    "selector by hand under the same condition"
                )
            return None
        if entry.key == label_key or (
            entry.templated_key
            and (label_key in key or value.strip("'\"") == label_value)
        ):
            found.append((entry, key, value))
    if not found:
        return None
    if len(found) > 1:
        raise NotEditable(
            f"{len(found)} templated lines may write its pods' {label_key}; "
            "add it to the selector by hand"
        )
    entry, key, value = found[0]
    if entry.conditional:
        raise NotEditable(
            f"its pods carry {key}: {value} only under a condition; add it to the selector "
            "by hand under the same condition"
        )
    return key, value


@dataclass(frozen=True)
class ConditionalTwin:
    """An entry of a mapping written under a condition (`{{- if .Values.useComponentLabel }}`)
    with the key of a label the pods always carry."""

    site: str
    """The mapping's path (`spec.selector.matchLabels`)."""
    key: str
    """The key as written (`{{ .Values.x | default "app.kubernetes.io/component" }}`)."""
    condition: str | None
    """The `if`/`with` condition last opened before it (`.Values.worker.useComponentLabel`)."""

    def reason(self) -> str:
        """Why the label cannot be added beside it."""
        when = f"only when {self.condition}" if self.condition else "only under a condition"
        return (
            f"{self.site} writes {self.key} {when}, while the pods always carry it: turn "
            "that on, or make the entry unconditional by hand (adding it again would "
            "render the key twice)"
        )


def conditional_twin(
    text: str, site: MappingSite, label_key: str, written: tuple[str, str] | None
) -> ConditionalTwin | None:
    """The entry that keeps the label from being added to `site`: the mapping already writes
    the same key under a condition, so adding it always would render the key twice when the
    condition holds."""
    for entry in site.entries:
        if entry.generated or not entry.conditional:
            continue
        key, _ = split_entry(text, entry.line.start, entry.line.end)
        if entry.key == label_key or (written is not None and key == written[0]) or (
            entry.templated_key and label_key in key
        ):
            return ConditionalTwin(site.path, key, condition_before(text, site, entry.line.start))
    return None


_CONDITION = re.compile(r"\{\{-?\s*(?:if|with)\s+(.*?)\s*-?\}\}")


def condition_before(text: str, site: MappingSite, before: int) -> str | None:
    """The `if`/`with` condition last opened in `site` before the offset `before`."""
    found = None
    for match in _CONDITION.finditer(text, site.key_line.start, before):
        found = match.group(1)
    return found


def insert_written(site: MappingSite, written: tuple[str, str], newline: str) -> Edit:
    """The entry written as the pod template writes it (`yaml_scalar` keeps actions as is)."""
    key, value = written
    if "{{" not in value and len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return insert_entry(site, key, value, newline)


def literal_text(text: str, site: MappingSite, key: str) -> str | None:
    """The value of the entry `key` as written, in a block mapping (one line, always
    rendered) or a flow mapping (`{tier: backend}`)."""
    if site.flow is not None:
        for item in site.flow.items:
            if item.key == key:
                _, _, value = text[item.start : item.end].partition(":")
                return value.strip() or None
        return None
    return value_text(text, site, key)


def value_text(text: str, site: MappingSite, key: str) -> str | None:
    """The value of the one-line, unconditional entry `key` as written (`{{ $i | quote }}`)."""
    for entry in site.entries:
        if entry.key == key and not entry.conditional and entry.line is entry.last:
            line = text[entry.line.start : entry.line.end]
            value = line.split(":", 1)[1].strip() if ":" in line else ""
            return value or None
    return None


_EMPTY_COMPONENT_ARG = re.compile(r'"component"\s+(""|\x60\x60)')


def component_argument_edit(site: MappingSite, value: str) -> Edit | None:
    """Fill a helper's empty component argument (`dict ... "component" ""`) with `value`.

    Charts whose label helpers already take a component get the value where their authors
    expect it, instead of a literal line next to the include.
    """
    lines = [e.line for e in site.entries if e.generated and not e.conditional]
    if site.inline_generator:
        lines.append(site.key_line)
    for line in lines:
        for action in line.output_actions:
            match = _EMPTY_COMPONENT_ARG.search(action.inner)
            if match is None:
                continue
            start = action.inner_start + match.start(1)
            return Edit(start, start + len(match.group(1)), f'"{value}"')
    return None


