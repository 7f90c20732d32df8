"""Branch commits, pushes and refusals on real git repositories (a local bare repo as remote).

Every test that commits also checks the promise that matters most: the user's checkout (HEAD,
index file, working tree, `git status`) is byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git
import pytest
import yaml
from test_publish_migration import CHART, shop_change

from chartfix.errors import UsageError
from chartfix.model.changes import TargetChange
from chartfix.publish.vcs import (
    commit_charts,
    commit_to_branch,
    describe_head,
    open_pr,
    push,
    repo_for,
)


def run(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@dataclass
class Checkout:
    """A user's clone: the shop chart under charts/shop, plus a file outside the chart."""

    top: Path
    remote: Path

    @property
    def chart(self) -> Path:
        return self.top / "charts" / "shop"

    @property
    def repo(self) -> git.Repo:
        return repo_for(self.chart)

    def state(self) -> tuple[str, str, str, str]:
        """HEAD, index file hash, work tree hash, `git status`: all must survive a commit."""
        index = hashlib.sha256((self.top / ".git" / "index").read_bytes()).hexdigest()
        tree = hashlib.sha256()
        for path in sorted(self.top.rglob("*")):
            if ".git" not in path.relative_to(self.top).parts and path.is_file():
                tree.update(str(path).encode() + b"\0" + path.read_bytes())
        head = run(self.top, "rev-parse", "HEAD")
        status = run(self.top, "--no-optional-locks", "status", "--porcelain")
        return head, index, tree.hexdigest(), status


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Checkout]:
    remote = tmp_path / "remote.git"
    run(tmp_path, "init", "--bare", "-q", "-b", "main", str(remote))
    top = tmp_path / "work"
    run(tmp_path, "clone", "-q", str(remote), str(top))
    for key, value in (("user.name", "Chart Dev"), ("user.email", "dev@example.org")):
        run(top, "config", key, value)
    shutil.copytree(CHART, top / "charts" / "shop")
    (top / "charts" / "shop" / "templates" / "web.yaml").chmod(0o755)
    (top / "NOTES.md").write_text("outside the chart\n")
    run(top, "add", "-A")
    run(top, "commit", "-q", "-m", "initial")
    run(top, "push", "-q", "origin", "main")
    yield Checkout(top, remote)


def fixed(checkout: Checkout) -> TargetChange:
    return shop_change("shop", "prod", checkout.chart)


def test_branch_holds_one_commit_with_fix_bump_and_note(checkout: Checkout) -> None:
    before = checkout.state()
    change = fixed(checkout)
    tip = commit_charts(
        checkout.repo, "chartfix/selectors", [change], release="shop", namespace="prod"
    ).tip
    assert checkout.state() == before
    assert run(checkout.top, "rev-parse", "chartfix/selectors") == tip
    assert run(checkout.top, "rev-list", "--count", f"{before[0]}..{tip}") == "1"
    assert run(checkout.top, "rev-parse", f"{tip}^") == before[0]
    names = run(checkout.top, "diff", "--name-only", before[0], tip).splitlines()
    assert sorted(names) == sorted(
        [f"charts/shop/{f.path}" for f in change.files]
        + ["charts/shop/Chart.yaml", "charts/shop/README.md"]
    )
    for f in change.files:
        blob = run(checkout.top, "show", f"{tip}:charts/shop/{f.path}") + "\n"
        assert blob.encode() == f.after
    chart_yaml = yaml.safe_load(run(checkout.top, "show", f"{tip}:charts/shop/Chart.yaml"))
    assert chart_yaml["version"] == "2.0.0"
    readme = run(checkout.top, "show", f"{tip}:charts/shop/README.md")
    assert "### To 2.0.0" in readme
    assert "kubectl -n prod delete deployment shop-web --cascade=orphan" in readme
    message = run(checkout.top, "log", "-1", "--format=%B", tip)
    assert message.startswith(
        "shop: fix 1 label-selector finding (overlap); upgrade needs migration\n\n"
        "Fixes 1 label-selector finding (overlap) in shop.\n"
    )
    assert "Upgrade steps: charts/shop/README.md.\n" in message
    assert len(message.splitlines()) <= 8, "the note is in the README, not in the message"
    modes = run(checkout.top, "ls-tree", "-r", tip, "charts/shop/templates")
    assert "100755 blob" in next(line for line in modes.splitlines() if "web.yaml" in line)
    assert "100644 blob" in next(line for line in modes.splitlines() if "db.yaml" in line)


