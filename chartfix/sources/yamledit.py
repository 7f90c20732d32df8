"""Edits to plain YAML: text splices at the positions ruamel.yaml's parser reports.

Shared by the source kinds that edit YAML as written: labels of plain manifests and
kustomize overlays, a chart's values.yaml (`set_plain`: a toggle turned on).

Re-dumping a round-tripped document changes formatting (indentation of sequences, line
width, quoting ruamel cannot remember), so nothing here dumps. ruamel's composer gives
every node of a document its start and end (character offset, line, column) and keeps an
alias as the very node its anchor names; from those we find a label map and compute an
`Edit(start, end, text)` that touches only the bytes of the new or changed entry. Every
other byte of the file (comments, quoting, key order, flow style, anchors, document
separators, CRLF, a BOM, a missing final newline) stays as it was.

A label map written once and used in several places through an alias (`labels: &l {...}`,
`matchLabels: *l`) can only be edited where its anchor is, which changes every place: that
is allowed when every place is meant to get the same label, and refused with the reason
otherwise.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chartfix.model.edits import Edit, NotEditable
from chartfix.sources.base import splice, yaml_scalar

MERGE_TAG = "tag:yaml.org,2002:merge"

@dataclass(frozen=True)
class Entry:
    """One `key: value` pair of a mapping, by position in the text."""

    key: str
    key_start: int
    value_start: int
    value_end: int
    quoted: str
    """The value's quote character (`"` or `'`), empty when plain."""


@dataclass
class MapSite:
    """A mapping of one document, at a dotted path, as written."""

    path: str
    node: MappingNode
    entries: list[Entry]
    merged: frozenset[str] = frozenset()
    """Keys the mapping takes from `<<: *anchor` merges (present, but not written here)."""
    sources: tuple[MappingNode, ...] = ()
    """The mappings those merges name, in the order they count (the first one wins)."""
    places: tuple[str, ...] = ()
    """Every dotted path of the document where this very node appears (aliases)."""

    @property
    def flow(self) -> bool:
        return bool(self.node.flow_style)

    def keys(self) -> set[str]:
        return {e.key for e in self.entries} | set(self.merged)

    def entry(self, key: str) -> Entry | None:
        found = [e for e in self.entries if e.key == key]
        return found[-1] if found else None


@dataclass(frozen=True)
class LabelRequest:
    """Add (or set) `key: value` in the mapping at `path` of document `doc` (counted among the
    file's non-empty documents)."""

    doc: int
    path: str
    key: str
    value: str


@dataclass
class YamlText:
    """One file's text and ruamel's node tree of its non-empty documents."""

    text: str
    name: str = "<yaml>"
    _paths: dict[int, dict[Node, list[str]]] = field(default_factory=dict, repr=False)

    @cached_property
    def documents(self) -> list[Node]:
        try:
            nodes = _compose(self.text)
        except YAMLError as err:
            why = _first_line(err)
            raise NotEditable(f"{self.name}: not parsed by ruamel.yaml: {why}") from err
        except Exception as err:  # the reader refuses some characters (control, surrogates)
            raise NotEditable(f"{self.name}: not parsed by ruamel.yaml: {err}") from err
        return [n for n in nodes if n is not None and not _is_null(n)]

    @cached_property
    def newline(self) -> str:
        at = self.text.find("\n")
        return "\r\n" if at > 0 and self.text[at - 1] == "\r" else "\n"

    def node_at(self, doc: int, path: str) -> Node | None:
        node: Node | None = self.documents[doc]
        for part in _parts(path):
            node = _child(node, part) if isinstance(node, MappingNode) else None
            if node is None:
                return None
        return node

    def site(self, doc: int, path: str) -> MapSite | None:
        """The mapping at `path` in document `doc`; None when there is none there."""
        node = self.node_at(doc, path)
        if not isinstance(node, MappingNode):
            return None
        entries = []
        for key, value in node.value:
            if key.tag == MERGE_TAG:
                continue
            if not isinstance(key, ScalarNode):
                continue
            scalar = isinstance(value, ScalarNode) and value.style in ("\"", "'")
            quoted = value.style if scalar else ""
            entries.append(
                Entry(
                    str(key.value),
                    key.start_mark.index,
                    value.start_mark.index,
                    value.end_mark.index,
                    quoted or "",
                )
            )
        places = tuple(self._places(doc).get(node, [path]))
        sources = _merge_sources(node)
        merged = {k for source in sources for k in _keys(source)}
        return MapSite(path, node, entries, frozenset(merged), tuple(sources), places)

    def _places(self, doc: int) -> dict[Node, list[str]]:
        """Each node of document `doc` -> every dotted path where it appears (more than one:
        an alias)."""
        if doc not in self._paths:
            found: dict[Node, list[str]] = defaultdict(list)
            for path, node in _walk(self.documents[doc], "", 0):
                found[node].append(path)
            self._paths[doc] = found
        return self._paths[doc]


def label_edits(yaml_text: YamlText, requests: Sequence[LabelRequest]) -> list[Edit]:
    """The splices that give each requested mapping its label, one per mapping as written.

    A mapping reached through aliases is written once: its edit changes every place it
    appears, so every place must be requested with the same label, or NotEditable says
    which place would change too. A mapping that takes the label through a `<<` merge of a
    mapping this same call gives it needs no edit of its own (the label would be written
    twice). A label already there with the requested value needs no edit; with another
    value it is replaced. A missing mapping is written in, in the shape of its parent (block
    or flow).
    """
    by_node: dict[tuple[int, MappingNode, str], list[LabelRequest]] = defaultdict(list)
    missing: list[LabelRequest] = []
    for request in requests:
        site = yaml_text.site(request.doc, request.path)
        if site is None:
            missing.append(request)
            continue
        by_node[(request.doc, site.node, request.key)].append(request)
    given = {
        (doc, node, key): {r.value for r in asked} for (doc, node, key), asked in by_node.items()
    }
    edits: list[Edit] = []
    for (doc, _, key), asked in by_node.items():
        site = yaml_text.site(doc, asked[0].path)
        assert site is not None
        values = {r.value for r in asked}
        if site.entry(key) is None and any(
            given.get((doc, source, key)) == values for source in site.sources
        ):
            continue  # the merge brings it
        if len(values) > 1:
            raise NotEditable(
                f"{yaml_text.name}: {key} is asked with different values at "
                f"{', '.join(r.path for r in asked)}, which share one mapping"
            )
        unasked = [p for p in site.places if p not in {r.path for r in asked}]
        if unasked:
            raise NotEditable(
                f"{yaml_text.name}:{site.node.start_mark.line + 1}: the label map at "
                f"{asked[0].path} is shared through an alias with {', '.join(unasked)}, which "
                "must not change: write it out there instead of the alias"
            )
        edit = set_entry(yaml_text, site, key, values.pop())
        if edit is not None:
            edits.append(edit)
    seen: set[tuple[int, str, str]] = set()
    for request in missing:
        if (request.doc, request.path, request.key) in seen:
            continue
        seen.add((request.doc, request.path, request.key))
        edits.append(create_mapping(yaml_text, request))
    return edits


def set_entry(yaml_text: YamlText, site: MapSite, key: str, value: str) -> Edit | None:
    """The edit that makes `site` hold `key: value`: None when it already does, a new value
    in the old one's quoting when the key is written with another value, else a new entry."""
    entry = site.entry(key)
    if entry is not None:
        node = _child(site.node, key)
        if isinstance(node, ScalarNode) and str(node.value) == value:
            return None
        if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
            raise NotEditable(f"{yaml_text.name}: {key} in {site.path} is not a plain value")
        return Edit(entry.value_start, entry.value_end, _in_quotes(value, entry.quoted))
    if key in site.merged:
        merged = _merged_child(site, key)
        if isinstance(merged, ScalarNode) and str(merged.value) == value:
            return None
        raise NotEditable(
            f"{yaml_text.name}: {key} in {site.path} comes from a `<<` merge; set it there"
        )
    return insert_entry(yaml_text, site, key, value)


def insert_entry(
    yaml_text: YamlText, site: MapSite, key: str, value: str, written: bool = False
) -> Edit:
    """A new `key: value` entry in the mapping at `site`, in its style (`value` a string,
    quoted where YAML would read it as another type; `written`: YAML text written as is).

    Flow mappings get `, key: value` (or `key: value, ` in sorted place); block mappings a
    line at the entries' indentation, after the last entry or, where the written keys are in
    alphabetical order (two or more), in its sorted place.
    """
    text = yaml_text.text
    entry_text = f"{yaml_scalar(key)}: {value if written else yaml_scalar(value)}"
    entries = site.entries
    index = _sorted_before([e.key for e in entries], key)
    if site.flow:
        if index is not None:
            start = entries[index].key_start
            return Edit(start, start, entry_text + ", ")
        if not entries:
            brace = text.find("{", site.node.start_mark.index, site.node.end_mark.index)
            if brace < 0:
                raise NotEditable(f"{yaml_text.name}: no '{{' at {site.path}")
            return Edit(brace + 1, brace + 1, entry_text)
        return Edit(entries[-1].value_end, entries[-1].value_end, ", " + entry_text)
    if not entries:
        raise NotEditable(f"{yaml_text.name}: {site.path} has no entry written to follow")
    indent = _column(text, entries[0].key_start)
    if indent is None:
        raise NotEditable(
            f"{yaml_text.name}: the first key of {site.path} does not start its line"
        )
    if index is not None:
        line_start = text.rfind("\n", 0, entries[index].key_start) + 1
        if _column(text, entries[index].key_start) != indent:
            raise NotEditable(f"{yaml_text.name}: uneven indentation in {site.path}")
        return Edit(line_start, line_start, " " * indent + entry_text + yaml_text.newline)
    last = entries[-1]
    end = _line_end(text, _last_leaf_end(_child(site.node, last.key), last.value_end))
    if end == len(text) and not text.endswith("\n"):
        return Edit(end, end, yaml_text.newline + " " * indent + entry_text)
    return Edit(end, end, " " * indent + entry_text + yaml_text.newline)


def set_plain(yaml_text: YamlText, doc: int, path: str, value: str) -> Edit | None:
    """The edit that makes the value at dotted `path` of document `doc` the plain scalar
    `value`, YAML text as written (`true`): the old scalar's bytes replaced, ` true` after a
    `key:` with no value, else a new entry in the parent mapping (which must exist). None
    when it holds `value` already. NotEditable when the old value is no plain scalar, or
    when the edited text would not read back with `value` there."""
    parts = _parts(path)
    parent = yaml_text.site(doc, ".".join(parts[:-1])) if len(parts) > 1 else _root_site(
        yaml_text, doc
    )
    key = parts[-1]
    where = f"{yaml_text.name}: {path}"
    if parent is None:
        raise NotEditable(f"{where}: {'.'.join(parts[:-1]) or 'the document'} is no mapping")
    entry = parent.entry(key)
    node = _child(parent.node, key)
    if entry is None:
        if key in parent.merged:
            raise NotEditable(f"{where} comes from a `<<` merge; set it there")
        edit = insert_entry(yaml_text, parent, key, value, written=True)
    elif not isinstance(node, ScalarNode) or node.style:
        raise NotEditable(f"{where} is not a plain value")
    elif str(node.value) == value:
        return None
    elif entry.value_start == entry.value_end:  # `key:` and nothing: null
        key_end = max(
            k.end_mark.index for k, _ in parent.node.value
            if isinstance(k, ScalarNode) and str(k.value) == key
        )
        colon = len(yaml_text.text[key_end:]) - len(yaml_text.text[key_end:].lstrip(" "))
        if yaml_text.text[key_end + colon : key_end + colon + 1] != ":":
            raise NotEditable(f"{where}: no `:` follows the key")
        edit = Edit(key_end + colon + 1, key_end + colon + 1, " " + value)
    else:
        edit = Edit(entry.value_start, entry.value_end, value)
    after = YamlText(splice(yaml_text.text, [edit]), yaml_text.name)
    reread = after.node_at(doc, path)
    if not isinstance(reread, ScalarNode) or str(reread.value) != value:
        raise NotEditable(f"{where} does not read back as {value} after the edit")
    return edit


def create_mapping(yaml_text: YamlText, request: LabelRequest) -> Edit:
    """Write the missing mapping at `request.path` holding the one label, under the deepest
    mapping that exists (`selector:\\n  matchLabels:\\n    component: server` under
    `spec`), as that mapping's first entry so it never lands after a trailing comment."""
    parts = _parts(request.path)
    for depth in range(len(parts) - 1, -1, -1):
        parent_path = ".".join(parts[:depth])
        parent = yaml_text.site(request.doc, parent_path) if depth else _root_site(
            yaml_text, request.doc
        )
        if parent is None:
            if depth and yaml_text.node_at(request.doc, parent_path) is not None:
                raise NotEditable(
                    f"{yaml_text.name}: {parent_path} is not a mapping; cannot add {request.path}"
                )
            continue
        unasked = [p for p in parent.places if p != (parent_path or parent.path)]
        if unasked:
            raise NotEditable(
                f"{yaml_text.name}: {parent_path} is shared through an alias with "
                f"{', '.join(unasked)}; cannot add {request.path} to one of them"
            )
        missing = parts[depth:]
        leaf = f"{yaml_scalar(request.key)}: {yaml_scalar(request.value)}"
        if parent.flow:
            nested = leaf
            for part in reversed(missing):
                nested = f"{yaml_scalar(part)}: {{{nested}}}"
            nested = nested[len(yaml_scalar(missing[0])) + 2 :]  # the first key's value
            return insert_entry_text(yaml_text, parent, missing[0], nested)
        if not parent.entries:
            raise NotEditable(f"{yaml_text.name}: {parent_path or 'the document'} is empty")
        text = yaml_text.text
        first = parent.entries[0]
        indent = _column(text, first.key_start)
        if indent is None:
            raise NotEditable(
                f"{yaml_text.name}: the first key of {parent_path or 'the document'} does "
                "not start its line"
            )
        step = _indent_step(yaml_text, request.doc) or 2
        lines = []
        for level, part in enumerate(missing):
            lines.append(" " * (indent + level * step) + f"{yaml_scalar(part)}:")
        lines.append(" " * (indent + len(missing) * step) + leaf)
        line_start = text.rfind("\n", 0, first.key_start) + 1
        block = yaml_text.newline.join(lines) + yaml_text.newline
        return Edit(line_start, line_start, block)
    raise NotEditable(f"{yaml_text.name}: document {request.doc} is not a mapping")


def insert_entry_text(yaml_text: YamlText, site: MapSite, key: str, value_text: str) -> Edit:
    """A flow mapping's new `key: VALUE_TEXT` item, after its last item."""
    item = f"{yaml_scalar(key)}: {value_text}"
    if not site.entries:
        brace = yaml_text.text.find("{", site.node.start_mark.index, site.node.end_mark.index)
        return Edit(brace + 1, brace + 1, item)
    return Edit(site.entries[-1].value_end, site.entries[-1].value_end, ", " + item)


def remove_entry(yaml_text: YamlText, site: MapSite, key: str) -> Edit:
    """An edit deleting `key` from the mapping at `site` (its whole line, in a block map)."""
    entry = site.entry(key)
    if entry is None:
        raise NotEditable(f"{yaml_text.name}: {key} is not written in {site.path}")
    if len(site.entries) == 1:
        raise NotEditable(f"{yaml_text.name}: removing {key} would leave {site.path} empty")
    text = yaml_text.text
    index = site.entries.index(entry)
    if site.flow:
        if index + 1 < len(site.entries):
            return Edit(entry.key_start, site.entries[index + 1].key_start, "")
        return Edit(site.entries[index - 1].value_end, entry.value_end, "")
    if _column(text, entry.key_start) is None:
        raise NotEditable(f"{yaml_text.name}: {key} in {site.path} does not start its line")
    start = text.rfind("\n", 0, entry.key_start) + 1
    end = _line_end(text, entry.value_end)
    if end == len(text) and not text.endswith("\n"):
        start = max(0, start - len(yaml_text.newline))  # keep the missing final newline
    return Edit(start, end, "")


# --- helpers ---------------------------------------------------------------------------------


def _compose(text: str) -> list[Node]:
    """ruamel's node trees of `text`'s documents.

    ruamel.yaml refuses a tab where libyaml and kubectl accept one as a separator (`app:\tweb`,
    `web\t# comment`); such a file is composed from a copy with each tab made a space. The
    copy has the same length, so every position is the original's, and the edits splice
    the original text; only a scalar holding a tab reads differently in the copy, and a
    label key or value cannot hold one."""
    try:
        return list(YAML(typ="rt").compose_all(text))
    except YAMLError:
        if "\t" in text:
            with contextlib.suppress(YAMLError):
                return list(YAML(typ="rt").compose_all(text.replace("\t", " ")))
        raise


def _parts(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def _root_site(yaml_text: YamlText, doc: int) -> MapSite | None:
    return yaml_text.site(doc, "")


def _child(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    found = None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.tag != MERGE_TAG and str(k.value) == key:
            found = v  # the last one wins, as for every YAML loader chartfix uses
    return found


def _merge_sources(node: MappingNode, depth: int = 0) -> list[MappingNode]:
    """The mappings `node`'s `<<` merges bring, in the order they count (`<<: [*a, *b]`: a
    key of `a` wins over `b`'s), a merged mapping's own merges after it."""
    found: list[MappingNode] = []
    for key, value in node.value:
        if key.tag != MERGE_TAG or depth > 16:
            continue
        for source in value.value if isinstance(value, SequenceNode) else [value]:
            if isinstance(source, MappingNode):
                found += [source, *_merge_sources(source, depth + 1)]
    return found


def _keys(node: MappingNode) -> set[str]:
    return {
        str(k.value) for k, _ in node.value if isinstance(k, ScalarNode) and k.tag != MERGE_TAG
    }


def _merged_child(site: MapSite, key: str) -> Node | None:
    """The value `key` takes in `site` through its merges."""
    for source in site.sources:
        if key in _keys(source):
            return _child(source, key)
    return None


def repeated_keys(text: YamlText) -> dict[tuple[int, str, str], str]:
    """Every key a mapping holds twice, by (document, path, key), and what to say about it:
    written twice (the reader keeps one, kubectl refuses the file), or written and also
    brought by the mapping's `<<` merge (the written one counts; a fix that leaves such a
    pair makes a reader guess)."""
    found: dict[tuple[int, str, str], str] = {}
    for doc, root in enumerate(text.documents):
        for path, node in _walk(root, "", 0):
            if not isinstance(node, MappingNode):
                continue
            where = path or "the document"
            seen: set[str] = set()
            merged = {k for source in _merge_sources(node) for k in _keys(source)}
            for key, _ in node.value:
                if not isinstance(key, ScalarNode) or key.tag == MERGE_TAG:
                    continue
                name, line = str(key.value), key.start_mark.line + 1
                if name in seen:
                    message = f"{name} written twice in {where} (line {line})"
                elif name in merged:
                    message = (
                        f"{name} is written in {where} (line {line}) and also comes from its "
                        "`<<` merge"
                    )
                else:
                    seen.add(name)
                    continue
                found.setdefault((doc, path, name), message)
                seen.add(name)
    return found


def _walk(node: Node, path: str, depth: int) -> Iterator[tuple[str, Node]]:
    """Every (dotted path, node) of a document; an aliased node once per place."""
    yield path, node
    if depth > 64:
        return
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag != MERGE_TAG:
                sub = f"{path}.{key.value}" if path else str(key.value)
                yield from _walk(value, sub, depth + 1)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, f"{path}[{i}]", depth + 1)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and str(node.tag).endswith(":null")


def _column(text: str, offset: int) -> int | None:
    """The column of `offset` when only spaces precede it on its line, else None."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset].lstrip("\ufeff")
    return len(before) if before.strip(" ") == "" else None


