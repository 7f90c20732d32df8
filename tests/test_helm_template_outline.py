"""The outline of a template: documents, kinds and label-mapping sites, one test per shape.

The shapes are those of docs/domain.md §5. Each test states, for its template, the kinds of
its documents, the paths and lines of the sites found, and for each entry its line, literal
key and generated/conditional flags, written as `(line, key, flags)` tuples where flags are
"g" (generated), "c" (conditional) and "t" (templated key).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.sources.helm.template.lexer import TemplateSyntaxError
from chartfix.sources.helm.template.outline import Document, MappingSite, Outline, outline


def entries(site: MappingSite) -> list[tuple[int, str | None, str]]:
    def flags(generated: bool, conditional: bool, templated: bool) -> str:
        return "g" * generated + "c" * conditional + "t" * templated

    return [
        (e.line.number, e.key, flags(e.generated, e.conditional, e.templated_key))
        for e in site.entries
    ]


def site_lines(doc: Document) -> dict[str, int]:
    return {path: site.line for path, site in doc.sites.items()}


def single(text: str) -> Document:
    docs = outline(text).documents
    assert len(docs) == 1, docs
    return docs[0]


DEPLOYMENT_LITERAL = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    release: "{{ .Release.Name }}"
spec:
  selector:
    matchLabels:
      app: web
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: web
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: web
          image: nginx
"""


def test_literal_label_lines() -> None:
    doc = single(DEPLOYMENT_LITERAL)
    assert (doc.kind, doc.kind_line, doc.first_line) == ("Deployment", 2, 1)
    assert doc.name_fragments == ("web",)
    assert site_lines(doc) == {
        "metadata.labels": 5,
        "spec.selector": 9,
        "spec.selector.matchLabels": 10,
        "spec.template.metadata.labels": 15,
    }
    assert entries(doc.sites["metadata.labels"]) == [(6, "app", ""), (7, "release", "")]
    assert entries(doc.sites["spec.selector.matchLabels"]) == [
        (11, "app", ""),
        (12, "release", ""),
    ]
    pods = doc.sites["spec.template.metadata.labels"]
    assert entries(pods) == [(16, "app", ""), (17, "release", "")]
    assert (pods.key_indent, pods.entry_indent) == (6, 8)
    assert pods.literal_keys() == {"app", "release"}
    assert all(site.problem is None and site.flow is None for site in doc.sites.values())
    assert not (doc.in_range or doc.in_define or doc.renders_many)


