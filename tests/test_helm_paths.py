"""Helm paths the one-pipeline refactor opened: a label helper's empty component argument
filled for `--label-jobs` Jobs too, and `Source.writes_literally` (a Service over several
controllers selects on a label their pods share only when it is written literally)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import CHARTFIX

from chartfix.pipeline import FixRequest, fix_target
from chartfix.sources.base import RenderSettings
from chartfix.sources.targets import kind_of

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHARTFIX, *args], capture_output=True, text=True, cwd=ROOT,
                          check=False)


def test_label_jobs_fills_the_cronjobs_empty_helper_argument_and_verifies(
    chart_copy: Callable[[str], Path],
) -> None:
    """component-helper's CronJob passes `"component" ""` to the labels helper, as the
    worker does: with --label-jobs both arguments are filled (worker, digest), the fix is
    verified (rendered again) and written, and `check` is clean after."""
    chart = chart_copy("component-helper")
    change = fix_target(chart, FixRequest(fix_latent=True, label_jobs=True))
    after = {f.path: f.after.decode() for f in change.files}
    cronjob = after["templates/digest-cronjob.yaml"]
    assert '(dict "ctx" . "component" "digest") | nindent 12' in cronjob
    assert cronjob.count('"component" ""') == 1  # the CronJob's own metadata.labels
    assert '(dict "ctx" . "component" "worker")' in after["templates/worker-deployment.yaml"]
    rendered = {o.ref.kind: o for o in change.after[0].objects if o.kind in ("CronJob",)}
    assert (rendered["CronJob"].pod_labels or {}).get("app.kubernetes.io/component") == "digest"
    assert not change.unfixed
    written = run("fix", "--fix-latent", str(chart), "--label-jobs", "--write")
    assert written.returncode == 0, written.stdout + written.stderr
    assert run("check", str(chart)).returncode == 0
    assert (chart / "templates/digest-cronjob.yaml").read_text() == cronjob


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
