"""The analysis rules over our own fixture charts, rendered by Helm's engine (helm-python-sdk).

Each test names the findings a reader expects from the fixture's templates: rule, object,
related objects, scenarios, and the template line a finding points at.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

from chartfix.model.findings import Finding
from chartfix.model.objects import FileDocument, K8sObject
from chartfix.model.selectors import LabelSelector, Requirement
from chartfix.pipeline import located_findings
from chartfix.rules import RULE_SECTIONS, RULES, RuleContext, doc_sections, merge_findings
from chartfix.rules.volatile import holds_version
from chartfix.sources.helm.chart import load_chart, scenarios
from chartfix.sources.helm.render import render
from chartfix.sources.helm.source import HelmSource

RULE_CHARTS = FIXTURES / "rules-charts"


def findings_of(
    name: str, values_files: Sequence[Path] = (), set_values: Sequence[str] = ()
) -> list[Finding]:
    """The findings `check` reports, located in the chart's templates by the pipeline."""
    chart = load_chart(RULE_CHARTS / name)
    renderings = [render(chart, s) for s in scenarios(chart, values_files, set_values)]
    return merge_findings(located_findings(HelmSource(chart), renderings))


def summary(findings: Sequence[Finding]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f.rule, str(f.obj), tuple(str(r) for r in f.related)) for f in findings}


def line_of(chart: str, rel: str, needle: str, after: str) -> int:
    """1-based line of the first `needle` after the first line holding `after`."""
    lines = (RULE_CHARTS / chart / rel).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


# --- overlap -----------------------------------------------------------------------------------


def test_overlap_reports_hook_job_cronjob_and_test_pod_but_not_other_namespaces() -> None:
    found = findings_of("overlap")
    assert summary(found) == {
        (
            "overlap",
            "Deployment/release-name-app",
            (
                "CronJob/release-name-cleanup",
                "Job/release-name-migrate",
                "Pod/release-name-test",
            ),
        )
    }
    (finding,) = found
    # a Deployment adopts none of them and nothing else reads its selector: latent
    assert (finding.severity, finding.impact) == ("warning", "latent")
    assert finding.detail["hooks"] == "Job/release-name-migrate (pre-install,pre-upgrade)"
    assert finding.detail["tests"] == "Pod/release-name-test"
    assert "Job/release-name-remote" not in finding.message  # other namespace
    assert finding.remediation
    assert finding.location.path == "templates/all.yaml"
    assert finding.location.line == line_of("overlap", "templates/all.yaml", "matchLabels", "")


def test_overlap_with_every_match_expressions_operator() -> None:
    # web: In + NotIn keeps the canary out and lets the worker in; worker: Exists +
    # DoesNotExist; agent: DoesNotExist. Only web -> worker overlaps.
    assert summary(findings_of("controllers")) == {
        ("overlap", "Deployment/release-name-web", ("StatefulSet/release-name-worker",))
    }


def test_subchart_findings_point_into_the_subchart() -> None:
    (finding,) = findings_of("subchart")
    assert (finding.rule, str(finding.obj)) == ("overlap", "StatefulSet/release-name-db")
    assert finding.chart == "db"
    assert finding.location.path == "charts/db/templates/db.yaml"
    assert finding.location.line == line_of(
        "subchart", "charts/db/templates/db.yaml", "matchLabels", ""
    )


# --- stray and spans ---------------------------------------------------------------------------


def test_consumers_stray_and_spans() -> None:
    found = findings_of("consumers")
    assert summary(found) == {
        ("overlap", "Deployment/server", ("Pod/board-test",)),
        ("stray", "Service/server", ("Pod/board-test",)),
        ("stray", "PodDisruptionBudget/board", ("Job/seed", "Pod/board-test")),
        ("spans", "PodDisruptionBudget/board", ("Deployment/server", "Deployment/worker")),
        ("spans", "Service/backends", ("Deployment/server", "Deployment/worker")),
        ("stray", "NetworkPolicy/non-server", ("Job/seed",)),
    }
    severities = {(f.rule, str(f.obj), f.severity, f.impact) for f in found}
    assert severities == {
        ("overlap", "Deployment/server", "error", "effect"),  # its Service routes to the test
        ("stray", "Service/server", "error", "effect"),  # numeric port 80: reaches the test Pod
        ("stray", "PodDisruptionBudget/board", "error", "effect"),  # maxUnavailable over a Job
        ("spans", "PodDisruptionBudget/board", "warning", "effect"),
        ("spans", "Service/backends", "warning", "effect"),
        ("stray", "NetworkPolicy/non-server", "warning", "latent"),  # ingress-only, Job serves
    }


