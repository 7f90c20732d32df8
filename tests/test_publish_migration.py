"""Migration notes written from real renderings of our own fixture chart, before and after.

The "after" chart is the fixture with a `component` label added to selectors and pod
templates, rendered through the same overrides path the fix pipeline verifies with.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartfix.model.changes import FileChange, TargetChange
from chartfix.model.findings import Finding, Location
from chartfix.model.objects import K8sObject, ObjectRef
from chartfix.model.selectors import LabelSelector, Requirement
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.messages import commit_message, summary_line
from chartfix.publish.migration.placement import note_files
from chartfix.publish.migration.steps import changed_refs, object_changes, upgrade_kind
from chartfix.publish.migration.text import migration_note
from chartfix.publish.prbody import pr_body, pr_title
from chartfix.sources.helm.chart import Scenario, load_chart
from chartfix.sources.helm.render import render

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CHART = FIXTURES / "migration-shop"
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
) -> TargetChange:
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
    return TargetChange(
        target_root=chart.root, target_name="shop", target_version="1.3.0", files=files,
        fixed=[finding],
        before=[render(chart, scenario, release=release, namespace=namespace)],
        after=[render(chart, scenario, overrides, release=release, namespace=namespace)],
        recipes=["component-labels"], unsafe=True,
    )


@pytest.fixture(scope="module")
def change() -> TargetChange:
    return shop_change()


@pytest.fixture(scope="module")
def note(change: TargetChange) -> str:
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


def test_every_changed_object_is_found_once(change: TargetChange) -> None:
    assert sorted(changed_refs(change)) == sorted([
        "Deployment/shop-web", "Service/shop-web", "PodDisruptionBudget/shop-web",
        "StatefulSet/shop-db", "DaemonSet/shop-agent", "Job/shop-reindex", "Job/shop-migrate",
        "StatefulSet/shop-ksm",
    ])


def test_the_commands_name_real_objects_in_the_right_order(note: str) -> None:
    """The zero-downtime sequence for a Deployment, a StatefulSet and a DaemonSet: label what
    runs (selected with -l, by the old selector plus a key only the controller's own pods
    carry), orphan-delete, one upgrade, then restart and wait."""
    ran = commands(note)
    deployment = [
        "kubectl -n prod label rs -l 'app=shop,release=shop,pod-template-hash'"
        " --overwrite component=server",
        "kubectl -n prod label pods -l 'app=shop,release=shop,pod-template-hash'"
        " --overwrite component=server",
        "kubectl -n prod delete deployment shop-web --cascade=orphan",
    ]
    statefulset = [
        "kubectl -n prod label pods -l 'app=shop-db,release=shop,"
        "statefulset.kubernetes.io/pod-name' --overwrite component=database",
        "kubectl -n prod delete statefulset shop-db --cascade=orphan",
    ]
    daemonset = [
        "kubectl -n prod label pods -l 'app=shop-agent,release=shop,controller-revision-hash'"
        " --overwrite component=agent",
        "kubectl -n prod delete daemonset shop-agent --cascade=orphan",
    ]
    upgrade = "helm upgrade shop CHART --version 2.0.0 -n prod  # plus your usual -f/--set values"
    for block in (deployment, statefulset, daemonset):
        start = ran.index(block[0])
        assert ran[start:start + len(block)] == block
        assert start < ran.index(upgrade)
    assert ran.index("kubectl -n prod delete job shop-reindex --ignore-not-found") < ran.index(
        upgrade
    )
    after = ran[ran.index(upgrade):]
    assert "kubectl -n prod rollout restart statefulset/shop-db" in after
    assert "kubectl -n prod rollout status deployment/shop-web" in after
    assert "kubectl -n prod rollout status statefulset/shop-db" in after
    assert "kubectl -n prod rollout status daemonset/shop-agent" in after
    zero_downtime = note[: note.index("Simple variant")]
    assert sum(1 for line in commands(zero_downtime) if line.startswith("helm upgrade")) == 1
    assert not any("xargs" in line for line in ran)


def test_the_simple_variant_and_cleanup_are_named(note: str) -> None:
    simple = note[note.index("### Simple variant, with downtime"):note.index("### Rolling back")]
    assert commands(simple) == [
        "kubectl -n prod delete deployment/shop-web statefulset/shop-db statefulset/shop-ksm"
        " daemonset/shop-agent job/shop-reindex",
        "helm upgrade shop CHART --version 2.0.0 -n prod  # plus your usual -f/--set values",
    ]
    # Helm's own force replaces in place (a PUT, helm/helm#7173): it never deletes first
    assert "--force-replace` does both" not in note
    assert "does not do this: it replaces each object in place" in simple
    assert "delete rs NAME" in note
    assert (  # orphaned with the StatefulSet; the new selector never adopts them
        "kubectl -n prod get controllerrevisions -l 'app=shop-db,release=shop' -o "
        "custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name"
    ) in commands(note)
    assert "Written for release `shop` in namespace `prod`" in note


def test_rollback_mirrors_the_upgrade(note: str) -> None:
    """`helm rollback` meets the same immutable selectors: orphan-delete first; the running
    pods keep every old label (the fix only added one), so the old selectors adopt them."""
    back = commands(note[note.index("### Rolling back to 1.3.0"):note.index("(safe)")])
    rollback = "helm rollback shop REVISION -n prod  # REVISION: the last one of chart shop-1.3.0"
    assert back.index("kubectl -n prod delete deployment shop-web --cascade=orphan") < \
        back.index(rollback)
    assert back.index("kubectl -n prod delete daemonset shop-agent --cascade=orphan") < \
        back.index(rollback)
    assert back.index("kubectl -n prod delete job shop-reindex --ignore-not-found") < \
        back.index(rollback)
    assert not any(" label " in line for line in back), "no label was removed: none to restore"
    assert back[-1] == "kubectl -n prod rollout status daemonset/shop-agent"


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


def test_commit_message_starts_with_a_subject_line(change: TargetChange) -> None:
    message = commit_message(change, version="2.0.0", note_file="charts/shop/MIGRATION.md")
    assert message == (
        "shop: fix 1 label-selector finding (overlap); upgrade needs migration\n\n"
        "Fixes 1 label-selector finding (overlap) in shop.\n"
        f"Chart version {change.target_version} -> 2.0.0.\n"
        "Upgrade steps: charts/shop/MIGRATION.md.\n"
    ), "short: the note is in its file, named, not repeated"


def test_names_follow_the_release_they_were_rendered_for() -> None:
    other = shop_change("blue", "staging")
    text = migration_note(other, "blue", "staging")
    assert "kubectl -n staging delete deployment blue-web --cascade=orphan" in commands(text)
    assert "**Warning:** object names" not in text
    mismatch = migration_note(other, "shop", "prod")
    assert "rendered for release `blue`, not `shop`" in mismatch


def test_a_safe_change_needs_no_step(change: TargetChange) -> None:
    only_service = TargetChange(
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
    created = files["MIGRATION.md"].decode()
    assert created.startswith("# Upgrading to 2.0.0\n\n")
    assert "\n## 1. Before `helm upgrade`\n" in created
    (tmp_path / "README.md").write_bytes(b"# x\r\n\r\nText\r\n")
    readme = note_files(tmp_path, note, "readme", "2.0.0")["README.md"]
    assert readme.startswith(b"# x\r\n\r\nText\r\n\r\n## Upgrading\r\n\r\n### To 2.0.0\r\n")
    assert b"\n" not in readme.replace(b"\r\n", b"")
    (tmp_path / "README.md").unlink()
    old = "# Migrations\n\n## Upgrading to 1.0.0\n\nOld.\n"
    (tmp_path / "MIGRATION.md").write_text(old)
    migration = note_files(tmp_path, note, "auto", "2.0.0")["MIGRATION.md"].decode()
    # its own top-level section, newest first: never under the old title
    assert migration.startswith("# Upgrading to 2.0.0\n\n")
    assert migration.endswith("```\n\n" + old) or migration.endswith(".\n\n" + old)
    assert [line for line in migration.splitlines() if line.startswith("# ")] == [
        "# Upgrading to 2.0.0", "# Migrations",
    ]


@pytest.mark.parametrize("nl", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_readme_without_final_newline_keeps_having_none(tmp_path: Path, nl: str) -> None:
    """A README whose last line has no newline: the note follows that line (a new Upgrading
    section, or under the Upgrading heading that ends the file), in the file's line breaks,
    and the file still ends without a final newline."""
    short = "# Upgrading to 2.0.0\n\nNothing to do.\n"
    (tmp_path / "README.md").write_bytes(f"# x{nl}{nl}Text".encode())
    readme = note_files(tmp_path, short, "readme", "2.0.0")["README.md"].decode()
    section = f"## Upgrading{nl}{nl}### To 2.0.0{nl}{nl}Nothing to do."
    assert readme == f"# x{nl}{nl}Text{nl}{nl}{section}"
    (tmp_path / "README.md").write_bytes(f"# x{nl}{nl}## Upgrading".encode())
    readme = note_files(tmp_path, short, "readme", "2.0.0")["README.md"].decode()
    assert readme == f"# x{nl}{nl}{section}"


def test_pr_body_answers_what_why_how(change: TargetChange) -> None:
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
    assert pr_title(change) == commit_message(change).split("\n")[0]


# --- every kubectl line, checked by kubectl itself ---------------------------------------------


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """`kubectl(line)` runs one shell line of a note with bash, every kubectl in it pointed
    at a closed port on 127.0.0.1; it returns what kubectl said besides failing to connect:
    "" when every kubectl got as far as connecting, the usage or parse error otherwise."""
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is needed (bash .ci/run installs Debian's kubernetes-client)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the probe is: nothing listens there
    home = tmp_path_factory.mktemp("kube")
    server = f"127.0.0.1:{port}"
    (home / "config").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"https://{server}"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }))
    env = {**os.environ, "KUBECONFIG": str(home / "config"), "HOME": str(home)}

    def check(line: str) -> str:
        result = subprocess.run(
            ["bash", "-c", line], env=env, capture_output=True, text=True, timeout=120
        )
        said = (result.stdout + result.stderr).splitlines()
        if not any(server in out for out in said):
            return "never connected: " + " | ".join(said)
        return " | ".join(out for out in said if out.strip() and server not in out)

    yield check


def kubectl_lines(note: str) -> list[str]:
    return [line for line in commands(note) if line.startswith("kubectl ")]


def test_the_checker_refuses_the_old_xargs_form(kubectl: Callable[[str], str]) -> None:
    """The form notes had before: xargs appends the names after the label, which kubectl
    refuses; on empty input it runs `kubectl label` with no resource at all."""
    old = ("kubectl -n prod get rs -l 'app=shop,release=shop,pod-template-hash' -o name"
           " | xargs kubectl -n prod label --overwrite component=server")
    assert "resources must be specified" in kubectl(old)
    assert "resources must be specified" in kubectl(
        "kubectl -n prod label rs shop-web-5d9f7 component=server shop-web-6c8d2"
    )
    assert kubectl("kubectl -n prod delete deployment shop-web --cascade=orphans")
    assert kubectl("kubectl -n prod label rs -l 'app=shop' --overwrite")
    assert kubectl("kubectl -n prod label rs -l 'app=shop' --overwrite component=server") == ""


def shell_of(note: str) -> str:
    return "\n".join(commands(note)) + "\n"


def fixture_notes() -> Iterator[tuple[str, str]]:
    yield "migration-shop", migration_note(shop_change(), "shop", "prod", version="2.0.0")
    for chart in sorted(FIXTURES.iterdir()):
        if (chart / "Chart.yaml").is_file() and chart.name != "migration-shop":
            request = FixRequest(fix_latent=True, release="shop", namespace="prod")
            change = fix_target(chart, request)
            if upgrade_kind(change) != "safe":
                yield chart.name, migration_note(change, "shop", "prod")


@pytest.fixture(scope="module")
def notes() -> dict[str, str]:
    return dict(fixture_notes())


def test_every_kubectl_line_of_every_note_is_valid(
    notes: dict[str, str], kubectl: Callable[[str], str]
) -> None:
    assert {"migration-shop", "legacy-server", "shared-selector", "multi-doc", "peer-service"} <= (
        set(notes)
    )
    checked: set[str] = set()
    for name, text in notes.items():
        syntax = subprocess.run(
            ["bash", "-n"], input=shell_of(text), capture_output=True, text=True
        )
        assert syntax.returncode == 0, f"{name}: {syntax.stderr}"
        for line in kubectl_lines(text):
            if line not in checked:
                assert kubectl(line) == "", f"{name}: {line}"
                checked.add(line)
    assert len(checked) > 60


# --- the label steps, applied by kubectl to what runs before the fix --------------------------

HASH = "5d9f7c8b6"


def running(objects: list[K8sObject]) -> list[tuple[dict[str, Any], str]]:
    """What a cluster runs for the release as rendered before the fix, each with the object
    that owns it: per Deployment a ReplicaSet (with its pod-template-hash) and a pod, pods of
    StatefulSets, DaemonSets and Jobs with the labels their controllers add."""
    out: list[tuple[dict[str, Any], str]] = []

    def pod(name: str, labels: Mapping[str, str], owner: str) -> None:
        out.append(({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": name, "namespace": "prod", "labels": dict(labels)},
                     "spec": {"containers": [{"name": "c", "image": "x"}]}}, owner))

    for obj in objects:
        labels = obj.pod_labels or {}
        owner = str(obj.ref)
        if obj.kind == "Deployment":
            hashed = {**labels, "pod-template-hash": HASH}
            selector = {**(obj.selector or LabelSelector()).match_labels,
                        "pod-template-hash": HASH}
            out.append(({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{obj.name}-{HASH}", "namespace": "prod",
                             "labels": hashed},
                "spec": {"selector": {"matchLabels": selector},
                         "template": {"metadata": {"labels": hashed},
                                      "spec": {"containers": [{"name": "c", "image": "x"}]}}},
            }, owner))
            pod(f"{obj.name}-{HASH}-x7k2p", hashed, owner)
        elif obj.kind == "StatefulSet":
            pod(f"{obj.name}-0", {**labels, "statefulset.kubernetes.io/pod-name":
                                  f"{obj.name}-0", "controller-revision-hash": f"{obj.name}-7f"},
                owner)
        elif obj.kind == "DaemonSet":
            pod(f"{obj.name}-q8z4m", {**labels, "controller-revision-hash": "6b9d",
                                      "pod-template-generation": "1"}, owner)
        elif obj.kind in ("Job", "CronJob"):
            pod(f"{obj.name}-r2v9c", {**labels, "batch.kubernetes.io/job-name": obj.name,
                                      "job-name": obj.name}, owner)
    return out


def parse_selector(text: str) -> LabelSelector:
    """kubectl's -l syntax, for the forms notes use."""
    labels: dict[str, str] = {}
    requirements = []
    for part in re.split(r",(?![^()]*\))", text):
        if part.startswith("!"):
            requirements.append(Requirement(part[1:], "DoesNotExist"))
        elif "!=" in part:
            key, value = part.split("!=")
            requirements.append(Requirement(key, "NotIn", frozenset([value])))
        elif "=" in part:
            key, value = part.split("=")
            labels[key] = value
        else:
            requirements.append(Requirement(part, "Exists"))
    return LabelSelector(labels, tuple(requirements))


