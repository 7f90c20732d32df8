"""What every source kind offers the pipeline, the rules, the recipes and the verifier.

A source kind is one way of writing Kubernetes objects: a Helm chart, a cdk8s app, later
plain manifests and kustomize. Everything that decides (rules, recipes, verification, diff,
write, commit, reports) works on rendered objects and talks to the source only through
this module's `SourceKind` and `Source`:

    SourceKind.facts                -> KindFacts: noun, how rendered, released or applied...
    SourceKind.find(paths)          -> target roots on disk
    SourceKind.load(root)           -> Source (root, name, version)
    SourceKind.load_unrun(root, why)-> Source read without running the target's code (cdk8s)
    Source.scenarios(settings)      -> scenario names (a heavy target's are shared out)
    Source.render_all(settings, o)  -> Renderings: objects that remember their `Source` file
    Source.render(scenario, files)  -> the objects again, with some files replaced (verify)
    Source.read(path)               -> a file's bytes, as the edits are spliced into
    Source.releases(r, files)       -> how r's labels change with the next release
    Source.locate(obj, path, r)     -> file:line of a field, for findings (the pipeline asks)
    Source.origin(obj, r)           -> Origin: what writes `obj`, the same in every scenario
    Source.role_names(obj, r)       -> the names its author wrote for `obj` (component values)
    Source.label_edits(obj, r, cs)  -> PlannedEdits (splices) making the LabelChanges; Refused(why)
    Source.writes_literally(...)    -> whether a label is written as it renders, under any values
    Source.restart_edits(obj, r, k) -> PlannedEdits: a pod annotation following obj's labels
    Source.apply(path, edits)       -> the file's new bytes

Adding a source kind (every place is under chartfix/sources/, docs/architecture.md):
1. a package `chartfix/sources/NAME/` with a class implementing `SourceKind` (finding and
   loading its targets, its `KindFacts`) and one implementing `Source` (rendering and
   editing one target); never another kind's package;
2. its instance added to `chartfix.sources.targets.KINDS` (the registry, in priority order:
   a folder two kinds claim is the first's);
3. its marker file, if any, in `sources/manifests/folders.py` OWNER_MARKERS;
4. nothing else: no recipe, rule, pipeline, verifier, publishing or command changes. Tests:
   a fixture under `fixtures/`, and the kind in the same-bug test
   (tests/test_pipeline_kinds.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from chartfix.errors import TargetError
from chartfix.model.changes import FixUnit, Unfixed
from chartfix.model.edits import Edit, LabelChange, PlannedEdit
from chartfix.model.findings import Finding, Location
from chartfix.model.kinds import KindFacts
from chartfix.model.objects import K8sObject, Origin, Rendering
from chartfix.model.releases import ReleaseDiff

SUFFIXES = (".yaml", ".yml")
"""The names of YAML files (manifests, kustomizations' resources, committed output)."""

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""A kustomization's file names (here, not in sources/kustomize: Helm asks too, for a
folder that is both a chart and a kustomization)."""


def kustomization_file(directory: Path) -> Path | None:
    for name in NAMES:
        try:
            if (directory / name).is_file():
                return directory / name
        except OSError:  # unreadable: not ours to report
            return None
    return None

__all__ = [
    "Edit",
    "KindFacts",
    "LabelChange",
    "PlannedEdit",
    "RenderSettings",
    "Renderings",
    "Source",
    "SourceKind",
    "container_names",
    "minimal_edit",
    "splice",
    "synthesized_note",
    "unrendered_note",
    "values_ignored",
]


DEFAULT_FEATURE_RENDERS = 8
"""Scenarios with a feature switch on, per target, unless asked otherwise (--feature-renders)."""


@dataclass(frozen=True)
class RenderSettings:
    """What the user asked for besides the target: values, release and namespace.

    Kinds without values (cdk8s, plain manifests) ignore what does not apply to them."""

    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    base_values: str = ""
    """Organisation values as JSON (bulk -f/--set, `.chartfix.yaml` `values`)."""
    release: str = "release-name"
    namespace: str = "default"
    features: int = 0
    """Scenarios per target with an off-by-default feature switch on (kinds whose values
    have such switches: Helm); 0: none."""
    source_builds: bool = False
    """--allow-source-builds: a program's declared dependencies (a cdk8s app's) may be built
    from source distributions, which runs their code; else wheels only."""
    allow_remote: bool = False
    """--allow-remote: a kustomization may fetch remote resources (else refused)."""
    trusted: bool = False
    """--trusted: a `.chartfix.yaml`'s `run-apps: true` counts (see cdk8s.app.skip_reason)."""
    next_release: bool = True
    """Render the target's next release (`Source.releases`) to find the labels that change
    with it; False (`check --user-scenarios`): the rules go by their key lists."""


