"""Workloads that only a shared or a volatile label told apart.

A shared component value: the controller already selects on its component value, and a Job,
CronJob or test Pod carries that value too, or StatefulSets made by one `range` share every
selector label, or a headless Service spans a cluster's members.

The edits themselves are literal before/after pairs in
test_recipes_component_labels_shared_values.py (and, for a volatile entry that was all that
told two workloads apart, test_recipes_stable_selectors.py); here is what the pipeline says
about them (notes, migration notes, check's advice, reasons left), and the template edit that
replaces a literal value in place.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.commands.checking import check_chart
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.migration.text import migration_note
from chartfix.sources.helm.chart import Scenario, load_chart
from chartfix.sources.helm.render import render
from chartfix.sources.helm.template.edit import NotEditable, apply_edits, replace_value
from chartfix.sources.helm.template.outline import outline

# --- a shared component value -----------------------------------------------------------------


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


def test_a_headless_service_over_a_cluster_says_what_it_keeps_selecting(chart_copy) -> None:
    """fixtures/peer-service (bitnami/dremio's shape): the headless Service selects the
    StatefulSets on purpose, and also the bootstrap Job and the test Pod. The fix (its edits:
    test_recipes_component_labels_shared_values.py) says which it keeps selecting and which
    no longer, and that the running pods are labelled first; no selector of a StatefulSet
    changes."""
    chart = chart_copy("peer-service")
    assert selected_by(chart, "rel-peer-service-headless") == PEERS | {
        "Job/rel-peer-service-bootstrap", "Pod/rel-peer-service-test-peers"
    }
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert not change.unfixed, [u.reason for u in change.unfixed]
    assert not change.unsafe, "pod labels and a Service selector change in place"
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


def test_check_advises_a_service_a_port_ties_to_one_member_to_keep_them_all(chart_copy) -> None:
    """A port only the master has makes the Service look meant for the master, which already
    selects on its component: check's advice is fix's shared label (the fix: in
    test_recipes_component_labels_shared_values.py), narrowing it to the master a hand edit."""
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
