"""`chartfix bulk` end to end: trees of our fixture charts with broken ones among them, dry run
and --write, shards and merged reports, re-runs that skip finished charts, --repos (local and
cloned), --branch per repository or per chart with push and PR bodies, progress lines.

Every run renders with Helm's engine and commits with real git; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHARTFIX, git, make_leftover, snapshot

from chartfix import runner
from chartfix.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GOOD = ("clean", "flow-mapping", "legacy-server", "scaffold-helpers")
"""Fixtures bulk fixes completely (clean has nothing to fix)."""

BROKEN = {
    # chart directory -> (the file its error line must name, a phrase of the reason)
    "bad-action": ("templates/broken.yaml", "unclosed action"),
    "bad-values": ("values.yaml", "invalid values YAML"),
    "evil": ("templates/evil.yaml", "symlink points outside the chart"),
    "evil-etc": ("templates/hostname.yaml", "symlink points outside the chart, to /etc/"),
    "evil-dir": ("templates/etc", "symlink points outside the chart, to /etc"),
}
PROGRESS = re.compile(
    r"^\[(\d+)/(\d+)\] (\S+): "
    r"(clean|fixed|fixable|partial|partly fixable|(?:fixed|partial), to commit|left|error)$"
)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths print relative to tmp_path, and no default --workdir lands in the checkout."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)


# --- building trees --------------------------------------------------------------------------


def add_chart(tree: Path, fixture: str, name: str | None = None) -> Path:
    """A copy of a fixture chart at tree/name (renamed in Chart.yaml too)."""
    target = tree / (name or fixture)
    shutil.copytree(FIXTURES / fixture, target, symlinks=True)
    if name:
        chart_yaml = target / "Chart.yaml"
        text = re.sub(r"(?m)^name: .*$", f"name: {target.name}", chart_yaml.read_text())
        chart_yaml.write_text(text)
    return target


def good_tree(tree: Path, charts: Iterable[str] = GOOD) -> Path:
    for fixture in charts:
        add_chart(tree, fixture)
    return tree


def add_broken(tree: Path) -> None:
    """Charts that cannot be processed: a template with an unterminated action, bad YAML in
    values.yaml, symlinks out of the chart (to a file of the tree, to /etc/hostname, to /etc)."""
    action = add_chart(tree, "clean", "bad-action")
    (action / "templates" / "broken.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.x \n"
    )
    values = add_chart(tree, "clean", "bad-values")
    (values / "values.yaml").write_text("replicaCount: [2\nimage: {repository: x\n")
    evil = add_chart(tree, "clean", "evil")
    outside = tree / "shared" / "secret.yaml"  # inside the tree, outside the chart
    outside.parent.mkdir()
    outside.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n")
    (evil / "templates" / "evil.yaml").symlink_to(outside)
    etc = add_chart(tree, "clean", "evil-etc")
    (etc / "templates" / "hostname.yaml").symlink_to("/etc/hostname")
    etc_dir = add_chart(tree, "clean", "evil-dir")
    (etc_dir / "templates" / "etc").symlink_to("/etc", target_is_directory=True)


def add_symlink_loop(tree: Path) -> Path:
    """A chart on which chartfix itself fails (not a TargetError): links that point at each
    other make Path.resolve() raise RuntimeError."""
    chart = add_chart(tree, "clean", "loop")
    (chart / "templates" / "loop1.yaml").symlink_to("loop2.yaml")
    (chart / "templates" / "loop2.yaml").symlink_to("loop1.yaml")
    return chart


def add_leftover(tree: Path) -> Path:
    """A chart whose findings cannot be fixed (see make_leftover)."""
    return make_leftover(add_chart(tree, "clean", "leftover"))






def git_repo(path: Path, fixtures: Iterable[str], remote: Path | None = None) -> Path:
    """A repository holding copies of `fixtures` on main; with `remote`, a bare origin."""
    path.mkdir()
    for fixture in fixtures:
        add_chart(path, fixture)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "charts")
    if remote is not None:
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        git(path, "remote", "add", "origin", str(remote))
    return path


# --- running ---------------------------------------------------------------------------------


def bulk(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    """`chartfix bulk ARGV` in-process -> (exit status, stderr)."""
    code = main(["bulk", "--fix-latent", *map(str, argv)])
    return code, capsys.readouterr().err


def progress_lines(err: str) -> list[tuple[int, int, str, str]]:
    found = [PROGRESS.match(line) for line in err.splitlines()]
    return [(int(m[1]), int(m[2]), m[3], m[4]) for m in found if m]


def read_report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def statuses(report: Path) -> dict[str, str]:
    return {c["id"]: c["status"] for c in read_report(report)["charts"]}


# --- broken charts and exit statuses ---------------------------------------------------------


def test_write_fixes_the_good_charts_and_names_each_broken_one(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree")
    add_broken(tree)
    broken_before = {name: snapshot(tree / name) for name in BROKEN}

    code, err = bulk(capsys, tree, "--write", "-j", "1")

    assert code == 2, err
    for name, (file, reason) in BROKEN.items():
        path = Path("tree", name, file)  # as the user sees it: below the working directory
        lines = [line for line in err.splitlines() if f"{path}:" in line]
        assert len(lines) == 1, f"{name} must get exactly one error line:\n{err}"
        assert lines[0].startswith(f"tree/{name} "), lines[0]
        assert reason in lines[0], lines[0]
        assert snapshot(tree / name) == broken_before[name], f"{name} was modified"
    assert main(["check", *(str(tree / name) for name in GOOD)]) == 0, "bugs are left"
    assert "no findings" in capsys.readouterr().out
    code, err = bulk(capsys, *(tree / name for name in GOOD), "--write", "-j", "1")
    assert code == 0
    assert {status for *_, status in progress_lines(err)} == {"clean"}


def test_dry_run_changes_nothing_and_exits_0_1_2(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree")
    before = snapshot(tree)
    code, err = bulk(capsys, tree, "-j", "1")
    assert code == 0, "every finding is fixable"
    assert {status for *_, status in progress_lines(err)} == {"clean", "fixable"}, (
        "a dry run fixes nothing"
    )
    assert snapshot(tree) == before

    add_leftover(tree)
    before = snapshot(tree)
    code, err = bulk(capsys, tree, "-j", "1")
    assert code == 1, "a finding is left"
    assert ("tree/leftover", "left") in {(path, status) for *_, path, status in progress_lines(err)}
    assert snapshot(tree) == before

    add_broken(tree)
    before = snapshot(tree)
    code, err = bulk(capsys, tree, "-j", "1")
    assert code == 2, "a chart could not be processed"
    assert snapshot(tree) == before


# --- shards --------------------------------------------------------------------------------


def shard_tree(tree: Path) -> Path:
    """Eight charts, some nested a level deeper (a monorepo with teams)."""
    good_tree(tree)
    good_tree(tree / "team-b", ("clean", "legacy-server", "volatile-one", "multi-doc"))
    return tree


def shard_ids(capsys, tree: Path, spec: str, report: Path) -> list[str]:
    code, err = bulk(capsys, tree, "-j", "1", "--shard", spec, "--report", report)
    assert code == 0, err
    return [c["id"] for c in read_report(report)["charts"]]


def test_shards_partition_the_charts_deterministically(tmp_path, capsys) -> None:
    tree = shard_tree(tmp_path / "tree")
    code, err = bulk(capsys, tree, "-j", "1", "--report", tmp_path / "all.json")
    assert code == 0, err
    everything = sorted(statuses(tmp_path / "all.json"))
    assert len(everything) == 8
    for count in (1, 2, 3):
        shards = [
            shard_ids(capsys, tree, f"{i}/{count}", tmp_path / f"s{i}.json") for i in range(count)
        ]
        together = [chart for shard in shards for chart in shard]
        assert sorted(together) == everything, f"{count} shards: a chart twice or missing"
        again = [
            shard_ids(capsys, tree, f"{i}/{count}", tmp_path / f"again{i}.json")
            for i in range(count)
        ]
        assert again == shards
    assert all(shards), "3 shards of 8 charts: each shard should hold some"


@pytest.mark.parametrize("spec", ["2/2", "a/b", "1/0", "1", "-1/2", "0/"])
def test_bad_shard_specs_exit_2(tmp_path, capsys, spec: str) -> None:
    tree = good_tree(tmp_path / "tree", ["clean"])
    code, err = bulk(capsys, tree, "-j", "1", f"--shard={spec}")
    assert code == 2
    assert err.startswith("chartfix: --shard"), err


def test_shard_choice_is_the_same_in_a_fresh_process(tmp_path, capsys) -> None:
    """End to end through the console script: another interpreter picks the same charts."""
    tree = shard_tree(tmp_path / "tree")
    here = shard_ids(capsys, tree, "1/3", tmp_path / "here.json")
    env = {**os.environ, "CI": "1", "PYTHONHASHSEED": "123"}
    result = subprocess.run(
        [*CHARTFIX, "bulk", "--fix-latent", "tree", "-j", "1", "--shard", "1/3",
         "--report", "there.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert [c["id"] for c in read_report(tmp_path / "there.json")["charts"]] == here
    lines = progress_lines(result.stderr)
    assert [(i, n) for i, n, *_ in lines] == [(i, len(here)) for i in range(1, len(here) + 1)]
    assert result.stdout == "", "a dry bulk run prints its patches to the report only"


# --- reports, re-runs ------------------------------------------------------------------------


def test_report_has_one_entry_per_chart(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree")
    add_leftover(tree)
    add_broken(tree)
    report = tmp_path / "report.json"
    code, _ = bulk(capsys, tree, "-j", "1", "--report", report)
    assert code == 2
    data = read_report(report)
    charts = {c["id"]: c for c in data["charts"]}
    # tree/shared holds a plain Secret manifest (the evil chart's link target): a folder of
    # plain manifests, checked as one
    assert sorted(charts) == sorted(
        f"tree/{n}" for n in [*GOOD, "leftover", *BROKEN, "shared"]
    )
    assert charts["tree/shared"]["status"] == "clean"
    for chart in charts.values():
        assert {"status", "findings", "fixed", "left", "error", "files", "diff"} <= set(chart)

    legacy = charts["tree/legacy-server"]
    assert legacy["status"] == "fixed"
    assert legacy["findings"] == 2 == len(legacy["fixed"])
    assert sorted(f.split()[0] for f in legacy["fixed"]) == ["overlap", "stray"]
    assert legacy["left"] == [] and legacy["error"] is None
    assert legacy["files"] == ["templates/deployment.yaml", "templates/service.yaml"]
    patch = subprocess.run(
        [*CHARTFIX, "fix", "--fix-latent", "tree/legacy-server"], cwd=tmp_path,
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    assert legacy["diff"] == patch, "the report holds the patch `chartfix fix` prints"

    leftover = charts["tree/leftover"]
    assert leftover["status"] == "left"
    assert leftover["findings"] == 1 == len(leftover["left"])
    assert leftover["fixed"] == [] and leftover["files"] == [] and leftover["diff"] == ""

    assert charts["tree/clean"]["status"] == "clean"
    assert charts["tree/clean"]["findings"] == 0
    for name, (file, reason) in BROKEN.items():
        entry = charts[f"tree/{name}"]
        assert entry["status"] == "error"
        assert entry["error"].startswith(f"{Path('tree', name, file)}: ")
        assert reason in entry["error"]
        assert entry["files"] == [] and entry["diff"] == ""


def test_rerun_skips_done_charts_and_retries_the_rest(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree")
    add_leftover(tree)
    add_chart(tree, "clean", "bad-values")
    clean_values = (tree / "bad-values" / "values.yaml").read_bytes()
    (tree / "bad-values" / "values.yaml").write_text("replicaCount: [2\n")
    report = tmp_path / "report.json"

    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert code == 2
    assert "6 charts processed (1 clean), 0 skipped as done" in err

    written = snapshot(tree)
    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert code == 2
    assert progress_lines(err) == [
        (1, 2, "tree/bad-values", "error"), (2, 2, "tree/leftover", "left"),
    ], "the clean and fixed charts are not processed again"
    assert "2 charts processed (0 clean), 4 skipped as done" in err
    assert snapshot(tree) == written
    assert len(read_report(report)["charts"]) == 6, "skipped charts keep their entries"

    (tree / "bad-values" / "values.yaml").write_bytes(clean_values)
    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert code == 1, "only the leftover finding remains"
    assert progress_lines(err) == [
        (1, 2, "tree/bad-values", "clean"), (2, 2, "tree/leftover", "left"),
    ]
    assert statuses(report)["tree/bad-values"] == "clean"

    values = tree / "legacy-server" / "values.yaml"
    values.write_text(values.read_text() + "# edited after the run\n")
    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert progress_lines(err) == [
        (1, 2, "tree/leftover", "left"), (2, 2, "tree/legacy-server", "clean"),
    ], "a done chart whose files changed is processed again"
    assert "5 skipped as done" not in err and "4 skipped as done" in err


def test_a_dry_run_report_does_not_mark_fixable_charts_done(tmp_path, capsys) -> None:
    """Regression: a --write run after a dry run with the same --report skipped the charts
    the dry run had found fixable, leaving their bugs on disk."""
    tree = good_tree(tmp_path / "tree")
    report = tmp_path / "report.json"
    assert bulk(capsys, tree, "-j", "1", "--report", report)[0] == 0
    assert statuses(report)["tree/legacy-server"] == "fixed"

    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert code == 0
    assert "3 charts processed (0 clean), 1 skipped as done" in err
    assert main(["check", str(tree)]) == 0
    capsys.readouterr()
    code, err = bulk(capsys, tree, "--write", "-j", "1", "--report", report)
    assert "0 charts processed (0 clean), 4 skipped as done" in err


def done_repo(tmp_path: Path, capsys, *options: object) -> tuple[Path, Path]:
    """A repository holding legacy-server, written by a run with `options` and --report
    (the chart is done: clean, or fixed and written) -> (repository, report)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    add_chart(repo, "legacy-server", "c")
    report = tmp_path / "r.json"
    assert bulk(capsys, repo, "--write", "-j", "1", "--report", report, *options)[0] == 0
    assert bulk(capsys, repo, "--write", "-j", "1", "--report", report, *options)[1].count(
        "1 skipped as done"
    ) == 1
    return repo, report


