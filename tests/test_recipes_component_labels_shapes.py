"""component-labels alone on the shapes real charts throw, before and after (as
test_recipes_component_labels.py): random names, a document of two kinds, a defaulted
selector, objects written in a define, charts that render only with synthesized values.
What check makes of the shapes: test_shapes.py, test_synthesis.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_recipes_component_labels import applicability, fixture_files, objects, written

from chartfix.recipes.component_labels import ComponentLabels, ComponentLabelsOptions
from chartfix.testing import assert_recipe, run_recipe

RANDOM_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "random-names.fullname" . }}
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: inventory
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: http
              containerPort: 8080
"""

RANDOM_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "random-names.fullname" . }}
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      component: inventory
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        component: inventory
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: inventory
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: http
              containerPort: 8080
"""

RANDOM_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "random-names.fullname" . }}
spec:
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
  selector:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
"""

RANDOM_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "random-names.fullname" . }}
spec:
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
  selector:
    app: {{ .Chart.Name }}
    component: inventory
    release: {{ .Release.Name }}
"""

RANDOM_SEED_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "random-names.seedJobName" . }}
  annotations:
    "helm.sh/hook": post-install
spec:
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
    spec:
      restartPolicy: Never
      containers:
        - name: seed
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["seed"]
"""

RANDOM_SEED_JOB_AFTER = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "random-names.seedJobName" . }}
  annotations:
    "helm.sh/hook": post-install
spec:
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        component: seed
        release: {{ .Release.Name }}
    spec:
      restartPolicy: Never
      containers:
        - name: seed
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["seed"]
"""

RANDOM_TEST_STOCK = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "random-names.fullname" . }}-test-{{ randAlphaNum 5 | lower }}"
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: curl
      image: curlimages/curl:8.5.0
      args: ["{{ include "random-names.fullname" . }}:{{ .Values.service.port }}/stock"]
"""

