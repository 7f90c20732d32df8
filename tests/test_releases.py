"""Labels that change with the next release, found by rendering it (chartfix.model.releases),
and the kube-state-metrics autosharding rule that reads them; Helm's real engine throughout.

Charts are written to a scratch folder per test; the ksm fixtures are ours (fixtures/).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.model.findings import Finding
from chartfix.pipeline import FixRequest, fix_chart
from chartfix.publish.migration import migration_note
from chartfix.rules import analyze
from chartfix.sources.base import RenderSettings
from chartfix.sources.helm.releases import bumped, release_pair
from chartfix.sources.targets import kind_of

CHART_YAML = "apiVersion: v2\nname: demo\nversion: 1.4.2\nappVersion: 3.0.0\n"


def chart(tmp_path: Path, templates: dict[str, str], meta: str = CHART_YAML) -> Path:
    root = tmp_path / "demo"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(meta)
    (root / "values.yaml").write_text("image: {tag: ''}\n")
    for name, text in templates.items():
        (root / "templates" / name).write_text(text)
    return root


def findings(root: Path, rule: str) -> list[Finding]:
    source = kind_of(root).load(root)
    rendered = source.render_all(RenderSettings())
    releases = source.releases(rendered.renderings[0])
    return [f for f in analyze(source, rendered.renderings, releases) if f.rule == rule]


def deployment(selector: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector:
    matchLabels: {{app: web, {selector}}}
  template:
    metadata: {{labels: {{app: web, {selector}}}}}
    spec: {{containers: [{{name: web, image: nginx}}]}}
"""


@pytest.mark.parametrize(
    ("version", "after"),
    [("5.18.1", "5.18.2"), ("v2.12.0", "v2.12.1"), ("1.0.0-rc.1", "1.0.0-rc.2"),
     ("0.9", "0.10"), ("07", "08"), ("latest", "latest-next")],
)
def test_the_next_release_raises_the_last_number(version: str, after: str) -> None:
    assert bumped(version) == after


# --- volatile, by rendering ------------------------------------------------------------------


def test_a_label_any_key_that_changes_with_the_release_is_volatile(tmp_path: Path) -> None:
    root = chart(tmp_path, {"web.yaml": deployment("train: 'r{{ .Chart.Version }}'")})
    [found] = findings(root, "volatile")
    assert found.detail["keys"] == "train"
    assert found.detail["changes"] == "train=r1.4.2 -> r1.4.3"
    assert found.detail["found_by"] == (
        "rendering the next release of scenario default "
        "(version 1.4.2 -> 1.4.3, appVersion 3.0.0 -> 3.0.1)"
    )


def test_an_image_tag_from_the_app_version_is_volatile(tmp_path: Path) -> None:
    tag = "tag: {{ .Values.image.tag | default .Chart.AppVersion | quote }}"
    [found] = findings(chart(tmp_path, {"web.yaml": deployment(tag)}), "volatile")
    assert found.detail["changes"] == "tag=3.0.0 -> 3.0.1"


def test_a_constant_version_key_and_a_random_value_are_not(tmp_path: Path) -> None:
    root = chart(tmp_path, {
        "web.yaml": deployment("version: v1"),
        "rnd.yaml": deployment("nonce: {{ randAlphaNum 8 | quote }}").replace("web", "rnd"),
    })
    assert findings(root, "volatile") == []


def test_the_key_list_stands_in_where_the_next_release_does_not_render(
    tmp_path: Path,
) -> None:
    pinned = '{{ if ne .Chart.Version "1.4.2" }}{{ fail "pinned to 1.4.2" }}{{ end }}'
    root = chart(tmp_path, {"web.yaml": pinned + "\n" + deployment("version: v1")})
    [found] = findings(root, "volatile")
    assert found.detail["keys"] == "version"
    assert found.detail["found_by"].startswith("the key list (the next release of demo does not")
    assert "pinned to 1.4.2" in found.detail["found_by"]


# --- autosharding ----------------------------------------------------------------------------

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ksm
  labels: {app: ksm, helm.sh/chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}
spec:
  serviceName: ksm
  UPDATE
  selector: {matchLabels: {app: ksm}}
  template:
    metadata:
      labels: {app: ksm}
      ANNOTATIONS
    spec:
      containers:
        - name: ksm
          image: registry.k8s.io/kube-state-metrics/kube-state-metrics:TAG
          args: [--port=8080, --pod=$(POD_NAME), --pod-namespace, $(POD_NAMESPACE)]
