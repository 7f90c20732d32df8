"""`--component`, a recipe file's and `.chartfix.yaml`'s `components` take names and
shell-style patterns alike, matched against the workload's name without the release (so a
pattern works for every release); one that matches no workload is a warning on every path,
naming the workloads it could have meant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartfix.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _added(out: str) -> set[str]:
    return {line[1:].strip() for line in out.splitlines() if line.startswith("+ ")}


@pytest.mark.parametrize("release", ["release-name", "r", "a-much-longer-release-name-for-prod"])
def test_a_pattern_on_the_command_line_names_the_workload_for_every_release(
    capsys: pytest.CaptureFixture[str], release: str
) -> None:
    """The Deployment is `RELEASE-web`: `we*` matches its name without the release."""
    code = main(["fix", str(FIXTURES / "same-bug-helm"), "--release", release,
                 "--component", "we*=frontend", "--fix-latent"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert _added(out) == {"component: frontend"}
    assert "matches no workload" not in err


def test_a_pattern_matching_nothing_is_a_warning_on_every_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = shutil.copytree(FIXTURES / "same-bug-helm", tmp_path / "shop")
    assert main(["fix", str(chart), "--component", "toolhub-*=web"]) == 0
    err = capsys.readouterr().err
    assert "warning: --component 'toolhub-*' matches no workload" in err
    assert "did you mean migrate, web?" in err  # no close name: every workload

    recipe = tmp_path / "fleet.yaml"
    recipe.write_text(
        "type: chartfix/v1/recipe\nname: fleet\ndescription: FleetDM fix\nrecipeList:\n"
        "  - component-labels:\n      components:\n        \"*-fleet\": fleet-server\n"
    )
    assert main(["fix", str(chart), "--recipe", str(recipe)]) == 0
    err = capsys.readouterr().err
    assert "warning: recipe file fleet: components '*-fleet' matches no workload" in err

    (chart / ".chartfix.yaml").write_text("components:\n  wbe: frontend\n")
    assert main(["fix", str(chart)]) == 0
    err = capsys.readouterr().err
    assert ".chartfix.yaml components: 'wbe' matches no workload" in err
    assert "did you mean web?" in err
