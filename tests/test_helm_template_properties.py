"""Properties of the template model over generated templates.

Templates are built from a grammar of the pieces real charts are made of (docs/domain.md §5):
YAML key lines, label blocks of literal entries, include/nindent lines, `if`/`with`/`range`/
`end` lines at odd indentation, comments holding arbitrary unicode, flow mappings, templated
keys and values, block scalars, `---` separators, CRLF or LF, a BOM, a final newline or not.
Every generated template is one Helm renders, so the last property asks Helm itself whether an
insertion changed exactly one label.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chartfix.files import decode, encode
from chartfix.sources.helm.template.edit import (
    NotEditable,
    apply_edits,
    insert_entry,
    replace_value,
)
from chartfix.sources.helm.template.lexer import TemplateSyntaxError
from chartfix.sources.helm.template.lines import split_lines
from chartfix.sources.helm.template.outline import MappingSite, outline

NEW_KEY = "app.kubernetes.io/component"

# Printable YAML characters, minus the ones that end a line for YAML 1.1 (NEL, LS, PS) and
# the braces and stars that would open template actions or close template comments.
UNICODE = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="{}*\ufeff\ufffe\uffff\u2028\u2029",
    ),
    max_size=10,
)

TEMPLATED_VALUES = (
    "{{ $.Release.Name }}",
    "{{ $.Values.tier | quote }}",
    '{{ "x}}y" | quote }}',
    "{{ `raw}}` | quote }}",
    '"{{ $.Release.Namespace }}-{{ $.Values.tier }}"',
)

HELPERS = """\
{{- define "demo.labels" -}}
app: demo
release: {{ .Release.Name }}
{{- end }}
"""

VALUES = {"on": True, "off": False, "tier": "api", "podLabels": {"team": "core"}}


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def values(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["plain", "unicode", "templated"]))
    if kind == "plain":
        return draw(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True))
    if kind == "unicode":
        return quoted(draw(UNICODE))
    return draw(st.sampled_from(TEMPLATED_VALUES))


@st.composite
def block_items(draw: st.DrawFn, entry: int) -> list[str]:
    """The lines of a block mapping whose entries start at column `entry`."""
    pad = st.integers(0, entry + 6)
    lines: list[str] = []
    pieces = draw(
        st.lists(
            st.sampled_from(
                ["literal", "include", "if", "with", "comment", "tcomment", "tkey", "blank"]
            ),
            max_size=6,
        )
    )
    for n, piece in enumerate(pieces):
        key = f"l{n}"
        if piece == "literal":
            lines.append(f"{' ' * entry}{key}: {draw(values())}")
        elif piece == "include":
            lines.append(f'{" " * draw(pad)}{{{{- include "demo.labels" $ | nindent {entry} }}}}')
        elif piece == "if":
            flag = draw(st.sampled_from(["on", "off"]))
            lines.append(f"{' ' * draw(pad)}{{{{- if $.Values.{flag} }}}}")
            lines.append(f"{' ' * entry}{key}: {draw(values())}")
            if draw(st.booleans()):
                lines.append(f"{' ' * draw(pad)}{{{{- else }}}}")
                lines.append(f"{' ' * entry}{key}: {draw(values())}")
            lines.append(f"{' ' * draw(pad)}{{{{- end }}}}")
        elif piece == "with":
            lines.append(
                f"{' ' * draw(pad)}{{{{- with $.Values.podLabels }}}}"
                f"{{{{ toYaml . | nindent {entry} }}}}{{{{- end }}}}"
            )
        elif piece == "comment":
            lines.append(f"{' ' * draw(pad)}# {draw(UNICODE)}")
        elif piece == "tcomment":
            lines.append(f"{' ' * draw(pad)}{{{{- /* {draw(UNICODE)} */}}}}")
        elif piece == "tkey":
            lines.append(f'{" " * entry}{{{{ $.Values.keyName | default "t{n}" }}}}: v')
        else:
            lines.append("")
    return lines


@st.composite
def mapping(draw: st.DrawFn, key: str, indent: int) -> list[str]:
    """`key:` at column `indent` and its label mapping in one of the shapes charts use."""
    head = " " * indent + key + ":"
    shape = draw(st.sampled_from(["block", "block", "block", "flow", "empty", "inline"]))
    if shape == "flow":
        items = [f"f{n}: {v}" for n, v in enumerate(draw(st.lists(values(), max_size=3)))]
        return [f"{head} {{{', '.join(items)}}}"]
    if shape == "empty":
        return [f"{head} {{}}"]
    if shape == "inline":
        return [f'{head} {{{{- include "demo.labels" $ | nindent {indent + 2} }}}}']
    return [head + draw(st.sampled_from(["", "  # labels"])), *draw(block_items(indent + 2))]


@st.composite
def document(draw: st.DrawFn, index: int) -> list[str]:
    kind = draw(st.sampled_from(["Deployment", "Service", "ConfigMap"]))
    ranged = draw(st.booleans())
    name = f"n{index}" + ("-{{ $i }}" if ranged else "")
    lines = ["{{- range $i := until 2 }}", "---"] if ranged else []
    lines += ["apiVersion: v1", f"kind: {kind}", "metadata:", f"  name: {name}"]
    lines += draw(mapping("labels", 2))
    if kind == "ConfigMap":
        lines += ["data:", "  text: |", "    labels:", "      fake: entry", "    selector: {}"]
    elif kind == "Service":
        lines += ["spec:", *draw(mapping("selector", 2)), "  ports:", "  - port: 80"]
    else:
        lines += ["spec:", "  selector:", *draw(mapping("matchLabels", 4))]
        lines += ["  template:", "    metadata:", *draw(mapping("labels", 6))]
        lines += ["    spec:", "      containers:", "      - name: c", "        image: i"]
    if ranged:
        lines.append("{{- end }}")
    return lines


@dataclass(frozen=True)
class Template:
    text: str
    newline: str


@st.composite
def templates(draw: st.DrawFn) -> Template:
    count = draw(st.integers(1, 3))
    lines: list[str] = ["---"] if draw(st.booleans()) else []
    for index in range(count):
        if index:
            lines.append(draw(st.sampled_from(["---", "--- # next"])))
        lines += draw(document(index))
    if draw(st.booleans()):
        lines = ["{{- if $.Values.on }}", *lines, "{{- end }}"]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    if draw(st.booleans()):
        text = "\ufeff" + text
    return Template(text, newline)


def sites_of(text: str) -> list[MappingSite]:
    return [site for doc in outline(text).documents for site in doc.sites.values()]


def insertion_into(text: str, site: MappingSite, newline: str) -> tuple[str, int, str] | None:
    """(new text, insertion position, inserted text), or None when the site refuses."""
    try:
        edit = insert_entry(site, NEW_KEY, "server", newline)
    except NotEditable:
        return None
    assert edit.is_insertion
    return apply_edits(text, [edit]), edit.start, edit.text


MAIN = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- (a) reading and writing back changes nothing ---------------------------------------------


@MAIN
@given(templates())
def test_outline_and_write_back_is_identity(template: Template) -> None:
    text = template.text
    out = outline(text)
    assert apply_edits(out.text, []) == text
    assert "".join(text[ln.start : ln.end] + ln.newline for ln in out.lines) == text
    assert out.newline() == template.newline
    assert all(ln.newline in ("\n", "\r\n", "") for ln in out.lines)
    assert [ln.newline for ln in out.lines].count("") == 1
    previous_end = 0
    for doc in out.documents:
        assert previous_end <= doc.start <= doc.end <= len(text)
        previous_end = doc.end


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_lines_rejoin_for_any_text(text: str) -> None:
    try:
        lines = split_lines(text)
    except TemplateSyntaxError:
        assume(False)
        return
    assert "".join(text[ln.start : ln.end] + ln.newline for ln in lines) == text
    assert [ln.number for ln in lines] == sorted({ln.number for ln in lines})


# --- (b) an insertion changes only the inserted line -----------------------------------------


@MAIN
@given(templates(), st.data())
def test_insertion_changes_only_the_inserted_line(template: Template, data: st.DataObject) -> None:
    text = template.text
    sites = sites_of(text)
    assume(sites)
    site = data.draw(st.sampled_from(sites))
    result = insertion_into(text, site, template.newline)
    assume(result is not None)
    assert result is not None
    new_text, at, inserted = result
    assert new_text[:at] + new_text[at + len(inserted) :] == text
    if site.flow is not None:
        # at the end, or before the first key sorting after it when the keys are sorted
        assert inserted in (f"{NEW_KEY}: server", f", {NEW_KEY}: server", f"{NEW_KEY}: server, ")
        return
    line = " " * site.entry_indent + f"{NEW_KEY}: server"
    if text.endswith("\n") or at < len(text):
        assert inserted == line + template.newline
        assert at == 0 or text[at - 1] == "\n"
    else:  # after the last line of a file without a final newline
        assert inserted == template.newline + line
        assert at == len(text)
    # The new text still outlines the same way, with the new key in the same mapping.
    after = {(s.path, s.line): s for s in sites_of(new_text)}
    again = after[(site.path, site.line)]
    assert again.literal_keys() == site.literal_keys() | {NEW_KEY}
    assert len(again.entries) == len(site.entries) + 1


@st.composite
def selector_last(draw: st.DrawFn) -> Template:
    """A Service whose selector of literal entries ends the file, with or without a final
    newline: the new key goes after the last line or, keys sorted, before any of them."""
    keys = draw(st.lists(st.from_regex(r"[a-z][a-z0-9.]{0,6}", fullmatch=True), min_size=1,
                         max_size=4, unique=True))
    if draw(st.booleans()):
        keys.sort()
    lines = ["kind: Service", "spec:", "  ports:", "  - port: 80", "  selector:"]
    lines += [f"    {key}: {draw(values())}" for key in keys]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return Template(newline.join(lines) + (newline if draw(st.booleans()) else ""), newline)


@MAIN
@given(selector_last())
def test_an_insertion_at_the_end_of_the_file_keeps_its_ending(template: Template) -> None:
    """Every line of the result ends with the file's newline but the last, which ends as the
    file did: the new line is never joined to a neighbour, a missing final newline stays
    missing."""
    text = template.text
    site = next(s for s in sites_of(text) if s.path == "spec.selector")
    result = insertion_into(text, site, template.newline)
    assume(result is not None)
    assert result is not None
    new_text, at, inserted = result
    assert new_text[:at] + new_text[at + len(inserted):] == text
    lines = new_text.split(template.newline)
    assert f"    {NEW_KEY}: server" in lines
    assert new_text.endswith(template.newline) == text.endswith(template.newline)
    assert len(lines) == len(text.split(template.newline)) + 1


# --- (c) bytes survive decoding -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_bytes_round_trip_through_decode_and_encode(data: bytes) -> None:
    assert encode(decode(data)) == data


@settings(max_examples=100, deadline=None)
@given(templates(), st.binary(max_size=8))
def test_undecodable_bytes_in_a_template_survive_an_edit(template: Template, junk: bytes) -> None:
    raw = encode(template.text) + b"\n# " + junk.replace(b"{", b"(").replace(b"\n", b" ")
    text = decode(raw)
    sites = sites_of(text)
    assume(sites)
    result = insertion_into(text, sites[0], template.newline)
    assume(result is not None)
    assert result is not None
    new_text, at, inserted = result
    new_raw = encode(new_text)
    cut = len(encode(new_text[:at]))
    assert new_raw[:cut] + new_raw[cut + len(encode(inserted)) :] == raw


# --- (d) Helm agrees: exactly one label more -----------------------------------------------------


def render(chart: Path, template: str) -> list[dict[str, Any]]:
    (chart / "templates" / "t.yaml").write_text(template, encoding="utf-8", newline="")
    rendered = helm_python.Chart.load(chart).render(
        VALUES, name="rel", namespace="ns", is_install=True
    )
    return [
        obj
        for text in rendered.values()
        for obj in yaml.safe_load_all(text)
        if isinstance(obj, dict)
    ]


def pop_label(obj: dict[str, Any], path: str) -> object:
    """Remove the inserted label at `path`; a mapping left empty reads as an empty value."""
    *parents, last = path.split(".")
    node: Any = obj
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    labels = node.get(last) if isinstance(node, dict) else None
    if not isinstance(labels, dict) or NEW_KEY not in labels:
        return None
    value = labels.pop(NEW_KEY)
    if not labels:
        node[last] = None
    return value


def empty_as_none(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`labels: {}` and `labels:` render alike for Kubernetes; the test compares them alike."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()} or None
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return [walk(obj) for obj in objects]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates(), st.data())
def test_helm_renders_exactly_one_more_label(template: Template, data: st.DataObject) -> None:
    text = template.text
    out = outline(text)
    targets = [(doc, site) for doc in out.documents for site in doc.sites.values()]
    assume(targets)
    doc, site = data.draw(st.sampled_from(targets))
    result = insertion_into(text, site, out.newline())
    assume(result is not None)
    assert result is not None
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp)
        (chart / "templates").mkdir()
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
        (chart / "templates" / "_helpers.tpl").write_text(HELPERS)
        before = render(chart, text)
        after = render(chart, result[0])
    assert len(after) == len(before)
    changed = [obj["metadata"]["name"] for obj in after if pop_label(obj, site.path) == "server"]
    prefix = f"n{doc.index}"
    assert changed and all(name.split("-")[0] == prefix for name in changed)
    assert len(changed) == (2 if doc.in_range else 1)
    assert empty_as_none(after) == empty_as_none(before)


# --- (e) replacing a value changes that value alone --------------------------------------------

NEW_VALUES = st.sampled_from(["probe", "yes", "a b", "1.0", "x:y", "it's", 'say "hi"'])
"""Role values a recipe writes, with the ones YAML would read as something else or that
need quotes (a bool, a float, a space, a colon, quotes of either kind)."""


@st.composite
def flow_items(draw: st.DrawFn) -> list[str]:
    """Items of a flow mapping as charts write them: plain, single- or double-quoted keys;
    `: `, ` : ` or (after a quoted key) a bare `:`; plain values holding a space, a colon or
    a hash that are not indicators there, quoted values, templated ones."""
    items = []
    for n in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from([f"k{n}", f'"k{n}"', f"'k{n}'", f"app.kubernetes.io/k{n}"]))
        colon = draw(st.sampled_from([": ", " : ", ":"] if key[0] in "\"'" else [": ", " : "]))
        value = draw(st.sampled_from([
            "server", "two words", "a:b", "a#b", "'single'", '"double"', "''", '"x, y"',
            "{{ $.Release.Name }}", '"{{ $.Values.tier }}-x"', "yes",
        ]))
        items.append(f"{key}{colon}{value}")
    return items


@st.composite
def flow_templates(draw: st.DrawFn) -> Template:
    items = draw(flow_items())
    inside = ", ".join(items) + draw(st.sampled_from(["", ",", " "]))
    pad = draw(st.sampled_from(["", " "]))
    tail = draw(st.sampled_from(["", "  # labels", " {{- /* c */}}"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: p",
             f"  labels: {{{pad}{inside}{pad}}}{tail}",
             "spec:", "  containers:", "  - name: c", "    image: i"]
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return Template(text, newline)


def replacement(
    text: str, site: MappingSite, key: str, value: str
) -> tuple[str, int, int, str] | None:
    """(new text, start, end in the old text, text written), or None when the site refuses."""
    try:
        edit = replace_value(text, site, key, value)
    except NotEditable:
        return None
    return apply_edits(text, [edit]), edit.start, edit.end, edit.text


def check_replacement(text: str, data: st.DataObject) -> tuple[MappingSite, str, str, str]:
    targets = [(s, k) for s in sites_of(text) for k in sorted(s.literal_keys())]
    assume(targets)
    site, key = data.draw(st.sampled_from(targets))
    value = data.draw(NEW_VALUES)
    result = replacement(text, site, key, value)
    assume(result is not None)
    assert result is not None
    new_text, start, end, written = result
    # every byte outside the old value stays; the old value was the literal one
    assert new_text[:start] == text[:start]
    assert new_text[start + len(written):] == text[end:]
    assert "{{" not in text[start:end] and "\n" not in text[start:end]
    assert yaml.safe_load(written) == value
    # it still outlines the same way: same mapping, same keys
    again = {(s.path, s.line): s for s in sites_of(new_text)}[(site.path, site.line)]
    assert again.literal_keys() == site.literal_keys()
    return site, key, value, new_text


@MAIN
@given(templates(), st.data())
def test_replacing_a_value_changes_only_that_value(template: Template, data: st.DataObject) -> None:
    check_replacement(template.text, data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_templates(), st.data())
def test_helm_renders_the_flow_value_replaced_and_nothing_else(
    template: Template, data: st.DataObject
) -> None:
    text = template.text
    _, key, value, new_text = check_replacement(text, data)
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp)
        (chart / "templates").mkdir()
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
        before = render(chart, text)
        after = render(chart, new_text)
    (old,), (new,) = before, after
    assert new["metadata"]["labels"][key] == value
    new["metadata"]["labels"][key] = old["metadata"]["labels"][key]
    assert new == old
