"""Migration notes written from real renderings of our own fixture chart, before and after.

The "after" chart is the fixture with a `component` label added to selectors and pod
templates, rendered through the same overrides path the fix pipeline verifies with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chartfix.changes import ChartChange, FileChange
from chartfix.chart import Scenario, load_chart
from chartfix.findings import Finding, Location
from chartfix.migration import (
    changed_refs,
    commit_message,
    migration_note,
    note_files,
    object_changes,
)
from chartfix.objects import ObjectRef
from chartfix.prbody import pr_body, pr_title
from chartfix.render import render

CHART = Path(__file__).resolve().parent.parent / "fixtures" / "migration-shop"
COMPONENTS = {
    "templates/web.yaml": ("release: {{ .Release.Name }}", "component: server"),
    "templates/db.yaml": ("release: {{ .Release.Name }}", "component: database"),
    "templates/agent.yaml": ("release: {{ .Release.Name }}", "component: agent"),
    "templates/jobs.yaml": ("release: {{ .Release.Name }}", "component: batch"),
    "templates/ksm.yaml": ("app: shop-ksm", "component: metrics"),
}


def with_component(text: str, anchor: str, label: str) -> str:
    """Every line holding `anchor` followed by `label` at the same indentation."""
    return re.sub(
        rf"^( *){re.escape(anchor)}\n", lambda m: f"{m.group(0)}{m.group(1)}{label}\n", text,
        flags=re.M,
    )


def shop_change(
    release: str = "shop", namespace: str = "prod", root: Path = CHART
) -> ChartChange:
    """The fixture (or a copy of it at `root`) fixed with component labels, as the pipeline
    would report it: file changes plus renderings before and after."""
    chart = load_chart(root)
    files = []
    for path, (anchor, label) in COMPONENTS.items():
        before = (root / path).read_bytes()
        after = with_component(before.decode(), anchor, label).encode()
        assert after != before
        files.append(FileChange(path, before, after))
    overrides = {f.path: f.after for f in files}
    scenario = Scenario("default")
    finding = Finding(
        "overlap", "error", ObjectRef("Deployment", f"{release}-web"),
        "selector matches the pods of Job/reindex", "add a component label",
        Location("templates/web.yaml", 11),
    )
    return ChartChange(
        chart_root=chart.root, chart_name="shop", chart_version="1.3.0", files=files,
        fixed=[finding],
        before=[render(chart, scenario, release=release, namespace=namespace)],
        after=[render(chart, scenario, overrides, release=release, namespace=namespace)],
        recipes=["component-labels"], unsafe=True,
    )


@pytest.fixture(scope="module")
def change() -> ChartChange:
    return shop_change()


@pytest.fixture(scope="module")
def note(change: ChartChange) -> str:
    return migration_note(change, "shop", "prod", version="2.0.0")


def commands(note: str) -> list[str]:
    """The shell lines of the note's code blocks, in order."""
    out, inside = [], False
    for line in note.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            out.append(line)
    return out


def test_every_changed_object_is_found_once(change: ChartChange) -> None:
    assert sorted(changed_refs(change)) == sorted([
        "Deployment/shop-web", "Service/shop-web", "PodDisruptionBudget/shop-web",
        "StatefulSet/shop-db", "DaemonSet/shop-agent", "Job/shop-reindex", "Job/shop-migrate",
        "StatefulSet/shop-ksm",
    ])


def test_the_commands_name_real_objects_in_the_right_order(note: str) -> None:
    ran = commands(note)
    deployment = [
        "kubectl -n prod get rs -l 'app=shop,release=shop,pod-template-hash' -o name"
        " | xargs kubectl -n prod label --overwrite component=server",
        "kubectl -n prod get pods -l 'app=shop,release=shop,pod-template-hash' -o name"
        " | xargs kubectl -n prod label --overwrite component=server",
        "kubectl -n prod delete deployment shop-web --cascade=orphan",
    ]
    statefulset = [
        "kubectl -n prod get pods -l 'app=shop-db,release=shop,"
        "statefulset.kubernetes.io/pod-name' -o name"
        " | xargs kubectl -n prod label --overwrite component=database",
        "kubectl -n prod delete statefulset shop-db --cascade=orphan",
    ]
    daemonset = [
        "kubectl -n prod get pods -l 'app=shop-agent,release=shop,controller-revision-hash'"
        " -o name | xargs kubectl -n prod label --overwrite component=agent",
        "kubectl -n prod delete daemonset shop-agent --cascade=orphan",
    ]
    upgrade = "helm upgrade shop CHART --version 2.0.0 -n prod  # plus your usual -f/--set values"
    for block in (deployment, statefulset, daemonset):
        start = ran.index(block[0])
        assert ran[start:start + len(block)] == block
        assert start < ran.index(upgrade)
    assert ran.index("kubectl -n prod delete job shop-reindex") < ran.index(upgrade)
    after = ran[ran.index(upgrade):]
    assert "kubectl -n prod rollout restart statefulset/shop-db" in after
    assert "kubectl -n prod rollout status deployment/shop-web" in after
    assert "kubectl -n prod rollout status statefulset/shop-db" in after
    assert "kubectl -n prod rollout status daemonset/shop-agent" in after
    assert sum(1 for line in ran if line.startswith("helm upgrade")) == 1