SCAFFOLD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
  labels:
    {{- include "demo.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        {{- include "demo.selectorLabels" . | nindent 8 }}
        tier: web
        {{- with .Values.podLabels }}{{ toYaml . | nindent 8 }}{{ end }}
    spec:
      containers:
        - name: web
"""


def test_include_nindent_on_its_own_line_then_literals_and_a_with_block() -> None:
    doc = single(SCAFFOLD)
    assert doc.kind == "Deployment"
    assert doc.name_value == '{{ include "demo.fullname" . }}'
    assert entries(doc.sites["metadata.labels"]) == [(6, None, "g")]
    selector = doc.sites["spec.selector.matchLabels"]
    assert entries(selector) == [(10, None, "g")]
    assert selector.entry_indent == 6
    assert selector.literal_keys() == set()
    pods = doc.sites["spec.template.metadata.labels"]
    assert pods.line == 17
    assert entries(pods) == [(18, None, "g"), (19, "tier", ""), (20, None, "gc")]
    assert pods.entry_indent == 8
    assert "spec.template.metadata.annotations" not in doc.sites


def test_include_nindent_alone_sets_entry_indent_from_its_argument() -> None:
    text = (
        'kind: Service\nspec:\n  selector:\n  {{- include "demo.selectorLabels" . | nindent 4 }}\n'
    )
    site = single(text).sites["spec.selector"]
    assert entries(site) == [(4, None, "g")]
    assert site.entry_indent == 4


def test_include_on_the_key_line() -> None:
    text = """\
kind: Deployment
spec:
  selector:
    matchLabels: {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels: {{ include "demo.selectorLabels" . | nindent 8 }}
    spec: {}
"""
    doc = single(text)
    selector = doc.sites["spec.selector.matchLabels"]
    assert selector.inline_generator and selector.entries == ()
    assert (selector.line, selector.entry_indent) == (4, 6)
    pods = doc.sites["spec.template.metadata.labels"]
    assert pods.inline_generator and (pods.line, pods.entry_indent) == (7, 8)
    assert pods.problem is None


def test_flow_mappings() -> None:
    text = """\
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels: {}
spec:
  selector: {app: web, "release": {{ .Release.Name | quote }}}  # routed here
  ports: [{port: 80}]
"""
    doc = single(text)
    empty = doc.sites["metadata.labels"]
    assert empty.flow is not None and empty.flow.items == ()
    assert text[empty.flow.open : empty.flow.close + 1] == "{}"
    selector = doc.sites["spec.selector"]
    assert selector.flow is not None
    assert [(item.key, text[item.start : item.end]) for item in selector.flow.items] == [
        ("app", "app: web"),
        ("release", '"release": {{ .Release.Name | quote }}'),
    ]
    assert text[selector.flow.open : selector.flow.close + 1].endswith("quote }}}")
    assert selector.literal_keys() == {"app", "release"}


def test_flow_mapping_spread_over_lines_is_a_problem() -> None:
    text = "kind: Service\nspec:\n  selector: {app: web,\n    tier: x}\n"
    site = single(text).sites["spec.selector"]
    assert site.problem == "flow mapping not closed on its own line"


def test_scalar_where_a_mapping_belongs_is_a_problem() -> None:
    text = "kind: Service\nspec:\n  selector: web\n"
    site = single(text).sites["spec.selector"]
    assert site.problem is not None and "selector" in site.problem


CONDITIONAL = """\
kind: Deployment
spec:
  selector:
    matchLabels:
{{- if .Values.legacy }}
      heritage: helm
{{- end }}
      app: web
            {{- if .Values.extra }}
      extra: "yes"
            {{- else }}
      extra: "no"
            {{- end }}
      tier: backend
  template:
    metadata:
      labels:
        {{- if .Values.a }}
        a: "1"
        {{- end }}
    spec: {}
"""


def test_entries_inside_if_at_odd_indentation_are_conditional() -> None:
    doc = single(CONDITIONAL)
    selector = doc.sites["spec.selector.matchLabels"]
    assert entries(selector) == [
        (6, "heritage", "c"),
        (8, "app", ""),
        (10, "extra", "c"),
        (12, "extra", "c"),
        (14, "tier", ""),
    ]
    assert selector.entry_indent == 6
    pods = doc.sites["spec.template.metadata.labels"]
    assert entries(pods) == [(19, "a", "c")]
    assert pods.entry_indent == 8


def test_if_opened_before_the_key_closes_the_mapping_at_its_end() -> None:
    text = """\
kind: Service
spec:
  {{- if .Values.select }}
  selector:
    app: web
  {{- end }}
    stray: line
"""
    site = single(text).sites["spec.selector"]
    assert entries(site) == [(5, "app", "")]


def test_templated_keys() -> None:
    text = """\
kind: Deployment
spec:
  template:
    metadata:
      labels:
        app: web
        {{ .Values.keyOverride | default "app.kubernetes.io/component" }}: controller
        {{ $key }}-suffix: {{ $value }}
"""
    site = single(text).sites["spec.template.metadata.labels"]
    assert entries(site) == [(6, "app", ""), (7, None, "t"), (8, None, "t")]
    assert site.literal_keys() == {"app"}


def test_several_documents() -> None:
    text = """\
# leading comment
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    app: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
--- # the last one
kind: PodDisruptionBudget
spec:
  selector:
    matchLabels: {app: web}
"""
    docs = outline(text).documents
    assert [(d.index, d.kind, d.kind_line, d.first_line) for d in docs] == [
        (0, "Service", 3, 1),
        (1, "Deployment", 11, 10),
        (2, "PodDisruptionBudget", 19, 19),
    ]
    assert [site_lines(d) for d in docs] == [
        {"spec.selector": 7},
        {"spec.selector": 15, "spec.selector.matchLabels": 16},
        {"spec.selector": 21, "spec.selector.matchLabels": 22},
    ]
    assert docs[0].name_fragments == ("-web",)
    assert text[docs[1].start : docs[1].end].startswith("apiVersion: apps/v1\n")
    assert text[docs[1].start : docs[1].end].endswith("app: web\n")
    assert docs[2].end == len(text)


def test_empty_documents_are_skipped() -> None:
    text = "---\n# only a comment\n---\nkind: Service\n---\n"
    docs = outline(text).documents
    assert [(d.index, d.kind) for d in docs] == [(0, "Service")]


def test_objects_inside_range() -> None:
    text = """\
{{- range $name, $worker := .Values.workers }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-worker-{{ $name }}
spec:
  selector:
    matchLabels:
      app: worker
      worker: {{ $name }}
{{- end }}
---
kind: Service
spec:
  selector:
    app: worker
"""
    docs = outline(text).documents
    assert [(d.kind, d.in_range, d.renders_many) for d in docs] == [
        ("Deployment", True, True),
        ("Service", False, False),
    ]
    worker = docs[0]
    assert worker.name_fragments == ("-worker-",)
    assert worker.name_value == "{{ $name }}"
    assert entries(worker.sites["spec.selector.matchLabels"]) == [
        (10, "app", ""),
        (11, "worker", ""),
    ]


def test_whole_file_wrapped_in_if() -> None:
    text = """\
{{- if .Values.enabled -}}
apiVersion: v1
kind: Service
spec:
  selector:
    app: web
    {{- if .Values.tier }}
    tier: {{ .Values.tier }}
    {{- end }}
{{- end }}
"""
    doc = single(text)
    assert (doc.kind, doc.in_range) == ("Service", False)
    assert entries(doc.sites["spec.selector"]) == [(6, "app", ""), (8, "tier", "c")]


def test_define_in_a_template_file_is_its_own_document() -> None:
    text = """\
{{- define "demo.podTemplate" -}}
metadata:
  labels:
    app: web
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    {{- include "demo.podTemplate" . | nindent 4 }}
"""
    docs = outline(text).documents
    assert [(d.kind, d.in_define, d.first_line) for d in docs] == [
        (None, True, 2),
        ("Deployment", False, 6),
    ]
    helper = docs[0]
    assert helper.renders_many
    assert site_lines(helper) == {"metadata.labels": 3}
    assert entries(helper.sites["metadata.labels"]) == [(4, "app", "")]
    assert docs[1].sites == {}


def test_one_line_define_does_not_hide_the_next_line() -> None:
    text = (
        '{{- define "demo.svcName" -}}{{ .Release.Name }}-svc{{- end -}}\n'
        "kind: Service\n"
        "spec:\n"
        "  selector:\n"
        "    app: web\n"
    )
    doc = outline(text).documents[-1]
    assert (doc.kind, doc.kind_line) == ("Service", 2)
    assert entries(doc.sites["spec.selector"]) == [(5, "app", "")]


def test_comments_are_transparent() -> None:
    text = """\
kind: Service
{{/* the selector below is what routes traffic */}}
spec:
  # yaml comment
  selector:   # trailing comment
    # first
    app: web  # why
      # odd comment
{{/* template comment at column 0 */}}
    {{- /* trimmed comment */}}
    tier: api
    # last

  ports: []
"""
    site = single(text).sites["spec.selector"]
    assert entries(site) == [(7, "app", ""), (11, "tier", "")]
    assert site.entry_indent == 4


def test_crlf() -> None:
    text = (
        "kind: Service\r\n"
        "spec:\r\n"
        "  selector:\r\n"
        "    app: web\r\n"
        "    {{- if .x }}\r\n"
        "    x: y\r\n"
        "    {{- end }}\r\n"
    )
    out = outline(text)
    assert out.newline() == "\r\n"
    site = out.documents[0].sites["spec.selector"]
    assert entries(site) == [(4, "app", ""), (6, "x", "c")]
    assert site.entries[0].line.newline == "\r\n"
    assert text[site.entries[0].line.start : site.entries[0].line.end] == "    app: web"


def test_mostly_lf_file_reports_lf() -> None:
    assert outline("a: 1\r\nb: 2\nc: 3\n").newline() == "\n"


def test_no_final_newline() -> None:
    text = "kind: Service\nspec:\n  selector:\n    app: web\n    tier: api"
    site = single(text).sites["spec.selector"]
    assert entries(site) == [(4, "app", ""), (5, "tier", "")]
    assert site.entries[-1].line.newline == ""
    assert site.entries[-1].end == len(text)


def test_byte_order_mark() -> None:
    text = "\ufeffkind: Service\nspec:\n  selector:\n    app: web\n"
    doc = single(text)
    assert (doc.kind, doc.kind_line) == ("Service", 1)
    assert entries(doc.sites["spec.selector"]) == [(4, "app", "")]


def test_templated_kind_is_unknown() -> None:
    text = """\
apiVersion: apps/v1
kind: {{ if .Values.stateful }}StatefulSet{{ else }}Deployment{{ end }}
metadata:
  name: db
spec:
  selector:
    matchLabels:
      app: db
"""
    doc = single(text)
    assert (doc.kind, doc.kind_line) == (None, 2)
    assert entries(doc.sites["spec.selector.matchLabels"]) == [(8, "app", "")]


def test_quoted_kind() -> None:
    assert single('kind: "Service"\n').kind == "Service"


def test_block_scalars_do_not_create_sites() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels:
    app: cfg
data:
  manifest.yaml: |
    metadata:
      labels:
        fake: "1"
    spec:
      selector:
        fake: "2"
  folded: >-
    spec:
      selector:
        {{- include "demo.selectorLabels" . | nindent 8 }}
spec:
  selector:
    real: "3"
"""
    doc = single(text)
    assert site_lines(doc) == {"metadata.labels": 5, "spec.selector": 20}
    assert entries(doc.sites["metadata.labels"]) == [(6, "app", "")]
    assert entries(doc.sites["spec.selector"]) == [(21, "real", "")]


def test_block_scalar_value_of_labels_is_a_problem() -> None:
    text = "kind: ConfigMap\nmetadata:\n  labels: |\n    app: x\n"
    site = single(text).sites["metadata.labels"]
    assert site.problem is not None
    assert site.entries == ()


def test_sequences_at_the_indentation_of_their_key() -> None:
    text = """\
kind: StatefulSet
spec:
  template:
    spec:
      containers:
      - name: a
        env:
        - name: labels
          value: x
      - name: b
      initContainers:
        - name: c
    metadata:
      labels:
        app: db
  volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        not: "a site"
  selector:
    matchLabels:
      app: db
"""
    doc = single(text)
    assert site_lines(doc) == {
        "spec.template.metadata.labels": 14,
        "spec.selector": 21,
        "spec.selector.matchLabels": 22,
    }
    assert entries(doc.sites["spec.template.metadata.labels"]) == [(15, "app", "")]
    assert entries(doc.sites["spec.selector.matchLabels"]) == [(23, "app", "")]


def test_cronjob_pod_template() -> None:
    text = """\
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            app: cron
"""
    doc = single(text)
    assert entries(doc.sites["spec.jobTemplate.spec.template.metadata.labels"]) == [(8, "app", "")]


def test_value_continued_on_deeper_lines_belongs_to_its_entry() -> None:
    text = "kind: Service\nspec:\n  selector:\n    app:\n      web\n    tier: api\n"
    site = single(text).sites["spec.selector"]
    assert [(e.line.number, e.last.number, e.key) for e in site.entries] == [
        (4, 5, "app"),
        (6, 6, "tier"),
    ]


def test_block_scalar_value_belongs_to_its_entry() -> None:
    text = "kind: Service\nspec:\n  selector:\n    app: >-\n      web\n    tier: api\n"
    site = single(text).sites["spec.selector"]
    assert [(e.line.number, e.last.number, e.key) for e in site.entries] == [
        (4, 5, "app"),
        (6, 6, "tier"),
    ]


def test_nested_mapping_entry_spans_its_children() -> None:
    text = (
        "kind: PodDisruptionBudget\n"
        "spec:\n"
        "  selector:\n"
        "    matchLabels:\n"
        "      app: web\n"
        "      tier: api\n"
        "  maxUnavailable: 1\n"
    )
    site = single(text).sites["spec.selector"]
    assert [(e.line.number, e.last.number, e.key) for e in site.entries] == [(4, 6, "matchLabels")]


def test_outline_keeps_the_text_and_its_lines() -> None:
    text = "kind: Service\r\nspec:\n  selector: {}"
    out: Outline = outline(text)
    assert out.text is text
    assert "".join(text[ln.start : ln.end] + ln.newline for ln in out.lines) == text


def test_bad_template_raises_syntax_error_with_line() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        outline("kind: Service\nspec:\n  selector:\n    app: {{ .x\n")
    assert caught.value.line == 4


def test_a_printf_name_keeps_document_for_from_guessing(tmp_path: Path) -> None:
    """A file whose one literal Service is named by printf "%s-metrics", while the Service
    Helm rendered from it came from an include elsewhere: no document, rather than the
    wrong one (an edit there would miss the object)."""
    from chartfix.model.objects import FileDocument, K8sObject
    from chartfix.sources.helm.template.locate import Templates

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "svc.yaml").write_text(
        '{{ include "other.service" . }}\n---\nkind: Service\nmetadata:\n'
        '  name: {{ printf "%s-metrics" .Release.Name }}\nspec:\n  selector:\n    app: x\n'
    )
    sources = Templates(tmp_path)
    included = K8sObject({"kind": "Service", "metadata": {"name": "rel-web"}},
                         FileDocument("templates/svc.yaml", 0))
    literal = K8sObject({"kind": "Service", "metadata": {"name": "rel-metrics"}},
                        FileDocument("templates/svc.yaml", 1))
    assert sources.document_for(included) is None
    doc = sources.document_for(literal)
    assert doc is not None and doc.name_fragments == ("-metrics",)
