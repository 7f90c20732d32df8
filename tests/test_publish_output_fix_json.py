"""`chartfix fix --format json`: one JSON document on stdout, per target the patch, the fix
units (what each changes, its applicability), the findings left and why, every finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import snapshot

from chartfix.cli import main


def fix_json(capsys: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    status = main(["fix", *args, "--format", "json"])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_a_dry_run_lists_the_patch_units_and_findings(chart_copy: Any, capsys: Any) -> None:
    chart = chart_copy("legacy-server")
    before = snapshot(chart)
    assert main(["fix", str(chart)]) == 0
    patch = capsys.readouterr().out

    status, document, err = fix_json(capsys, str(chart))

    assert status == 0 and snapshot(chart) == before
    assert "2 findings fixable, 0 left" in err  # what happened, still on stderr
    assert (document["version"], document["mode"]) == (1, "a dry run")
    assert document["summary"] == {
        "targets": 1, "fixed": 2, "left": 0, "warnings": 0, "errors": 0,
    }
    [target] = document["targets"]
    assert (target["status"], target["landed"], target["error"]) == ("fixed", False, None)
    assert target["patch"] == patch
    assert target["files"] == ["templates/deployment.yaml", "templates/service.yaml"]
    assert (target["needs_migration"], target["upgrade"]) == (True, "unsafe")
    [unit] = target["units"]
    assert (unit["state"], unit["recipe"], unit["applicability"]) == (
        "fixable", "component-labels", "unsafe")
    assert {(f["rule"], f["object"]["kind"]) for f in unit["fixes"]} == {
        ("overlap", "Deployment"), ("stray", "Service")}
    assert {"source": "templates/deployment.yaml", "kind": "Deployment",
            "at": "spec.selector.matchLabels", "key": "component", "value": "server",
            "removed": False} in unit["changes"]
    assert unit["edits"] == [{"path": "templates/deployment.yaml", "line": 15},
                             {"path": "templates/deployment.yaml", "line": 23},
                             {"path": "templates/service.yaml", "line": 19}]
    assert [(f["rule"], f["state"], f["reason"]) for f in target["findings"]] == [
        ("overlap", "fixable", None), ("stray", "fixable", None)]
    assert target["findings"][0]["location"]["path"].endswith("templates/deployment.yaml")


def test_findings_left_say_why_and_the_status_is_1(chart_copy: Any, capsys: Any) -> None:
    chart = chart_copy("legacy-server")

    status, document, _ = fix_json(capsys, str(chart), "--recipe", "stable-selectors")

    assert status == 1
    [target] = document["targets"]
    assert (target["status"], target["patch"]) == ("left", "")
    assert {u["state"] for u in target["units"]} == {"left"}
    for unit in target["units"]:
        assert "--recipe component-labels` fixes it" in unit["reason"]
        assert unit["applicability"] is None
    assert {f["state"] for f in target["findings"]} == {"left"}
    assert document["summary"]["left"] == 2


def test_write_says_fixed_and_landed(chart_copy: Any, capsys: Any) -> None:
    chart = chart_copy("legacy-server")

    status, document, _ = fix_json(capsys, str(chart), "--write")

    assert status == 0 and document["mode"] == "--write"
    [target] = document["targets"]
    assert (target["status"], target["landed"]) == ("fixed", True)
    assert [u["state"] for u in target["units"]] == ["fixed"]
    assert "+      component: server" in target["patch"]
    assert "component: server" in (Path(chart) / "templates" / "service.yaml").read_text()


def test_quiet_keeps_stdout_one_document(chart_copy: Any, capsys: Any) -> None:
    chart = chart_copy("legacy-server")

    status, document, err = fix_json(capsys, str(chart), "-q")

    assert status == 0 and len(document["targets"]) == 1
    assert err == f"{chart}: unsafe: an immutable field changes (a controller's spec.selector " \
        "or a Job's pod template): upgrading a release needs the migration steps (--branch " \
        "or --pr-body FILE writes a migration note)\n"  # quiet keeps only what needs a person
