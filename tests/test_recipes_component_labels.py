"""component-labels alone, before and after: every case writes the templates it edits out in
full, before and after, compared byte for byte (`chartfix.testing.assert_recipe`, as
libcst's `assertCodemod`). A case on a fixture chart (fixtures/README.md) writes out the
templates the recipe edits; its helpers, values and other templates come from the fixture.

The pipeline's tests (test_recipes.py) run every recipe together on the fixtures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.model.objects import K8sObject
from chartfix.pipeline import FixRequest, fix_target
from chartfix.recipes.component_labels import ComponentLabels, ComponentLabelsOptions
from chartfix.sources.helm.chart import Scenario, load_chart, scenarios
from chartfix.sources.helm.render import render
from chartfix.testing import RecipeRun, assert_recipe, run_recipe


def fixture(name: str, templates: Mapping[str, str]) -> dict[str, str]:
    """The files of fixtures/NAME, with `templates` (chart path -> text) written over them."""
    root = FIXTURES / name
    files = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*")) if p.is_file()
    }
    return {**files, **templates}


def applicability(run: RecipeRun) -> dict[str, str]:
    """Each kept unit's object and whether upgrading an existing release takes a step."""
    return {unit.title.split(":")[0]: unit.applicability for unit in run.verified.kept}


# --- a small shop: a Deployment, a hook Job and a Service share `app: shop` -----------------

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-server
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
        - name: server
          image: nginx
"""

HOOK_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  template:
    metadata:
      labels:
        app: shop
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-server
spec:
  selector:
    app: shop
  ports:
    - port: 80
"""

SHOP = {
    "templates/deployment.yaml": DEPLOYMENT,
    "templates/job.yaml": HOOK_JOB,
    "templates/service.yaml": SERVICE,
}

DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-server
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
        - name: server
          image: nginx
"""

SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-server
spec:
  selector:
    app: shop
    component: server
  ports:
    - port: 80
"""


def test_the_server_gets_a_component_and_its_service_follows() -> None:
    run = assert_recipe(ComponentLabels(), SHOP, {
        "templates/deployment.yaml": DEPLOYMENT_AFTER,
        "templates/service.yaml": SERVICE_AFTER,
    })
    assert applicability(run) == {"Deployment/release-name-server": "unsafe"}


TEAM_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-server
spec:
  selector:
    matchLabels:
      app: shop
      team.example.com/component: storefront
  template:
    metadata:
      labels:
        app: shop
        team.example.com/component: storefront
    spec:
      containers:
        - name: server
          image: nginx
"""

TEAM_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-server
spec:
  selector:
    app: shop
    team.example.com/component: storefront
  ports:
    - port: 80
"""


def test_options_set_the_key_and_the_value() -> None:
    assert_recipe(ComponentLabels(), SHOP, {
        "templates/deployment.yaml": TEAM_DEPLOYMENT_AFTER,
        "templates/service.yaml": TEAM_SERVICE_AFTER,
    }, options={
        "component-key": "team.example.com/component", "components": {"*-server": "storefront"},
    })


HOOK_JOB_AFTER = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  template:
    metadata:
      labels:
        app: shop
        component: migrate
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
"""


def test_label_jobs_labels_the_hook_job_too_and_that_is_safe() -> None:
    run = assert_recipe(ComponentLabels(), SHOP, {
        "templates/deployment.yaml": DEPLOYMENT_AFTER,
        "templates/service.yaml": SERVICE_AFTER,
        "templates/job.yaml": HOOK_JOB_AFTER,
    }, options=ComponentLabelsOptions(label_jobs=True))
    assert applicability(run) == {
        "Deployment/release-name-server": "unsafe",
        "Job/release-name-migrate": "safe",  # Helm recreates this hook Job
    }


def test_a_component_value_that_is_no_label_value_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="no label value"):
        run_recipe(ComponentLabels(), SHOP, options={"components": {"server": "not a value"}})
    with pytest.raises(ValueError, match="declares no option label-job"):
        run_recipe(ComponentLabels(), SHOP, options={"label-job": True})


def test_components_from_the_command_line_and_chartfix_yaml_are_the_recipes_option(
    chart_copy,
) -> None:
    """`fix --component NAME=VALUE` and `.chartfix.yaml`'s `components:` reach the recipe as
    its `components` option (what the option does: test_options_set_the_key_and_the_value)."""
    def fixed(change) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {f.path: f.after.decode() for f in change.files}

    def recipe(chart, components: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
        run = run_recipe(ComponentLabels(), chart, {"components": components})
        return {p: t for p, t in run.files.items() if (chart / p).read_text() != t}

    legacy = chart_copy("legacy-server")
    flag = fix_target(legacy, FixRequest(fix_latent=True, components=(
        ("release-name-legacy-server", "fleet-server"),)))
    assert fixed(flag) == recipe(legacy, {"release-name-legacy-server": "fleet-server"})
    assert "component: fleet-server" in fixed(flag)["templates/service.yaml"]
    shared = chart_copy("shared-selector")
    (shared / ".chartfix.yaml").write_text("components:\n  worker: background\n")
    config = fix_target(shared, FixRequest(fix_latent=True))
    assert fixed(config) == recipe(shared, {"worker": "background"})
    assert "component: background" in fixed(config)["templates/worker-deployment.yaml"]


# --- fixtures/legacy-server: the FleetDM fix --------------------------------------------------

LEGACY_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ template "legacy-server.fullname" . }}
  labels:
    app: {{ template "legacy-server.name" . }}
    chart: {{ template "legacy-server.chart" . }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ template "legacy-server.name" . }}
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ template "legacy-server.name" . }}
        chart: {{ template "legacy-server.chart" . }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
    spec:
      containers:
        - name: server
          image: {{ template "legacy-server.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["serve"]
          ports:
            - name: http
              containerPort: {{ .Values.listenPort }}
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
{{ toYaml .Values.resources | indent 12 }}
"""

