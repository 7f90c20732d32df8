"""Workloads that only a shared or a volatile label told apart.

A shared component value: the controller already selects on its component value, and a Job,
CronJob or test Pod carries that value too, or StatefulSets made by one `range` share every
selector label. A volatile entry: a workload's selector differs from its siblings' only by a
volatile entry, so removing that entry alone would make it catch their pods.

Every fix here is rendered again with Helm's engine by the pipeline's verifier; the tests
also re-check the written chart from scratch (`check_chart`), as a user's next run would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.commands.checking import check_chart
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.apply import write_change
from chartfix.publish.migration.text import migration_note
from chartfix.sources.helm.chart import Scenario, load_chart
from chartfix.sources.helm.render import render
from chartfix.sources.helm.template.edit import NotEditable, apply_edits, replace_value
from chartfix.sources.helm.template.outline import outline


def files_after(change) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.path: f.after.decode() for f in change.files}


def errors_left(chart: Path) -> list[str]:
    report = check_chart(chart)
    assert report.error is None, report.error
    return [f"{f.rule} {f.obj}" for f in report.findings if f.severity == "error"]


# --- a shared component value -----------------------------------------------------------------


def test_jobs_and_test_pod_get_their_own_component_value(chart_copy) -> None:
    chart = chart_copy("shared-component")
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    files = files_after(change)
    assert "templates/deployment.yaml" not in files, "the controller's selector stays"
    assert "        component: migrate  # copied from the Deployment\n" in files[
        "templates/migrate-job.yaml"
    ], "the value changes in place; the comment stays"
    assert '        component: "reindex"\n' in files["templates/reindex-job.yaml"], (
        "the chart's quoting stays"
    )
    assert "    component: test-connection\n" in files["templates/tests/test-connection.yaml"]
    assert files["templates/service.yaml"].endswith(
        "    app: {{ .Chart.Name }}\n    component: server\n    release: {{ .Release.Name }}\n"
    ), "the Service meant for the server selects on its value, the key in its sorted place"
    write_change(change)
    assert errors_left(chart) == []
    again = fix_target(chart, FixRequest(fix_latent=True))
    assert again.files == [] and again.unfixed == []


def test_a_non_hook_job_is_the_unsafe_part_and_the_migration_note_deletes_it(
    chart_copy,
) -> None:
    change = fix_target(chart_copy("shared-component"), FixRequest(fix_latent=True))
    assert change.unsafe, "the reindex Job's pod template is immutable"
    assert (
        "Job/release-name-shared-component-reindex is a Job; its pod template is immutable: "
        "delete it before upgrading" in change.notes
    )
    assert not [n for n in change.notes if "migrate" in n], "a recreated hook Job is safe"
    note = migration_note(change, "tally", "prod")
    assert "kubectl -n prod delete job release-name-shared-component-reindex" in note
    assert "delete job release-name-shared-component-migrate" not in note


SHARED_LABELS = (
    '{{- define "shared-component.podLabels" -}}\n'
    "app: {{ .Chart.Name }}\nrelease: {{ .Release.Name }}\ncomponent: server\n"
    "{{- end }}\n"
)


def labels_from_helper(chart: Path, line: str) -> None:
    """Make the fixture's test Pod take its labels, component included, from a helper."""
    (chart / "templates" / "_helpers.tpl").write_text(SHARED_LABELS)
    pod = chart / "templates" / "tests" / "test-connection.yaml"
    text = pod.read_text()
    literal = (
        "    app: {{ .Chart.Name }}\n    release: {{ .Release.Name }}\n    component: server\n"
    )
    assert literal in text
    pod.write_text(text.replace(literal, line))


def test_a_value_from_a_shared_helper_is_overridden_after_the_include(chart_copy) -> None:
    """The test Pod includes the helper the Deployment's pods get `component: server` from:
    its own template overrides that one key of the helper's output; the helper stays."""
    chart = chart_copy("shared-component")
    labels_from_helper(
        chart, '    {{- include "shared-component.podLabels" . | nindent 4 }}\n'
    )
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    files = files_after(change)
    assert "templates/_helpers.tpl" not in files
    assert (
        '    {{- mergeOverwrite (include "shared-component.podLabels" . | fromYaml) '
        '(dict "component" "test-connection") | toYaml | nindent 4 }}\n'
    ) in files["templates/tests/test-connection.yaml"]
    write_change(change)
    assert errors_left(chart) == []
    rendered = render(load_chart(chart), Scenario("default"), None, "rel", "ns")
    labels = {o.name: o.pod_labels for o in rendered.objects if o.pod_labels is not None}
    assert labels["rel-shared-component-test-connection"] == {
        "app": "shared-component", "release": "rel", "component": "test-connection"
    }
    assert labels["rel-shared-component"] == {
        "app": "shared-component", "release": "rel", "component": "server"
    }