def test_a_resumed_run_with_other_options_runs_every_chart_again(tmp_path, capsys) -> None:
    """Regression: a chart done by a run that excluded the rules that find its bugs was
    skipped by a run with every rule: "0 charts processed", exit 0, its bugs unreported."""
    repo, report = done_repo(tmp_path, capsys, "--exclude", "overlap", "--exclude", "stray")
    assert statuses(report) == {"repo/c": "clean"}

    err = bulk(capsys, repo, "-j", "1", "--report", report)[1]
    assert progress_lines(err) == [(1, 1, "repo/c", "fixable")]
    assert "1 chart done with other options" in err
    assert statuses(report) == {"repo/c": "fixed"}


@pytest.mark.parametrize(
    "options",
    [
        ["--set", "replicaCount=3"],
        ["-f", "org.yaml"],
        ["--release", "shop"],
        ["--namespace", "prod"],
        ["--label-jobs"],
        ["--severity", "stray=warning"],
        ["--recipe", "component-labels"],
        ["--recipe", "legacy-component"],
        ["--run-apps"],
    ],
)
def test_each_option_that_changes_results_reruns_done_charts(
    tmp_path, capsys, options: list[str]
) -> None:
    (tmp_path / "org.yaml").write_text("replicaCount: 2\n")
    repo, report = done_repo(tmp_path, capsys)
    err = bulk(capsys, repo, "--write", "-j", "1", "--report", report, *options)[1]
    assert "1 chart done with other options" in err, options
    assert progress_lines(err) == [(1, 1, "repo/c", progress_lines(err)[0][3])]


