"""A component label whose key is templated (`{{ .Values.x | default "..." }}`) and a toggle
that selects on it: the selector the fix writes agrees with the pod labels under the override
and the toggle; where the selector writes the key under the chart's own toggle, the toggle is
turned on in values.yaml (one value, every other byte kept), and only where it makes the
planned change alone; a key rendered twice in a selector is said, not hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.cli import main

OVERRIDE = "server.componentLabelKeyOverride=component"
TOGGLE = "  useComponentLabel: false\n"


def _fixed(chart_copy, capsys: pytest.CaptureFixture[str]) -> Path:  # type: ignore[no-untyped-def]
    chart = chart_copy("component-key-toggle")
    assert main(["fix", "--fix-latent", str(chart), "--write"]) == 0
    err = capsys.readouterr().err
    assert "fixed: overlap Deployment/release-name-server" in err
    assert "fixed: overlap Deployment/release-name-worker" in err
    return chart


def test_the_charts_own_toggle_is_turned_on(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    before = (FIXTURES / "component-key-toggle/values.yaml").read_text()
    chart = _fixed(chart_copy, capsys)
    after = (chart / "values.yaml").read_text()
    assert TOGGLE in before
    assert after == before.replace(TOGGLE, "  useComponentLabel: true\n")  # nothing else


def test_selector_copies_the_pod_templates_key_expression(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    chart = _fixed(chart_copy, capsys)
    text = (chart / "templates/server.yaml").read_text()
    key = '{{ .Values.server.componentLabelKeyOverride | default "app.kubernetes.io/component" }}'
    assert text.count(f"{key}: server") == 2  # pod labels and selector
    service = (chart / "templates/server-service.yaml").read_text()
    assert service.endswith(f"    {key}: server\n")  # the Service meant for it, likewise
    # The worker's selector writes the key under its toggle: nothing added there.
    written = "component-key-toggle/templates/worker.yaml"
    assert (chart / "templates/worker.yaml").read_bytes() == (FIXTURES / written).read_bytes()


@pytest.mark.parametrize(
    "values",
    [[], ["--set", OVERRIDE], ["--set", "worker.useComponentLabel=true"],
     ["--set", OVERRIDE, "--set", "worker.useComponentLabel=true",
      "--set", "worker.componentLabelKeyOverride=component"]],
)
def test_fixed_chart_agrees_under_override_and_toggle(chart_copy, capsys, values) -> None:  # type: ignore[no-untyped-def]
    chart = _fixed(chart_copy, capsys)
    main(["check", str(chart), *values])
    out = capsys.readouterr().out
    assert "mismatch" not in out
    assert "] Deployment/release-name-server" not in out  # fixed under every value
    assert "] Service/release-name-server" not in out
    assert "] Deployment/release-name-worker" not in out


def _reason(err: str) -> str:
    left = "left: overlap Deployment/release-name-worker"
    lines = [line for line in err.splitlines() if left in line]
    assert len(lines) == 1, err
    return lines[0]


def test_a_ci_file_that_keeps_the_toggle_off_keeps_its_finding(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    """The chart's default is turned on; the ci/ scenario that sets the toggle off on purpose
    stays as it is, and its finding is left with that reason."""
    chart = chart_copy("component-key-toggle")
    (chart / "ci").mkdir()
    (chart / "ci/off-values.yaml").write_text("worker:\n  useComponentLabel: false\n")
    assert main(["fix", "--fix-latent", str(chart), "--write"]) == 1
    reason = _reason(capsys.readouterr().err)
    assert "ci/off-values.yaml sets worker.useComponentLabel to false" in reason
    assert "left as those values ask there; the fix changes the chart's default" in reason
    assert "useComponentLabel: true\n" in (chart / "values.yaml").read_text()
    assert main(["check", "--strict", str(chart)]) == 1  # a latent match: a warning
    out = capsys.readouterr().out
    assert "] Deployment/release-name-worker" in out
    assert "    scenarios: ci/off-values.yaml\n" in out  # not the default any more


def test_values_that_keep_the_toggle_off_change_nothing(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    chart = chart_copy("component-key-toggle")
    before = (chart / "values.yaml").read_bytes()
    assert main(["fix", "--fix-latent", str(chart), "--write", "--set",
                 "worker.useComponentLabel=false"]) == 1
    reason = _reason(capsys.readouterr().err)
    assert "the -f/--set values set worker.useComponentLabel to false" in reason
    assert "changing the chart's default would change nothing there" in reason
    assert (chart / "values.yaml").read_bytes() == before


def test_a_toggle_that_changes_more_is_not_turned_on(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    """Turning the toggle on would also change the pods' priority class: verification refuses
    it, and the reason to turn it on by hand stays."""
    chart = chart_copy("component-key-toggle")
    worker = chart / "templates/worker.yaml"
    worker.write_text(worker.read_text().replace(
        "      containers:\n",
        "      {{- if .Values.worker.useComponentLabel }}\n      priorityClassName: high\n"
        "      {{- end }}\n      containers:\n",
    ))
    before = (chart / "values.yaml").read_bytes()
    assert main(["fix", "--fix-latent", str(chart), "--write"]) == 1
    reason = _reason(capsys.readouterr().err)
    assert "writes {{ .Values.worker.componentLabelKeyOverride" in reason
    assert "only when .Values.worker.useComponentLabel" in reason
    assert "spec.template.spec.priorityClassName" in reason
    assert (chart / "values.yaml").read_bytes() == before


def test_a_toggle_that_is_no_plain_boolean_is_left(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    """`useComponentLabel: ""` is off, but a string, not the plain boolean chartfix turns
    on: the reason stays and values.yaml does not change."""
    chart = chart_copy("component-key-toggle")
    values = chart / "values.yaml"
    values.write_text(values.read_text().replace(TOGGLE, "  useComponentLabel: \"\"\n"))
    before = values.read_bytes()
    assert main(["fix", "--fix-latent", str(chart), "--write"]) == 1
    reason = _reason(capsys.readouterr().err)
    assert "turn that on, or make the entry unconditional by hand" in reason
    assert values.read_bytes() == before


def test_a_key_rendered_twice_in_a_selector_is_said_where_it_is_written(
    chart_copy, capsys  # type: ignore[no-untyped-def]
) -> None:
    """The fix main shipped for this shape: a literal key beside the toggled templated one.
    With the toggle on the selector renders the key twice; with one value (both `worker`)
    it is a warning naming the literal line, and the chart is analysed."""
    chart = chart_copy("component-key-toggle")
    worker = chart / "templates/worker.yaml"
    text = worker.read_text()
    worker.write_text(text.replace(
        "      release: {{ .Release.Name }}\n    {{- if",
        "      release: {{ .Release.Name }}\n      app.kubernetes.io/component: worker\n    {{- if",
    ))
    assert main(["check", "--strict", str(chart)]) == 1  # off: the selector renders the key once
    capsys.readouterr()
    # analysed (0: what is left there is a latent warning), not refused (2)
    assert main(["check", str(chart), "--set", "worker.useComponentLabel=true"]) == 0
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert (
        "templates/worker.yaml:10: app.kubernetes.io/component is written twice in "
        "spec.selector.matchLabels of Deployment/release-name-worker, with the same value"
    ) in said
    assert "synthesized" not in said  # no made-up value renders past it


def test_component_value_not_used_is_said(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    chart = chart_copy("component-key-toggle")
    main(["fix", "--fix-latent", str(chart), "--component", "server=web"])
    err = capsys.readouterr().err
    assert "note: --component web for Deployment/release-name-server is not used" in err
    assert "carry app.kubernetes.io/component=server" in err
