"""The places chart maintainers run linters from: a pre-commit hook (run by pre-commit itself),
a GitHub Action (its steps run as the runner runs them, as far as this machine can), a Helm
plugin (its command line run as Helm runs it, without Helm)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import CHARTFIX, FIXTURES, git

from chartfix import __version__

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def env_with_chartfix(**extra: str) -> dict[str, str]:
    """The environment of a user who installed chartfix: its command on PATH."""
    if not (VENV_BIN / "chartfix").is_file():
        pytest.skip("the chartfix command is not installed next to this Python")
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


# --- pre-commit ---------------------------------------------------------------------------------


def test_pre_commit_hook_checks_the_charts_holding_the_changed_files(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this repository as pre-commit does (a fresh virtualenv,
    pip) and runs the hook on a chart repository's changed files."""
    if not (ROOT / ".git").exists():
        pytest.skip("pre-commit try-repo needs this clone's git repository")
    repo = tmp_path / "charts-repo"
    repo.mkdir()
    git(repo, "init", "-q")
    shutil.copytree(FIXTURES / "legacy-server", repo / "legacy-server")
    shutil.copytree(FIXTURES / "clean", repo / "clean")
    shutil.copytree(FIXTURES / "volatile-one", repo / "untouched")
    (repo / "docs").mkdir()
    (repo / "docs" / "values.yaml").write_text("not: a chart\n")
    git(repo, "add", "-A")
    changed = ["legacy-server/templates/service.yaml", "clean/values.yaml", "docs/values.yaml"]
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "chartfix-check",
         "--files", *changed],
        cwd=repo, capture_output=True, text=True, check=False,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")},
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert re.search(r"chartfix check\.+Failed", out), out
    assert "legacy-server/templates/service.yaml:" in out and "error[stray]" in out
    assert "2 charts, 1 with findings" in out  # legacy-server and clean; not untouched
    assert "untouched" not in out


def test_the_hook_definition() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "chartfix-check"
    assert hook["entry"] == "chartfix check" and hook["language"] == "python"
    assert hook["pass_filenames"] is True and hook["require_serial"] is True


