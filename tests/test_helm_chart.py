"""A chart on disk: discovery, Chart.yaml, scenarios, safe reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartfix.errors import TargetError, UsageError
from chartfix.sources.helm.chart import (
    IgnoreRules,
    Scenario,
    chart_files,
    find_charts,
    load_chart,
    scenarios,
)


def chart_dir(root: Path, name: str = "app", extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.2.3\n{extra}")
    (root / "values.yaml").write_text("replicas: 1\n")
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    return root


# --- find_charts -------------------------------------------------------------------------------


def test_monorepo_root_is_searched_and_dependency_folders_are_not(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    foo = chart_dir(repo / "charts" / "foo", "foo")
    bar = chart_dir(repo / "charts" / "bar", "bar")
    chart_dir(foo / "charts" / "vendored", "vendored")  # a dependency, not a target
    nested = chart_dir(foo / "examples" / "demo", "demo")  # other folders are searched
    chart_dir(repo / ".github" / "hidden", "hidden")
    chart_dir(repo / "node_modules" / "pkg", "pkg")

    assert find_charts([repo]) == sorted([foo.resolve(), bar.resolve(), nested.resolve()])


def test_a_chart_path_is_that_chart_only_and_results_are_deduplicated(tmp_path: Path) -> None:
    app = chart_dir(tmp_path / "app")
    chart_dir(app / "examples" / "demo", "demo")

    assert find_charts([app, app / "Chart.yaml", tmp_path / "app" / "."]) == [app.resolve()]


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no-such"):
        find_charts([tmp_path / "no-such"])


# --- load_chart --------------------------------------------------------------------------------


def test_load_chart_reads_metadata_and_dependencies(tmp_path: Path) -> None:
    root = chart_dir(
        tmp_path / "app",
        extra="appVersion: '2.0'\ndependencies:\n"
        "- name: redis\n  version: 1.x\n  repository: file://../redis\n"
        "  alias: cache\n  condition: cache.enabled\n  tags: [backend]\n",
    )
    chart = load_chart(root)

    assert (chart.name, chart.version, chart.app_version, chart.api_version) == (
        "app",
        "1.2.3",
        "2.0",
        "v2",
    )
    (dep,) = chart.dependencies
    assert (dep.name, dep.local_name, dep.repository, dep.condition, dep.tags) == (
        "redis",
        "cache",
        "file://../redis",
        "cache.enabled",
        ("backend",),
    )


def test_missing_chart_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"Chart\.yaml: missing Chart\.yaml"):
        load_chart(tmp_path)


def test_unparsable_chart_yaml_names_file_and_line(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: [1.0\n")

    with pytest.raises(TargetError) as caught:
        load_chart(root)
    assert caught.value.path.endswith("Chart.yaml")
    assert "line 4" in caught.value.reason


def test_chart_without_version_is_refused(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: app\n")

    with pytest.raises(TargetError, match="has no version"):
        load_chart(root)


def test_unparsable_values_names_values_yaml(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "values.yaml").write_text("a: [1\n")

    with pytest.raises(TargetError) as caught:
        load_chart(root)
    assert caught.value.path.endswith("values.yaml")
    assert "\n" not in str(caught.value)


def test_symlink_out_of_the_chart_is_named_with_its_target(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: x\n")
    (root / "templates" / "leak.yaml").symlink_to(secret)

    with pytest.raises(TargetError) as caught:
        load_chart(root)
    assert caught.value.path.endswith("templates/leak.yaml")
    assert str(secret) in caught.value.reason


def test_symlink_inside_the_chart_is_fine(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "templates" / "alias.yaml").symlink_to(root / "templates" / "cm.yaml")

    assert load_chart(root).name == "app"
    assert chart_files(root)["templates/alias.yaml"] == b"kind: ConfigMap\n"


# --- scenarios ---------------------------------------------------------------------------------


def test_scenarios_are_defaults_plus_each_ci_values_file(tmp_path: Path) -> None:
    """chart-testing's convention: only ci/*-values.yaml are test configurations."""
    root = chart_dir(tmp_path / "app")
    (root / "ci").mkdir()
    for name in ("b-values.yaml", "a-values.yaml", "c-values.yml", "other.yaml", "notes.txt"):
        (root / "ci" / name).write_text("replicas: 2\n")

    assert scenarios(load_chart(root)) == [
        Scenario("default"),
        Scenario("ci/a-values.yaml", (root / "ci" / "a-values.yaml",)),
        Scenario("ci/b-values.yaml", (root / "ci" / "b-values.yaml",)),
    ]


def test_user_values_replace_the_default_scenario_and_keep_ci(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "ci").mkdir()
    (root / "ci" / "x-values.yaml").write_text("replicas: 2\n")
    mine = tmp_path / "prod.yaml"

    assert scenarios(load_chart(root), [mine], ["replicas=3"]) == [
        Scenario("user", (mine,), ("replicas=3",)),
        Scenario("ci/x-values.yaml", (root / "ci" / "x-values.yaml",)),
    ]


# --- reading files -----------------------------------------------------------------------------


def test_helmignore_rules_follow_helm(tmp_path: Path) -> None:
    rules = IgnoreRules(["templates/.?*", "*.bak", "/docs", "build/"])

    assert rules.ignored("templates/.hidden.yaml", False)
    assert rules.ignored("templates/sub/x.bak", False)  # no slash: matches the base name
    assert rules.ignored("docs", True)
    assert not rules.ignored("templates/docs", True)  # `/docs` is anchored at the root
    assert rules.ignored("build", True)
    assert not rules.ignored("build", False)  # trailing slash: directories only
    assert not IgnoreRules(["*.yaml"]).ignored("templates/x.yml", False)
    assert not IgnoreRules(["templates/*.yaml"]).ignored("templates/sub/x.yaml", False)
    # Helm's negation quirk: `!p` ignores every path that p does not match
    assert IgnoreRules(["!*.yaml"]).ignored("templates", True)
    assert not IgnoreRules(["!*.yaml"]).ignored("x.yaml", False)


def test_chart_files_agree_with_helms_own_loader(tmp_path: Path) -> None:
    import helm_python

    root = chart_dir(tmp_path / "app")
    (root / ".helmignore").write_text("*.orig\n/notes/\nci\n[a-c]?.txt\n")
    for rel in (
        "a.orig",
        "templates/x.orig",
        "notes/n.txt",
        "sub/notes/n.txt",
        "ci/v.yaml",
        "ab.txt",
        "zz.txt",
        "templates/.hidden",
        "README.md",
        "templates/_h.tpl",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")

    with helm_python.Chart.load(root) as loaded:
        helm_sees = {f["name"] for f in loaded.files + loaded.templates}
    assert set(chart_files(root)) - {"Chart.yaml", "values.yaml"} == helm_sees


def test_chart_files_apply_helmignore(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / ".helmignore").write_text("# comment\n*.orig\nscratch/\n")
    (root / "templates" / "cm.yaml.orig").write_text("old")
    (root / "templates" / ".swp").write_text("editor")
    (root / "scratch").mkdir()
    (root / "scratch" / "notes.md").write_text("x")

    assert sorted(chart_files(root)) == [
        ".helmignore",
        "Chart.yaml",
        "templates/cm.yaml",
        "values.yaml",
    ]