def test_consumer_locations_are_their_selector_lines() -> None:
    by_obj = {(f.rule, str(f.obj)): f for f in findings_of("consumers")}
    rel = "templates/consumers.yaml"
    service = by_obj[("stray", "Service/server")].location
    assert (service.path, service.line) == (rel, line_of("consumers", rel, "selector:", "server"))
    policy = by_obj[("stray", "NetworkPolicy/non-server")].location
    assert policy.line == line_of("consumers", rel, "matchLabels", "name: non-server")


def test_deliberate_selectors_are_not_reported() -> None:
    objects = {str(f.obj) for f in findings_of("consumers")}
    assert "NetworkPolicy/seed-egress" not in objects  # written for the Job alone
    assert "NetworkPolicy/default-deny" not in objects  # podSelector: {}
    assert "Service/external" not in objects  # no selector


# --- volatile ----------------------------------------------------------------------------------


def test_volatile_keys_values_and_expressions() -> None:
    found = {str(f.obj): f for f in findings_of("volatile")}
    assert set(found) == {
        "Deployment/api",
        "Deployment/legacy",
        "Service/legacy",
        "StatefulSet/store",
        "PodDisruptionBudget/store",
    }
    assert found["Deployment/api"].detail["keys"] == "app.kubernetes.io/version"
    assert found["Deployment/legacy"].severity == "error"
    assert found["Deployment/legacy"].detail["keys"] == "chart"
    assert found["Deployment/legacy"].detail["warning_keys"] == "heritage"
    assert found["Service/legacy"].severity == "warning"
    assert "keys" not in found["Service/legacy"].detail
    assert found["StatefulSet/store"].detail["keys"] == "helm.sh/chart"  # matchExpressions key
    assert found["PodDisruptionBudget/store"].detail["keys"] == "line"  # value in an expression


@pytest.mark.parametrize(
    ("value", "version", "expected"),
    [
        ("mychart-1.2.3", "1.2.3", True),
        ("1.2.3", "1.2.3", True),
        ("stable-1.2.3", "1.2.3", True),
        ("v10", "1", False),
        ("1.2.30", "1.2.3", False),
        ("11.2.3", "1.2.3", False),
        ("app-1.0.0_build.5", "1.0.0+build.5", True),
        ("anything", "", False),
    ],
)
def test_versions_match_as_whole_tokens(value: str, version: str, expected: bool) -> None:
    assert holds_version(value, version) is expected


# --- mismatch and scenarios --------------------------------------------------------------------


def test_scenarios_default_and_ci_files_merge() -> None:
    found = {(f.rule, str(f.obj)): f for f in findings_of("scenarios")}
    assert set(found) == {
        ("overlap", "Deployment/release-name-api"),
        ("mismatch", "Deployment/release-name-api"),
    }
    # ci/no-migration-values.yaml drops the Job; ci/broken-selector-values.yaml's extra
    # entry keeps it out
    assert found[("overlap", "Deployment/release-name-api")].scenarios == ("default",)
    mismatch = found[("mismatch", "Deployment/release-name-api")]
    assert mismatch.scenarios == ("ci/broken-selector-values.yaml",)
    assert mismatch.detail["unmet"] == "component=api"


def test_values_file_scenario(tmp_path: Path) -> None:
    values = tmp_path / "prod.yaml"
    values.write_text("cronjob:\n  enabled: true\nmigration:\n  enabled: false\n")
    found = findings_of("scenarios", values_files=[values])
    overlap = next(f for f in found if f.rule == "overlap")
    assert [str(r) for r in overlap.related] == ["CronJob/release-name-report"]
    assert overlap.scenarios == ("user",)


def test_set_values_scenario_merges_with_ci_scenarios() -> None:
    found = findings_of("scenarios", set_values=["tests.enabled=true"])
    by_key = {(f.rule, tuple(map(str, f.related))): f for f in found}
    both = by_key[("overlap", ("Job/release-name-migrate", "Pod/release-name-test-api"))]
    assert both.scenarios == ("user",)
    # the ci/ scenarios render without the user's values: no test Pod, and no Job in one
    assert ("overlap", ("Job/release-name-migrate",)) not in by_key


def test_findings_are_sorted_and_deterministic() -> None:
    first = findings_of("consumers")
    assert first == findings_of("consumers")
    keys = [(f.location.path, f.location.line or 0) for f in first]
    assert keys == sorted(keys)


# --- rules as units, without Helm -------------------------------------------------------------


def obj(kind: str, name: str, body: dict, namespace: str | None = None) -> K8sObject:
    meta: dict = {"name": name, **({"namespace": namespace} if namespace else {})}
    meta.update(body.pop("metadata", {}))
    document = FileDocument(f"templates/{name}.yaml")
    return K8sObject({"kind": kind, "metadata": meta, **body}, document)


def deployment(name: str, selector: dict, pods: dict, namespace: str | None = None) -> K8sObject:
    spec = {"selector": selector, "template": {"metadata": {"labels": pods}}}
    return obj("Deployment", name, {"spec": spec}, namespace)