RANDOM_TEST_STOCK_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "random-names.fullname" . }}-test-{{ randAlphaNum 5 | lower }}"
  labels:
    app: {{ .Chart.Name }}
    component: test
    release: {{ .Release.Name }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: curl
      image: curlimages/curl:8.5.0
      args: ["{{ include "random-names.fullname" . }}:{{ .Values.service.port }}/stock"]
"""

RANDOM = {
    "templates/deployment.yaml": RANDOM_DEPLOYMENT,
    "templates/service.yaml": RANDOM_SERVICE,
    "templates/seed-job.yaml": RANDOM_SEED_JOB,
    "templates/tests/test-stock.yaml": RANDOM_TEST_STOCK,
}
RANDOM_AFTER = {
    "templates/deployment.yaml": RANDOM_DEPLOYMENT_AFTER,
    "templates/service.yaml": RANDOM_SERVICE_AFTER,
}


RANDOM_SAFE_AFTER = {
    "templates/seed-job.yaml": RANDOM_SEED_JOB.replace(
        "app: {{ .Chart.Name }}\n", "app: {{ .Chart.Name }}-seed\n"
    ),
    "templates/tests/test-stock.yaml": RANDOM_TEST_STOCK.replace(
        "app: {{ .Chart.Name }}\n", "app: {{ .Chart.Name }}-test\n"
    ),
}


def test_random_names_are_fixed_and_roles_come_from_the_stable_name() -> None:
    """fixtures/random-names: a test Pod and a hook Job named anew by every render; the
    roles come from the stable part of names, never from the random one. Helm recreates
    both (the Job names no hook-delete-policy: before-hook-creation applies), so by default
    they get values of their own and the Deployment's selector stays; the component route
    names the Deployment's role."""
    assert_recipe(ComponentLabels(), fixture_files("random-names", RANDOM), RANDOM_SAFE_AFTER)
    assert_recipe(
        ComponentLabels(), fixture_files("random-names", RANDOM), RANDOM_AFTER,
        options=ComponentLabelsOptions(prefer="component"),
    )
    assert_recipe(ComponentLabels(), fixture_files("random-names", RANDOM), {
        **RANDOM_AFTER,
        "templates/seed-job.yaml": RANDOM_SEED_JOB_AFTER,
        "templates/tests/test-stock.yaml": RANDOM_TEST_STOCK_AFTER,
    }, options=ComponentLabelsOptions(label_jobs=True, prefer="component"))



def test_a_hook_job_naming_no_delete_policy_is_one_helm_recreates() -> None:
    """Helm's chart hooks documentation: with no hook deletion policy annotation, the
    before-hook-creation behaviour applies. random-names' seed Job (a post-install hook with
    no policy) is deleted before it is created again: its new label changes nothing
    immutable."""
    run = run_recipe(ComponentLabels(), fixture_files("random-names", {}),
                     ComponentLabelsOptions(label_jobs=True, prefer="component"))
    assert applicability(run)["Job/release-name-random-names-seed-*"] == "safe"

TWO_PROXY = """\
apiVersion: apps/v1
{{- if .Values.proxy.daemonset }}
kind: DaemonSet
{{- else }}
kind: Deployment
{{- end }}
metadata:
  name: {{ .Release.Name }}-proxy
spec:
  {{- if not .Values.proxy.daemonset }}
  replicas: 2
  {{- end }}
  selector:
    matchLabels:
      {{- include "two-kinds.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "two-kinds.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: proxy
          image: example/proxy:0.4.0
          ports:
            - name: proxy
              containerPort: 3128
"""

TWO_PROXY_AFTER = """\
apiVersion: apps/v1
{{- if .Values.proxy.daemonset }}
kind: DaemonSet
{{- else }}
kind: Deployment
{{- end }}
metadata:
  name: {{ .Release.Name }}-proxy
spec:
  {{- if not .Values.proxy.daemonset }}
  replicas: 2
  {{- end }}
  selector:
    matchLabels:
      {{- include "two-kinds.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: proxy
  template:
    metadata:
      labels:
        {{- include "two-kinds.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: proxy
    spec:
      containers:
        - name: proxy
          image: example/proxy:0.4.0
          ports:
            - name: proxy
              containerPort: 3128
"""

TWO_STORE = """\
apiVersion: apps/v1
kind: {{ ternary "StatefulSet" "Deployment" .Values.store.persistence }}
metadata:
  name: {{ .Release.Name }}-store
spec:
  {{- if .Values.store.persistence }}
  serviceName: {{ .Release.Name }}-store
  {{- end }}
  selector:
    matchLabels:
      {{- include "two-kinds.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "two-kinds.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: store
          image: example/store:0.4.0
          ports:
            - name: store
              containerPort: 6000
"""

TWO_STORE_AFTER = """\
apiVersion: apps/v1
kind: {{ ternary "StatefulSet" "Deployment" .Values.store.persistence }}
metadata:
  name: {{ .Release.Name }}-store
spec:
  {{- if .Values.store.persistence }}
  serviceName: {{ .Release.Name }}-store
  {{- end }}
  selector:
    matchLabels:
      {{- include "two-kinds.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: store
  template:
    metadata:
      labels:
        {{- include "two-kinds.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: store
    spec:
      containers:
        - name: store
          image: example/store:0.4.0
          ports:
            - name: store
              containerPort: 6000
"""

TWO_CACHE = """\
apiVersion: apps/v1
kind: {{ .Values.cache.kind }}
metadata:
  name: {{ .Release.Name }}-cache
spec:
  selector:
    matchLabels:
      {{- include "two-kinds.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "two-kinds.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: cache
          image: example/cache:0.4.0
          ports:
            - name: cache
              containerPort: 11211
"""

TWO_CACHE_AFTER = """\
apiVersion: apps/v1
kind: {{ .Values.cache.kind }}
metadata:
  name: {{ .Release.Name }}-cache
spec:
  selector:
    matchLabels:
      {{- include "two-kinds.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: cache
  template:
    metadata:
      labels:
        {{- include "two-kinds.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: cache
    spec:
      containers:
        - name: cache
          image: example/cache:0.4.0
          ports:
            - name: cache
              containerPort: 11211
"""

TWO_SERVICES = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-proxy
spec:
  ports:
    - port: 3128
      targetPort: proxy
  selector:
    {{- include "two-kinds.selectorLabels" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-store
spec:
  ports:
    - port: 6000
      targetPort: store
  selector:
    {{- include "two-kinds.selectorLabels" . | nindent 4 }}
"""

TWO_SERVICES_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-proxy
spec:
  ports:
    - port: 3128
      targetPort: proxy
  selector:
    {{- include "two-kinds.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: proxy
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-store
spec:
  ports:
    - port: 6000
      targetPort: store
  selector:
    {{- include "two-kinds.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: store
"""


def test_a_document_of_two_kinds_gets_one_label_allowed_on_every_kind(tmp_path: Path) -> None:
    """fixtures/two-kinds: a kind chosen by values (DaemonSet or Deployment, StatefulSet or
    Deployment, any kind a value names): one label per document, and the selector of
    whichever kind a scenario renders holds it."""
    run = assert_recipe(ComponentLabels(), fixture_files("two-kinds", {
        "templates/proxy.yaml": TWO_PROXY,
        "templates/store.yaml": TWO_STORE,
        "templates/cache.yaml": TWO_CACHE,
        "templates/services.yaml": TWO_SERVICES,
    }), {
        "templates/proxy.yaml": TWO_PROXY_AFTER,
        "templates/store.yaml": TWO_STORE_AFTER,
        "templates/cache.yaml": TWO_CACHE_AFTER,
        "templates/services.yaml": TWO_SERVICES_AFTER,
    })
    assert {(f.rule, str(f.obj)) for f in run.before} >= {
        ("overlap", "DaemonSet/release-name-proxy"),
        ("overlap", "Deployment/release-name-proxy"),
        ("overlap", "StatefulSet/release-name-store"),
        ("overlap", "Deployment/release-name-store"),
        ("overlap", "DaemonSet/release-name-cache"),
        ("overlap", "Deployment/release-name-cache"),
    }
    chart = written(run, tmp_path)
    for scenario, kinds in (
        ("default", ("Deployment", "Deployment", "Deployment")),
        ("ci/node-local-values.yaml", ("DaemonSet", "StatefulSet", "DaemonSet")),
    ):
        after = objects(chart, scenario)
        for kind, role in zip(kinds, ("proxy", "store", "cache"), strict=True):
            selector = after[f"{kind}/release-name-{role}"].selector
            assert selector is not None
            assert selector.match_labels["app.kubernetes.io/component"] == role, (scenario, kind)


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
      component: ledger
  template:
    metadata:
      labels:
        app: ledger
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
        component: ledger
    spec:
      containers:
        - name: ledger
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8000
"""

DEFAULTED_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-ledger
spec:
  ports:
    - port: 80
      targetPort: http
  selector:
    app: ledger
    release: {{ .Release.Name }}
"""

DEFAULTED_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-ledger
spec:
  ports:
    - port: 80
      targetPort: http
  selector:
    app: ledger
    component: ledger
    release: {{ .Release.Name }}
"""


DEFAULTED_BACKUP_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-backup
  annotations:
    "helm.sh/hook": pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation
spec:
  template:
    metadata:
      labels:
        app: ledger
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
    spec:
      restartPolicy: Never
      containers:
        - name: backup
          image: {{ .Values.image }}
          args: ["backup"]
"""

DEFAULTED_BACKUP_JOB_AFTER = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-backup
  annotations:
    "helm.sh/hook": pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation
spec:
  template:
    metadata:
      labels:
        app: ledger-backup
        chart: {{ .Chart.Name }}-{{ .Chart.Version }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
    spec:
      restartPolicy: Never
      containers:
        - name: backup
          image: {{ .Values.image }}
          args: ["backup"]
"""


def test_by_default_a_defaulted_selector_stays_and_the_hook_job_is_relabelled() -> None:
    """The Deployment's only other pods are a hook Job Helm recreates: they get their own
    `app`, and the selector the API server defaults is left as it is (stable-selectors
    writes it out: test_recipes_stable_selectors.py)."""
    run = assert_recipe(ComponentLabels(), fixture_files("defaulted-selector", {
        "templates/backup-job.yaml": DEFAULTED_BACKUP_JOB,
    }), {"templates/backup-job.yaml": DEFAULTED_BACKUP_JOB_AFTER})
    assert list(applicability(run).values()) == ["safe"]


def test_a_defaulted_selector_is_written_out_of_the_stable_labels(tmp_path: Path) -> None:
    """fixtures/defaulted-selector: an extensions/v1beta1 Deployment whose selector the API
    server fills in from its pod labels (`chart: NAME-VERSION` too) gets it written out of
    the stable ones, with its component (the StatefulSet, with no overlap, is
    stable-selectors': test_recipes_stable_selectors.py)."""
    run = assert_recipe(ComponentLabels(), fixture_files("defaulted-selector", {
        "templates/deployment.yaml": DEFAULTED_DEPLOYMENT,
        "templates/service.yaml": DEFAULTED_SERVICE,
    }), {
        "templates/deployment.yaml": DEFAULTED_DEPLOYMENT_AFTER,
        "templates/service.yaml": DEFAULTED_SERVICE_AFTER,
    }, options={"prefer": "component"})  # unset, its hook Job would be relabelled
    ledger = objects(written(run, tmp_path))["Deployment/release-name-ledger"]
    assert not ledger.selector_defaulted
    assert ledger.body["spec"]["selector"] == {
        "matchLabels": {"app": "ledger", "release": "release-name", "component": "ledger"}
    }


DEFINED_DEPLOYMENTS = """\
{{- define "define-objects.deployment.web" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lib.fullname" . }}-web
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels:
      {{- include "lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "lib.labels" . | nindent 8 }}
    spec:
      containers:
        - name: web
          image: example/shop-web:2.0.0
          ports:
            - name: http
              containerPort: 8080
{{- end }}

{{- define "define-objects.deployment.worker" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lib.fullname" . }}-worker
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
  {{- include "lib.selector" . | indent 4 }}
  template:
    metadata:
      labels:
        {{- include "lib.labels" . | nindent 8 }}
    spec:
      containers:
        - name: worker
          image: example/shop-worker:2.0.0
{{- end }}

{{- define "define-objects.service.web" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "lib.fullname" . }}-web
spec:
  ports:
    - port: 80
      targetPort: http
  selector:
    {{- include "lib.selectorLabels" . | nindent 4 }}
{{- end }}
"""

DEFINED_DEPLOYMENTS_AFTER = """\
{{- define "define-objects.deployment.web" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lib.fullname" . }}-web
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels:
      {{- include "lib.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: web
  template:
    metadata:
      labels:
        {{- include "lib.labels" . | nindent 8 }}
        app.kubernetes.io/component: web
    spec:
      containers:
        - name: web
          image: example/shop-web:2.0.0
          ports:
            - name: http
              containerPort: 8080
{{- end }}

{{- define "define-objects.deployment.worker" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lib.fullname" . }}-worker
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
  {{- include "lib.selector" . | indent 4 }}
      app.kubernetes.io/component: worker
  template:
    metadata:
      labels:
        {{- include "lib.labels" . | nindent 8 }}
        app.kubernetes.io/component: worker
    spec:
      containers:
        - name: worker
          image: example/shop-worker:2.0.0
{{- end }}

{{- define "define-objects.service.web" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "lib.fullname" . }}-web
spec:
  ports:
    - port: 80
      targetPort: http
  selector:
    {{- include "lib.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: web
{{- end }}
"""

DEFINED_WORKER_ONLY_AFTER = """\
{{- define "define-objects.deployment.web" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lib.fullname" . }}-web
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels:
      {{- include "lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "lib.labels" . | nindent 8 }}
    spec:
      containers:
        - name: web
          image: example/shop-web:2.0.0
          ports:
            - name: http
              containerPort: 8080
{{- end }}

{{- define "define-objects.deployment.worker" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lib.fullname" . }}-worker
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
  {{- include "lib.selector" . | indent 4 }}
      app.kubernetes.io/component: worker
  template:
    metadata:
      labels:
        {{- include "lib.labels" . | nindent 8 }}
        app.kubernetes.io/component: worker
    spec:
      containers:
        - name: worker
          image: example/shop-worker:2.0.0
{{- end }}

{{- define "define-objects.service.web" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "lib.fullname" . }}-web
spec:
  ports:
    - port: 80
      targetPort: http
  selector:
    {{- include "lib.selectorLabels" . | nindent 4 }}
{{- end }}
"""


def test_objects_in_a_define_are_fixed_in_the_define(tmp_path: Path) -> None:
    """fixtures/define-objects: whole Deployments and a Service written in `define`s, one
    include line each: the labels go in the defines, never the includes or the vendored
    library; the worker's helper writes `matchLabels:` itself, so its entry goes after."""
    run = assert_recipe(
        ComponentLabels(),
        fixture_files("define-objects", {"templates/_deployments.yaml.tpl": DEFINED_DEPLOYMENTS}),
        {"templates/_deployments.yaml.tpl": DEFINED_DEPLOYMENTS_AFTER},
    )
    selector = objects(written(run, tmp_path))["Deployment/release-name-define-objects-worker"]
    assert selector.selector is not None and selector.selector.match_labels == {
        "app.kubernetes.io/name": "define-objects",
        "app.kubernetes.io/instance": "release-name",
        "app.kubernetes.io/component": "worker",
    }


def test_a_define_other_includes_render_is_left_and_the_others_fixed() -> None:
    """A canary include of the web define, off by default: a label written in the define
    would reach it too, so the web define stays as it is (the reason: test_shapes.py); the
    worker define, included once, is still fixed."""
    canary = (
        '{{- if .Values.canary }}\n{{ include "define-objects.deployment.web" . }}\n{{- end }}\n'
    )
    assert_recipe(ComponentLabels(), fixture_files("define-objects", {
        "templates/_deployments.yaml.tpl": DEFINED_DEPLOYMENTS,
        "templates/canary.yaml": canary,
    }), {"templates/_deployments.yaml.tpl": DEFINED_WORKER_ONLY_AFTER},
        left=["overlap Deployment/release-name-define-objects-web"])


# --- charts that render only with synthesized values (test_synthesis.py) ---------------------
# Each fixtures/deploy-time chart fails to render with its own defaults; analysed with
# placeholder values, its fix writes none of them.

NEEDS_REQUIRED_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-required
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-required
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-required
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ required "set the registry your cluster pulls from" .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}
"""

NEEDS_REQUIRED_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-required
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-required
      component: api
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-required
        component: api
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ required "set the registry your cluster pulls from" .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}
"""

NEEDS_FAIL_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-fail
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-fail
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-fail
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ .Values.image }}
"""

NEEDS_FAIL_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-fail
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-fail
      component: api
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-fail
        component: api
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ .Values.image }}
"""

NEEDS_GLOBAL_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-global
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-global
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-global
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ .Values.global.registry.host }}/{{ .Values.image }}
"""

NEEDS_GLOBAL_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-global
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-global
      component: api
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-global
        component: api
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ .Values.global.registry.host }}/{{ .Values.image }}
"""

