"""Plain manifests and kustomize targets as a new user meets them:
files given alone, a broken overlay among good ones, kubectl's own error text, broken YAML,
values given to a kind that has none. Small trees of our own, built by the real kubectl."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHARTFIX, *args], capture_output=True, text=True, check=False,
        cwd=cwd or Path(__file__).resolve().parent.parent,
    )


def test_broken_yaml_in_a_manifests_folder_names_the_file_with_its_folder(
    tmp_path: Path,
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "web.yaml").write_text(MANIFEST)
    (app / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n")
    done = run("check", str(app))
    assert done.returncode == 2
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: {app / 'broken.yaml'}: invalid YAML: line 5"), line


def test_a_failed_kustomize_build_says_kubectls_reason_on_one_line(tmp_path: Path) -> None:
    """kubectl logs a multi-line error as `err=<` ... ` >` (here: git cannot reach a remote
    base, allowed by --allow-remote; `.invalid` never resolves, with or without a network):
    the reason is kept, on one line, naming the folder on disk and not chartfix's temporary
    copy."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text(
        "resources:\n- git@example.invalid:org/repo.git//base\n"
    )
    done = run("check", str(app), "--allow-remote")
    assert done.returncode == 2
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("error:")]
    assert line.startswith(f"error: {app}: kubectl kustomize: accumulating resources"), line
    assert "example.invalid" in line and "exit status 128" in line, line
    # kubectl's own path names the folder on disk (a long reason is shortened in its middle,
    # so the path is checked where it survives: nowhere does the temporary copy appear)
    assert "chartfix-kustomize-" not in line and f"on '{app}/git@" in line, line
    assert not line.rstrip().endswith(">"), line


def overlays_with_a_broken_one(tmp_path: Path, resources: str) -> Path:
    """Our base-and-overlays fixture plus `overlays/broken`, whose kustomization names a
    folder that does not exist."""
    root = tmp_path / "app"
    shutil.copytree(FIXTURES / "kustomize-overlays", root)
    (root / "overlays" / "broken").mkdir()
    (root / "overlays" / "broken" / "kustomization.yaml").write_text(resources)
    return root


@pytest.mark.parametrize("resources", [
    "resources:\n- ../../nope\n",
    "resources:\n- ../../base\n- ../../nope\n",
])
def test_a_broken_overlay_is_named_once_and_the_others_are_checked_and_fixed(
    tmp_path: Path, resources: str
) -> None:
    root = overlays_with_a_broken_one(tmp_path, resources)
    done = run("check", "--strict", str(root))
    assert done.returncode == 1, done.stdout + done.stderr  # findings, not a target error
    said = done.stdout.splitlines()
    broken = [ln for ln in said if "overlays/broken" in ln]
    assert len(broken) == 1, said
    assert broken[0].strip().startswith("note: scenario overlays/broken could not render")
    assert "../../nope" in broken[0] and "kustomization.yaml" in broken[0], broken[0]
    assert any("scenarios: overlays/staging" in ln for ln in said)
    assert any("scenarios: overlays/production" in ln for ln in said)
    # latent matches (targetPort: http over a Job without ports): warnings
    assert said[-1].startswith("1 kustomization, 1 with findings: 0 errors, 4 warnings"), said[-1]
    assert "could not be processed" not in said[-1]
    report = json.loads(run("check", str(root), "--format", "json").stdout)
    (target,) = report["charts"]
    assert list(target["unrendered"]) == ["overlays/broken"]

    fixed = run("fix", "--fix-latent", str(root), "--write")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "scenario overlays/broken could not render" in fixed.stderr
    assert "could not be processed" not in fixed.stderr
    again = run("check", str(root))
    assert again.returncode == 0, again.stdout


def gitops_repo(tmp_path: Path) -> Path:
    """A repository (a pre-commit hook runs at its top) holding our base-and-overlays
    fixture under apps/api and a plain-manifests app beside it."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "kustomize-overlays", repo / "apps" / "api")
    shutil.copytree(FIXTURES / "manifests-app", repo / "apps" / "shop")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def targets_checked(done: subprocess.CompletedProcess[str]) -> list[tuple[str, list[str]]]:
    """(target, scenarios) of a JSON check."""
    report = json.loads(done.stdout)
    return [(t["path"], t["scenarios"]) for t in report["charts"]]


def test_a_kustomization_file_given_alone_stands_for_its_target(tmp_path: Path) -> None:
    """What a pre-commit hook passes: changed files, kustomization.yaml among them. It
    stands for the base-and-overlays target that holds it, and the other paths go on."""
    repo = gitops_repo(tmp_path)
    done = run(
        "check", "apps/api/overlays/staging/kustomization.yaml", "apps/shop",
        "--format", "json", "--strict", cwd=repo,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # findings, no usage error
    assert targets_checked(done) == [
        ("apps/api", ["overlays/production", "overlays/staging"]),
        ("apps/shop", ["manifests"]),
    ]


def test_a_file_of_a_base_stands_for_the_base_with_its_overlays(tmp_path: Path) -> None:
    """The same target as its folder's group, whichever of its files is given."""
    repo = gitops_repo(tmp_path)
    whole = targets_checked(run("check", "apps/api", "--format", "json", cwd=repo))
    assert whole == [("apps/api", ["overlays/production", "overlays/staging"])]
    for files in (
        ["apps/api/base/service.yaml"],
        ["apps/api/base/kustomization.yaml"],
        ["apps/api/overlays/production/pod-labels.yaml"],
        ["apps/api/base/service.yaml", "apps/api/overlays/staging/kustomization.yaml"],
    ):
        done = run("check", *files, "--format", "json", cwd=repo)
        assert targets_checked(done) == whole, files


def test_values_given_to_kinds_without_values_are_said_to_be_ignored(tmp_path: Path) -> None:
    """-f/--set mean something to Helm charts only: a plain-manifests folder or a
    kustomization given them says so once (a note, not an error), and is checked as is."""
    values = tmp_path / "values.yaml"
    values.write_text("replicaCount: 2\n")
    paths = ("fixtures/manifests-app", "fixtures/kustomize-overlays")
    done = run("check", *paths, "-f", str(values), "--set", "image.tag=v2", "--strict")
    assert done.returncode == 1, done.stdout + done.stderr  # the findings, not an error
    notes = [ln.strip() for ln in done.stdout.splitlines() if "do not apply" in ln]
    assert notes == [
        "note: -f/--set do not apply to a kustomization (it has no values): ignored",
        "note: -f/--set do not apply to a folder of plain manifests (it has no values): "
        "ignored",
    ]
    assert "do not apply" not in run("check", *paths).stdout
    fixed = run("fix", "--fix-latent", *paths, "--set", "image.tag=v2")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert [ln for ln in fixed.stderr.splitlines() if "do not apply" in ln] == [
        "  note: -f/--set do not apply to a kustomization (it has no values): ignored",
        "  note: -f/--set do not apply to a folder of plain manifests (it has no values): "
        "ignored",
    ]
