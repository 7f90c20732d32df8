"""Organisation scale: `--shard auto` as an Indexed Job's pods run it, shard reports merged
(and what the merge says), repositories of one name under two owners, --branch with shards.

Shard processes are real `python -m chartfix` processes with JOB_COMPLETION_INDEX set, as
Kubernetes sets it; repositories are real git repositories.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import CHARTFIX, git
from test_cli_bulk import (
    add_broken,
    add_leftover,
    bulk,
    charts_touched,
    git_repo,
    read_report,
    shard_tree,
)

from chartfix.cli import main
from chartfix.publish.report.file import SHARD_COUNT_ENV, SHARD_INDEX_ENV


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(SHARD_INDEX_ENV, raising=False)
    monkeypatch.delenv(SHARD_COUNT_ENV, raising=False)


# --- --shard auto --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "count", "says"),
    [
        (None, "4", f"{SHARD_INDEX_ENV} is not set"),
        ("1", None, f"{SHARD_COUNT_ENV} is not set"),
        ("4", "4", f"{SHARD_INDEX_ENV}=4 is not below {SHARD_COUNT_ENV}=4"),
        ("x", "4", "must be whole numbers"),
        ("0", "0", "must be whole numbers, the count at least 1"),
    ],
)
def test_shard_auto_without_a_consistent_environment_is_a_usage_error(
    tmp_path, capsys, monkeypatch, index, count, says
) -> None:
    tree = shard_tree(tmp_path / "tree")
    for name, value in ((SHARD_INDEX_ENV, index), (SHARD_COUNT_ENV, count)):
        if value is not None:
            monkeypatch.setenv(name, value)
    code, err = bulk(capsys, tree, "-j", "1", "--shard", "auto", "--report", "r.json")
    assert code == 2
    assert err.startswith("chartfix: --shard auto: ") and says in err, err
    assert not (tmp_path / "r.json").exists(), "refused before any work"


def test_shard_auto_takes_the_same_charts_as_the_explicit_shard(
    tmp_path, capsys, monkeypatch
) -> None:
    tree = shard_tree(tmp_path / "tree")
    bulk(capsys, tree, "-j", "1", "--shard", "1/3", "--report", "explicit.json")
    monkeypatch.setenv(SHARD_INDEX_ENV, "1")
    monkeypatch.setenv(SHARD_COUNT_ENV, "3")
    bulk(capsys, tree, "-j", "1", "--shard", "auto", "--report", "auto.json")
    explicit, auto = read_report(tmp_path / "explicit.json"), read_report(tmp_path / "auto.json")
    assert auto["shard"] == "1/3", "the report names the shard it holds, not 'auto'"
    assert [c["id"] for c in auto["charts"]] == [c["id"] for c in explicit["charts"]]


def test_n_shard_processes_then_merge_equal_one_run(tmp_path, capsys) -> None:
    """Three processes at once, each with the completion index Kubernetes would give it."""
    tree = shard_tree(tmp_path / "tree")
    add_leftover(tree)
    add_broken(tree)
    assert bulk(capsys, tree, "-j", "1", "--report", "full.json")[0] == 2
    count = 3
    processes = [
        subprocess.Popen(
            [*CHARTFIX, "bulk", "--fix-latent", "tree", "-j", "1", "--shard", "auto",
             "--report", f"shard-{index}.json"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "CI": "1", SHARD_INDEX_ENV: str(index),
                 SHARD_COUNT_ENV: str(count)},
        )
        for index in range(count)
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode in (0, 1, 2), err
    shards = [read_report(tmp_path / f"shard-{i}.json") for i in range(count)]
    assert [s["shard"] for s in shards] == [f"{i}/{count}" for i in range(count)]
    ids = [c["id"] for s in shards for c in s["charts"]]
    assert len(ids) == len(set(ids)), "a chart in two shards"

    code = main(["report", "merge", *(f"shard-{i}.json" for i in range(count)),
                 "-o", "merged.json"])
    err = capsys.readouterr().err
    assert code == 2, "a chart could not be processed, as in the single run"
    merged, full = read_report(tmp_path / "merged.json"), read_report(tmp_path / "full.json")
    assert sorted(ids) == [c["id"] for c in full["charts"]], "every chart exactly once"
    assert merged["charts"] == full["charts"], "the merged report is the single run's"
    for index, shard in enumerate(shards):
        n = len(shard["charts"])
        assert f"shard-{index}.json: shard {index}/{count}, {n} chart" in err, err
    assert f"merged 3 reports: {len(ids)} charts (dry run)" in err


# --- what report merge says ----------------------------------------------------------------


@pytest.fixture
def shard_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[Path]:
    tree = shard_tree(tmp_path / "tree")
    reports = [tmp_path / f"s{i}.json" for i in range(3)]
    for i, report in enumerate(reports):
        bulk(capsys, tree, "-j", "1", "--shard", f"{i}/3", "--report", report)
    return reports


def merge(capsys: pytest.CaptureFixture[str], *reports: Path) -> tuple[int, str]:
    code = main(["report", "merge", *map(str, reports), "-o", "merged.json"])
    return code, capsys.readouterr().err


def test_merge_names_a_missing_shard_and_exits_2(tmp_path, capsys, shard_reports) -> None:
    code, err = merge(capsys, shard_reports[0], shard_reports[2])
    assert code == 2
    assert "error: shard 1/3 is missing: its charts are not in the merged report" in err
    assert code_of_full(capsys, shard_reports) == 0


def code_of_full(capsys: pytest.CaptureFixture[str], reports: list[Path]) -> int:
    code, err = merge(capsys, *reports)
    assert "error:" not in err and "warning:" not in err, err
    return code


def test_merge_warns_of_a_shard_given_twice(tmp_path, capsys, shard_reports) -> None:
    again = tmp_path / "s1-again.json"
    shutil.copy(shard_reports[1], again)
    code, err = merge(capsys, *shard_reports, again)
    assert code == 0
    assert "warning: shard 1/3 given 2 times (s1.json, s1-again.json)" in err
    charts = len(read_report(shard_reports[1])["charts"])
    assert f"warning: {charts} chart" in err and "in more than one report" in err
    table = [line.split() for line in err[err.index("status "):].splitlines()]
    assert table[0] == ["status", "charts"] and [row[0] for row in table[1:6]] == [
        "clean", "fixable", "partial", "left", "error"
    ], "a dry run's fixes are fixable"
    assert sum(int(row[1]) for row in table[1:6]) == len(read_report(tmp_path / "merged.json")[
        "charts"])


def test_merge_refuses_shards_of_different_splits(tmp_path, capsys, shard_reports) -> None:
    other = tmp_path / "other.json"
    data: dict[str, Any] = json.loads(shard_reports[0].read_text())
    data["shard"] = "0/2"
    other.write_text(json.dumps(data))
    code, err = merge(capsys, *shard_reports, other)
    assert code == 2
    assert "shards of different splits" in err and "other.json (0/2)" in err
    assert not (tmp_path / "merged.json").exists()


# --- repositories of one name, --branch with shards ----------------------------------------


def owners_repos(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """alice/charts and bob/charts, both holding legacy-server and clean, with origins."""
    checkouts = {}
    for owner in ("alice", "bob"):
        (tmp_path / owner).mkdir()
        checkouts[owner] = git_repo(
            tmp_path / owner / "charts", ["legacy-server", "clean"],
            tmp_path / f"{owner}-origin.git",
        )
    repos = tmp_path / "repos.txt"
    repos.write_text("".join(f"{path}\n" for path in checkouts.values()))
    return repos, checkouts


def test_two_owners_repositories_of_one_name_stay_apart(tmp_path, capsys) -> None:
    repos, checkouts = owners_repos(tmp_path)
    bodies = tmp_path / "bodies"
    code, err = bulk(
        capsys, "--repos", repos, "-j", "1", "--branch", "fix/selectors", "--push", "origin",
        "--pr-body-dir", bodies, "--report", "r.json",
    )
    assert code == 0, err
    ids = sorted(c["id"] for c in read_report(tmp_path / "r.json")["charts"])
    assert ids == [
        "alice+charts/clean", "alice+charts/legacy-server",
        "bob+charts/clean", "bob+charts/legacy-server",
    ]
    assert sorted(p.name for p in bodies.iterdir()) == [
        "alice-charts-fix-selectors.md", "bob-charts-fix-selectors.md",
    ]
    for owner, repo in checkouts.items():
        tip = git(repo, "rev-parse", "fix/selectors")
        assert git(tmp_path / f"{owner}-origin.git", "rev-parse", "fix/selectors") == tip


def test_with_branch_a_repository_stays_in_one_shard(tmp_path, capsys) -> None:
    """One branch per repository: were a repository's charts split over two shards, the
    second shard would find the branch taken (locally) or have its push rejected."""
    checkouts = {
        name: git_repo(tmp_path / name, charts, tmp_path / f"{name}-origin.git")
        for name, charts in {
            "shop": ["legacy-server", "scaffold-helpers", "flow-mapping"],
            "blog": ["multi-doc", "volatile-one", "shared-selector"],
            "wiki": ["if-blocks", "crlf-bom"],
        }.items()
    }
    repos = tmp_path / "repos.txt"
    repos.write_text("".join(f"{path}\n" for path in checkouts.values()))
    holders: dict[str, set[int]] = {}
    for index in range(3):
        code, err = bulk(
            capsys, "--repos", repos, "-j", "1", "--branch", "fix/sel", "--push", "origin",
            "--shard", f"{index}/3", "--report", f"s{index}.json",
        )
        assert code == 0, err
        for chart in read_report(tmp_path / f"s{index}.json")["charts"]:
            holders.setdefault(chart["id"].split("/")[0], set()).add(index)
    assert sorted(holders) == ["blog", "shop", "wiki"]
    assert all(len(shards) == 1 for shards in holders.values()), holders
    for name, repo in checkouts.items():
        commits = git(repo, "rev-list", "main..fix/sel").splitlines()
        touched = set().union(*(charts_touched(repo, c) for c in commits))
        assert touched == {p.name for p in repo.iterdir() if (p / "Chart.yaml").exists()}
        assert git(tmp_path / f"{name}-origin.git", "rev-parse", "fix/sel") == commits[0]

