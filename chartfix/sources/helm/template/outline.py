"""An outline of a template file: its YAML documents, their kinds, and the label mappings.

The scan is line-based and template-aware: actions never confuse it, because structure is read
from the masked text of each line (see `lines.py`) while control actions (`if`, `range`,
`with`, `end`) are tracked separately. Lines that only hold control actions, comments or blank
space are transparent: an `{{- if }}` at an odd indentation inside a label block does not end
the block. Nothing here edits; `edit.py` turns a `MappingSite` into a text splice.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field

from chartfix.sources.helm.template.lines import PLACEHOLDER, Line, split_lines

LABEL_PATHS = frozenset(
    {
        "metadata.labels",
        "spec.selector",
        "spec.selector.matchLabels",
        "spec.template.metadata.labels",
        "spec.jobTemplate.spec.template.metadata.labels",
        "spec.podSelector.matchLabels",
    }
)
"""The mappings chartfix reads and edits (Service selectors live at `spec.selector`)."""

_BLOCK_SCALAR = re.compile(r"^[|>][-+0-9]*\s*(#.*)?$")


@dataclass(frozen=True)
class Entry:
    """One line (or run of lines) inside a label mapping."""

    line: Line
    last: Line
    """The entry's last line (a value may continue on deeper-indented lines)."""
    key: str | None
    """The literal key; None when the key is templated or the line generates entries."""
    generated: bool
    """The line is an action (include, toYaml...) that renders to any number of entries."""
    conditional: bool
    """Inside an `if`/`with`/`range` opened within the mapping: not always rendered."""
    templated_key: bool = False

    @property
    def end(self) -> int:
        """End of the entry, after the newline of its last line."""
        return self.last.next_start


@dataclass(frozen=True)
class FlowItem:
    key: str | None
    start: int
    end: int


@dataclass(frozen=True)
class FlowMapping:
    """`{a: b, c: d}` on one line: positions of the braces and of each item."""

    open: int
    close: int
    items: tuple[FlowItem, ...]


@dataclass(frozen=True)
class MappingSite:
    """Where one label mapping (say `spec.selector.matchLabels`) is written in a template."""

    path: str
    key_line: Line
    key_indent: int
    entries: tuple[Entry, ...]
    flow: FlowMapping | None = None
    inline_generator: bool = False
    """The key's own line ends in an action that renders the entries:
    `matchLabels: {{- include "x.selectorLabels" . | nindent 6 }}`."""
    problem: str | None = None
    """Why this mapping cannot be edited safely, when it cannot."""

    @property
    def line(self) -> int:
        return self.key_line.number

    @property
    def entry_indent(self) -> int:
        """The column a new entry must start at so that it renders inside this mapping."""
        for entry in self.entries:
            if not entry.generated:
                return entry.line.indent
        if self.inline_generator:
            arg = self._inline_indent()
            if arg is not None:
                return arg
        for entry in self.entries:
            return entry.line.effective_indent
        return self.key_indent + 2

    def _inline_indent(self) -> int | None:
        for action in reversed(self.key_line.output_actions):
            arg = action.indent_argument()
            if arg is not None:
                return arg
        return None

    def literal_keys(self) -> set[str]:
        keys = {e.key for e in self.entries if e.key is not None}
        if self.flow:
            keys |= {i.key for i in self.flow.items if i.key is not None}
        return keys


@dataclass(frozen=True)
class Document:
    index: int
    start: int
    end: int
    kind: str | None
    """The literal `kind:`; None when templated or absent."""
    kind_line: int | None
    name_fragments: tuple[str, ...]
    """Literal pieces of `metadata.name` (the rest is templated), to match rendered objects."""
    in_range: bool
    """Written inside a `range`: one source renders many objects."""
    sites: dict[str, MappingSite]
    first_line: int
    in_define: bool = False
    """Written inside a `define` in this file: rendered wherever it is included."""
    name_value: str | None = None
    """The last action of `metadata.name` as written (`{{ $name }}`): what tells apart the
    objects one `range` renders, usable as a templated label value."""
    kinds: tuple[str, ...] = ()
    """Every kind the document may render: one `kind:` line per `if` branch, or the names a
    templated kind chooses from (`{{ ternary "StatefulSet" "Deployment" .x }}`)."""
    name_template: str | None = None
    """`metadata.name` as written, unquoted, each output action a PLACEHOLDER."""
    name_actions: tuple[str, ...] = ()
    """The inner text of those actions, in order."""
    pod_template_line: Line | None = None
    """The `template:` key line under `spec` (where an explicit selector goes before it)."""

    @property
    def renders_many(self) -> bool:
        """One edit here changes every object this source renders."""
        return self.in_range or self.in_define


