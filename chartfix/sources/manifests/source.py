"""A directory of plain Kubernetes manifests as a source kind: read as written, edited in place.

Rendering is parsing: each `.yaml`/`.yml` file of the directory that holds Kubernetes objects
(see sources/yamlfiles.py) is read as it is, every object remembering its file, document and
line. There is one scenario, `manifests`. Edits are splices computed from ruamel.yaml's positions
(sources/yamledit.py): a label lands in the very map the finding is about, nothing else moves.

Which directories are targets (the discovery rules, also in the README):
- a directory is a manifests target when one of its own `.yaml`/`.yml` files (not those of
  its subdirectories, which are targets of their own) holds a document with a string
  `apiVersion` and a string `kind`;
- not when a Helm chart, a cdk8s app or a kustomization owns it: a folder at or under a
  `Chart.yaml` or `cdk8s.yaml`, a folder holding a `kustomization.yaml` (or `.yml`, or
  `Kustomization`), and the folders whose files a kustomization found in the same search
  lists (its `resources`, patches...): those are the kustomization's (the `owned` callback);
- hidden folders (`.git`, `.github`) and `node_modules` are not searched.
A file given on the command line stands for its folder when that folder is a target.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from chartfix.errors import ChartError, Skipped
from chartfix.files import is_repository_top, repository_root
from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.kinds import APPLY_WORDS, KindFacts
from chartfix.model.objects import K8sObject, Rendering
from chartfix.sources.base import Renderings, RenderSettings, values_ignored
from chartfix.sources.yamlfiles import (
    SUFFIXES,
    ManifestFiles,
    manifest_kind,
    outside_link,
    refusal,
)

SCENARIO = ManifestFiles.scenario
OWNER_MARKERS = ("Chart.yaml", "cdk8s.yaml")
"""The files that make a folder another kind's target (`SourceKind.marker`): folders at or
under one are that target's, never plain manifests. A new kind with a marker adds it here."""
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


FACTS = KindFacts(
    name="manifests",
    noun="manifests folder",
    nouns="manifests folders",
    looks_for="plain manifests",
    rendered_by="the manifests (parsed as written)",
    released=False,
    words=APPLY_WORDS,
    applied_as=(
        "For the manifests of `{root}`, applied with `kubectl apply -f {path}` or synced by "
        "Argo CD or Flux: the steps name the objects as written, in their namespace."
    ),
    apply="kubectl {ns}apply -f {path}  # or merge and let Argo CD / Flux sync",
)


@dataclass
class ManifestsSource(ManifestFiles):
    """One directory of plain manifests."""

    kind: str = "manifests"
    facts: KindFacts = FACTS
    version: str | None = None
    app_version: str | None = None

    def scenarios(self, settings: RenderSettings) -> list[str]:
        return [self.scenario]

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        self.namespace, self.release = settings.namespace, settings.release
        rendering = self.render(self.scenario)
        rendering.warnings += values_ignored(settings, "a folder of plain manifests")
        return Renderings([rendering])

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        return self.yaml_edits(obj, obj.source.path, changes, f"labels of {obj.ref}")


class ManifestsKind:
    """Directories of plain manifests (see the module docstring for the rules)."""

    name = "manifests"
    marker = "*.yaml"
    """No file makes a folder a manifests target: its YAML does (never matches a file)."""
    facts = FACTS

    def __init__(self, owned: Callable[[Sequence[Path]], set[Path]] | None = None) -> None:
        self.owned = owned
        """Folders other kinds own under the searched paths (a kustomization's resources)."""

    def find(self, paths: Sequence[Path]) -> list[Path]:
        dirs: set[Path] = set()
        for given in paths:
            given = Path(given)
            if not os.access(given, os.R_OK):
                continue
            if given.is_file():
                if given.suffix in SUFFIXES and manifest_kind(given) and self._free(given.parent):
                    dirs.add(given.parent.resolve())
                continue
            dirs |= set(_manifest_dirs(given))
        owned = self.owned(list(paths)) if self.owned and dirs else set()
        return sorted(d for d in dirs if d not in owned)

    def holds(self, root: Path) -> bool:
        return self._free(root) and any(
            manifest_kind(f) for f in _yaml_files(root)
        )

    def skip_reason(
        self, root: Path, run_apps: bool | None, untrusted: Sequence[Path]
    ) -> str | None:
        return None

    def depends_on(self, root: Path) -> list[Path]:
        return []

    def load_unrun(self, root: Path, reason: str) -> NoReturn:
        raise Skipped(reason)  # never asked: skip_reason is always None

    def load(self, root: Path) -> ManifestsSource:
        root = Path(root)
        files = []
        bound = repository_root(root)
        for path in _yaml_files(root):
            link = outside_link(path, bound)
            if link is not None:
                raise link
            kind = manifest_kind(path)
            if kind == "broken":
                raise refusal(path)
            if kind is not None:
                files.append(path.name)
        if not files:
            raise ChartError(root, "no Kubernetes manifest (apiVersion and kind) in this folder")
        return ManifestsSource(root=root, name=root.resolve().name, files=tuple(files))

    def _free(self, directory: Path) -> bool:
        return not _owned_by_marker(directory) and not _has_kustomization(directory)


def _yaml_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [
        Path(e.path) for e in entries
        if e.name.endswith(SUFFIXES) and e.is_file() and not e.name.startswith(".")
    ]


def _manifest_dirs(top: Path) -> list[Path]:
    """Every folder at or under `top` holding a manifest file that no chart, cdk8s app or
    kustomization folder claims."""
    found = []
    if _owned_by_marker(top):
        return []
    for current, subdirs, _ in os.walk(top):
        here = Path(current)
        subdirs[:] = sorted(
            d for d in subdirs
            if not d.startswith(".") and d not in SKIPPED_DIRS
            and not any(_is_file(here / d / m) for m in OWNER_MARKERS)
        )
        if _has_kustomization(here):
            continue
        if any(manifest_kind(f) for f in _yaml_files(here)):
            found.append(here.resolve())
    return found


def _has_kustomization(directory: Path) -> bool:
    return any(_is_file(directory / name) for name in KUSTOMIZATION_NAMES)


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; False when it cannot be looked at (an unreadable folder is
    the kind that claims it's to report, not a crash of the search)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _owned_by_marker(directory: Path) -> bool:
    """At or under a chart or cdk8s app (up to the repository's top)."""
    for current in [directory.resolve(), *directory.resolve().parents]:
        if any(_is_file(current / m) for m in OWNER_MARKERS):
            return True
        if is_repository_top(current):
            break
    return False
