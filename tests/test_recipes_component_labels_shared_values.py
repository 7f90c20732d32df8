"""component-labels alone where a component value is already shared, before and after (as
test_recipes_component_labels.py): a Job or a test Pod carrying the controller's value, a
Service spanning several controllers, StatefulSets made by one `range`. What the pipeline
says about these fixes (notes, migration notes): test_pipeline_shared_values.py.
"""

from __future__ import annotations

from pathlib import Path

from test_recipes_component_labels import (
    applicability,
    errors,
    fixture_files,
    pod_labels,
    written,
)

from chartfix.recipes.component_labels import ComponentLabels
from chartfix.sources.helm.chart import Scenario, load_chart
from chartfix.sources.helm.render import render
from chartfix.testing import assert_recipe

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


def test_jobs_and_the_test_pod_get_their_own_component_value() -> None:
    """The controller's selector stays; each value changes in place, the comment and the
    quoting as they were; the Service meant for the server selects on its value, the key in
    its sorted place."""
    run = assert_recipe(ComponentLabels(), fixture_files("shared-component", {
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
    {{- omit (include "shared-component.podLabels" . | fromYaml) "component" | toYaml | nindent 4 }}
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


def test_a_value_from_a_shared_helper_is_overridden_after_the_include(tmp_path: Path) -> None:
    """The test Pod includes the helper the Deployment's pods get `component: server` from:
    its own template overrides that one key of the helper's output; the helper stays."""
    run = assert_recipe(ComponentLabels(), fixture_files("shared-component", {
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
    assert_recipe(ComponentLabels(), fixture_files("shared-component", {
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
    run = assert_recipe(ComponentLabels(), fixture_files("shared-component", {
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
    {{- omit (include "test-pod-shared-helper.labels" . | fromYaml) "app.kubernetes.io/component" | toYaml | nindent 4 }}
    app.kubernetes.io/component: test-connection
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
  labels: {{- omit (include "test-pod-shared-helper.labels" . | fromYaml) "app.kubernetes.io/component" | toYaml | nindent 4 }}
    app.kubernetes.io/component: test-metrics
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
    run = assert_recipe(ComponentLabels(), fixture_files("test-pod-shared-helper", {
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
    run = assert_recipe(ComponentLabels(), fixture_files("peer-service", PEER), {
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
    run = assert_recipe(ComponentLabels(), fixture_files("peer-service", {
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
    run = assert_recipe(ComponentLabels(), fixture_files("peer-service", {
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
        ComponentLabels(), fixture_files("range-shards", {"templates/shards.yaml": SHARDS}),
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
