"""Edits as before/after pairs: `assert apply(before) == after`, both written out in full.

Every pair shows one shape of docs/domain.md §5. A reader sees the behaviour, byte for byte,
without reading the implementation; any change to a byte outside the edit fails the test.
"""

from __future__ import annotations

import pytest
import yaml

from chartfix.sources.helm.template.edit import (
    Edit,
    NotEditable,
    apply_edits,
    entry_after,
    insert_entry,
    omit_included_key,
    remove_entry,
    yaml_scalar,
)
from chartfix.sources.helm.template.lexer import lex
from chartfix.sources.helm.template.lines import split_lines
from chartfix.sources.helm.template.outline import MappingSite, outline

COMPONENT = "app.kubernetes.io/component"


def site_of(text: str, path: str, doc: int = 0) -> MappingSite:
    return outline(text).documents[doc].sites[path]


def insert(text: str, path: str, key: str = COMPONENT, value: str = "server", doc: int = 0) -> str:
    """Insert `key: value` into the site at `path`, with the file's own newline."""
    out = outline(text)
    edit = insert_entry(out.documents[doc].sites[path], key, value, out.newline())
    return apply_edits(text, [edit])


def remove(text: str, path: str, key: str, doc: int = 0) -> str:
    return apply_edits(text, [remove_entry(site_of(text, path, doc), key)])


# --- insert_entry: block mappings ----------------------------------------------------------


def test_insert_after_literal_lines() -> None:
    """Keys not in alphabetical order (release before app): the new line goes at the end."""
    before = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      release: {{ .Release.Name }}
      app: web
  template:
    metadata:
      labels:
        app: web
"""
    after = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      release: {{ .Release.Name }}
      app: web
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        app: web
"""
    assert insert(before, "spec.selector.matchLabels") == after


def test_insert_in_sorted_place_when_literal_keys_are_alphabetical() -> None:
    """The upstream FleetDM fix's convention: app, chart, heritage, release stay sorted."""
    before = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      app: web
      chart: {{ .Chart.Name }}
      heritage: {{ .Release.Service }}
      release: {{ .Release.Name }}
"""
    after = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      app: web
      chart: {{ .Chart.Name }}
      component: server
      heritage: {{ .Release.Service }}
      release: {{ .Release.Name }}
"""
    assert insert(before, "spec.selector.matchLabels", key="component") == after


def test_insert_sorted_key_after_every_key_is_appended() -> None:
    before = "spec:\n  selector:\n    app: web\n    chart: x\n"
    after = "spec:\n  selector:\n    app: web\n    chart: x\n    zone: server\n"
    assert insert(before, "spec.selector", key="zone") == after


def test_insert_sorted_place_keeps_crlf() -> None:
    before = "spec:\r\n  selector:\r\n    app: web\r\n    release: r\r\n"
    after = "spec:\r\n  selector:\r\n    app: web\r\n    component: server\r\n    release: r\r\n"
    assert insert(before, "spec.selector", key="component") == after


def test_insert_sorted_before_the_last_line_of_a_file_without_final_newline() -> None:
    """The entry the new key sorts before is the file's last line, which has no newline: the
    new line ends with the file's newline, and the file still ends without one."""
    before = "spec:\n  selector:\n    app: web\n    release: r"
    after = "spec:\n  selector:\n    app: web\n    component: server\n    release: r"
    assert insert(before, "spec.selector", key="component") == after
    crlf_before = before.replace("\n", "\r\n")
    crlf_after = after.replace("\n", "\r\n")
    assert insert(crlf_before, "spec.selector", key="component") == crlf_after


def test_single_key_or_generated_entries_give_no_order_to_follow() -> None:
    """One literal key says nothing about order; an include may render any keys: append."""
    one = "spec:\n  selector:\n    zone: a\n"
    assert insert(one, "spec.selector", key="app") == one + "    app: server\n"
    mixed = (
        "spec:\n  selector:\n    app: web\n"
        '    {{- include "x.labels" . | nindent 4 }}\n    zone: a\n'
    )
    assert insert(mixed, "spec.selector", key="component") == mixed + "    component: server\n"


