"""Output formats over real reports: text for people, JSON and SARIF validated by schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES

from chartfix.commands.checking import ChartReport, CheckOptions, check_chart
from chartfix.errors import TargetError
from chartfix.publish.output.json import write_json
from chartfix.publish.output.sarif import write_sarif
from chartfix.publish.output.text import summary_line, write_text

RULE_CHARTS = FIXTURES / "rules-charts"


@pytest.fixture(scope="module")
def reports() -> list[ChartReport]:
    failed = ChartReport(
        root=RULE_CHARTS / "missing",
        name="missing",
        error=TargetError(RULE_CHARTS / "missing" / "Chart.yaml", "no such file"),
    )
    return [
        check_chart(RULE_CHARTS / "consumers"),
        check_chart(FIXTURES / "clean"),
        check_chart(RULE_CHARTS / "volatile"),
        failed,
    ]


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parent)


def test_summary_line(reports: list[ChartReport]) -> None:
    assert summary_line(reports) == (
        "4 charts, 2 with findings: 6 errors, 4 warnings; 1 chart could not be processed"
    )
    assert summary_line(reports[1:2]) == "1 chart, no findings"
    # nothing checked is not "no findings": that reads as a pass
    assert summary_line(reports[3:]) == "1 chart, none checked; 1 chart could not be processed"
    assert summary_line([]) == "0 charts, no findings"


def test_text_groups_by_chart_and_shows_everything(reports: list[ChartReport]) -> None:
    out = io.StringIO()
    write_text(reports, out)
    text = out.getvalue()
    assert "\033[" not in text  # not a TTY: no colour
    assert "fixtures/rules-charts/consumers (rules-consumers)\n" in text
    assert "  fixtures/rules-charts/consumers/templates/consumers.yaml:7: error[stray] " in text
    assert "    scenarios: default\n" in text
    assert "    fix: Decide which of Deployment/server, Deployment/worker" in text
    assert "error: fixtures/rules-charts/missing/Chart.yaml: no such file\n" in text
    assert "clean" not in text  # clean charts stay quiet
    assert text.endswith(summary_line(reports) + "\n")


def test_colour_on_request_and_never_with_no_color(
    reports: list[ChartReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    write_text(reports, out)
    assert "\033[1;31merror[stray]\033[0m" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Tty()
    write_text(reports, plain)
    assert "\033[" not in plain.getvalue()


REF = {
    "type": "object",
    "required": ["kind", "name", "namespace"],
    "properties": {
        "kind": {"type": "string"},
        "name": {"type": "string"},
        "namespace": {"type": ["string", "null"]},
    },
}
JSON_SCHEMA = {
    "type": "object",
    "required": ["version", "charts"],
    "properties": {
        "version": {"const": 1},
        "charts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "name", "error", "warnings", "scenarios", "findings"],
                "properties": {
                    "path": {"type": "string"},
                    "error": {"type": ["string", "null"]},
                    "findings": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "rule", "severity", "object", "related", "location",
                                "message", "remediation", "scenarios", "fingerprint",
                            ],
                            "properties": {
                                "severity": {"enum": ["error", "warning"]},
                                "object": REF,
                                "related": {"type": "array", "items": REF},
                                "location": {
                                    "type": "object",
                                    "required": ["path", "line"],
                                    "properties": {
                                        "path": {"type": "string"},
                                        "line": {"type": ["integer", "null"], "minimum": 1},
                                    },
                                },
                                "scenarios": {"type": "array", "items": {"type": "string"}},
                                "fingerprint": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_json_schema_and_relative_paths(reports: list[ChartReport]) -> None:
    out = io.StringIO()
    write_json(reports, out)
    document = json.loads(out.getvalue())
    jsonschema.validate(document, JSON_SCHEMA)
    first = document["charts"][0]
    assert first["path"] == "fixtures/rules-charts/consumers"
    assert first["findings"][0]["location"]["path"].startswith("fixtures/rules-charts/consumers/")
    again = io.StringIO()
    write_json(reports, again)
    assert again.getvalue() == out.getvalue()  # stable bytes


def test_json_paths_outside_cwd_stay_absolute(
    reports: list[ChartReport], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    write_json(reports[:1], out)
    assert json.loads(out.getvalue())["charts"][0]["path"] == str(RULE_CHARTS / "consumers")


# The parts of the SARIF 2.1.0 schema our documents rely on (written here: no network).
SARIF_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"const": "chartfix"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "help"],
                                            "properties": {
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                },
                                                "help": {"type": "object", "required": ["text"]},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "level", "message", "locations"],
                            "properties": {
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {"type": "object", "required": ["text"]},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {
                                                            "uri": {"type": "string"}
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_shape_rules_and_results(reports: list[ChartReport]) -> None:
    out = io.StringIO()
    write_sarif(reports, out)
    document = json.loads(out.getvalue())
    jsonschema.validate(document, SARIF_SCHEMA)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "overlap", "stray", "spans", "volatile", "mismatch", "autosharding",
    ]
    assert "## Why it matters" in rules[0]["help"]["markdown"]
    results = run["results"]
    assert len(results) == sum(len(r.findings) for r in reports)
    stray = next(r for r in results if r["ruleId"] == "stray")
    location = stray["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == (
        "fixtures/rules-charts/consumers/templates/consumers.yaml"
    )
    assert location["region"]["startLine"] == 7
    assert {r["level"] for r in results} == {"error", "warning"}
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "no such file" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_json_namespaces_are_where_helm_puts_each_object(tmp_path: Path) -> None:
    """An object whose manifest names its namespace and one that does not (it lands in the
    release's) read alike: the namespace each is installed in, never null beside a name."""
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    pods = (
        "    metadata:\n      labels: {app: shop}\n"
        "    spec:\n      containers: [{name: c, image: i}]\n"
    )
    (chart / "templates" / "all.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec:\n  selector:\n    matchLabels: {app: shop}\n  template:\n" + pods
        + "---\napiVersion: batch/v1\nkind: Job\n"
        "metadata:\n  name: migrate\n  namespace: {{ .Release.Namespace }}\n"
        "  annotations: {helm.sh/hook: pre-upgrade}\n"
        "spec:\n  template:\n" + pods
    )
    report = check_chart(chart, CheckOptions(namespace="prod"))
    out = io.StringIO()
    write_json([report], out)

    [finding] = json.loads(out.getvalue())["charts"][0]["findings"]
    assert finding["object"] == {"kind": "Deployment", "name": "web", "namespace": "prod"}
    assert finding["related"] == [{"kind": "Job", "name": "migrate", "namespace": "prod"}]
