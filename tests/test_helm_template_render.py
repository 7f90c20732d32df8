"""Helm's own engine judges the edits: one inserted label, and nothing else changes.

For every template shape of docs/domain.md §5 a small chart is written to disk and rendered
with helm-python-sdk. The label is inserted into a site the outline finds (by document kind and
path), the chart is rendered again, and the objects must be equal to the first rendering once
exactly that label is deleted from exactly the objects the edited document renders.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from chartfix.files import decode, encode
from chartfix.sources.helm.template.edit import apply_edits, insert_entry
from chartfix.sources.helm.template.outline import outline

KEY = "app.kubernetes.io/component"
VALUE = "server"

CHART_YAML = "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: 1.0.0\n"

VALUES_YAML = """\
enabled: true
legacy: false
extra: true
tier: api
workers: [alpha, beta]
podLabels:
  team: core
podAnnotations: {}
"""

HELPERS = """\
{{- define "demo.name" -}}
{{ .Chart.Name }}
{{- end }}

{{- define "demo.fullname" -}}
{{ .Release.Name }}-{{ include "demo.name" . }}
{{- end }}

{{- define "demo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "demo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "demo.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{ include "demo.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
"""

POD_SPEC = """\
    spec:
      containers:
      - name: web
        image: "nginx:{{ $.Chart.AppVersion }}"
        args:
        - --labels
        - app=x
"""

SCAFFOLD = (
    """\
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
"""
    + POD_SPEC
)

LITERAL = (
    """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels:
    app: web
    release: {{ .Release.Name | quote }}
spec:
  selector:
    matchLabels:
      app: web
      release: {{ .Release.Name | quote }}
  template:
    metadata:
      labels:
        app: web
        release: {{ .Release.Name | quote }}
"""
    + POD_SPEC
)

INLINE = (
    """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
spec:
  selector:
    matchLabels: {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "demo.selectorLabels" . | nindent 8 }}
"""
    + POD_SPEC
)

FLOW = (
    """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: web, release: {{ .Release.Name | quote }}}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels: {app: web, release: {{ .Release.Name | quote }}}
  template:
    metadata:
      labels: {app: web, release: {{ .Release.Name | quote }}}
"""
    + POD_SPEC
)

EMPTY_FLOW = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-open
spec:
  selector: {}
  ports:
  - port: 80
"""

CONDITIONAL = (
    """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
{{- if .Values.legacy }}
      heritage: helm
{{- end }}
      app: web
            {{- if .Values.extra }}
      extra: "yes"
            {{- end }}
  template:
    metadata:
      labels:
  {{- if .Values.legacy }}
        heritage: helm
  {{- end }}
        app: web
              {{- if .Values.extra }}
        extra: "yes"
              {{- end }}
"""
    + POD_SPEC
)

ALL_CONDITIONAL = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
  {{- if .Values.legacy }}
    app: web
  {{- else }}
    app.kubernetes.io/name: web
  {{- end }}
  ports:
  - port: 80
"""

TEMPLATED_KEY = (
    """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      {{ .Values.nameKey | default "app.kubernetes.io/name" }}: web
  template:
    metadata:
      labels:
        {{ .Values.nameKey | default "app.kubernetes.io/name" }}: web
        {{ printf "%s/%s" "example.com" "tier" }}: {{ .Values.tier }}
"""
    + POD_SPEC
)

MULTI_DOC = (
    """\
# The service and its deployment, one file.
apiVersion: v1
kind: Service
metadata:
  name: {{ include "demo.fullname" . }}
  labels:
    {{- include "demo.labels" . | nindent 4 }}
spec:
  selector:
    {{- include "demo.selectorLabels" . | nindent 4 }}  {{/* routes to the pods */}}
  ports:
  - port: 80
--- # the workload
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "demo.fullname" . }}-cfg
data:
  example.yaml: |
    metadata:
      labels:
        not: a-site
    spec:
      selector:
        matchLabels: {}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
spec:
  # selector first
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        # pods
        {{- include "demo.selectorLabels" . | nindent 8 }}