LEGACY_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ template "legacy-server.fullname" . }}
  labels:
    app: {{ template "legacy-server.name" . }}
    chart: {{ template "legacy-server.chart" . }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ template "legacy-server.name" . }}
      component: server
      release: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ template "legacy-server.name" . }}
        chart: {{ template "legacy-server.chart" . }}
        release: {{ .Release.Name }}
        heritage: {{ .Release.Service }}
        component: server
    spec:
      containers:
        - name: server
          image: {{ template "legacy-server.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["serve"]
          ports:
            - name: http
              containerPort: {{ .Values.listenPort }}
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
{{ toYaml .Values.resources | indent 12 }}
"""

LEGACY_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ template "legacy-server.fullname" . }}
  labels:
    app: {{ template "legacy-server.name" . }}
    chart: {{ template "legacy-server.chart" . }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: {{ .Values.listenPort }}
      protocol: TCP
      name: http
  selector:
    app: {{ template "legacy-server.name" . }}
    release: {{ .Release.Name }}
"""

LEGACY_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ template "legacy-server.fullname" . }}
  labels:
    app: {{ template "legacy-server.name" . }}
    chart: {{ template "legacy-server.chart" . }}
    release: {{ .Release.Name }}
    heritage: {{ .Release.Service }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: {{ .Values.listenPort }}
      protocol: TCP
      name: http
  selector:
    app: {{ template "legacy-server.name" . }}
    component: server
    release: {{ .Release.Name }}
"""


def test_legacy_server_gets_the_fleetdm_fix() -> None:
    """Selectors keep their alphabetical order (app, component, release), as upstream did;
    the pod labels (app, chart, release, heritage) have none: the key goes last. The hook
    Job and the CronJob are left alone by default."""
    run = assert_recipe(ComponentLabels(), fixture("legacy-server", {
        "templates/deployment.yaml": LEGACY_DEPLOYMENT,
        "templates/service.yaml": LEGACY_SERVICE,
    }), {
        "templates/deployment.yaml": LEGACY_DEPLOYMENT_AFTER,
        "templates/service.yaml": LEGACY_SERVICE_AFTER,
    })
    assert applicability(run) == {"Deployment/release-name-legacy-server": "unsafe"}


# --- fixtures/scaffold-helpers: `helm create`'s helpers ---------------------------------------

SCAFFOLD_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "scaffold-helpers.fullname" . }}
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "scaffold-helpers.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        {{- include "scaffold-helpers.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8000
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /
              port: http
          readinessProbe:
            httpGet:
              path: /
              port: http
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
"""

SCAFFOLD_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "scaffold-helpers.fullname" . }}
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "scaffold-helpers.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        {{- include "scaffold-helpers.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
        app.kubernetes.io/component: server
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8000
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /
              port: http
          readinessProbe:
            httpGet:
              path: /
              port: http
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
"""

SCAFFOLD_PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "scaffold-helpers.fullname" . }}
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
spec:
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "scaffold-helpers.selectorLabels" . | nindent 6 }}
"""

SCAFFOLD_PDB_AFTER = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "scaffold-helpers.fullname" . }}
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
spec:
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "scaffold-helpers.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
"""

SCAFFOLD_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "scaffold-helpers.fullname" . }}
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "scaffold-helpers.selectorLabels" . | nindent 4 }}
"""

SCAFFOLD_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "scaffold-helpers.fullname" . }}
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "scaffold-helpers.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
"""

SCAFFOLD = {
    "templates/deployment.yaml": SCAFFOLD_DEPLOYMENT,
    "templates/pdb.yaml": SCAFFOLD_PDB,
    "templates/service.yaml": SCAFFOLD_SERVICE,
}
SCAFFOLD_AFTER = {
    "templates/deployment.yaml": SCAFFOLD_DEPLOYMENT_AFTER,
    "templates/pdb.yaml": SCAFFOLD_PDB_AFTER,
    "templates/service.yaml": SCAFFOLD_SERVICE_AFTER,
}


def test_the_label_goes_next_to_the_shared_helper_in_each_template_never_in_it() -> None:
    """The selectors come from a helper every workload includes: the label goes after the
    include in each workload's own template, and _helpers.tpl stays (`prefer: component`:
    unset, only the test Pod would be relabelled)."""
    run = assert_recipe(
        ComponentLabels(), fixture("scaffold-helpers", SCAFFOLD), SCAFFOLD_AFTER,
        options={"prefer": "component"},
    )
    assert applicability(run) == {"Deployment/release-name-scaffold-helpers": "unsafe"}
    assert sorted((f.rule, f.obj.kind) for f in run.before if f.rule in ("overlap", "stray")) == [
        ("overlap", "Deployment"), ("stray", "PodDisruptionBudget"), ("stray", "Service")
    ]


def test_a_workload_renamed_in_one_scenario_is_fixed_once() -> None:
    """fullnameOverride in a ci/ scenario renames the Deployment there: still one workload,
    one label per mapping (two labels with two values would be a duplicate key)."""
    renamed = {"ci/renamed-values.yaml": "fullnameOverride: shop\n"}
    chart = fixture("scaffold-helpers", {**SCAFFOLD, **renamed})
    run = assert_recipe(ComponentLabels(), chart, SCAFFOLD_AFTER, options={"prefer": "component"})
    overlaps = {f.obj.name for f in run.before if f.rule == "overlap"}
    assert overlaps == {"release-name-scaffold-helpers", "shop"}


SCAFFOLD_TEST_CONNECTION = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "scaffold-helpers.fullname" . }}-test-connection"
  labels:
    {{- include "scaffold-helpers.labels" . | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: wget
      image: busybox:1.36
      command: ['wget']
      args: ['{{ include "scaffold-helpers.fullname" . }}:{{ .Values.service.port }}']
  restartPolicy: Never
"""