def test_a_helper_taking_the_component_gets_the_test_pods_own_value(chart_copy) -> None:
    chart = chart_copy("shared-component")
    labels_from_helper(
        chart, '    {{- include "shared-component.labelsFor" (dict "ctx" . "component" "server")'
        " | nindent 4 }}\n",
    )
    (chart / "templates" / "_helpers.tpl").write_text(
        '{{- define "shared-component.labelsFor" -}}\n'
        "app: {{ .ctx.Chart.Name }}\nrelease: {{ .ctx.Release.Name }}\n"
        "component: {{ .component }}\n{{- end }}\n"
    )
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert (
        '    {{- include "shared-component.labelsFor" (dict "ctx" . "component" '
        '"test-connection") | nindent 4 }}\n'
    ) in files_after(change)["templates/tests/test-connection.yaml"]


def test_a_helper_output_reworked_by_its_pipeline_is_left_with_the_helper_named(
    chart_copy,
) -> None:
    chart = chart_copy("shared-component")
    labels_from_helper(
        chart, '    {{- tpl (include "shared-component.podLabels" .) . | nindent 4 }}\n'
    )
    change = fix_target(chart, FixRequest(fix_latent=True))
    reasons = {u.reason for u in change.unfixed}
    assert reasons == {
        "Pod/release-name-shared-component-test-connection gets component=server from the "
        "helper shared-component.podLabels (templates/tests/test-connection.yaml:5), like "
        "the controller's pods: give it a value of its own there by hand"
    }
    assert change.files == [], "nothing half-done: the Jobs' edits go with the Pod's"


def test_test_pods_sharing_the_statefulsets_helper_get_their_own_value(chart_copy) -> None:
    """fixtures/test-pod-shared-helper (nexus3's shape): both test Pods include the labels
    helper that writes the server's component through its selector-labels helper, once on
    a line of its own and once on the key's line."""
    chart = chart_copy("test-pod-shared-helper")
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert not change.unsafe, "test Pods are recreated by helm test"
    files = files_after(change)
    assert sorted(files) == [
        "templates/tests/test-connection.yaml", "templates/tests/test-metrics.yaml"
    ]
    assert (
        '  labels: {{- mergeOverwrite (include "test-pod-shared-helper.labels" . | fromYaml) '
        '(dict "app.kubernetes.io/component" "test-metrics") | toYaml | nindent 4 }}\n'
        "  annotations:\n"
    ) in files["templates/tests/test-metrics.yaml"]
    write_change(change)
    assert errors_left(chart) == []
    for team in (None, "storage"):
        scenario = Scenario("default", set_values=(f"commonLabels.team={team}",) if team else ())
        rendered = render(load_chart(chart), scenario, None, "rel", "ns")
        pods = {o.name: o.pod_labels or {} for o in rendered.objects if o.pod_labels is not None}
        assert pods["rel-test-pod-shared-helper"]["app.kubernetes.io/component"] == "repository"
        connection = pods["rel-test-pod-shared-helper-test-connection"]
        assert connection["app.kubernetes.io/component"] == "test-connection"
        assert connection["test-resource"] == "true"
        assert connection["app.kubernetes.io/version"] == "3.1.0", "a string, as before"
        assert connection.get("team") == team, "values the helper renders still come through"
        assert (
            pods["rel-test-pod-shared-helper-test-metrics"]["app.kubernetes.io/component"]
            == "test-metrics"
        )
    again = fix_target(chart, FixRequest(fix_latent=True))
    assert again.files == [] and again.unfixed == []


