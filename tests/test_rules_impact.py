"""The impact model: every finding graded by what its match does in a cluster.

One fixture chart per fact (fixtures/impact/), rendered by Helm's engine, each beside its
mutant (a values file that changes one thing) which flips the verdict: a model that called
everything an error, or everything a warning, fails here.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.commands.checking import CheckOptions, check_chart, run_check
from chartfix.model.objects import FileDocument, K8sObject
from chartfix.rules import RuleContext
from chartfix.rules.impact import adoption, consumer_effect
from chartfix.rules.overlap import check as overlap

IMPACT = FIXTURES / "impact"
CHARTFIX = [sys.executable, "-m", "chartfix"]


def verdicts(chart: Path, mutant: str | None = None) -> dict[tuple[str, str], str]:
    """(rule, object) -> severity, as `check` reports them."""
    values = [chart / mutant] if mutant else []
    report = check_chart(chart, CheckOptions(values_files=tuple(values), release="rel"))
    assert report.error is None, report.error
    return {(f.rule, str(f.obj)): f.severity for f in report.findings}


def messages(chart: Path, mutant: str | None = None) -> dict[tuple[str, str], str]:
    values = [chart / mutant] if mutant else []
    report = check_chart(chart, CheckOptions(values_files=tuple(values), release="rel"))
    return {(f.rule, str(f.obj)): f.message for f in report.findings}


CASES = [
    # fixture, mutant values file, {(rule, object): severity}, words the message must hold
    ("test-pod-port", None,
     {("overlap", "Deployment/rel-web"): "warning", ("stray", "Service/rel-web"): "warning"},
     "they declare no container port named http"),
    ("test-pod-port", "mutant-declared.yaml",
     {("overlap", "Deployment/rel-web"): "error", ("stray", "Service/rel-web"): "error"},
     "routes port http to the pods of Pod/rel-web-test while they run"),
    ("test-pod-port", "mutant-numeric.yaml",
     {("overlap", "Deployment/rel-web"): "error", ("stray", "Service/rel-web"): "error"},
     "routes port 8080 to the pods of Pod/rel-web-test while they run"),
    ("pdb-job", None,
     {("overlap", "Deployment/rel-api"): "error",
      ("stray", "PodDisruptionBudget/rel-api"): "error"},
     "refuses evictions while pods of Job/rel-migrate exist: its maxUnavailable 1"),
    ("pdb-job", "mutant.yaml", {("overlap", "Deployment/rel-api"): "warning"},
     "have their Job as controller: no adoption"),
    ("netpol-job", None,
     {("overlap", "Deployment/rel-api"): "warning", ("stray", "NetworkPolicy/rel-api"): "warning"},
     "governs ingress only, and the pods of Job/rel-migrate serve nothing"),
    ("netpol-job", "mutant.yaml",
     {("overlap", "Deployment/rel-api"): "error", ("stray", "NetworkPolicy/rel-api"): "error"},
     "restricts the egress of the pods of Job/rel-migrate"),
    ("job-no-consumer", None, {("overlap", "Deployment/rel-api"): "warning"},
     "latent: the pods of Job/rel-migrate have their Job as controller: no adoption"),
    ("job-no-consumer", "mutant.yaml",
     {("overlap", "Deployment/rel-api"): "error", ("stray", "Service/rel-api"): "error"},
     "Service/rel-api routes port 8080 to the pods of Job/rel-migrate while they run "
     "(Service/rel-api is meant for Deployment/rel-api)"),
    ("daemonset-test-pod", None, {("overlap", "DaemonSet/rel-agent"): "error"},
     "DaemonSet/rel-agent adopts Pod/rel-agent-test, a bare Pod"),
    ("daemonset-test-pod", "mutant.yaml", {("overlap", "Deployment/rel-agent"): "warning"},
     "a Deployment adopts no bare Pod such as Pod/rel-agent-test"),
    ("headless-per-pod", None,
     {("overlap", "StatefulSet/rel-ring"): "warning",
      ("stray", "Service/rel-ring-peers"): "warning"},
     "latent: Service/rel-ring-peers is headless: it gives the pods of StatefulSet/rel-ring their "
     "DNS names (rel-ring-0.rel-ring-peers), one pod each; its own name also resolves to the pods "
     "of Pod/rel-ring-test while they run, and nothing in the chart resolves it"),
    ("headless-per-pod", "mutant.yaml",
     {("overlap", "StatefulSet/rel-ring"): "error", ("stray", "Service/rel-ring-peers"): "error"},
     "Service/rel-ring-peers is headless: its DNS name resolves to the pods of Pod/rel-ring-test "
     "too while they run"),
    ("hpa-overlap", None, {("overlap", "Deployment/rel-web"): "error"},
     "HorizontalPodAutoscaler/rel-web scales Deployment/rel-web on the metrics of every pod its "
     "selector matches, those of Deployment/rel-worker too"),
    ("hpa-overlap", "mutant.yaml", {("overlap", "Deployment/rel-web"): "warning"},
     "the pods of Deployment/rel-worker have a controller of their own: no adoption"),
]


@pytest.mark.parametrize(
    ("fixture", "mutant", "expected", "said"), CASES,
    ids=[f"{c[0]}{'+' + c[1] if c[1] else ''}" for c in CASES],
)
def test_each_fact_and_its_mutant(
    fixture: str, mutant: str | None, expected: dict[tuple[str, str], str], said: str
) -> None:
    chart = IMPACT / fixture
    assert verdicts(chart, mutant) == expected
    assert any(said in m for m in messages(chart, mutant).values()), messages(chart, mutant)


def test_every_fact_has_a_mutant_that_flips_the_verdict() -> None:
    """Each fixture's default and each of its mutants disagree on whether `check` fails."""
    for chart in sorted(p for p in IMPACT.iterdir() if p.is_dir()):
        mutants = sorted(p.name for p in chart.glob("mutant*.yaml"))
        assert mutants, chart
        failing = "error" in verdicts(chart).values()
        for mutant in mutants:
            assert ("error" in verdicts(chart, mutant).values()) != failing, (chart, mutant)