@dataclass(frozen=True)
class Outline:
    text: str
    lines: list[Line]
    documents: tuple[Document, ...]

    def newline(self) -> str:
        """The file's own line ending, for inserted lines."""
        crlf = sum(1 for line in self.lines if line.newline == "\r\n")
        lf = sum(1 for line in self.lines if line.newline == "\n")
        return "\r\n" if crlf > lf else "\n"


def outline(text: str) -> Outline:
    """Outline a template (or plain YAML) file. Raises TemplateSyntaxError on bad actions."""
    lines = split_lines(text)
    return Outline(text, lines, tuple(_Scanner(text, lines).scan()))


# --- the scan -------------------------------------------------------------------------------


@dataclass
class _Key:
    indent: int
    name: str
    awaiting: bool
    """Its value is empty: children follow on the next lines."""


@dataclass
class _OpenSite:
    path: str
    line: Line
    key_indent: int
    base_depth: int
    flow: FlowMapping | None
    inline_generator: bool
    problem: str | None
    entries: list[Entry] = field(default_factory=list)
    entry_level: int | None = None

    def close(self) -> MappingSite:
        return MappingSite(
            self.path,
            self.line,
            self.key_indent,
            tuple(self.entries),
            self.flow,
            self.inline_generator,
            self.problem,
        )


@dataclass
class _DocBuilder:
    index: int
    start: int
    first_line: int
    kind: str | None = None
    kind_line: int | None = None
    name_fragments: tuple[str, ...] = ()
    in_range: bool = False
    sites: dict[str, MappingSite] = field(default_factory=dict)
    has_content: bool = False
    in_define: bool = False
    name_value: str | None = None
    kinds: list[str] = field(default_factory=list)
    name_template: str | None = None
    name_actions: tuple[str, ...] = ()
    pod_template_line: Line | None = None


