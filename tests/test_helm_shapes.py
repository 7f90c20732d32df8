"""Shapes real charts throw at chartfix, with Helm's real engine (what component-labels
writes for each, before and after: test_recipes_component_labels_shapes.py).

1. random names (helm test Pods, Jobs named with randAlphaNum/randNumeric): one finding per
   object across scenarios, the same fingerprints every run, a fix that verifies;
2. one document, two kinds (DaemonSet or Deployment by values): one label for the document,
   allowed on whichever kind a scenario renders;
7. selectors the API server defaults (extensions/v1beta1, apps/v1beta1): written out of the
   stable pod labels;
8. whole objects written in a `define` and rendered by an include line: edited in the define.
"""

from __future__ import annotations

import io
import json

import pytest
from conftest import FIXTURES

from chartfix.commands.checking import CheckOptions, check_chart, run_check
from chartfix.model.objects import FileDocument, K8sObject
from chartfix.pipeline import FixRequest, fix_target
from chartfix.sources.helm.chart import load_chart, scenarios
from chartfix.sources.helm.render import render
from chartfix.sources.helm.template.outline import outline
from chartfix.verify import unplanned_differences

# --- 1. random names ------------------------------------------------------------------------


def test_random_names_are_known_by_their_stable_parts() -> None:
    report = check_chart(FIXTURES / "random-names")
    overlap = next(f for f in report.findings if f.rule == "overlap")
    assert [str(r) for r in overlap.related] == [
        "Job/release-name-random-names-seed-*",
        "Pod/release-name-random-names-test-*",
    ]
    assert overlap.scenarios == ("default", "ci/ha-values.yaml"), "one finding, both scenarios"
    assert sorted(f.rule for f in report.findings) == ["overlap", "stray"]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_random_names_give_the_same_output_every_run(fmt: str) -> None:
    runs = []
    for _ in range(2):
        out = io.StringIO()
        options = CheckOptions(fmt=fmt, jobs=1, strict=True)
        assert run_check([FIXTURES / "random-names"], options, out) == 1
        runs.append(out.getvalue())
    assert runs[0] == runs[1]
    document = json.loads(runs[0])
    if fmt == "json":
        prints = [f["fingerprint"] for f in document["charts"][0]["findings"]]
    else:
        prints = [r["partialFingerprints"]["chartfix/v1"] for r in document["runs"][0]["results"]]
    # what writes each object, not the names the render makes up (random, or the release's)
    assert "random-names|overlap|Deployment@templates/deployment.yaml:Deployment:0|" \
        "Job@templates/seed-job.yaml:Job:0|Pod@templates/tests/test-stock.yaml:Pod:0" in prints


def test_two_renders_of_random_names_differ_only_in_noise() -> None:
    chart = load_chart(FIXTURES / "random-names")
    case = scenarios(chart, (), ())[0]
    first, second = render(chart, case), render(chart, case)
    pod_names = {o.name for r in (first, second) for o in r.objects if o.kind == "Pod"}
    assert len(pod_names) == 2, "the engine really names the test Pod anew"
    assert unplanned_differences(first, second, {}) == set()


# --- 2. one document, two kinds -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("{{- if .Values.ds }}\nkind: DaemonSet\n{{- else }}\nkind: Deployment\n{{- end }}\n",
         ("DaemonSet", "Deployment")),
        ('kind: {{ ternary "StatefulSet" "Deployment" .Values.persist }}\n',
         ("StatefulSet", "Deployment")),
        ("kind: {{ if .Values.sts }}StatefulSet{{- else }}Deployment{{- end }}\n",
         ("StatefulSet", "Deployment")),
        ("kind: {{ .Values.kind }}\n", ()),
        ("kind: Deployment\n", ("Deployment",)),
    ],
)
def test_every_kind_a_document_may_render(text: str, kinds: tuple[str, ...]) -> None:
    doc = outline("apiVersion: apps/v1\n" + text + "metadata:\n  name: x\n").documents[0]
    assert doc.kinds == kinds
    assert doc.kind == (kinds[0] if len(kinds) == 1 else None)


