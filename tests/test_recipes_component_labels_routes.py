"""The least-breaking complete fix: which route each finding takes, and what the version bump,
commit and report then say.

Pods recreated freely (helm test Pods, hook Jobs Helm recreates, a CronJob's job template)
get values of their own for a key the controller's selector holds: no immutable field
changes. The component route stays for the rest, and `--safe-only` never takes it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import git

from chartfix.cli import main
from chartfix.sources.helm.chart import Scenario, load_chart
from chartfix.sources.helm.render import render


def _repo(chart: Path) -> Path:
    repo = chart.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "init")
    return repo


def _recipe(tmp_path: Path, **top: object) -> Path:
    """A recipe file running component-labels with `prefer` (and top-level keys)."""
    prefer = top.pop("prefer", None)
    step: object = {"component-labels": {"prefer": prefer}} if prefer else "component-labels"
    document = {
        "type": "chartfix/v1/recipe", "name": "routes", "description": "routes under test",
        "recipeList": [step], **top,
    }
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _selectors_untouched(diff: str) -> bool:
    return "matchLabels" not in diff and "selector:" not in diff


def test_a_test_pod_under_a_numeric_target_port_is_relabelled_with_a_patch_bump(
    chart_copy, capsys
) -> None:
    chart = chart_copy("test-pod-numeric-port")
    repo = _repo(chart)
    assert main(["fix", str(chart), "--branch", "fix/test-pod"]) == 0
    err = capsys.readouterr().err
    assert "needs migration" not in err
    changed = git(repo, "diff", "--name-only", "main", "fix/test-pod").splitlines()
    assert changed == [
        "test-pod-numeric-port/Chart.yaml",
        "test-pod-numeric-port/templates/tests/test-connection.yaml",
    ], "only the test Pod changes (and the version): no selector, no migration note file"
    diff = git(repo, "diff", "main", "fix/test-pod", "--", "test-pod-numeric-port/templates")
    assert "+    app.kubernetes.io/name: {{ .Chart.Name }}-test-connection\n" in diff
    chart_yaml = git(repo, "show", "fix/test-pod:test-pod-numeric-port/Chart.yaml")
    assert "version: 1.4.3" in chart_yaml, "a patch: nothing to do on upgrade"
    message = git(repo, "log", "-1", "--format=%B", "fix/test-pod")
    assert "Upgrade steps" not in message and "migration" not in message.lower()
    assert "Chart version 1.4.2 -> 1.4.3." in message
    assert "No step is needed before `helm upgrade`." in message
    git(repo, "checkout", "-q", "fix/test-pod")
    assert main(["check", str(chart)]) == 0, "no finding is left"


def test_hook_jobs_sharing_the_selector_helper_are_relabelled_by_default(
    chart_copy, capsys
) -> None:
    """An admission webhook's certificate Jobs (helm hooks Helm deletes before creating
    again) carry the Deployment's selector labels: by default they get a name of their own,
    and the Deployment's immutable selector stays (no migration)."""
    chart = chart_copy("hook-jobs-helper")
    assert main(["fix", str(chart)]) == 0
    out, err = capsys.readouterr()
    changed = re.findall(r"^\+\+\+ b/.*?/(templates/\S+)$", out, re.MULTILINE)
    assert changed == ["templates/hooks/job-create.yaml", "templates/hooks/job-patch.yaml"]
    assert "hook-jobs-helper: 2 fixable, 0 left\n" in err, "no migration needed"


def test_the_hook_jobs_own_name_follows_name_override_and_long_release_names(
    chart_copy, capsys
) -> None:
    """The Jobs' new `app.kubernetes.io/name` is written with the chart's own name helper, as
    the shared value is, not as the literal it renders to: it follows `nameOverride`, and
    holds no release name (valid for Helm's longest)."""
    chart = chart_copy("hook-jobs-helper")
    assert main(["fix", str(chart), "--write"]) == 0
    job = (chart / "templates/hooks/job-create.yaml").read_text()
    assert (
        '        {{- omit (include "gatekeep.labels" . | fromYaml) "app.kubernetes.io/name" '
        "| toYaml | nindent 8 }}\n"
        '        app.kubernetes.io/name: {{ include "gatekeep.name" . }}-create\n'
    ) in job
    rendered = render(load_chart(chart), Scenario("default", set_values=("nameOverride=gk",)))
    names = {
        o.name: o.pod_labels.get("app.kubernetes.io/name")
        for o in rendered.objects if o.pod_labels is not None
    }
    assert names["release-name-gk"] == "gk"
    assert names["release-name-gk-create"] == "gk-create"
    capsys.readouterr()
    release = "druid-monitoring-production-eu-west-1-with-a-long-nm"  # 53: Helm's longest
    assert main(["check", str(chart), "--release", release]) == 0
    assert "no findings" in capsys.readouterr().out


def test_prefer_component_changes_the_selector_even_for_hook_jobs(
    chart_copy, tmp_path, capsys
) -> None:
    chart = chart_copy("hook-jobs-helper")
    recipe = _recipe(tmp_path, prefer="component")
    assert main(["fix", str(chart), "--recipe", str(recipe)]) == 0
    out, err = capsys.readouterr()
    changed = re.findall(r"^\+\+\+ b/.*?/(templates/\S+)$", out, re.MULTILINE)
    assert changed == [
        "templates/deployment.yaml", "templates/pdb.yaml", "templates/service.yaml"
    ]
    assert "+      app.kubernetes.io/component: webhook" in out
    assert "hook-jobs-helper: 2 fixable, 0 left (needs migration)\n" in err