class _Scanner:
    def __init__(self, text: str, lines: list[Line]) -> None:
        self.text = text
        self.lines = lines
        self.control: list[str] = []
        self.keys: list[_Key] = []
        self.open_sites: list[_OpenSite] = []
        self.scalar_indent: int | None = None
        self.documents: list[Document] = []
        self.doc = _DocBuilder(0, 0, 1)
        self.define_depth: int | None = None

    def scan(self) -> list[Document]:
        for line in self.lines:
            depth_before = len(self.control)
            min_depth, opens_before_output = self._track_control(line)
            if line.actions and line.actions[0].keyword == "define":
                if len(self.control) <= depth_before:
                    continue  # defined and closed on this one line: no document in it
                # A define's body is a document of its own: it renders wherever it is included.
                self._start_document(line, in_define=True)
                self.define_depth = depth_before
                continue
            if self.define_depth is not None and min_depth <= self.define_depth:
                self._start_document(line, in_define=False)
                self.define_depth = None
                continue
            self._close_sites_below(min_depth)
            self._structure(line, depth_before, opens_before_output)
        self._finish_document(len(self.text))
        return self.documents

    def _start_document(self, line: Line, in_define: bool) -> None:
        """Finish the current document before `line`; the next one starts after it."""
        self._finish_document(line.start)
        self.doc = _DocBuilder(len(self.documents), line.next_start, line.number + 1)
        self.doc.in_define = in_define

    # control flow ----------------------------------------------------------------------------

    def _track_control(self, line: Line) -> tuple[int, bool]:
        """Apply the line's control actions; return the lowest depth reached and whether a
        block opens on this line before its first output."""
        min_depth = len(self.control)
        seen_output = False
        opens_before_output = False
        for action in line.actions:
            if action.kind == "open":
                self.control.append(action.keyword)
                if not seen_output:
                    opens_before_output = True
            elif action.kind == "else":
                min_depth = min(min_depth, len(self.control) - 1)
            elif action.kind == "end":
                if self.control:
                    self.control.pop()
                min_depth = min(min_depth, len(self.control))
            elif action.produces_output:
                seen_output = True
        return min_depth, opens_before_output

    def _close_sites_below(self, depth: int) -> None:
        """An `end`/`else` of a block opened before a mapping's key closes the mapping."""
        while self.open_sites and depth < self.open_sites[-1].base_depth:
            self._close_site()

    def _close_site(self) -> None:
        site = self.open_sites.pop()
        self.doc.sites.setdefault(site.path, site.close())

    # structure ---------------------------------------------------------------------------

    def _structure(self, line: Line, depth_before: int, opens_before_output: bool) -> None:
        if line.cls == "separator":
            in_define = self.doc.in_define
            self._start_document(line, in_define)
            return
        if line.cls == "control":
            # An `else`/`end` of a block opened inside an outer site's entry belongs to that
            # entry: a line added after the entry must come after the block, not inside it.
            for site in self.open_sites[:-1]:
                if site.entries and depth_before > site.base_depth:
                    self._extend_site(site, line)
            return
        if line.cls in ("blank", "comment"):
            return
        if self.scalar_indent is not None:
            if line.indent > self.scalar_indent or (
                line.cls == "generator" and line.effective_indent > self.scalar_indent
            ):
                self._extend_entries(line, innermost=True)
                return
            self.scalar_indent = None
        self.doc.has_content = True
        if line.cls == "generator":
            self._generator_line(line, depth_before, opens_before_output)
        else:
            self._content_line(line, depth_before, opens_before_output)

    def _extend_entries(self, line: Line, innermost: bool) -> None:
        """`line` continues the last entry of the open sites (all, or all but the innermost):
        a block scalar's text, or the children of an entry that opened a nested mapping."""
        sites = self.open_sites if innermost else self.open_sites[:-1]
        for site in sites:
            if site.entries:
                self._extend_site(site, line)

    @staticmethod
    def _extend_site(site: _OpenSite, line: Line) -> None:
        site.entries[-1] = dataclasses.replace(site.entries[-1], last=line)

    def _generator_line(self, line: Line, depth_before: int, opens_before_output: bool) -> None:
        indent = line.effective_indent
        while self.open_sites and indent <= self.open_sites[-1].key_indent:
            self._close_site()
        if self.open_sites:
            self._extend_entries(line, innermost=False)
            site = self.open_sites[-1]
            site.entries.append(
                Entry(
                    line,
                    line,
                    None,
                    generated=True,
                    conditional=depth_before > site.base_depth or opens_before_output,
                )
            )

    def _content_line(self, line: Line, depth_before: int, opens_before_output: bool) -> None:
        indent = line.indent
        body = line.masked[indent:]
        while self.open_sites and indent <= self.open_sites[-1].key_indent:
            self._close_site()
        if self.open_sites and self._site_entry(line, body, depth_before, opens_before_output):
            return
        # An entry of a site may itself open a nested mapping (selector.matchLabels).
        is_item = body == "-" or body.startswith("- ")
        if is_item:
            while self.keys and (
                self.keys[-1].indent > indent
                or (self.keys[-1].indent == indent and not self.keys[-1].awaiting)
            ):
                self.keys.pop()
            self.keys.append(_Key(indent, "[]", awaiting=False))
            rest = body[1:]
            stripped = rest.lstrip(" ")
            indent = indent + 1 + (len(rest) - len(stripped))
            body = stripped
            if not body:
                return
        else:
            while self.keys and self.keys[-1].indent >= indent:
                self.keys.pop()

        key, value = _split_key(body)
        if key is None:
            return
        value = _strip_comment(value)
        self.keys.append(_Key(indent, key, awaiting=value == ""))
        if _BLOCK_SCALAR.match(value):
            self.scalar_indent = indent
        path = ".".join(k.name for k in self.keys)
        if path == "kind" and len(self.keys) == 1:
            self._kind(line, value)
        elif path == "spec.template":
            self.doc.pod_template_line = self.doc.pod_template_line or line
        elif path == "metadata.name":
            self._name(line, value)
        if path in LABEL_PATHS:
            self._open_site(line, path, indent, value, depth_before)
        if value.startswith("{") and _leads_to_labels(path):
            outer = _flow_mapping(self.text, line)
            if outer is not None:
                self._flow_sites(line, path, indent, outer)

    def _site_entry(
        self, line: Line, body: str, depth_before: int, opens_before_output: bool
    ) -> bool:
        """`line` as an entry of the innermost open site (or a continuation of its last
        entry: True, nothing more to read on the line)."""
        self._extend_entries(line, innermost=False)
        site = self.open_sites[-1]
        if site.entry_level is None:
            site.entry_level = line.indent
        if line.indent > site.entry_level and site.entries:
            self._extend_entries(line, innermost=True)  # continues the previous entry
            return True
        key, _ = _split_key(body)
        site.entries.append(
            Entry(
                line,
                line,
                None if key is None or PLACEHOLDER in key else key,
                generated=False,
                conditional=depth_before > site.base_depth or opens_before_output,
                templated_key=key is not None and PLACEHOLDER in key,
            )
        )
        return False

    def _kind(self, line: Line, value: str) -> None:
        """The document's top-level `kind:`: the kinds it may render."""
        templated = bool(line.actions)  # `kind: {{ if .x }}StatefulSet{{ else }}...`
        kinds = _kind_choices(self.text, line) if templated else [_unquote(value)]
        self.doc.kinds += [k for k in kinds if k not in self.doc.kinds]
        self.doc.kind = self.doc.kinds[0] if len(self.doc.kinds) == 1 else None
        if not kinds:  # `kind: {{ .Values.kind }}`: nothing literal to go by
            self.doc.kind = None
        self.doc.kind_line = self.doc.kind_line or line.number
        self.doc.in_range = self.doc.in_range or "range" in self.control

    def _name(self, line: Line, value: str) -> None:
        """The document's `metadata.name`: its literal fragments and the actions naming it."""
        unquoted = _unquote(value)
        self.doc.name_fragments = tuple(
            f for f in (p.strip() for p in unquoted.split(PLACEHOLDER)) if f
        )
        outputs = line.output_actions
        self.doc.name_template = unquoted
        self.doc.name_actions = tuple(a.inner for a in outputs)
        if outputs:
            self.doc.name_value = self.text[outputs[-1].start : outputs[-1].end]
        if not self.doc.name_fragments and len(outputs) == 1:
            self.doc.name_fragments = _printf_fragments(outputs[0].inner)
        self.doc.in_range = self.doc.in_range or "range" in self.control

    def _flow_sites(self, line: Line, path: str, indent: int, flow: FlowMapping) -> None:
        """Label maps written inside a flow mapping (`metadata: {labels: {app: demo}}`,
        `selector: {matchLabels: {...}}`): each a site edited like any flow mapping."""
        for item in flow.items:
            inner_path = f"{path}.{item.key}"
            if item.key is None or not (
                inner_path in LABEL_PATHS or _leads_to_labels(inner_path)
            ):
                continue
            inner = _flow_mapping(self.text, line, item.start)
            if inner is None or inner.close >= item.end:
                continue
            if inner_path in LABEL_PATHS:
                site = MappingSite(inner_path, line, indent, (), inner)
                self.doc.sites.setdefault(inner_path, site)
            self._flow_sites(line, inner_path, indent, inner)

    def _open_site(self, line: Line, path: str, indent: int, value: str, depth: int) -> None:
        flow = None
        inline = False
        problem = None
        if value.startswith("{"):
            flow = _flow_mapping(self.text, line)
            if flow is None:
                problem = "flow mapping not closed on its own line"
        elif value and set(value) <= {PLACEHOLDER, " "}:
            inline = True
            if not any(a.starts_new_line for a in line.output_actions):
                problem = (
                    f"{path.rsplit('.', 1)[-1]} is rendered on its key's line by an action "
                    "without nindent: a line below it would not belong to it"
                )
        elif value and value not in ("{}", "null", "~"):
            problem = f"value of {path.rsplit('.', 1)[-1]} is not a mapping in the template"
        site = _OpenSite(path, line, indent, depth, flow, inline, problem)
        if flow is not None or problem:
            self.doc.sites.setdefault(path, site.close())
        else:
            self.open_sites.append(site)

    def _finish_document(self, end: int) -> None:
        while self.open_sites:
            self._close_site()
        self.keys.clear()
        self.scalar_indent = None
        doc = self.doc
        if doc.has_content:
            self.documents.append(
                Document(
                    len(self.documents),
                    doc.start,
                    end,
                    doc.kind,
                    doc.kind_line,
                    doc.name_fragments,
                    doc.in_range,
                    doc.sites,
                    doc.first_line,
                    doc.in_define,
                    doc.name_value,
                    tuple(doc.kinds),
                    doc.name_template,
                    doc.name_actions,
                    doc.pod_template_line,
                )
            )