def test_check_exit_status_follows_the_impact() -> None:
    """A chart whose matches do nothing passes a CI gate; --strict still shows them."""
    out = io.StringIO()
    assert run_check([FIXTURES / "legacy-named-port"], CheckOptions(jobs=1), out) == 0
    assert run_check([FIXTURES / "legacy-named-port"], CheckOptions(jobs=1, strict=True), out) == 1
    assert run_check([FIXTURES / "legacy-server"], CheckOptions(jobs=1), out) == 1


def test_json_and_sarif_carry_the_impact() -> None:
    out = io.StringIO()
    options = CheckOptions(fmt="json", jobs=1, release="rel")
    run_check([FIXTURES / "legacy-named-port"], options, out)
    (chart,) = json.loads(out.getvalue())["charts"]
    stray = next(f for f in chart["findings"] if f["rule"] == "stray")
    assert (stray["severity"], stray["impact"]) == ("warning", "latent")
    assert stray["effects"] == [
        "Service/rel-legacy-named-port sends the pods of CronJob/rel-legacy-named-port-cleanup, "
        "Job/rel-legacy-named-port-migration no traffic: they declare no container port named "
        "http (a numeric targetPort, or such a port on them, would route to them)"
    ]
    out = io.StringIO()
    run_check([FIXTURES / "legacy-server"], CheckOptions(fmt="sarif", jobs=1, release="rel"), out)
    results = json.loads(out.getvalue())["runs"][0]["results"]
    stray = next(r for r in results if r["ruleId"] == "stray")
    assert stray["level"] == "error"
    assert stray["properties"]["impact"] == "effect"
    assert stray["properties"]["effects"] == [
        "Service/rel-legacy-server routes port 8080 to the pods of CronJob/rel-legacy-server-"
        "cleanup, Job/rel-legacy-server-migration while they run"
    ]


def fix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHARTFIX, "fix", *args], capture_output=True, text=True)


def test_fix_takes_on_latent_matches_only_when_asked(tmp_path: Path) -> None:
    chart = str(FIXTURES / "legacy-named-port")
    default = fix(chart)
    assert default.returncode == 0, default.stderr
    assert "+" not in default.stdout  # no patch: nothing acts on these matches
    left = "2 warnings left (overlap, stray: latent, nothing acts on it yet: --fix-latent fixes it)"
    assert left in default.stderr
    named = fix(chart, "--recipe", "component-labels")  # naming a recipe is not asking
    assert "component: server" not in named.stdout
    asked = fix(chart, "--fix-latent")
    assert asked.returncode == 0, asked.stderr
    assert "+      component: server" in asked.stdout
    recipe = tmp_path / "latent.yaml"
    recipe.write_text(
        "type: chartfix/v1/recipe\nname: latent\ndescription: latent matches too\n"
        "recipeList: [component-labels]\nlatent: true\n"
    )
    from_file = fix(chart, "--recipe", str(recipe))
    assert "+      component: server" in from_file.stdout, from_file.stderr


def test_fix_counts_what_is_in_scope(tmp_path: Path) -> None:
    """A latent match left counts only when the run took it on: a recipe that cannot fix it
    leaves the run at exit 0 unless --fix-latent asked for it."""
    chart = str(FIXTURES / "legacy-named-port")
    assert fix(chart, "--recipe", "stable-selectors").returncode == 0
    assert fix(chart, "--recipe", "stable-selectors", "--fix-latent").returncode == 1


def test_the_readme_main_job_is_a_real_bug() -> None:
    """legacy-server has FleetDM's Service (the numeric listen port as targetPort): the
    README's `chartfix fix fixtures/legacy-server` prints the upstream fix."""
    run = fix(str(FIXTURES / "legacy-server"))
    assert run.returncode == 0, run.stderr
    for line in ("+      component: server", "+        component: server",
                 "+    component: server"):
        assert line in run.stdout


# --- the facts on objects alone -------------------------------------------------------------


def obj(body: dict[str, object]) -> K8sObject:
    return K8sObject(body, FileDocument("templates/x.yaml"))


