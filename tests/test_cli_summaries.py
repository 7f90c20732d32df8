"""Summaries say what the run did: no fix counted for a refused chart, a dry run says so,
plurals agree, and the terminal table keeps chart names whole and errors on one line."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, git

from chartfix import runner
from chartfix.cli import main
from chartfix.commands.bulking import print_table
from chartfix.errors import TargetError
from chartfix.publish.apply import Outcome


def repo_with(tmp_path: Path, *fixtures: str) -> Path:
    top = tmp_path / "repo"
    top.mkdir()
    for name in fixtures:
        shutil.copytree(FIXTURES / name, top / name)
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "user.email", "dev@example.com")
    git(top, "config", "user.name", "Dev")
    git(top, "add", "-A")
    git(top, "commit", "-qm", "charts")
    return top


def table_rows(err: str) -> dict[str, list[str]]:
    lines = err.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("chart "))
    return {line.split()[0]: line.split()[1:] for line in lines[start + 1 : -1]}


def test_a_refused_chart_counts_no_fix_in_the_bulk_table(tmp_path, capsys) -> None:
    top = repo_with(tmp_path, "legacy-server")
    values = top / "legacy-server" / "values.yaml"
    values.write_text(values.read_text() + "# work in progress\n")
    report = tmp_path / "report.json"
    code = main(["bulk", str(top), "-j", "1", "--branch", "fix", "--report", str(report)])
    err = capsys.readouterr().err
    assert code == 2
    [entry] = json.loads(report.read_text())["charts"]
    assert (entry["status"], entry["findings"], entry["fixed"]) == ("error", 2, [])
    [row] = [r for name, r in table_rows(err).items() if name.endswith("legacy-server")]
    assert row[:3] == ["2", "-", "-"], err
    assert "uncommitted changes" in " ".join(row[3:])
    assert err.splitlines()[-1] == "1 chart processed (0 clean), 0 skipped as done"


def test_a_refused_chart_counts_no_fix_in_the_fix_summary(tmp_path, capsys) -> None:
    top = repo_with(tmp_path, "legacy-server")
    git(top, "branch", "fix")
    assert main(["fix", str(top / "legacy-server"), "--branch", "fix"]) == 2
    err = capsys.readouterr().err
    assert "branch fix already exists" in err
    assert "2 findings fixed" not in err
    assert err.splitlines()[-1] == (
        "1 chart: 0 files changed, 0 lines added, 0 removed; 0 findings fixed, 0 left; "
        "1 could not be processed"
    )


@pytest.mark.parametrize("refusal", ["no git", "uncommitted"])
def test_a_chart_refused_a_commit_counts_no_changed_file(tmp_path, capsys, refusal) -> None:
    """Files and lines in the summary are what was committed: none, when git refused."""
    if refusal == "no git":
        chart = tmp_path / "legacy-server"
        shutil.copytree(FIXTURES / "legacy-server", chart)
        reason = "is not inside a git repository"
    else:
        chart = repo_with(tmp_path, "legacy-server") / "legacy-server"
        (chart / "values.yaml").write_text((chart / "values.yaml").read_text() + "# wip\n")
        reason = "uncommitted changes"
    assert main(["fix", str(chart), "--branch", "fix"]) == 2
    err = capsys.readouterr().err
    assert reason in err
    assert err.splitlines()[-1] == (
        "1 chart: 0 files changed, 0 lines added, 0 removed; 0 findings fixed, 0 left; "
        "1 could not be processed"
    )


def test_a_bulk_dry_run_says_would_fix_and_nothing_written(tmp_path, capsys) -> None:
    top = tmp_path / "tree"
    shutil.copytree(FIXTURES / "legacy-server", top / "legacy-server")
    assert main(["bulk", str(top), "-j", "1"]) == 0
    err = capsys.readouterr().err
    header = next(line for line in err.splitlines() if line.startswith("chart "))
    assert header.split() == ["chart", "findings", "would", "fix", "left", "migration", "error"]
    assert err.splitlines()[-1] == (
        "1 chart processed (0 clean), 0 skipped as done; dry run: nothing written"
    )
    assert main(["bulk", str(top), "-j", "1", "--write"]) == 0
    err = capsys.readouterr().err
    header = next(line for line in err.splitlines() if line.startswith("chart "))
    assert header.split() == ["chart", "findings", "fixed", "left", "migration", "error"]
    assert err.splitlines()[-1] == "1 chart processed (0 clean), 0 skipped as done"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_terminal_table_keeps_long_names_and_errors_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)
    names = [f"{'deeply-nested-' * 6}chart-{i}" for i in range(2)]
    reason = "helm could not render: " + "a very long reason " * 20
    outcomes = [
        Outcome(tmp_path / name, error=TargetError(tmp_path / name / "values.yaml", reason))
        for name in names
    ]
    stream = Terminal()
    print_table(outcomes, [], stream)
    lines = stream.getvalue().splitlines()
    for name in names:
        assert sum(1 for line in lines if name in line) == 2, "its row and its error line"
        [full] = [line for line in lines if line.startswith("error: ") and name in line]
        assert full == f"error: {name}/values.yaml: {' '.join(reason.split())}"
    rows = [line for line in lines if "deeply-nested" in line and not line.startswith("error")]
    assert len(rows) == 2, "one line per row: no wrapped cells"
    assert lines[-1] == "2 charts processed (0 clean), 0 skipped as done"


def test_helms_log_lines_name_their_chart(tmp_path, capfd, monkeypatch) -> None:
    """Helm's Go code logs some warnings to stderr itself (a values file giving a string
    where the chart's defaults hold a map): text output shows each such line once in its
    chart's section; with JSON on stdout it goes to stderr, naming the chart."""
    monkeypatch.chdir(tmp_path)
    runner.shutdown()  # a worker started by an earlier test writes to that test's capture
    chart = tmp_path / "maps"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: maps\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("config:\n  policy: {}\n")
    (chart / "ci").mkdir()
    (chart / "ci" / "string-values.yaml").write_text("config:\n  policy: deny\n")
    (chart / "ci" / "more-values.yaml").write_text("config:\n  policy: allow\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n"
    )
    logged = (
        "helm: warning: cannot overwrite table with non table for maps.config.policy (map[])"
    )

    assert main(["check", str(chart), "-j", "1"]) == 0
    captured = capfd.readouterr()
    assert "cannot overwrite" not in captured.err
    assert captured.out.splitlines() == [
        "maps (maps)", f"  note: {logged}", "1 chart, no findings"
    ]

    assert main(["check", str(chart), "-j", "1", "--format", "json"]) == 0
    captured = capfd.readouterr()
    assert "cannot overwrite" not in captured.out
    assert json.loads(captured.out)["charts"][0]["warnings"] == []
    assert [line for line in captured.err.splitlines() if "cannot overwrite" in line] == [
        f"maps: {logged}"
    ]


def test_errors_of_rules_outside_the_recipes_run_count_as_left(capsys) -> None:
    """`fix --recipe X` exits 1 where `check` does: an error no chosen recipe fixes stays an
    error, left, with the recipe that would fix it."""
    chart = str(FIXTURES / "volatile-only-difference")
    assert main(["check", chart]) == 1
    capsys.readouterr()
    assert main(["fix", chart, "--recipe", "component-labels"]) == 1
    err = capsys.readouterr().err
    left = [line.strip() for line in err.splitlines() if line.strip().startswith("left:")]
    assert left == [
        f"left: volatile {kind}/release-name-web: not fixed by the recipes run (--recipe "
        "component-labels); `chartfix fix --recipe stable-selectors` fixes it"
        for kind in ("Deployment", "Service")
    ], err
    assert err.splitlines()[-1].endswith("0 findings fixable, 2 left")