KINDS = {"rs": "ReplicaSet", "pods": "Pod"}


def label_step(line: str) -> tuple[set[str], LabelSelector, list[str]]:
    """(kinds, selector, key=value arguments) of a note's `kubectl label ... -l` line."""
    argv = shlex.split(line, comments=True)
    assert argv[:4] == ["kubectl", "-n", "prod", "label"]
    kinds = {KINDS[k] for k in argv[4].split(",")}
    selector = parse_selector(argv[argv.index("-l") + 1])
    pairs = [arg for arg in argv[5:] if "=" in arg and not arg.startswith("-")]
    return kinds, selector, [p for p in pairs if p != argv[argv.index("-l") + 1]]


def label_with_kubectl(
    steps: list[str], world: list[tuple[dict[str, Any], str]], scratch: Path
) -> dict[str, list[dict[str, Any]]]:
    """Apply a note's label steps to `world` as kubectl does (`kubectl label -f FILE --local`),
    each on the objects its -l selects, which must all belong to one controller and never
    to a Job: the labelled objects by owner."""
    labelled: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(steps):
        kinds, selector, pairs = label_step(line)
        chosen = [(body, owner) for body, owner in world
                  if body["kind"] in kinds and selector.matches(body["metadata"]["labels"])]
        owners = {owner for _, owner in chosen}
        assert len(owners) == 1, f"{line} selects the objects of {owners}"
        owner = owners.pop()
        assert not owner.startswith(("Job/", "CronJob/"))
        manifest = scratch / f"step{number}.yaml"
        manifest.write_text(yaml.safe_dump_all([body for body, _ in chosen]))
        result = subprocess.run(
            ["kubectl", "label", "-f", str(manifest), "--local", "-o", "yaml", "--overwrite",
             *pairs], capture_output=True, text=True, check=True,
        )
        docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        bodies = [item for doc in docs for item in doc.get("items", [doc])]
        assert len(bodies) == len(chosen)
        labelled.setdefault(owner, []).extend(bodies)
    return labelled