# --- small parsers ----------------------------------------------------------------------


def _split_key(body: str) -> tuple[str | None, str]:
    """`key: value` -> (key, value); (None, body) when the line holds no mapping key."""
    if not body or body[0] in "{[#&*!|>%@`":
        return None, body
    if body[0] in "\"'":
        quote = body[0]
        close = body.find(quote, 1)
        while quote == '"' and close > 0 and body[close - 1] == "\\":
            close = body.find(quote, close + 1)
        if close < 0 or not body[close + 1 :].startswith(":"):
            return None, body
        rest = body[close + 2 :]
        if rest and not rest[0].isspace():
            return None, body
        return body[1:close], rest.strip()
    pos = 0
    while True:
        colon = body.find(":", pos)
        if colon < 0:
            return None, body
        if colon + 1 == len(body) or body[colon + 1] in " \t":
            return body[:colon].rstrip(), body[colon + 1 :].strip()
        pos = colon + 1


_PRINTF = re.compile(r'^printf\s+"((?:[^"\\]|\\.)*)"')
_VERB = re.compile(r"%[-+# 0-9.]*[a-zA-Z%]")


def _printf_fragments(inner: str) -> tuple[str, ...]:
    """Literal pieces of `printf "%s-envoy-metrics" ...`: what every rendered name holds."""
    match = _PRINTF.match(inner)
    if match is None:
        return ()
    return tuple(p for p in _VERB.split(match.group(1)) if len(p) >= 3)


