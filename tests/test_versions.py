"""chartfix.versions reads a chart version as Helm does: checked against Helm's own engine.

Helm loads a chart whose version Masterminds/semver's NewVersion reads (its lint only warns
that `v1.2.3` or `1.2` is not strict SemVer 2) and refuses to load one it cannot read;
`helm_version` must accept exactly the versions Helm loads.
"""

from __future__ import annotations

from pathlib import Path

import helm_python
import pytest

from chartfix.versions import helm_version

LOADED = ["1.2.3", "v1.2.3", "1.2", "1", "2024.01.5", "01.2.3", "1.2.3+b.1", "0.1.0-rc.1"]
REFUSED = ["1.2.3-01", "1.2.3-rc..1", "1.2.3-", "latest", "1.2.3.4", "V1.2.3", "1.x", ""]


def helm_loads(tmp_path: Path, version: str) -> bool:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f'apiVersion: v2\nname: chart\nversion: "{version}"\n')
    return not helm_python.lint(str(chart))["errors"]


def reads(version: str) -> bool:
    try:
        helm_version(version)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("version", LOADED + REFUSED)
def test_helm_version_accepts_what_helm_loads(tmp_path: Path, version: str) -> None:
    assert reads(version) == helm_loads(tmp_path, version) == (version in LOADED)


def test_the_v_and_the_numbers_as_helm_coerces_them() -> None:
    assert helm_version("v1.2") == ("v", helm_version("1.2.0")[1])
    assert str(helm_version("2024.01.5")[1]) == "2024.1.5"
    assert str(helm_version(" 1.4.0-rc.1+abc ")[1]) == "1.4.0-rc.1+abc"
