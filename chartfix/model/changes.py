"""The outcome of fixing one chart: the verified file changes and the evidence behind them.

Everything after verification (dry-run diff, --write, --branch commits, migration notes,
PR bodies, bulk reports) is a function of a `TargetChange`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.findings import Finding
from chartfix.model.kinds import KindFacts
from chartfix.model.objects import Rendering


class RecipeRecord(Protocol):
    """The declarative recipe that ran (`recipes.files.RecipeFile`), as a change records it."""

    def describe(self) -> str:
        """One line that re-runs it: the name and every step's options."""
        ...

    def subject(self, chart: str, summary: str) -> str:
        """The commit subject its `commit-message` template gives (default: summary)."""
        ...


@dataclass(frozen=True)
class FileChange:
    """One file's bytes before and after the fix; `path` is relative to the chart root."""

    path: str
    before: bytes
    after: bytes


@dataclass(frozen=True)
class Unfixed:
    """A finding the recipes could not fix, and why (shown to the user, counted in exit 1)."""

    finding: Finding
    reason: str


class Refused(Exception):
    """Why a fix cannot be planned, in one line naming the object. Source kinds and recipe
    helpers raise it (as LibCST's codemods raise `SkipFile`); the recipe planning the fix
    records it as `Unfixed` for the findings the fix was for, or tries another way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Applicability = Literal["safe", "unsafe"]
"""Whether a fix may be applied without steps: `unsafe` when an immutable field changes."""


@dataclass(frozen=True)
class EditRecord:
    """A kept fix unit: where it edited the source and the findings it was planned for (what
    `fix` says each hunk of its patch fixes: `publish.story`), and what it is (`fix --format
    json` lists it)."""

    targets: tuple[Finding, ...]
    sites: tuple[tuple[str, int], ...]
    """(target-relative path, 1-based line of the file before the fix) of each edit."""
    title: str = ""
    recipe: str = ""
    """The recipe that planned it."""
    applicability: Applicability = "safe"
    changes: tuple[tuple[str, str, LabelChange], ...] = ()
    """(the source path writing the objects, their kind, the change) of each label change
    the unit makes (`FixUnit.changes`)."""


@dataclass(eq=False)
class FixUnit:
    """Edits that only make sense together (a controller's selector and its pod labels), the
    findings they fix and what they change in rendered objects. Verification keeps or drops
    a unit as a whole. Recipes plan them; a source kind that edits several objects at once
    (Helm's shared label helpers: `sources.base.SplitsHelpers`) plans some for them.

    A unit is one planned fix, compared and hashed as itself (two with the same edits are
    two): the planner keys the recipe that made it, and the verifier what it kept, by it."""

    title: str
    edits: list[PlannedEdit]
    targets: list[Finding]
    changes: dict[tuple[str, str], list[LabelChange]]
    """Allowed changes by (template path, kind) of the objects they apply to: one edit in a
    `range` or `define` changes every object that source renders."""
    applicability: Applicability
    notes: list[str] = field(default_factory=list)
    fallback: FixUnit | None = None
    """A smaller unit to try when this one fails verification (the controller without the
    consumers that were meant for it)."""


@dataclass
class TargetChange:
    target_root: Path
    target_name: str
    target_version: str
    files: list[FileChange] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    unfixed: list[Unfixed] = field(default_factory=list)
    before: list[Rendering] = field(default_factory=list)
    """Renderings of the chart as it was, one per scenario."""
    after: list[Rendering] = field(default_factory=list)
    """Renderings of the verified new chart, same scenarios in the same order."""
    noise: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Scenario -> (object, dotted path) where a control render (the unchanged chart rendered
    again) differs from `before`: random values and checksums of them, not the change's."""
    recipes: list[str] = field(default_factory=list)
    """The recipes whose edits the change holds (not every recipe that ran)."""
    unsafe: bool = False
    """True when an immutable field changes (a controller's selector, a non-hook Job's
    template): upgrading a release then needs the migration note."""
    notes: list[str] = field(default_factory=list)
    """Warnings for the user that are not findings (kube-state-metrics restarts...)."""
    recipe_file: RecipeRecord | None = None
    """The declarative recipe that ran, with its options (reports, commits and PR bodies
    record it so a reviewer can re-run it)."""
    synthesized: dict[str, list[str]] = field(default_factory=dict)
    """Scenario -> placeholder values chartfix made up so it renders; never written."""
    unrendered: dict[str, str] = field(default_factory=dict)
    """Scenario -> why it could not render; the fix was planned and verified without it."""
    read: dict[Path, str] = field(default_factory=dict)
    """sha256 of every chart file the renders read (subcharts and borrowed siblings too):
    --write refuses the chart when one of them changed before the replace."""

    kind: KindFacts = field(default_factory=KindFacts)
    """What the target's kind says of it (declared by its source kind): how it was rendered,
    whether it is released or applied and with which commands."""
    workloads: dict[str, str] = field(default_factory=dict)
    """Every name a `--component NAME=VALUE` may give a workload -> the name shown for it."""

    features: dict[str, int] = field(default_factory=dict)
    """Feature scenario -> how many objects it rendered beyond the first scenario's."""

    warnings: list[Unfixed] = field(default_factory=list)
    """The warnings the run did not take on (a `spans`, a `volatile` heritage, a latent
    match), each with why: neither fixed nor left (they do not fail the run), yet findings
    (fix says how many it left and why; bulk shows the chart as "warnings N")."""
    suppressed: list[Finding] = field(default_factory=list)
    """The findings accepted (an annotation, a `.chartfix.yaml` entry): nothing to fix,
    still reported with their reason (bulk's report lists them)."""
    edits: list[EditRecord] = field(default_factory=list)
    """The kept units' edits and the findings each was planned for."""

    @property
    def needs_migration(self) -> bool:
        """Upgrading needs the migration steps: an immutable field changes (a controller's
        selector, a non-hook Job's pod template). A fix that changes none needs no major
        version and no migration section."""
        return self.unsafe

    @property
    def released(self) -> bool:
        """Deployed as a release (a Helm chart: upgraded, rolled back); False: its YAML is
        applied (plain manifests, kustomize overlays, a cdk8s app's synthesized output)."""
        return self.kind.released

    @property
    def changed(self) -> bool:
        return any(f.before != f.after for f in self.files)