_KIND_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_QUOTED_KIND = re.compile(r'"([A-Z][A-Za-z0-9]*)"')


def _kind_choices(text: str, line: Line) -> list[str]:
    """The kinds a templated `kind:` line chooses from: literal words between its actions
    (`{{ if .x }}StatefulSet{{ else }}Deployment{{ end }}`) and quoted names inside them
    (`{{ ternary "DaemonSet" "Deployment" .x }}`); empty when none is written."""
    pieces = [text[a.end : b.start] for a, b in itertools.pairwise(line.actions)]
    pieces.append(text[line.actions[-1].end : line.end])
    words = [w for piece in pieces for w in piece.split() if _KIND_NAME.match(w)]
    for action in line.actions:
        words += _QUOTED_KIND.findall(action.inner)
    return list(dict.fromkeys(words))


def _strip_comment(value: str) -> str:
    if value.startswith("#"):
        return ""
    cut = value.find(" #")
    return value if cut < 0 or value[:1] in "\"'" else value[:cut].rstrip()


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _leads_to_labels(path: str) -> bool:
    return any(p.startswith(path + ".") for p in LABEL_PATHS)


def _flow_mapping(text: str, line: Line, after: int | None = None) -> FlowMapping | None:
    """Find `{...}` after the key on `line` (the first key at or after position `after`),
    skipping actions; None when not closed there."""
    chars = [c for c in _literal_chars(text, line) if after is None or c[0] >= after]
    colon = next(
        (i for i, (_, ch) in enumerate(chars) if ch == ":" and i + 1 < len(chars)
         and chars[i + 1][1] in " {"),
        None,
    )
    if colon is None:
        return None
    open_index = next((i for i in range(colon, len(chars)) if chars[i][1] == "{"), None)
    if open_index is None:
        return None
    depth = 0
    quote = ""
    items: list[FlowItem] = []
    item_start: int | None = None
    for i in range(open_index, len(chars)):
        pos, ch = chars[i]
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
            if depth == 1:
                item_start = None
                continue
        elif ch in "}]" or (ch == "," and depth == 1):
            if depth == 1 and item_start is not None:
                items.append(_flow_item(line, chars, item_start, i))
            if depth == 1:
                item_start = None  # a nested mapping's end is inside the item
            if ch != ",":
                depth -= 1
                if depth == 0:
                    return FlowMapping(chars[open_index][0], pos, tuple(items))
            continue
        if depth == 1 and item_start is None and ch not in " \t":
            item_start = i
    return None


def _flow_item(line: Line, chars: list[tuple[int, str]], first: int, stop: int) -> FlowItem:
    last = stop - 1
    while last > first and chars[last][1] in " \t":
        last -= 1
    start = chars[first][0]
    end_pos, end_ch = chars[last]
    end = end_pos + 1
    if end_ch == PLACEHOLDER:
        end = next(a.end for a in line.actions if a.start == end_pos)
    masked = "".join(ch for _, ch in chars[first : last + 1])
    key, _ = _split_key(masked)
    return FlowItem(None if key is None or PLACEHOLDER in key else key, start, end)


def _literal_chars(text: str, line: Line) -> list[tuple[int, str]]:
    """(position, char) of the line's literal text; each output action is one PLACEHOLDER."""
    out: list[tuple[int, str]] = []
    cursor = line.start
    for action in line.actions:
        out.extend((p, text[p]) for p in range(cursor, action.start))
        if action.produces_output:
            out.append((action.start, PLACEHOLDER))
        cursor = action.end
    out.extend((p, text[p]) for p in range(cursor, line.end))
    return out
