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
    assert merged.message == "seen in ci/a.yaml"  # the first scenario's words
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