def test_a_changed_values_file_reruns_done_charts(tmp_path, capsys) -> None:
    values = tmp_path / "org.yaml"
    values.write_text("replicaCount: 2\n")
    repo, report = done_repo(tmp_path, capsys, "-f", values)
    values.write_text("replicaCount: 3\n")
    err = bulk(capsys, repo, "--write", "-j", "1", "--report", report, "-f", values)[1]
    assert "1 chart done with other options" in err
    assert "0 skipped as done" in err


def test_a_done_chart_runs_again_when_what_it_reads_changes(tmp_path, capsys) -> None:
    """Regression: only the chart's regular files were hashed, so a done chart was skipped
    after a .chartfix.yaml above it, a link in it or a file:// dependency changed."""
    repo, report = done_repo(tmp_path, capsys)
    chart = repo / "c"

    def rerun() -> str:
        err = bulk(capsys, repo, "--write", "-j", "1", "--report", report)[1]
        assert "1 chart changed since done" in err
        assert "0 skipped as done" in err
        return err

    (repo / ".chartfix.yaml").write_text("rules:\n  exclude: [spans]\n")
    rerun()

    (chart / "files").mkdir()
    (chart / "files" / "a.txt").write_text("a\n")
    (chart / "files" / "b.txt").write_text("b\n")
    (chart / "notes.txt").symlink_to("files/a.txt")
    rerun()
    (chart / "notes.txt").unlink()
    (chart / "notes.txt").symlink_to("files/b.txt")  # the same names, another target
    rerun()

    shutil.rmtree(repo / ".git")  # the repository holds the bulk root and `shared` (a
    git(tmp_path, "init", "-q")  # file:// path out of the repository is refused)
    lib = add_chart(tmp_path / "shared", "clean", "lib")  # outside the bulk root
    (lib / "Chart.yaml").write_text((lib / "Chart.yaml").read_text() + "type: library\n")
    shutil.rmtree(lib / "templates")
    (lib / "templates").mkdir()
    (lib / "templates" / "_lib.tpl").write_text('{{- define "lib.x" }}x{{ end }}\n')
    meta = chart / "Chart.yaml"
    meta.write_text(
        meta.read_text()
        + "dependencies:\n  - name: lib\n    version: '*'\n    repository: file://../../shared/lib\n"
    )
    bulk(capsys, repo, "--write", "-j", "1", "--report", report)
    (lib / "templates" / "_lib.tpl").write_text('{{- define "lib.x" }}y{{ end }}\n')
    err = bulk(capsys, repo, "--write", "-j", "1", "--report", report)[1]
    assert progress_lines(err) == [(1, 1, "repo/c", "clean")]
    assert "1 chart changed since done" in err


