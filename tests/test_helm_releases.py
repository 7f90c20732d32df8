"""A chart's next release, rendered (sources/helm/releases.py): the control render, which
tells noise from labels that follow the release, is made only when the chart may render
differently twice. Counted, never timed: `render.stats` counts Helm renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.model.objects import ObjectRef
from chartfix.sources.base import RenderSettings
from chartfix.sources.helm import render
from chartfix.sources.helm.kind import HelmKind

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels:
    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
data:
  password: {{ PASSWORD }}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/config.yaml") . | sha256sum }}
    spec:
      containers:
        - name: app
          image: app:1.0.0
"""

ANNOTATIONS = "spec.template.metadata.annotations"


def _chart(root: Path, password: str) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\n")
    (root / "values.yaml").write_text("{}\n")
    (root / "templates" / "config.yaml").write_text(CONFIG.replace("{{ PASSWORD }}", password))
    (root / "templates" / "deployment.yaml").write_text(DEPLOYMENT)
    return root


@pytest.mark.parametrize(
    ("password", "renders", "follows"),
    [
        ("fixed", 1, True),  # the checksum changes with the version only: no control needed
        ("{{ randAlphaNum 12 }}", 2, False),  # it changes on every render: noise
    ],
)
def test_a_control_is_rendered_only_for_a_chart_that_renders_differently_twice(
    tmp_path: Path, password: str, renders: int, follows: bool
) -> None:
    source = HelmKind().load(_chart(tmp_path / "app", password))
    rendering = source.render_all(RenderSettings()).renderings[0]
    before = render.stats.renders
    diff = source.releases(rendering)
    assert render.stats.renders - before == renders, "the next release, and the control"
    place = (ObjectRef("Deployment", "app"), ANNOTATIONS)
    assert (place in diff.changes) is follows, diff.changes
    assert place in diff.seen
