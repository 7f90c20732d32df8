"""Plain manifests and kustomize bases with overlays: the same rules, recipes and verifier.

Each fixture holds the same bug (a Deployment and a Job sharing a pod label, a Service
selecting both): `check` finds it, a dry run shows the exact patch, `--write` fixes it so
that `check` is clean, every byte outside the new lines stays, and every kubectl line of the
migration note is one kubectl accepts (checked by kubectl itself, as test_publish_migration does).
kustomize is built by the real engine (`kubectl kustomize`).
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, snapshot
from test_publish_migration import kubectl, kubectl_lines  # noqa: F401 - the kubectl fixture

from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.migration.text import migration_note
from chartfix.sources.kustomize.kind import KustomizeKind
from chartfix.sources.targets import find_targets, kind_of

DEPRECATED = (
    "# Warning: 'commonLabels' is deprecated. Please use 'labels' instead. Run 'kustomize "
    "edit fix' to update your Kustomization automatically."
)
"""kustomize's own warning on the commonLabels fixture: the line itself is valid."""

KINDS = {
    "manifests-app": "manifests",
    "kustomize-overlays": "kustomize",
    "kustomize-common-labels": "kustomize",
}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHARTFIX, *args], capture_output=True, text=True, env=env, check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_discovery_finds_each_kind_once_and_no_overlay_alone(tmp_path: Path) -> None:
    found = find_targets([FIXTURES])
    for name, kind in KINDS.items():
        assert (FIXTURES / name).resolve() in found
        assert kind_of(FIXTURES / name).name == kind
    overlays = FIXTURES / "kustomize-overlays"
    assert not [p for p in found if p.is_relative_to(overlays) and p != overlays.resolve()]
    assert find_targets([overlays / "overlays" / "staging"]) == [overlays.resolve()]
    # values files, CI workflows and random YAML are no manifests
    (tmp_path / "values.yaml").write_text("replicaCount: 1\nimage: {tag: x}\n")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci.yml").write_text("on: push\njobs: {}\n")
    assert find_targets([tmp_path]) == []
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert find_targets([tmp_path]) == [tmp_path.resolve()]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_check_finds_the_shared_label(name: str) -> None:
    done = run("check", f"fixtures/{name}", "--format", "json", "--strict")
    assert done.returncode == 1, done.stderr
    # a named targetPort the Job does not declare, no adoption: a latent match (a warning);
    # kustomize-common-labels' Service targets port 8080 by number: it reaches the Job
    grade = "error" if name == "kustomize-common-labels" else "warning"
    assert f"{grade}[overlap]" in run("check", f"fixtures/{name}").stdout
    assert '"stray"' in done.stdout


