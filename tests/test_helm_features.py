"""Objects behind feature switches: besides the defaults and ci/ files, a chart
is rendered with each off-by-default boolean whose `if` wraps whole objects turned on, and
`check` and `fix` see what only those renders show."""

from __future__ import annotations

import json
from pathlib import Path

from chartfix.cli import main
from chartfix.sources.helm.chart import Scenario
from chartfix.sources.helm.features import all_features_scenario, feature_scenarios, switches

EVERY_SWITCH = ["--set", "podDisruptionBudget.enabled=true", "--set", "networkPolicy.enabled=true"]


def test_check_names_the_feature_scenario_that_shows_a_finding(chart_copy, capsys) -> None:
    chart = chart_copy("feature-objects")
    assert main(["check", str(chart)]) == 1
    out = capsys.readouterr().out
    assert "error[stray] PodDisruptionBudget/release-name-feature-objects" in out
    assert "error[stray] NetworkPolicy/release-name-feature-objects" in out
    assert (
        "scenarios: feature: podDisruptionBudget.enabled=true (only with a feature switch on)"
        in out
    )
    assert "2 feature switches explored, 2 objects added" in out
    assert main(["check", str(chart), "--no-features"]) == 0
    assert "no findings" in capsys.readouterr().out


def test_check_json_counts_the_objects_each_switch_adds(chart_copy, capsys) -> None:
    chart = chart_copy("feature-objects")
    main(["check", str(chart), "--format", "json"])
    entry = json.loads(capsys.readouterr().out)["charts"][0]
    assert entry["features"] == {
        "feature: networkPolicy.enabled=true": 1,
        "feature: podDisruptionBudget.enabled=true": 1,
    }


def test_fix_edits_the_objects_behind_switches_and_every_switch_on_is_clean(
    chart_copy, capsys
) -> None:
    chart = chart_copy("feature-objects")
    assert main(["check", str(chart), *EVERY_SWITCH]) == 1, "the bug, as a user turns them on"
    assert main(["fix", str(chart), "--write"]) == 0
    err = capsys.readouterr().err
    assert "2 fixed, 0 left\n" in err, "no selector of a controller changes: no migration"
    assert main(["check", str(chart), *EVERY_SWITCH, "--no-features"]) == 0
    pdb = (chart / "templates" / "pdb.yaml").read_text()
    assert "      app.kubernetes.io/component: server\n{{- end }}" in pdb


def test_switches_leave_modes_out_and_group_what_an_and_needs(tmp_path: Path) -> None:
    chart = tmp_path / "modes"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: modes\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(
        "statefulset: false\nmetrics:\n  enabled: false\n  service:\n    enabled: false\n"
        "pdb:\n  enabled: false\nconfig:\n  enabled: false\nreplicas: 0\n"
    )
    (chart / "templates" / "workload.yaml").write_text(
        "{{- if .Values.statefulset }}\nkind: StatefulSet\n{{- else }}\nkind: Deployment\n"
        "{{- end }}\n"
    )
    (chart / "templates" / "metrics.yaml").write_text(
        "{{- if .Values.metrics.enabled }}\n{{- if .Values.metrics.service.enabled }}\n"
        "kind: Service\n{{- end }}\n{{- end }}\n"
    )
    (chart / "templates" / "pdb.yaml").write_text(
        "{{- if and .Values.pdb.enabled .Values.replicas }}\nkind: PodDisruptionBudget\n"
        "{{- end }}\n---\n{{- if .Values.pdb.enabled }}\nkind: PodDisruptionBudget\n{{- end }}\n"
    )
    (chart / "templates" / "config.yaml").write_text(
        "{{- if .Values.config.enabled }}\nkind: ConfigMap\n{{- end }}\n"
    )
    found = [s.setting for s in switches(chart)]
    assert found == ["metrics.enabled=true,metrics.service.enabled=true", "pdb.enabled=true"]
    first = Scenario("default")
    assert [s.name for s in feature_scenarios(chart, first, 1)] == [
        "feature: metrics.enabled=true,metrics.service.enabled=true"
    ]
    together = all_features_scenario(chart, first)
    assert together is not None and together.set_values == (
        "metrics.enabled=true,metrics.service.enabled=true", "pdb.enabled=true"
    )


def _write(chart: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    return chart


WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web, component: server}
  template:
    metadata:
      labels: {app: web, component: server}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: seed
  annotations: {"helm.sh/hook": pre-install, "helm.sh/hook-delete-policy": before-hook-creation}
spec:
  template:
    metadata:
      labels: {app: web, component: seed}
    spec:
      restartPolicy: Never
      containers: [{name: seed, image: busybox}]
"""


def test_a_finding_seen_only_with_made_up_values_is_left(tmp_path: Path, capsys) -> None:
    """The PDB behind the switch renders only with a value chartfix makes up: what it
    selects then is the made-up value's doing, so its finding is not fixed."""
    chart = _write(tmp_path / "made-up", {
        "Chart.yaml": "apiVersion: v2\nname: made-up\nversion: 1.0.0\n",
        "values.yaml": "pdb:\n  enabled: false\n",
        "templates/web.yaml": WEB,
        "templates/pdb.yaml": (
            "{{- if .Values.pdb.enabled }}\napiVersion: policy/v1\nkind: PodDisruptionBudget\n"
            "metadata:\n  name: web\nspec:\n"
            '  minAvailable: {{ required "pdb.minAvailable" .Values.pdb.minAvailable }}\n'
            "  selector:\n    matchLabels: {app: web}\n{{- end }}\n"
        ),
    })
    assert main(["fix", str(chart)]) == 1
    err = capsys.readouterr().err
    assert (
        "left: stray PodDisruptionBudget/web: found only with feature: pdb.enabled=true, "
        "which renders only with values chartfix made up (pdb.minAvailable="
    ) in err
