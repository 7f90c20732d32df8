"""What the layers above the sources say about a kind of target (a chart, a cdk8s app, a
kustomization, a folder of manifests): declared by its `SourceKind` (`facts`) and carried by
the `TargetChange`, so that no command, note or PR body switches on a kind's name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """How a note names deploying the new version: a Helm release is upgraded, plain
    manifests and kustomize overlays are applied (by kubectl, or an Argo CD / Flux sync)."""

    deploy: str
    """The command, in backticks."""
    the: str
    """The act, as a noun phrase (`the upgrade fails`)."""
    ing: str
    this: str
    """What the note is about (`This version changes...`)."""
    step: str
    """The heading of the step that deploys."""
    after: str
    source: str
    """What declares the objects (`as the chart wants`)."""
    back: str
    """Going back to the version before (`helm rollback`)."""


RELEASE_WORDS = Words(
    "`helm upgrade`", "the upgrade", "upgrading", "This version", "Upgrade",
    "After the upgrade", "chart", "`helm rollback`",
)
APPLY_WORDS = Words(
    "`kubectl apply`", "the apply", "applying", "The new YAML", "Apply", "After applying",
    "YAML", "Reverting the commit and applying again",
)


@dataclass(frozen=True)
class KindFacts:
    """One kind's facts, in the words people read (the defaults: an unnamed target deployed
    as a release, as a `TargetChange` made by hand in a test is)."""

    name: str = ""
    """The kind's name: `helm`, `cdk8s`, `kustomize`, `manifests`."""
    noun: str = "target"
    """What a newcomer calls one target of the kind (`chart`), in text meant for people."""
    looks_for: str = ""
    """How the message for a path holding no target names the kind (`chart (Chart.yaml)`)."""
    rendered_by: str = "the target"
    """How chartfix read the target into objects (`the chart with Helm's engine`)."""
    released: bool = True
    """Deployed as a release (upgraded, rolled back: Helm); False: its YAML is applied."""
    applied_as: str = ""
    """An applied target's note, first sentence: `{root}` the target's folder name, `{path}`
    the folder its YAML is applied from, from the top of the repository."""
    apply: str = ""
    """How one scenario is applied: `{ns}` (`-n NS ` or nothing) and `{path}` filled in."""
    overlays: bool = False
    """Each scenario but `default` is a folder under the target, applied on its own
    (kustomize overlays)."""
    output: str = ""
    """The folder under the target its applied YAML is written to (cdk8s: `output:` of the
    app's cdk8s.yaml); "": the target's own folder."""

    @property
    def nouns(self) -> str:
        return f"{self.noun}s"

    @property
    def words(self) -> Words:
        """How its notes name deploying: a release's words, or applying YAML's."""
        return RELEASE_WORDS if self.released else APPLY_WORDS
