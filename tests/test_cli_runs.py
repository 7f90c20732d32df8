"""Runs that are interrupted, and input or output that is wrong before any work starts:
Ctrl-C and kill -9 in bulk keep the report and resume; output paths, flags and reports are
checked first (exit 2, nothing written)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CHARTFIX, git, recursing_chart, snapshot
from test_cli_bulk import add_chart, bulk, git_repo, good_tree, read_report

from chartfix.cli import main


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)


def many_charts(tree: Path, count: int = 10) -> Path:
    for i in range(count):
        add_chart(tree, "legacy-server", f"chart{i:02}")
    return tree


def start_bulk(tmp_path: Path, *argv: object) -> subprocess.Popen[str]:
    """`chartfix bulk` in its own process group, as a terminal runs it: Ctrl-C interrupts
    it, also when pytest itself runs where SIGINT is ignored (a shell's `&` without job
    control): Python turns an ignored SIGINT into no KeyboardInterrupt at all."""
    return subprocess.Popen(
        [*CHARTFIX, "bulk", "--fix-latent", *map(str, argv)], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=_interruptible,
    )


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        # whole lines only: a line being appended can be read half written
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never got {count} lines")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_bulk_run_keeps_its_report_and_the_next_run_resumes(
    tmp_path, capsys, sig: signal.Signals
) -> None:
    tree = many_charts(tmp_path / "tree")
    report = tmp_path / "report.json"
    run = start_bulk(tmp_path, tree, "--write", "-j", "2", "--report", report)
    wait_for_lines(tmp_path / "report.json.partial", 2, run)

    os.killpg(run.pid, sig)  # Ctrl-C reaches the whole group: main process and workers
    _, err = run.communicate(timeout=60)

    if sig == signal.SIGINT:
        assert run.returncode == 130
        assert "Traceback" not in err and "KeyboardInterrupt" not in err
        assert "run again with the same --report to resume" in err.splitlines()[-1]
        assert not (tmp_path / "report.json.partial").exists()
    else:
        assert run.returncode == -signal.SIGKILL
    done = [c for c in read_report_any(report) if c["applied"]]
    assert 2 <= len(done) < 10
    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert code == 0
    # a kill -9 can fall between a chart's write and its report line: that one chart is run
    # again and found clean (its fix is on disk); Ctrl-C waits for both
    clean = {"0"} if sig == signal.SIGINT else {"0", "1"}
    summary = re.search(r"(\d+) charts processed \((\d+) clean\), (\d+) skipped as done", err)
    assert summary, err
    assert summary.group(1) == str(10 - len(done)) and summary.group(3) == str(len(done))
    assert summary.group(2) in clean
    assert len(read_report(report)["charts"]) == 10
    assert not (tmp_path / "report.json.partial").exists()


def test_ctrl_c_in_fix_ends_quietly_with_130(tmp_path) -> None:
    tree = many_charts(tmp_path / "tree", 40)
    run = subprocess.Popen(
        [*CHARTFIX, "fix", "--fix-latent", str(tree), "-j", "2"], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=_interruptible,
    )
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children")
    while run.poll() is None and len(children.read_text().split()) < 2:
        time.sleep(0.01)  # until the worker pool is up
    time.sleep(0.3)
    assert run.poll() is None, "finished before Ctrl-C: give it more charts"
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def read_report_any(report: Path) -> list[dict]:
    """What a reader sees after any interruption: the report, or its .partial lines."""
    from chartfix.publish.report.file import read_report as chartfix_read

    return chartfix_read(report)["charts"]


# --- output paths, checked before work -----------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--write", "--report", "missing/report.json"],
        ["--write", "--report", "."],
        ["--write", "--pr-body", "missing/body.md"],
        ["--branch", "fix", "--pr-body-dir", "a-file/bodies"],
    ],
)
def test_an_output_path_that_cannot_be_written_stops_the_run_before_any_chart(
    tmp_path, capsys, argv: list[str]
) -> None:
    tree = good_tree(tmp_path / "tree")
    (tmp_path / "a-file").write_text("")
    before = snapshot(tree)

    code, err = bulk(capsys, tree, "-j", "1", *argv)

    assert code == 2
    assert err.startswith("chartfix: ") and len(err.splitlines()) == 1, err
    assert argv[-1] in err
    assert snapshot(tree) == before


def test_report_merge_checks_its_output_before_reading(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree", ["clean"])
    bulk(capsys, tree, "-j", "1", "--report", tmp_path / "r.json")
    assert main(["report", "merge", "r.json", "-o", "missing/merged.json"]) == 2
    assert "-o missing/merged.json: no such directory missing" in capsys.readouterr().err


def test_the_reports_temp_file_never_follows_a_planted_link(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree", ["clean"])
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for name in ("report.json.tmp", ".report.json.tmp", "report.json.partial.tmp"):
        (tmp_path / name).symlink_to(victim)

    assert bulk(capsys, tree, "-j", "1", "--report", "report.json")[0] == 0

    assert victim.read_text() == "precious\n"
    assert [c["status"] for c in read_report(tmp_path / "report.json")["charts"]] == ["clean"]


CHART = '{"version": 1, "charts": [{"path": "c", "status": "fixed", %s}]}'
"""A report of one chart entry with the given field."""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"version": 1}', "`charts` is not a list"),
        ('{"version": 1, "charts": [{"path": "x"}]}', "charts[0] has no 'status' string"),
        ('{"version": 1, "charts": [7]}', "charts[0] is not an object"),
        (CHART % '"finding_details": "str"', "charts[0] `finding_details` is not a list"),
        (CHART % '"finding_details": [{"location": 3}]',
         "charts[0] finding_details[0] `location` is not an object with a `path` string"),
        (CHART % '"finding_details": [{"rule": ["x"]}]',
         "charts[0] finding_details[0] `rule` is not a string or null"),
        (CHART % '"lines_added": "lots"', "charts[0] `lines_added` is not a count"),
        (CHART % '"findings": -5', "charts[0] `findings` is not a count"),
        (CHART % '"fixed": 5', "charts[0] `fixed` is not a list of strings"),
        (CHART % '"diff": {}', "charts[0] `diff` is not a string"),
        (CHART % '"applied": "yes"', "charts[0] `applied` is not true or false"),
        ('{"version": 1, "shard": {"index": 5, "count": 2}, "charts": []}',
         "`shard` {'index': 5, 'count': 2} is not I/N"),
        ('{"version": 1, "shard": "5/2", "charts": []}',
         "`shard` '5/2': --shard 5/2: the index is 0-based (0..1), like a Kubernetes Job "
         "completion index"),
        ('{"version": 1, "shard": "a/0", "charts": []}',
         "`shard` 'a/0': --shard takes I/N (for example 0/4), not 'a/0'"),
        ('{"version": 1, "dry_run": "no", "charts": []}', "`dry_run` is not true, false or null"),
        ("[" * 100000, "nested too deeply"),
    ],
)
def test_a_report_of_the_wrong_shape_is_a_clear_error(
    tmp_path, capsys, content: str, reason: str
) -> None:
    tree = good_tree(tmp_path / "tree", ["legacy-server"])
    (tmp_path / "r.json").write_text(content)
    before = snapshot(tree)

    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", "r.json")
    assert code == 2
    assert err == f"chartfix: r.json: not a chartfix report: {reason}\n"
    assert snapshot(tree) == before
    for command in (["merge", "r.json"], ["html", "r.json", "-o", "r.html"]):
        assert main(["report", *command]) == 2, command
        err = capsys.readouterr().err
        assert err.startswith("chartfix: r.json: not a chartfix report: ") and reason in err
        assert len(err.splitlines()) == 1, err
    assert not (tmp_path / "r.html").exists()


# --- flags that did nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-j", "-5"], "argument -j/--jobs: must be above 0, not -5"),
        (["-j", "0"], "argument -j/--jobs: must be above 0, not 0"),
        (["--branch", ""], "--branch needs a NAME"),
        (["--branch", " "], "--branch needs a branch name"),
        (["--branch", "b", "--push", "o", "--open-pr", "--forge", "gh"],
         "--forge gh needs --pr-body FILE"),
        (["--timeout", "0"], "argument --timeout: must be above 0, not 0"),
        (["--push", "o"], "--push needs --branch"),
        (["--bump", "major"], "--bump needs --branch (or --pr-body FILE"),
        (["--write", "--bump", "patch"], "--bump needs --branch"),
        (["--note-target", "readme"], "--note-target needs --branch"),
        (["--write", "--note-target", "migration"], "--note-target needs --branch"),
        (["--timeout", "nan"], "argument --timeout: must be a finite number, not nan"),
        (["--timeout", "inf"], "argument --timeout: must be a finite number, not inf"),
        (["--timeout", "1e308"], "argument --timeout: must be at most 604800, not 1e308"),
        (["--timeout", "99999999999"], "--timeout: must be at most 604800, not 99999999999"),
        (["-j", "99999999999"], "argument -j/--jobs: must be at most 1024, not 99999999999"),
    ],
)
def test_flags_that_would_do_nothing_are_usage_errors(
    chart_copy, capsys, argv: list[str], message: str
) -> None:
    chart = chart_copy("legacy-server")
    before = snapshot(chart)
    try:
        code = main(["fix", "--fix-latent", str(chart), *argv])
    except SystemExit as exit:  # argparse's own usage error
        code = exit.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert snapshot(chart) == before


def test_write_with_pr_body_writes_the_description_too(chart_copy, tmp_path, capsys) -> None:
    chart = chart_copy("legacy-server")
    body = tmp_path / "body.md"
    assert main(["fix", "--fix-latent", str(chart), "--write", "--pr-body", str(body)]) == 0
    assert "overlap" in body.read_text()
    assert main(["check", str(chart)]) == 0


def test_a_run_after_the_last_runs_folder_was_removed_still_renders(
    chart_copy, tmp_path, monkeypatch
) -> None:
    """Workers outlive a call and follow the caller's folder: the folder an earlier run
    was started from may be gone by the next (a script's temporary directory)."""
    chart = chart_copy("legacy-server")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    assert main(["fix", "--fix-latent", str(chart)]) == 0
    monkeypatch.chdir(tmp_path)
    gone.rmdir()
    assert main(["fix", "--fix-latent", str(chart)]) == 0, "the workers' old folder is not needed"


def test_timeout_turns_a_slow_chart_into_its_error_line(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree", ["clean"])
    slow = add_chart(tree, "legacy-server", "slow")
    # seconds of work in Go's template engine (40 million loop turns, little memory), against
    # a fraction of a second for the clean chart: the limit tells them apart on a busy machine
    busy = "{{- range until 4000 }}{{- range until 10000 }}{{- end }}{{- end }}\n"
    (slow / "templates" / "busy.yaml").write_text(busy)

    code, err = bulk(capsys, tree, "-j", "1", "--timeout", "1.5")

    assert code == 2
    assert f"{slow.relative_to(tmp_path)}: took longer than --timeout 1.5s; skipped" in err
    assert "[1/2] tree/clean: clean" in err


HANG = "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n"
"""Ten billion turns of Go's template engine: a render that never returns in a test's life."""


def hung_tree(tmp_path: Path) -> tuple[Path, Path]:
    """tree/a, a chart with findings to fix, and tree/b, whose render never finishes."""
    tree = tmp_path / "tree"
    add_chart(tree, "legacy-server", "a")
    hung = add_chart(tree, "legacy-server", "b")
    (hung / "templates" / "loop.yaml").write_text(HANG)
    return tree, hung


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_timeout_stops_a_render_that_never_returns_and_the_others_go_on(
    tmp_path, capsys, jobs: str
) -> None:
    tree, hung = hung_tree(tmp_path)
    code, err = bulk(capsys, tree, "-j", jobs, "--timeout", "3", "--report", "r.json")
    assert code == 2
    assert f"{hung.relative_to(tmp_path)}: took longer than --timeout 3s; skipped" in err
    charts = {c["id"]: c for c in read_report(tmp_path / "r.json")["charts"]}
    assert charts["tree/a"]["status"] == "fixed"
    said = f"{hung.relative_to(tmp_path)}: took longer than --timeout 3s; skipped"
    assert charts["tree/b"]["error"] == said


def workers_of(pid: int) -> list[int]:
    """The processes `pid` started (its workers; Python's resource tracker among them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in children.read_text().split()] if children.exists() else []


def still_running(pids: list[int]) -> list[int]:
    """Those of `pids` that have not ended within a minute (a hung worker never does)."""
    deadline = time.monotonic() + 60
    while True:
        alive = [p for p in pids if Path(f"/proc/{p}").exists()]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_ctrl_c_during_a_render_that_never_returns_keeps_what_finished(tmp_path) -> None:
    tree, _ = hung_tree(tmp_path)
    run = start_bulk(tmp_path, tree, "-j", "2", "--report", "r.json")
    wait_for_lines(tmp_path / "r.json.partial", 1, run)  # a is done, b renders on
    workers = workers_of(run.pid)
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted: 1 of 2 charts done" in err
    assert [c["id"] for c in read_report(tmp_path / "r.json")["charts"]] == ["tree/a"]
    assert workers and not still_running(workers)


def test_workers_die_with_a_killed_parent(tmp_path) -> None:
    tree, _ = hung_tree(tmp_path)
    run = start_bulk(tmp_path, tree, "-j", "2", "--report", "r.json")
    wait_for_lines(tmp_path / "r.json.partial", 1, run)
    workers = workers_of(run.pid)
    os.kill(run.pid, signal.SIGKILL)  # the parent alone, as an OOM killer or kill -9 does
    run.communicate(timeout=60)
    assert workers and not still_running(workers)


def test_a_template_that_recurses_forever_is_one_error_line_even_alone(
    chart_copy, capsys
) -> None:
    chart = recursing_chart(chart_copy("legacy-server"))
    assert main(["check", str(chart)]) == 2
    out = capsys.readouterr().out
    assert f"{chart.name}: helm crashed while rendering (exit signal 6, SIGABRT)" in out


# --- --repos ----------------------------------------------------------------------------------


def test_repos_refuses_transports_that_run_commands_one_line_each(tmp_path, capsys) -> None:
    from test_cli_bulk import git_repo

    git_repo(tmp_path / "good", ["legacy-server"])
    remote = git_repo(tmp_path / "remote", ["clean"])
    repos = tmp_path / "repos.txt"
    repos.write_text(
        "ext::sh -c touch% pwned\nhttp://example.invalid/org/x.git\nfd::3\n"
        f"good\nfile://{remote}\n"
    )

    code, err = bulk(capsys, "--repos", repos, "-j", "1", "--workdir", tmp_path / "clones")

    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    refused = "transport is refused (use https, ssh, git or file)"
    assert errors == [
        f"error: ext::sh -c touch% pwned: the ext:: {refused}",
        f"error: http://example.invalid/org/x.git: the http:// {refused}",
        f"error: fd::3: the fd:: {refused}",
    ]
    assert not (tmp_path / "pwned").exists()
    assert "] good/legacy-server: fixable" in err and "2 charts processed (1 clean)" in err


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        (b"\xff\xfe/repo\n", [], "not UTF-8 text (byte 0)"),
        (b"# nothing yet\n\n", [], "lists no repository"),
        (b"file:///nowhere/repo.git\n", ["--shard", "x"], "--shard takes I/N"),
    ],
)
def test_a_bad_repo_list_or_shard_stops_before_cloning(
    tmp_path, capsys, content: bytes, argv: list[str], message: str
) -> None:
    repos = tmp_path / "repos.txt"
    repos.write_bytes(content)

    code, err = bulk(capsys, "--repos", repos, "--workdir", tmp_path / "clones", *argv)

    assert code == 2
    assert err.startswith("chartfix: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "clones").exists()


# --- nothing to work on ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "fix", "bulk"])
def test_a_folder_without_a_chart_is_a_usage_error(tmp_path, capsys, command) -> None:
    (tmp_path / "empty").mkdir()
    assert main([command, "empty"]) == 2
    assert capsys.readouterr().err == (
        "chartfix: no chart (Chart.yaml), cdk8s app (cdk8s.yaml), kustomization or plain "
        "manifests under empty\n"
    )


def test_repos_that_hold_no_chart_are_a_usage_error(tmp_path, capsys) -> None:
    repo = git_repo(tmp_path / "docs-only", ["clean"])
    git(repo, "rm", "-rq", "clean")
    git(repo, "commit", "-qm", "no charts here")
    (tmp_path / "repos.txt").write_text(f"{repo}\n")
    code, err = bulk(capsys, "--repos", "repos.txt", "--workdir", "work")
    assert code == 2
    assert err == (
        "chartfix: no chart (Chart.yaml), cdk8s app (cdk8s.yaml), kustomization or plain "
        f"manifests under {repo}\n"
    )


@pytest.mark.parametrize("command", ["check", "fix", "bulk"])
def test_a_packaged_chart_says_to_extract_it(tmp_path, capsys, command) -> None:
    """`helm package`'s .tgz is not a chart folder: it is named, not skipped as a file that
    no chart holds."""
    (tmp_path / "mysql-1.0.0.tgz").write_bytes(b"\x1f\x8b")
    assert main([command, "mysql-1.0.0.tgz"]) == 2
    assert capsys.readouterr().err == (
        "chartfix: mysql-1.0.0.tgz: a packaged chart (helm package); chartfix works on a "
        "chart's folder: extract it first (tar xzf mysql-1.0.0.tgz) and give the folder\n"
    )


@pytest.mark.parametrize("command", ["check", "fix"])
def test_help_says_a_file_in_a_chart_is_a_path_too(capsys, command) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "or a file in a chart" in " ".join(capsys.readouterr().out.split())