def run(objects: list[K8sObject], rule: str, **context: str) -> list[Finding]:
    return list(RULES[rule].check(objects, RuleContext(target_name="unit", **context)))


def test_release_namespace_stands_in_for_a_missing_namespace() -> None:
    a = deployment("a", {"matchLabels": {"app": "x"}}, {"app": "x"})
    b = deployment("b", {"matchLabels": {"app": "y"}}, {"app": "x"}, namespace="team")
    assert [str(f.obj) for f in run([a, b], "overlap", namespace="team")] == ["Deployment/a"]
    assert run([a, b], "overlap", namespace="default") == []


def test_controllers_never_count_their_own_pods_and_ignore_empty_selectors() -> None:
    a = deployment("a", {"matchLabels": {"app": "x"}}, {"app": "x"})
    empty = deployment("e", {}, {"app": "x"})
    assert run([a], "overlap") == []
    assert [str(f.obj) for f in run([a, empty], "overlap")] == ["Deployment/a"]


def test_mismatch_reports_unmet_expressions() -> None:
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}
    (finding,) = run([deployment("a", selector, {"tier": "db"})], "mismatch")
    assert finding.detail["unmet"] == "tier In (web)"


def test_every_rule_documents_itself() -> None:
    for code, rule in RULES.items():
        sections = doc_sections(rule.doc)
        for title in RULE_SECTIONS:
            assert sections.get(title), f"{code}: section {title!r} missing"
        assert rule.summary and rule.severity in ("error", "warning")


# --- selectors (Kubernetes semantics, no Helm) -------------------------------------------------


def sel(labels: dict | None = None, *expressions: dict) -> LabelSelector:
    return LabelSelector.from_spec(
        {"matchLabels": labels or {}, "matchExpressions": list(expressions)}
    )


@pytest.mark.parametrize(
    ("selector", "pod", "expected"),
    [
        (sel({"app": "x"}), {"app": "x", "extra": "1"}, True),
        (sel({"app": "x"}), {"app": "y"}, False),
        (sel({"app": "x", "tier": "web"}), {"app": "x"}, False),
        (sel(None, {"key": "t", "operator": "In", "values": ["a", "b"]}), {"t": "b"}, True),
        (sel(None, {"key": "t", "operator": "In", "values": ["a"]}), {}, False),
        (sel(None, {"key": "t", "operator": "NotIn", "values": ["a"]}), {}, True),
        (sel(None, {"key": "t", "operator": "NotIn", "values": ["a"]}), {"t": "a"}, False),
        (sel(None, {"key": "t", "operator": "Exists"}), {"t": ""}, True),
        (sel(None, {"key": "t", "operator": "Exists"}), {}, False),
        (sel(None, {"key": "t", "operator": "DoesNotExist"}), {}, True),
        (sel(None, {"key": "t", "operator": "DoesNotExist"}), {"t": "a"}, False),
        (sel({"app": "x"}, {"key": "t", "operator": "Exists"}), {"app": "x"}, False),
        (sel(), {"anything": "at all"}, True),
    ],
)
def test_selector_semantics(selector: LabelSelector, pod: dict, expected: bool) -> None:
    assert selector.matches(pod) is expected


def test_selector_parsing_types_values_as_text() -> None:
    parsed = LabelSelector.from_spec(
        {
            "matchLabels": {"v": 1.0, "n": None},
            "matchExpressions": [{"key": "k", "operator": "In", "values": [1, True]}],
        }
    )
    assert dict(parsed.match_labels) == {"v": "1.0", "n": ""}
    assert parsed.match_expressions == (Requirement("k", "In", frozenset({"1", "True"})),)


def test_unknown_operator_is_an_error() -> None:
    with pytest.raises(ValueError, match="Near"):
        sel(None, {"key": "t", "operator": "Near"}).matches({"t": "a"})


labels = st.dictionaries(st.sampled_from("abcd"), st.sampled_from(["1", "2"]), max_size=4)


@given(labels, labels)
def test_match_labels_equals_in_with_one_value(wanted: dict, pod: dict) -> None:
    as_expressions = sel(
        None, *({"key": k, "operator": "In", "values": [v]} for k, v in wanted.items())
    )
    assert sel(wanted).matches(pod) == as_expressions.matches(pod)


@given(labels, st.sampled_from("abcd"), st.sampled_from(["1", "2"]))
def test_not_in_is_the_negation_of_in(pod: dict, key: str, value: str) -> None:
    in_ = sel(None, {"key": key, "operator": "In", "values": [value]})
    not_in = sel(None, {"key": key, "operator": "NotIn", "values": [value]})
    assert in_.matches(pod) != not_in.matches(pod)