def _line_end(text: str, offset: int) -> int:
    """Just past the newline ending the line that holds `offset` (a block scalar or block
    collection ends at a line start already: that is the end)."""
    if offset > 0 and text[offset - 1] == "\n":
        return offset
    at = text.find("\n", offset)
    return len(text) if at < 0 else at + 1


def _last_leaf_end(node: Node | None, default: int) -> int:
    """Where the last written value under `node` ends (a block collection's own end mark can
    lie past the comments and blank lines that follow it)."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    if node is None:
        return default
    return int(node.end_mark.index)


def _indent_step(yaml_text: YamlText, doc: int) -> int | None:
    """How far a nested block mapping is indented in this document (2 by convention)."""
    for _, node in _walk(yaml_text.documents[doc], "", 0):
        if isinstance(node, MappingNode) and not node.flow_style:
            for _, value in node.value:
                if isinstance(value, MappingNode) and not value.flow_style and value.value:
                    outer = _column(yaml_text.text, node.value[0][0].start_mark.index)
                    inner = _column(yaml_text.text, value.value[0][0].start_mark.index)
                    if outer is not None and inner is not None and inner > outer:
                        return inner - outer
    return None


def _sorted_before(keys: Sequence[str], key: str) -> int | None:
    """Where `key` goes among `keys` when they are (two or more and) in sorted order."""
    if len(keys) < 2 or list(keys) != sorted(keys):
        return None
    for i, existing in enumerate(keys):
        if existing > key:
            return i
    return None


def _in_quotes(value: str, quote: str) -> str:
    """`value` as YAML in the quoting the old value used (plain when it was plain and the
    value reads back as a string that way)."""
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    if quote == '"':
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return yaml_scalar(value)


def _first_line(err: Any) -> str:
    return " ".join(str(err).split())[:200]
