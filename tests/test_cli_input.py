"""Strict input: odd paths, unreadable folders, hostile config files and piped values give
one clear line or the right answer, never a traceback or a silent wrong result."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, git, snapshot

from chartfix.cli import main


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)


def copy(fixture: str, target: Path) -> Path:
    shutil.copytree(FIXTURES / fixture, target, symlinks=True)
    return target


def test_a_chart_path_with_a_newline_is_fixed_and_its_patch_quoted_as_git_does(
    tmp_path, capsys
) -> None:
    repo = tmp_path / "repo"
    chart = copy("legacy-server", repo / "odd\nname")
    git(repo, "init", "-q")
    patch = subprocess.run(
        [*CHARTFIX, "fix", "odd\nname"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert '--- "a/odd\\nname/templates/deployment.yaml"' in patch
    subprocess.run(["git", "apply", "--check", "-"], cwd=repo, input=patch, text=True, check=True)

    assert main(["fix", str(chart), "--write"]) == 0
    assert "1 chart: 2 files changed" in capsys.readouterr().err
    assert main(["check", str(chart)]) == 0


# Root reads any folder; without these two capabilities it obeys the mode bits like anyone.
DROP = ["--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search"]


def unprivileged(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root reads every folder and setpriv is missing to drop that")
        prefix = ["setpriv", *DROP]
    return subprocess.run([*prefix, *argv], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("command", ["fix", "bulk"])
def test_an_unreadable_chart_folder_is_one_error_line_and_exit_2(tmp_path, command) -> None:
    tree = tmp_path / "tree"
    copy("clean", tree / "locked" / "chart")
    copy("clean", tree / "ok")
    (tree / "locked").chmod(0)
    try:
        target = "tree" if command == "bulk" else "tree/locked"
        done = unprivileged([*CHARTFIX, command, target, "-j", "1"], tmp_path)
    finally:
        (tree / "locked").chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "cannot read the folder" in line]
    assert len(lines) == 1
    assert "tree/locked: cannot read the folder: Permission denied" in lines[0]


def test_yaml_aliases_in_a_config_file_are_refused(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    pairs = zip("abcdefgh", "bcdefghi", strict=True)
    bomb += [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in pairs]
    (chart / ".chartfix.yaml").write_text("\n".join(bomb) + "\ncomponents: *i\n")
    before = snapshot(chart)

    assert main(["fix", str(chart), "--write"]) == 2

    err = capsys.readouterr().err
    assert "legacy-server/.chartfix.yaml: cannot read chartfix config:" in err
    assert "aliases (*name) are not allowed" in err
    assert snapshot(chart) == before


def test_a_config_that_is_a_directory_is_one_error_line(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    (chart / ".chartfix.yaml").mkdir()
    before = snapshot(chart)

    assert main(["fix", str(chart), "--write"]) == 2

    err = capsys.readouterr().err
    assert "legacy-server/.chartfix.yaml: is not a file" in err
    assert "Traceback" not in err
    assert snapshot(chart) == before


def test_piped_values_are_read_once_and_reach_every_worker(tmp_path) -> None:
    copy("legacy-server", tmp_path / "tree" / "a")
    copy("scaffold-helpers", tmp_path / "tree" / "b")
    piped = "nameOverride: piped\n"

    done = subprocess.run(
        [*CHARTFIX, "fix", "tree", "-j", "2", "-f", "/dev/stdin", "--release", "r"],
        cwd=tmp_path, input=piped, capture_output=True, text=True,
    )
    checked = subprocess.run(
        [*CHARTFIX, "check", "tree", "-j", "2", "-f", "/dev/stdin", "--release", "r"],
        cwd=tmp_path, input=piped, capture_output=True, text=True,
    )

    assert done.returncode == 0, done.stderr
    assert "fixable: overlap Deployment/r-piped" in done.stderr
    assert "fixable: overlap Deployment/r-legacy-server" not in done.stderr
    assert checked.returncode == 1, checked.stderr
    assert "Deployment/r-piped" in checked.stdout


def _bomb(key: str = "name") -> str:
    """A "billion laughs": nine levels of nine aliases, about 400 million strings."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    pairs = zip("abcdefgh", "bcdefghi", strict=True)
    lines += [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in pairs]
    return "\n".join(lines) + f"\n{key}: *i\n"


