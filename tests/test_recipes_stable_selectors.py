"""stable-selectors alone, before and after: every case writes the templates it edits out in
full, before and after, compared byte for byte (`chartfix.testing.assert_recipe`, as
libcst's `assertCodemod`). A case on a fixture chart (fixtures/README.md) writes out the
templates the recipe edits; its helpers, values and other templates come from the fixture.
"""

from __future__ import annotations

import pytest
from test_recipes_component_labels import applicability, fixture_files

from chartfix.recipes.stable_selectors import StableSelectors
from chartfix.testing import assert_recipe

# --- a version in one Deployment's selector ---------------------------------------------------

VERSIONED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
      app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
  template:
    metadata:
      labels:
        app: web
        app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    spec:
      containers:
        - name: web
          image: nginx
"""

VERSIONED_AFTER = """\
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
        app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    spec:
      containers:
        - name: web
          image: nginx
"""


def test_the_app_version_leaves_the_selector_and_stays_on_the_pods() -> None:
    run = assert_recipe(StableSelectors(), {"templates/web.yaml": VERSIONED},
                        {"templates/web.yaml": VERSIONED_AFTER})
    assert applicability(run) == {"Deployment/release-name-web": "unsafe"}


# --- fixtures/volatile-legacy: `chart: NAME-VERSION` as a literal line -----------------------

LEGACY_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ template "volatile-legacy.name" . }}
  labels:
    app: {{ template "volatile-legacy.name" . }}
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ template "volatile-legacy.name" . }}
      chart: {{ .Chart.Name }}-{{ .Chart.Version }}
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ template "volatile-legacy.name" . }}
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: gateway
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
"""

LEGACY_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ template "volatile-legacy.name" . }}
  labels:
    app: {{ template "volatile-legacy.name" . }}
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ template "volatile-legacy.name" . }}
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ template "volatile-legacy.name" . }}
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: gateway
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
"""

LEGACY_SERVICE_WITH_HERITAGE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-{{ template "volatile-legacy.name" . }}
  labels:
    app: {{ template "volatile-legacy.name" . }}
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
  selector:
    app: {{ template "volatile-legacy.name" . }}
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
"""

LEGACY_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-{{ template "volatile-legacy.name" . }}
  labels:
    app: {{ template "volatile-legacy.name" . }}
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
  selector:
    app: {{ template "volatile-legacy.name" . }}
    release: {{ .Release.Name }}
