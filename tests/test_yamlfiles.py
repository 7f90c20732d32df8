"""Plain manifests that are bad input, and YAML shapes the editor must not trip on.

A file in a manifests folder that was meant as a manifest but cannot be read as one (does
not parse, is a top-level list, writes a key twice, is not UTF-8, is a link out of the
repository) is one clear line naming the file, exit 2 for that target, no file changed, the
other targets going on. A `<<` merge may not bring a key a fix writes too. (YAML that kubectl
reads, tabs and `<<` merges among it, edited as written: test_manifests_edit.py.)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, snapshot

from chartfix.sources.yamlfiles import YamlFiles


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHARTFIX, *args], capture_output=True, text=True, check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )


def app_with(tmp_path: Path, name: str, data: bytes) -> Path:
    """A copy of the manifests-app fixture with one more file."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "manifests-app", app)
    (app / name).write_bytes(data)
    return app


def refused(app: Path, file: str, reason: str) -> None:
    """`check` and `fix --write` of `app` stop at `file` with `reason`, on one line naming
    its full path, exit 2, and nothing is written; a clean target beside it goes on."""
    other = app.parent / "clean"
    shutil.copytree(FIXTURES / "manifests-app", other)
    before = snapshot(app)
    done = run("check", str(app), str(other))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if str(app) in line]
    assert len(lines) == 1, done.stdout + done.stderr
    assert f"{app / file}: " in lines[0] and reason in lines[0], lines[0]
    assert f"{other}/app.yaml:15: warning[overlap]" in done.stdout  # the other target went on
    done = run("fix", "--fix-latent", "--write", str(app))
    assert done.returncode == 2, done.stdout + done.stderr
    assert snapshot(app) == before


BROKEN = {
    "quoted-keys": (
        b'"apiVersion": apps/v1\n"kind": Deployment\nmetadata:\n  name: other\n'
        b"  labels: {app.kubernetes.io/name: shop\nspec: {}\n",
        "invalid YAML",
    ),
    "single-quoted-flow": (
        b"{'apiVersion': v1, 'kind': ConfigMap, metadata: {name: c}\n", "invalid YAML"
    ),
    "list-broken": (
        b"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c\n", "invalid YAML"
    ),
    "list-parsed": (
        b"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n", "top-level list"
    ),
}


@pytest.mark.parametrize("shape", sorted(BROKEN))
def test_a_file_meant_as_a_manifest_that_is_not_one_is_refused(
    tmp_path: Path, shape: str
) -> None:
    data, reason = BROKEN[shape]
    refused(app_with(tmp_path, "other.yaml", data), "other.yaml", reason)


def test_yaml_that_is_no_manifest_stays_ignored(tmp_path: Path) -> None:
    app = app_with(tmp_path, "values.yaml", b"replicaCount: 1\nimage: {tag: x}\n")
    (app / "notes.yaml").write_bytes(b"todo: {fix this\n")  # broken, but no manifest
    (app / "hosts.yaml").write_bytes(b"- name: a\n- name: b\n")  # a list, but no manifest
    done = run("check", "--strict", str(app))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "values.yaml" not in done.stdout + done.stderr
    assert "notes.yaml" not in done.stdout + done.stderr
    assert "hosts.yaml" not in done.stdout + done.stderr


def test_a_key_written_twice_is_refused_as_kubectl_refuses_it(tmp_path: Path) -> None:
    service = (
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: other\nspec:\n  selector:\n"
        b"    app.kubernetes.io/name: shop\n    app.kubernetes.io/name: web\n"
    )
    refused(
        app_with(tmp_path, "other.yaml", service), "other.yaml",
        "line 8: app.kubernetes.io/name is written twice in spec.selector",
    )


def test_a_manifest_not_in_utf8_is_one_clear_line(tmp_path: Path) -> None:
    config = b'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  note: "caf\xe9"\n'
    refused(app_with(tmp_path, "other.yaml", config), "other.yaml", "line 6: not UTF-8")


def test_a_link_out_of_the_repository_is_refused_one_inside_is_read(tmp_path: Path) -> None:
    """As for Helm charts (README, Symlinks): read through while inside the repository."""
    repo = tmp_path / "repo"
    app = app_with(repo, "other.yaml", b"replicaCount: 1\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "app.yaml").write_bytes((app / "app.yaml").read_bytes())
    (app / "app.yaml").unlink()
    (app / "app.yaml").symlink_to("../../outside/app.yaml")
    refused(app, "app.yaml", f"symlink points outside the repository, to {outside}/app.yaml")

    (repo / "shared").mkdir()
    (repo / "shared" / "app.yaml").write_bytes((outside / "app.yaml").read_bytes())
    (app / "app.yaml").unlink()
    (app / "app.yaml").symlink_to("../shared/app.yaml")
    done = run("check", "--strict", str(app))
    assert done.returncode == 1 and f"{app}/app.yaml:15: warning[overlap]" in done.stdout


def test_a_kustomize_resource_linked_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    """kustomize reads the files its kustomizations name through the same kind of rule."""
    group = tmp_path / "repo" / "kz"
    shutil.copytree(FIXTURES / "kustomize-overlays", group)
    (tmp_path / "outside").mkdir()
    moved = tmp_path / "outside" / "deployment.yaml"
    (group / "base" / "deployment.yaml").rename(moved)
    (group / "base" / "deployment.yaml").symlink_to(moved)
    done = run("check", str(group))
    assert done.returncode == 2
    said = done.stdout + done.stderr
    assert "base/kustomization.yaml names deployment.yaml, which is outside" in said
    assert "chartfix copies nothing from outside it" in said


def test_a_fix_may_not_write_a_key_a_merge_brings_too(tmp_path: Path) -> None:
    """Which of the two counts is the reader's business: a fix leaves neither behind; a key
    the author already overrides that way is theirs."""
    files = YamlFiles(tmp_path)
    before = "a: &x {app: shop}\nb: {<<: *x, app: web}\n"
    (tmp_path / "m.yaml").write_text(before)
    assert files.problem({"m.yaml": b"a: &x {app: shop}\nb: {<<: *x, app: web, t: 1}\n"}) == ""
    edited = b"a: &x {app: shop, c: w}\nb: {<<: *x, app: web, c: w}\n"
    assert files.problem({"m.yaml": edited}) == (
        "m.yaml: c is written in b (line 2) and also comes from its `<<` merge"
    )