def _limited(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run chartfix with 3 GB of address space, so a bomb fails it instead of the machine."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run(
        [*CHARTFIX, *argv], cwd=cwd, capture_output=True, text=True, preexec_fn=limit,
        timeout=300,
    )


def _with_dependency(chart: Path, name: str, repository: str) -> None:
    meta = chart / "Chart.yaml"
    meta.write_text(
        meta.read_text()
        + f"dependencies:\n  - name: {name}\n    version: 1.0.0\n    repository: {repository}\n"
    )


def test_an_alias_bomb_in_a_sibling_chart_is_skipped_with_a_warning(tmp_path) -> None:
    chart = copy("legacy-server", tmp_path / "mono" / "a")
    _with_dependency(chart, "foo", "https://example.com")
    (tmp_path / "mono" / "zz").mkdir()
    (tmp_path / "mono" / "zz" / "Chart.yaml").write_text(_bomb())

    done = _limited(["check", "mono/a"], tmp_path)

    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 1, done.stderr  # the chart's own findings, as without zz
    warning = "warning: mono/zz/Chart.yaml: aliases expand"
    assert warning in done.stderr
    assert "skipped as a candidate dependency" in done.stderr


def test_an_alias_bomb_in_a_subchart_is_one_error_line_naming_it(tmp_path) -> None:
    chart = copy("legacy-server", tmp_path / "base")
    (chart / "charts" / "sub").mkdir(parents=True)
    (chart / "charts" / "sub" / "Chart.yaml").write_text(_bomb())
    before = snapshot(chart)

    done = _limited(["fix", "base", "--write"], tmp_path)

    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2, done.stderr
    sub = chart / "charts" / "sub" / "Chart.yaml"
    lines = [line for line in done.stderr.splitlines() if f"{sub.relative_to(tmp_path)}:" in line]
    assert len(lines) == 1, done.stderr
    assert "refused as an alias bomb" in lines[0]
    assert snapshot(chart) == before


def test_anchors_used_as_defaults_are_still_read(tmp_path, capsys) -> None:
    chart = copy("legacy-server", tmp_path / "base")
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text() + "maintainers:\n  - &me {name: a}\n  - *me\n")

    assert main(["check", str(chart)]) == 1
    assert "Chart.yaml" not in capsys.readouterr().err


def test_an_unknown_tag_in_requirements_is_read_as_helm_reads_it(chart_copy, capsys) -> None:
    """Helm's YAML library drops a tag it does not know and keeps the plain string
    (stable/express-gateway writes `condition: !redis.emulate`)."""
    chart = chart_copy("legacy-server")
    (chart / "requirements.yaml").write_text(
        "dependencies:\n- name: redis\n  version: 10.5.7\n"
        "  repository: https://example.com\n  condition: !redis.emulate\n"
    )

    assert main(["check", str(chart)]) == 1  # the chart's own findings

    out, err = capsys.readouterr()
    assert "could not determine a constructor" not in out + err
    assert "dependency redis 10.5.7 (https://example.com)" in out


def test_a_chart_name_with_a_slash_is_refused_with_the_real_reason(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text().replace("name: legacy-server", "name: legacy/server"))

    assert main(["check", str(chart)]) == 2

    out, err = capsys.readouterr()
    said = "legacy-server/Chart.yaml: chart name 'legacy/server' is invalid: it must not be a path"
    assert said in out + err
    assert "missing" not in out + err


def test_a_component_that_is_no_label_value_is_a_usage_error(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    before = snapshot(chart)

    assert main(["fix", str(chart), "--component", "migration=a b", "--write"]) == 2

    err = capsys.readouterr().err
    assert "--component migration=a b: 'a b' is no label value" in err
    assert "at most 63 characters: letters, digits, and -_. between them" in err
    assert snapshot(chart) == before


def test_an_alias_bomb_in_a_recipe_file_is_a_usage_error(tmp_path) -> None:
    chart = copy("legacy-server", tmp_path / "base")
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(
        "type: chartfix/v1/recipe\nname: x\nrecipeList: [component-labels]\n"
        + _bomb("description")
    )

    done = _limited(["fix", str(chart), "--recipe", str(recipe)], tmp_path)

    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2, done.stderr
    assert f"{recipe}: cannot read recipe file: aliases expand" in done.stderr
