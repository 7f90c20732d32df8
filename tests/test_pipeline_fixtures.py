"""Every recipe together, as `chartfix fix` runs them, on our fixture charts, rendered with
Helm's engine: every fixture's whole patch is pinned in tests/snapshots/ (set
CHARTFIX_UPDATE_SNAPSHOTS=1 to rewrite them after a reviewed change), verified, written and
idempotent. Each recipe alone, before and after: test_recipes_component_labels.py and
test_recipes_stable_selectors.py.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.model.objects import FileDocument, K8sObject
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.apply import write_change
from chartfix.publish.diff import file_diff
from chartfix.recipes.naming import component_value

BUGGY = sorted(
    p.name for p in FIXTURES.iterdir()
    if (p / "Chart.yaml").exists()
    and p.name not in {"clean", "migration-shop", "ksm-autosharding-new-image"}
)
SNAPSHOTS = Path(__file__).parent / "snapshots"


def only_insertions(before: bytes, after: bytes) -> bool:
    """Every byte of `before` is still there, in order: the fix only inserted text."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def test_label_jobs_option_labels_the_job_and_says_it_is_a_hook(chart_copy) -> None:
    chart = chart_copy("legacy-server")
    change = fix_target(chart, FixRequest(fix_latent=True, label_jobs=True))
    paths = {f.path for f in change.files}
    assert {"templates/migration-job.yaml", "templates/cronjob.yaml"} <= paths
    assert "Job/release-name-legacy-server-migration is a hook Job" in change.notes
    assert not any("immutable" in note for note in change.notes), "hook and CronJob are safe"


@pytest.mark.parametrize("name", BUGGY)
def test_fix_is_verified_written_and_idempotent(chart_copy, name: str) -> None:
    chart = chart_copy(name)
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert change.files, "every buggy fixture gets a fix"
    assert not change.unfixed, [u.reason for u in change.unfixed]
    replaces = (
        "component-helper", "shared-component", "test-pod-shared-helper", "component-key-toggle",
        "ksm-autosharding", "scaffold-helpers", "test-pod-numeric-port", "test-pod-fullname-label",
        "release-named",
    )
    if not (name.startswith("volatile") or name in replaces):
        for file in change.files:  # volatile fixes remove entries; component-helper fills
            assert only_insertions(file.before, file.after), file.path  # an argument;
            # shared-component, test-pod-shared-helper, scaffold-helpers and
            # test-pod-numeric-port give test pods a value of their own;
            # component-key-toggle turns the chart's toggle on (false -> true); ksm-autosharding
            # moves the pod annotations' key out of its `with` block; test-pod-fullname-label
            # writes the test Pod's role over its fullname action; release-named's seed hook
            # Job (Helm recreates it) gets its role where the release name was
    write_change(change)
    again = fix_target(chart, FixRequest(fix_latent=True))
    assert again.files == [] and again.fixed == [] and again.unfixed == []


@pytest.mark.parametrize("name", BUGGY)
def test_patch_snapshot(chart_copy, name: str) -> None:
    chart = chart_copy(name)
    change = fix_target(chart, FixRequest(fix_latent=True))
    patch = "".join(file_diff(name, f) for f in change.files)
    snapshot = SNAPSHOTS / f"{name}.patch"
    if os.environ.get("CHARTFIX_UPDATE_SNAPSHOTS"):
        snapshot.write_bytes(patch.encode())
    assert patch == snapshot.read_bytes().decode(), name


def test_clean_chart_is_left_alone(chart_copy) -> None:
    change = fix_target(chart_copy("clean"), FixRequest(fix_latent=True))
    assert change.files == [] and change.fixed == [] and change.unfixed == []


def test_only_the_selected_recipe_runs(chart_copy) -> None:
    chart = chart_copy("volatile-legacy")
    change = fix_target(chart, FixRequest(fix_latent=True, recipes=("component-labels",)))
    assert change.files == [] and change.fixed == []


def test_random_secrets_do_not_fail_verification(chart_copy) -> None:
    """A chart whose every render differs (a generated password, and a checksum of it on the
    Deployment) still gets its verified fix: that difference is noise, not the edit's."""
    chart = chart_copy("legacy-server")
    (chart / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-password\n"
        "data:\n  password: {{ randAlphaNum 16 | b64enc | quote }}\n"
    )
    deployment = chart / "templates" / "deployment.yaml"
    text = deployment.read_text()
    assert "  template:\n    metadata:\n" in text
    deployment.write_text(text.replace(
        "  template:\n    metadata:\n",
        "  template:\n    metadata:\n      annotations:\n        checksum/secret: "
        '{{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}\n',
        1,
    ))
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert {f.obj.kind for f in change.fixed} == {"Deployment", "Service"}


KSM_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-ksm
spec:
  serviceName: ksm
  selector:
    matchLabels:
      app: ksm
      helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
  template:
    metadata:
      labels:
        app: ksm
        helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
    spec:
      containers:
        - name: ksm
          image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.10.1
          args: ["--pod=$(POD_NAME)", "--pod-namespace=$(POD_NAMESPACE)"]
"""


def test_autosharded_kube_state_metrics_gets_the_restart(tmp_path: Path) -> None:
    """docs/domain.md §3: relabelling an autosharded kube-state-metrics older than v2.13.0 stops
    its shards until the pods restart; the finding and the migration note both say so."""
    from chartfix.publish.migration.text import migration_note

    chart = tmp_path / "metrics"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: metrics\nversion: 1.0.0\n")
    (chart / "templates" / "ksm.yaml").write_text(KSM_STATEFULSET)
    change = fix_target(chart, FixRequest(fix_latent=True))
    (finding,) = change.fixed
    assert finding.rule == "volatile"
    assert any("kubectl rollout restart statefulset/release-name-ksm" in n for n in change.notes)
    note = migration_note(change, "release-name", "default")
    assert "rollout restart statefulset/release-name-ksm" in note


def _workload(kind: str) -> K8sObject:
    body = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "rel-x"}}
    return K8sObject(body, FileDocument("templates/x.yaml", 0), "shop")


@pytest.mark.parametrize(
    ("kind", "roles", "value"),
    [
        ("Deployment", ("api", "nginx"), "api"),  # a role: kept
        ("Deployment", ("api-deploy", "nginx"), "api"),
        ("StatefulSet", ("db-sts", "postgres"), "db"),
        ("Deployment", ("deployment", "nginx"), "nginx"),  # then the next name written
        ("Deployment", ("svc-deployment", "shop"), "server"),  # then the kind's default
        ("DaemonSet", ("ds", "shop"), "agent"),
        ("Deployment", ("apps", "nginx"), "apps"),  # whole words only
        ("Deployment", ("web-app", "nginx"), "web"),
        ("Deployment", ("shop-migrate",), "migrate"),  # the chart's name is no role word
        ("Deployment", ("c", "main", "app"), "server"),  # nor a one-letter or generic one
    ],
)
def test_kind_words_are_no_component_value(
    kind: str, roles: tuple[str, ...], value: str
) -> None:
    assert component_value(_workload(kind), "shop", {}, roles) == value
