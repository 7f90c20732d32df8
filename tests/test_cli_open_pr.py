"""`--open-pr` end to end: real git repositories, a local bare repository as the remote, and
each forge's stand-in (`forge_standins.py`: no forge runs here) as the API the pull request
goes to. What a user relies on: a nightly re-run changes nothing when nothing is new, follows
a moved base (branch and description updated), and one repository's failure is its own
error line while the others go on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from forge_standins import STANDINS, TOKEN, StandIn, serving
from test_cli_bulk import bulk, git, git_repo
from test_publish_vcs import Checkout, checkout, fix_cli, run

from chartfix.publish.forge import FORGES

__all__ = ["checkout"]  # the fixture, imported


@pytest.fixture(params=sorted(FORGES))
def forge(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    kind = request.param
    for forge_type in FORGES.values():
        for name in forge_type.tokens:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(FORGES[kind].tokens[0], TOKEN)
    with serving(STANDINS[kind]()) as standin:
        standin.kind = kind  # type: ignore[attr-defined]
        yield standin
    assert standin.malformed == []


def pr_args(standin: StandIn) -> list[str]:
    return ["--push", "origin", "--open-pr", "--forge", standin.kind,  # type: ignore[attr-defined]
            "--forge-api", standin.api, "--draft", "--label", "chartfix", "--reviewer", "alice"]


def body_of(pull: dict[str, object]) -> str:
    return str(pull.get("body", pull.get("description")))


def branch_row(err: str, branch: str) -> list[str]:
    table = err.split("\nbranches:\n", 1)[1]
    [row] = [line.split() for line in table.splitlines()[1:] if f" {branch} " in line]
    return row


def test_open_rerun_and_a_moved_base(
    checkout: Checkout, forge: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = fix_cli(capsys, checkout.chart, "--branch", "chartfix/{recipe}",
                        *pr_args(forge))
    assert code == 0, err
    [pull] = forge.pulls.values()
    tip = run(checkout.remote, "rev-parse", "refs/heads/chartfix/selectors")
    body = body_of(pull)
    assert body.startswith("## Summary\n")
    assert "| shop | 3 | 0 | **yes** | the steps in `charts/shop/README.md` |" in body
    assert "<details><summary><b>shop</b>" in body
    row = branch_row(err, "chartfix/selectors")
    assert row[2] == tip[:12] and row[4] == "(opened)" and row[3].startswith("https://")
    writes = len(forge.writes())

    code, err = fix_cli(capsys, checkout.chart, "--branch", "chartfix/{recipe}",
                        *pr_args(forge))
    assert code == 0, err
    assert branch_row(err, "chartfix/selectors")[4] == "(unchanged)"
    assert "pushed branch" not in err
    assert run(checkout.remote, "rev-parse", "refs/heads/chartfix/selectors") == tip
    assert len(forge.writes()) == writes, "nothing written to the forge"

    (checkout.top / "NOTES.md").write_text("main moved on\n")
    run(checkout.top, "commit", "-q", "-am", "main moves")
    run(checkout.top, "push", "-q", "origin", "main")
    code, err = fix_cli(capsys, checkout.chart, "--branch", "chartfix/{recipe}",
                        *pr_args(forge))
    assert code == 0, err
    new = run(checkout.remote, "rev-parse", "refs/heads/chartfix/selectors")
    assert new != tip and run(checkout.top, "rev-parse", f"{new}^") == run(
        checkout.top, "rev-parse", "main")
    [pull] = forge.pulls.values()  # the same pull request
    assert body_of(pull) != body and run(checkout.top, "rev-parse", "--short", "main") in \
        body_of(pull)
    assert branch_row(err, "chartfix/selectors")[4] == "(updated)"


def test_a_refused_token_is_the_branchs_error_line(
    checkout: Checkout, forge: StandIn, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kind = forge.kind  # type: ignore[attr-defined]
    monkeypatch.setenv(FORGES[kind].tokens[0], "not-the-token-42")
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", *pr_args(forge))
    assert code == 2
    assert "not-the-token-42" not in err and TOKEN not in err
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert "pull request: " in line and "the token was refused (401: " in line, line
    assert run(checkout.remote, "rev-parse", "refs/heads/fix"), "the branch is pushed"
    assert err.splitlines()[-1].endswith("; 1 pushed, pull request failed")
    assert forge.pulls == {}


def test_a_missing_token_names_the_variables(
    checkout: Checkout, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for forge_type in FORGES.values():
        for name in forge_type.tokens:
            monkeypatch.delenv(name, raising=False)
    code, err = fix_cli(capsys, checkout.chart, "--branch", "fix", "--push", "origin",
                        "--open-pr", "--forge", "gitlab", "--forge-api", "http://127.0.0.1:9")
    assert code == 2
    assert "pull request: no token for GitLab: set GITLAB_TOKEN" in err


def test_bulk_over_two_repositories_one_failing_the_other_going_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    shop = git_repo(tmp_path / "shop", ["legacy-server", "scaffold-helpers"],
                    tmp_path / "shop.git")
    web = git_repo(tmp_path / "web", ["volatile-one", "shared-component"],
                   tmp_path / "web.git")
    with serving(STANDINS["github"]()) as standin:
        argv = ["-j", "1", "--branch", "chartfix/selectors", "--push", "origin", "--open-pr",
                "--forge", "github", "--forge-api", standin.api, "--html",
                tmp_path / "report.html"]  # no --report: it would resume, skipping done charts
        code, err = bulk(capsys, shop, web, *argv, "--report", tmp_path / "first.json")
        assert code == 0, err
        report = json.loads((tmp_path / "first.json").read_text())
        assert {e["pull_request"] for e in report["charts"]} == {
            p["html_url"] for p in standin.pulls.values()}
        rows = {r[0]: r for r in (line.split() for line in
                err.split("\nbranches:\n")[1].splitlines()[1:3])}
        assert set(rows) == {"shop", "web"}
        assert all(r[4] == "(opened)" for r in rows.values()), err
        assert len(standin.pulls) == 2
        html = (tmp_path / "report.html").read_text()
        assert '<section id="branches">' in html and rows["shop"][3] in html

        code, err = bulk(capsys, shop, web, *argv)
        assert code == 0, err
        assert "(unchanged)" in err and "(opened)" not in err and "(updated)" not in err
        writes = len(standin.writes())

        git(web, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
        (shop / "README.md").write_text("shop moves on\n")
        git(shop, "add", "README.md")
        git(shop, "commit", "-qm", "main moves")
        code, err = bulk(capsys, shop, web, *argv)
        assert code == 2
        table = err.split("\nbranches:\n")[1]
        assert any(line.split()[0] == "web" and "reading" in line for line in
                   table.splitlines()[1:3]), "the other repository's error line"
        assert any(line.split()[0] == "shop" and line.endswith("(updated)") for line in
                   table.splitlines()[1:3]), "and this one went on"
        assert len(standin.writes()) == writes + 1, "one update"
        assert standin.malformed == []