SCAFFOLD = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "demo.selectorLabels" . | nindent 8 }}
        tier: web
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec: {}
"""


def test_insert_after_include_nindent_line() -> None:
    after = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "demo.selectorLabels" . | nindent 8 }}
        tier: web
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec: {}
"""
    assert insert(SCAFFOLD, "spec.selector.matchLabels") == after


def test_insert_after_last_unconditional_entry_before_with_block() -> None:
    after = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "demo.selectorLabels" . | nindent 8 }}
        tier: web
        app.kubernetes.io/component: server
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec: {}
"""
    assert insert(SCAFFOLD, "spec.template.metadata.labels") == after


def test_insert_at_nindent_column_when_include_sits_at_another_column() -> None:
    before = """\
kind: Service
spec:
  selector:
{{- include "demo.selectorLabels" . | nindent 4 }}
  ports: []
"""
    after = """\
kind: Service
spec:
  selector:
{{- include "demo.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
  ports: []
"""
    assert insert(before, "spec.selector") == after


def test_insert_after_key_line_when_every_entry_is_conditional() -> None:
    before = """\
kind: Service
spec:
  selector:
  {{- if .Values.legacy }}
    app: web
  {{- else }}
    app.kubernetes.io/name: web
  {{- end }}
"""
    after = """\
kind: Service
spec:
  selector:
    app.kubernetes.io/component: server
  {{- if .Values.legacy }}
    app: web
  {{- else }}
    app.kubernetes.io/name: web
  {{- end }}
"""
    assert insert(before, "spec.selector") == after


def test_insert_skips_conditional_entries_at_odd_indentation() -> None:
    before = """\
kind: Service
spec:
  selector:
    app: web
          {{- if .Values.tier }}
    tier: {{ .Values.tier }}
          {{- end }}
  ports: []
"""
    after = """\
kind: Service
spec:
  selector:
    app: web
    app.kubernetes.io/component: server
          {{- if .Values.tier }}
    tier: {{ .Values.tier }}
          {{- end }}
  ports: []
"""
    assert insert(before, "spec.selector") == after


def test_insert_with_include_on_the_key_line() -> None:
    before = """\
kind: Deployment
spec:
  selector:
    matchLabels: {{- include "demo.selectorLabels" . | nindent 6 }}
  template: {}
"""
    after = """\
kind: Deployment
spec:
  selector:
    matchLabels: {{- include "demo.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template: {}
"""
    assert insert(before, "spec.selector.matchLabels") == after


def test_insert_next_to_templated_key() -> None:
    before = """\
kind: Deployment
spec:
  template:
    metadata:
      labels:
        {{ .Values.nameKey | default "app" }}: web
"""
    after = """\
kind: Deployment
spec:
  template:
    metadata:
      labels:
        {{ .Values.nameKey | default "app" }}: web
        app.kubernetes.io/component: server
"""
    assert insert(before, "spec.template.metadata.labels") == after


def test_insert_into_second_document() -> None:
    before = """\
kind: Service
spec:
  selector:
    app: web
---
kind: Service
spec:
  selector:
    app: api
"""
    after = """\
kind: Service
spec:
  selector:
    app: web
---
kind: Service
spec:
  selector:
    app: api
    app.kubernetes.io/component: server
"""
    assert insert(before, "spec.selector", doc=1) == after


def test_insert_inside_range_and_whole_file_if() -> None:
    before = """\
{{- if .Values.enabled }}
{{- range $name := .Values.workers }}
---
kind: Deployment
spec:
  selector:
    matchLabels:
      worker: {{ $name }}
{{- end }}
{{- end }}
"""
    after = """\
{{- if .Values.enabled }}
{{- range $name := .Values.workers }}
---
kind: Deployment
spec:
  selector:
    matchLabels:
      worker: {{ $name }}
      app.kubernetes.io/component: server
{{- end }}
{{- end }}
"""
    assert insert(before, "spec.selector.matchLabels") == after


def test_insert_crlf_file_gets_crlf() -> None:
    before = "kind: Service\r\nspec:\r\n  selector:\r\n    app: web\r\n  ports: []\r\n"
    after = (
        "kind: Service\r\nspec:\r\n  selector:\r\n    app: web\r\n"
        "    app.kubernetes.io/component: server\r\n  ports: []\r\n"
    )
    assert insert(before, "spec.selector") == after


def test_insert_without_final_newline_keeps_having_none() -> None:
    before = "kind: Service\nspec:\n  selector:\n    app: web"
    after = (
        "kind: Service\nspec:\n  selector:\n    app: web\n    app.kubernetes.io/component: server"
    )
    assert insert(before, "spec.selector") == after


def test_insert_crlf_without_final_newline() -> None:
    before = "kind: Service\r\nspec:\r\n  selector:\r\n    app: web"
    after = "kind: Service\r\nspec:\r\n  selector:\r\n    app: web\r\n    component: server"
    assert insert(before, "spec.selector", key="component") == after


def test_insert_keeps_byte_order_mark_and_comments() -> None:
    before = "\ufeffkind: Service\nspec:\n  selector:  # why\n    app: web  # note\n    # end\n"
    after = (
        "\ufeffkind: Service\nspec:\n  selector:  # why\n    app: web  # note\n"
        "    app.kubernetes.io/component: server\n    # end\n"
    )
    assert insert(before, "spec.selector") == after


def test_insert_templated_value_written_as_is() -> None:
    before = "kind: Service\nspec:\n  selector:\n    app: web\n"
    after = "kind: Service\nspec:\n  selector:\n    app: web\n    worker: {{ $name }}\n"
    assert insert(before, "spec.selector", key="worker", value="{{ $name }}") == after


# --- insert_entry: flow mappings ----------------------------------------------------------


def test_insert_into_flow_mapping() -> None:
    before = """\
kind: Service
spec:
  selector: {release: {{ .Release.Name | quote }}, app: web}  # comment
"""
    after = """\
kind: Service
spec:
  selector: {release: {{ .Release.Name | quote }}, app: web, app.kubernetes.io/component: server}  # comment
"""  # noqa: E501
    assert insert(before, "spec.selector") == after


def test_insert_into_sorted_flow_mapping_in_sorted_place() -> None:
    before = "spec:\n  selector: {app: web, release: r}\n"
    after = "spec:\n  selector: {app: web, component: server, release: r}\n"
    assert insert(before, "spec.selector", key="component") == after


def test_insert_into_empty_flow_mapping() -> None:
    before = "kind: Service\nmetadata:\n  labels: {}\nspec: {}\n"
    after = "kind: Service\nmetadata:\n  labels: {component: server}\nspec: {}\n"
    assert insert(before, "metadata.labels", key="component") == after


def test_insert_into_flow_mapping_quotes_special_value() -> None:
    before = "kind: Service\r\nspec:\r\n  selector: {app: web}"
    after = 'kind: Service\r\nspec:\r\n  selector: {app: web, enabled: "true"}'
    assert insert(before, "spec.selector", key="enabled", value="true") == after


# --- insert_entry: refusals ------------------------------------------------------------------


def test_insert_refuses_key_already_written() -> None:
    text = "kind: Service\nspec:\n  selector: {app: web}\n"
    with pytest.raises(NotEditable, match="already written"):
        insert(text, "spec.selector", key="app")
    block = "kind: Service\nspec:\n  selector:\n    {{- if .x }}\n    app: a\n    {{- end }}\n"
    with pytest.raises(NotEditable, match="already written"):
        insert(block, "spec.selector", key="app")


@pytest.mark.parametrize(
    "text",
    [
        "kind: Service\nspec:\n  selector: web\n",
        "kind: Service\nspec:\n  selector: {app: web,\n    tier: x}\n",
        "kind: Service\nspec:\n  selector: |\n    app: web\n",
    ],
    ids=["scalar", "multi-line-flow", "block-scalar"],
)
def test_site_with_a_problem_is_not_editable(text: str) -> None:
    site = site_of(text, "spec.selector")
    assert site.problem
    with pytest.raises(NotEditable, match=site.problem):
        insert_entry(site, COMPONENT, "server")
    with pytest.raises(NotEditable, match=site.problem):
        remove_entry(site, "app")


def test_insert_refuses_anchor_that_trims_the_newline() -> None:
    text = """\
kind: Service
spec:
  selector:
    {{- include "demo.selectorLabels" . | nindent 4 -}}
{{ "\\n" }}  ports: []
"""
    with pytest.raises(NotEditable, match="-}}"):
        insert(text, "spec.selector")


def test_insert_refuses_anchor_that_trims_despite_trailing_spaces() -> None:
    text = (
        "kind: Service\nspec:\n  selector:\n"
        '    {{- include "demo.selectorLabels" . | nindent 4 -}}   \n'
        '{{ "\\n" }}  ports: []\n'
    )
    with pytest.raises(NotEditable, match="-}}"):
        insert(text, "spec.selector")


def test_insert_refuses_value_rendered_on_the_key_line() -> None:
    text = "kind: Service\nspec:\n  selector: {{ .Values.selector | toJson }}\n"
    with pytest.raises(NotEditable):
        insert(text, "spec.selector")


def test_insert_after_block_scalar_entry() -> None:
    before = "kind: Service\nspec:\n  selector:\n    app: >-\n      web\n  ports: []\n"
    after = (
        "kind: Service\nspec:\n  selector:\n    app: >-\n      web\n"
        "    app.kubernetes.io/component: server\n  ports: []\n"
    )
    assert insert(before, "spec.selector") == after


# --- yaml_scalar --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("server", "server"),
        ("app.kubernetes.io/component", "app.kubernetes.io/component"),
        ("default-backend", "default-backend"),
        ("v1.2.3", "v1.2.3"),
        ("true", '"true"'),
        ("False", '"False"'),
        ("on", '"on"'),
        ("OFF", '"OFF"'),
        ("yes", '"yes"'),
        ("y", '"y"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("1.0", '"1.0"'),
        ("42", '"42"'),
        ("1e3", '"1e3"'),
        ("0x1F", '"0x1F"'),
        ("0777", '"0777"'),
        ("-1", '"-1"'),
        (".inf", '".inf"'),
        ("", '""'),
        ("a b", '"a b"'),
        ("a: b", '"a: b"'),
        ("key:value", '"key:value"'),
        ("# not a comment", '"# not a comment"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("{{ $name }}", "{{ $name }}"),
        (
            '{{ .Values.component | default "server" }}',
            '{{ .Values.component | default "server" }}',
        ),
    ],
)
def test_yaml_scalar(value: str, written: str) -> None:
    assert yaml_scalar(value) == written
    if "{{" not in value:
        assert yaml.safe_load(f"k: {written}") == {"k": value}


@pytest.mark.parametrize(
    "value",
    [
        "0b101",
        "2024-01-31",
    ],
)
def test_yaml_scalar_reads_back_as_the_string(value: str) -> None:
    assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": value}


# --- remove_entry ------------------------------------------------------------------------------


def test_remove_block_line() -> None:
    before = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      app: web
      helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
      release: {{ .Release.Name }}
"""
    after = """\
kind: Deployment
spec:
  selector:
    matchLabels:
      app: web
      release: {{ .Release.Name }}
"""
    assert remove(before, "spec.selector.matchLabels", "helm.sh/chart") == after


def test_remove_entry_with_its_continuation_and_crlf() -> None:
    before = "kind: Service\r\nspec:\r\n  selector:\r\n    version:\r\n      v1\r\n    app: x\r\n"
    after = "kind: Service\r\nspec:\r\n  selector:\r\n    app: x\r\n"
    assert remove(before, "spec.selector", "version") == after


def test_remove_last_line_without_final_newline() -> None:
    before = "kind: Service\nspec:\n  selector:\n    app: x\n    version: v1"
    after = "kind: Service\nspec:\n  selector:\n    app: x"
    assert remove(before, "spec.selector", "version") == after


def test_remove_quoted_key() -> None:
    before = 'kind: Service\nspec:\n  selector:\n    "version": v1\n    app: x\n'
    after = "kind: Service\nspec:\n  selector:\n    app: x\n"
    assert remove(before, "spec.selector", "version") == after


def test_remove_literal_line_next_to_an_include() -> None:
    before = """\
kind: Service
spec:
  selector:
    {{- include "demo.selectorLabels" . | nindent 4 }}
    version: {{ .Chart.AppVersion }}
"""
    after = """\
kind: Service
spec:
  selector:
    {{- include "demo.selectorLabels" . | nindent 4 }}
"""
    assert remove(before, "spec.selector", "version") == after


def test_remove_flow_items_with_their_comma() -> None:
    before = "kind: Service\nspec:\n  selector: {app: web, version: {{ .Chart.Version }}, x: y}\n"
    assert remove(before, "spec.selector", "app") == (
        "kind: Service\nspec:\n  selector: {version: {{ .Chart.Version }}, x: y}\n"
    )
    assert remove(before, "spec.selector", "version") == (
        "kind: Service\nspec:\n  selector: {app: web, x: y}\n"
    )
    assert remove(before, "spec.selector", "x") == (
        "kind: Service\nspec:\n  selector: {app: web, version: {{ .Chart.Version }}}\n"
    )


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("kind: Service\nspec:\n  selector:\n    app: web\n", "app", "empty"),
        (
            "kind: Service\nspec:\n  selector:\n    app: web\n    {{- if .x }}\n    x: y\n"
            "    {{- end }}\n",
            "app",
            "empty",
        ),
        ("kind: Service\nspec:\n  selector: {app: web}\n", "app", "empty"),
        (
            "kind: Service\nspec:\n  selector:\n    tier: a\n    {{- if .x }}\n    app: a\n"
            "    {{- else }}\n    app: b\n    {{- end }}\n",
            "app",
            "more than once",
        ),
        (
            "kind: Service\nspec:\n  selector:\n    tier: a\n    {{ .Values.key }}: web\n",
            "app",
            "not written literally",
        ),
        (
            "kind: Service\nspec:\n  selector:\n    tier: a\n"
            '    {{- include "demo.selectorLabels" . | nindent 4 }}\n',
            "app",
            "not written literally",
        ),
        ("kind: Service\nspec:\n  selector: {tier: a, {{ $k }}: b}\n", "app", "not written"),
    ],
    ids=[
        "only-entry",
        "only-unconditional-entry",
        "only-flow-item",
        "written-twice",
        "templated-key",
        "generated",
        "flow-templated-key",
    ],
)
def test_remove_refusals(text: str, key: str, reason: str) -> None:
    with pytest.raises(NotEditable, match=reason):
        remove_entry(site_of(text, "spec.selector"), key)


def test_remove_only_literal_entry_next_to_inline_include() -> None:
    """The include on the key line keeps the mapping non-empty."""
    before = (
        "kind: Service\nspec:\n"
        '  selector: {{- include "demo.selectorLabels" . | nindent 4 }}\n'
        "    version: v1\n"
    )
    after = 'kind: Service\nspec:\n  selector: {{- include "demo.selectorLabels" . | nindent 4 }}\n'
    assert remove(before, "spec.selector", "version") == after


# --- omit_included_key, entry_after: one key of a helper's output written apart -------------


def omit(line: str, key: str = COMPONENT) -> str:
    """`line` with its (first) action's include leaving `key` out."""
    (action, *_) = lex(line)
    return apply_edits(line, [omit_included_key(action, key)])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            '    {{- include "x.labels" . | nindent 4 }}\n',
            '    {{- omit (include "x.labels" . | fromYaml) "app.kubernetes.io/component" '
            "| toYaml | nindent 4 }}\n",
        ),
        (
            '  labels: {{- include "x.labels" . | nindent 4 }}\r\n',
            '  labels: {{- omit (include "x.labels" . | fromYaml) "app.kubernetes.io/component" '
            "| toYaml | nindent 4 }}\r\n",
        ),
        (
            '{{ include "x.labels" (dict "ctx" $ "pipe" "a|b") |trim| indent 4 }}',
            '{{ omit (include "x.labels" (dict "ctx" $ "pipe" "a|b") | fromYaml) '
            '"app.kubernetes.io/component" | toYaml |trim| indent 4 }}',
        ),
    ],
    ids=["own-line", "key-line-crlf", "arguments-with-a-pipe"],
)
def test_omit_included_key_wraps_only_the_include(before: str, after: str) -> None:
    assert omit(before) == after


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('    {{- template "x.labels" . }}\n', "does not start with an include"),
        ('    {{- tpl (include "x.labels" .) . | nindent 4 }}\n', "does not start"),
        ('    {{- include "x.labels" . | upper | nindent 4 }}\n', "more than indent"),
    ],
)
def test_omit_included_key_refusals(line: str, reason: str) -> None:
    with pytest.raises(NotEditable, match=reason):
        omit(line)