def test_merged_shard_reports_equal_the_unsharded_report(tmp_path, capsys) -> None:
    tree = shard_tree(tmp_path / "tree")
    add_leftover(tree)
    add_broken(tree)
    full = tmp_path / "full.json"
    assert bulk(capsys, tree, "-j", "1", "--report", full)[0] == 2
    shards = [tmp_path / f"shard{i}.json" for i in range(3)]
    for i, report in enumerate(shards):
        bulk(capsys, tree, "-j", "1", "--shard", f"{i}/3", "--report", report)

    merged = tmp_path / "merged.json"
    assert main(["report", "merge", *map(str, shards), "-o", str(merged)]) == 2
    assert statuses(merged) == statuses(full)
    full_diffs = {c["id"]: c["diff"] for c in read_report(full)["charts"]}
    assert {c["id"]: c["diff"] for c in read_report(merged)["charts"]} == full_diffs
    assert read_report(merged)["shard"] is None
    capsys.readouterr()

    assert main(["report", "merge", *map(str, shards)]) == 2
    assert statuses_of(json.loads(capsys.readouterr().out)) == statuses(full), "stdout form"


def statuses_of(data: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in data["charts"]}


def test_merge_exit_status_follows_the_worst_chart(tmp_path, capsys) -> None:
    good = good_tree(tmp_path / "good")
    left = tmp_path / "left"
    add_leftover(left)
    broken = tmp_path / "broken"
    add_broken(broken)
    for tree in (good, left, broken):
        bulk(capsys, tree, "-j", "1", "--report", tmp_path / f"{tree.name}.json")

    def merge(*names: str) -> int:
        code = main(["report", "merge", *(str(tmp_path / f"{n}.json") for n in names)])
        capsys.readouterr()
        return code

    assert merge("good") == 0
    assert merge("good", "left") == 1
    assert merge("good", "left", "broken") == 2
    assert merge("broken", "good") == 2
    (tmp_path / "junk.json").write_text("[1, 2]\n")
    assert main(["report", "merge", str(tmp_path / "junk.json")]) == 2
    assert "not a chartfix report" in capsys.readouterr().err


