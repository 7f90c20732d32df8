"""`check --user-scenarios`: only the scenarios the user wrote are rendered (the
defaults or their values, ci/ files), neither feature switches nor the next release; the run
says once what that leaves unchecked. Counted, never timed: `render.stats` counts Helm renders
in this process (the check runs inline, one chart, no worker)."""

from __future__ import annotations

import json

import pytest

from chartfix.cli import main
from chartfix.sources.helm import render


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTFIX_INLINE", "1")


def test_only_the_users_scenarios_are_rendered(chart_copy, capsys, inline) -> None:
    chart = chart_copy("feature-objects")
    (chart / "ci").mkdir()
    (chart / "ci" / "small-values.yaml").write_text("replicas: 1\n")

    before = render.stats.renders
    main(["check", str(chart), "-j", "1", "--format", "json", "--user-scenarios"])
    renders = render.stats.renders - before
    captured = capsys.readouterr()
    entry = json.loads(captured.out)["charts"][0]
    assert entry["scenarios"] == ["default", "ci/small-values.yaml"]
    assert entry["features"] == {}, "no feature switch rendered"
    assert renders == 2, "one render per scenario written: no next release, no control"
    assert captured.err.count("note: --user-scenarios:") == 1
    assert "not checked: objects only an off-by-default feature switch renders" in captured.err

    before = render.stats.renders
    main(["check", str(chart), "-j", "1", "--format", "json"])
    renders = render.stats.renders - before
    entry = json.loads(capsys.readouterr().out)["charts"][0]
    assert set(entry["features"]) == {
        "feature: networkPolicy.enabled=true", "feature: podDisruptionBudget.enabled=true",
    }
    assert renders >= 2 + 2 + 1, "without it: the switches and the next release too"


def test_volatile_labels_are_found_by_key_and_say_so(chart_copy, capsys, inline) -> None:
    chart = chart_copy("volatile-one")
    main(["check", str(chart), "-j", "1", "--format", "json", "--user-scenarios"])
    findings = json.loads(capsys.readouterr().out)["charts"][0]["findings"]
    volatile = [f for f in findings if f["rule"] == "volatile"]
    assert volatile, "`version: {{ .Chart.Version }}` is volatile by its key"
    assert {f["detail"]["found_by"] for f in volatile} == {
        "the key list (--user-scenarios: the next release was not rendered)"
    }
