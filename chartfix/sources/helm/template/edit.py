"""Edits to template text: splices at positions the outline found, nothing else.

An edit replaces `text[start:end]`; every byte outside it stays. Inserting a label copies the
shape of the mapping it goes into: a line at the mapping's entry indentation for block
mappings, `, key: value` for flow mappings. Where the splice cannot be made safely the
functions raise `NotEditable` with the reason, instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chartfix.model.edits import Edit, NotEditable
from chartfix.sources.base import splice, yaml_scalar
from chartfix.sources.helm.template.lexer import Action
from chartfix.sources.helm.template.lines import Line
from chartfix.sources.helm.template.outline import Document, Entry, MappingSite, Outline


def insert_entry(site: MappingSite, key: str, value: str, newline: str = "\n") -> Edit:
    """An edit adding `key: value` to the mapping at `site`, always rendered.

    Block mappings get a new line right after their last unconditional entry (or after the key
    line when every entry is conditional), so the new line renders whenever the mapping does.
    Where the mapping's keys are all literal and in alphabetical order (two or more: `app,
    chart, heritage, release`), the new key goes in its sorted place instead.
    """
    if site.problem:
        raise NotEditable(site.problem)
    if key in site.literal_keys():
        raise NotEditable(f"{key} is already written in {site.path}")
    entry_text = f"{yaml_scalar(key)}: {yaml_scalar(value)}"
    if site.flow is not None:
        return _insert_into_flow(site, key, entry_text)
    sorted_edit = _insert_sorted(site, key, entry_text, newline)
    if sorted_edit is not None:
        return sorted_edit
    anchor_end, anchor_newline, trims = _anchor(site)
    if trims:
        raise NotEditable(
            f"the line before the insertion point in {site.path} ends with '-}}}}', "
            "which would join the new entry to it"
        )
    line = " " * site.entry_indent + entry_text
    if not anchor_newline:  # the anchor is the file's last line, which has no newline
        return Edit(anchor_end, anchor_end, newline + line)
    return Edit(anchor_end, anchor_end, line + anchor_newline)


def remove_entry(site: MappingSite, key: str) -> Edit:
    """An edit deleting the literal entry `key` from the mapping at `site`."""
    if site.problem:
        raise NotEditable(site.problem)
    if site.flow is not None:
        return _remove_from_flow(site, key)
    matches = [e for e in site.entries if e.key == key]
    if not matches:
        raise NotEditable(f"{key} is not written literally in {site.path}")
    if len(matches) > 1:
        raise NotEditable(f"{key} is written more than once in {site.path}")
    entry = matches[0]
    if not _others_remain(site.entries, entry) and not site.inline_generator:
        raise NotEditable(f"removing {key} would leave {site.path} empty")
    if not entry.last.newline and entry.line.start > 0:
        # The file ends without a newline after this entry: take the newline before it, so
        # the file still ends without one.
        start = entry.line.start - (2 if site.key_line.newline == "\r\n" else 1)
        return Edit(start, entry.end, "")
    return Edit(entry.line.start, entry.end, "")


_LITERAL_ENTRY = re.compile(
    r"^[ \t]*(?P<key>\"[^\"]*\"|'[^']*'|[^\s:'\"#][^:#]*?)[ \t]*:[ \t]+"
    r"(?P<value>\"[^\"\\]*\"|'[^']*'|[^\s'\"#]+)[ \t]*(#.*)?$"
)


def replace_value(text: str, site: MappingSite, key: str, value: str) -> Edit:
    """An edit giving the literal entry `key` of the mapping at `site` a new value.

    Only a one-line entry whose value is written literally qualifies: a value from a helper
    or an action belongs to whatever writes it, not to this line. In a flow mapping
    (`labels: {app: x, component: server}`) the item's value alone is replaced.
    """
    if site.problem:
        raise NotEditable(site.problem)
    if site.flow is not None:
        return _replace_in_flow(text, site, key, value)
    matches = [e for e in site.entries if e.key == key]
    if len(matches) != 1 or matches[0].conditional or matches[0].line is not matches[0].last:
        raise NotEditable(f"{key} is not written once, literally, in {site.path}")
    line = matches[0].line
    match = None if line.actions else _LITERAL_ENTRY.match(text[line.start : line.end])
    if match is None:
        raise NotEditable(f"the value of {key} in {site.path} is not a literal")
    old = match.group("value")
    new = yaml_scalar(value)
    if old[0] in "\"'" and new[0] not in "\"'":
        new = old[0] + new + old[0]  # the chart's quoting style
    return Edit(line.start + match.start("value"), line.start + match.end("value"), new)


_ACTION_VALUE = re.compile(
    r"^[ \t]*(?P<key>\"[^\"]*\"|'[^']*'|[^\s:'\"#][^:#]*?)[ \t]*:[ \t]+"
    r"(?P<quote>[\"']?)(?P<value>\{\{[^{}]*\}\})(?P=quote)[ \t]*(#.*)?$"
)


def append_to_value(text: str, site: MappingSite, key: str, suffix: str) -> Edit:
    """An edit appending `suffix` to the one action that writes the value of `key`
    (`app: {{ template "x.name" . }}` -> `app: {{ template "x.name" . }}-cleanup`): the
    value stays whatever the chart names it, with the pods' role after it."""
    line, match = _one_action_value(text, site, key)
    if not re.fullmatch(r"[-A-Za-z0-9_.]+", suffix):
        raise NotEditable(f"the value of {key} in {site.path} is not one action")
    end = line.start + match.end("value")
    return Edit(end, end, suffix)


def replace_action(text: str, site: MappingSite, key: str, value: str) -> Edit:
    """An edit writing the literal `value` over the one action that writes the value of
    `key` (`app.kubernetes.io/name: {{ include "x.fullname" . }}` -> `... : test-connection`):
    a value that must not grow with what the action renders (a fullname, up to 63
    characters with the release name in it)."""
    line, match = _one_action_value(text, site, key)
    new = yaml_scalar(value)
    if match.group("quote") and new[0] not in "\"'":
        new = match.group("quote") + new + match.group("quote")  # the chart's quoting style
    end = match.end("value") + len(match.group("quote"))
    return Edit(line.start + match.start("quote"), line.start + end, new)


def _one_action_value(text: str, site: MappingSite, key: str) -> tuple[Line, re.Match[str]]:
    """The line where `key` is written once, unconditionally, in a block mapping, with its
    value one template action, and that value's match; NotEditable otherwise."""
    if site.problem or site.flow is not None:
        raise NotEditable(site.problem or f"{key} is in a flow mapping at {site.path}")
    matches = [e for e in site.entries if e.key == key]
    if len(matches) != 1 or matches[0].conditional or matches[0].line is not matches[0].last:
        raise NotEditable(f"{key} is not written once in {site.path}")
    line = matches[0].line
    match = _ACTION_VALUE.match(text[line.start : line.end])
    if match is None or len(line.actions) != 1:
        raise NotEditable(f"the value of {key} in {site.path} is not one action")
    return line, match


_FLOW_KEY = re.compile(r"^(?:\"[^\"\\]*\"|'[^']*')[ \t]*:[ \t]*|^[^\s'\"][^:]*?[ \t]*:[ \t]+")
"""The key of one flow item and the `:` after it: a quoted key may be followed by the value
without a space (`{"a":"b"}`), a plain key may not."""
_FLOW_VALUE = re.compile(
    r"^(?:\"[^\"\\]*\"|'[^']*'|[^\s'\"#,\[\]{}&*!|>%@`](?:[^:#,\[\]{}]|:(?!\s)|(?<!\s)#)*)$"
)
"""A literal flow value: quoted (no escape sequence), or plain with no flow indicator
(`,[]{}`), no `: `, no comment, and no other indicator first."""


def _replace_in_flow(text: str, site: MappingSite, key: str, value: str) -> Edit:
    """`replace_value` for a flow mapping: the value of the one item whose key is `key`."""
    assert site.flow is not None
    items = [item for item in site.flow.items if item.key == key]
    if len(items) != 1:
        raise NotEditable(f"{key} is not written once, literally, in {site.path}")
    item = items[0]
    written = text[item.start:item.end]
    head = _FLOW_KEY.match(written)
    literal = not any(a.start < item.end and item.start < a.end for a in site.key_line.actions)
    if not literal or head is None or not _FLOW_VALUE.match(written[head.end():]):
        raise NotEditable(f"the value of {key} in {site.path} is not a literal")
    old = written[head.end():]
    new = yaml_scalar(value)
    if "{{" in new:
        raise NotEditable(f"{value!r} cannot be written into the flow mapping at {site.path}")
    if old[0] in "\"'" and new[0] not in "\"'":
        new = old[0] + new + old[0]  # the chart's quoting style
    return Edit(item.start + head.end(), item.end, new)


_INCLUDE_COMMAND = re.compile(r'^include\s+"[^"]+"\s+(?P<argument>\S.*?)\s*$')


def include_argument(action: Action) -> str | None:
    """What the `include` starting the action's pipeline passes its helper (`.` of
    `include "x.labels" . | nindent 4`); None when the pipeline starts otherwise."""
    match = _INCLUDE_COMMAND.match(_pipeline_steps(action.inner)[0].strip())
    return match.group("argument") if match else None


def omit_included_key(action: Action, key: str) -> Edit:
    """An edit making the `include` action leave `key` out of what the helper writes:
    `include "x.labels" . | nindent 4` becomes `omit (include "x.labels" . | fromYaml) "KEY" |
    toYaml | nindent 4`, so that a line after it may write the key (`entry_after`).

    The helper stays as it is for every other template that includes it. Only a pipeline
    that starts with the include qualifies (`template` cannot be piped; a pipeline that does
    more to the helper's text than indent it is left to whoever wrote it).
    """
    steps = _pipeline_steps(action.inner)
    command = steps[0].rstrip()
    rest = action.inner[len(command):]  # ` | nindent 4`, as written
    if include_argument(action) is None:
        raise NotEditable(f"{{{{ {action.inner} }}}} does not start with an include")
    if any(not _INDENT_ONLY.match(step.strip()) for step in steps[1:]):
        raise NotEditable(f"{{{{ {action.inner} }}}} does more than indent the helper's text")
    if '"' in key or "\\" in key:
        raise NotEditable(f"{key!r} cannot be written as a template string")
    inner = f'omit ({command} | fromYaml) "{key}" | toYaml{rest}'
    start = action.inner_start
    return Edit(start, start + len(action.inner), inner)


def entry_after(line: Line, indent: int, key: str, value: str, newline: str = "\n") -> Edit:
    """`key: value` as a line of its own at column `indent`, right after `line` (a template
    action in `value` is written as is)."""
    if line.trims_following:
        raise NotEditable("the line ends with '-}}', which would join the new entry to it")
    entry = " " * indent + f"{yaml_scalar(key)}: {yaml_scalar(value)}"
    if not line.newline:  # the file's last line, which has no newline
        return Edit(line.end, line.end, newline + entry)
    return Edit(line.next_start, line.next_start, entry + line.newline)


_INDENT_ONLY = re.compile(r"^(n?indent\s+\d+|trim)$")


def _pipeline_steps(inner: str) -> list[str]:
    """The commands of a pipeline, split at `|` outside strings and parentheses."""
    steps: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(inner):
        ch = inner[i]
        if ch in "\"'`":
            close = i + 1
            while close < len(inner) and inner[close] != ch:
                close += 2 if inner[close] == "\\" and ch != "`" else 1
            i = close + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            steps.append(inner[start:i])
            start = i + 1
        i += 1
    if inner[start:].strip() or not steps:
        steps.append(inner[start:])
    return steps


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; identical duplicates (one source, many objects) count once."""
    try:
        return splice(text, edits)
    except ValueError as err:
        raise NotEditable(str(err)) from err


def _anchor(site: MappingSite) -> tuple[int, str, bool]:
    """(insert position, newline to end the new line with, anchor trims what follows)."""
    unconditional = [e for e in site.entries if not e.conditional]
    anchor = unconditional[-1].last if unconditional else site.key_line
    return anchor.next_start, anchor.newline, anchor.trims_following


def _others_remain(entries: tuple[Entry, ...], removed: Entry) -> bool:
    return any(e is not removed and not e.conditional for e in entries)


def _sorted_before(keys: list[str | None], key: str) -> int | None:
    """The index of the first key after `key` when `keys` are two or more literal keys in
    alphabetical order (the mapping's own convention); None: append."""
    literal = [k for k in keys if k is not None]
    if len(literal) < 2 or len(literal) != len(keys) or literal != sorted(literal):
        return None
    return next((i for i, k in enumerate(literal) if k > key), None)


def _insert_sorted(
    site: MappingSite, key: str, entry_text: str, newline: str
) -> Edit | None:
    """`key: value` as a line of its own before the first entry sorting after it, when the
    mapping's entries are plain literal lines in alphabetical order. The new line ends with
    the newline of the line before it: the line it goes before may be the file's last, which
    has none."""
    entries = site.entries
    if site.inline_generator or any(e.generated or e.conditional for e in entries):
        return None
    index = _sorted_before([e.key for e in entries], key)
    if index is None:
        return None
    before = entries[index - 1].last if index else site.key_line
    if before.trims_following:
        return None
    line = entries[index].line
    ending = before.newline or newline
    return Edit(line.start, line.start, " " * line.indent + entry_text + ending)


def _insert_into_flow(site: MappingSite, key: str, entry_text: str) -> Edit:
    assert site.flow is not None
    index = _sorted_before([item.key for item in site.flow.items], key)
    if index is not None:
        start = site.flow.items[index].start
        return Edit(start, start, entry_text + ", ")
    if not site.flow.items:
        return Edit(site.flow.open + 1, site.flow.open + 1, entry_text)
    last = site.flow.items[-1]
    return Edit(last.end, last.end, ", " + entry_text)


def _remove_from_flow(site: MappingSite, key: str) -> Edit:
    assert site.flow is not None
    items = site.flow.items
    index = next((i for i, item in enumerate(items) if item.key == key), None)
    if index is None:
        raise NotEditable(f"{key} is not written literally in {site.path}")
    if len(items) == 1:
        raise NotEditable(f"removing {key} would leave {site.path} empty")
    if index + 1 < len(items):
        return Edit(items[index].start, items[index + 1].start, "")
    return Edit(items[index - 1].end, items[index].end, "")



def explicit_selector(
    source: Outline, doc: Document, drop: Iterable[str], newline: str = "\n"
) -> tuple[Edit, list[str]]:
    """An edit writing `selector: matchLabels:` into `doc` just before its pod template's
    `template:` line, holding a copy of each always-rendered literal pod label line but those
    in `drop`; and the keys it writes.

    The edit re-writes the newline before `template:`, so an entry inserted at the start of
    the `template:` line (a component label) lands inside the new mapping, after the copies.
    """
    template = doc.pod_template_line
    pods = doc.sites.get("spec.template.metadata.labels")
    if template is None or pods is None:
        raise NotEditable("the pod template's labels are not written in the template")
    if pods.problem or pods.flow is not None:
        raise NotEditable(pods.problem or "the pod labels are a flow mapping")
    dropped = set(drop)
    copies = [
        e for e in pods.entries
        if not e.conditional and not e.generated and e.key is not None
        and e.key not in dropped and e.line is e.last
    ]
    if not copies:
        raise NotEditable("no stable pod label is written as a literal line to select on")
    index = next(i for i, line in enumerate(source.lines) if line.start == template.start)
    before = source.lines[index - 1] if index else None
    if before is None or before.trims_following:
        raise NotEditable("the line before `template:` ends with '-}}', which would join to it")
    indent = " " * template.indent
    lines = [f"{indent}selector:", f"{indent}  matchLabels:"]
    for entry in copies:
        start = entry.line.start + entry.line.indent
        lines.append(f"{indent}    {source.text[start : entry.line.end]}")
    block = before.newline + newline.join(lines) + newline
    return Edit(before.end, before.next_start, block), [str(e.key) for e in copies]


def selector_entry_insertion(doc: Document, key: str, value: str, newline: str = "\n") -> Edit:
    """`key: value` as the last entry of the selector `explicit_selector` writes into `doc`."""
    template = doc.pod_template_line
    assert template is not None
    line = f"{' ' * (template.indent + 4)}{yaml_scalar(key)}: {yaml_scalar(value)}{newline}"
    return Edit(template.start, template.start, line)