NEEDS_LIST_MAP_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-list-map
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-list-map
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-list-map
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ .Values.image }}
"""

NEEDS_LIST_MAP_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: needs-list-map
    release: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: needs-list-map
      component: api
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: needs-list-map
        component: api
        release: {{ .Release.Name }}
    spec:
      containers:
        - name: api
          image: {{ .Values.image }}
"""


@pytest.mark.parametrize(("name", "before", "after"), [
    ("needs-required", NEEDS_REQUIRED_DEPLOYMENT, NEEDS_REQUIRED_DEPLOYMENT_AFTER),
    ("needs-fail", NEEDS_FAIL_DEPLOYMENT, NEEDS_FAIL_DEPLOYMENT_AFTER),
    ("needs-global", NEEDS_GLOBAL_DEPLOYMENT, NEEDS_GLOBAL_DEPLOYMENT_AFTER),
    ("needs-list-map", NEEDS_LIST_MAP_DEPLOYMENT, NEEDS_LIST_MAP_DEPLOYMENT_AFTER),
])
def test_a_chart_that_needs_deploy_time_values_is_fixed_without_them(
    name: str, before: str, after: str
) -> None:
    assert_recipe(
        ComponentLabels(),
        fixture_files(f"deploy-time/{name}", {"templates/deployment.yaml": before}),
        {"templates/deployment.yaml": after},
    )


REQUIRED_ROLE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ required "role" .Values.role }}
spec:
  selector:
    matchLabels:
      app: shop
  template:
    metadata:
      labels:
        app: shop
    spec:
      containers:
        - name: {{ required "container name" .Values.containerName }}
          image: shop:1.0
"""

REQUIRED_ROLE_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-{{ required "role" .Values.role }}
spec:
  selector:
    matchLabels:
      app: shop
      component: server
  template:
    metadata:
      labels:
        app: shop
        component: server
    spec:
      containers:
        - name: {{ required "container name" .Values.containerName }}
          image: shop:1.0
"""


def test_a_name_made_of_required_values_gives_the_kinds_default_component() -> None:
    """fixtures/placeholders/required-role: the Deployment's name and its container's come
    from required values: the component is the kind's default, never a placeholder (the
    migration note: test_synthesis.py)."""
    assert_recipe(ComponentLabels(), fixture_files("placeholders/required-role", {
        "templates/deployment.yaml": REQUIRED_ROLE_DEPLOYMENT,
    }), {"templates/deployment.yaml": REQUIRED_ROLE_DEPLOYMENT_AFTER})