def test_labelled_objects_match_the_new_selectors(
    change: TargetChange, note: str, tmp_path: Path
) -> None:
    """Each label step selects exactly its controller's ReplicaSet and pods (never a Job's),
    and once kubectl has labelled them, the new controller's selector matches them: it
    adopts them instead of starting from nothing."""
    after = {obj.ref: obj for obj in change.after[0].objects}
    world = running(change.before[0].objects)
    steps = [line for line in kubectl_lines(note[: note.index("### 2. Upgrade")])
             if " label " in line]
    adopted: set[str] = set()
    for owner, bodies in label_with_kubectl(steps, world, tmp_path).items():
        new_selector = after[ObjectRef(*owner.split("/"))].selector
        assert new_selector is not None
        for body in bodies:
            assert new_selector.matches(body["metadata"]["labels"]), body["metadata"]["name"]
            if body["kind"] == "ReplicaSet":  # the ReplicaSet still owns its pods
                rs = LabelSelector.from_spec(body["spec"]["selector"])
                assert rs.matches({**body["spec"]["template"]["metadata"]["labels"]})
            adopted.add(f"{body['kind']}/{body['metadata']['name']}")
    assert adopted == {
        "ReplicaSet/shop-web-5d9f7c8b6", "Pod/shop-web-5d9f7c8b6-x7k2p", "Pod/shop-db-0",
        "Pod/shop-agent-q8z4m", "Pod/shop-ksm-0",
    }
    for body, owner in world:  # without the label, the new selectors leave them unowned
        if owner.startswith(("Deployment/", "StatefulSet/", "DaemonSet/")):
            selector = after[ObjectRef(*owner.split("/"))].selector
            assert selector is not None and not selector.matches(body["metadata"]["labels"])


