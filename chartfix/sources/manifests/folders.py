"""Which folders are plain-manifests targets, and what the kind is called: cheap to import
(a folder's YAML is parsed only when it has some; chartfix.sources.manifests.source reads
and edits a target).

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
from pathlib import Path

from chartfix.files import is_repository_top
from chartfix.model.kinds import KindFacts
from chartfix.sources.base import SUFFIXES

OWNER_MARKERS = ("Chart.yaml", "cdk8s.yaml")
"""The files that make a folder another kind's target (`SourceKind.marker`): folders at or
under one are that target's, never plain manifests. A new kind with a marker adds it here."""
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})

FACTS = KindFacts(
    name="manifests",
    noun="manifests folder",
    looks_for="plain manifests",
    rendered_by="the manifests (parsed as written)",
    released=False,
    applied_as=(
        "For the manifests of `{root}`, applied with `kubectl apply -f {path}` or synced by "
        "Argo CD or Flux: the steps name the objects as written, in their namespace."
    ),
    apply="kubectl {ns}apply -f {path}  # or merge and let Argo CD / Flux sync",
)
"""What the manifests kind is called and how its folders are applied (`SourceKind.facts`)."""


def yaml_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [
        Path(e.path) for e in entries
        if e.name.endswith(SUFFIXES) and e.is_file() and not e.name.startswith(".")
    ]


def manifest_dirs(top: Path) -> list[Path]:
    """Every folder at or under `top` holding a manifest file that no chart, cdk8s app or
    kustomization folder claims."""
    found = []
    if owned_by_marker(top):
        return []
    for current, subdirs, _ in os.walk(top):
        here = Path(current)
        subdirs[:] = sorted(
            d for d in subdirs
            if not d.startswith(".") and d not in SKIPPED_DIRS
            and not any(_is_file(here / d / m) for m in OWNER_MARKERS)
        )
        if has_kustomization(here):
            continue
        if holds_manifests(here):
            found.append(here.resolve())
    return found


def has_kustomization(directory: Path) -> bool:
    return any(_is_file(directory / name) for name in KUSTOMIZATION_NAMES)


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; False when it cannot be looked at (an unreadable folder is
    the kind that claims it's to report, not a crash of the search)."""
    try:
        return path.is_file()
    except OSError:
        return False


def owned_by_marker(directory: Path) -> bool:
    """At or under a chart or cdk8s app (up to the repository's top)."""
    for current in [directory.resolve(), *directory.resolve().parents]:
        if any(_is_file(current / m) for m in OWNER_MARKERS):
            return True
        if is_repository_top(current):
            break
    return False


def manifest_file(path: Path) -> bool:
    """A YAML file holding a Kubernetes object (or meant to)."""
    from chartfix.sources.yamlfiles import manifest_kind  # here: only YAML files are parsed

    return path.suffix in SUFFIXES and manifest_kind(path) is not None


def holds_manifests(directory: Path) -> bool:
    """One of the folder's own YAML files holds a Kubernetes object (or is meant to)."""
    return any(manifest_file(f) for f in yaml_files(directory))