"""
    + POD_SPEC
)

RANGE = (
    """\
{{- range $worker := .Values.workers }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-{{ $worker }}
spec:
  selector:
    matchLabels:
      {{- include "demo.selectorLabels" $ | nindent 6 }}
      worker: {{ $worker }}
  template:
    metadata:
      labels:
        {{- include "demo.selectorLabels" $ | nindent 8 }}
        worker: {{ $worker }}
"""
    + POD_SPEC
    + "{{- end }}\n"
)

IF_WRAPPED = (
    """\
{{- if .Values.enabled -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
"""
    + POD_SPEC
    + "{{- end }}\n"
)

CRLF = LITERAL.replace("\n", "\r\n")

BOM_NO_FINAL_NEWLINE = "\ufeff" + SCAFFOLD.rstrip("\n")


@dataclass(frozen=True)
class Case:
    template: str
    kind: str
    path: str
    renders: int = 1
    """How many objects the edited document renders."""


POD = "spec.template.metadata.labels"
SELECTOR = "spec.selector.matchLabels"
SERVICE = "spec.selector"

CASES = {
    "literal-pod": Case(LITERAL, "Deployment", POD),
    "literal-selector": Case(LITERAL, "Deployment", SELECTOR),
    "scaffold-pod": Case(SCAFFOLD, "Deployment", POD),
    "scaffold-selector": Case(SCAFFOLD, "Deployment", SELECTOR),
    "scaffold-metadata": Case(SCAFFOLD, "Deployment", "metadata.labels"),
    "inline-pod": Case(INLINE, "Deployment", POD),
    "inline-selector": Case(INLINE, "Deployment", SELECTOR),
    "flow-pod": Case(FLOW, "Deployment", POD),
    "flow-selector": Case(FLOW, "Deployment", SELECTOR),
    "flow-service": Case(FLOW, "Service", SERVICE),
    "empty-flow-service": Case(EMPTY_FLOW, "Service", SERVICE),
    "conditional-pod": Case(CONDITIONAL, "Deployment", POD),
    "conditional-selector": Case(CONDITIONAL, "Deployment", SELECTOR),
    "all-conditional-service": Case(ALL_CONDITIONAL, "Service", SERVICE),
    "templated-key-pod": Case(TEMPLATED_KEY, "Deployment", POD),
    "templated-key-selector": Case(TEMPLATED_KEY, "Deployment", SELECTOR),
    "multi-doc-pod": Case(MULTI_DOC, "Deployment", POD),
    "multi-doc-selector": Case(MULTI_DOC, "Deployment", SELECTOR),
    "multi-doc-service": Case(MULTI_DOC, "Service", SERVICE),
    "range-pod": Case(RANGE, "Deployment", POD, renders=2),
    "range-selector": Case(RANGE, "Deployment", SELECTOR, renders=2),
    "if-wrapped-pod": Case(IF_WRAPPED, "Deployment", POD),
    "if-wrapped-selector": Case(IF_WRAPPED, "Deployment", SELECTOR),
    "crlf-pod": Case(CRLF, "Deployment", POD),
    "crlf-selector": Case(CRLF, "Deployment", SELECTOR),
    "bom-no-final-newline-pod": Case(BOM_NO_FINAL_NEWLINE, "Deployment", POD),
    "bom-no-final-newline-selector": Case(BOM_NO_FINAL_NEWLINE, "Deployment", SELECTOR),
}


def write_chart(root: Path, template: bytes) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(CHART_YAML)
    (root / "values.yaml").write_text(VALUES_YAML)
    (root / "templates" / "_helpers.tpl").write_text(HELPERS)
    (root / "templates" / "app.yaml").write_bytes(template)
    return root


def render(chart: Path) -> list[dict[str, Any]]:
    rendered = helm_python.Chart.load(chart).render(name="rel", namespace="ns", is_install=True)
    objects = []
    for name in sorted(rendered):
        if name.endswith(".yaml"):
            objects += [obj for obj in yaml.safe_load_all(rendered[name]) if obj]
    return objects


def labels_at(obj: dict[str, Any], path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def insert_label(data: bytes, kind: str, path: str) -> bytes:
    text = decode(data)
    out = outline(text)
    sites = [d.sites[path] for d in out.documents if d.kind == kind and path in d.sites]
    assert len(sites) == 1, f"expected one {kind} document with {path}"
    edit = insert_entry(sites[0], KEY, VALUE, out.newline())
    return encode(apply_edits(text, [edit]))


@pytest.mark.parametrize("name", list(CASES))
def test_one_inserted_label_is_the_only_change(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    before_bytes = encode(case.template)
    before = render(write_chart(tmp_path / "before", before_bytes))
    assert any(obj["kind"] == case.kind for obj in before), "the fixture renders the object"

    after_bytes = insert_label(before_bytes, case.kind, case.path)
    after = render(write_chart(tmp_path / "after", after_bytes))

    assert len(after) == len(before)
    stripped = copy.deepcopy(after)
    edited = 0
    for obj in stripped:
        labels = labels_at(obj, case.path)
        if obj["kind"] == case.kind and isinstance(labels, dict) and KEY in labels:
            assert labels.pop(KEY) == VALUE
            edited += 1
    assert edited == case.renders
    assert stripped == before


def test_fixtures_render_the_shapes_they_claim(tmp_path: Path) -> None:
    """Guards the fixtures themselves: conditionals, includes and ranges really render."""
    objects = render(write_chart(tmp_path / "c", encode(RANGE)))
    assert [labels_at(o, SELECTOR)["worker"] for o in objects] == ["alpha", "beta"]
    objects = render(write_chart(tmp_path / "d", encode(CONDITIONAL)))
    assert labels_at(objects[0], POD) == {"app": "web", "extra": "yes"}
    objects = render(write_chart(tmp_path / "e", encode(SCAFFOLD)))
    assert labels_at(objects[0], POD) == {
        "app.kubernetes.io/name": "demo",
        "app.kubernetes.io/instance": "rel",
        "tier": "web",
        "team": "core",
    }