def test_note_target_migration_and_bump_override(checkout: Checkout) -> None:
    tip = commit_charts(
        checkout.repo, "fix", [fixed(checkout)], release="shop", namespace="prod",
        bump="patch", note_target="migration",
    ).tip
    names = run(checkout.top, "diff", "--name-only", "HEAD", tip).splitlines()
    assert "charts/shop/MIGRATION.md" in names and "charts/shop/README.md" not in names
    chart_yaml = yaml.safe_load(run(checkout.top, "show", f"{tip}:charts/shop/Chart.yaml"))
    assert chart_yaml["version"] == "1.3.1"


def test_several_commits_chain_and_push_lands_in_the_remote(checkout: Checkout) -> None:
    before = checkout.state()
    tip = commit_to_branch(
        checkout.repo, "two",
        [("first", {"charts/shop/new.txt": b"one\n"}),
         ("second", {"charts/shop/new.txt": b"two\n", "NOTES.md": b"changed\n"})],
    ).tip
    assert run(checkout.top, "log", "--format=%s", f"main..{tip}").splitlines() == [
        "second", "first"
    ]
    assert run(checkout.top, "show", f"{tip}~1:charts/shop/new.txt") == "one"
    push(checkout.repo, "two", "origin")
    assert run(checkout.remote, "rev-parse", "refs/heads/two") == tip
    assert checkout.state() == before


def test_refuses_an_existing_branch(checkout: Checkout) -> None:
    run(checkout.top, "branch", "taken")
    with pytest.raises(UsageError, match="branch taken already exists"):
        commit_charts(checkout.repo, "taken", [fixed(checkout)], release="shop",
                      namespace="prod")
    with pytest.raises(UsageError, match="not a valid branch name"):
        commit_to_branch(checkout.repo, "bad..name", [("m", {"x": b""})])


@pytest.mark.parametrize("dirt", ["modified", "staged", "untracked"])
def test_refuses_uncommitted_changes_in_the_chart(checkout: Checkout, dirt: str) -> None:
    change = fixed(checkout)
    target = checkout.chart / ("extra.yaml" if dirt == "untracked" else "values.yaml")
    target.write_text("image: other\n")
    if dirt == "staged":
        run(checkout.top, "add", str(target))
    before = checkout.state()
    with pytest.raises(UsageError, match=r"uncommitted changes under charts/shop: .*\.yaml"):
        commit_charts(checkout.repo, "fix", [change], release="shop", namespace="prod")
    assert checkout.state() == before
    assert "fix" not in [h.name for h in checkout.repo.heads]


def test_changes_outside_the_chart_do_not_block(checkout: Checkout) -> None:
    (checkout.top / "NOTES.md").write_text("work in progress\n")
    before = checkout.state()
    commit_charts(checkout.repo, "fix", [fixed(checkout)], release="shop", namespace="prod")
    assert checkout.state() == before