@dataclass
class Renderings:
    """Every scenario of a target that rendered, and those that did not (with the reason)."""

    renderings: list[Rendering] = field(default_factory=list)
    unrendered: list[tuple[str, TargetError]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Said with the fix: values chartfix had to make up, how long synthesis took..."""
    warnings: list[str] = field(default_factory=list)
    """About the target as a whole, said by check and fix alike (a folder that is both a
    chart and a kustomization: the kustomization was not built)."""
    read: dict[Path, str] = field(default_factory=dict)
    """sha256 of every file rendering read, by path: --write rechecks them before writing."""
    synthesized: dict[str, list[str]] = field(default_factory=dict)
    """Scenario -> values chartfix made up so that it renders at all."""
    stand_in: str | None = None
    """What was read instead of the target's source (a cdk8s app not run: its committed
    output folder, `dist/`); None: the source itself."""
    absent: list[Path] = field(default_factory=list)
    """Files whose absence the renders depend on (where a dependency not found offline would
    be): one appearing changes them."""
    folders: dict[Path, str] = field(default_factory=dict)
    """Folders outside the target read whole (a sibling chart staged as a dependency), by
    `cache.folder_token`: a file added to one changes the renders, which `read` cannot see;
    and repositories searched for a dependency not found, by `cache.charts_token`."""
    cacheable: bool = False
    """Whether what rendered depends only on the target's folder, the settings, the files in
    `read`, `folders` and those `absent` (chartfix.cache keys and checks them): not a
    program run (a cdk8s app)."""

    def inputs(self) -> dict[Path, str]:
        """What a cached result depends on outside the key: each file read (sha256), each
        folder read whole (`cache.folder_token`) and each absent file ("")."""
        return {**self.read, **self.folders, **{path: "" for path in self.absent}}


def values_ignored(settings: RenderSettings, target: str) -> list[str]:
    """What a kind without values says, once per target, when -f/--set were given: a note,
    not an error (one run may hold charts they are meant for). `target`: what it is, as
    in `a kustomization`."""
    if not (settings.values_files or settings.set_values):
        return []
    return [f"-f/--set do not apply to {target} (it has no values): ignored"]


def unrendered_note(scenario: str, reason: str) -> str:
    """How every output names a scenario that could not render (the others were analysed):
    a Helm scenario, a kustomize overlay."""
    return f"scenario {scenario} could not render and was not analysed: {reason}"


def synthesized_note(scenario: str, values: Sequence[str]) -> str:
    """How every output says that a scenario rendered only with made-up values."""
    return (
        f"scenario {scenario} rendered with synthesized values (placeholders chartfix made up "
        f"for values the chart needs at deploy time, not the chart's own): {', '.join(values)}"
    )


class Source(Protocol):
    """One loaded target (a chart, an app): renders it and edits its files."""

    kind: str
    """The source kind's name: `helm`, `cdk8s`..."""
    facts: KindFacts
    """Its kind's facts, as this target has them (a cdk8s app's own `output:` folder)."""
    root: Path
    name: str
    version: str | None
    """What a release of the target is called, to bump; None when there is nothing to bump."""
    app_version: str | None

    def scenarios(self, settings: RenderSettings) -> list[str]:
        """The scenarios `render_all` renders, by name, without rendering them: a heavy
        target's analysis is shared out among workers by them (`render_all(settings, only)`)."""
        ...

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        """Render every scenario (or those of `only`, names `scenarios` gave); raises
        TargetError when the target cannot be read at all."""
        ...

    def verification(self, settings: RenderSettings) -> list[Rendering]:
        """Renderings a fix is verified against but not planned from, after `render_all`
        (Helm: every feature switch on together); nothing new may appear there. A kind
        without feature switches gives none."""
        ...

    def render(
        self, scenario: str, files: Mapping[str, bytes] | None = None, release: str | None = None
    ) -> Rendering:
        """Render scenario `scenario` (one `render_all` rendered) again, with `files`
        (target-relative path -> bytes) replacing those on disk, as the release `release`
        when given (kinds without release names ignore it). Raises TargetError."""
        ...

    def read(self, path: str) -> bytes:
        """The bytes of a target-relative file (as edits are planned against)."""
        ...

    def releases(
        self, rendering: Rendering, files: Mapping[str, bytes] | None = None
    ) -> ReleaseDiff:
        """How the labels of `rendering` (a scenario `render_all` rendered, with `files`
        replacing the target's as in `render`) change with the target's next release: the
        scenario rendered as the next release (the target's versions bumped) and once more
        unchanged, the control (two named extra renders, chartfix.model.releases);
        `ReleaseDiff.by_keys(why)` where a kind has no release to bump or it does not
        render."""
        ...

    def locate(self, obj: K8sObject, path: str, rendering: Rendering) -> Location | None:
        """Where the label map at `path` (`spec.selector.matchLabels`) of `obj` is written,
        for a finding about it; None when the source cannot tell (the finding then points
        at the object's file)."""
        ...

    def origin(self, obj: K8sObject, rendering: Rendering) -> Origin:
        """What writes `obj` (a template document, a constructor call): equal across
        scenarios even when the object's name differs, so that a fix is planned once."""
        ...

    def role_names(self, obj: K8sObject, rendering: Rendering) -> tuple[str, ...]:
        """The names the author wrote for `obj` in the source, most telling first, that may
        say what it does (the recipes pick the first that names a role: not a kind word, a
        generic word or the target's own name): the part of its name the author wrote (Helm:
        the literal text around the name template's actions, the helper or define naming it,
        the template file's stem; cdk8s: the construct id; manifests: the name), then its
        containers' names as written. Never text a render makes up (a release name, a
        truncation, a value): the same under every release and values."""
        ...

    def written_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        """When one piece of source writes several objects of `obj`'s kind (a `range`), the
        source text of their name (`{{ $name }}`), to write as a label value; else None."""
        ...

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        """Edits of the target's files that make `changes` to `obj` (add, replace or remove
        label keys at `spec.selector.matchLabels`, `spec.template.metadata.labels`, a
        Service's `spec.selector`...: see `LabelChange`); Refused: why they cannot be made, in
        one line naming the object. Must not change any other object than the ones the same
        source writes (a shared helper is a reason, not an edit)."""
        ...

    def restart_edits(
        self, obj: K8sObject, rendering: Rendering, key: str
    ) -> list[PlannedEdit]:
        """Edits giving `obj`'s pod template the annotation `key`, whose value changes
        exactly when `obj`'s metadata labels do (Helm: a checksum of the label helper they
        include), so that its pods restart with its labels; Refused: why they cannot be made,
        in one line naming the object."""
        ...

    def writes_literally(self, obj: K8sObject, rendering: Rendering, path: str, key: str) -> bool:
        """Whether the source writes the label `key` at `path` of `obj` as the value it
        renders to under any values or settings (not computed from values, not under a
        condition): a selector asking for it then asks for what those pods always carry.
        Kinds that write plain data answer whether the label is there."""
        ...

    def apply(self, path: str, edits: Iterable[Edit]) -> bytes:
        """The bytes of `path` with `edits` spliced in. Raises ValueError (NotEditable)
        when edits overlap."""
        ...

    def problem(self, files: Mapping[str, bytes]) -> str:
        """Why edited `files` must not be kept although they render (a label key written
        twice in one mapping...); "" when none."""
        ...

    def unwritable(self, path: str) -> str | None:
        """Why chartfix must not write `path` (reached through a symlink...); None: it may."""
        ...