# --- repositories ------------------------------------------------------------------------------


def test_repos_file_takes_local_paths_and_clones_urls_once(tmp_path, capsys) -> None:
    local = git_repo(tmp_path / "local", ["legacy-server", "clean"])
    source = git_repo(tmp_path / "source", ["scaffold-helpers"])
    bare = tmp_path / "shop.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(bare)], check=True)
    repos = tmp_path / "repos.txt"
    repos.write_text(f"# our repositories\n\n{local}\nfile://{bare}\n")
    workdir = tmp_path / "work"
    report = tmp_path / "report.json"

    code, err = bulk(capsys, "--repos", repos, "--workdir", workdir, "-j", "1", "--report", report)
    assert code == 0, err
    clone = workdir / f"{tmp_path.name}+shop"
    assert [p.name for p in workdir.iterdir()] == [clone.name], "only the URL is cloned"
    assert sorted(statuses(report)) == sorted(
        [f"{clone.name}/scaffold-helpers", "local/clean", "local/legacy-server"]
    )
    paths = {c["id"]: c["path"] for c in read_report(report)["charts"]}
    assert paths[f"{clone.name}/scaffold-helpers"] == str(clone.resolve() / "scaffold-helpers")
    assert paths["local/legacy-server"] == str(local.resolve() / "legacy-server")

    marker = clone / ".git" / "chartfix-test-marker"
    marker.write_text("from the first run\n")
    inode = (clone / ".git").stat().st_ino
    code, err = bulk(capsys, "--repos", repos, "--workdir", workdir, "-j", "1", "--write")
    assert code == 0, err
    assert marker.exists() and (clone / ".git").stat().st_ino == inode, "cloned again"
    assert [p.name for p in workdir.iterdir()] == [clone.name]
    changed = git(clone, "diff", "--name-only").splitlines()
    assert changed and all(f.startswith("scaffold-helpers/templates/") for f in changed), (
        "the fix lands in the clone's work tree"
    )
    assert git(local, "status", "--porcelain") != "", "and in the local checkout"


def test_two_urls_ending_alike_get_two_clones(tmp_path, capsys) -> None:
    """`file:///x/org/charts.git` and `file:///y/org/charts.git` both read `org+charts`; the
    second must not reuse the first one's clone."""
    urls = []
    for host, fixture in (("x", "legacy-server"), ("y", "flow-mapping")):
        source = git_repo(tmp_path / f"src-{host}", [fixture])
        bare = tmp_path / host / "org" / "charts.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(source), str(bare)], check=True)
        urls.append(f"file://{bare}")
    repos = tmp_path / "repos.txt"
    repos.write_text("\n".join(urls) + "\n")
    workdir = tmp_path / "work"
    report = tmp_path / "report.json"
    for _ in range(2):  # and a re-run finds each clone again
        code, err = bulk(capsys, "--repos", repos, "--workdir", workdir, "-j", "1",
                         "--report", report)
        assert code == 0, err
        charts = sorted(Path(c["path"]).name for c in read_report(report)["charts"])
        assert charts == ["flow-mapping", "legacy-server"]
        assert len(list(workdir.iterdir())) == 2


def test_an_unreachable_repository_is_named_and_the_others_go_on(tmp_path, capsys) -> None:
    good = tmp_path / "good"
    shutil.copytree(FIXTURES / "legacy-server", good / "legacy-server")
    missing = f"file://{tmp_path / 'missing.git'}"
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{missing}\ngood\n")
    code, err = bulk(capsys, "--repos", repos, "--workdir", tmp_path / "work", "-j", "1",
                     "--write")
    assert code == 2
    assert err.startswith(f"error: {missing}: cannot clone"), err
    assert "component: server" in (good / "legacy-server/templates/service.yaml").read_text()