def test_rollback_gives_back_a_label_the_fix_took_out_of_the_selector(tmp_path: Path) -> None:
    """volatile-legacy drops `chart=NAME-VERSION` from the selector; after the upgrade the
    pods carry the new version there, so rolling back gives the old value back first, and
    the old selector then matches what the new chart runs."""
    change = fix_target(FIXTURES / "volatile-legacy", FixRequest(fix_latent=True, release="shop",
                                                                namespace="prod"))
    text = migration_note(change, "shop", "prod", version="3.0.0")
    back = kubectl_lines(text[text.index("### Rolling back"):])
    steps = [line for line in back if " label " in line]
    assert steps and back.index(steps[-1]) < back.index(
        "kubectl -n prod delete deployment shop-volatile-legacy --cascade=orphan"
    )
    assert not any(" label " in line for line in commands(text[: text.index("### 2.")]))
    old = change.target_version
    world = [  # as the upgraded release runs: the chart label holds the new version
        (yaml.safe_load(yaml.safe_dump(body).replace(f"-{old}", "-3.0.0")), owner)
        for body, owner in running(change.after[0].objects)
    ]
    deployment = next(o for o in change.before[0].objects if o.kind == "Deployment")
    selector = deployment.selector
    assert selector is not None
    mine = [body for body, owner in world if owner == str(deployment.ref)]
    assert mine and not any(selector.matches(body["metadata"]["labels"]) for body in mine)
    labelled = label_with_kubectl(steps, world, tmp_path)[str(deployment.ref)]
    assert len(labelled) == len(mine)
    assert all(selector.matches(body["metadata"]["labels"]) for body in labelled)


