"""Before/after tests of the recipes on our fixture charts, rendered with Helm's engine.

The three charts the component-labels issue names are spelled out as expected template text;
every fixture's whole patch is pinned in tests/snapshots/ (set CHARTFIX_UPDATE_SNAPSHOTS=1
to rewrite them after a reviewed change).
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
from chartfix.recipes.files import RecipeFile, Step
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


def fixed_text(chart: Path, rel: str, request: FixRequest | None = None) -> str:
    change = fix_target(chart, request or FixRequest(fix_latent=True))
    files = {f.path: f.after for f in change.files}
    return files.get(rel, (chart / rel).read_bytes()).decode()


def test_legacy_server_gets_the_fleetdm_fix(chart_copy) -> None:
    chart = chart_copy("legacy-server")
    deployment = fixed_text(chart, "templates/deployment.yaml")
    # selectors keep their alphabetical order (app, component, release), as upstream did;
    # the pod labels (app, chart, release, heritage) have none: the key goes last
    assert "      app: {{ template \"legacy-server.name\" . }}\n      component: server\n" \
        "      release: {{ .Release.Name }}\n  template:" in deployment
    assert (
        "        heritage: {{ .Release.Service }}\n        component: server\n    spec:"
        in deployment
    )
    service = fixed_text(chart, "templates/service.yaml")
    assert service.endswith("    component: server\n    release: {{ .Release.Name }}\n")
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert sorted(f.path for f in change.files) == [
        "templates/deployment.yaml", "templates/service.yaml"
    ], "the hook Job and the CronJob are left alone by default"
    assert change.unsafe and not change.unfixed


COMPONENT_ROUTE = FixRequest(fix_latent=True, recipe_file=RecipeFile(
    "component-route", "always the component route", (
        Step("stable-selectors"), Step("component-labels", (("prefer", "component"),)),
    ), "tests/test_recipes.py",
))
"""The component route even where a controller's other pods are only helm test Pods (by
default those get a value of their own: scaffold-helpers' test Pod)."""


def test_scaffold_chart_labels_next_to_the_helper_never_in_it(chart_copy) -> None:
    chart = chart_copy("scaffold-helpers")
    change = fix_target(chart, COMPONENT_ROUTE)
    assert "templates/_helpers.tpl" not in {f.path for f in change.files}
    deployment = fixed_text(chart, "templates/deployment.yaml", COMPONENT_ROUTE)
    assert (
        '      {{- include "scaffold-helpers.selectorLabels" . | nindent 6 }}\n'
        "      app.kubernetes.io/component: server\n"
    ) in deployment
    pdb = fixed_text(chart, "templates/pdb.yaml", COMPONENT_ROUTE)
    assert pdb.endswith("      app.kubernetes.io/component: server\n")
    fixed = sorted((f.rule, f.obj.kind) for f in change.fixed)
    assert fixed == [
        ("overlap", "Deployment"), ("stray", "PodDisruptionBudget"), ("stray", "Service")
    ]


def test_shared_selector_services_are_attributed_by_port(chart_copy) -> None:
    chart = chart_copy("shared-selector")
    services = fixed_text(chart, "templates/services.yaml").split("---")
    assert len(services) == 3
    web, worker, cache = services  # targetPort http, port 9090, targetPort 6379
    assert web.rstrip().endswith("component: web")
    assert worker.rstrip().endswith("component: worker")
    assert cache.rstrip().endswith("component: cache")
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert {f.obj.name.rsplit("-", 1)[-1] for f in change.fixed} >= {"web", "worker", "cache"}


def test_a_helper_that_takes_a_component_gets_it_as_argument(chart_copy) -> None:
    chart = chart_copy("component-helper")
    text = fixed_text(chart, "templates/worker-deployment.yaml")
    selector, _, rest = text.partition("  template:")
    assert '"component" "worker"' in selector.split("selector:")[1]
    assert '"component" "worker"' in rest.split("spec:")[0], "pod template labels"
    assert text.count('"component" ""') == 1, "the Deployment's own metadata is left as is"


def test_component_override_from_the_command_line(chart_copy) -> None:
    chart = chart_copy("legacy-server")
    request = FixRequest(fix_latent=True, components=(("release-name-legacy-server",
                                                       "fleet-server"),))
    assert "component: fleet-server" in fixed_text(chart, "templates/deployment.yaml", request)


def test_component_override_from_chartfix_yaml(chart_copy) -> None:
    chart = chart_copy("shared-selector")
    (chart / ".chartfix.yaml").write_text("components:\n  worker: background\n")
    text = fixed_text(chart, "templates/worker-deployment.yaml")
    assert "component: background" in text


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
    )
    if not (name.startswith("volatile") or name in replaces):
        for file in change.files:  # volatile fixes remove entries; component-helper fills
            assert only_insertions(file.before, file.after), file.path  # an argument;
            # shared-component, test-pod-shared-helper, scaffold-helpers and
            # test-pod-numeric-port give test pods a value of their own;
            # component-key-toggle turns the chart's toggle on (false -> true); ksm-autosharding
            # moves the pod annotations' key out of its `with` block; test-pod-fullname-label
            # writes the test Pod's role over its fullname action
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