"""


def test_a_volatile_selector_that_also_names_the_manager_loses_both() -> None:
    """The Service's volatile finding lists the chart version and `heritage`; removing the
    version alone would leave the same finding (as a warning), so both go in one edit."""
    run = assert_recipe(StableSelectors(), fixture_files("volatile-legacy", {
        "templates/deployment.yaml": LEGACY_DEPLOYMENT,
        "templates/service.yaml": LEGACY_SERVICE_WITH_HERITAGE,
    }), {
        "templates/deployment.yaml": LEGACY_DEPLOYMENT_AFTER,
        "templates/service.yaml": LEGACY_SERVICE_AFTER,
    })
    assert applicability(run) == {
        "Deployment/release-name-volatile-legacy": "unsafe",
        "Service/release-name-volatile-legacy": "safe",
    }


# --- fixtures/volatile-helper: `helm.sh/chart` in the shared selectorLabels helper ------------

HELPERS = """\
{{- define "volatile-helper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "volatile-helper.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "volatile-helper.labels" -}}
{{ include "volatile-helper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "volatile-helper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "volatile-helper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ include "volatile-helper.chart" . }}
{{- end }}
"""

HELPERS_AFTER = """\
{{- define "volatile-helper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "volatile-helper.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "volatile-helper.labels" -}}
{{ include "volatile-helper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "volatile-helper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "volatile-helper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ include "volatile-helper.chart" . }}
{{- end }}

{{/*
Selector labels: volatile-helper.selectorLabels without the values that change between releases.
Selectors are immutable: an existing release needs the migration steps that came with this change.
*/}}
{{- define "volatile-helper.stableSelectorLabels" -}}
app.kubernetes.io/name: {{ include "volatile-helper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""

HELPER_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "volatile-helper.fullname" . }}
  labels:
    {{- include "volatile-helper.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "volatile-helper.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "volatile-helper.labels" . | nindent 8 }}
    spec:
      containers:
        - name: api
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: 8080
"""

HELPER_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "volatile-helper.fullname" . }}
  labels:
    {{- include "volatile-helper.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "volatile-helper.stableSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "volatile-helper.labels" . | nindent 8 }}
    spec:
      containers:
        - name: api
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: 8080
"""

HELPER_PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "volatile-helper.fullname" . }}
  labels:
    {{- include "volatile-helper.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "volatile-helper.selectorLabels" . | nindent 6 }}
"""

HELPER_PDB_AFTER = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "volatile-helper.fullname" . }}
  labels:
    {{- include "volatile-helper.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "volatile-helper.stableSelectorLabels" . | nindent 6 }}
"""

HELPER_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "volatile-helper.fullname" . }}
  labels:
    {{- include "volatile-helper.labels" . | nindent 4 }}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    {{- include "volatile-helper.selectorLabels" . | nindent 4 }}
"""

HELPER_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "volatile-helper.fullname" . }}
  labels:
    {{- include "volatile-helper.labels" . | nindent 4 }}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    {{- include "volatile-helper.stableSelectorLabels" . | nindent 4 }}
"""

HELPER_TEMPLATES = {
    "templates/deployment.yaml": HELPER_DEPLOYMENT,
    "templates/pdb.yaml": HELPER_PDB,
    "templates/service.yaml": HELPER_SERVICE,
}
HELPER_TEMPLATES_AFTER = {
    "templates/deployment.yaml": HELPER_DEPLOYMENT_AFTER,
    "templates/pdb.yaml": HELPER_PDB_AFTER,
    "templates/service.yaml": HELPER_SERVICE_AFTER,
}


def test_a_shared_helper_gets_a_selector_only_sibling() -> None:
    """The volatile entry comes from a helper that also writes metadata labels: a
    selector-only helper is added beside it, and the selectors include that one."""
    assert_recipe(
        StableSelectors(),
        fixture_files("volatile-helper", {"templates/_helpers.tpl": HELPERS, **HELPER_TEMPLATES}),
        {"templates/_helpers.tpl": HELPERS_AFTER, **HELPER_TEMPLATES_AFTER},
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_helpers_file_without_final_newline_gets_the_sibling_after_its_last_line(
    newline: str,
) -> None:
    """The shared helper's `{{- end }}` ends the file, with no newline: the sibling follows
    it after a blank line, in the file's line breaks, and the file still ends without one."""
    helpers = HELPERS.removesuffix("\n").replace("\n", newline)
    after = HELPERS_AFTER.removesuffix("\n").replace("\n", newline)
    assert_recipe(
        StableSelectors(),
        fixture_files("volatile-helper", {"templates/_helpers.tpl": helpers, **HELPER_TEMPLATES}),
        {"templates/_helpers.tpl": after, **HELPER_TEMPLATES_AFTER},
    )


CONDITIONAL_HELPERS = """\
{{- define "volatile-helper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "volatile-helper.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "volatile-helper.labels" -}}
{{ include "volatile-helper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "volatile-helper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "volatile-helper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Values.legacy }}
helm.sh/chart: legacy
{{- else }}
helm.sh/chart: {{ include "volatile-helper.chart" . }}
{{- end }}
{{- with .Values.tier }}
tier: {{ . }}
{{- end }}
{{- end }}
"""

CONDITIONAL_HELPERS_AFTER = """\
{{- define "volatile-helper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "volatile-helper.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "volatile-helper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "volatile-helper.labels" -}}
{{ include "volatile-helper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "volatile-helper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "volatile-helper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Values.legacy }}
helm.sh/chart: legacy
{{- else }}
helm.sh/chart: {{ include "volatile-helper.chart" . }}
{{- end }}
{{- with .Values.tier }}
tier: {{ . }}
{{- end }}
{{- end }}

{{/*
Selector labels: volatile-helper.selectorLabels without the values that change between releases.
Selectors are immutable: an existing release needs the migration steps that came with this change.
*/}}
{{- define "volatile-helper.stableSelectorLabels" -}}
app.kubernetes.io/name: {{ include "volatile-helper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- with .Values.tier }}
tier: {{ . }}
{{- end }}
{{- end }}
"""


def test_a_split_helper_keeps_no_conditional_the_removed_keys_emptied() -> None:
    """When the volatile key sits in an if/else in the helper (graylog's `managed-by` under
    helm2Compatibility), the selector-only copy leaves out the whole conditional, not an
    empty `{{- if }}{{- else }}{{- end }}`; a conditional still holding a stable key stays.
    The comment names no file the note may not be in (--branch writes README.md)."""
    assert_recipe(
        StableSelectors(),
        fixture_files("volatile-helper", {"templates/_helpers.tpl": CONDITIONAL_HELPERS,
                                    **HELPER_TEMPLATES}),
        {"templates/_helpers.tpl": CONDITIONAL_HELPERS_AFTER, **HELPER_TEMPLATES_AFTER},
    )


# --- a library chart's helper -----------------------------------------------------------------

LIBRARY_CHART_YAML = """\
apiVersion: v2
name: shop
version: 1.0.0
appVersion: 2.0.0
dependencies:
- name: kit
  version: 1.0.0
"""

LIBRARY_HELPERS = """\
{{- define "kit.labels.standard" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "kit.labels.matchLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
"""

NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: shop
spec:
  podSelector:
    matchLabels: {{- include "kit.labels.standard" . | nindent 6 }}
  policyTypes: [Ingress]
"""

NETWORK_POLICY_AFTER = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: shop
spec:
  podSelector:
    matchLabels: {{- include "kit.labels.matchLabels" . | nindent 6 }}
  policyTypes: [Ingress]
"""


def test_a_library_helper_is_swapped_for_its_selector_only_sibling() -> None:
    """The version comes from a library chart's helper the chart cannot edit: the selector
    includes the library's own selector-only helper instead (bitnami's common does this)."""
    run = assert_recipe(StableSelectors(), {
        "Chart.yaml": LIBRARY_CHART_YAML,
        "charts/kit/Chart.yaml": "apiVersion: v2\nname: kit\nversion: 1.0.0\ntype: library\n",
        "charts/kit/templates/_labels.tpl": LIBRARY_HELPERS,
        "templates/networkpolicy.yaml": NETWORK_POLICY,
    }, {"templates/networkpolicy.yaml": NETWORK_POLICY_AFTER})
    (unit,) = run.verified.kept
    assert [c.key for changes in unit.changes.values() for c in changes] == [
        "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
    ], "each label the unit removes is listed once (fix --format json's units[].changes)"


# --- fixtures/defaulted-selector: selectors the API server fills in --------------------------

DEFAULTED_DEPLOYMENT = """\
apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-ledger
  labels:
    app: ledger
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: ledger
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
    spec:
      containers:
        - name: ledger
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8000
"""

DEFAULTED_DEPLOYMENT_AFTER = """\
apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-ledger
  labels:
    app: ledger
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ledger
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: ledger
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
    spec:
      containers:
        - name: ledger
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8000
"""

DEFAULTED_STATEFULSET = """\
apiVersion: apps/v1beta1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-journal
spec:
  serviceName: {{ .Release.Name }}-journal
  replicas: 1
  template:
    metadata:
      labels:
        app: journal
        chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"
        release: {{ .Release.Name | quote }}
    spec:
      containers:
        - name: journal
          image: {{ .Values.image }}
          args: ["journal"]
"""

DEFAULTED_STATEFULSET_AFTER = """\
apiVersion: apps/v1beta1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-journal
spec:
  serviceName: {{ .Release.Name }}-journal
  replicas: 1
  selector:
    matchLabels:
      app: journal
      release: {{ .Release.Name | quote }}
  template:
    metadata:
      labels:
        app: journal
        chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"
        release: {{ .Release.Name | quote }}
    spec:
      containers:
        - name: journal
          image: {{ .Values.image }}
          args: ["journal"]
"""


def test_a_defaulted_selector_is_written_out_without_the_volatile_labels() -> None:
    """extensions/v1beta1 and apps/v1beta1 default the selector to every pod label, `chart:
    NAME-VERSION` included: written out without it (and without `heritage`), and without a
    component, which is component-labels' (the Deployment's hook Job overlap is left)."""
    run = assert_recipe(StableSelectors(), fixture_files("defaulted-selector", {
        "templates/deployment.yaml": DEFAULTED_DEPLOYMENT,
        "templates/statefulset.yaml": DEFAULTED_STATEFULSET,
    }), {
        "templates/deployment.yaml": DEFAULTED_DEPLOYMENT_AFTER,
        "templates/statefulset.yaml": DEFAULTED_STATEFULSET_AFTER,
    })
    assert applicability(run) == {
        "Deployment/release-name-ledger": "unsafe", "StatefulSet/release-name-journal": "unsafe",
    }


# --- fixtures/volatile-only-difference: the version was all that told two Deployments apart --

ONLY_WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: shop
      release: {{ .Release.Name }}
      version: {{ .Chart.Version }}
  template:
    metadata:
      labels:
        app: shop
        release: {{ .Release.Name }}
        version: {{ .Chart.Version }}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: shop
    release: {{ .Release.Name }}
    version: {{ .Chart.Version }}
"""

ONLY_WEB_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: shop
      component: web
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: shop
        component: web
        release: {{ .Release.Name }}
        version: {{ .Chart.Version }}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: shop
    component: web
    release: {{ .Release.Name }}
"""


ONLY_WEB_TIER_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: shop
      release: {{ .Release.Name }}
      tier: x
  template:
    metadata:
      labels:
        app: shop
        release: {{ .Release.Name }}
        tier: x
        version: {{ .Chart.Version }}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: shop
    release: {{ .Release.Name }}
    tier: x
"""


def test_removing_the_only_difference_comes_with_a_component() -> None:
    """Removing the version alone would make the web's selector catch the worker's pods: the
    web Deployment gets a component in the same unit (keys in alphabetical order: the new
    one takes its sorted place), and its Service follows; the worker stays."""
    run = assert_recipe(
        StableSelectors(),
        fixture_files("volatile-only-difference", {"templates/web.yaml": ONLY_WEB}),
        {"templates/web.yaml": ONLY_WEB_AFTER},
    )
    assert applicability(run) == {"Deployment/release-name-web": "unsafe"}
    assert run.verified.after_findings == [], "no overlap, no spans either"


def test_the_component_it_adds_is_named_by_its_own_options() -> None:
    assert_recipe(
        StableSelectors(),
        fixture_files("volatile-only-difference", {"templates/web.yaml": ONLY_WEB}),
        {"templates/web.yaml": ONLY_WEB_TIER_AFTER},
        options={"component-key": "tier", "components": {"*": "x"}},
    )
