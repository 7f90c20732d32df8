"""Declarative recipe files (recipes/*.yaml, a team's own recipes/, .chartfix.yaml `recipe:`)
and third-party Python recipes (the `chartfix.recipes` entry point group)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import CHARTFIX, FIXTURES, git, snapshot

from chartfix.cli import main
from chartfix.recipes import registry
from chartfix.recipes.base import options_of
from chartfix.recipes.files import load_recipe_file

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "recipes").glob("*.yaml"))
SCHEMA = json.loads((ROOT / "recipes" / "recipe.schema.json").read_text(encoding="utf-8"))

FLEET = """\
type: chartfix/v1/recipe
name: fleet
description: The upstream FleetDM fix, once for every chart of the team.
recipeList:
  - component-labels:
      component-key: component
      components:
        "*-legacy-server": fleet-server
rules: [overlap, stray]
commit-message: "{chart}: {summary} [{recipe}]"
branch: chartfix/{recipe}
"""


def chart_repo(tmp_path: Path, recipe: str | None = FLEET) -> tuple[Path, Path]:
    """A git repository holding the legacy-server chart and, in recipes/, `recipe` as
    fleet.yaml: (repository, chart)."""
    repo = tmp_path / "repo"
    chart = repo / "charts" / "legacy-server"
    shutil.copytree(FIXTURES / "legacy-server", chart)
    if recipe is not None:
        (repo / "recipes").mkdir()
        (repo / "recipes" / "fleet.yaml").write_text(recipe, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "charts")
    return repo, chart


def upstream_fleet_fix(name: str) -> str:
    """The legacy-server fixture's file as the upstream FleetDM fix left it: `component:
    fleet-server` in the Deployment's selector and the Service's selector (their keys are
    alphabetical: the new key in its sorted place) and at the end of the pod labels (app,
    chart, release, heritage: no order to keep)."""
    text = (FIXTURES / "legacy-server" / "templates" / name).read_text(encoding="utf-8")
    if name == "deployment.yaml":
        selector = '      app: {{ template "legacy-server.name" . }}\n      release:'
        assert text.count(selector) == 1
        text = text.replace(
            selector,
            '      app: {{ template "legacy-server.name" . }}\n'
            "      component: fleet-server\n      release:",
        )
        pods = "        heritage: {{ .Release.Service }}\n    spec:"
        assert text.count(pods) == 1
        return text.replace(
            pods,
            "        heritage: {{ .Release.Service }}\n        component: fleet-server\n    spec:",
        )
    selector = '    app: {{ template "legacy-server.name" . }}\n    release:'
    assert text.count(selector) == 1
    return text.replace(
        selector,
        '    app: {{ template "legacy-server.name" . }}\n    component: fleet-server\n    release:',
    )


def test_recipe_file_reproduces_the_upstream_fleetdm_fix(tmp_path: Path, capsys) -> None:
    """`--recipe fleet` is found in the repository's own recipes/ folder."""
    _, chart = chart_repo(tmp_path)
    before = snapshot(chart)
    assert main(["fix", "--recipe", "fleet", "--write", str(chart)]) == 0
    after = snapshot(chart)
    changed = sorted(k for k in after if after[k] != before[k])
    assert changed == ["templates/deployment.yaml", "templates/service.yaml"]
    for name in ("deployment.yaml", "service.yaml"):
        assert (chart / "templates" / name).read_text(encoding="utf-8") == upstream_fleet_fix(name)


def test_recipe_file_by_path_and_from_chartfix_yaml_give_the_same_fix(tmp_path: Path) -> None:
    repo, chart = chart_repo(tmp_path)
    assert main(["fix", "--recipe", str(repo / "recipes" / "fleet.yaml"), "--write",
                 str(chart)]) == 0
    by_path = snapshot(chart)
    git(repo, "checkout", "-q", "--", ".")
    (chart / ".chartfix.yaml").write_text("recipe: ../../recipes/fleet.yaml\n", encoding="utf-8")
    assert main(["fix", "--write", str(chart)]) == 0
    by_config = snapshot(chart)
    del by_config[".chartfix.yaml"]
    assert by_config == by_path


def test_recipe_runs_are_recorded_in_commit_pr_body_and_bulk_report(tmp_path: Path) -> None:
    """--branch without NAME takes the file's branch template; the commit subject follows its
    commit-message template; commit, PR body and report name the recipe and its options."""
    repo, chart = chart_repo(tmp_path)
    body = tmp_path / "pr.md"
    assert main(["fix", "--recipe", "fleet", "--branch", "--pr-body", str(body),
                 str(chart)]) == 0
    message = git(repo, "log", "-1", "--format=%B", "chartfix/fleet").rstrip()
    message = message.rsplit("\n\nChartfix-Tree: ", 1)[0]  # chartfix's trailer comes last
    subject = message.splitlines()[0]
    assert subject == "legacy-server: fix 2 label-selector findings (overlap, stray); " \
        "upgrade needs migration [fleet]"
    recorded = (
        f'fleet [{repo / "recipes" / "fleet.yaml"}]: component-labels(component-key=component, '
        'components={"*-legacy-server": "fleet-server"}); rules=["overlap", "stray"]'
    )
    assert message.rstrip().endswith(f"chartfix recipe: {recorded}")
    assert f"Recipe file that ran: `{recorded}`" in body.read_text(encoding="utf-8")

    report = tmp_path / "report.json"
    main(["bulk", "--recipe", "fleet", "--report", str(report), str(repo)])
    entries = json.loads(report.read_text(encoding="utf-8"))["charts"]
    assert [e["recipe"] for e in entries] == [recorded]


def test_shipped_legacy_component_uses_the_bare_key(chart_copy, capsys) -> None:
    chart = chart_copy("legacy-server")
    assert main(["fix", "--recipe", "legacy-component", str(chart)]) == 0
    diff = capsys.readouterr().out
    assert "+      component: server\n" in diff
    assert "app.kubernetes.io/component" not in diff


def test_shipped_selector_hygiene_is_todays_default(chart_copy, capsys) -> None:
    chart = chart_copy("volatile-legacy")
    main(["fix", str(chart)])
    default = capsys.readouterr().out
    main(["fix", "--recipe", "selector-hygiene", str(chart)])
    assert capsys.readouterr().out == default


# --- invalid files: one clear error each ----------------------------------------------------

INVALID = [
    ("type: [unclosed\n", 2, "not valid YAML: expected ',' or ']'"),
    ("- a list\n", 1, "a recipe file must be a mapping"),
    ("type: chartfix/v1/recipe\nname: x\nrecipeList: [component-labels]\n", 1,
     "`description`: missing"),
    ("type: chartfix/v2/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n", 1,
     "`type`: must be chartfix/v1/recipe"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipelist: [component-labels]\n", 4,
     "`recipelist`: unknown key (did you mean `recipeList`?)"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList:\n  - component-label\n",
     5, "`recipeList[0]`: unknown recipe 'component-label' (did you mean component-labels?)"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList:\n  - component-labels:\n"
     "      component-keys: component\n", 6,
     "`recipeList[0].component-labels.component-keys`: unknown key (did you mean "
     "`component-key`?)"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList:\n  - component-labels:\n"
     "      label-jobs: yes please\n", 6,
     "`recipeList[0].component-labels.label-jobs`: must be true or false"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList:\n  - component-labels:\n"
     "      components: [server]\n", 6,
     "`recipeList[0].component-labels.components`: must map workload names"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList:\n  - component-labels:\n"
     "      components: {server: web server}\n", 6,
     "`recipeList[0].component-labels.components`: the value for 'server' is no label value"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList:\n  - stable-selectors:\n"
     "      component-key: Team.Example/role\n", 6,
     "`recipeList[0].stable-selectors.component-key`: 'Team.Example/role' is no label key"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "rules: [overlap, strays]\n", 5, "`rules[1]`: unknown rule 'strays'"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "bump: huge\n", 5, "`bump`: 'huge' is not one of auto, major, minor, patch, none"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "branch: chartfix/{team}\n", 5, "`branch`: bad placeholder 'team'; use {recipe}"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "commit-message: '{chart.foo}'\n", 5,
     "`commit-message`: bad placeholder 'chart.foo'; use {chart}, {summary}, {recipe}"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "commit-message: '{chart[0]}'\n", 5,
     "`commit-message`: bad placeholder 'chart[0]'; use {chart}, {summary}, {recipe}"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "commit-message: '{chart:>99999999999}'\n", 5,
     "`commit-message`: bad placeholder {chart:>99999999999} (no conversion or format spec)"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: [component-labels]\n"
     "commit-message: '{summary!r}'\n", 5,
     "`commit-message`: bad placeholder {summary!r} (no conversion or format spec)"),
    ("type: chartfix/v1/recipe\nname: x\ndescription: d\nrecipeList: []\n", 4,
     "`recipeList`: must be a list of recipes"),
]


@pytest.mark.parametrize(("text", "line", "reason"), INVALID)
def test_invalid_recipe_file_is_one_clear_error(
    tmp_path: Path, chart_copy, capsys, text: str, line: int, reason: str
) -> None:
    chart = chart_copy("legacy-server")
    before = snapshot(chart)
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(text, encoding="utf-8")
    assert main(["fix", "--recipe", str(recipe), "--write", str(chart)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"chartfix: {recipe}:{line}: {reason}"), err
    assert snapshot(chart) == before


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    # YAML errors are no documents; a recipe name or a placeholder the schema cannot know
    [case for case in INVALID[1:] if "recipe '" not in case[2] and "placeholder" not in case[2]],
)
def test_the_schema_rejects_what_loading_rejects(text: str, line: int, reason: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), SCHEMA)


def test_a_bad_recipe_named_in_chartfix_yaml_fails_that_chart_only(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good"
    bad = tmp_path / "bad"
    shutil.copytree(FIXTURES / "legacy-server", good)
    shutil.copytree(FIXTURES / "legacy-server", bad)
    (bad / ".chartfix.yaml").write_text("recipe: nothere\n", encoding="utf-8")
    assert main(["fix", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad / '.chartfix.yaml'}: `recipe`: unknown recipe nothere" in err


# --- the shipped files and the schema --------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_recipes_load_and_match_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), SCHEMA)
    assert load_recipe_file(path).name == path.stem


def test_shipped_recipes_are_both_there() -> None:
    assert {p.stem for p in SHIPPED} >= {"selector-hygiene", "legacy-component"}


def test_schema_lists_every_built_in_recipe_and_the_options_each_declares() -> None:
    """The schema editors check recipe files with says what the recipes declare: each
    built-in recipe, its options by name, each option's JSON type."""
    json_type = {str: "string", bool: "boolean", dict: "object"}
    recipes = registry()
    names = SCHEMA["properties"]["recipeList"]["items"]["oneOf"][0]["enum"]
    assert names == list(recipes)
    for name, recipe in recipes.items():
        props = SCHEMA["$defs"][name]["properties"][name]["properties"]
        declared = {o.name: o for o in options_of(recipe)}
        assert set(props) == set(declared), name
        for option_name, prop in props.items():
            if "$ref" in prop:
                prop = SCHEMA["$defs"][prop["$ref"].rsplit("/", 1)[-1]]
            assert prop["type"] == json_type[declared[option_name].kind], option_name


def test_schema_and_recipes_agree_on_what_a_component_is() -> None:
    """A value the schema refuses, loading the file refuses too (one label rule)."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for key, accepted in [("component", True), ("team.example.com/component", True),
                          ("Team_Example/component", False), ("a/b/c", False)]:
        doc = {"type": "chartfix/v1/recipe", "name": "x", "description": "d",
               "recipeList": [{"component-labels": {"component-key": key}}]}
        assert validator.is_valid(doc) is accepted, key
        problem = options_of(registry()["component-labels"])[0].check(key)
        assert (problem is None) is accepted, key


def test_every_package_is_packaged() -> None:
    """pyproject lists its packages (to ship recipes/ as chartfix_recipes): none forgotten."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ])
    found = {
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "chartfix").rglob("*")
        if p.is_dir() and any(p.glob("*.py"))
    }
    assert found | {"chartfix", "chartfix_recipes"} == listed


# --- third-party Python recipes --------------------------------------------------------------

PLUGIN = '''\
"""A team's recipe: component labels under the team's own key."""
from dataclasses import replace

from chartfix.recipes.component_labels import ComponentLabels, ComponentLabelsOptions


class TeamComponent:
    name = "team-component"
    summary = "Component labels under team.example.com/component"
    rules = frozenset({"overlap", "stray"})
    Options = ComponentLabelsOptions

    def plan(self, context):
        options = replace(context.options, component_key="team.example.com/component")
        return ComponentLabels().plan(replace(context, options=options))
'''


def plugin_env(
    tmp_path: Path,
    plugin: str = PLUGIN,
    entry: str = "team-component = chartfix_team:TeamComponent",
) -> dict[str, str]:
    """A package installed as pip installs one (module + dist-info with entry_points.txt),
    on a directory importlib.metadata searches: PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "chartfix_team.py").write_text(plugin, encoding="utf-8")
    info = site / "chartfix_team-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: chartfix-team\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[chartfix.recipes]\n{entry}\n", encoding="utf-8"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_entry_point_recipe_is_listed_and_runs(tmp_path: Path) -> None:
    env = plugin_env(tmp_path)
    listing = subprocess.run(
        [*CHARTFIX, "recipes"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "team-component" in listing
    assert "from: entry point team-component = chartfix_team:TeamComponent " \
        "(package chartfix-team)" in listing
    chart = tmp_path / "legacy-server"
    shutil.copytree(FIXTURES / "legacy-server", chart)
    recipe = tmp_path / "team.yaml"
    recipe.write_text(
        "type: chartfix/v1/recipe\nname: team\ndescription: ours\n"
        "recipeList: [team-component]\n", encoding="utf-8"
    )
    for ref in ("team-component", str(recipe)):
        run = subprocess.run(
            [*CHARTFIX, "fix", "--recipe", ref, str(chart)], env=env, capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        assert "+    team.example.com/component: server\n" in run.stdout
        assert "2 findings fixable, 0 left" in run.stderr


NETPOL_PLUGIN = '''
from chartfix.model.changes import FixUnit
from chartfix.model.edits import Edit, PlannedEdit
from chartfix.recipes.base import Plan


class NetpolReviewed:
    name = "netpol-reviewed"
    summary = "A NetworkPolicy's stray selector marked as reviewed"
    rules = frozenset({"stray"})

    def plan(self, context):
        strays = [f for f in context.findings if f.rule == "stray"]
        mark = PlannedEdit("templates/networkpolicy.yaml", Edit(0, 0, "# reviewed\\n"), "mark")
        return Plan(units=[FixUnit("mark", [mark], strays, {}, "safe")] if strays else [])
'''


def test_check_advises_an_installed_recipe_for_what_the_built_in_ones_leave(
    tmp_path: Path,
) -> None:
    """The built-in recipes cannot edit the NetworkPolicy's selector (a library's helper
    writes it whole): check says "by hand", unless an installed recipe plans that fix."""
    chart = shutil.copytree(FIXTURES / "advice" / "library-netpol", tmp_path / "chart")
    env = plugin_env(tmp_path, NETPOL_PLUGIN, "netpol-reviewed = chartfix_team:NetpolReviewed")

    def stray_advice(env: dict[str, str] | None) -> str:
        run = subprocess.run(
            [*CHARTFIX, "check", "--no-cache", str(chart)], env=env, capture_output=True,
            text=True, check=False,
        )
        [advice] = [line for line in run.stdout.splitlines()[-3:] if "fix:" in line]
        return advice

    assert "by hand: `chartfix fix` does not do it here" in stray_advice(None)
    assert stray_advice(env).endswith("`chartfix fix --fix-latent` does it (safe).")


def test_without_the_package_the_recipe_is_unknown(chart_copy, capsys) -> None:
    assert main(["fix", "--recipe", "team-component", str(chart_copy("legacy-server"))]) == 2
    assert "unknown recipe team-component" in capsys.readouterr().err


def test_documented_recipe_examples_load_and_the_shipped_ones_are_shown_as_shipped(
    tmp_path: Path,
) -> None:
    page = (ROOT / "docs" / "recipes.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in page.split("```yaml\n")[1:]]
    # recipes/typo.yaml is there to show its error (tests/test_documented_commands.py)
    recipes = [b for b in blocks if "type: chartfix/v1/recipe" in b and "name: typo" not in b]
    assert len(recipes) >= 3
    for index, block in enumerate(recipes):
        path = tmp_path / f"example-{index}.yaml"
        path.write_text(block, encoding="utf-8")
        load_recipe_file(path)
    for shipped in SHIPPED:
        body = shipped.read_text(encoding="utf-8")
        body = body[body.index("type: chartfix/v1/recipe"):]
        assert any(body in block for block in recipes), shipped.name


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--recipe", "component-labels", "--recipe", "legacy-component"],
         "--recipe legacy-component is a declarative recipe: give it alone (its recipeList "
         "says which recipes run)"),
        (["--branch"], "--branch needs a NAME (or a --recipe whose file sets `branch`)"),
        (["--recipe", "nothere"], "unknown recipe nothere; available: stable-selectors, "
         "component-labels, restart-on-labels, legacy-component, selector-hygiene"),
    ],
)
def test_recipe_misuse_is_a_usage_error(chart_copy, capsys, argv: list[str], says: str) -> None:
    chart = chart_copy("legacy-server")
    assert main(["fix", *argv, "--", str(chart)]) == 2
    assert capsys.readouterr().err == f"chartfix: {says}\n"


def test_a_bad_component_value_in_chartfix_yaml_fails_that_chart_only(
    chart_copy, capsys
) -> None:
    """`.chartfix.yaml` components are the component-labels options too: checked as such,
    one line naming the chart and the key, nothing written."""
    chart = chart_copy("legacy-server")
    (chart / ".chartfix.yaml").write_text("components:\n  server: web server\n")
    before = snapshot(chart)
    assert main(["fix", "--write", str(chart)]) == 2
    err = capsys.readouterr().err
    assert ".chartfix.yaml: `components`: the value for 'server' is no label value" in err, err
    assert snapshot(chart) == before
