"""An umbrella chart reports what is its own: a dependency rendered from a sibling chart
reports its findings itself, and every finding points at a file that exists (the sibling's
real template, or the archive of a packaged dependency)."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from conftest import FIXTURES

from chartfix.cli import main

UMBRELLA = """\
apiVersion: v2
name: {name}
version: 1.0.0
dependencies:
  - name: sub
    version: "1.2.3"
    repository: {repository}
"""

# the umbrella's own Job carries the sibling Deployment's selector labels: a finding that
# involves both charts, so it belongs to the umbrella
SHARED_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: seed
spec:
  template:
    metadata:
      labels:
        app: sub
        release: {{ .Release.Name }}
    spec:
      restartPolicy: Never
      containers:
        - name: seed
          image: example.org/seed:1
"""


def monorepo(tmp_path: Path) -> Path:
    tree = tmp_path / "charts"
    sub = tree / "sub"
    shutil.copytree(FIXTURES / "legacy-server", sub)
    meta = sub / "Chart.yaml"
    meta.write_text(meta.read_text().replace("name: legacy-server", "name: sub"))
    for template in (sub / "templates").iterdir():
        template.write_text(template.read_text().replace('"legacy-server.', '"sub.'))
    helpers = sub / "templates" / "_helpers.tpl"
    helpers.write_text(helpers.read_text().replace('define "legacy-server.', 'define "sub.'))
    for name, repository in (("plain", "file://../sub"), ("mixed", "file://../sub")):
        umbrella = tree / name
        (umbrella / "templates").mkdir(parents=True)
        (umbrella / "Chart.yaml").write_text(UMBRELLA.format(name=name, repository=repository))
        if name == "mixed":
            (umbrella / "templates" / "seed.yaml").write_text(SHARED_JOB)
    packed = tree / "packed"
    (packed / "charts").mkdir(parents=True)
    (packed / "Chart.yaml").write_text(UMBRELLA.format(name="packed", repository="''"))
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(sub, arcname="sub")
    (packed / "charts" / "sub-1.2.3.tgz").write_bytes(archive.getvalue())
    return tree


def findings_by_chart(capsys: pytest.CaptureFixture[str], tree: Path) -> dict[str, list]:
    assert main(["check", str(tree), "--format", "json", "-j", "1"]) == 1
    document = json.loads(capsys.readouterr().out)
    return {Path(c["path"]).name: c for c in document["charts"]}


def test_an_umbrella_does_not_repeat_its_siblings_findings(
    tmp_path, capsys, monkeypatch
) -> None:
    tree = monorepo(tmp_path)
    monkeypatch.chdir(tmp_path)
    charts = findings_by_chart(capsys, tree)
    own = {(f["rule"], f["object"]["name"]) for f in charts["sub"]["findings"]}
    assert own == {("overlap", "release-name-sub"), ("stray", "release-name-sub")}
    assert charts["plain"]["findings"] == []
    assert charts["plain"]["warnings"] == [
        "findings among the objects of dependency sub are reported with its chart, ../sub"
    ]
    mixed = charts["mixed"]["findings"]
    assert mixed, "the umbrella's own Job overlapping the sibling's Deployment stays"
    assert all("Job/seed" in json.dumps(f) for f in mixed)


def test_every_finding_points_at_a_file_that_exists(tmp_path, capsys, monkeypatch) -> None:
    tree = monorepo(tmp_path)
    monkeypatch.chdir(tmp_path)
    charts = findings_by_chart(capsys, tree)
    located = [(name, f["location"]["path"]) for name, c in charts.items() for f in c["findings"]]
    assert {name for name, _ in located} == {"sub", "mixed", "packed"}
    for name, path in located:
        assert Path(path).is_file(), f"{name}: {path} does not exist"
    assert {path for name, path in located if name == "packed"} == {
        "charts/packed/charts/sub-1.2.3.tgz"
    }
    assert "charts/sub/templates/deployment.yaml" in {p for n, p in located if n == "mixed"}


def test_fixing_an_umbrella_leaves_the_siblings_findings_to_it(tmp_path, capsys) -> None:
    tree = monorepo(tmp_path)
    assert main(["fix", str(tree / "plain"), "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "left:" not in err
    assert err.splitlines()[-1].endswith("0 findings fixable, 0 left")