@dataclass(frozen=True)
class Removal:
    """Keys to take out of one object's selector, for one finding (stable-selectors)."""

    finding: Finding
    obj: K8sObject
    rendering: Rendering
    keys: tuple[str, ...]


@runtime_checkable
class SplitsHelpers(Protocol):
    """A source whose selectors share label helpers with other labels (a Helm chart's
    `NAME.selectorLabels` inside `NAME.labels`): taking keys out of them is one edit of a
    helper for several objects, which `label_edits` (one object at a time) cannot express.
    A capability: stable-selectors asks it of a source that has it."""

    def selector_removals(
        self, removals: Sequence[Removal]
    ) -> tuple[list[FixUnit], list[Unfixed]]:
        """Units taking each removal's keys out of its object's selector where the source
        writes them (literal lines deleted, shared helpers split), and the removals it
        refuses, with the reason."""
        ...


class SourceKind(Protocol):
    """A way of writing Kubernetes objects; finds and loads its targets."""

    name: str
    marker: str
    """The file that makes a folder a target of this kind (`Chart.yaml`, `cdk8s.yaml`)."""
    facts: KindFacts
    """What the layers above say about its targets: noun, how rendered, released or
    applied and with which commands (chartfix.model.kinds)."""

    def find(self, paths: Sequence[Path]) -> list[Path]:
        """Every target root at or under `paths` (unreadable ones too: their errors)."""
        ...

    def holds(self, root: Path) -> bool:
        """Whether `root` is a target of this kind."""
        ...

    def skip_reason(
        self, root: Path, run_apps: bool | None, untrusted: Sequence[Path]
    ) -> str | None:
        """Why the target must not be processed (a program the user did not allow to
        run); None: go on."""
        ...

    def load(self, root: Path) -> Source:
        """The target at `root`; raises TargetError when it cannot be read."""
        ...

    def depends_on(self, root: Path) -> list[Path]:
        """Folders outside `root` whose files the target's renderings read too (a chart's
        `file://` dependencies): a report's content hash covers them. Never raises: a
        target that cannot be read has none here (the run says why)."""
        ...

    def load_unrun(self, root: Path, reason: str) -> Source:
        """What of the target at `root` can be read without running its code, when
        `skip_reason` gave `reason` (a cdk8s app's committed synthesized output: a
        check-only source); raises Skipped(reason...) when nothing can."""
        ...