def test_dry_run_shows_the_fix_as_a_diff_and_writes_nothing(
    chart_copy: Callable[[str], Path],
) -> None:
    """The fix itself is test_manifests_edit.py's first pair (the same files): a dry run
    prints it as a unified diff of app.yaml, and leaves the files as they are."""
    from test_manifests_edit import APP, APP_AFTER, MIGRATE_JOB

    root = chart_copy("manifests-app")
    assert (root / "app.yaml").read_text() == APP, "the fixture and the pair are one case"
    assert (root / "migrate-job.yaml").read_text() == MIGRATE_JOB
    before = snapshot(root)
    done = run("fix", "--fix-latent", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    changed = [line for line in done.stdout.splitlines() if line.startswith(("+ ", "- "))]
    expected = [
        line.rstrip("\n") for line in difflib.unified_diff(
            APP.splitlines(keepends=True), APP_AFTER.splitlines(keepends=True)
        ) if line.startswith(("+ ", "- "))
    ]
    assert changed == expected and len(expected) == 4
    assert snapshot(root) == before


def test_an_overlay_patch_and_every_overlay_are_verified_with_one_base_edit() -> None:
    change = fix_target((FIXTURES / "kustomize-overlays").resolve(), FixRequest(fix_latent=True))
    assert sorted(f.path for f in change.files) == ["base/deployment.yaml", "base/service.yaml"]
    assert [r.scenario for r in change.after] == ["overlays/production", "overlays/staging"]
    for rendering in change.after:
        deployment = next(o for o in rendering.objects if o.kind == "Deployment")
        assert deployment.selector is not None
        assert deployment.selector.match_labels["component"] == "server"
        if rendering.scenario == "overlays/production":  # the patch's label is kept
            assert deployment.pod_labels == {"app": "api", "component": "server",
                                             "tier": "backend"}
    assert not change.unfixed


@pytest.mark.parametrize("name", sorted(KINDS))
def test_write_then_check_is_clean_and_only_lines_are_added(
    name: str, chart_copy: Callable[[str], Path]
) -> None:
    root = chart_copy(name)
    before = snapshot(root)
    done = run("fix", "--fix-latent", str(root), "--write")
    assert done.returncode == 0, done.stdout + done.stderr
    assert run("check", str(root)).returncode == 0
    after = snapshot(root)
    changed = [p for p in before if before[p] != after[p]]
    assert changed and set(after) == set(before)
    for path in changed:
        old, new = before[path].decode(), after[path].decode()
        # formatting kept: the old text is the new one minus whole inserted pieces
        rest = iter(new)
        assert all(ch in rest for ch in old), path


def test_every_kubectl_line_of_the_notes_is_valid(
    kubectl: Callable[[str], str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.chdir(FIXTURES.parent)  # the notes' paths are from the repository's top;
    # `kubectl apply -k DIR` builds DIR before it connects
    checked = 0
    for name in sorted(KINDS):
        change = fix_target((FIXTURES / name).resolve(), FixRequest(fix_latent=True,
                                                                   namespace="prod"))
        assert change.unsafe
        note = migration_note(change, "shop", "prod")
        assert "helm rollback" not in note and "kubectl apply" in note
        for line in kubectl_lines(note):
            said = kubectl(line).replace(DEPRECATED, "").strip(" |")
            assert said == "", f"{name}: {line}"
            checked += 1
    assert checked >= 10


def test_branch_commits_without_a_version_bump(tmp_path: Path) -> None:
    repo = tmp_path / "gitops"
    shutil.copytree(FIXTURES / "manifests-app", repo / "apps" / "shop")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t",
                                                   "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    done = run("fix", "--fix-latent", str(repo), "--branch", "fix/labels")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no version bump: a manifests target has no version to raise" in done.stderr
    files = subprocess.run(
        ["git", "show", "--name-only", "--format=", "fix/labels"], cwd=repo, check=True,
        capture_output=True, text=True,
    ).stdout.split()
    assert "apps/shop/app.yaml" in files and "apps/shop/README.md" in files


def test_without_kubectl_a_kustomize_target_is_one_clear_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {**os.environ, "PATH": str(bin_dir)}
    done = run("check", "fixtures/kustomize-overlays", "fixtures/manifests-app", env=env)
    assert done.returncode == 2
    said = (done.stdout + done.stderr).splitlines()
    errors = [line for line in said if "kubectl not found" in line]
    assert len(errors) == 1 and "kustomize-overlays" in errors[0]
    assert "Deployment/shop" in done.stdout  # the other target went on


def test_a_broken_kustomization_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    done = run("check", str(tmp_path))
    assert done.returncode == 2
    assert (
        f"error: {tmp_path}: kustomization.yaml `resources` names missing.yaml, which does "
        "not exist\n" in done.stdout
    )
    assert KustomizeKind().find([tmp_path]) == [tmp_path.resolve()]


def test_the_same_bug_gets_the_same_fix_as_in_a_helm_chart(tmp_path: Path) -> None:
    """The same-bug fixture of tests/test_pipeline_kinds.py, as plain manifests and as a
    kustomization: the same decisions as for the Helm chart."""
    from test_pipeline_kinds import copy, decisions

    helm = decisions(fix_target(copy(tmp_path, "same-bug-helm"), FixRequest(fix_latent=True)))
    for name in ("same-bug-manifests", "same-bug-kustomize"):
        change = fix_target(copy(tmp_path, name), FixRequest(fix_latent=True))
        assert decisions(change) == helm, name
        assert [f.path for f in change.files] == ["service.yaml", "web.yaml"], name


def test_a_lone_manifest_file_stands_for_its_folder(tmp_path: Path) -> None:
    """What a pre-commit hook passes: the changed file. A file of plain manifests no chart,
    app or kustomization holds makes its folder the target; a YAML file holding no
    Kubernetes object (values, a CI workflow) makes nothing a target."""
    folder = tmp_path / "deploy"
    shutil.copytree(FIXTURES / "same-bug-manifests", folder)
    (folder / "values.yaml").write_text("replicaCount: 1\n")
    (folder / "nested").mkdir()
    (folder / "nested" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    )
    assert find_targets([folder / "web.yaml"]) == [folder.resolve()]
    assert find_targets([folder / "values.yaml"]) == []
    done = run("check", str(folder / "service.yaml"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error[stray] Service/http" in done.stdout
    quiet = run("check", str(folder / "values.yaml"))
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    # a manifest file a kustomization holds is the kustomization's, not a folder of its own
    base = FIXTURES / "kustomize-overlays" / "base"
    assert kind_of(find_targets([base / "deployment.yaml"])[0]).name == "kustomize"


def test_notes_speak_of_applying_per_overlay_in_each_overlays_namespace() -> None:
    """A GitOps user applies YAML (or lets Argo CD / Flux sync it): no release, no values, no
    `helm upgrade --force`; each overlay's steps name its own objects in its own namespace
    (the kustomization's `namespace:`), never the `--namespace` given."""
    change = fix_target((FIXTURES / "kustomize-overlays").resolve(), FixRequest(fix_latent=True,
                                                                               namespace="qa"))
    note = migration_note(change, "shop", "qa")
    for helm_word in ("release", "helm", "chart", "-n qa", "`qa`", "values"):
        assert helm_word not in note, helm_word
    assert "Argo CD" in note and "Flux" in note
    sections = note.split("\n### Overlay ")[1:]
    assert [s.split("\n", 1)[0] for s in sections] == [
        "`overlays/production`", "`overlays/staging`"
    ]
    production, staging = sections
    assert "kubectl -n production delete deployment api --cascade=orphan" in production
    assert "kubectl apply -k 'fixtures/kustomize-overlays/overlays/production'" in production
    assert "-n staging" not in production and "-n production" not in staging
    assert "kubectl -n staging delete deployment/staging-api\n" in staging
    assert "kubectl -n staging delete rs NAME" in staging
    assert "kubectl apply -k 'fixtures/kustomize-overlays/overlays/staging'" in staging
    assert "Paths are from the top of the repository." in note


def test_a_manifests_note_applies_the_folder_in_the_namespace_objects_name(
    tmp_path: Path,
) -> None:
    """Objects naming their namespace are applied without `-n` (kubectl refuses an object
    whose namespace differs from `-n`); objects naming none land in the one given."""
    repo = tmp_path / "gitops"
    root = repo / "apps" / "shop"
    shutil.copytree(FIXTURES / "manifests-app", root)
    (repo / ".git").mkdir()  # the paths are from the top of the repository
    unnamed = migration_note(fix_target(root, FixRequest(fix_latent=True)), "shop", "prod")
    assert "kubectl -n prod apply -f 'apps/shop'" in unnamed
    assert "land in `prod`" in unnamed and "Written for release" not in unnamed
    for path in root.glob("*.yaml"):
        text = path.read_text().replace("\nmetadata:\n", "\nmetadata:\n  namespace: shop\n")
        path.write_text(text)
    named = migration_note(fix_target(root, FixRequest(fix_latent=True)), "shop", "prod")
    assert "kubectl apply -f 'apps/shop' " in named and " -n prod" not in named
    assert "kubectl -n shop delete deployment shop --cascade=orphan" in named


def test_summaries_name_the_kind_of_target_not_a_chart(tmp_path: Path) -> None:
    """Text a newcomer reads says what the target is (a kustomization, a manifests folder;
    "targets" when kinds mix) and that its YAML is applied, not a release upgraded; JSON
    keeps its field names."""
    from chartfix.publish.prbody import pr_body, pr_title

    fixed = run("fix", "--fix-latent", "fixtures/kustomize-overlays")
    assert fixed.stderr.splitlines()[-1].startswith("1 kustomization: 2 files changed")
    assert "release" not in fixed.stderr and "applying the new YAML" in fixed.stderr
    checked = run("check", "fixtures/manifests-app", "fixtures/kustomize-overlays")
    assert checked.stdout.splitlines()[-1].startswith("2 targets, 2 with findings")
    assert run("check", "fixtures/manifests-app").stdout.splitlines()[-1].startswith(
        "1 manifests folder, 1 with findings"
    )
    assert '"charts": [' in run("check", "fixtures/manifests-app", "--format", "json").stdout
    bulk = run("bulk", "--fix-latent", "fixtures/kustomize-overlays")
    assert "\nkustomization " in bulk.stderr  # the table's first column
    assert "\n1 kustomization processed" in bulk.stderr
    change = fix_target((FIXTURES / "manifests-app").resolve(), FixRequest(fix_latent=True))
    body = pr_body(change, "1 file changed", "shop", "prod")
    for helm_word in ("helm", "release", "Helm's engine"):
        assert helm_word not in body, helm_word
    assert "apply needs migration" in pr_title(change)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "kustomization or plain manifests under" in run("check", str(empty)).stderr


def test_check_says_an_object_written_twice_as_fix_does(tmp_path: Path) -> None:
    web = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: nginx}]}\n"
    )
    (tmp_path / "all-in-one.yaml").write_text(web)
    (tmp_path / "web.yaml").write_text(web)

    done = run("check", str(tmp_path))

    assert done.returncode == 0, done.stderr
    notes = [line.strip() for line in done.stdout.splitlines() if "written twice" in line]
    assert notes == [
        "note: Deployment/web is written twice, in all-in-one.yaml and web.yaml: `kubectl "
        "apply -f` keeps the latter, so chartfix reads and fixes that one only"
    ], done.stdout
    fixed = run("fix", "--fix-latent", str(tmp_path))
    assert notes[0].removeprefix("note: ") in fixed.stderr
