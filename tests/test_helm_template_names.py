"""Objects Helm names anew on every render (chartfix/sources/helm/template/names.py), with
Helm's real engine: found through every helper that leads to a random function, and found
without outlining templates that cannot lead to one."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.sources.helm.chart import load_chart, scenarios
from chartfix.sources.helm.render import render
from chartfix.sources.helm.template.locate import Templates
from chartfix.sources.helm.template.names import calls_random

HELPERS = """\
{{- define "t.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end }}

{{- define "t.suffix" -}}
{{ randAlphaNum 5 | lower }}
{{- end }}

{{- define "t.jobName" -}}
{{ include "t.fullname" . }}-job-{{ include "t.suffix" . }}
{{- end }}

{{- define "t.password" -}}
{{ randAlphaNum 16 | b64enc | quote }}
{{- end }}
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "t.jobName" . }}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: seed
          image: busybox
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "t.fullname" . }}
spec:
  selector:
    matchLabels:
      app: t
  template:
    metadata:
      labels:
        app: t
    spec:
      containers:
        - name: app
          image: busybox
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "t.fullname" . }}
data:
  password: {{ include "t.password" . }}
"""


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: t\nversion: 1.0.0\n")
    files = {"_helpers.tpl": HELPERS, "job.yaml": JOB, "deployment.yaml": DEPLOYMENT,
             "secret.yaml": SECRET}
    for name, text in files.items():
        (root / "templates" / name).write_text(text)
    return root


def test_a_name_random_through_two_helpers_is_known_by_its_stable_parts(chart: Path) -> None:
    loaded = load_chart(chart)
    objects = render(loaded, scenarios(loaded)[0]).objects
    job = next(o for o in objects if o.kind == "Job")
    assert job.name.startswith("release-name-t-job-") and job.name != "release-name-t-job-"
    assert str(job.ref) == "Job/release-name-t-job-*"
    deployment = next(o for o in objects if o.kind == "Deployment")
    assert deployment.stable_name is None


def test_templates_that_lead_to_no_random_function_are_not_outlined_for_names(
    chart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chart calls randAlphaNum for a password: only the Job's template, which names it
    through a random helper, is outlined to find its name (outlining is what costs)."""
    outlined: list[str] = []
    real = Templates.outline

    def counted(self: Templates, rel: str):  # type: ignore[no-untyped-def]
        outlined.append(rel)
        return real(self, rel)

    monkeypatch.setattr(Templates, "outline", counted)
    loaded = load_chart(chart)
    render(loaded, scenarios(loaded)[0])
    assert set(outlined) == {"templates/job.yaml"}


@pytest.mark.parametrize(("text", "random"), [
    ("name: {{ .Release.Name }}-{{ randAlphaNum 5 }}", True),
    ('{{ printf "}}" | randAlpha 5 }}', True),  # a `}}` in a string does not end the action
    ("{{ `}}` | now }}", True),
    ("description: from now on the field {{ .Values.x }} is ignored", False),  # prose
    ("{{/* now */}}\nname: {{ .Release.Name }}", True),  # a comment may say yes, never no
    ("{{ '\"' | now }}", True),  # a rune of a quote opens no string
    ("{{ now " + "a b " * 40, True),  # unterminated: Helm refuses it; no answer is 'no'
])
def test_a_random_call_is_looked_for_in_the_actions_alone(text: str, random: bool) -> None:
    """A CRD's descriptions are rendered as written: "now" in them names no function, so a
    chart of CRDs is not taken for one that names objects randomly (which costs outlining
    its templates)."""
    assert calls_random(text) is random
