"""Which controller a consumer is meant for when ports and names tie: the file names say.

A folder of alternatives (`cache-single-*.yaml` or `cache-cluster-*.yaml`, apply one set)
and a chart whose templates are named per component both tell, by the words their file
names share (kind words like service/deployment left out), which Service goes with which
controller. The rule (`stray`) and the recipe (which consumer follows) decide alike."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES

from chartfix.model.changes import TargetChange
from chartfix.pipeline import FixRequest, fix_target
from chartfix.recipes.component_labels import ComponentLabels
from chartfix.rules.attribution import file_words, meant_for
from chartfix.sources.helm.chart import Scenario, load_chart
from chartfix.sources.helm.render import render
from chartfix.testing import assert_recipe


def _selector_after(change: TargetChange, kind: str) -> dict[str, str]:
    obj = next(o for o in change.after[0].objects if o.kind == kind)
    assert obj.selector is not None
    return dict(obj.selector.match_labels)


def _pods_after(change: TargetChange, kind: str) -> dict[str, str]:
    obj = next(o for o in change.after[0].objects if o.kind == kind)
    return dict(obj.pod_labels or {})


def test_file_words_leave_out_kind_words_and_folders() -> None:
    assert file_words("cache-single-service.yaml") == {"cache", "single"}
    assert file_words("templates/server-svc.yaml") == {"server"}
    assert file_words("deploy/statefulset.yml") == frozenset()


def test_a_service_of_a_folder_of_alternatives_follows_its_own_files_controller(
    tmp_path: Path,
) -> None:
    """`cache-service` starts with the StatefulSet's name `cache`, and both controllers serve
    port 6379; its file `cache-single-service.yaml` shares `single` with the Deployment's."""
    root = tmp_path / "alternative-files"
    shutil.copytree(FIXTURES / "alternative-files", root)
    change = fix_target(root, FixRequest(fix_latent=True))
    service = next(o for o in change.before[0].objects if o.kind == "Service")
    owner = meant_for(service, change.before[0])
    assert owner is not None and owner.ref.name == "cache-deployment"
    deployment = _pods_after(change, "Deployment")
    assert _selector_after(change, "Service") == {"app": "cache",
                                                  "component": deployment["component"]}
    assert deployment["component"] != _pods_after(change, "StatefulSet")["component"]
    assert not change.unfixed


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: store\nversion: 0.1.0\n",
    "values.yaml": "{}\n",
    "templates/standalone-service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-store
spec:
  ports:
    - port: 80
      targetPort: 8080
  selector:
    app: store
""",
    "templates/standalone-deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-store-standalone
spec:
  selector:
    matchLabels:
      app: store
  template:
    metadata:
      labels:
        app: store
    spec:
      containers:
        - name: store
          image: store:1
          ports:
            - containerPort: 8080
""",
    "templates/distributed-statefulset.yaml": """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-store-distributed
spec:
  serviceName: {{ .Release.Name }}-store
  selector:
    matchLabels:
      app: store
  template:
    metadata:
      labels:
        app: store
    spec:
      containers:
        - name: store
          image: store:1
          ports:
            - containerPort: 8080
""",
}


SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-store
spec:
  ports:
    - port: 80
      targetPort: 8080
  selector:
    app: store
    component: standalone
"""

DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-store-standalone
spec:
  selector:
    matchLabels:
      app: store
      component: standalone
  template:
    metadata:
      labels:
        app: store
        component: standalone
    spec:
      containers:
        - name: store
          image: store:1
          ports:
            - containerPort: 8080
"""

STATEFULSET_AFTER = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-store-distributed
spec:
  serviceName: {{ .Release.Name }}-store
  selector:
    matchLabels:
      app: store
      component: distributed
  template:
    metadata:
      labels:
        app: store
        component: distributed
    spec:
      containers:
        - name: store
          image: store:1
          ports:
            - containerPort: 8080
"""


def test_a_helm_templates_file_name_breaks_the_tie(tmp_path: Path) -> None:
    """Same ports, and the Service's name is the start of both controllers' names: only
    `templates/standalone-service.yaml` against `templates/standalone-deployment.yaml`
    tells (before, nobody could say and the Service was left selecting both)."""
    for rel, text in CHART.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    rendered = render(load_chart(tmp_path), Scenario("default"))
    service = next(o for o in rendered.objects if o.kind == "Service")
    owner = meant_for(service, rendered)
    assert owner is not None and owner.kind == "Deployment"
    assert_recipe(ComponentLabels(), CHART, {
        "templates/standalone-service.yaml": SERVICE_AFTER,
        "templates/standalone-deployment.yaml": DEPLOYMENT_AFTER,
        "templates/distributed-statefulset.yaml": STATEFULSET_AFTER,
    })