def test_check_takes_files_and_checks_the_chart_holding_each(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "rules-charts" / "subchart", tree / "app")
    (tree / "notes.txt").write_text("no chart holds me\n")
    vendored = tree / "app" / "charts" / "db" / "templates" / "db.yaml"
    result = subprocess.run(
        [*CHARTFIX, "check", "--format", "json", str(vendored), str(tree / "notes.txt")],
        capture_output=True, text=True, check=False,
    )
    charts = json.loads(result.stdout)["charts"]
    assert [c["name"] for c in charts] == ["rules-subchart"]  # the chart vendoring db
    result = subprocess.run(
        [*CHARTFIX, "check", str(tree / "notes.txt")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout == "0 charts, no findings\n"
    (tree / "empty").mkdir()
    result = subprocess.run(
        [*CHARTFIX, "check", str(tree / "empty")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "no chart" in result.stderr  # a directory must hold one


# --- GitHub Action ------------------------------------------------------------------------------


def action() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "action.yml").read_text())


def run_step(step: dict, inputs: dict[str, str], tmp_path: Path,  # type: ignore[type-arg]
             outputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run` step as the runner runs it: bash -eo pipefail, `${{ inputs.x }}` and
    `${{ steps.check.outputs.x }}` substituted in env, GITHUB_OUTPUT a file."""

    def expand(value: str) -> str:
        value = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], value)
        return re.sub(
            r"\$\{\{\s*steps\.check\.outputs\.([\w-]+)\s*\}\}",
            lambda m: outputs.get(m.group(1), ""), value,
        )

    output_file = tmp_path / "github_output"
    output_file.write_text("")
    env = env_with_chartfix(
        GITHUB_OUTPUT=str(output_file), GITHUB_ACTION_PATH=str(ROOT),
        **{k: expand(str(v)) for k, v in (step.get("env") or {}).items()},
    )
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    for line in output_file.read_text().splitlines():
        key, _, value = line.partition("=")
        outputs[key] = value
    return result


def test_action_is_a_composite_that_installs_checks_and_uploads() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    steps = spec["runs"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/setup-python", "github/codeql-action/upload-sarif"]
    install = next(s for s in steps if s.get("name") == "Install chartfix")
    assert install["run"] == (
        'python -m pip install --disable-pip-version-check -q "$GITHUB_ACTION_PATH"'
    )
    assert (ROOT / "pyproject.toml").is_file()  # what that installs: this repository
    text = (ROOT / "action.yml").read_text()
    declared = set(spec["inputs"])
    assert set(re.findall(r"inputs\.([\w-]+)", text)) <= declared
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"


@pytest.mark.parametrize(
    ("chart", "strict", "status"),
    [("clean", "false", 0), ("legacy-server", "false", 1),
     ("rules-charts/gossip-ring", "false", 0), ("rules-charts/gossip-ring", "true", 1)],
)
def test_action_steps_run_the_real_cli(
    tmp_path: Path, chart: str, strict: str, status: int
) -> None:
    spec = action()
    inputs = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
    inputs.update(paths=str(FIXTURES / chart), strict=strict)
    steps = {s.get("id") or s.get("name"): s for s in spec["runs"]["steps"]}
    outputs: dict[str, str] = {}
    run_step(steps["check"], inputs, tmp_path, outputs)
    assert outputs["exit-code"] == str(status)
    sarif = json.loads((tmp_path / inputs["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"] == "chartfix"
    final = run_step(steps["Exit as chartfix check did"], inputs, tmp_path, outputs)
    assert final.returncode == status


# --- Helm plugin --------------------------------------------------------------------------------

HELM3_PLUGIN_FIELDS = {
    "name", "version", "usage", "description", "platformCommand", "command", "ignoreFlags",
    "hooks", "downloaders", "useTunnel",
}


def helm_runs_plugin(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """What `helm chartfix ARGS` does (Helm 3's PrepareCommand): expand the environment in
    `command`, split it on spaces, append the arguments (ignoreFlags false), exec it with
    HELM_PLUGIN_DIR set."""
    spec = yaml.safe_load((ROOT / "plugin.yaml").read_text())
    environment = env_with_chartfix(HELM_PLUGIN_DIR=str(ROOT), HELM_PLUGIN_NAME="chartfix", **env)
    command = re.sub(r"\$(\w+)", lambda m: environment.get(m.group(1), ""), spec["command"])
    argv = command.split(" ") + ([] if spec.get("ignoreFlags") else args)
    return subprocess.run(argv, env=environment, capture_output=True, text=True, check=False)


def test_plugin_yaml_is_what_helm_loads() -> None:
    spec = yaml.safe_load((ROOT / "plugin.yaml").read_text())
    assert set(spec) <= HELM3_PLUGIN_FIELDS  # Helm reads plugin.yaml strictly
    assert re.fullmatch(r"[A-Za-z0-9_-]+", spec["name"]) and spec["name"] == "chartfix"
    assert spec["version"] == __version__
    assert spec["ignoreFlags"] is False  # else Helm drops the arguments after `chartfix`


@pytest.mark.parametrize("chart", ["clean", "legacy-server"])
def test_helm_chartfix_check_runs_chartfix(chart: str) -> None:
    via_helm = helm_runs_plugin(["check", str(FIXTURES / chart), "-j", "1"])
    direct = subprocess.run([*CHARTFIX, "check", str(FIXTURES / chart), "-j", "1"],
                            capture_output=True, text=True, check=False)
    assert (via_helm.returncode, via_helm.stdout) == (direct.returncode, direct.stdout)


def test_helm_namespace_reaches_the_render(tmp_path: Path) -> None:
    chart = tmp_path / "ring"
    shutil.copytree(FIXTURES / "rules-charts" / "gossip-ring", chart)
    template = chart / "templates" / "memberlist.yaml"
    text = template.read_text()
    head = '  name: {{ include "ring.fullname" . }}-memberlist\n'
    template.write_text(text.replace(head, head + "  namespace: {{ .Release.Namespace }}\n"))
    result = helm_runs_plugin(["check", str(chart), "--format", "json"], HELM_NAMESPACE="prod")
    (finding,) = json.loads(result.stdout)["charts"][0]["findings"]
    assert finding["object"]["namespace"] == "prod"
    result = helm_runs_plugin(["check", str(chart), "--format", "json", "--namespace", "qa"],
                              HELM_NAMESPACE="prod")
    assert json.loads(result.stdout)["charts"][0]["findings"][0]["object"]["namespace"] == "qa"


def test_helm_chartfix_without_chartfix_says_how_to_install(tmp_path: Path) -> None:
    spec = yaml.safe_load((ROOT / "plugin.yaml").read_text())
    command = spec["command"].replace("$HELM_PLUGIN_DIR", str(ROOT)).split(" ")
    result = subprocess.run([*command, "check", "."], env={"PATH": str(tmp_path)},
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert f"pip install '{ROOT}'" in result.stderr, "from the plugin's own clone"


INDEX_NAME = re.compile(r"pip install\s+(-\S+\s+)*[\"']?chartfix\b")


def test_nothing_tells_to_install_chartfix_by_a_package_index_name() -> None:
    """chartfix is not published on a package index: `pip install chartfix` would install
    whatever someone else put under that name, in a workflow that holds a push token."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    said = []
    for name in listed:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yaml", ".yml", ".sh", ".toml", ".txt"} or \
                name == "Dockerfile":
            text = path.read_text(encoding="utf-8", errors="replace")
            said += [f"{name}: {m.group(0)}" for m in INDEX_NAME.finditer(text)]
    said = [s for s in said if not s.startswith("tests/test_entry_points.py")]
    assert not said
    workflow = yaml.safe_load((ROOT / "deploy" / "github" / "chartfix-bulk.yaml").read_text())
    assert workflow["env"]["CHARTFIX"].startswith("git+"), "a git URL pinned by the user"



# --- helm-docs ----------------------------------------------------------------------------------


def test_a_helm_docs_readme_gets_the_note_in_its_template(tmp_path: Path) -> None:
    from chartfix.publish.migration.placement import note_files

    template = "# {{ template \"chart.name\" . }}\n\n## Upgrading\n\n### To 1.0.0\n\nNothing.\n"
    (tmp_path / "README.md.gotmpl").write_text(template)
    (tmp_path / "README.md").write_text("# web\n\n## Upgrading\n\n### To 1.0.0\n\nNothing.\n")
    note = "## Upgrading to 2.0.0\n\nRun `kubectl get pods -o go-template='{{.items}}'`.\n"
    for target in ("auto", "readme"):
        files = note_files(tmp_path, note, target, "2.0.0")  # type: ignore[arg-type]
        assert list(files) == ["README.md.gotmpl"]  # the generated README.md is left alone
        text = files["README.md.gotmpl"].decode()
        assert text.startswith('# {{ template "chart.name" . }}\n\n## Upgrading\n\n### To 2.0.0')
        assert "go-template='{{ \"{{\" }}.items}}'" in text  # Go template text, not an action
        assert text.endswith("### To 1.0.0\n\nNothing.\n")
    assert list(note_files(tmp_path, note, "migration", "2.0.0")) == ["MIGRATION.md"]