def test_a_workload_renamed_in_one_scenario_is_fixed_once(chart_copy) -> None:
    """fullnameOverride in a ci/ scenario renames the Deployment there: still one workload,
    one label per mapping (two labels with two values would be a duplicate key)."""
    chart = chart_copy("scaffold-helpers")
    (chart / "ci").mkdir()
    (chart / "ci" / "renamed-values.yaml").write_text("fullnameOverride: shop\n")
    change = fix_target(chart, COMPONENT_ROUTE)
    assert not change.unfixed, [u.reason for u in change.unfixed]
    deployment = next(f for f in change.files if f.path == "templates/deployment.yaml")
    assert deployment.after.decode().count("app.kubernetes.io/component") == 2
    names = {f.obj.name for f in change.fixed if f.obj.kind == "Deployment"}
    assert names == {"release-name-scaffold-helpers", "shop"}
    assert not [n for n in change.notes if n.startswith("not applied")], change.notes


LIBRARY_HELPERS = """\
{{- define "kit.labels.standard" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "kit.labels.matchLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
"""


def test_a_library_helper_is_swapped_for_its_selector_only_sibling(tmp_path: Path) -> None:
    """The version comes from a library chart's helper the chart cannot edit: the selector
    includes the library's own selector-only helper instead (bitnami's common does this)."""
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: shop\nversion: 1.0.0\nappVersion: 2.0.0\n"
        "dependencies:\n- name: kit\n  version: 1.0.0\n"
    )
    kit = chart / "charts" / "kit"
    (kit / "templates").mkdir(parents=True)
    (kit / "Chart.yaml").write_text("apiVersion: v2\nname: kit\nversion: 1.0.0\ntype: library\n")
    (kit / "templates" / "_labels.tpl").write_text(LIBRARY_HELPERS)
    policy = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: shop\n"
        "spec:\n  podSelector:\n"
        '    matchLabels: {{- include "kit.labels.standard" . | nindent 6 }}\n'
        "  policyTypes: [Ingress]\n"
    )
    (chart / "templates" / "networkpolicy.yaml").write_text(policy)
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert [f.rule for f in change.fixed] == ["volatile"] and not change.unfixed
    (file,) = change.files
    assert file.after.decode() == policy.replace("kit.labels.standard", "kit.labels.matchLabels")
    (unit,) = change.edits
    assert [c.key for _, _, c in unit.changes] == [
        "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
    ], "each label the unit removes is listed once (fix --format json's units[].changes)"


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


def test_a_volatile_selector_that_also_names_the_manager_loses_both(chart_copy) -> None:
    """The volatile finding lists the chart version and `heritage`; removing the version
    alone would leave the same finding (as a warning), so both go in one edit."""
    chart = chart_copy("volatile-legacy")
    service = chart / "templates" / "service.yaml"
    text = service.read_text()
    assert text.endswith("    release: {{ .Release.Name }}\n")
    service.write_text(text + "    heritage: {{ .Release.Service }}\n")
    change = fix_target(chart, FixRequest(fix_latent=True, recipes=("stable-selectors",)))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    selector = fixed_text(chart, "templates/service.yaml").split("  selector:\n")[1]
    assert selector == (
        '    app: {{ template "volatile-legacy.name" . }}\n    release: {{ .Release.Name }}\n'
    )
    write_change(change)
    assert fix_target(chart,
                     FixRequest(fix_latent=True)).fixed == [], "no volatile finding is left at all"


def test_a_split_helper_keeps_no_conditional_the_removed_keys_emptied(chart_copy) -> None:
    """When the volatile key sits in an if/else in the helper (graylog's `managed-by`
    under helm2Compatibility), the selector-only copy leaves out the whole conditional, not
    an empty `{{- if }}{{- else }}{{- end }}`; a conditional still holding a stable key
    stays. The comment names no file the note may not be in (--branch writes README.md)."""
    chart = chart_copy("volatile-helper")
    helpers = chart / "templates" / "_helpers.tpl"
    text = helpers.read_text()
    old = "helm.sh/chart: {{ include \"volatile-helper.chart\" . }}\n{{- end }}\n"
    assert text.endswith(old)
    helpers.write_text(text[: -len(old)] + (
        "{{- if .Values.legacy }}\n"
        "helm.sh/chart: legacy\n"
        "{{- else }}\n"
        "helm.sh/chart: {{ include \"volatile-helper.chart\" . }}\n"
        "{{- end }}\n"
        "{{- with .Values.tier }}\n"
        "tier: {{ . }}\n"
        "{{- end }}\n"
        "{{- end }}\n"
    ))
    change = fix_target(chart, FixRequest(fix_latent=True, recipes=("stable-selectors",)))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    new = fixed_text(chart, "templates/_helpers.tpl", FixRequest(fix_latent=True,
                                                                 recipes=("stable-selectors",)))
    added = new[len(helpers.read_text()):]
    assert added.endswith(
        '{{- define "volatile-helper.stableSelectorLabels" -}}\n'
        'app.kubernetes.io/name: {{ include "volatile-helper.name" . }}\n'
        "app.kubernetes.io/instance: {{ .Release.Name }}\n"
        "{{- with .Values.tier }}\n"
        "tier: {{ . }}\n"
        "{{- end }}\n"
        "{{- end }}\n"
    ), added
    assert "MIGRATION.md" not in added


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
