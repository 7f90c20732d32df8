"""The registry of source kinds, and what chartfix works on: their targets on disk.

Helm charts (a `Chart.yaml`), cdk8s apps written in Python (a `cdk8s.yaml`), kustomize
bases with their overlays (`kustomization.yaml`) and folders of plain manifests. Every
kind goes through the same rules, recipes and verifier (chartfix.sources.base); adding one
is adding it to `KINDS`.

The registry imports each kind's `kind` module only: what finds its targets and names it
(markers, `KindFacts`), cheap to import. A kind's rendering and editing is imported when a
target is loaded, so that a run the cache answers loads no engine, YAML library or editor."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from chartfix.errors import UsageError
from chartfix.files import is_repository_top
from chartfix.sources.base import KindFacts, Source, SourceKind
from chartfix.sources.cdk8s.kind import Cdk8sKind
from chartfix.sources.helm.chart import CI_VALUES_GLOB
from chartfix.sources.helm.kind import HelmKind
from chartfix.sources.kustomize.kind import KustomizeKind
from chartfix.sources.manifests.kind import ManifestsKind

_KUSTOMIZE = KustomizeKind()
_MANIFESTS = ManifestsKind(owned=_KUSTOMIZE.owned)
KINDS: tuple[SourceKind, ...] = (HelmKind(), Cdk8sKind(), _KUSTOMIZE, _MANIFESTS)
"""Every source kind, in priority order: a folder two kinds claim is the first's."""

FILE_KINDS: tuple[SourceKind, ...] = (_MANIFESTS,)
"""Kinds a lone file makes a target of: a file holding Kubernetes objects that no chart, app
or kustomization holds stands for its folder (`chartfix check deploy.yaml`); a file holding
none (values, CI workflows) makes nothing a target."""


def kind_of(root: Path) -> SourceKind:
    """The source kind of the target at `root` (Helm when none claims it: its load says
    what is missing)."""
    return next((k for k in KINDS if k.holds(root)), KINDS[0])

def load_target(root: Path, run_apps: bool | None, untrusted: Sequence[Path] = ()) -> Source:
    """The target at `root` as the user lets chartfix read it: loaded by its kind, or, when
    its code must not run (`skip_reason`: a cdk8s app without --run-apps), what can be read
    without running it (a check-only source). Raises Skipped when nothing can, TargetError
    when it cannot be read."""
    kind = kind_of(root)
    reason = kind.skip_reason(root, run_apps, untrusted)
    return kind.load(root) if reason is None else kind.load_unrun(root, reason)


PACKAGED = (".tgz", ".tar.gz")
"""What `helm package` makes: a chart in a tarball."""


def find_targets(paths: Sequence[Path]) -> list[Path]:
    """Every chart and cdk8s app under `paths`, sorted, each once.

    A file (other than a Chart.yaml) stands for the chart or app that holds it, so that a
    pre-commit hook can pass the files that changed (a kustomize file: its base with the
    overlays, as its folder's parent does); a file of plain manifests no chart, app or
    kustomization holds stands for its folder (`FILE_KINDS`); other files are skipped. A
    packaged chart (`.tgz`) no chart holds is a usage error: it would be skipped silently.
    """
    given = [Path(p) for p in paths]
    for path in given:
        if path.name.endswith(PACKAGED) and path.is_file() and holder_of(path) is None:
            raise UsageError(
                f"{path}: a packaged chart (helm package); chartfix works on a chart's "
                f"folder: extract it first (tar xzf {path}) and give the folder"
            )
    members = [p for p in given if _is_member_file(p)]
    grouped = _KUSTOMIZE.holders(members)
    holders = {p: holder_of(p) for p in members if p.resolve() not in grouped}
    dirs = [p for p in given if not _is_member_file(p)] + sorted(
        {h for h in holders.values() if h is not None}
    )
    loose = [p for p, h in holders.items() if h is None]
    found: set[Path] = set().union(*grouped.values())
    for index, kind in enumerate(KINDS):  # unreadable folders too: their errors
        earlier = KINDS[:index]
        paths = dirs + loose if kind in FILE_KINDS else dirs
        found |= {
            p.resolve() for p in kind.find(paths) if not any(k.holds(p) for k in earlier)
        }
    return sorted(found)


def target_weight(root: Path) -> int:
    """The estimate of a target's cost by which parallel runs hand out work, the heaviest
    first: the bytes of what is rendered (the files under `templates/` folders, a chart's
    and its subcharts'; every file of a target without one) times the scenarios that show
    on disk (a chart's defaults and each ci/ values file). Measured against what each target
    cost over the prometheus-community charts, its rank correlation is 0.92, against 0.73
    for all bytes: a chart's CRDs, kept beside its templates, weigh nothing Helm renders."""
    rendered = every = 0
    for dirpath, _, files in os.walk(root):
        templates = "templates" in Path(dirpath).relative_to(root).parts
        for name in files:
            try:
                size = os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue  # vanished or unreadable: the render will say so
            every += size
            rendered += size if templates else 0
    ci = root / "ci"
    scenarios = 1 + (len(list(ci.glob(CI_VALUES_GLOB))) if ci.is_dir() else 0)
    return (rendered or every) * scenarios


def only_files(paths: Sequence[Path]) -> bool:
    """True when every path is a file inside a chart or not (what a pre-commit hook passes)."""
    return bool(paths) and all(_is_member_file(Path(p)) for p in paths)


def holder_of(path: Path) -> Path | None:
    """The chart (or cdk8s app) holding file `path`: the nearest directory above it with a
    Chart.yaml or cdk8s.yaml, stepping out of a chart's `charts/` folder (a vendored
    dependency changes the chart that vendors it). None when no chart holds it."""
    found: Path | None = None
    for directory in Path(path).resolve().parents:
        if any((directory / kind.marker).is_file() for kind in KINDS):
            vendored = found is not None and found.parent == directory / "charts"
            if found is not None and not vendored:
                break
            found = directory
            continue
        if is_repository_top(directory):
            break
    return found


def _is_member_file(path: Path) -> bool:
    """A file that stands for the target holding it. A Chart.yaml or cdk8s.yaml names its
    folder; a kustomization.yaml is a file of its base-and-overlays target like any other."""
    return path.is_file() and path.name not in {k.marker for k in KINDS if k is not _KUSTOMIZE}



def targets_noun(roots: Sequence[Path], count: int | None = None) -> str:
    """`count` targets (default: as many as `roots`) named by what they are: "1 chart",
    "2 kustomizations", and "3 targets" when the kinds differ ("0 charts" when none)."""
    count = len(roots) if count is None else count
    kinds = {_kind_facts(Path(root)) for root in roots}
    if not kinds:
        facts = KINDS[0].facts
    elif len(kinds) == 1:
        facts = kinds.pop()
    else:
        facts = KindFacts()
    return f"{count} {facts.noun if count == 1 else facts.nouns}"


def _kind_facts(root: Path) -> KindFacts:
    """The kind's facts (`SourceKind.facts`: what a newcomer calls a target of it), or a
    plain `target` for a folder that cannot be read (its error says why)."""
    try:
        return kind_of(root).facts
    except OSError:
        return KindFacts()


def nothing_found(paths: Sequence[object]) -> str:
    """The message when `paths` hold no target of any kind."""
    *others, last = [kind.facts.looks_for for kind in KINDS]
    return f"no {', '.join(others)} or {last} under {', '.join(map(str, paths))}"