"""


def statefulset(tag: str = "v2.12.0", annotations: str = "", update: str = "") -> str:
    return (
        STATEFULSET.replace("TAG", tag)
        .replace("ANNOTATIONS", annotations or "annotations: {}")
        .replace("UPDATE", update or "replicas: 2")
    )


def test_the_fixture_is_found_with_its_labels_and_the_upstream_issue() -> None:
    [found] = findings(FIXTURES / "ksm-autosharding", "autosharding")
    assert found.severity == "error"
    assert str(found.obj) == "StatefulSet/release-name-ksm-autosharding"
    assert found.detail["labels"] == (
        "helm.sh/chart=ksm-autosharding-5.18.1 -> ksm-autosharding-5.18.2, "
        "app.kubernetes.io/version=2.12.0 -> 2.12.1"
    )
    assert found.detail["upstream"] == "kubernetes/kube-state-metrics#2372"
    assert found.detail["autosharding"] == "--pod=$(POD_NAME) --pod-namespace=$(POD_NAMESPACE)"
    assert found.location.path == "templates/statefulset.yaml"
    assert found.scenarios == ("default", "ci/pod-annotations-values.yaml")


def test_a_new_image_is_clean() -> None:
    assert findings(FIXTURES / "ksm-autosharding-new-image", "autosharding") == []


def test_the_check_command_names_the_rule_the_recipe_and_the_restart() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chartfix", "check", str(FIXTURES / "ksm-autosharding")],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "error[autosharding] StatefulSet/release-name-ksm-autosharding" in done.stdout
    assert "kubectl rollout restart statefulset/release-name-ksm-autosharding" in done.stdout
    assert "`chartfix fix --recipe restart-on-labels` adds a pod-template annotation" in done.stdout


@pytest.mark.parametrize(
    ("tag", "severity"), [("v2.12.0", "error"), ("2.9", "error"), ("latest", "warning"),
                          ("v2.13.0", None), ("v3.0.1", None)],
)
def test_the_image_decides(tmp_path: Path, tag: str, severity: str | None) -> None:
    found = findings(chart(tmp_path, {"ksm.yaml": statefulset(tag)}), "autosharding")
    assert [f.severity for f in found] == ([severity] if severity else [])
    if tag == "latest":
        assert "its tag 'latest' cannot be compared with v2.13.0" in found[0].message


@pytest.mark.parametrize(
    "annotations",
    [
        'annotations: {chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}',
        'annotations: {checksum/labels: "{{ print .Chart.Version | sha256sum }}"}',
    ],
)
def test_pods_restarted_with_the_labels_are_not_reported(
    tmp_path: Path, annotations: str
) -> None:
    root = chart(tmp_path, {"ksm.yaml": statefulset(annotations=annotations)})
    assert findings(root, "autosharding") == []


def test_on_delete_pods_are_not_restarted_whatever_they_carry(tmp_path: Path) -> None:
    annotations = 'annotations: {chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}'
    update = "updateStrategy: {type: OnDelete}"
    root = chart(tmp_path, {"ksm.yaml": statefulset(annotations=annotations, update=update)})
    [found] = findings(root, "autosharding")
    assert "its updateStrategy is OnDelete" in found.message


def test_a_statefulset_without_autosharding_is_not_reported(tmp_path: Path) -> None:
    text = statefulset().replace(", --pod=$(POD_NAME), --pod-namespace, $(POD_NAMESPACE)", "")
    assert findings(chart(tmp_path, {"ksm.yaml": text}), "autosharding") == []


# --- restart-on-labels -----------------------------------------------------------------------

BEFORE_TEMPLATE = """\
    metadata:
      labels:
        {{- include "ksm-autosharding.selectorLabels" . | nindent 8 }}
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
"""

FIXED_TEMPLATE = """\
    metadata:
      labels:
        {{- include "ksm-autosharding.selectorLabels" . | nindent 8 }}
      annotations:
        checksum/labels: {{ include "ksm-autosharding.labels" . | sha256sum }}
      {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
"""


def test_the_fix_restarts_the_pods_with_every_label_change(chart_copy) -> None:  # type: ignore[no-untyped-def]
    root = chart_copy("ksm-autosharding")
    change = fix_chart(root, FixRequest(recipes=("restart-on-labels",), mode="--write"))
    assert [str(f.obj) for f in change.fixed] == ["StatefulSet/release-name-ksm-autosharding"]
    [edited] = change.files
    assert edited.path == "templates/statefulset.yaml"
    after = edited.after.decode()
    assert FIXED_TEMPLATE in after
    assert edited.before.decode().replace(BEFORE_TEMPLATE, FIXED_TEMPLATE) == after
    assert any("Not needed from kube-state-metrics v2.13.0 on" in n for n in change.notes)
    note = migration_note(change, "release-name", "default")
    assert "`release-name-ksm-autosharding`: pod annotations change; a normal rolling" in note
    assert "No manual step is needed" in note
    assert "its pod template now carries the annotation checksum/labels" in note
    (root / edited.path).write_bytes(edited.after)
    # Both releases rendered again: the labels that change come with a pod-template change.
    source = kind_of(root).load(root)
    rendered = source.render_all(RenderSettings())
    releases = source.releases(rendered.renderings[0])
    [sts] = [o for o in rendered.renderings[0].objects if o.kind == "StatefulSet"]
    labels = releases.drift(sts, "metadata.labels")
    pods = releases.drift(sts, "spec.template.metadata.annotations")
    assert set(labels) == {"helm.sh/chart", "app.kubernetes.io/version"}
    assert set(pods) == {"checksum/labels"}
    assert findings(root, "autosharding") == []
    # The values' own annotations keep their condition, beside the checksum.
    [ci] = [r for r in rendered.renderings if r.scenario == "ci/pod-annotations-values.yaml"]
    [sts] = [o for o in ci.objects if o.kind == "StatefulSet"]
    annotations = sts.body["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"checksum/labels", "prometheus.io/scrape"}


def test_a_template_without_pod_annotations_gets_them(tmp_path: Path) -> None:
    helpers = (
        '{{- define "demo.labels" -}}\napp: ksm\nv: {{ .Chart.Version | quote }}\n{{- end }}\n'
    )
    text = statefulset(annotations="").replace("      annotations: {}\n", "").replace(
        '  labels: {app: ksm, helm.sh/chart: "{{ .Chart.Name }}-{{ .Chart.Version }}"}',
        '  labels:\n    {{- include "demo.labels" . | nindent 4 }}',
    ).replace("      labels: {app: ksm}", "      labels:\n        app: ksm")
    root = chart(tmp_path, {"_helpers.tpl": helpers, "ksm.yaml": text})
    change = fix_chart(root, FixRequest(recipes=("restart-on-labels",)))
    [edited] = change.files
    assert (
        "    metadata:\n      annotations:\n"
        '        checksum/labels: {{ include "demo.labels" . | sha256sum }}\n'
        "      labels:\n        app: ksm\n"
    ) in edited.after.decode()


def test_labels_written_without_a_helper_are_left_with_the_reason(tmp_path: Path) -> None:
    root = chart(tmp_path, {"ksm.yaml": statefulset()})
    change = fix_chart(root, FixRequest(recipes=("restart-on-labels",)))
    assert change.files == []
    [left] = change.unfixed
    assert "include no label helper to take a checksum of" in left.reason


def test_the_deployment_the_same_template_renders_gets_the_annotation_too(chart_copy) -> None:  # type: ignore[no-untyped-def]
    """With autosharding off (a ci/ file) the template renders a Deployment: the one edit
    gives it the annotation too, which verification must allow (its pods then restart with
    its labels as well)."""
    root = chart_copy("ksm-autosharding")
    (root / "ci" / "plain-values.yaml").write_text("autosharding: {enabled: false}\n")
    change = fix_chart(root, FixRequest(recipes=("restart-on-labels",)))
    assert [str(f.obj) for f in change.fixed] == ["StatefulSet/release-name-ksm-autosharding"]
    assert change.unfixed == []
    [plain] = [r for r in change.after if r.scenario == "ci/plain-values.yaml"]
    [deployment] = [o for o in plain.objects if o.kind == "Deployment"]
    assert set(deployment.body["spec"]["template"]["metadata"]["annotations"]) == {
        "checksum/labels"
    }


def test_a_subchart_folder_is_released_too(tmp_path: Path) -> None:
    """An umbrella's next release brings its dependencies' (those staged as folders)."""
    root = chart(tmp_path, {})
    sub = root / "charts" / "cache"
    (sub / "templates").mkdir(parents=True)
    (sub / "Chart.yaml").write_text("apiVersion: v2\nname: cache\nversion: 0.3.0\n")
    (sub / "templates" / "web.yaml").write_text(deployment("rev: 'c{{ .Chart.Version }}'"))
    [found] = findings(root, "volatile")
    assert found.detail["changes"] == "rev=c0.3.0 -> c0.3.1"


def test_the_control_is_rendered_only_for_changes_the_bump_does_not_explain(
    tmp_path: Path,
) -> None:
    versions = chart(tmp_path / "a", {"web.yaml": deployment("v: '{{ .Chart.AppVersion }}'")})
    noisy = chart(tmp_path / "b", {
        "web.yaml": deployment("v: '{{ .Chart.AppVersion }}'"),
        "rnd.yaml": deployment("nonce: {{ randAlphaNum 8 | quote }}").replace("web", "rnd"),
    })
    controls = []
    for root in (versions, noisy):
        source = kind_of(root).load(root)
        this = source.render_all(RenderSettings()).renderings[0]
        pair = release_pair(source.chart, source.rendered["default"], this)
        assert not isinstance(pair, str)
        controls.append(pair.control is not None)
    assert controls == [False, True]
