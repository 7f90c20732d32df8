"""Shared test helpers: fixture charts copied to a scratch directory, so tests may write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red CI must be reproducible); a developer's run
# draws new ones, so the property tests keep hunting.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# The chartfix command of the environment the tests run in: a fresh clone's own install,
# never a virtualenv that exists only on one machine.
CHARTFIX = [sys.executable, "-m", "chartfix"]


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test its own render cache, never the user's (`~/.cache/chartfix`): a test sees
    only the entries it wrote, and parallel tests never share one."""
    folder = tmp_path_factory.mktemp("chartfix-cache")
    monkeypatch.setenv("CHARTFIX_CACHE_DIR", str(folder))
    monkeypatch.delenv("CHARTFIX_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def chart_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`chart_copy("legacy-server")` -> a private copy of that fixture chart."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, symlinks=True)
        return target

    return copy


def recursing_chart(chart: Path) -> Path:
    """`chart` with a template whose `tpl` calls itself forever: Go's runtime aborts the
    process at its 1 GB stack limit (helm-python-sdk sets no smaller one). Each call sits in
    500 nested `if`s, so that every level takes more of the stack: the limit comes after
    about a second of work (with a bare `tpl`, after ten, and four times the memory)."""
    (chart / "templates" / "r.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\n"
        "data:\n  x: {{ tpl .Values.rec . | quote }}\n"
    )
    nested = "{{ if 1 }}" * RECURSION_NESTING + "{{ tpl $.Values.rec $ }}" \
        + "{{ end }}" * RECURSION_NESTING
    with (chart / "values.yaml").open("a") as values:
        values.write(f'rec: "{nested}"\n')
    return chart


RECURSION_NESTING = 500


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below `root` (outside .git) and its bytes: to prove nothing changed."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_leftover(chart: Path) -> Path:
    """Turn a copy of the `clean` fixture into a chart with an error no recipe fixes: the
    Deployment's pod template takes its component from a value whose default is not the
    selector's (a mismatch). A shared component alone would not do: a match with no effect
    is a latent warning, and one with an effect is fixable."""
    deployment = chart / "templates" / "deployment.yaml"
    text = deployment.read_text()
    pod_component = "        app.kubernetes.io/component: server\n"
    assert text.count(pod_component) == 1, "the fixture's pod template label moved"
    deployment.write_text(text.replace(
        pod_component,
        '        app.kubernetes.io/component: {{ .Values.podComponent | default "web" }}\n',
    ))
    return chart
