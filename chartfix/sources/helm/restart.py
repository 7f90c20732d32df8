"""A pod-template annotation that follows an object's metadata labels, in a Helm template.

`HelmSource.restart_edits` lands here: the pods of a workload restart whenever its labels
change when their template carries a checksum of those labels. The annotation is written
through the chart's own helper, the one the object's `metadata.labels` include:

    annotations:
      checksum/labels: {{ include "x.labels" . | sha256sum }}

(Helm's idiom for restarting pods when a ConfigMap changes). Three shapes of the pod
template's `annotations:` are edited; any other is refused with the reason:
- none written: the mapping is added above the pod template's `labels:`, at its column;
- written unconditionally as a block: the entry goes first in it;
- written only under the `if`/`with` right above it (`{{- with .Values.podAnnotations }}`,
  `helm create`'s shape): the key moves above that line with the new entry, so it is
  always written, and the values' entries stay under their condition.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chartfix.model.changes import Refused
from chartfix.model.edits import Edit, PlannedEdit
from chartfix.model.objects import K8sObject, Rendering
from chartfix.sources.helm.template.lines import Line
from chartfix.sources.helm.template.locate import Place, Templates, editable_place
from chartfix.sources.helm.template.outline import MappingSite

_INCLUDE = re.compile(r"^\s*-?\s*(?:include|template)\s+(\"[^\"]+\")\s+(\S+?)\s*(?:\||-?$)")
_ANNOTATIONS = re.compile(r"^(?P<indent>[ ]*)annotations:[ \t]*(?P<rest>.*)$")
KEY = "annotations:"
_OPENS = re.compile(r"^\s*\{\{-?\s*(?:if|with)\b")


def restart_edits(
    templates: Templates, obj: K8sObject, rendering: Rendering, key: str
) -> list[PlannedEdit]:
    """The splices giving `obj`'s pod template the annotation `key`: a checksum of the label
    helper its `metadata.labels` include; Refused: why they cannot be made (one line)."""
    ref = obj.ref
    place = editable_place(templates, obj, rendering)
    if place.shared or place.doc.renders_many:
        raise Refused(
            f"{place.path}: {ref} is written in a `range` or `define`; add the annotation "
            "by hand"
        )
    labels = place.doc.sites.get("metadata.labels")
    call = _helper_call(templates, place, labels) if labels is not None else None
    if call is None:
        raise Refused(
            f"{place.path}: the metadata labels of {ref} include no label helper to take a "
            "checksum of; add the annotation by hand"
        )
    pods = place.doc.sites.get(obj.pod_labels_path() or "")
    if pods is None or pods.flow is not None or pods.problem or pods.inline_generator:
        raise Refused(f"{place.path}: the pod labels of {ref} are not written as a block mapping")
    entry = f"{key}: {{{{ {call} | sha256sum }}}}"
    try:
        edit = _annotation_edit(templates, place, pods, entry)
    except Refused as why:
        raise Refused(f"{place.path}: {ref}: {why.reason}") from why
    return [PlannedEdit(place.path, edit, f"pod template annotations of {ref}")]


def _helper_call(templates: Templates, place: Place, labels: MappingSite) -> str | None:
    """`include "x.labels" .`: the helper call a generated line of the labels writes."""
    for entry in labels.entries:
        if not entry.generated:
            continue
        for action in entry.line.actions:
            found = _INCLUDE.match(action.inner)
            if found and found.group(2) in (".", "$"):
                return f"include {found.group(1)} {found.group(2)}"
    for action in labels.key_line.actions if labels.inline_generator else ():
        found = _INCLUDE.match(action.inner)
        if found and found.group(2) in (".", "$"):
            return f"include {found.group(1)} {found.group(2)}"
    return None


def _annotation_edit(
    templates: Templates, place: Place, pods: MappingSite, entry: str
) -> Edit:
    outline = templates.outline(place.path)
    newline = outline.newline()
    indent = pods.key_indent
    block = _metadata_block(outline.lines, place, pods)
    found = next(
        (i for i, line in enumerate(block)
         if line.indent == indent and _ANNOTATIONS.match(_text(outline.text, line))),
        None,
    )
    pad = " " * indent
    if found is None:
        start = pods.key_line.start
        text = f"{pad}annotations:{newline}{pad}  {entry}{newline}"
        return Edit(start, start, text)
    line = block[found]
    written = _ANNOTATIONS.match(_text(outline.text, line))
    assert written is not None
    above = _previous(block, found)
    if above is not None and above.cls == "control" and _OPENS.match(_text(outline.text, above)):
        rest = written.group("rest")
        moved = f"{pad}annotations:{newline}{pad}  {entry}{newline}"
        if rest and not rest.lstrip().startswith("{{"):
            raise Refused("its pod annotations are written on the key's line")
        # The key line leaves its condition: what follows it on the line stays there.
        return _joined(
            Edit(above.start, above.start, moved),
            Edit(line.start, line.next_start if not rest else line.start + indent + len(KEY), ""),
            outline.text,
        )
    if _inside_condition(block, found):
        raise Refused("its pod annotations are written under a condition chartfix cannot move")
    if written.group("rest"):
        raise Refused("its pod annotations are not written as a block mapping")
    return Edit(line.next_start, line.next_start, f"{pad}  {entry}{newline}")


def _joined(first: Edit, second: Edit, text: str) -> Edit:
    """Two splices as one (the edit is one `Edit`): the text between them kept."""
    middle = text[first.end : second.start]
    return Edit(first.start, second.end, first.text + middle + second.text)


def _metadata_block(lines: Sequence[Line], place: Place, pods: MappingSite) -> list[Line]:
    """The lines of the pod template's `metadata:` mapping: from the line after the pod
    template's key to the first content line left of the labels' column."""
    template = place.doc.pod_template_line
    begin = template.number if template is not None else pods.key_line.number - 2
    out: list[Line] = []
    for line in lines[begin:]:
        if line.start >= place.doc.end:
            break
        if line.cls == "content" and line.indent < pods.key_indent and out:
            break
        out.append(line)
    return out


def _previous(block: Sequence[Line], index: int) -> Line | None:
    for line in reversed(block[:index]):
        if line.cls not in ("blank", "comment"):
            return line
    return None


def _inside_condition(block: Sequence[Line], index: int) -> bool:
    """Some `if`/`with`/`range` opened in the metadata block before `index` is still open."""
    depth = 0
    for line in block[:index]:
        for action in line.actions:
            word = action.inner.strip().lstrip("-").strip().split(" ", 1)[0]
            if word in ("if", "with", "range"):
                depth += 1
            elif word == "end":
                depth -= 1
    return depth > 0


def _text(text: str, line: Line) -> str:
    return text[line.start : line.end]