def test_omit_refuses_a_key_that_is_no_template_string() -> None:
    with pytest.raises(NotEditable, match="template string"):
        omit('{{ include "x.labels" . }}', key='a"b')


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            '  labels:\n    {{- include "x.labels" . | nindent 4 }}\n  annotations: {}\n',
            '  labels:\n    {{- include "x.labels" . | nindent 4 }}\n'
            '    app.kubernetes.io/name: {{ include "x.name" . }}-test\n  annotations: {}\n',
        ),
        (
            '  labels: {{- include "x.labels" . | nindent 4 }}\r\n',
            '  labels: {{- include "x.labels" . | nindent 4 }}\r\n'
            '    app.kubernetes.io/name: {{ include "x.name" . }}-test\r\n',
        ),
        (
            '  labels: {{- include "x.labels" . | nindent 4 }}',
            '  labels: {{- include "x.labels" . | nindent 4 }}\n'
            '    app.kubernetes.io/name: {{ include "x.name" . }}-test',
        ),
    ],
    ids=["own-line", "key-line-crlf", "no-final-newline"],
)
def test_entry_after_writes_the_line_after_the_include(before: str, after: str) -> None:
    line = next(ln for ln in split_lines(before) if "include" in before[ln.start:ln.end])
    edit = entry_after(line, 4, "app.kubernetes.io/name", '{{ include "x.name" . }}-test')
    assert apply_edits(before, [edit]) == after


