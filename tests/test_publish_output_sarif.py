"""SARIF as code scanning reads it, checked by the SARIF Multitool itself (`validate`: the
schema and its own rules, SARIF1001 a rule name equal to its id among them), and with files
named from the repository's top (`%SRCROOT%`) when `check` runs in a subfolder.

The Multitool comes from npm (`@microsoft/sarif-multitool`); .ci/run installs it into
`.sarif-multitool/` (git-ignored). The validation test skips only when it is absent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, git

ROOT = Path(__file__).resolve().parent.parent


def multitool() -> str | None:
    """The Multitool's command: $CHARTFIX_SARIF_MULTITOOL, .ci/run's install, or PATH."""
    given = os.environ.get("CHARTFIX_SARIF_MULTITOOL")
    installed = ROOT / ".sarif-multitool" / "node_modules" / ".bin" / "sarif-multitool"
    for candidate in (given, str(installed) if installed.exists() else None):
        if candidate:
            return candidate
    return shutil.which("sarif-multitool")


@pytest.fixture
def sarif(tmp_path: Path) -> tuple[Path, dict]:
    """`check --format sarif charts` run in deploy/ of a repository: its file and document."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "legacy-server", repo / "deploy" / "charts" / "web")
    git(repo, "init", "-q")
    done = subprocess.run([*CHARTFIX, "check", "--format", "sarif", "charts"],
                          cwd=repo / "deploy", capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    out = tmp_path / "chartfix.sarif"
    out.write_text(done.stdout)
    return out, json.loads(done.stdout)


def test_files_are_named_from_the_repository_top(sarif: tuple[Path, dict]) -> None:
    out, document = sarif
    run = document["runs"][0]
    repo = out.parent / "repo"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}
    locations = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    assert [(loc["artifactLocation"], loc["region"]["startLine"]) for loc in locations] == [
        ({"uri": "deploy/charts/web/templates/deployment.yaml", "uriBaseId": "%SRCROOT%"}, 13),
        ({"uri": "deploy/charts/web/templates/service.yaml", "uriBaseId": "%SRCROOT%"}, 17),
    ]
    driver = run["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    for rule in driver["rules"]:
        assert rule["name"] != rule["id"] and rule["name"][0].isupper()
        assert rule["helpUri"].startswith(driver["informationUri"])


def test_the_sarif_multitool_finds_nothing_to_say(sarif: tuple[Path, dict]) -> None:
    tool = multitool()
    if tool is None:
        pytest.skip("the SARIF Multitool is not installed (.ci/run installs it from npm)")
    out, _ = sarif
    log = out.parent / "validation.sarif"
    done = subprocess.run(
        [tool, "validate", str(out), "--output", str(log), "--log", "ForceOverwrite"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    said = [r["message"] for r in json.loads(log.read_text())["runs"][0].get("results", [])]
    assert said == [], said