def test_a_consumer_spanning_several_controllers_keeps_them_all(chart_copy) -> None:
    """A Service for the server and a second Deployment: selecting on the server's component
    would cut the other one off, so both Deployments' pods get a label of the Service's and
    it selects on that; the Jobs and the test Pod get their own component as before."""
    chart = chart_copy("shared-component")
    deployment = chart / "templates" / "deployment.yaml"
    second = deployment.read_text().replace("shared-component\n", "shared-component-b\n", 1)
    (chart / "templates" / "deployment-b.yaml").write_text(
        second.replace("component: server", "component: replica")
    )
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    files = files_after(change)
    assert files["templates/service.yaml"].endswith(
        "    app: {{ .Chart.Name }}\n    member-of: shared-component\n"
        "    release: {{ .Release.Name }}\n"
    ), "the Service's role (none: named as the chart) in its sorted place"
    for name in ("deployment.yaml", "deployment-b.yaml"):
        text = files[f"templates/{name}"]
        selector, _, pods = text.partition("  template:")
        assert "member-of" not in selector, "the selectors stay"
        assert "        member-of: shared-component\n" in pods
    write_change(change)
    assert errors_left(chart) == []


# --- a consumer meant for several controllers: a label they share ----------------------------


def selected_by(chart: Path, service: str) -> set[str]:
    rendered = render(load_chart(chart), Scenario("default"), None, "rel", "ns")
    (svc,) = [o for o in rendered.objects if o.kind == "Service" and o.name == service]
    assert svc.selector is not None
    return {
        str(o.ref) for o in rendered.objects
        if o.pod_labels is not None and svc.selector.matches(o.pod_labels)
    }


PEERS = {
    "StatefulSet/rel-peer-service-master", "StatefulSet/rel-peer-service-coordinator",
    "StatefulSet/rel-peer-service-executor-default", "StatefulSet/rel-peer-service-executor-large",
}


def test_a_headless_service_over_a_cluster_keeps_every_member(chart_copy) -> None:
    """fixtures/peer-service (bitnami/dremio's shape): the headless Service selects the
    StatefulSets on purpose, and also the bootstrap Job and the test Pod. The StatefulSets'
    pods get `member-of: headless` (the `range` in one edit), the Service selects on it, and
    no selector of a StatefulSet changes."""
    chart = chart_copy("peer-service")
    assert selected_by(chart, "rel-peer-service-headless") == PEERS | {
        "Job/rel-peer-service-bootstrap", "Pod/rel-peer-service-test-peers"
    }
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert not change.unsafe, "pod labels and a Service selector change in place"
    files = files_after(change)
    assert sorted(files) == [
        "templates/coordinator.yaml", "templates/executors.yaml",
        "templates/headless-service.yaml", "templates/master.yaml",
    ]
    assert files["templates/headless-service.yaml"].endswith(
        "    app.kubernetes.io/part-of: peer-service\n    member-of: headless\n"
    )
    assert (
        "        group: {{ $group }}\n        member-of: headless\n    spec:"
        in files["templates/executors.yaml"]
    )
    (note,) = [n for n in change.notes if "member-of" in n]
    assert note.startswith(
        "Service/release-name-peer-service-headless keeps selecting "
        "StatefulSet/release-name-peer-service-coordinator, "
    )
    assert "no longer Job/release-name-peer-service-bootstrap, " in note
    assert "label the running pods first" in note
    before = {o.ref: o.selector for r in change.before for o in r.objects if o.is_controller}
    after = {o.ref: o.selector for r in change.after for o in r.objects if o.is_controller}
    assert before == after
    write_change(change)
    assert selected_by(chart, "rel-peer-service-headless") == PEERS
    assert errors_left(chart) == []
    assert [f.rule for f in check_chart(chart).findings] == ["spans"], "spans on purpose"
    again = fix_target(chart, FixRequest(fix_latent=True))
    assert again.files == [] and again.unfixed == []


