"""One problem is one finding: renders of several scenarios that find it with different
related objects merge into one, whose fingerprint does not depend on the scenarios' order."""

from __future__ import annotations

from dataclasses import replace

from chartfix.model.findings import Finding, Location
from chartfix.model.objects import ObjectRef
from chartfix.publish.output import fingerprint
from chartfix.rules import merge_findings

SERVICE = ObjectRef("Service", "x-admin")
JOB = ObjectRef("Job", "x-cleanup", "default")
TEST = ObjectRef("Pod", "x-test")


def _stray(scenario: str, *related: ObjectRef) -> Finding:
    return Finding(
        "stray", "error", SERVICE, f"seen in {scenario}", "fix it",
        Location("templates/admin-service.yaml", 29), related, "x", (scenario,),
    )


def test_one_finding_per_rule_and_object_across_scenarios() -> None:
    per_scenario = [
        [_stray("ci/a.yaml", JOB)],
        [_stray("ci/b.yaml", JOB, TEST)],
        [_stray("ci/c.yaml", TEST)],
    ]
    (merged,) = merge_findings(per_scenario)
    assert merged.related == (JOB, TEST)
    assert merged.scenarios == ("ci/a.yaml", "ci/b.yaml", "ci/c.yaml")
    assert merged.message == (
        "in ci/a.yaml: seen in ci/a.yaml; in ci/b.yaml: seen in ci/b.yaml; "
        "in ci/c.yaml: seen in ci/c.yaml"
    ), "each scenario's words, not the first one's alone"
    (backwards,) = merge_findings(per_scenario[::-1])
    assert fingerprint("x", backwards) == fingerprint("x", merged)
    assert fingerprint("x", merged) == "x|stray|Service/x-admin|Job/x-cleanup|Pod/x-test"


def test_other_rules_and_objects_stay_apart() -> None:
    overlap = Finding(
        "overlap", "error", SERVICE, "m", "r", Location("templates/admin-service.yaml", 29),
        (JOB,), "x", ("default",),
    )
    other = replace(_stray("default", JOB), obj=ObjectRef("Service", "x"))
    assert len(merge_findings([[_stray("default", JOB), overlap, other]])) == 3


def _matches(scenario: str, *related: ObjectRef) -> Finding:
    names = ", ".join(map(str, related))
    return replace(_stray(scenario, *related), message=f"matches {names}")


def test_scenarios_that_say_the_same_keep_one_message() -> None:
    (merged,) = merge_findings([[_matches("default", JOB)], [_matches("ci/a.yaml", JOB)]])
    assert merged.message == "matches Job/x-cleanup"
    assert merged.variants == ()


def test_a_merged_message_names_every_related_object_by_scenario() -> None:
    per_scenario = [
        [_matches("default", TEST)],
        [_matches("ci/a.yaml", JOB)],
        [_matches("ci/b.yaml", TEST)],
    ]
    (merged,) = merge_findings(per_scenario)
    assert merged.message == (
        "in default, ci/b.yaml: matches Pod/x-test; in ci/a.yaml: matches Job/x-cleanup"
    )
    assert all(str(ref) in merged.message for ref in merged.related)
    # check merges the findings of a chart's scenario groups again (one per worker task)
    (again,) = merge_findings([merge_findings(per_scenario[:1]), merge_findings(per_scenario[1:])])
    assert again.message == merged.message
    assert again.scenarios == merged.scenarios