def test_a_repository_that_cannot_be_cloned_is_an_error_of_the_report(tmp_path, capsys) -> None:
    """Regression: a failed clone was missing from the report, so `report merge` said
    "error 0" and exited 0; with every clone failed no report or page was written."""
    good = git_repo(tmp_path / "good", ["legacy-server"])
    failing = "https://user:s3cret@127.0.0.1:1/x.git"  # nothing listens on port 1
    (tmp_path / "repos.txt").write_text(f"{failing}\nfile://{good}\n")
    code, err = bulk(capsys, "--repos", "repos.txt", "--workdir", "work", "-j", "1",
                     "--report", "r.json")
    assert code == 2
    assert "s3cret" not in err
    entries = {c["path"]: c for c in read_report(tmp_path / "r.json")["charts"]}
    failed = entries["https://user:***@127.0.0.1:1/x.git"]
    assert failed["status"] == "error" and failed["error"].startswith("cannot clone: ")
    assert [c["status"] for c in entries.values()].count("fixed") == 1
    assert "s3cret" not in (tmp_path / "r.json").read_text()

    assert main(["report", "merge", "r.json", "-o", "m.json"]) == 2
    assert "error    1" in capsys.readouterr().err

    (tmp_path / "only.txt").write_text(f"{failing}\n")
    code, err = bulk(capsys, "--repos", "only.txt", "--workdir", "work", "-j", "1",
                     "--report", "r2.json", "--html", "r2.html")
    assert code == 2
    assert [c["status"] for c in read_report(tmp_path / "r2.json")["charts"]] == ["error"]
    page = (tmp_path / "r2.html").read_text()
    assert "127.0.0.1:1/x.git" in page and "s3cret" not in page
    assert main(["report", "merge", "r2.json", "-o", "m2.json"]) == 2


REPOS = {"shop": ["clean", "legacy-server", "scaffold-helpers"], "blog": ["flow-mapping",
                                                                       "volatile-one"]}


def two_repos(tmp_path: Path) -> tuple[Path, dict[str, Path], dict[str, Path]]:
    """repos.txt, {name: checkout}, {name: bare origin} for REPOS."""
    checkouts = {
        name: git_repo(tmp_path / name, charts, tmp_path / f"{name}-origin.git")
        for name, charts in REPOS.items()
    }
    repos = tmp_path / "repos.txt"
    repos.write_text("".join(f"{path}\n" for path in checkouts.values()))
    return repos, checkouts, {name: tmp_path / f"{name}-origin.git" for name in REPOS}


def charts_touched(repo: Path, commit: str) -> set[str]:
    files = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", commit).splitlines()
    return {f.split("/")[0] for f in files}


def test_branch_commits_one_chart_per_commit_in_each_repo(tmp_path, capsys) -> None:
    repos, checkouts, origins = two_repos(tmp_path)
    heads = {name: git(repo, "rev-parse", "HEAD") for name, repo in checkouts.items()}
    report = tmp_path / "report.json"

    code, err = bulk(
        capsys, "--repos", repos, "-j", "1", "--branch", "fix/selectors", "--push", "origin",
        "--release", "shop", "--namespace", "prod", "--report", report,
    )

    assert code == 0, err
    progress = {chart: word for *_, chart, word in progress_lines(err)}
    assert progress == {
        f"{name}/{chart}": "clean" if chart == "clean" else "fixed, to commit"
        for name, charts in REPOS.items() for chart in charts
    }, "committed at the end: never `fixable`, which is what a dry run says"
    entries = {c["id"]: c for c in read_report(report)["charts"]}
    for name, repo in checkouts.items():
        assert git(repo, "rev-parse", "HEAD") == heads[name]
        assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
        assert git(repo, "status", "--porcelain") == ""
        tip = git(repo, "rev-parse", "fix/selectors")
        commits = git(repo, "rev-list", "--reverse", "main..fix/selectors").splitlines()
        fixed = sorted(c for c in REPOS[name] if c != "clean")
        assert len(commits) == len(fixed), "one commit per changed chart"
        assert sorted(set().union(*(charts_touched(repo, c) for c in commits))) == fixed
        assert all(len(charts_touched(repo, c)) == 1 for c in commits)
        assert git(origins[name], "rev-parse", "refs/heads/fix/selectors") == tip, "pushed"
        for commit in commits:  # each chart's own commit, not the branch tip
            [chart] = charts_touched(repo, commit)
            assert entries[f"{name}/{chart}"]["commit"] == commit
    assert entries["shop/clean"]["commit"] is None