def test_a_headless_service_a_port_ties_to_one_member_still_keeps_them_all(chart_copy) -> None:
    """A port only the master has makes the Service look meant for the master, which already
    selects on its component: narrowing the Service to it would drop the other members."""
    chart = chart_copy("peer-service")
    master = chart / "templates" / "master.yaml"
    master.write_text(master.read_text().replace(
        "              containerPort: 7000\n",
        "              containerPort: 7000\n            - name: admin\n"
        "              containerPort: 9047\n",
    ))
    service = chart / "templates" / "headless-service.yaml"
    service.write_text(service.read_text().replace(
        "      targetPort: peer\n",
        "      targetPort: peer\n    - name: admin\n      port: 9047\n      targetPort: admin\n",
    ))
    (stray,) = [f for f in check_chart(chart).findings if f.rule == "stray"]
    assert stray.remediation.startswith(
        "Service/release-name-peer-service-headless selects the pods of "
    )
    assert "`chartfix fix` makes it select them on a label their pods share" in (
        stray.remediation
    )
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert files_after(change)["templates/headless-service.yaml"].endswith(
        "    member-of: headless\n"
    )
    write_change(change)
    assert selected_by(chart, "rel-peer-service-headless") == PEERS
    assert errors_left(chart) == []


def test_a_label_the_members_already_share_is_selected_on_as_it_is(chart_copy) -> None:
    chart = chart_copy("peer-service")
    for name in ("master", "coordinator", "executors"):
        path = chart / "templates" / f"{name}.yaml"
        text = path.read_text()
        assert text.count("        app.kubernetes.io/part-of: peer-service\n") == 1
        path.write_text(text.replace(
            "        app.kubernetes.io/part-of: peer-service\n",
            "        app.kubernetes.io/part-of: peer-service\n        tier: 'cluster'\n",
        ))
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert sorted(files_after(change)) == ["templates/headless-service.yaml"]
    assert files_after(change)["templates/headless-service.yaml"].endswith(
        "    app.kubernetes.io/part-of: peer-service\n    tier: cluster\n"
    )
    write_change(change)
    assert selected_by(chart, "rel-peer-service-headless") == PEERS


def test_a_member_label_already_taken_is_left_with_the_reason(chart_copy) -> None:
    chart = chart_copy("peer-service")
    job = chart / "templates" / "bootstrap-job.yaml"
    job.write_text(job.read_text().replace(
        "        app.kubernetes.io/component: bootstrap\n",
        "        app.kubernetes.io/component: bootstrap\n        member-of: setup\n",
    ))
    change = fix_target(chart, FixRequest(fix_latent=True))
    (left,) = change.unfixed
    assert left.reason.endswith(
        "no label tells them apart, and member-of is taken: add one by hand"
    )
    assert change.files == []


def test_range_made_statefulsets_select_on_the_pod_label_that_tells_them_apart(
    chart_copy,
) -> None:
    chart = chart_copy("range-shards")
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    shards = files_after(change)["templates/shards.yaml"]
    assert (
        "      app.kubernetes.io/component: shard\n      shard: {{ $i | quote }}\n  template:"
        in shards
    )
    assert change.unsafe
    write_change(change)
    assert errors_left(chart) == []
    loaded = load_chart(chart)
    rendered = render(loaded, Scenario("default"), None, "rel", "ns")
    selectors = {
        o.name: dict(o.selector.match_labels) for o in rendered.objects
        if o.kind == "StatefulSet" and o.selector is not None
    }
    assert selectors["rel-range-shards-shard0"]["shard"] == "0"
    assert selectors["rel-range-shards-shard1"]["shard"] == "1"


# --- the edit: a literal value replaced in place ---------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    component: server\n", "    component: job\n"),
        ("    component: server  # note\n", "    component: job  # note\n"),
        ('    component: "server"\n', '    component: "job"\n'),
        ("    component: 'server'\n", "    component: 'job'\n"),
        ('    "component": server\r\n', '    "component": job\r\n'),
    ],
)
def test_replace_value_keeps_every_other_byte(line: str, expected: str) -> None:
    text = f"metadata:\n  labels:\n    app: x\n{line}spec: {{}}\n"
    site = outline(text).documents[0].sites["metadata.labels"]
    edit = replace_value(text, site, "component", "job")
    assert apply_edits(text, [edit]) == f"metadata:\n  labels:\n    app: x\n{expected}spec: {{}}\n"


@pytest.mark.parametrize(
    "line",
    [
        "    component: {{ .Values.component }}\n",
        "    {{- if .Values.x }}\n    component: server\n    {{- end }}\n",
    ],
)
def test_replace_value_refuses_what_is_not_a_literal_line(line: str) -> None:
    text = f"metadata:\n  labels:\n    app: x\n{line}"
    site = outline(text).documents[0].sites["metadata.labels"]
    with pytest.raises(NotEditable):
        replace_value(text, site, "component", "job")
