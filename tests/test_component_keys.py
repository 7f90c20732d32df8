"""A component label whose key is templated (`{{ .Values.x | default "..." }}`) and a toggle
that selects on it: the selector the fix writes agrees with the pod labels under the override
and the toggle, and a key rendered twice in a selector is refused, not hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.cli import main

OVERRIDE = "server.componentLabelKeyOverride=component"


def _fixed(chart_copy, capsys: pytest.CaptureFixture[str]) -> Path:  # type: ignore[no-untyped-def]
    chart = chart_copy("component-key-toggle")
    assert main(["fix", str(chart), "--write"]) == 1  # the worker is left, with its reason
    err = capsys.readouterr().err
    assert "fixed: overlap Deployment/release-name-server" in err
    assert "writes {{ .Values.worker.componentLabelKeyOverride" in err
    assert "only when .Values.worker.useComponentLabel" in err
    return chart


def test_selector_copies_the_pod_templates_key_expression(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    chart = _fixed(chart_copy, capsys)
    text = (chart / "templates/server.yaml").read_text()
    key = '{{ .Values.server.componentLabelKeyOverride | default "app.kubernetes.io/component" }}'
    assert text.count(f"{key}: server") == 2  # pod labels and selector
    service = (chart / "templates/server-service.yaml").read_text()
    assert service.endswith(f"    {key}: server\n")  # the Service meant for it, likewise
    # The worker's selector writes the key under its toggle: nothing added there.
    worker = (chart / "templates/worker.yaml").read_text()
    assert "app.kubernetes.io/component: worker" not in worker


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


def test_a_key_rendered_twice_in_a_selector_is_an_error(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    """The fix main shipped for this shape: a literal key beside the toggled templated one."""
    chart = chart_copy("component-key-toggle")
    worker = chart / "templates/worker.yaml"
    text = worker.read_text()
    worker.write_text(text.replace(
        "      release: {{ .Release.Name }}\n    {{- if",
        "      release: {{ .Release.Name }}\n      app.kubernetes.io/component: worker\n    {{- if",
    ))
    assert main(["check", str(chart)]) == 1  # off: the selector renders the key once
    capsys.readouterr()
    assert main(["check", str(chart), "--set", "worker.useComponentLabel=true"]) == 2
    captured = capsys.readouterr()
    err = captured.out + captured.err
    assert "templates/worker.yaml" in err
    assert "renders the key 'app.kubernetes.io/component' twice in matchLabels" in err
    assert "synthesized" not in err  # no made-up value renders past it


def test_component_value_not_used_is_said(chart_copy, capsys) -> None:  # type: ignore[no-untyped-def]
    chart = chart_copy("component-key-toggle")
    main(["fix", str(chart), "--component", "server=web"])
    err = capsys.readouterr().err
    assert "note: --component web for Deployment/release-name-server is not used" in err
    assert "carry app.kubernetes.io/component=server" in err
