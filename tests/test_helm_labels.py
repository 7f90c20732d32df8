"""Helm paths the one-pipeline refactor opened: a label helper's empty component argument
filled for `--label-jobs` Jobs too, and `Source.writes_literally` (a Service over several
controllers selects on a label their pods share only when it is written literally)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import CHARTFIX
from test_recipes_component_labels import HELPER_DIGEST_CRONJOB_AFTER

from chartfix.sources.base import RenderSettings
from chartfix.sources.targets import kind_of

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHARTFIX, *args], capture_output=True, text=True, cwd=ROOT,
                          check=False)


def test_fix_label_jobs_writes_the_cronjobs_helper_argument_and_check_is_clean(
    chart_copy: Callable[[str], Path],
) -> None:
    """component-helper's CronJob passes `"component" ""` to the labels helper: `fix
    --label-jobs --write` writes what the recipe's pair says (test_recipes_component_labels.py)
    and `check` is clean after."""
    chart = chart_copy("component-helper")
    written = run("fix", "--fix-latent", str(chart), "--label-jobs", "--write")
    assert written.returncode == 0, written.stdout + written.stderr
    assert run("check", str(chart)).returncode == 0
    assert (chart / "templates/digest-cronjob.yaml").read_text() == HELPER_DIGEST_CRONJOB_AFTER


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: lit\nversion: 0.1.0\n",
    "values.yaml": "tier: backend\nextra: true\n",
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        quoted: "yes"
        tier: {{ .Values.tier }}
        {{- if .Values.extra }}
        extra: "on"
        {{- end }}
    spec:
      containers:
        - name: web
          image: web:1
""",
}


def test_writes_literally_tells_a_literal_label_from_a_templated_or_conditional_one(
    tmp_path: Path,
) -> None:
    for rel, text in CHART.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    source = kind_of(tmp_path).load(tmp_path)
    rendering = source.render_all(RenderSettings()).renderings[0]
    web = next(o for o in rendering.objects if o.kind == "Deployment")
    path = "spec.template.metadata.labels"
    assert web.pod_labels == {"app": "web", "quoted": "yes", "tier": "backend", "extra": "on"}
    literally = {key: source.writes_literally(web, rendering, path, key) for key in web.pod_labels}
    assert literally == {"app": True, "quoted": True, "tier": False, "extra": False}
    assert source.writes_literally(web, rendering, path, "missing") is False