def test_pods_that_already_carry_the_new_labels_need_no_label_step() -> None:
    """templated-keys: the default backend's pods carry their component label already; only
    its selector lacked it. The new selector matches what runs as it is: orphan, upgrade."""
    change = fix_target(FIXTURES / "templated-keys", FixRequest(fix_latent=True, release="shop",
                                                               namespace="prod"))
    text = migration_note(change, "shop", "prod")
    assert commands(text[text.index("### 1."):text.index("### 2.")]) == [
        "kubectl -n prod delete deployment shop-default-backend --cascade=orphan"
    ]
    after = {obj.ref: obj for obj in change.after[0].objects}
    selector = after[ObjectRef("Deployment", "shop-default-backend")].selector
    assert selector is not None
    mine = [body for body, owner in running(change.before[0].objects)
            if owner == "Deployment/shop-default-backend"]
    assert len(mine) == 2 and all(selector.matches(b["metadata"]["labels"]) for b in mine)


def test_controllers_with_the_same_labels_are_told_apart(notes: dict[str, str]) -> None:
    """Where another Deployment's pods carry a label ours lack, the step excludes them by it;
    where they carry the very same labels, it lists ReplicaSets with their owner and labels
    by pod-template-hash, never every pod of the old selector."""
    assert (
        "kubectl -n prod label pods -l 'app=multi-doc,release=shop,!pool,pod-template-hash'"
        " --overwrite component=api"
    ) in commands(notes["multi-doc"])
    shared = commands(notes["shared-selector"])
    assert (
        "kubectl -n prod label rs,pods -l 'app=shared-selector,release=shop,"
        "pod-template-hash=HASH' --overwrite component=worker"
        "  # once per HASH whose OWNER is shop-shared-selector-worker"
    ) in shared
    assert not any(
        line.startswith("kubectl -n prod label") and "pod-template-hash'" in line
        for line in shared
    )
    assert "The pods of Deployment/shop-shared-selector-web carry the same labels" in (
        notes["shared-selector"]
    )