def test_pr_body_dir_writes_one_file_per_repository_branch(tmp_path, capsys) -> None:
    repos, _, _ = two_repos(tmp_path)
    bodies = tmp_path / "bodies"
    code, err = bulk(
        capsys, "--repos", repos, "-j", "1", "--branch", "fix/selectors",
        "--pr-body-dir", bodies,
    )
    assert code == 0, err
    assert len(list(bodies.iterdir())) == 2, sorted(p.name for p in bodies.iterdir())


def test_branch_per_chart_with_push_and_pr_bodies(tmp_path, capsys) -> None:
    repos, checkouts, origins = two_repos(tmp_path)
    heads = {name: git(repo, "rev-parse", "HEAD") for name, repo in checkouts.items()}
    bodies = tmp_path / "bodies"
    report = tmp_path / "report.json"

    code, err = bulk(
        capsys, "--repos", repos, "-j", "1", "--branch", "fix/sel", "--branch-per-chart",
        "--push", "origin", "--pr-body-dir", bodies, "--report", report,
    )

    assert code == 0, err
    entries = {c["id"]: c for c in read_report(report)["charts"]}
    bodies_seen: set[str] = set()
    for name, repo in checkouts.items():
        assert git(repo, "rev-parse", "HEAD") == heads[name]
        assert git(repo, "status", "--porcelain") == ""
        fixed = sorted(c for c in REPOS[name] if c != "clean")
        branches = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/fix")
        assert branches.splitlines() == [f"fix/sel-{chart}" for chart in fixed]
        for chart in fixed:
            branch = f"fix/sel-{chart}"
            commits = git(repo, "rev-list", f"main..{branch}").splitlines()
            assert len(commits) == 1
            assert charts_touched(repo, commits[0]) == {chart}
            assert git(origins[name], "rev-parse", f"refs/heads/{branch}") == commits[0]
            assert f"pushed branch {branch} to origin (commit {commits[0][:12]})" in err
            assert entries[f"{name}/{chart}"]["commit"] == commits[0]
            [body_file] = bodies.glob(f"*fix-sel-{chart}.md")  # may gain a repo prefix
            body = body_file.read_text()
            for finding in entries[f"{name}/{chart}"]["fixed"]:
                rule, obj = finding.split(" ", 1)
                assert f"`{rule}` {obj}" in body, f"{chart}'s body lacks {finding}"
            bodies_seen.add(body_file.name)
    assert {p.name for p in bodies.iterdir()} == bodies_seen, "one .md per branch, no more"


def test_a_rejected_push_names_each_charts_own_commit(tmp_path, capsys) -> None:
    repo = git_repo(tmp_path / "shop", ["legacy-server", "scaffold-helpers"], tmp_path / "o.git")
    hook = tmp_path / "o.git" / "hooks" / "pre-receive"  # the remote refuses every push
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)

    code, err = bulk(capsys, repo, "-j", "1", "--branch", "fix", "--push", "origin")

    assert code == 2
    commits = git(repo, "rev-list", "--reverse", "main..fix").splitlines()
    charts = err.split("\nbranches:\n")[1].split("\nchart ")[1]  # the table after the branches
    errors = [line for line in charts.splitlines() if "push of fix to origin failed" in line]
    assert len(commits) == len(errors) == 2, err
    # git's own reason, whole in the branches list (a table cell shortens a long reason in
    # its middle, and where depends on the temporary path's length)
    listed = err.split("\nbranches:\n")[1].split("\nchart ")[0]
    assert f"failed to push some refs to '{tmp_path / 'o.git'}'" in listed, listed
    for line, commit in zip(errors, commits, strict=True):
        assert line.endswith(f"; this chart's commit on it: {commit[:12]}"), line
    assert "pushed branch" not in err


# --- progress, parallel ------------------------------------------------------------------------


def test_progress_is_one_line_per_chart_then_the_table(tmp_path, capsys) -> None:
    tree = good_tree(tmp_path / "tree")
    add_leftover(tree)
    add_chart(tree, "clean", "bad-values")
    (tree / "bad-values" / "values.yaml").write_text("replicaCount: [2\n")

    code, err = bulk(capsys, tree, "-j", "1")

    assert code == 2
    lines = err.splitlines()
    names = sorted([*GOOD, "leftover", "bad-values"])
    expected = {"clean": "clean", "leftover": "left", "bad-values": "error"}
    assert lines[: len(names)] == [
        f"[{i}/{len(names)}] tree/{name}: {expected.get(name, 'fixable')}"
        for i, name in enumerate(names, 1)
    ]
    table = lines[len(names):]
    assert table[0].split() == ["chart", "findings", "would", "fix", "left", "migration", "error"]
    rows_end = next(i for i, line in enumerate(table) if line.startswith("coverage:"))
    rows = {line.split()[0]: line.split()[1:5] for line in table[1:rows_end]}
    assert rows == {
        "tree/bad-values": ["-", "-", "-", "-"],
        "tree/flow-mapping": ["2", "2", "0", "needed"],
        "tree/leftover": ["1", "0", "1", "-"],
        "tree/legacy-server": ["2", "2", "0", "needed"],
        "tree/scaffold-helpers": ["3", "3", "0", "-"],
    }, "clean charts are left out of the table; only the test Pod changes in scaffold-helpers"
    end = next(i for i, line in enumerate(table) if line.startswith("coverage:"))
    assert table[end:] == [
        "coverage: 6 charts found, 5 analyzed (83%), 0 of them with synthesized values; "
        "1 error:",
        "  1 x unreadable chart files",
        "6 charts processed (1 clean), 0 skipped as done; dry run: nothing written",
    ]


