"""A chart run as several releases (`--release` repeated, `--releases FILE`), some deployed by
Argo CD, Flux or helmfile: one block of steps per release in the note, every kubectl line
checked by kubectl itself, the patch the same whichever names are given."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_cli_bulk import git, git_repo
from test_publish_migration import commands, kubectl, kubectl_lines

from chartfix.cli import main

__all__ = ["kubectl"]  # the fixture, imported

RELEASES = """\
# release  namespace  deployed by
shop-eu    shop
shop-us    shop-us    argocd:shop-us
shop-dev   dev        flux:shop-dev@flux-system
"""


def note_of(tmp_path: Path, capsys: pytest.CaptureFixture[str], releases: str) -> str:
    repo = git_repo(tmp_path / "repo", ["legacy-server"])
    listed = tmp_path / "releases.txt"
    listed.write_text(releases)
    code = main(["fix", str(repo / "legacy-server"), "--branch", "fix", "--releases",
                 str(listed), "--note-target", "migration"])
    assert code == 0, capsys.readouterr().err
    return git(repo, "show", "fix:legacy-server/MIGRATION.md")


def test_three_releases_one_under_argo_cd_get_a_block_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kubectl: Callable[[str], str]
) -> None:
    note = note_of(tmp_path, capsys, RELEASES)
    blocks = re.split(r"^#+ (?=Release `)", note, flags=re.M)[1:]
    assert [b.splitlines()[0] for b in blocks] == [
        "Release `shop-eu` in namespace `shop`",
        "Release `shop-us` in namespace `shop-us`, deployed by the Argo CD Application "
        "`shop-us`",
        "Release `shop-dev` in namespace `dev`, deployed by the Flux HelmRelease `shop-dev`",
    ]
    eu, us, dev = blocks
    assert "kubectl -n shop delete deployment shop-eu-legacy-server --cascade=orphan" in eu
    assert "helm upgrade shop-eu" in eu
    assert "kubectl -n shop-us delete deployment shop-us-legacy-server --cascade=orphan" in us
    suspend = ("kubectl -n argocd patch application shop-us --type merge -p "
               """'{"spec":{"syncPolicy":{"automated":null}}}'""")
    resume = ("kubectl -n argocd patch application shop-us --type merge -p "
              """'{"spec":{"syncPolicy":{"automated":{}}}}'""")
    us_lines = commands(us)
    assert us_lines.index(suspend) < us_lines.index(
        "kubectl -n shop-us delete deployment shop-us-legacy-server --cascade=orphan"
    ) < us_lines.index(resume), "suspended before the steps, resumed as the upgrade"
    assert "helm upgrade shop-us" not in " ".join(us_lines), "Argo CD upgrades it"
    assert ("kubectl -n flux-system patch helmrelease shop-dev --type merge -p "
            """'{"spec":{"suspend":true}}'""") in commands(dev)
    checked = kubectl_lines(note)
    assert len(checked) > 10
    for line in checked:
        assert kubectl(line) == "", line


def test_helmfile_is_said_in_words_beside_the_helm_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = note_of(tmp_path, capsys, "shop prod helmfile\n")
    assert "`helmfile apply --selector name=shop`" in note
    assert "helm upgrade shop CHART" in note


def test_the_patch_is_the_same_whichever_releases_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = git_repo(tmp_path / "repo", ["legacy-server"])
    listed = tmp_path / "releases.txt"
    listed.write_text(RELEASES)
    patches = []
    for names in (["--release", "a"], ["--release", "zeta", "--release", "b"],
                  ["--releases", str(listed)]):
        main(["fix", str(repo / "legacy-server"), *names])
        patches.append(capsys.readouterr().out)
    assert patches[0] and patches[0] == patches[1] == patches[2]


@pytest.mark.parametrize(("text", "says"), [
    ("shop\n", "releases.txt:1: want RELEASE NAMESPACE"),
    ("shop prod argo:shop\n", "releases.txt:1: 'argo:shop': want argocd:APPLICATION"),
    ("Shop prod\n", "releases.txt:1: 'Shop' is no release"),
    ("# nothing\n", "lists no release"),
])
def test_a_bad_releases_file_is_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    listed = tmp_path / "releases.txt"
    listed.write_text(text)
    assert main(["fix", str(tmp_path), "--releases", str(listed)]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.splitlines()) == 1, err
