"""cdk8s apps on the recipe paths the one-pipeline refactor opened to them: a Job sharing
the controller's component value (the "own value" path: the cdk8s editor cannot replace a
value, and says so in one line), and a headless Service over several controllers on
purpose (the member-label path: the controllers' pods and the Service get `member-of`,
named after the Service's construct id, not the folder the app sits in)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, snapshot

from chartfix.cli import main

pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install '.[cdk8s]'")


def copy_app(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    target = tmp_path / (as_name or name)
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_a_job_sharing_the_component_value_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = copy_app(tmp_path, "cdk8s-own-value")
    before = snapshot(app)
    assert main(["fix", "--fix-latent", str(app), "--run-apps",
                 "--write"]) == 1, "a finding is left"
    err = capsys.readouterr().err
    left = [line for line in err.splitlines() if line.strip().startswith("left:")]
    assert len(left) == 1
    assert "Job/shop-reindex" in left[0] and "component (server)" in left[0]
    assert "by hand" in left[0]
    assert snapshot(app) == before, "nothing written"


def test_a_headless_service_over_several_statefulsets_selects_on_a_member_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = copy_app(tmp_path, "cdk8s-peer-service", as_name="checkout")
    before = snapshot(app)
    assert main(["check", str(app), "--run-apps", "--strict"]) == 1
    assert main(["fix", "--fix-latent", str(app), "--run-apps", "--write"]) == 0
    said = capsys.readouterr()
    assert "no longer Job/db-bootstrap" in said.err
    text = (app / "main.py").read_text()
    old = before[next(p for p in before if p.endswith("main.py"))].decode()
    assert text == old.replace(
        'ObjectMeta(labels={"app": "db", "role": role})',
        'ObjectMeta(labels={"app": "db", "member-of": "peers", "role": role})',
    ).replace('selector={"app": "db"}', 'selector={"app": "db", "member-of": "peers"}')
    assert 'match_labels={"app": "db", "role": role}' in text, "their selectors stay"
    assert main(["check", str(app), "--run-apps"]) == 0
