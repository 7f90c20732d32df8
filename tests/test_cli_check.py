"""`chartfix check` end to end: real charts rendered by Helm's engine, real worker processes."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.cli import main
from chartfix.commands.checking import CheckOptions, check_chart, exit_status, run_check
from chartfix.errors import TargetError, UsageError
from chartfix.runner import TimedOut, WorkerDied, crash_reason, run_parallel

RULE_CHARTS = FIXTURES / "rules-charts"


def broken_chart(tmp_path: Path) -> Path:
    root = tmp_path / "broken"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (root / "templates" / "bad.yaml").write_text(
        'kind: Pod\nmetadata: {name: {{ include "nowhere" . }}}\n'
    )
    return root


def test_check_chart_reports_findings_scenarios_and_keeps_renderings() -> None:
    report = check_chart(RULE_CHARTS / "scenarios")
    assert report.error is None
    assert report.name == "rules-scenarios"
    assert report.scenarios == [
        "default", "ci/broken-selector-values.yaml", "ci/no-migration-values.yaml"
    ]
    assert {f.rule for f in report.findings} == {"overlap", "mismatch"}
    assert [r.scenario for r in report.renderings] == report.scenarios


def test_a_broken_chart_is_captured_not_raised(tmp_path: Path) -> None:
    report = check_chart(broken_chart(tmp_path))
    assert isinstance(report.error, TargetError)
    assert "templates/bad.yaml" in str(report.error)
    assert "\n" not in str(report.error)
    assert report.findings == []


def test_a_name_clash_of_the_default_release_name_is_a_note_and_the_chart_is_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bitnami's cloudnative-pg and flux shape: two ClusterRoles whose names, cut to 63
    characters, are one under `release-name` only. That is said of that release name, and
    the chart's selector bugs are still found (they stopped the analysis before)."""
    assert main(["check", str(FIXTURES / "release-name-clash"), "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert "error[overlap] Deployment/release-name-release-name-clash: " in out
    assert (
        "  note: templates/clusterroles.yaml (twice) both render ClusterRole/"
        "release-name-release-name-clash-cluster-monitoring-exporter-met in namespace default "
        "with the release name release-name: Helm refuses to install the chart under that name"
    ) in out


CLASHING_WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-%s-worker" .Release.Name (repeat 53 "z") | trunc 63 }}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec: {containers: [{name: w, image: busybox}]}
"""


def test_a_name_clash_hides_no_finding_of_either_object(
    chart_copy, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hostile tester's shape: a clean Deployment, rendered first, whose name cut to 63
    characters is the buggy one's under `release-name` only. Both are analysed: check
    finds the buggy one's overlap and fails, as it does under any other release name."""
    chart = chart_copy("legacy-server")
    deployment = chart / "templates" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace(
        'name: {{ template "legacy-server.fullname" . }}\n',
        'name: {{ printf "%s-%s-server" .Release.Name (repeat 53 "z") | trunc 63 }}\n', 1,
    ))
    (chart / "templates" / "a-clean.yaml").write_text(CLASHING_WORKER)

    assert main(["check", str(chart), "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert "both render Deployment/release-name-zzzz" in out
    assert "error[overlap] Deployment/release-name-zzzz" in out
    assert main(["check", str(chart), "--no-cache", "--release", "r"]) == 1
    assert "error[overlap] Deployment/r-zzzz" in capsys.readouterr().out


def test_reports_survive_pickling(tmp_path: Path) -> None:
    for report in (check_chart(RULE_CHARTS / "consumers"), check_chart(broken_chart(tmp_path))):
        again = pickle.loads(pickle.dumps(report))
        assert again.findings == report.findings
        assert str(again.error) == str(report.error)


@pytest.mark.parametrize("jobs", [1, 2])
def test_exit_status_two_wins_over_findings(tmp_path: Path, jobs: int) -> None:
    shutil.copytree(RULE_CHARTS / "overlap", tmp_path / "overlap")
    broken_chart(tmp_path)
    out = io.StringIO()
    assert run_check([tmp_path], CheckOptions(fmt="json", jobs=jobs), out) == 2
    charts = json.loads(out.getvalue())["charts"]
    assert [c["name"] for c in charts] == ["broken", "rules-overlap"]  # input (path) order
    assert charts[0]["error"] and charts[1]["findings"]


def test_exit_status_zero_one() -> None:
    assert run_check([FIXTURES / "clean"], CheckOptions(jobs=1), io.StringIO()) == 0
    assert run_check([RULE_CHARTS / "consumers"], CheckOptions(jobs=1), io.StringIO()) == 1
    assert exit_status([]) == 0


def test_warnings_alone_fail_only_with_strict(tmp_path: Path) -> None:
    """helm lint's policy: warnings pass unless --strict."""
    report = check_chart(RULE_CHARTS / "volatile")
    report.findings = [f for f in report.findings if f.severity == "warning"]
    assert report.findings
    assert exit_status([report]) == 0
    assert exit_status([report], strict=True) == 1


def test_values_file_and_set_reach_the_render(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("cronjob: {enabled: true}\n")
    out = io.StringIO()
    options = CheckOptions(
        values_files=(values,), set_values=("tests.enabled=true",), fmt="json", jobs=1
    )
    run_check([RULE_CHARTS / "scenarios"], options, out)
    (chart,) = json.loads(out.getvalue())["charts"]
    assert chart["scenarios"][0] == "user"
    related = {r["name"] for f in chart["findings"] for r in f["related"]}
    assert {"release-name-report", "release-name-test-api"} <= related


def test_usage_errors() -> None:
    with pytest.raises(UsageError):
        run_check([FIXTURES / "clean"], CheckOptions(fmt="xml", jobs=1), io.StringIO())
    with pytest.raises(UsageError):
        missing = CheckOptions(values_files=(Path("/nonexistent.yaml"),), jobs=1)
        run_check([FIXTURES / "clean"], missing, io.StringIO())


def test_cli_check_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXTURES / "legacy-server"), "-j", "1", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["version"] == 1


# --- the runner --------------------------------------------------------------------------------


def square_or_die(n: int) -> int:
    """Module-level so spawned workers can import it: item 3 kills its worker outright."""
    if n == 3:
        os._exit(7)
    if n == 5:
        raise ValueError("five")
    return n * n


def test_runner_keeps_input_order_and_survives_a_dying_worker() -> None:
    results = list(
        run_parallel(square_or_die, range(8), 2, on_crash=lambda item, err: -item)
    )
    assert results == [0, 1, 4, -3, 16, -5, 36, 49]


@pytest.mark.parametrize("inline", ["0", "1"])
def test_runner_one_job_and_errors_without_on_crash(
    monkeypatch: pytest.MonkeyPatch, inline: str
) -> None:
    monkeypatch.setenv("CHARTFIX_INLINE", inline)
    assert list(run_parallel(square_or_die, [1, 2], 1)) == [1, 4]
    with pytest.raises(ValueError, match="five"):
        list(run_parallel(square_or_die, [5], 1))


def mark_done(item: tuple[Path, int]) -> int:
    """Module-level so spawned workers can import it: leaves a file saying it ran."""
    folder, n = item
    (folder / f"done-{n}").touch()
    return n


@pytest.mark.parametrize("jobs", [1, 2])
def test_runner_takes_items_as_the_work_goes(tmp_path: Path, jobs: int) -> None:
    """An iterator of items is read as the workers need them, so that a caller can work out
    the next item (check looks targets up in the cache) while the first ones are worked on:
    by the time the fourth item is asked for, some item has been done."""
    seen: list[int] = []

    def items() -> Iterator[tuple[Path, int]]:
        for n in range(6):
            seen.append(len(list(tmp_path.glob("done-*"))))
            yield tmp_path, n

    assert list(run_parallel(mark_done, items(), jobs)) == list(range(6))
    assert seen[:jobs] == [0] * jobs and seen[3] >= 1, seen


def environment(name: str) -> str | None:
    return os.environ.get(name)


def test_a_worker_runs_go_with_a_lazier_collector_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Helm's Go runtime in a worker collects garbage at 400% heap growth (a fifth less CPU
    per render); a GOGC the user set wins."""
    from chartfix import runner

    monkeypatch.delenv("CHARTFIX_INLINE", raising=False)
    monkeypatch.delenv("GOGC", raising=False)
    runner.shutdown()  # fresh workers: the environment is set as one starts
    assert list(run_parallel(environment, ["GOGC"], 1)) == [runner.WORKER_GOGC]
    runner.shutdown()
    monkeypatch.setenv("GOGC", "150")
    assert list(run_parallel(environment, ["GOGC"], 1)) == ["150"]
    runner.shutdown()


def hang_or_die(n: int) -> int:
    """Item 1 never finishes (as a Go render that never returns: no signal in the worker
    ends it); item 2 aborts its process (as Go does on an endless template recursion)."""
    if n == 1:
        while True:
            time.sleep(60)
    if n == 2:
        os.abort()
    return n * n


@pytest.mark.parametrize("jobs", [1, 2])
def test_runner_stops_a_worker_past_the_timeout_and_names_a_dead_one(jobs: int) -> None:
    errors: dict[int, BaseException] = {}

    def crashed(item: int, error: BaseException) -> int:
        errors[item] = error
        return -item

    # a hang against a 2 s limit: the hanging item can only end by being killed
    results = list(run_parallel(hang_or_die, [0, 1, 2, 3], jobs, crashed, timeout=2))

    assert results == [0, -1, -2, 9]
    assert isinstance(errors[1], TimedOut)
    assert str(errors[1]) == "took longer than --timeout 2s; skipped"
    assert isinstance(errors[2], WorkerDied)
    assert str(errors[2]).startswith("helm crashed while rendering (exit signal 6, SIGABRT)")
    assert crash_reason(errors[2]) == str(errors[2])
    assert list(run_parallel(square_or_die, [4], jobs)) == [16]  # the workers were replaced


def test_a_chart_that_errors_is_one_error_line_then_its_offline_notes(tmp_path: Path) -> None:
    root = tmp_path / "stack"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(
        "apiVersion: v2\nname: stack\nversion: 0.1.0\ndependencies:\n"
        "  - {name: search, version: 1.x, repository: https://example.invalid}\n"
    )
    (root / "templates" / "uses.yaml").write_text(
        'kind: ConfigMap\nmetadata: {name: {{ template "search.fullname" . }}}\n'
    )
    out = io.StringIO()

    assert run_check([root], CheckOptions(jobs=1), out) == 2

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"error: {root}/templates/uses.yaml: helm could not render")
    assert lines[1].startswith("  note: dependency search 1.x (https://example.invalid)")
    assert "is not available offline; rendered without it (to render with it: put it in " \
        "the chart's charts/ as a folder or .tgz" in lines[1]
    assert len(lines) == 3  # and the summary
    document = io.StringIO()
    run_check([root], CheckOptions(fmt="json", jobs=1), document)
    assert "not available offline" in json.loads(document.getvalue())["charts"][0]["warnings"][0]


def test_a_heavy_targets_scenarios_are_shared_out_whatever_its_kind() -> None:
    """Sharding is every kind's (`Source.scenarios`): a Helm chart's scenarios and a
    kustomization's overlays are split among the workers when the target outweighs a
    worker's share of the run (`target_weight`), a lighter one beside it is not, and the
    merged report is the one checking the target whole gives."""
    from chartfix.commands.checking import CheckOptions, _tasks, check_all, share_of
    from chartfix.rules.policy import Policy
    from chartfix.sources.base import RenderSettings

    light = FIXTURES / "one-letter-container"
    for heavy in (RULE_CHARTS / "scenarios", FIXTURES / "kustomize-overlays"):
        tasks = list(_tasks([heavy, light], RenderSettings(), 2, Policy(), None))
        assert [(t.root, t.share, t.shares) for t in tasks] == [
            (heavy, 0, 2), (heavy, 1, 2), (light, 0, 1)
        ]
        report = check_all([heavy, light], CheckOptions(jobs=2))[0]
        whole = check_chart(heavy)
        assert report.error is None and whole.error is None
        assert report.scenarios == whole.scenarios
        assert report.findings == whole.findings and report.findings
    overlay_names = ["overlays/production", "overlays/staging"]
    assert [share_of(overlay_names, i, 2) for i in range(2)] == [[n] for n in overlay_names]


def test_a_heavy_target_with_fewer_scenarios_than_shares_is_checked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target heavy enough to be shared out, with one scenario: its worker takes it, the
    other share finds none left and adds nothing; the report is checking it whole, an
    error included. (No cache: a cached target is not shared out again.)"""
    monkeypatch.setenv("CHARTFIX_NO_CACHE", "1")
    from chartfix.commands.checking import CheckOptions, _tasks, check_all
    from chartfix.rules.policy import Policy
    from chartfix.sources.base import RenderSettings

    heavy, broken = (tmp_path / case / "scaffold-helpers" for case in ("heavy", "broken"))
    for root in (heavy, broken):
        shutil.copytree(FIXTURES / "scaffold-helpers", root)
    (broken / "templates" / "broken.yaml").write_text('{{ fail "not today" }}\n')
    light = FIXTURES / "one-letter-container"
    tasks = list(_tasks([heavy, light], RenderSettings(), 2, Policy(), None))
    assert (heavy, 1, 2) in [(t.root, t.share, t.shares) for t in tasks]
    for root in (heavy, broken):
        report, whole = check_all([root, light], CheckOptions(jobs=2))[0], check_chart(root)
        assert report.scenarios == whole.scenarios == ["default"]
        assert report.findings == whole.findings and report.warnings == whole.warnings
        assert str(report.error) == str(whole.error)
    assert "not today" in str(report.error)