@pytest.fixture
def pool() -> Iterator[None]:
    """The runner keeps its worker processes for the life of the process: stop them after."""
    yield
    runner.shutdown()


def test_process_pool_gives_the_same_results_as_one_process(tmp_path, capsys, pool) -> None:
    tree = good_tree(tmp_path / "tree")
    add_leftover(tree)
    code2, err2 = bulk(capsys, tree, "-j", "2", "--report", tmp_path / "two.json")
    code1, err1 = bulk(capsys, tree, "-j", "1", "--report", tmp_path / "one.json")
    assert code2 == code1 == 1
    assert err2 == err1, "same lines, same order"
    assert read_report(tmp_path / "two.json") == read_report(tmp_path / "one.json")

    assert bulk(capsys, tree, "-j", "2", "--write")[0] == 1
    assert main(["check", *(str(tree / name) for name in GOOD)]) == 0


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failure_of_chartfix_on_one_chart_does_not_stop_the_others(
    tmp_path, capsys, pool, jobs: str
) -> None:
    """However chartfix fails on a chart (here an exception that is no TargetError, raised in
    this process or in a worker), that chart gets one error line; the rest are fixed."""
    tree = good_tree(tmp_path / "tree")
    add_broken(tree)
    add_symlink_loop(tree)
    broken_before = {name: snapshot(tree / name) for name in [*BROKEN, "loop"]}

    code, err = bulk(capsys, tree, "-j", jobs, "--write")

    assert code == 2, err
    assert "Traceback" not in err
    loop_lines = [line for line in err.splitlines() if line.startswith("tree/loop ")]
    assert len(loop_lines) == 1 and "loop1.yaml" in loop_lines[0], err
    for name, before in broken_before.items():
        assert len([line for line in err.splitlines() if line.startswith(f"tree/{name} ")]) == 1
        assert snapshot(tree / name) == before, f"{name} was modified"
    assert main(["check", *(str(tree / name) for name in GOOD)]) == 0


def test_process_pool_reports_the_same_reasons_for_broken_charts(tmp_path, capsys, pool) -> None:
    """A TargetError must survive the trip back from a worker process (pickling)."""
    tree = tmp_path / "tree"
    add_broken(tree)
    bulk(capsys, tree, "-j", "2", "--report", tmp_path / "two.json")
    bulk(capsys, tree, "-j", "1", "--report", tmp_path / "one.json")
    assert read_report(tmp_path / "two.json") == read_report(tmp_path / "one.json")


def test_a_chart_given_as_the_root_is_named_by_its_directory(tmp_path, capsys) -> None:
    chart = add_chart(tmp_path, "legacy-server")
    report = tmp_path / "report.json"
    assert bulk(capsys, chart, "-j", "1", "--report", report)[0] == 0
    assert list(statuses(report)) == ["legacy-server"]


def test_bulk_takes_cdk8s_apps_beside_charts(tmp_path, capsys) -> None:
    pytest.importorskip("cdk8s")
    tree = tmp_path / "tree"
    for name in ("legacy-server", "cdk8s-shared-dict"):
        shutil.copytree(FIXTURES / name, tree / name)
    report = tmp_path / "report.json"
    code, err = bulk(capsys, tree, "-j", "1", "--report", report, "--run-apps")
    assert code == 0, err
    statuses = {Path(c["path"]).name: c["status"] for c in read_report(report)["charts"]}
    assert statuses == {"legacy-server": "fixed", "cdk8s-shared-dict": "fixed"}


def test_no_color_on_a_terminal_prints_the_table_without_any_style(tmp_path) -> None:
    import pty
    import threading

    shutil.copytree(FIXTURES / "legacy-server", tmp_path / "tree" / "a")
    main_end, tty_end = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(main_end, 65536)
            except OSError:  # the terminal closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("CI", None)
    done = subprocess.run([*CHARTFIX, "bulk", "--fix-latent", "tree", "-j", "1"], cwd=tmp_path,
                          env=env,
                          stdout=subprocess.DEVNULL, stderr=tty_end)
    os.close(tty_end)
    reader.join()
    os.close(main_end)
    shown = b"".join(chunks).decode()

    assert done.returncode == 0, shown
    assert "legacy-server" in shown or "tree/a" in shown, shown
    assert "┃" in shown  # the terminal table, not the plain one
    assert re.findall(r"\x1b\[[0-9;]*m", shown) == []
