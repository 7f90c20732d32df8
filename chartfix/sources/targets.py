"""The registry of source kinds, and what chartfix works on: their targets on disk.

Helm charts (a `Chart.yaml`), cdk8s apps written in Python (a `cdk8s.yaml`), kustomize
bases with their overlays (`kustomization.yaml`) and folders of plain manifests. Every
kind goes through the same rules, recipes and verifier (chartfix.sources.base); adding one
is adding it to `KINDS`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chartfix.errors import UsageError
from chartfix.sources.base import SourceKind
from chartfix.sources.cdk8s.kind import Cdk8sKind
from chartfix.sources.helm.source import HelmKind
from chartfix.sources.kustomize.source import KustomizeKind
from chartfix.sources.manifests.source import ManifestsKind

_KUSTOMIZE = KustomizeKind()
KINDS: tuple[SourceKind, ...] = (
    HelmKind(), Cdk8sKind(), _KUSTOMIZE, ManifestsKind(owned=_KUSTOMIZE.owned)
)
"""Every source kind, in priority order: a folder two kinds claim is the first's."""


def kind_of(root: Path) -> SourceKind:
    """The source kind of the target at `root` (Helm when none claims it: its load says
    what is missing)."""
    return next((k for k in KINDS if k.holds(root)), KINDS[0])

PACKAGED = (".tgz", ".tar.gz")
"""What `helm package` makes: a chart in a tarball."""


def find_targets(paths: Sequence[Path]) -> list[Path]:
    """Every chart and cdk8s app under `paths`, sorted, each once.

    A file (other than a Chart.yaml) stands for the chart or app that holds it, so that a
    pre-commit hook can pass the files that changed (a kustomize file: its base with the
    overlays, as its folder's parent does); a file no target holds is skipped. A
    packaged chart (`.tgz`) no chart holds is a usage error: it would be skipped silently.
    """
    given = [Path(p) for p in paths]
    for path in given:
        if path.name.endswith(PACKAGED) and path.is_file() and holder_of(path) is None:
            raise UsageError(
                f"{path}: a packaged chart (helm package); chartfix works on a chart's "
                f"folder: extract it first (tar xzf {path}) and give the folder"
            )
    grouped = _KUSTOMIZE.holders([p for p in given if _is_member_file(p)])
    holders = {
        h for p in given
        if _is_member_file(p) and p.resolve() not in grouped and (h := holder_of(p)) is not None
    }
    dirs = [p for p in given if not _is_member_file(p)] + sorted(holders)
    found: set[Path] = set().union(*grouped.values())
    for index, kind in enumerate(KINDS):  # unreadable folders too: their errors
        earlier = KINDS[:index]
        found |= {
            p.resolve() for p in kind.find(dirs) if not any(k.holds(p) for k in earlier)
        }
    return sorted(found)


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
        if (directory / ".git").exists():
            break
    return found


def _is_member_file(path: Path) -> bool:
    """A file that stands for the target holding it. A Chart.yaml or cdk8s.yaml names its
    folder; a kustomization.yaml is a file of its base-and-overlays target like any other."""
    return path.is_file() and path.name not in {k.marker for k in KINDS if k is not _KUSTOMIZE}


def nothing_under(paths: Sequence[Path]) -> str:
    """What check, fix and bulk say when the paths hold no target of any kind."""
    kinds = "chart (Chart.yaml), cdk8s app, kustomization or folder of manifests"
    return f"no {kinds} under {', '.join(map(str, paths))}"