SCAFFOLD_TEST_CONNECTION_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "scaffold-helpers.fullname" . }}-test-connection"
  labels:
    {{- mergeOverwrite (include "scaffold-helpers.labels" . | fromYaml) (dict "app.kubernetes.io/name" "scaffold-helpers-test-connection") | toYaml | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: wget
      image: busybox:1.36
      command: ['wget']
      args: ['{{ include "scaffold-helpers.fullname" . }}:{{ .Values.service.port }}']
  restartPolicy: Never
"""


def test_a_controller_whose_other_pods_are_only_a_test_pod_keeps_its_selector() -> None:
    """By default a helm test Pod under a controller's selector gets a value of its own
    (over the labels helper's output): no selector, no immutable field changes."""
    run = assert_recipe(ComponentLabels(), fixture("scaffold-helpers", {
        "templates/tests/test-connection.yaml": SCAFFOLD_TEST_CONNECTION,
    }), {"templates/tests/test-connection.yaml": SCAFFOLD_TEST_CONNECTION_AFTER})
    assert list(applicability(run).values()) == ["safe"]


# --- fixtures/shared-selector: three Services told apart by port -----------------------------

SHARED_WEB_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shared-selector.fullname" . }}-web
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels:
{{ include "shared-selector.matchLabels" . | indent 6 }}
  template:
    metadata:
      labels:
{{ include "shared-selector.matchLabels" . | indent 8 }}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["web"]
          ports:
            - name: http
              containerPort: 8080
"""

SHARED_WEB_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shared-selector.fullname" . }}-web
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels:
{{ include "shared-selector.matchLabels" . | indent 6 }}
      component: web
  template:
    metadata:
      labels:
{{ include "shared-selector.matchLabels" . | indent 8 }}
        component: web
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["web"]
          ports:
            - name: http
              containerPort: 8080
"""

SHARED_WORKER_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shared-selector.fullname" . }}-worker
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
    matchLabels:
{{ include "shared-selector.matchLabels" . | indent 6 }}
  template:
    metadata:
      labels:
{{ include "shared-selector.matchLabels" . | indent 8 }}
    spec:
      containers:
        - name: worker
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["worker", "--metrics-port=9090"]
          ports:
            - name: metrics
              containerPort: 9090
"""

SHARED_WORKER_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shared-selector.fullname" . }}-worker
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
    matchLabels:
{{ include "shared-selector.matchLabels" . | indent 6 }}
      component: worker
  template:
    metadata:
      labels:
{{ include "shared-selector.matchLabels" . | indent 8 }}
        component: worker
    spec:
      containers:
        - name: worker
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args: ["worker", "--metrics-port=9090"]
          ports:
            - name: metrics
              containerPort: 9090
"""

SHARED_CACHE_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "shared-selector.fullname" . }}-cache
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  serviceName: {{ include "shared-selector.fullname" . }}-cache
  replicas: 1
  selector:
    matchLabels:
{{ include "shared-selector.matchLabels" . | indent 6 }}
  template:
    metadata:
      labels:
{{ include "shared-selector.matchLabels" . | indent 8 }}
    spec:
      containers:
        - name: cache
          image: {{ .Values.cache.image }}
          ports:
            - containerPort: 6379
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: {{ .Values.cache.storage }}
"""

SHARED_CACHE_STATEFULSET_AFTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "shared-selector.fullname" . }}-cache
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  serviceName: {{ include "shared-selector.fullname" . }}-cache
  replicas: 1
  selector:
    matchLabels:
{{ include "shared-selector.matchLabels" . | indent 6 }}
      component: cache
  template:
    metadata:
      labels:
{{ include "shared-selector.matchLabels" . | indent 8 }}
        component: cache
    spec:
      containers:
        - name: cache
          image: {{ .Values.cache.image }}
          ports:
            - containerPort: 6379
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: {{ .Values.cache.storage }}
"""

SHARED_SERVICES = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shared-selector.fullname" . }}-web
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
{{ include "shared-selector.matchLabels" . | indent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shared-selector.fullname" . }}-worker-metrics
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  ports:
    - name: metrics
      port: 9090
  selector:
{{ include "shared-selector.matchLabels" . | indent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shared-selector.fullname" . }}-cache
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  clusterIP: None
  ports:
    - name: cache
      port: 6379
      targetPort: 6379
  selector:
{{ include "shared-selector.matchLabels" . | indent 4 }}
"""

SHARED_SERVICES_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shared-selector.fullname" . }}-web
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
{{ include "shared-selector.matchLabels" . | indent 4 }}
    component: web
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shared-selector.fullname" . }}-worker-metrics
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  ports:
    - name: metrics
      port: 9090
  selector:
{{ include "shared-selector.matchLabels" . | indent 4 }}
    component: worker
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "shared-selector.fullname" . }}-cache
  labels:
{{ include "shared-selector.labels" . | indent 4 }}
spec:
  clusterIP: None
  ports:
    - name: cache
      port: 6379
      targetPort: 6379
  selector:
{{ include "shared-selector.matchLabels" . | indent 4 }}
    component: cache
"""


def test_services_sharing_a_selector_follow_the_controller_their_port_names() -> None:
    """targetPort http is the web's, port 9090 the worker's, targetPort 6379 the cache's."""
    assert_recipe(ComponentLabels(), fixture("shared-selector", {
        "templates/web-deployment.yaml": SHARED_WEB_DEPLOYMENT,
        "templates/worker-deployment.yaml": SHARED_WORKER_DEPLOYMENT,
        "templates/cache-statefulset.yaml": SHARED_CACHE_STATEFULSET,
        "templates/services.yaml": SHARED_SERVICES,
    }), {
        "templates/web-deployment.yaml": SHARED_WEB_DEPLOYMENT_AFTER,
        "templates/worker-deployment.yaml": SHARED_WORKER_DEPLOYMENT_AFTER,
        "templates/cache-statefulset.yaml": SHARED_CACHE_STATEFULSET_AFTER,
        "templates/services.yaml": SHARED_SERVICES_AFTER,
    })


# --- fixtures/component-helper: label helpers taking a component -----------------------------

HELPER_WORKER_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "component-helper.fullname" . }}-worker
  labels:
    {{- include "component-helper.labels" (dict "ctx" . "component" "") | nindent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
    matchLabels:
      {{- include "component-helper.selectorLabels" (dict "ctx" . "component" "") | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "component-helper.labels" (dict "ctx" . "component" "") | nindent 8 }}
    spec:
      containers:
        - name: worker
          image: {{ include "component-helper.image" . }}
          args: ["worker"]
"""

HELPER_WORKER_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "component-helper.fullname" . }}-worker
  labels:
    {{- include "component-helper.labels" (dict "ctx" . "component" "") | nindent 4 }}
spec:
  replicas: {{ .Values.worker.replicas }}
  selector:
    matchLabels:
      {{- include "component-helper.selectorLabels" (dict "ctx" . "component" "worker") | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "component-helper.labels" (dict "ctx" . "component" "worker") | nindent 8 }}
    spec:
      containers:
        - name: worker
          image: {{ include "component-helper.image" . }}
          args: ["worker"]
"""


def test_a_helper_that_takes_a_component_gets_it_as_argument() -> None:
    """The worker passes `"component" ""` to the selector and pod labels helpers: both get
    `worker`; the Deployment's own metadata labels are no selector's and stay as they are."""
    assert_recipe(ComponentLabels(), fixture("component-helper", {
        "templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT,
    }), {"templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT_AFTER})


# --- fixtures/shared-component: the controller's component value on a Job and a test Pod -----

SHARED_VALUE_MIGRATE_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-shared-component-migrate
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation
spec:
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: server  # copied from the Deployment
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ .Values.image }}
          args: ["migrate"]
"""

SHARED_VALUE_MIGRATE_JOB_AFTER = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-shared-component-migrate
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-delete-policy": before-hook-creation
spec:
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: migrate  # copied from the Deployment
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ .Values.image }}
          args: ["migrate"]
"""

SHARED_VALUE_REINDEX_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-shared-component-reindex
spec:
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: "server"
    spec:
      restartPolicy: OnFailure
      containers:
        - name: reindex
          image: {{ .Values.image }}
          args: ["reindex"]
"""

SHARED_VALUE_REINDEX_JOB_AFTER = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-shared-component-reindex
spec:
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: "reindex"
    spec:
      restartPolicy: OnFailure
      containers:
        - name: reindex
          image: {{ .Values.image }}
          args: ["reindex"]
"""

SHARED_VALUE_TEST_CONNECTION = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ .Release.Name }}-shared-component-test-connection"
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
    component: server
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget"]
      args: ["{{ .Release.Name }}-shared-component:80"]
"""

SHARED_VALUE_TEST_CONNECTION_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ .Release.Name }}-shared-component-test-connection"
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
    component: test-connection
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget"]
      args: ["{{ .Release.Name }}-shared-component:80"]
"""

SHARED_VALUE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-shared-component
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
"""

SHARED_VALUE_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-shared-component
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: {{ .Chart.Name }}
    component: server
    release: {{ .Release.Name }}
"""

SHARED_VALUE = {
    "templates/migrate-job.yaml": SHARED_VALUE_MIGRATE_JOB,
    "templates/reindex-job.yaml": SHARED_VALUE_REINDEX_JOB,
    "templates/service.yaml": SHARED_VALUE_SERVICE,
}
SHARED_VALUE_JOBS_AFTER = {
    "templates/migrate-job.yaml": SHARED_VALUE_MIGRATE_JOB_AFTER,
    "templates/reindex-job.yaml": SHARED_VALUE_REINDEX_JOB_AFTER,
}


def errors(run: RecipeRun) -> list[str]:
    """The errors of every rule left in the chart the run leaves."""
    return [f"{f.rule} {f.obj}" for f in run.verified.after_findings if f.severity == "error"]


def written(run: RecipeRun, root: Path) -> Path:
    """The chart the run leaves, written under `root`, to render it as a user would."""
    for path, text in run.files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def pod_labels(chart: Path, *values: str) -> dict[str, dict[str, str]]:
    """Each rendered object's pod labels, by name, under release `rel`."""
    rendered = render(load_chart(chart), Scenario("default", set_values=values), None, "rel", "ns")
    return {o.name: dict(o.pod_labels) for o in rendered.objects if o.pod_labels is not None}


def test_jobs_and_the_test_pod_get_their_own_component_value() -> None:
    """The controller's selector stays; each value changes in place, the comment and the
    quoting as they were; the Service meant for the server selects on its value, the key in
    its sorted place."""
    run = assert_recipe(ComponentLabels(), fixture("shared-component", {
        **SHARED_VALUE, "templates/tests/test-connection.yaml": SHARED_VALUE_TEST_CONNECTION,
    }), {
        **SHARED_VALUE_JOBS_AFTER,
        "templates/service.yaml": SHARED_VALUE_SERVICE_AFTER,
        "templates/tests/test-connection.yaml": SHARED_VALUE_TEST_CONNECTION_AFTER,
    })
    assert errors(run) == []


SHARED_VALUE_HELPER = """\
{{- define "shared-component.podLabels" -}}
app: {{ .Chart.Name }}
release: {{ .Release.Name }}
component: server
{{- end }}
"""

HELPER_TEST_CONNECTION = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ .Release.Name }}-shared-component-test-connection"
  labels:
    {{- include "shared-component.podLabels" . | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget"]
      args: ["{{ .Release.Name }}-shared-component:80"]
"""

HELPER_TEST_CONNECTION_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ .Release.Name }}-shared-component-test-connection"
  labels:
    {{- mergeOverwrite (include "shared-component.podLabels" . | fromYaml) (dict "component" "test-connection") | toYaml | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget"]
      args: ["{{ .Release.Name }}-shared-component:80"]
"""


def test_a_value_from_a_shared_helper_is_overridden_after_the_include(tmp_path: Path) -> None:
    """The test Pod includes the helper the Deployment's pods get `component: server` from:
    its own template overrides that one key of the helper's output; the helper stays."""
    run = assert_recipe(ComponentLabels(), fixture("shared-component", {
        **SHARED_VALUE,
        "templates/_helpers.tpl": SHARED_VALUE_HELPER,
        "templates/tests/test-connection.yaml": HELPER_TEST_CONNECTION,
    }), {
        **SHARED_VALUE_JOBS_AFTER,
        "templates/service.yaml": SHARED_VALUE_SERVICE_AFTER,
        "templates/tests/test-connection.yaml": HELPER_TEST_CONNECTION_AFTER,
    })
    assert errors(run) == []
    labels = pod_labels(written(run, tmp_path))
    assert labels["rel-shared-component-test-connection"] == {
        "app": "shared-component", "release": "rel", "component": "test-connection"
    }
    assert labels["rel-shared-component"] == {
        "app": "shared-component", "release": "rel", "component": "server"
    }


SHARED_VALUE_HELPER_FOR = """\
{{- define "shared-component.labelsFor" -}}
app: {{ .ctx.Chart.Name }}
release: {{ .ctx.Release.Name }}
component: {{ .component }}
{{- end }}
"""

HELPER_FOR_TEST_CONNECTION = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ .Release.Name }}-shared-component-test-connection"
  labels:
    {{- include "shared-component.labelsFor" (dict "ctx" . "component" "server") | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget"]
      args: ["{{ .Release.Name }}-shared-component:80"]
"""

HELPER_FOR_TEST_CONNECTION_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ .Release.Name }}-shared-component-test-connection"
  labels:
    {{- include "shared-component.labelsFor" (dict "ctx" . "component" "test-connection") | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: ["wget"]
      args: ["{{ .Release.Name }}-shared-component:80"]
"""


def test_a_helper_taking_the_component_gets_the_test_pods_own_value() -> None:
    assert_recipe(ComponentLabels(), fixture("shared-component", {
        **SHARED_VALUE,
        "templates/_helpers.tpl": SHARED_VALUE_HELPER_FOR,
        "templates/tests/test-connection.yaml": HELPER_FOR_TEST_CONNECTION,
    }), {
        **SHARED_VALUE_JOBS_AFTER,
        "templates/service.yaml": SHARED_VALUE_SERVICE_AFTER,
        "templates/tests/test-connection.yaml": HELPER_FOR_TEST_CONNECTION_AFTER,
    })


SHARED_VALUE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-shared-component
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
    component: server
spec:
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      release: {{ .Release.Name }}
      component: server
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: server
    spec:
      containers:
        - name: server
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
"""

SHARED_VALUE_DEPLOYMENT_MEMBER_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-shared-component
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
    component: server
spec:
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      release: {{ .Release.Name }}
      component: server
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: server
        member-of: shared-component
    spec:
      containers:
        - name: server
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
"""

SHARED_VALUE_DEPLOYMENT_B = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-shared-component-b
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
    component: replica
spec:
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      release: {{ .Release.Name }}
      component: replica
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: replica
    spec:
      containers:
        - name: server
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
"""

SHARED_VALUE_DEPLOYMENT_B_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-shared-component-b
  labels:
    app: {{ .Chart.Name }}
    release: {{ .Release.Name }}
    component: replica
spec:
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
      release: {{ .Release.Name }}
      component: replica
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
        release: {{ .Release.Name }}
        component: replica
        member-of: shared-component
    spec:
      containers:
        - name: server
          image: {{ .Values.image }}
          ports:
            - name: http
              containerPort: 8080
"""

SHARED_VALUE_SERVICE_MEMBER_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-shared-component
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: {{ .Chart.Name }}
    member-of: shared-component
    release: {{ .Release.Name }}
"""


def test_a_consumer_spanning_several_controllers_keeps_them_all() -> None:
    """A Service for the server and a second Deployment: selecting on the server's component
    would cut the other one off, so both Deployments' pods get a label of the Service's
    (its role: none, named as the chart), the Service selects on it in its sorted place and
    the selectors stay; the Jobs and the test Pod get their own component as before."""
    run = assert_recipe(ComponentLabels(), fixture("shared-component", {
        **SHARED_VALUE,
        "templates/deployment.yaml": SHARED_VALUE_DEPLOYMENT,
        "templates/deployment-b.yaml": SHARED_VALUE_DEPLOYMENT_B,
        "templates/tests/test-connection.yaml": SHARED_VALUE_TEST_CONNECTION,
    }), {
        **SHARED_VALUE_JOBS_AFTER,
        "templates/deployment.yaml": SHARED_VALUE_DEPLOYMENT_MEMBER_AFTER,
        "templates/deployment-b.yaml": SHARED_VALUE_DEPLOYMENT_B_AFTER,
        "templates/service.yaml": SHARED_VALUE_SERVICE_MEMBER_AFTER,
        "templates/tests/test-connection.yaml": SHARED_VALUE_TEST_CONNECTION_AFTER,
    })
    assert errors(run) == []


# --- fixtures/test-pod-shared-helper: test Pods include the StatefulSet's labels helper -------

TEST_PODS_CONNECTION = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "test-pod-shared-helper.fullname" . }}-test-connection"
  labels:
    {{- include "test-pod-shared-helper.labels" . | nindent 4 }}
    test-resource: "true"
  annotations:
    "helm.sh/hook": test
    "helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: {{ .Values.image }}
      args: ["curl", "-sS", "http://{{ include "test-pod-shared-helper.fullname" . }}:8081/"]
"""

TEST_PODS_CONNECTION_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "test-pod-shared-helper.fullname" . }}-test-connection"
  labels:
    {{- mergeOverwrite (include "test-pod-shared-helper.labels" . | fromYaml) (dict "app.kubernetes.io/component" "test-connection") | toYaml | nindent 4 }}
    test-resource: "true"
  annotations:
    "helm.sh/hook": test
    "helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: {{ .Values.image }}
      args: ["curl", "-sS", "http://{{ include "test-pod-shared-helper.fullname" . }}:8081/"]
"""

TEST_PODS_METRICS = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "test-pod-shared-helper.fullname" . }}-test-metrics"
  labels: {{- include "test-pod-shared-helper.labels" . | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: {{ .Values.image }}
      args: ["curl", "-sS", "http://{{ include "test-pod-shared-helper.fullname" . }}:8081/metrics"]
"""

TEST_PODS_METRICS_AFTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "test-pod-shared-helper.fullname" . }}-test-metrics"
  labels: {{- mergeOverwrite (include "test-pod-shared-helper.labels" . | fromYaml) (dict "app.kubernetes.io/component" "test-metrics") | toYaml | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: {{ .Values.image }}
      args: ["curl", "-sS", "http://{{ include "test-pod-shared-helper.fullname" . }}:8081/metrics"]
"""


def test_test_pods_sharing_the_statefulsets_helper_get_their_own_value(tmp_path: Path) -> None:
    """nexus3's shape: both test Pods include the labels helper that writes the server's
    component through its selector-labels helper, once on a line of its own and once on the
    key's line. The helper's other labels, rendered from values, still come through."""
    run = assert_recipe(ComponentLabels(), fixture("test-pod-shared-helper", {
        "templates/tests/test-connection.yaml": TEST_PODS_CONNECTION,
        "templates/tests/test-metrics.yaml": TEST_PODS_METRICS,
    }), {
        "templates/tests/test-connection.yaml": TEST_PODS_CONNECTION_AFTER,
        "templates/tests/test-metrics.yaml": TEST_PODS_METRICS_AFTER,
    })
    assert applicability(run) == {"StatefulSet/release-name-test-pod-shared-helper": "safe"}
    assert errors(run) == []
    chart = written(run, tmp_path)
    for team in (None, "storage"):
        pods = pod_labels(chart, *([f"commonLabels.team={team}"] if team else []))
        assert pods["rel-test-pod-shared-helper"]["app.kubernetes.io/component"] == "repository"
        connection = pods["rel-test-pod-shared-helper-test-connection"]
        assert connection["app.kubernetes.io/component"] == "test-connection"
        assert connection["test-resource"] == "true"
        assert connection["app.kubernetes.io/version"] == "3.1.0", "a string, as before"
        assert connection.get("team") == team, "values the helper renders still come through"
        metrics = pods["rel-test-pod-shared-helper-test-metrics"]
        assert metrics["app.kubernetes.io/component"] == "test-metrics"


# --- fixtures/peer-service: a headless Service over a cluster, meant for every member ---------

PEERS = {
    "StatefulSet/rel-peer-service-master", "StatefulSet/rel-peer-service-coordinator",
    "StatefulSet/rel-peer-service-executor-default", "StatefulSet/rel-peer-service-executor-large",
}


def selected_by(chart: Path, service: str) -> set[str]:
    rendered = render(load_chart(chart), Scenario("default"), None, "rel", "ns")
    (svc,) = [o for o in rendered.objects if o.kind == "Service" and o.name == service]
    assert svc.selector is not None
    return {
        str(o.ref) for o in rendered.objects
        if o.pod_labels is not None and svc.selector.matches(o.pod_labels)
    }


PEER_MASTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-master
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: master
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: master
    spec:
      containers:
        - name: master
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
"""

PEER_MASTER_AFTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-master
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: master
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: master
        member-of: headless
    spec:
      containers:
        - name: master
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
"""

PEER_COORDINATOR = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-coordinator
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: coordinator
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: coordinator
    spec:
      containers:
        - name: coordinator
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
"""

PEER_COORDINATOR_AFTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-coordinator
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: coordinator
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: coordinator
        member-of: headless
    spec:
      containers:
        - name: coordinator
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
"""

PEER_EXECUTORS = """\
{{- range $group := .Values.executor.groups }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" $ }}-executor-{{ $group }}
spec:
  serviceName: {{ include "peer-service.fullname" $ }}-headless
  replicas: 2
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" $ | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: executor
      group: {{ $group }}
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" $ | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: executor
        group: {{ $group }}
    spec:
      containers:
        - name: executor
          image: {{ $.Values.image }}
          ports:
            - name: peer
              containerPort: 7000
{{- end }}
"""

PEER_EXECUTORS_AFTER = """\
{{- range $group := .Values.executor.groups }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" $ }}-executor-{{ $group }}
spec:
  serviceName: {{ include "peer-service.fullname" $ }}-headless
  replicas: 2
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" $ | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: executor
      group: {{ $group }}
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" $ | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: executor
        group: {{ $group }}
        member-of: headless
    spec:
      containers:
        - name: executor
          image: {{ $.Values.image }}
          ports:
            - name: peer
              containerPort: 7000
{{- end }}
"""

PEER_HEADLESS_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "peer-service.fullname" . }}-headless
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: peer
      port: 7000
      targetPort: peer
  selector: {{- include "peer-service.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/part-of: peer-service
"""

PEER_HEADLESS_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "peer-service.fullname" . }}-headless
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: peer
      port: 7000
      targetPort: peer
  selector: {{- include "peer-service.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/part-of: peer-service
    member-of: headless
"""

PEER = {
    "templates/master.yaml": PEER_MASTER,
    "templates/coordinator.yaml": PEER_COORDINATOR,
    "templates/executors.yaml": PEER_EXECUTORS,
    "templates/headless-service.yaml": PEER_HEADLESS_SERVICE,
}


def test_a_headless_service_over_a_cluster_keeps_every_member(tmp_path: Path) -> None:
    """bitnami/dremio's shape: the headless Service selects the StatefulSets on purpose, and
    also the bootstrap Job and the test Pod. The StatefulSets' pods get `member-of: headless`
    (the `range` in one edit), the Service selects on it, and no selector changes."""
    run = assert_recipe(ComponentLabels(), fixture("peer-service", PEER), {
        "templates/master.yaml": PEER_MASTER_AFTER,
        "templates/coordinator.yaml": PEER_COORDINATOR_AFTER,
        "templates/executors.yaml": PEER_EXECUTORS_AFTER,
        "templates/headless-service.yaml": PEER_HEADLESS_SERVICE_AFTER,
    })
    assert list(applicability(run).values()) == ["safe"], "pod labels and a Service selector"
    assert [f.rule for f in run.verified.after_findings] == ["spans"], "spans on purpose"
    assert selected_by(written(run, tmp_path), "rel-peer-service-headless") == PEERS


PEER_ADMIN_MASTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-master
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: master
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: master
    spec:
      containers:
        - name: master
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
            - name: admin
              containerPort: 9047
"""

PEER_ADMIN_MASTER_AFTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-master
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: master
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        app.kubernetes.io/component: master
        member-of: headless
    spec:
      containers:
        - name: master
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
            - name: admin
              containerPort: 9047
"""

PEER_ADMIN_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "peer-service.fullname" . }}-headless
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: peer
      port: 7000
      targetPort: peer
    - name: admin
      port: 9047
      targetPort: admin
  selector: {{- include "peer-service.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/part-of: peer-service
"""

PEER_ADMIN_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "peer-service.fullname" . }}-headless
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: peer
      port: 7000
      targetPort: peer
    - name: admin
      port: 9047
      targetPort: admin
  selector: {{- include "peer-service.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/part-of: peer-service
    member-of: headless
"""


def test_a_headless_service_a_port_ties_to_one_member_still_keeps_them_all(
    tmp_path: Path,
) -> None:
    """A port only the master has makes the Service look meant for the master, which already
    selects on its component: narrowing the Service to it would drop the other members."""
    run = assert_recipe(ComponentLabels(), fixture("peer-service", {
        **PEER,
        "templates/master.yaml": PEER_ADMIN_MASTER,
        "templates/headless-service.yaml": PEER_ADMIN_SERVICE,
    }), {
        "templates/master.yaml": PEER_ADMIN_MASTER_AFTER,
        "templates/coordinator.yaml": PEER_COORDINATOR_AFTER,
        "templates/executors.yaml": PEER_EXECUTORS_AFTER,
        "templates/headless-service.yaml": PEER_ADMIN_SERVICE_AFTER,
    })
    assert errors(run) == []
    assert selected_by(written(run, tmp_path), "rel-peer-service-headless") == PEERS


PEER_TIER_MASTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-master
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: master
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        tier: 'cluster'
        app.kubernetes.io/component: master
    spec:
      containers:
        - name: master
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
"""

PEER_TIER_COORDINATOR = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" . }}-coordinator
spec:
  serviceName: {{ include "peer-service.fullname" . }}-headless
  replicas: 1
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: coordinator
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        tier: 'cluster'
        app.kubernetes.io/component: coordinator
    spec:
      containers:
        - name: coordinator
          image: {{ .Values.image }}
          ports:
            - name: peer
              containerPort: 7000
"""

PEER_TIER_EXECUTORS = """\
{{- range $group := .Values.executor.groups }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "peer-service.fullname" $ }}-executor-{{ $group }}
spec:
  serviceName: {{ include "peer-service.fullname" $ }}-headless
  replicas: 2
  selector:
    matchLabels: {{- include "peer-service.selectorLabels" $ | nindent 6 }}
      app.kubernetes.io/part-of: peer-service
      app.kubernetes.io/component: executor
      group: {{ $group }}
  template:
    metadata:
      labels: {{- include "peer-service.selectorLabels" $ | nindent 8 }}
        app.kubernetes.io/part-of: peer-service
        tier: 'cluster'
        app.kubernetes.io/component: executor
        group: {{ $group }}
    spec:
      containers:
        - name: executor
          image: {{ $.Values.image }}
          ports:
            - name: peer
              containerPort: 7000
{{- end }}
"""

PEER_TIER_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "peer-service.fullname" . }}-headless
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: peer
      port: 7000
      targetPort: peer
  selector: {{- include "peer-service.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/part-of: peer-service
    tier: cluster
"""


def test_a_label_the_members_already_share_is_selected_on_as_it_is(tmp_path: Path) -> None:
    run = assert_recipe(ComponentLabels(), fixture("peer-service", {
        **PEER,
        "templates/master.yaml": PEER_TIER_MASTER,
        "templates/coordinator.yaml": PEER_TIER_COORDINATOR,
        "templates/executors.yaml": PEER_TIER_EXECUTORS,
    }), {"templates/headless-service.yaml": PEER_TIER_SERVICE_AFTER})
    assert selected_by(written(run, tmp_path), "rel-peer-service-headless") == PEERS


# --- fixtures/range-shards: StatefulSets made by one `range` ---------------------------------

SHARDS = """\
{{- range $i, $e := until (int .Values.shards) }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ printf "%s-range-shards-shard%d" $.Release.Name $i }}
  labels:
    app.kubernetes.io/name: range-shards
    app.kubernetes.io/instance: {{ $.Release.Name }}
    app.kubernetes.io/component: shard
spec:
  serviceName: {{ $.Release.Name }}-range-shards
  selector:
    matchLabels:
      app.kubernetes.io/name: range-shards
      app.kubernetes.io/instance: {{ $.Release.Name }}
      app.kubernetes.io/component: shard
  template:
    metadata:
      labels:
        app.kubernetes.io/name: range-shards
        app.kubernetes.io/instance: {{ $.Release.Name }}
        app.kubernetes.io/component: shard
        shard: {{ $i | quote }}
    spec:
      containers:
        - name: shard
          image: {{ $.Values.image }}
{{- end }}
"""

SHARDS_AFTER = """\
{{- range $i, $e := until (int .Values.shards) }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ printf "%s-range-shards-shard%d" $.Release.Name $i }}
  labels:
    app.kubernetes.io/name: range-shards
    app.kubernetes.io/instance: {{ $.Release.Name }}
    app.kubernetes.io/component: shard
spec:
  serviceName: {{ $.Release.Name }}-range-shards
  selector:
    matchLabels:
      app.kubernetes.io/name: range-shards
      app.kubernetes.io/instance: {{ $.Release.Name }}
      app.kubernetes.io/component: shard
      shard: {{ $i | quote }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: range-shards
        app.kubernetes.io/instance: {{ $.Release.Name }}
        app.kubernetes.io/component: shard
        shard: {{ $i | quote }}
    spec:
      containers:
        - name: shard
          image: {{ $.Values.image }}
{{- end }}
"""


def test_range_made_statefulsets_select_on_the_pod_label_that_tells_them_apart(
    tmp_path: Path,
) -> None:
    run = assert_recipe(
        ComponentLabels(), fixture("range-shards", {"templates/shards.yaml": SHARDS}),
        {"templates/shards.yaml": SHARDS_AFTER},
    )
    assert list(applicability(run).values()) == ["unsafe"]
    assert errors(run) == []
    rendered = render(load_chart(written(run, tmp_path)), Scenario("default"), None, "rel", "ns")
    selectors = {
        o.name: dict(o.selector.match_labels) for o in rendered.objects
        if o.kind == "StatefulSet" and o.selector is not None
    }
    assert selectors["rel-range-shards-shard0"]["shard"] == "0"
    assert selectors["rel-range-shards-shard1"]["shard"] == "1"


HELPER_DIGEST_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "component-helper.fullname" . }}-digest
  labels:
    {{- include "component-helper.labels" (dict "ctx" . "component" "") | nindent 4 }}
spec:
  schedule: {{ .Values.digest.schedule | quote }}
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            {{- include "component-helper.labels" (dict "ctx" . "component" "") | nindent 12 }}
        spec:
          restartPolicy: OnFailure
          containers:
            - name: digest
              image: {{ include "component-helper.image" . }}
              args: ["send-digest"]
"""

HELPER_DIGEST_CRONJOB_AFTER = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "component-helper.fullname" . }}-digest
  labels:
    {{- include "component-helper.labels" (dict "ctx" . "component" "") | nindent 4 }}
spec:
  schedule: {{ .Values.digest.schedule | quote }}
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            {{- include "component-helper.labels" (dict "ctx" . "component" "digest") | nindent 12 }}
        spec:
          restartPolicy: OnFailure
          containers:
            - name: digest
              image: {{ include "component-helper.image" . }}
              args: ["send-digest"]
"""


def test_label_jobs_fills_the_cronjobs_empty_helper_argument_too() -> None:
    """The CronJob passes `"component" ""` to the labels helper, as the worker does: with
    label-jobs both are filled (worker, digest); the CronJob's own metadata labels stay."""
    run = assert_recipe(ComponentLabels(), fixture("component-helper", {
        "templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT,
        "templates/digest-cronjob.yaml": HELPER_DIGEST_CRONJOB,
    }), {
        "templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT_AFTER,
        "templates/digest-cronjob.yaml": HELPER_DIGEST_CRONJOB_AFTER,
    }, options=ComponentLabelsOptions(label_jobs=True))
    assert applicability(run)["CronJob/release-name-component-helper-digest"] == "safe"

# --- shapes real charts throw (test_shapes.py: what check makes of them) ---------------------


def objects(chart: Path, scenario: str = "default") -> dict[str, K8sObject]:
    """The chart rendered in one of its scenarios, by `Kind/name`."""
    loaded = load_chart(chart)
    case = next(s for s in scenarios(loaded, (), ()) if s.name == scenario)
    return {str(o.ref): o for o in render(loaded, case).objects}


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


def test_random_names_are_fixed_and_roles_come_from_the_stable_name() -> None:
    """fixtures/random-names: a test Pod and a hook Job named anew by every render; the
    Deployment's role comes from the stable part of names, never from the random one."""
    assert_recipe(ComponentLabels(), fixture("random-names", RANDOM), RANDOM_AFTER)
    assert_recipe(ComponentLabels(), fixture("random-names", RANDOM), {
        **RANDOM_AFTER,
        "templates/seed-job.yaml": RANDOM_SEED_JOB_AFTER,
        "templates/tests/test-stock.yaml": RANDOM_TEST_STOCK_AFTER,
    }, options=ComponentLabelsOptions(label_jobs=True))


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
    run = assert_recipe(ComponentLabels(), fixture("two-kinds", {
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


def test_a_defaulted_selector_is_written_out_of_the_stable_labels(tmp_path: Path) -> None:
    """fixtures/defaulted-selector: an extensions/v1beta1 Deployment whose selector the API
    server fills in from its pod labels (`chart: NAME-VERSION` too) gets it written out of
    the stable ones, with its component (the StatefulSet, with no overlap, is
    stable-selectors': test_recipes_stable_selectors.py)."""
    run = assert_recipe(ComponentLabels(), fixture("defaulted-selector", {
        "templates/deployment.yaml": DEFAULTED_DEPLOYMENT,
        "templates/service.yaml": DEFAULTED_SERVICE,
    }), {
        "templates/deployment.yaml": DEFAULTED_DEPLOYMENT_AFTER,
        "templates/service.yaml": DEFAULTED_SERVICE_AFTER,
    })
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
        fixture("define-objects", {"templates/_deployments.yaml.tpl": DEFINED_DEPLOYMENTS}),
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
    assert_recipe(ComponentLabels(), fixture("define-objects", {
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
        ComponentLabels(), fixture(f"deploy-time/{name}", {"templates/deployment.yaml": before}),
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
    assert_recipe(ComponentLabels(), fixture("placeholders/required-role", {
        "templates/deployment.yaml": REQUIRED_ROLE_DEPLOYMENT,
    }), {"templates/deployment.yaml": REQUIRED_ROLE_DEPLOYMENT_AFTER})