def test_the_seed_case_keeps_the_component_route_and_needs_migration(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    assert main(["fix", str(chart)]) == 0
    out, err = capsys.readouterr()
    assert "+      component: server" in out, "the Deployment's selector gets the component"
    assert "2 fixable, 0 left (needs migration)" in err


def test_safe_only_gives_a_hook_job_and_a_cronjob_their_own_templated_value(
    chart_copy, capsys
) -> None:
    chart = chart_copy("legacy-server")
    assert main(["fix", str(chart), "--safe-only", "--write"]) == 0
    err = capsys.readouterr().err
    assert "needs migration" not in err
    cronjob = (chart / "templates" / "cronjob.yaml").read_text()
    job = (chart / "templates" / "migration-job.yaml").read_text()
    assert '            app: {{ template "legacy-server.name" . }}-cleanup\n' in cronjob
    assert '        app: {{ template "legacy-server.name" . }}-migration\n' in job
    deployment = (chart / "templates" / "deployment.yaml").read_text()
    assert "component" not in deployment
    assert main(["check", str(chart)]) == 0


@pytest.mark.parametrize(
    ("how", "fixed", "left", "migration"),
    [
        ("default", 4, 0, True),
        ("prefer: safe", 4, 0, True),
        ("--safe-only", 3, 1, False),
        ("safe-only: true", 3, 1, False),
    ],
)
def test_routes_on_a_chart_with_a_hook_job_a_cronjob_and_a_test_pod(
    chart_copy, tmp_path, capsys, how: str, fixed: int, left: int, migration: bool
) -> None:
    chart = chart_copy("safe-routes")
    argv = ["fix", str(chart)]
    if how == "prefer: safe":
        argv += ["--recipe", str(_recipe(tmp_path, prefer="safe"))]
    elif how == "--safe-only":
        argv += ["--safe-only"]
    elif how == "safe-only: true":
        argv += ["--recipe", str(_recipe(tmp_path, **{"safe-only": True}))]
    assert main(argv) == (1 if left else 0)
    out, err = capsys.readouterr()
    summary = f"{fixed} fixable, {left} left" + (" (needs migration)" if migration else "")
    assert f"safe-routes: {summary}\n" in err
    web_relabelled = "+            app: shop-cleanup" in out and "+    app: shop-test-web" in out
    assert web_relabelled == (how != "default"), "the web's other pods get values of their own"
    worker_selector = "+      component: worker" in out
    assert worker_selector == migration, "only the component route changes the selector"
    if left:
        assert "left: overlap Deployment/release-name-worker: fixing it changes" in err
        assert "`chartfix fix " in err, "with the command that fixes it"


def test_a_bulk_report_marks_the_charts_that_need_migration(chart_copy, tmp_path) -> None:
    safe = chart_copy("test-pod-numeric-port")
    breaking = chart_copy("legacy-server")
    report = tmp_path / "report.json"
    html = tmp_path / "report.html"
    main(["bulk", str(safe.parent), "--report", str(report), "--html", str(html), "-j", "1"])
    entries = {e["name"]: e for e in json.loads(report.read_text())["charts"]}
    assert entries["legacy-server"]["needs_migration"] is True
    assert entries["test-pod-numeric-port"]["needs_migration"] is False
    assert breaking.name in html.read_text() and "needs migration" in html.read_text()


def test_prefer_is_component_or_safe(tmp_path, chart_copy, capsys) -> None:
    chart = chart_copy("safe-routes")
    assert main(["fix", str(chart), "--recipe", str(_recipe(tmp_path, prefer="fast"))]) == 2
    err = capsys.readouterr().err
    assert "routes.yaml:5: `recipeList[0].component-labels.prefer`: must be one of" in err


def test_a_test_pod_named_by_the_fullname_gets_a_value_valid_for_every_release(
    chart_copy, capsys
) -> None:
    """The test Pod's own value must not embed the fullname (63 characters with a long
    release name): the role alone, valid whatever the release is called."""
    chart = chart_copy("test-pod-fullname-label")
    assert main(["fix", str(chart), "--write"]) == 0
    test_pod = (chart / "templates/tests/test-connection.yaml").read_text()
    assert "    app.kubernetes.io/name: test-connection\n" in test_pod
    capsys.readouterr()
    release = "druid-monitoring-production-eu-west-1-with-a-long-nm"  # 53: Helm's longest
    assert main(["check", str(chart), "--release", release]) == 0
    assert "no findings" in capsys.readouterr().out


def test_verification_refuses_a_label_value_too_long_for_a_long_release_name(
    chart_copy, capsys, monkeypatch
) -> None:
    """The value the relabel route wrote before (the fullname, the role after it) renders
    valid for `release-name` but 78 characters long for a 53-character release name:
    verification renders the edit with such a name too and refuses it."""
    from chartfix.recipes.component_labels import safe_route

    def fullname_and_role(context, obj, rendering, key, used):  # the route's old value
        return f"{(obj.pod_labels or {})[key]}-test-connection"

    monkeypatch.setattr(safe_route, "_own_value", fullname_and_role)
    monkeypatch.setenv("CHARTFIX_INLINE", "1")  # planned in this process, as patched
    chart = chart_copy("test-pod-fullname-label")
    main(["fix", str(chart), "--write", "--safe-only", "-j", "1", "--no-cache"])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    test_pod = (chart / "templates/tests/test-connection.yaml").read_text()
    assert '{{ include "exporter.fullname" . }}-test-connection\n' not in test_pod
    assert "with the release name chartfix-checks-label-values-with-a-long-release-name" in out
    assert "is not a valid label (78 characters" in out
