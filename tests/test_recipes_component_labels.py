"""component-labels alone, before and after: every case writes the templates it edits out in
full, before and after, compared byte for byte (`chartfix.testing.assert_recipe`, as
libcst's `assertCodemod`). A case on a fixture chart (fixtures/README.md) writes out the
templates the recipe edits; its helpers, values and other templates come from the fixture.

The pipeline's tests (test_pipeline_fixtures.py) run every recipe together on the fixtures.
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


def fixture_files(name: str, templates: Mapping[str, str]) -> dict[str, str]:
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


def objects(chart: Path, scenario: str = "default") -> dict[str, K8sObject]:
    """The chart rendered in one of its scenarios, by `Kind/name`."""
    loaded = load_chart(chart)
    case = next(s for s in scenarios(loaded, (), ()) if s.name == scenario)
    return {str(o.ref): o for o in render(loaded, case).objects}


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


HOOK_JOB_RELABELLED = """\
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
        app: shop-migrate
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox
"""


def test_by_default_the_hook_job_helm_recreates_gets_a_value_of_its_own() -> None:
    """The Deployment's selector is immutable; the hook Job's pods, which Helm deletes before
    creating again, take their own `app` instead (the role after the shared value)."""
    run = assert_recipe(ComponentLabels(), SHOP, {"templates/job.yaml": HOOK_JOB_RELABELLED})
    assert applicability(run) == {"Deployment/release-name-server": "safe"}


JOB_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .Release.Name }}-migrate
spec:
  podSelector:
    matchLabels:
      app: shop
      task: migrate
  policyTypes:
    - Egress
  egress:
    - ports:
        - port: 5432
"""


def test_a_hook_job_whose_own_policy_selects_the_shared_label_is_not_relabelled() -> None:
    """The hook Job's pods (`task: migrate`) have a NetworkPolicy of their own that selects
    `app: shop` too: a value of their own would leave them out of it, so the Deployment
    takes the component route instead."""
    job = HOOK_JOB.replace("        app: shop\n", "        app: shop\n        task: migrate\n")
    chart = {**SHOP, "templates/job.yaml": job, "templates/policy.yaml": JOB_POLICY}
    run = assert_recipe(ComponentLabels(), chart, {
        "templates/deployment.yaml": DEPLOYMENT_AFTER,
        "templates/service.yaml": SERVICE_AFTER,
    })
    assert applicability(run) == {"Deployment/release-name-server": "unsafe"}


def test_the_server_gets_a_component_and_its_service_follows() -> None:
    run = assert_recipe(ComponentLabels(), SHOP, {
        "templates/deployment.yaml": DEPLOYMENT_AFTER,
        "templates/service.yaml": SERVICE_AFTER,
    }, options={"prefer": "component"})  # unset, the hook Job would be relabelled
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
        "prefer": "component",
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
    }, options=ComponentLabelsOptions(label_jobs=True, prefer="component"))
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

    def recipe(  # type: ignore[no-untyped-def]
        chart, components: dict[str, str] | None = None
    ) -> dict[str, str]:
        options = {"components": components} if components else {}
        run = run_recipe(ComponentLabels(), chart, options)
        return {p: t for p, t in run.files.items() if (chart / p).read_text() != t}

    legacy = chart_copy("legacy-server")
    flag = fix_target(legacy, FixRequest(fix_latent=True, components=(
        ("release-name-legacy-server", "fleet-server"),)))
    assert fixed(flag) == recipe(legacy, {"release-name-legacy-server": "fleet-server"})
    assert fixed(flag) != recipe(legacy), "the option changes what is written"
    shared = chart_copy("shared-selector")
    (shared / ".chartfix.yaml").write_text("components:\n  worker: background\n")
    config = fix_target(shared, FixRequest(fix_latent=True))
    assert fixed(config) == recipe(shared, {"worker": "background"})
    assert fixed(config) != recipe(shared)


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
    run = assert_recipe(ComponentLabels(), fixture_files("legacy-server", {
        "templates/deployment.yaml": LEGACY_DEPLOYMENT,
        "templates/service.yaml": LEGACY_SERVICE,
    }), {
        "templates/deployment.yaml": LEGACY_DEPLOYMENT_AFTER,
        "templates/service.yaml": LEGACY_SERVICE_AFTER,
    })
    assert applicability(run) == {"Deployment/release-name-legacy-server": "unsafe"}


def _without_final_newline(text: str, newline: str) -> str:
    return text.removesuffix("\n").replace("\n", newline)


def _selector_written_unsorted(text: str) -> str:
    """The Service's selector with `release` first: no order to follow, the key goes last."""
    app = '    app: {{ template "legacy-server.name" . }}\n'
    release = "    release: {{ .Release.Name }}\n"
    return text.replace(app + release, release + app)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_service_without_final_newline_is_edited_at_its_last_line(newline: str) -> None:
    """The selector's last entry is the file's last line, with no newline after it. Sorted
    (app, component, release), the new line goes before that line; written in no order, after
    it, with a line break between. Either way the file still ends without a final newline,
    and its lines keep their own line breaks (CRLF stays CRLF)."""
    sorted_after = _without_final_newline(LEGACY_SERVICE_AFTER, newline)
    unsorted = _selector_written_unsorted(LEGACY_SERVICE)
    unsorted_after = unsorted.removesuffix("\n") + "\n    component: server"
    for service, service_after in [
        (_without_final_newline(LEGACY_SERVICE, newline), sorted_after),
        (_without_final_newline(unsorted, newline), unsorted_after.replace("\n", newline)),
    ]:
        assert_recipe(ComponentLabels(), fixture_files("legacy-server", {
            "templates/deployment.yaml": LEGACY_DEPLOYMENT,
            "templates/service.yaml": service,
        }), {
            "templates/deployment.yaml": LEGACY_DEPLOYMENT_AFTER,
            "templates/service.yaml": service_after,
        })


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
        ComponentLabels(), fixture_files("scaffold-helpers", SCAFFOLD), SCAFFOLD_AFTER,
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
    chart = fixture_files("scaffold-helpers", {**SCAFFOLD, **renamed})
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
    {{- omit (include "scaffold-helpers.labels" . | fromYaml) "app.kubernetes.io/name" | toYaml | nindent 4 }}
    app.kubernetes.io/name: {{ include "scaffold-helpers.name" . }}-test-connection
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
    run = assert_recipe(ComponentLabels(), fixture_files("scaffold-helpers", {
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
    assert_recipe(ComponentLabels(), fixture_files("shared-selector", {
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
    assert_recipe(ComponentLabels(), fixture_files("component-helper", {
        "templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT,
    }), {"templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT_AFTER})


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
    run = assert_recipe(ComponentLabels(), fixture_files("component-helper", {
        "templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT,
        "templates/digest-cronjob.yaml": HELPER_DIGEST_CRONJOB,
    }), {
        "templates/worker-deployment.yaml": HELPER_WORKER_DEPLOYMENT_AFTER,
        "templates/digest-cronjob.yaml": HELPER_DIGEST_CRONJOB_AFTER,
    }, options=ComponentLabelsOptions(label_jobs=True, prefer="component"))
    assert applicability(run)["CronJob/release-name-component-helper-digest"] == "safe"