def test_detached_head_branches_from_it(checkout: Checkout) -> None:
    head = run(checkout.top, "rev-parse", "HEAD")
    run(checkout.top, "checkout", "-q", "--detach")
    assert describe_head(checkout.repo) == f"detached HEAD at {head[:7]}"
    before = checkout.state()
    tip = commit_charts(checkout.repo, "fix", [fixed(checkout)], release="shop",
                        namespace="prod").tip
    assert run(checkout.top, "rev-parse", f"{tip}^") == head
    assert checkout.state() == before
    assert run(checkout.top, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"


def test_describe_head_on_a_branch(checkout: Checkout) -> None:
    head = run(checkout.top, "rev-parse", "--short=7", "HEAD")
    assert describe_head(checkout.repo) == f"main ({head})"


def test_path_outside_any_repository(tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    with pytest.raises(UsageError, match="lone is not inside a git repository"):
        repo_for(lone)


def someone_pushes_fix(checkout: Checkout, tmp_path: Path, force: bool = False) -> Path:
    """Another clone pushes a branch `fix` of its own to the remote: ours will be rejected."""
    other = tmp_path / "other"
    run(tmp_path, "clone", "-q", str(checkout.remote), str(other))
    run(other, "checkout", "-q", "-b", "fix")
    (other / "theirs.txt").write_text("theirs\n")
    run(other, "add", "theirs.txt")
    run(other, "-c", "user.name=O", "-c", "user.email=o@example.org", "commit", "-q", "-m", "x")
    run(other, "push", "-q", *(["--force"] if force else []), "origin", "fix")
    return other


def test_non_fast_forward_push_is_refused_without_force(checkout: Checkout, tmp_path: Path) -> None:
    other = someone_pushes_fix(checkout, tmp_path)
    theirs = run(other, "rev-parse", "HEAD")
    run(checkout.top, "fetch", "-q", "origin")
    commit_charts(checkout.repo, "fix", [fixed(checkout)], release="shop", namespace="prod")
    rejected = r"push of fix to origin failed: .*rejected.*non-fast-forward"
    run(checkout.top, "config", "advice.pushUpdateRejected", "false")  # git's message ends it
    with pytest.raises(UsageError, match=rejected) as refused:
        push(checkout.repo, "fix", "origin")
    assert str(refused.value).endswith(f"failed to push some refs to '{checkout.remote}'"), (
        "git's message whole, its closing quote too"
    )
    assert run(checkout.remote, "rev-parse", "refs/heads/fix") == theirs


def test_push_to_an_unknown_remote_says_why(checkout: Checkout) -> None:
    commit_to_branch(checkout.repo, "b", [("m", {"charts/shop/a.txt": b"a\n"})])
    with pytest.raises(UsageError, match=r"push of b to nowhere failed: .*nowhere"):
        push(checkout.repo, "b", "nowhere")


def test_open_pr_without_gh_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    message = open_pr(tmp_path / "body.md", "fix", "shop: fix selectors")
    assert message == (
        "gh is not available; to open the pull request run: gh pr create --head fix "
        f"--title 'shop: fix selectors' --body-file {tmp_path / 'body.md'}"
    )
    assert os.environ["PATH"] == str(tmp_path)


def test_chart_at_the_top_of_its_repository(tmp_path: Path) -> None:
    top = tmp_path / "shop"
    shutil.copytree(CHART, top)
    run(tmp_path, "init", "-q", "-b", "main", str(top))
    run(top, "add", "-A")
    run(top, "-c", "user.name=D", "-c", "user.email=d@example.org", "commit", "-q", "-m", "i")
    run(top, "config", "user.name", "D")
    run(top, "config", "user.email", "d@example.org")
    change = shop_change("shop", "prod", top)
    tip = commit_charts(repo_for(top), "fix", [change], release="shop", namespace="prod").tip
    names = run(top, "diff", "--name-only", "main", tip).splitlines()
    assert "Chart.yaml" in names and "templates/web.yaml" in names
    assert run(top, "--no-optional-locks", "status", "--porcelain") == ""


# --- refusals and the way on, through the command line ----------------------------------------


def fix_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    from chartfix.cli import main

    code = main(["fix", *map(str, argv)])
    return code, capsys.readouterr().err


def test_an_ignored_chart_is_refused_and_nothing_is_counted_as_fixed(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    ignored = checkout.top / "charts" / "local"
    shutil.copytree(CHART, ignored)
    (checkout.top / ".gitignore").write_text("charts/local/\n")
    run(checkout.top, "add", ".gitignore")
    run(checkout.top, "commit", "-q", "-m", "ignore local charts")
    before = checkout.state()
    code, err = fix_cli(capsys, ignored, "--branch", "fix")
    assert code == 2
    assert "charts/local/Chart.yaml" in err and "not tracked by git" in err
    assert "fix" not in [h.name for h in checkout.repo.heads]
    assert checkout.state() == before
    assert err.splitlines()[-1].endswith("0 findings fixed, 0 left; 1 could not be processed")


def test_each_chart_prints_its_own_commit(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    second = checkout.top / "charts" / "shop2"
    shutil.copytree(CHART, second)
    meta = second / "Chart.yaml"
    meta.write_text(meta.read_text().replace("name: shop", "name: shop2"))
    run(checkout.top, "add", "-A")
    run(checkout.top, "commit", "-q", "-m", "second shop")
    code, err = fix_cli(capsys, checkout.top / "charts", "--branch", "fix", "-j", "1")
    assert code == 0, err
    commits = run(checkout.top, "rev-list", "--reverse", "main..fix").splitlines()
    assert len(commits) == 2
    for commit in commits:
        [chart] = {
            path.split("/")[1]
            for path in run(checkout.top, "diff-tree", "--no-commit-id", "--name-only", "-r",
                            commit).splitlines()
        }
        block = err.split(f"charts/{chart}:", 1)[1].split("\ncharts/", 1)[0]
        assert f"committed {commit[:12]}" in block, (chart, err)


def ssh_signing(checkout: Checkout, tmp_path: Path) -> Path:
    key = tmp_path / "signing-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    run(checkout.top, "config", "gpg.format", "ssh")
    run(checkout.top, "config", "user.signingkey", str(key))
    run(checkout.top, "config", "commit.gpgsign", "true")
    return key


def test_commits_are_signed_when_commit_gpgsign_is_set(
    checkout: Checkout, tmp_path: Path
) -> None:
    key = ssh_signing(checkout, tmp_path)
    allowed = tmp_path / "allowed_signers"
    public = (tmp_path / "signing-key.pub").read_text().split()
    allowed.write_text(f"dev@example.org {public[0]} {public[1]}\n")
    run(checkout.top, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    before = checkout.state()
    tip = commit_charts(checkout.repo, "fix", [fixed(checkout)], release="shop",
                        namespace="prod").tip
    assert "gpgsig" in run(checkout.top, "cat-file", "commit", tip)
    run(checkout.top, "verify-commit", tip)  # raises when the signature is not good
    assert checkout.state() == before
    assert key.exists()


def test_a_signature_that_cannot_be_made_refuses_the_commit(
    checkout: Checkout, tmp_path: Path
) -> None:
    key = ssh_signing(checkout, tmp_path)
    key.unlink()
    with pytest.raises(UsageError, match=r"commit\.gpgsign is set but signing the commit failed"):
        commit_charts(checkout.repo, "fix", [fixed(checkout)], release="shop", namespace="prod")
    assert "fix" not in [h.name for h in checkout.repo.heads]


def refusing_pushes(checkout: Checkout) -> Path:
    """The remote's pre-receive hook refuses every push (as a protected branch would)."""
    hook = checkout.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    return hook


def test_a_rejected_push_keeps_the_branch_and_a_rerun_pushes_it(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = refusing_pushes(checkout)
    before = checkout.state()

    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")
    assert code == 2
    local = run(checkout.top, "rev-parse", "refs/heads/fix")
    assert "push of fix to origin failed" in err and "pushes are closed today" in err
    assert f"the local branch fix stays (tip {local[:12]})" in err
    assert "`git push origin fix`" in err
    # the fix is committed on the local branch: the summary counts it, and says it stayed
    assert f"  committed {local[:12]} on the local branch fix, not pushed" in err
    assert err.splitlines()[-1] == (
        "1 chart: 3 files changed, 73 lines added, 1 removed; 3 findings fixed, 0 left; "
        "1 committed but not pushed"
    )

    hook.unlink()  # the cause is gone
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")
    assert code == 0, err
    assert f"nothing committed: fix already holds this fix (commit {local[:12]}" in err
    assert run(checkout.remote, "rev-parse", "refs/heads/fix") == local
    assert run(checkout.top, "rev-parse", "refs/heads/fix") == local
    assert checkout.state() == before


# --- re-runs own their branch ------------------------------------------------------------------


def reflog(checkout: Checkout, where: Path, ref: str) -> list[str]:
    return run(where, "reflog", "show", "--format=%H", ref).splitlines()


def test_a_rerun_with_nothing_new_leaves_its_branch_and_the_remote_alone(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")
    assert code == 0, err
    tip = run(checkout.remote, "rev-parse", "refs/heads/fix")
    assert run(checkout.top, "log", "-1", "--format=%cn <%ce>", tip) == (
        "chartfix <chartfix@noreply.invalid>"
    )
    assert run(checkout.top, "log", "-1", "--format=%an", tip) == "Chart Dev"
    pushed_line = f"pushed branch fix to origin (commit {tip[:12]})"
    assert pushed_line in err
    before = checkout.state(), reflog(checkout, checkout.top, "refs/heads/fix")

    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")
    assert code == 0, err
    assert f"nothing committed: fix already holds this fix (commit {tip[:12]}" in err
    assert "committed " + tip[:12] not in err, "this run made no commit"
    assert err.splitlines()[-1] == (
        "1 chart: 0 files changed, 0 lines added, 0 removed; 0 findings fixed, 0 left; "
        "3 findings already fixed on fix"
    )
    assert "pushed branch" not in err, "nothing to push"
    assert run(checkout.remote, "rev-parse", "refs/heads/fix") == tip
    assert (checkout.state(), reflog(checkout, checkout.top, "refs/heads/fix")) == before


def test_a_rerun_after_the_base_moved_rebuilds_its_branch_and_pushes_with_a_lease(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")[0] == 0
    old = run(checkout.remote, "rev-parse", "refs/heads/fix")
    run(checkout.top, "branch", "-D", "fix")  # a fresh clone's run: only the remote has it
    (checkout.top / "NOTES.md").write_text("main moved on\n")
    run(checkout.top, "commit", "-q", "-am", "main moves")
    run(checkout.top, "push", "-q", "origin", "main")
    main = run(checkout.top, "rev-parse", "HEAD")

    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")
    assert code == 0, err
    new = run(checkout.remote, "rev-parse", "refs/heads/fix")
    assert new != old
    assert run(checkout.top, "rev-parse", f"{new}^") == main, "rebuilt on the new base"
    assert f"committed {new[:12]} (chartfix's own branch, rebuilt" in err
    assert run(checkout.top, "diff", old, new, "--", "charts") == "", "the same fix"


def test_a_changed_fix_updates_the_branch(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")[0] == 0
    old = run(checkout.remote, "rev-parse", "refs/heads/fix")
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin",
                        "--bump", "minor")
    assert code == 0, err
    new = run(checkout.remote, "rev-parse", "refs/heads/fix")
    assert new != old and run(checkout.top, "rev-parse", f"{new}^") == run(
        checkout.top, "rev-parse", "main")
    versions = [
        yaml.safe_load(run(checkout.top, "show", f"{sha}:charts/shop/Chart.yaml"))["version"]
        for sha in (old, new)
    ]
    assert versions[0] != versions[1], "the new fix (a minor bump) replaced the old"
    assert f"committed {new[:12]} (chartfix's own branch, rebuilt" in err


def test_a_branch_checked_out_in_another_worktree_is_never_moved(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert fix_cli(capsys, checkout.chart, "--branch", "fix")[0] == 0
    review = tmp_path / "review"
    run(checkout.top, "worktree", "add", "-q", str(review), "fix")
    (checkout.top / "charts" / "shop" / "values.yaml").open("a").write("# more\n")
    run(checkout.top, "commit", "-q", "-am", "more")
    tip = run(checkout.top, "rev-parse", "fix")
    before = checkout.state(), run(review, "status", "--porcelain")

    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix")
    assert code == 2, err
    assert f"branch fix is checked out in the worktree {review}" in err
    assert run(checkout.top, "rev-parse", "fix") == tip
    assert (checkout.state(), run(review, "status", "--porcelain")) == before


def test_a_branch_with_someone_elses_commit_is_never_touched(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")[0] == 0
    other = tmp_path / "other"
    run(tmp_path, "clone", "-q", "-b", "fix", str(checkout.remote), str(other))
    (other / "theirs.txt").write_text("a reviewer's change\n")
    run(other, "add", "theirs.txt")
    run(other, "-c", "user.name=Reviewer", "-c", "user.email=r@example.org", "commit", "-q",
        "-m", "review")
    run(other, "push", "-q", "origin", "fix")
    theirs = run(other, "rev-parse", "HEAD")
    local = run(checkout.top, "rev-parse", "refs/heads/fix")

    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin",
                        "--bump", "minor")
    assert code == 2
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.endswith(
        f"branch fix on origin already exists and has a commit chartfix did not make "
        f"({theirs[:12]}, by Reviewer): chartfix leaves it alone; choose another name or "
        "delete it"
    ), line
    assert run(checkout.remote, "rev-parse", "refs/heads/fix") == theirs
    assert run(checkout.top, "rev-parse", "refs/heads/fix") == local


def test_a_commit_amended_under_chartfixs_name_is_not_chartfixs(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committer alone proves nothing: the tree must be the one the trailer names."""
    assert fix_cli(capsys, checkout.chart, "--branch", "fix")[0] == 0
    run(checkout.top, "checkout", "-q", "fix")
    (checkout.chart / "values.yaml").write_text("# mine now\n")
    env = {**os.environ, "GIT_COMMITTER_NAME": "chartfix",
           "GIT_COMMITTER_EMAIL": "chartfix@noreply.invalid"}
    subprocess.run(["git", "commit", "-q", "-a", "--amend", "--no-edit"], cwd=checkout.top,
                   env=env, check=True)
    amended = run(checkout.top, "rev-parse", "HEAD")
    run(checkout.top, "checkout", "-q", "main")
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--bump", "minor")
    assert code == 2
    assert f"has a commit changed after chartfix made it ({amended[:12]})" in err
    assert run(checkout.top, "rev-parse", "refs/heads/fix") == amended


def test_the_lease_refuses_a_remote_that_moved_after_it_was_read(
    checkout: Checkout, tmp_path: Path
) -> None:
    """Between chartfix's read and its push, someone pushes: the forced push is refused."""
    made = commit_charts(checkout.repo, "fix", [fixed(checkout)], release="shop",
                         namespace="prod", remote="origin")
    push(checkout.repo, "fix", "origin")
    someone = someone_pushes_fix(checkout, tmp_path, force=True)
    theirs = run(someone, "rev-parse", "HEAD")
    with pytest.raises(UsageError, match=r"push of fix to origin failed: .*stale info"):
        push(checkout.repo, "fix", "origin", lease=made.tip)
    assert run(checkout.remote, "rev-parse", "refs/heads/fix") == theirs


def test_an_existing_branch_that_differs_is_still_refused_with_push(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    run(checkout.top, "branch", "fix")
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin")
    assert code == 2
    assert (
        "branch fix already exists and has no commit of its own (chartfix did not make it): "
        "chartfix leaves it alone; choose another name or delete it"
    ) in err
    assert "0 findings fixed" in err.splitlines()[-1]
    assert run(checkout.top, "rev-parse", "fix") == run(checkout.top, "rev-parse", "main")


@pytest.mark.parametrize("how", ["info/exclude", ".gitignore"])
def test_a_git_ignored_template_in_the_chart_is_refused(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    """The render reads every template on disk; a commit would carry none of the ignored
    ones: the fix would be computed from a chart that is not the one committed."""
    if how == "info/exclude":
        (checkout.top / ".git" / "info" / "exclude").write_text("*.local.yaml\n")
    else:
        (checkout.top / ".gitignore").write_text("*.local.yaml\n")
        run(checkout.top, "add", ".gitignore")
        run(checkout.top, "commit", "-q", "-m", "ignore local files")
    extra = checkout.chart / "templates" / "extra.local.yaml"
    extra.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n")
    before = checkout.state()
    code, err = fix_cli(capsys, checkout.chart, "--release", "shop", "--branch", "t5")
    assert code == 2
    assert "charts/shop/templates/extra.local.yaml under charts/shop ignored by git" in err
    assert "t5" not in [h.name for h in checkout.repo.heads]
    assert checkout.state() == before


def test_an_ignored_dependency_archive_does_not_stop_a_commit(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    """`helm dependency build` downloads charts/NAME-VERSION.tgz, which many repositories
    ignore: a fix never edits it and Chart.yaml, which pins it, is committed."""
    import io
    import tarfile

    (checkout.top / ".gitignore").write_text("charts/**/charts/*.tgz\n")
    run(checkout.top, "add", ".gitignore")
    run(checkout.top, "commit", "-q", "-m", "ignore dependency archives")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in {
            "dep/Chart.yaml": "apiVersion: v2\nname: dep\nversion: 1.0.0\n",
            "dep/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dep\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (checkout.chart / "charts").mkdir(exist_ok=True)
    (checkout.chart / "charts" / "dep-1.0.0.tgz").write_bytes(archive.getvalue())
    code, err = fix_cli(capsys, checkout.chart, "--release", "shop", "--branch", "t6")
    assert code == 0, err
    assert "t6" in [h.name for h in checkout.repo.heads]
    committed = checkout.repo.git.ls_tree("-r", "--name-only", "t6").splitlines()
    assert not any(name.endswith(".tgz") for name in committed), "the archive stays out"


@pytest.mark.parametrize(
    "name", ["refs/heads/main", "@", "HEAD", "FETCH_HEAD", "ORIG_HEAD", "@{-1}", "-x", "a..b"]
)
def test_branch_names_git_reads_otherwise_are_a_usage_error_before_work(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = checkout.state()
    heads = sorted(h.name for h in checkout.repo.heads)
    code, err = fix_cli(capsys, checkout.chart, "--release", "shop", f"--branch={name}")
    assert code == 2
    assert f"--branch {name!r}" in err
    assert "chart:" not in err  # refused before any chart was analysed
    assert sorted(h.name for h in checkout.repo.heads) == heads
    assert checkout.state() == before


# --- credentials in repository URLs are never printed ----------------------------------------

SECRET_URL = "https://user:s3cr3t@127.0.0.1:1/x.git"


def test_a_password_in_a_repos_url_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chartfix.cli import main

    repos = tmp_path / "repos.txt"
    repos.write_text(f"{SECRET_URL}\nhttps://ghp_T0KEN@127.0.0.1:1/y.git\n"
                     "https://user:p@ss@127.0.0.1:1/z.git\n")  # a raw @ in the password
    code = main(["bulk", "--repos", str(repos), "--workdir", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: https://user:***@127.0.0.1:1/x.git: cannot clone" in err
    assert "error: https://***@127.0.0.1:1/y.git: cannot clone" in err
    assert "error: https://user:***@127.0.0.1:1/z.git: cannot clone" in err
    assert "s3cr3t" not in err and "T0KEN" not in err and "ss@" not in err


def test_a_password_in_a_push_url_is_not_printed(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = fix_cli(capsys, checkout.chart, "--release", "shop", "--branch", "fix",
                        "--push", SECRET_URL)
    assert code == 2
    assert "reading https://user:***@127.0.0.1:1/x.git failed" in err  # read before commit
    assert "s3cr3t" not in err


def test_a_committed_pending_write_is_left_alone_by_branch_and_dry_runs(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A --write that died between two replaces, its journal and temp files committed: a
    --branch run (or a dry run) changes no file of the user's checkout and says how to
    finish the write; only --write completes it."""
    from chartfix.publish.apply import write_change
    from chartfix.publish.write import JOURNAL

    change = fixed(checkout)
    real, calls = os.replace, []

    def dies_on_the_second_file(*args: object) -> None:
        calls.append(args)
        if len(calls) == 3:  # journal `staging`, journal `replacing`, first file: then die
            raise KeyboardInterrupt
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", dies_on_the_second_file)
    with pytest.raises(KeyboardInterrupt):
        write_change(change)
    monkeypatch.undo()
    run(checkout.top, "add", "-A")
    run(checkout.top, "commit", "-q", "-m", "a half-done write")
    before = checkout.state()
    for mode in (["--branch", "fix"], []):
        code, err = fix_cli(capsys, checkout.chart, "--release", "shop", *mode)
        assert code == 2
        assert f"{JOURNAL}: an interrupted --write is pending (replacing)" in err
        assert f"`chartfix fix {checkout.chart} --write` completes it" in err
        assert checkout.state() == before
    assert "fix" not in [h.name for h in checkout.repo.heads]


# --- --branch templates --------------------------------------------------------------------------


def second_shop(checkout: Checkout) -> None:
    second = checkout.top / "charts" / "shop2"
    shutil.copytree(CHART, second)
    meta = second / "Chart.yaml"
    meta.write_text(meta.read_text().replace("name: shop", "name: shop2"))
    run(checkout.top, "add", "-A")
    run(checkout.top, "commit", "-q", "-m", "second shop")


def test_a_chart_field_in_the_branch_name_makes_one_branch_per_chart(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    second_shop(checkout)
    code, err = fix_cli(capsys, checkout.top / "charts", "--branch", "chartfix/{chart}", "-j",
                        "1", "--recipe", "component-labels")
    assert code == 0, err
    for chart in ("shop", "shop2"):
        [commit] = run(checkout.top, "rev-list", f"main..chartfix/{chart}").splitlines()
        changed = run(checkout.top, "diff-tree", "--no-commit-id", "--name-only", "-r", commit)
        assert {p.split("/")[1] for p in changed.splitlines()} == {chart}


def test_a_recipe_field_in_the_branch_name_is_the_recipe(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = fix_cli(capsys, checkout.chart, "--branch", "chartfix/{recipe}", "--recipe",
                        "component-labels")
    assert code == 0, err
    assert "chartfix/component-labels" in [h.name for h in checkout.repo.heads]


@pytest.mark.parametrize("name", ["chartfix/{charts}", "chartfix/{0}", "chartfix/{chart"])
def test_an_unknown_field_in_the_branch_name_is_a_usage_error(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, err = fix_cli(capsys, checkout.chart, "--branch", name)
    assert code == 2
    assert f"--branch {name!r}: {{recipe}} and {{chart}} are the fields" in err
    assert "chart:" not in err