def test_entry_after_refuses_a_line_that_trims_what_follows() -> None:
    (line, *_) = split_lines('    {{- include "x.labels" . | nindent 4 -}}\n')
    with pytest.raises(NotEditable, match="join"):
        entry_after(line, 4, "app", "x")


# --- apply_edits ----------------------------------------------------------------------------


def test_apply_no_edit_is_identity() -> None:
    text = "\ufeffa: 1\r\nb: {{ .x }}"
    assert apply_edits(text, []) == text


def test_apply_duplicate_identical_edits_once() -> None:
    """One source (a range, a define) renders many objects: each asks for the same edit."""
    text = "kind: Service\nspec:\n  selector:\n    app: web\n"
    edit = insert_entry(site_of(text, "spec.selector"), "tier", "api")
    same = insert_entry(site_of(text, "spec.selector"), "tier", "api")
    assert edit == same and edit is not same
    assert apply_edits(text, [edit, same, edit]) == (
        "kind: Service\nspec:\n  selector:\n    app: web\n    tier: api\n"
    )


def test_apply_several_edits_in_any_order() -> None:
    text = "0123456789"
    edits = [Edit(8, 9, "X"), Edit(0, 0, "<"), Edit(3, 5, ""), Edit(10, 10, ">")]
    assert apply_edits(text, edits) == "<012567X9>"
    assert apply_edits(text, reversed(edits)) == "<012567X9>"


def test_apply_adjacent_edits() -> None:
    assert apply_edits("abcdef", [Edit(1, 3, ""), Edit(3, 3, "X"), Edit(3, 4, "Y")]) == "aXYef"


@pytest.mark.parametrize(
    "edits",
    [
        [Edit(2, 6, ""), Edit(4, 8, "x")],
        [Edit(2, 6, ""), Edit(4, 4, "x")],
        [Edit(2, 6, "a"), Edit(2, 6, "b")],
        [Edit(0, 10, ""), Edit(3, 5, "")],
    ],
    ids=["crossing", "insert-inside-removal", "same-span-different-text", "nested"],
)
def test_apply_overlapping_edits_refused(edits: list[Edit]) -> None:
    with pytest.raises(NotEditable, match="overlapping"):
        apply_edits("0123456789", edits)


def test_edit_is_insertion() -> None:
    assert Edit(3, 3, "x").is_insertion
    assert not Edit(3, 4, "").is_insertion
