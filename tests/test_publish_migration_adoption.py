"""Notes for Deployments whose old selectors overlap (the `overlap-latent` fixture, the
bitnami/jaeger shape): a ReplicaSet left without owner is adopted by any Deployment whose
selector matches it, and scaled to 0 when that Deployment's pod template differs. The
note's upgrade and rollback lines are played against that rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_publish_migration import kubectl  # noqa: F401  (the kubectl checker, a fixture)

from chartfix.model.changes import TargetChange
from chartfix.model.objects import K8sObject
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.migration.text import migration_note

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass
class Cluster:
    """Deployments by name and their ReplicaSets (one each: name -> owner or None)."""

    deployments: dict[str, K8sObject]
    owners: dict[str, str | None] = field(default_factory=dict)
    pods: dict[str, dict[str, str]] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)
    """`rs -> deployment` for every ReplicaSet a Deployment other than its own took."""

    def adopt(self) -> None:
        for rs, owner in self.owners.items():
            if owner is not None:
                continue
            for name, dep in sorted(self.deployments.items()):
                if dep.selector is not None and dep.selector.matches(self.pods[rs]):
                    self.owners[rs] = name
                    if name != rs:
                        self.taken.append(f"{rs} -> {name}")
                    break

    def run(self, line: str, deploy: list[K8sObject]) -> None:
        if line.startswith(("helm upgrade", "helm rollback")):
            self.deployments.update({o.name: o for o in deploy if o.kind == "Deployment"})
        elif m := re.match(r"kubectl -n \S+ delete deployment (\S+)( --cascade=orphan)?$", line):
            name, orphan = m.groups()
            del self.deployments[name]
            for rs, owner in list(self.owners.items()):
                if owner == name:
                    if orphan:
                        self.owners[rs] = None
                    else:
                        del self.owners[rs], self.pods[rs]
        self.adopt()


def play(lines: list[str], start: list[K8sObject], deploy: list[K8sObject]) -> list[str]:
    """The ReplicaSets taken over by another Deployment while running `section`'s lines."""
    deployments = {o.name: o for o in start if o.kind == "Deployment"}
    cluster = Cluster(deployments, {n: n for n in deployments},
                      {n: dict(o.pod_labels or {}) for n, o in deployments.items()})
    for line in lines:
        cluster.run(line, deploy)
    assert set(cluster.deployments) == {o.name for o in deploy if o.kind == "Deployment"}
    return cluster.taken


def commands(text: str) -> list[str]:
    """The lines of `text`'s code blocks, in order."""
    return [line for block in text.split("```sh\n")[1:] for line in
            block.split("\n```")[0].splitlines()]


@pytest.fixture(scope="module")
def change() -> TargetChange:
    request = FixRequest(fix_latent=True, release="shop", namespace="prod")
    return fix_target(FIXTURES / "overlap-latent", request)


@pytest.fixture(scope="module")
def note(change: TargetChange) -> str:
    return migration_note(change, "shop", "prod")


def test_upgrade_leaves_no_replicaset_to_the_other_deployment(
    change: TargetChange, note: str
) -> None:
    upgrade = note[note.index("### 1."):note.index("### 3.")]
    before, after = change.before[0].objects, change.after[0].objects
    steps = commands(upgrade)
    assert play(steps, list(before), list(after)) == []
    assert steps[:2] == [
        "kubectl -n prod delete deployment shop-overlap-latent-collector",
        "kubectl -n prod delete deployment shop-overlap-latent-query --cascade=orphan",
    ]
    assert "would adopt this one's ReplicaSet" in upgrade


def test_rollback_deletes_overlapping_deployments_with_their_pods(
    change: TargetChange, note: str
) -> None:
    back = note[note.index("### Rolling back"):]
    before, after = change.before[0].objects, change.after[0].objects
    assert play(commands(back), list(after), list(before)) == []
    assert "--cascade=orphan" not in back
    assert "the old objects adopt the pods" not in back
    assert "serve nothing until the pods the rollback starts are ready" in back


def test_no_rollout_is_promised_when_the_pod_template_is_unchanged(note: str) -> None:
    assert "scaled down by the rollout" not in note
    assert ("The pod template of `shop-overlap-latent-query` is unchanged: its new Deployment "
            "adopts the old ReplicaSet (OWNER set) as its current one, and no rollout happens."
            ) in note


def test_the_player_catches_the_orphan_the_other_deployment_adopts(change: TargetChange) -> None:
    """The steps the note gave before: both orphaned, one after the other."""
    before, after = change.before[0].objects, change.after[0].objects
    old = [
        "kubectl -n prod delete deployment shop-overlap-latent-collector --cascade=orphan",
        "kubectl -n prod delete deployment shop-overlap-latent-query --cascade=orphan",
        "helm upgrade shop CHART",
    ]
    assert play(old, list(before), list(after)) == [
        "shop-overlap-latent-collector -> shop-overlap-latent-query"
    ]


# --- the note a chart carries (README.md, MIGRATION.md): $RELEASE and $NAMESPACE ---------------


def test_the_note_in_the_chart_names_no_rendered_release_and_every_line_runs(
    chart_copy, kubectl  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    """The note committed into a public chart is read by every user: no `release-name` or
    `default` from this run's render, the variables set once at the top, and every kubectl
    line, with them set, still accepted by kubectl."""
    from conftest import git

    from chartfix.cli import main

    chart = chart_copy("overlap-latent")
    git(chart, "init", "-q", "-b", "main")
    git(chart, "add", "-A")
    git(chart, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "init")
    assert main(["fix", "--fix-latent", str(chart), "--branch", "fix/selectors"]) in (0, 1)
    names = git(chart, "diff", "--name-only", "main", "fix/selectors").split()
    (note_file,) = [n for n in names if n.endswith(".md") and "CHANGELOG" not in n]
    text = git(chart, "show", f"fix/selectors:{note_file}")
    lines = commands(text)
    assert lines[:2] == ["RELEASE=my-release  # your release's name",
                         "NAMESPACE=my-namespace  # the namespace it runs in"]
    assert "release-name" not in text and "-n default" not in text
    assert "`default`" not in text
    assert 'kubectl -n "$NAMESPACE" delete deployment "$RELEASE"-overlap-latent-collector' in lines
    assert ("kubectl -n \"$NAMESPACE\" get rs -l 'app.kubernetes.io/instance='\"$RELEASE\"',"
            "app.kubernetes.io/name=overlap-latent' -o ") in text
    setting = "\n".join(lines[:2]) + "\n"
    checked = [line for line in lines if line.startswith("kubectl ")]
    assert len(checked) >= 6
    for line in checked:
        assert kubectl(setting + line) == "", line