# --- 7. defaulted selectors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "kind", "defaulted"),
    [
        ("extensions/v1beta1", "Deployment", True),
        ("extensions/v1beta1", "DaemonSet", True),
        ("apps/v1beta1", "StatefulSet", True),
        ("apps/v1beta2", "Deployment", False),  # required there: the API refuses it
        ("apps/v1", "Deployment", False),
    ],
)
def test_which_api_versions_default_the_selector(
    api_version: str, kind: str, defaulted: bool
) -> None:
    pods = {"app": "x", "chart": "x-1.0.0"}
    body = {
        "apiVersion": api_version, "kind": kind, "metadata": {"name": "x"},
        "spec": {"template": {"metadata": {"labels": pods}}},
    }
    obj = K8sObject(body, FileDocument("templates/x.yaml"))
    assert obj.selector_defaulted is defaulted
    assert (obj.selector is not None and obj.selector.match_labels == pods) is defaulted


# --- 8. objects written in a define ---------------------------------------------------------


def test_check_finds_objects_of_a_define_in_the_define() -> None:
    report = check_chart(FIXTURES / "define-objects")
    assert {f.location.path for f in report.findings if f.rule == "overlap"} == {
        "templates/_deployments.yaml.tpl"
    }


def test_a_define_other_includes_render_is_left_with_the_reason(chart_copy) -> None:
    """A canary include of the web define, off by default: a label written in the define
    would reach it too, so the web define stays as it is and the reason names it (the worker
    define, included once, is still fixed: the edit is in
    test_recipes_component_labels_shapes.py)."""
    chart = chart_copy("define-objects")
    (chart / "templates" / "canary.yaml").write_text(
        '{{- if .Values.canary }}\n{{ include "define-objects.deployment.web" . }}\n{{- end }}\n'
    )
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert [f.path for f in change.files] == ["templates/_deployments.yaml.tpl"]
    reasons = {u.reason for u in change.unfixed if u.finding.obj.name.endswith("-web")}
    assert reasons == {
        'Deployment/release-name-define-objects-web is written in define '
        '"define-objects.deployment.web" (templates/_deployments.yaml.tpl), which 2 includes '
        "render: an edit there would reach every one of them"
    }


def test_a_quoted_name_still_finds_its_document() -> None:
    doc = outline(
        'kind: Deployment\nmetadata:\n  name: "{{ template "x.fullname" . }}-proxy"\n'
    ).documents[0]
    assert doc.name_fragments == ("-proxy",)


def test_a_test_pod_renamed_by_an_unreadable_template_is_noise_not_new() -> None:
    """A Pod or Job whose template cannot be read (a packed subchart's) has no stable name:
    paired by position, its name is one difference that a second render shows as noise; a
    renamed Deployment is gone and new."""
    from chartfix.model.objects import Rendering

    def obj(kind: str, name: str) -> K8sObject:
        return K8sObject({"kind": kind, "metadata": {"name": name}}, FileDocument("t.yaml"))

    before = Rendering("default", [obj("Deployment", "web"), obj("Pod", "web-test-abcde")])
    after = Rendering("default", [obj("Deployment", "web"), obj("Pod", "web-test-fghij")])
    assert unplanned_differences(before, after, {}) == {("Pod/web-test-abcde", "metadata.name")}
    renamed = Rendering("default", [obj("Deployment", "api"), obj("Pod", "web-test-abcde")])
    assert unplanned_differences(before, renamed, {}) == {
        ("Deployment/web", "<gone>"), ("Deployment/api", "<new>")
    }


def test_check_says_where_a_defaulted_selector_comes_from() -> None:
    report = check_chart(FIXTURES / "defaulted-selector")
    journal = next(f for f in report.findings if str(f.obj) == "StatefulSet/release-name-journal")
    assert journal.rule == "volatile"
    assert journal.message.startswith(
        "selector, which apps/v1beta1 fills in from the pod labels (no spec.selector is written)"
    )
    assert journal.remediation.startswith(
        "Write spec.selector.matchLabels of StatefulSet/release-name-journal with its pod labels"
    )