def test_pr_body_names_each_object_once_and_only_recipes_that_changed_something() -> None:
    change = fix_target(FIXTURES / "legacy-server", FixRequest(fix_latent=True, release="fleet",
                                                              namespace="fleet"))
    assert change.recipes == ["component-labels"]
    body = pr_body(change, "2 files changed", "fleet", "fleet")
    wrong = body[: body.index("## What changed")]
    # twice per finding: what the selector matches, and what the Service does to it
    assert wrong.count("Job/fleet-legacy-server-migration") == 4
    assert "(with " not in wrong
    assert "Recipes: `component-labels`." in body


# --- what a run says about the note, the commit and the push ----------------------------------


def test_a_branch_run_reports_the_commit_it_made(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from conftest import git

    from chartfix.cli import main

    repo, remote = tmp_path / "work", tmp_path / "remote.git"
    shutil.copytree(FIXTURES / "legacy-server", repo / "legacy-server")
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "charts")
    git(repo, "remote", "add", "origin", str(remote))

    assert main(["fix", "--fix-latent", str(repo / "legacy-server"), "--pr-body",
                 str(tmp_path / "pr.md")]) == 0
    err = capsys.readouterr().err
    assert f"(migration note: the PR description {tmp_path / 'pr.md'})" in err
    assert "2 files changed" in err  # a dry run commits nothing: the templates alone

    code = main(["fix", "--fix-latent", str(repo / "legacy-server"), "--branch", "fix/selectors",
                 "--push", "origin", "--release", "fleet", "--namespace", "fleet"])
    err = capsys.readouterr().err
    assert code == 0, err
    tip = git(repo, "rev-parse", "fix/selectors")
    stat = git(repo, "diff", "--shortstat", "main", "fix/selectors")
    files, added, removed = (int(n) for n in re.findall(r"(\d+) \w+", stat))
    assert files == 4  # templates, Chart.yaml and MIGRATION.md
    assert f"1 chart: 4 files changed, {added} lines added, {removed} removed;" in err
    assert "use --branch" not in err and "--branch or --pr-body" not in err
    assert "(migration note: MIGRATION.md in the commit)" in err
    assert f"pushed branch fix/selectors to origin (commit {tip[:12]})" in err
    assert git(remote, "rev-parse", "fix/selectors") == tip