def container_names(obj: K8sObject, *own: str) -> tuple[str, ...]:
    """The names of `obj`'s containers, as a kind that writes plain data writes them, but
    those that only repeat the workload's or the app's own name `own` (`api` of `api`)."""
    names = (str(c["name"]) for c in obj.containers() if c.get("name"))
    return tuple(n for n in names if n not in own)


_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_YAML11_SPECIAL = re.compile(
    r"^(y|n|yes|no|true|false|on|off|null|~|[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?"
    r"|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|\.inf|\.nan"
    r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"  # sexagesimal, 1:30
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?)$",  # timestamps
    re.IGNORECASE,
)


def yaml_scalar(value: str) -> str:
    """`value` as YAML that reads back as that string (labels are strings).

    A template expression (`{{ $name }}`) is written as is: it renders to the value.
    """
    if "{{" in value or (_PLAIN.match(value) and not _YAML11_SPECIAL.match(value)):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def splice(text: str, edits: Iterable[Edit]) -> str:
    """`text` with non-overlapping `edits` applied; identical duplicates count once.
    Raises ValueError when two edits overlap."""
    ordered = sorted(set(edits))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at offset {after.start}")
    out: list[str] = []
    cursor = 0
    for edit in ordered:
        out.append(text[cursor : edit.start])
        out.append(edit.text)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)


def minimal_edit(old: str, new: str) -> Edit | None:
    """The one splice turning `old` into `new` (common start and end left out): how a
    source that rewrites a whole file (libcst) expresses its change as an `Edit`."""
    if old == new:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return Edit(start, end_old, new[start:end_new])