def test_the_simple_variant_and_cleanup_are_named(note: str) -> None:
    assert "Simple variant, with downtime: `kubectl -n prod delete deployment/shop-web" in note
    assert "delete rs NAME" in note
    assert "Written for release `shop` in namespace `prod`" in note


def test_hook_job_and_consumers_are_listed_as_safe(note: str) -> None:
    safe = note[note.index("(safe)"):]
    assert "Job `shop-migrate`: a Helm hook recreated on each run." in safe
    assert "Service `shop-web`: selector `app=shop,release=shop` becomes " \
        "`app=shop,component=server,release=shop`" in safe
    assert "PodDisruptionBudget `shop-web`" in safe
    assert "shop-migrate" not in note[: note.index("(safe)")]


def test_hostport_daemonset_and_autosharded_ksm_get_loud_warnings(note: str) -> None:
    warnings = [line for line in note.splitlines() if line.startswith("> **Warning:**")]
    assert any("DaemonSet `shop-agent` uses hostPort 9100" in w for w in warnings)
    assert any(
        "StatefulSet `shop-ksm`" in w and "v2.10.1" in w
        and "kubectl -n prod rollout restart statefulset/shop-ksm" in w
        for w in warnings
    )
    assert "kubectl -n prod rollout restart statefulset/shop-ksm" in commands(note)


def test_commit_message_starts_with_a_subject_line(change: ChartChange) -> None:
    message = commit_message(change, "shop", "prod")
    subject, blank, rest = message.split("\n", 2)
    assert subject == "shop: fix 1 label-selector finding (overlap); upgrade needs migration"
    assert blank == ""
    assert rest.startswith("## Upgrading to 2.0.0")  # the default bump: major


def test_names_follow_the_release_they_were_rendered_for() -> None:
    other = shop_change("blue", "staging")
    text = migration_note(other, "blue", "staging")
    assert "kubectl -n staging delete deployment blue-web --cascade=orphan" in commands(text)
    assert "**Warning:** object names" not in text
    mismatch = migration_note(other, "shop", "prod")
    assert "rendered for release `blue`, not `shop`" in mismatch


def test_a_safe_change_needs_no_step(change: ChartChange) -> None:
    only_service = ChartChange(
        CHART, "shop", "1.3.0",
        before=[type(r)(r.scenario, [o for o in r.objects if o.kind == "Service"], r.release,
                        r.namespace) for r in change.before],
        after=[type(r)(r.scenario, [o for o in r.objects if o.kind == "Service"], r.release,
                       r.namespace) for r in change.after],
    )
    text = migration_note(only_service, "shop", "prod")
    assert "No manual step is needed" in text
    assert not commands(text)
    assert len(object_changes(only_service)) == 1


def test_note_goes_under_the_readme_upgrading_heading(note: str) -> None:
    files = note_files(CHART, note, "auto", "2.0.0")
    readme = files["README.md"].decode()
    original = (CHART / "README.md").read_text()
    assert readme.startswith("# shop\n\nA small shop.\n\n## Upgrading\n\n### To 2.0.0\n\n")
    assert readme.endswith("### To 1.0.0\n\nNothing to do.\n")
    assert "#### 1. Before `helm upgrade`" in readme
    assert len(readme) > len(original)


def test_note_target_migration_and_readme_without_section(tmp_path: Path, note: str) -> None:
    files = note_files(CHART, note, "migration", "2.0.0")
    assert files["MIGRATION.md"].decode() == "# Migration notes\n\n" + note
    (tmp_path / "README.md").write_bytes(b"# x\r\n\r\nText\r\n")
    readme = note_files(tmp_path, note, "readme", "2.0.0")["README.md"]
    assert readme.startswith(b"# x\r\n\r\nText\r\n\r\n## Upgrading\r\n\r\n### To 2.0.0\r\n")
    assert b"\n" not in readme.replace(b"\r\n", b"")
    (tmp_path / "README.md").unlink()
    (tmp_path / "MIGRATION.md").write_text("# Migrations\n\n## Upgrading to 1.0.0\n\nOld.\n")
    migration = note_files(tmp_path, note, "auto", "2.0.0")["MIGRATION.md"].decode()
    assert migration.startswith("# Migrations\n\n## Upgrading to ")
    assert migration.endswith("\n## Upgrading to 1.0.0\n\nOld.\n")


def test_pr_body_answers_what_why_how(change: ChartChange) -> None:
    body = pr_body(change, "5 files changed, 14 lines added, 0 removed", "shop", "prod",
                   version="2.0.0")
    sections = [line for line in body.splitlines() if line.startswith("## ")]
    assert sections == [
        "## What was wrong", "## What changed", "## Why this is a breaking change",
        "## Upgrading an existing release", "## How it was verified",
    ]
    assert "- `overlap` Deployment/shop-web (templates/web.yaml:11): selector matches" in body
    assert "5 files changed, 14 lines added, 0 removed" in body
    assert "- `templates/web.yaml`" in body
    assert "- Deployment `shop-web`: `spec.selector`\n" in body
    assert "- Job `shop-reindex`: `spec.template`\n" in body
    assert "kubectl -n prod delete deployment shop-web --cascade=orphan" in body
    assert "| default | 8 | 8 | 8 |" in body
    assert pr_title(change) == commit_message(change, "shop", "prod").split("\n")[0]