def test_note_target_help_says_what_auto_does(capsys) -> None:  # type: ignore[no-untyped-def]
    """As note_files does it (test_note_target_migration_and_readme_without_section)."""
    from chartfix.cli import main

    with pytest.raises(SystemExit):
        main(["fix", "--fix-latent", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "README.md when the chart has one, under its 'Upgrading' heading or a new one" in text
    assert "else MIGRATION.md" in text


# --- a note for the release it is written for ---------------------------------------------------


def test_a_note_names_only_the_objects_its_values_render(
    kubectl: Callable[[str], str],
) -> None:
    """two-kinds renders Deployments by default and DaemonSets and a StatefulSet with its ci/
    values: a release has one or the other, so the note for the defaults deletes and waits
    for the Deployments alone (a DaemonSet step would fail with NotFound), says which values
    it assumed and names what other values render; with those values it is the other way
    round. A listing shared by controllers with one old selector comes once."""
    chart = FIXTURES / "two-kinds"
    default = migration_note(fix_target(chart, FixRequest(fix_latent=True, release="shop",
                                                         namespace="prod")),
                             "shop", "prod")
    lines = kubectl_lines(default)
    # three Deployments on one old selector: two go with their pods (each would be adopted
    # by another still there), the last one without (test_publish_migration_adoption)
    assert "kubectl -n prod delete deployment shop-cache" in lines
    assert "kubectl -n prod delete deployment shop-store --cascade=orphan" in lines
    assert not any("daemonset" in line or "statefulset" in line for line in lines)
    assert "installed with the chart's default values (values.yaml)" in default
    assert ("DaemonSet/shop-cache (with `ci/node-local-values.yaml`); DaemonSet/shop-proxy "
            "(with `ci/node-local-values.yaml`); StatefulSet/shop-store") in default
    after = commands(default[default.index("### 3."):default.index("### Simple")])
    assert len(after) == len(set(after))

    ci = chart / "ci" / "node-local-values.yaml"
    other = migration_note(
        fix_target(chart, FixRequest(fix_latent=True, release="shop", namespace="prod",
                                    values_files=(ci,))),
        "shop", "prod",
    )
    lines_ci = kubectl_lines(other)
    assert "kubectl -n prod delete daemonset shop-cache" in lines_ci
    assert "kubectl -n prod delete daemonset shop-proxy --cascade=orphan" in lines_ci
    assert "kubectl -n prod rollout status statefulset/shop-store" in lines_ci
    assert not any(" deployment" in line for line in lines_ci)
    assert "installed with the values `-f node-local-values.yaml`" in other
    for line in dict.fromkeys(lines + lines_ci):
        assert kubectl(line) == "", line


def test_a_recreate_deployment_is_not_promised_zero_downtime(
    tmp_path: Path, kubectl: Callable[[str], str],
) -> None:
    """A Deployment with `strategy: Recreate` (a database on a volume one pod may mount)
    stops its old pods before it starts new ones: the note says so instead of "without
    downtime", and still labels the old pods first so that they are adopted and stopped,
    never left running beside the new ones."""
    root = tmp_path / "migration-shop"
    shutil.copytree(CHART, root)
    web = root / "templates" / "web.yaml"
    web.write_text(web.read_text().replace(
        "  replicas: 2\n", "  replicas: 2\n  strategy:\n    type: Recreate\n", 1))
    text = migration_note(shop_change(root=root), "shop", "prod", version="2.0.0")
    step = text[text.index("Deployment `shop-web`"):text.index("StatefulSet `shop-db`")]
    assert "without downtime" not in step
    assert "`Recreate`" in step and "stops every old pod before it starts a new one" in step
    ran = commands(step)
    assert ran[-1] == "kubectl -n prod delete deployment shop-web --cascade=orphan"
    assert any(line.startswith("kubectl -n prod label pods -l ") for line in ran)
    assert "without downtime" in text[text.index("StatefulSet `shop-db`"):]  # the others roll
    for line in ran:
        assert kubectl(line) == "", line


def test_an_unchanged_version_is_not_called_an_upgrade_to_itself(
    change: TargetChange, tmp_path: Path
) -> None:
    """--bump none: the chart keeps its version, so neither the title, the README section
    nor the rollback names that version as where one goes."""
    text = migration_note(change, "shop", "prod", version=change.target_version)
    assert f"to {change.target_version}" not in text.lower()
    assert "## Upgrading to this change (chart version 1.3.0 unchanged)" in text
    assert "### Rolling back to the chart before this change" in text
    assert "REVISION: the last one before this change" in text
    (tmp_path / "README.md").write_text("# shop\n")
    readme = note_files(tmp_path, text, "readme", change.target_version)["README.md"].decode()
    assert "### Upgrading to this change (chart version 1.3.0 unchanged)" in readme
    assert "To 1.3.0" not in readme


# --- a change that needs a step although no immutable field changes --------------------------


@pytest.fixture(scope="module")
def peers() -> TargetChange:
    return fix_target(FIXTURES / "peer-service", FixRequest(fix_latent=True, release="shop",
                                                           namespace="prod"))


HEADLESS = ObjectRef("Service", "shop-peer-service-headless")
MEMBERS = {
    f"StatefulSet/shop-peer-service-{name}"
    for name in ("master", "coordinator", "executor-default", "executor-large")
}


def test_a_service_that_would_drop_running_pods_needs_a_step_first(peers: TargetChange) -> None:
    """peer-service: the headless Service selects on member-of, which the StatefulSets' pods
    get only when the rolling update replaces them. No selector of a controller changes, so
    the upgrade succeeds: not "unsafe", not "no manual step" either."""
    assert not peers.unsafe and upgrade_kind(peers) == "step"
    text = migration_note(peers, "shop", "prod")
    assert "No manual step is needed" not in text
    assert "field is immutable" not in text and "Simple variant" not in text
    assert "`helm upgrade` alone succeeds" in text
    before = text[text.index("### 1. Before `helm upgrade`"):text.index("### 2. Upgrade")]
    assert "Service `shop-peer-service-headless`" in before and "quorum" in before
    assert "--cascade=orphan" not in text
    after = commands(text[text.index("### 3."):])
    assert (
        "kubectl -n prod get endpointslices -l 'kubernetes.io/service-name="
        "shop-peer-service-headless' -o "
        "'custom-columns=NAME:.metadata.name,PODS:.endpoints[*].targetRef.name'"
    ) in after
    for member in sorted(MEMBERS):
        assert f"kubectl -n prod rollout status {member.lower()}" in after
    safe = text[text.index("(safe)"):]
    assert "Service `shop-peer-service-headless`" not in safe, "it needs the step"
    assert "`helm rollback` needs no step" in text
    assert summary_line(peers).endswith("; upgrade needs a step first")
    body = pr_body(peers, "4 files changed", "shop", "prod")
    assert "## Why upgrading needs a step first" in body
    assert "## Why this is a breaking change" not in body
    assert "- Service `shop-peer-service-headless`: `spec.selector`" in body


def test_the_step_labels_every_member_pod_and_the_new_service_selector_finds_them(
    peers: TargetChange, tmp_path: Path, kubectl: Callable[[str], str]
) -> None:
    """Each label line is one member's own selector (plus the key only StatefulSet pods
    carry): kubectl labels that member's pods and nothing else, never the bootstrap Job's or
    the test Pod's, and afterwards the NEW Service selector matches every member pod while
    the Job and test pods stay out. Without the step it would match none of them."""
    text = migration_note(peers, "shop", "prod")
    before = text[text.index("### 1."):text.index("### 2.")]
    steps = [line for line in kubectl_lines(before) if " label " in line]
    assert len(steps) == len(MEMBERS)
    for line in kubectl_lines(text):
        assert kubectl(line) == "", line
    world = running(peers.before[0].objects)
    test_pod = next(o for o in peers.before[0].objects if o.kind == "Pod")
    world.append(({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": test_pod.name, "namespace": "prod",
                                "labels": dict(test_pod.labels or {})},
                   "spec": {"containers": [{"name": "c", "image": "x"}]}}, str(test_pod.ref)))
    service = {o.ref: o for o in peers.after[0].objects}[HEADLESS].selector
    assert service is not None
    assert not any(service.matches(body["metadata"]["labels"]) for body, _ in world)
    labelled = label_with_kubectl(steps, world, tmp_path)
    assert set(labelled) == MEMBERS
    for bodies in labelled.values():
        assert bodies and all(service.matches(b["metadata"]["labels"]) for b in bodies)
    others = [body for body, owner in world if owner not in MEMBERS]
    assert {owner.split("/")[0] for body, owner in world if owner not in MEMBERS} == {"Job", "Pod"}
    assert not any(service.matches(body["metadata"]["labels"]) for body in others)


def test_a_branch_and_a_bulk_report_carry_the_step(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The note is written down although the change is not unsafe: MIGRATION.md in the
    commit, the `migration` of the bulk report (with `upgrade: step`), a line in the run's
    output; the version bump stays minor (no immutable field changes)."""
    import json

    from conftest import git

    from chartfix.cli import main

    repo = tmp_path / "work"
    shutil.copytree(FIXTURES / "peer-service", repo / "peer-service")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "charts")

    report = tmp_path / "report.json"
    assert main(["bulk", "--fix-latent", str(repo), "-j", "1", "--report", str(report)]) == 0
    capsys.readouterr()
    entry = json.loads(report.read_text())["charts"][0]
    assert entry["unsafe"] is False and entry["upgrade"] == "step"
    assert "kubectl -n default label pods -l " in entry["migration"]

    code = main(["fix", "--fix-latent", str(repo / "peer-service"), "--branch", "fix/peers",
                 "--release", "shop", "--namespace", "prod"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "needs a step before upgrade" in err and "unsafe:" not in err
    assert "(migration note: MIGRATION.md in the commit)" in err
    files = git(repo, "diff", "--name-only", "main", "fix/peers").split()
    assert "peer-service/MIGRATION.md" in files
    note = git(repo, "show", "fix/peers:peer-service/MIGRATION.md")
    assert note.startswith("# Upgrading to 0.2.0\n")
    assert 'kubectl -n "$NAMESPACE" label pods -l ' in note
    subject = git(repo, "log", "-1", "--format=%s", "fix/peers")
    assert subject.endswith("; upgrade needs a step first")
