"""End-to-end: `chartfix fix` as a user runs it, on fixture charts and real git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import git, snapshot

from chartfix.cli import main


def test_dry_run_prints_the_patch_and_changes_nothing(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    before = snapshot(chart)
    assert main(["fix", str(chart)]) == 0
    out, err = capsys.readouterr()
    assert "+      component: server" in out
    assert out.startswith("--- a/")
    assert "1 chart: 2 files changed, 3 lines added, 0 removed; 2 findings fixable, 0 left" in err
    assert snapshot(chart) == before


def test_write_applies_exactly_the_dry_run_patch(chart_copy, capsys, tmp_path) -> None:
    chart = chart_copy("scaffold-helpers")
    main(["fix", str(chart)])
    patch = capsys.readouterr().out
    mirror = tmp_path / "mirror"
    subprocess.run(["cp", "-r", str(chart), str(mirror)], check=True)
    (tmp_path / "fix.patch").write_text(patch)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "apply", "-p1", "--directory=mirror", "-"], input=_relative(patch, chart),
        text=True, cwd=tmp_path, check=True,
    )
    assert main(["fix", str(chart), "--write"]) == 0
    assert snapshot(chart) == snapshot(mirror)
    assert main(["fix", str(chart)]) == 0
    assert capsys.readouterr().out == "", "a second run has nothing to do"


def _relative(patch: str, chart: Path) -> str:
    """The patch names files by their path as shown; make them relative to the chart."""
    shown = next(line[6:] for line in patch.splitlines() if line.startswith("--- a/"))
    prefix = shown[: shown.index("templates/")]
    return patch.replace(f"a/{prefix}", "a/").replace(f"b/{prefix}", "b/")


def test_branch_and_push_leave_the_checkout_alone(chart_copy, tmp_path, capsys) -> None:
    chart = chart_copy("legacy-server")
    repo = chart.parent
    remote = tmp_path.parent / f"{tmp_path.name}-remote.git"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "charts")
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")

    code = main(["fix", str(chart), "--branch", "fix/selectors", "--push", "origin",
                 "--release", "shop", "--namespace", "prod"])
    assert code == 0, capsys.readouterr().err
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(repo, "status", "--porcelain") == status
    assert git(remote, "rev-parse", "fix/selectors") == git(repo, "rev-parse", "fix/selectors")
    assert git(repo, "rev-list", "--count", "main..fix/selectors") == "1"
    changed = git(repo, "diff", "--name-only", "main", "fix/selectors").splitlines()
    assert "legacy-server/templates/deployment.yaml" in changed
    assert "legacy-server/Chart.yaml" in changed
    note = git(repo, "show", "fix/selectors:legacy-server/MIGRATION.md")
    assert ('kubectl -n "$NAMESPACE" delete deployment "$RELEASE"-legacy-server --cascade=orphan'
            in note), "the note the chart carries names no rendered release"

    pushed = git(remote, "rev-parse", "fix/selectors")
    # another release named: the note the chart carries names none, the branch holds it
    assert main(["fix", str(chart), "--branch", "fix/selectors"]) == 0
    assert "unchanged: it holds this fix already" in capsys.readouterr().err
    assert git(repo, "rev-parse", "fix/selectors") == pushed
    # another bump: another version, so chartfix rebuilds its own branch (not pushed)
    assert main(["fix", str(chart), "--branch", "fix/selectors", "--bump", "minor"]) == 0
    assert "chartfix's own branch, rebuilt" in capsys.readouterr().err
    assert git(repo, "rev-parse", "fix/selectors") != pushed
    assert git(remote, "rev-parse", "fix/selectors") == pushed
    assert (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")) == (head, status)


def test_branch_outside_a_repository_is_refused(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    assert main(["fix", str(chart), "--branch", "x"]) == 2
    assert "not inside a git repository" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["--push", "origin"], ["--write", "--branch", "b"], ["--recipe", "nope"], ["--open-pr"]],
)
def test_misuse_exits_2(chart_copy, argv: list[str]) -> None:
    chart = chart_copy("legacy-server")
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(["fix", str(chart), *argv]))
    assert exit_info.value.code == 2


def test_recipes_lists_both(capsys) -> None:
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert "component-labels" in out and "stable-selectors" in out


@pytest.mark.parametrize("name", ["legacy-server", "shared-selector", "volatile-helper"])
def test_write_then_check_is_clean(chart_copy, capsys, name: str) -> None:
    chart = chart_copy(name)
    assert main(["check", str(chart)]) == 1
    assert main(["fix", str(chart), "--write", "-j", "1"]) == 0
    capsys.readouterr()
    assert main(["check", str(chart)]) == 0, capsys.readouterr().out


def test_cdk8s_app_is_checked_and_fixed_like_a_chart(chart_copy, capsys) -> None:
    pytest.importorskip("cdk8s")
    app = chart_copy("cdk8s-shared-dict")
    assert main(["check", str(app), "--run-apps"]) == 1
    assert "error[overlap]" in capsys.readouterr().out
    (app / ".chartfix.yaml").write_text("run-apps: true\n")
    assert main(["fix", str(app), "--write", "-j", "1", "--trusted"]) == 0
    assert '{**label, "component": "server"}' in (app / "main.py").read_text()
    assert main(["check", str(app)]) == 0


@pytest.mark.parametrize("mode", [[], ["--write"]])
@pytest.mark.parametrize("link_to", ["missing/x", "victim"])
def test_a_pr_body_path_that_is_a_symlink_is_refused_before_work(
    chart_copy, capsys, tmp_path, mode: list[str], link_to: str
) -> None:
    """A dangling link would fail after the templates were written; a live one would be
    written through (into whatever file it names)."""
    chart = chart_copy("legacy-server")
    (tmp_path / "victim").write_text("someone else's file\n")
    body = tmp_path / "pr.md"
    body.symlink_to(tmp_path / link_to)
    before = snapshot(tmp_path)
    assert main(["fix", str(chart), "--pr-body", str(body), *mode]) == 2
    assert f"--pr-body {body}: is a symlink" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
    assert body.is_symlink()


def test_the_pr_body_replaces_the_file_through_a_fresh_temp_file(
    chart_copy, capsys, tmp_path
) -> None:
    chart = chart_copy("legacy-server")
    body = tmp_path / "pr.md"
    body.write_text("old description\n")
    other = tmp_path / "hard-link-to-old.md"
    other.hardlink_to(body)
    assert main(["fix", str(chart), "--pr-body", str(body)]) == 0
    assert "legacy-server" in body.read_text()
    assert other.read_text() == "old description\n"  # a new file, not the old one rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hard-link-to-old.md", "legacy-server", "pr.md"
    ]


@pytest.mark.parametrize("name", ["scaffold-helpers", "hook-jobs-helper", "defaulted-selector"])
def test_the_warnings_fix_says_are_left_are_those_check_finds_after_it(
    name, chart_copy, capsys
) -> None:
    """A safe route that relabels a test Pod also ends the latent match of a Service that
    routed it nothing: fix must not call that warning left (scaffold-helpers,
    hook-jobs-helper); where the edit leaves warnings, it counts them (defaulted-selector)."""
    chart = chart_copy(name)
    main(["fix", str(chart), "--format", "json"])
    [target] = json.loads(capsys.readouterr().out)["targets"]
    assert main(["fix", str(chart), "--write"]) == 0
    capsys.readouterr()
    main(["check", str(chart), "--format", "json"])
    [checked] = json.loads(capsys.readouterr().out)["charts"]
    warnings = [f for f in checked["findings"] if f["severity"] == "warning"]
    assert [f for f in checked["findings"] if f["severity"] == "error"] == []
    assert target["warnings_left"] == len(warnings)