def pod(name: str, ports: list[dict[str, object]] | None = None) -> K8sObject:
    container: dict[str, object] = {"name": "c", "image": "busybox"}
    if ports:
        container["ports"] = ports
    return obj({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": "db"}},
                "spec": {"containers": [container]}})


def controller(kind: str, name: str = "db") -> K8sObject:
    return obj({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name},
                "spec": {"selector": {"matchLabels": {"app": "db"}},
                         "template": {"metadata": {"labels": {"app": "db"}},
                                      "spec": {"containers": [{"name": "c", "image": "x"}]}}}})


def test_a_statefulset_claims_only_pods_of_its_ordinal_names() -> None:
    sts = controller("StatefulSet")
    assert adoption(sts, pod("db-0")).real
    assert not adoption(sts, pod("db-test")).real
    assert not adoption(sts, pod("db-0-test")).real


def test_a_bare_replicaset_adopts_a_bare_pod_and_a_deployment_a_bare_replicaset() -> None:
    assert adoption(controller("ReplicaSet"), pod("x")).real
    assert not adoption(controller("Deployment"), pod("x")).real
    bare = obj({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "old", "labels": {"app": "db"}},
                "spec": {"selector": {"matchLabels": {"app": "db"}},
                         "template": {"metadata": {"labels": {"app": "db"}}}}})
    assert adoption(controller("Deployment"), bare).real
    owned = obj({**bare.body, "metadata": {  # type: ignore[dict-item]
        "name": "old", "labels": {"app": "db"},
        "ownerReferences": [{"kind": "Deployment", "name": "x", "controller": True}]}})
    assert not adoption(controller("Deployment"), owned).real


def test_pdb_integer_min_available_counts_job_pods_as_healthy() -> None:
    budget = obj({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                  "metadata": {"name": "db"},
                  "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}}})
    job = obj({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed"},
               "spec": {"template": {"metadata": {"labels": {"app": "db"}}}}})
    effect = consumer_effect(budget, job)
    assert effect.real and "as healthy replicas" in effect.text
    budget = obj({**budget.body, "spec": {"minAvailable": "50%"}})  # type: ignore[dict-item]
    assert "refuses evictions" in consumer_effect(budget, job).text


def test_a_service_without_target_port_targets_its_port_number() -> None:
    service = obj({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                   "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]}})
    assert consumer_effect(service, pod("db-test")).real


def test_a_statefulset_writing_the_release_namespace_is_governed_by_a_service_writing_none(
) -> None:
    """Objects that write no namespace land in the release's: a StatefulSet that writes it
    (`namespace: {{ .Release.Namespace }}`) and its headless Service that does not are in
    one namespace, and a test Pod behind the Service's per-pod names stays latent."""
    service = obj({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db-peers"},
                   "spec": {"clusterIP": "None", "selector": {"app": "db"}}})
    sts = controller("StatefulSet")
    sts.body["metadata"]["namespace"] = "team"  # type: ignore[index]
    sts.body["spec"]["serviceName"] = "db-peers"  # type: ignore[index]
    test = pod("db-test")
    assert not consumer_effect(service, test, [service, sts, test], "team").real
    assert consumer_effect(service, test, [service, sts, test], "other").real


def test_overlap_on_objects_alone() -> None:
    """A rule over objects with no chart: the impact needs nothing but the objects."""
    objects = [controller("DaemonSet", "agent"), pod("agent-test")]
    (finding,) = overlap(objects, RuleContext(target_name="x"))
    assert (finding.severity, finding.impact) == ("error", "effect")


def test_a_policy_that_allows_every_egress_restricts_nothing() -> None:
    """bitnami's `allowExternalEgress: true` renders `egress: [{}]`: every destination and port."""
    spec = {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"port": 5432}]}], "egress": [{}]}
    policy = obj({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": "db"}, "spec": spec})
    job = obj({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed"},
               "spec": {"template": {"metadata": {"labels": {"app": "db"}}}}})
    effect = consumer_effect(policy, job)
    assert not effect.real and "allows every egress" in effect.text
    closed = obj({**policy.body, "spec": {**spec, "egress": [{"ports": [{"port": 53}]}]}})
    assert consumer_effect(closed, job).real


def test_fix_says_which_warnings_it_left_and_why() -> None:
    """A chart with only a deliberate `spans` warning: fix exits 0 and says it left it, why,
    and how to accept it, in text and in --format json."""
    chart = str(FIXTURES / "rules-charts" / "gossip-ring")
    text = fix(chart)
    assert text.returncode == 0, text.stderr
    assert "  1 warning left (spans: no recipe changes a spans finding" in text.stderr
    assert ".chartfix.yaml `suppress`" in text.stderr
    assert text.stderr.rstrip().endswith("0 findings fixable, 0 left (1 warning left)")
    document = json.loads(fix(chart, "--format", "json").stdout)
    target = document["targets"][0]
    assert target["warnings_left"] == 1 and document["summary"]["warnings"] == 1
    [warning] = [f for f in target["findings"] if f["state"] == "warning"]
    assert warning["rule"] == "spans" and "no recipe changes" in warning["reason"]
