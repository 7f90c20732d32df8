"""The CHANGELOG / Artifact Hub sentence says what each rule's fix does, on which objects,
named by kind and template file: never by the release name chartfix rendered with."""

from __future__ import annotations

from pathlib import Path

from chartfix.model.changes import TargetChange
from chartfix.model.findings import Finding, Location
from chartfix.model.objects import ObjectRef
from chartfix.publish.messages import change_summary


def finding(rule: str, kind: str, name: str, path: str) -> Finding:
    return Finding(rule, "error", ObjectRef(kind, name), "message", "remediation",
                   Location(path, 7))


def summary(*fixed: Finding) -> str:
    return change_summary(TargetChange(Path("chart"), "memcached", "1.0.0", fixed=list(fixed)))


def test_a_volatile_fix_says_the_selector_holds_no_version_label() -> None:
    text = summary(finding("volatile", "NetworkPolicy", "release-name-memcached",
                           "templates/networkpolicy.yaml"))
    assert text == (
        "NetworkPolicy podSelector in templates/networkpolicy.yaml holds no label that "
        "changes with each release, such as the chart or app version."
    )


def test_rules_get_their_own_clause_and_objects_their_template() -> None:
    text = summary(
        finding("stray", "Service", "release-name-web", "templates/service.yaml"),
        finding("overlap", "Deployment", "release-name-web", "templates/web.yaml"),
        finding("overlap", "StatefulSet", "release-name-db", "templates/db.yaml"),
        finding("stray", "Service", "release-name-web", "templates/service.yaml"),
    )
    assert text == (
        "Deployment selector in templates/web.yaml and StatefulSet selector in "
        "templates/db.yaml no longer match other workloads' pods; Service selector in "
        "templates/service.yaml no longer matches Job, CronJob or test pods."
    )
    assert "release-name" not in text
    assert text.count(".") == text.count(".yaml") + 1, "one sentence"
