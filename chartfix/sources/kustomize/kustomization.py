"""Kustomization files: what they reference on disk, and how bases and overlays group.

A kustomization (`kustomization.yaml`, `.yml` or `Kustomization`) lists `resources` (files,
or folders holding another kustomization), `components`, patches and generators. Folders
that reference each other form one group: a base and every overlay built on it. A group is
one chartfix target whose root is the group's common folder; the kustomizations no other one
of the group references (the overlays, or a lone kustomization) are its scenarios, each
built with `kubectl kustomize`. An overlay is therefore never a target of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartfix.errors import TargetError
from chartfix.files import is_repository_top
from chartfix.model.kinds import KindFacts
from chartfix.sources.base import kustomization_file

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})

FACTS = KindFacts(
    name="kustomize",
    noun="kustomization",
    looks_for="kustomization",
    rendered_by="every overlay with kustomize (kubectl kustomize)",
    released=False,
    applied_as=(
        "For the overlays of `{root}`, each applied with `kubectl apply -k OVERLAY` or synced "
        "by Argo CD or Flux: the steps name the objects each overlay builds, in the namespace "
        "it puts them in. Run those of the overlays you deploy."
    ),
    apply="kubectl {ns}apply -k {path}  # or merge and let Argo CD / Flux sync",
    overlays=True,
)
"""What the kustomize kind is called and how its overlays are applied (`SourceKind.facts`)."""
OWNER_MARKERS = ("Chart.yaml", "cdk8s.yaml")
"""A Helm chart's or cdk8s app's folder is theirs, even when it holds a kustomization."""


@dataclass(frozen=True)
class Kustomization:
    """One kustomization file, read."""

    dir: Path
    file: Path
    data: dict[str, Any]

    def local_refs(self) -> list[Path]:
        """Every local path it names (resources, components, transformers, patch files,
        generator files...): resolved, remote URLs left out."""
        return [path for _, path in self.local_paths()]

    def local_paths(self) -> list[tuple[str, Path]]:
        """(path as written, resolved) of every local path it names."""
        return [(ref, (self.dir / ref).resolve()) for _, ref in self._written_refs()]

    def kustomization_dirs(self) -> list[Path]:
        """The folders holding a kustomization that it names anywhere: bases and components,
        and the folders of transformers, generators and validators (kustomize builds those
        too, so they belong to its group and are no scenario of their own)."""
        return [p for p in self.local_refs() if p.is_dir() and kustomization_file(p)]

    def missing(self) -> list[tuple[str, str]]:
        """(field, path as written) of the local paths it names that do not exist: kustomize
        cannot build it, and says so with paths of chartfix's temporary copy."""
        return [(key, ref) for key, ref in self._written_refs() if not (self.dir / ref).exists()]

    def remote_refs(self) -> list[tuple[str, str]]:
        """(field, URL) of the remote resources and bases it names (`https://...`,
        `github.com/org/repo//path?ref=v1`, `ssh://git@host/repo`): kustomize fetches
        them, with git for a repository."""
        return [(key, ref) for key, ref in self._refs() if _remote(ref)]

    def _written_refs(self) -> list[tuple[str, str]]:
        return [(key, ref) for key, ref in self._refs() if not _remote(ref)]

    def _refs(self) -> list[tuple[str, str]]:
        refs: list[tuple[str, str]] = []
        for key in ("resources", "bases", "components", "crds", "configurations"):
            refs += [(key, r) for r in _strings(self.data.get(key))]
        for key in ("patchesStrategicMerge", "transformers", "generators", "validators"):
            # an entry may be the YAML itself rather than a path
            refs += [(key, r) for r in _strings(self.data.get(key)) if "\n" not in r]
        for key in ("patches", "patchesJson6902", "replacements"):
            for item in _list(self.data.get(key)):
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    refs.append((key, item["path"]))
        openapi = self.data.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            refs.append(("openapi", openapi["path"]))
        for key in ("configMapGenerator", "secretGenerator"):
            for item in _list(self.data.get(key)):
                if isinstance(item, dict):
                    entries = _strings(item.get("files")) + _strings(item.get("envs"))
                    if isinstance(item.get("env"), str):
                        entries.append(item["env"])
                    refs += [(key, entry.split("=", 1)[-1]) for entry in entries]
        return refs

    def bases(self) -> list[Path]:
        """The folders it builds on that hold a kustomization (resources, bases, components)."""
        found = []
        for key in ("resources", "bases", "components"):
            for ref in _strings(self.data.get(key)):
                path = (self.dir / ref).resolve()
                if not _remote(ref) and path.is_dir() and kustomization_file(path):
                    found.append(path)
        return found


def read(directory: Path) -> Kustomization:
    file = kustomization_file(directory)
    if file is None:
        raise TargetError(directory, "no kustomization.yaml here")
    from chartfix.yamlfile import load  # here: a folder without a kustomization reads no YAML

    try:
        data = load(file.read_bytes(), file)
    except OSError as err:
        raise TargetError(file, f"cannot read: {err.strerror or err}") from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TargetError(file, "not a kustomization: the file is not a mapping")
    return Kustomization(directory.resolve(), file, data)


@dataclass
class Group:
    """Kustomizations that build on each other: one target."""

    root: Path
    members: list[Path] = field(default_factory=list)
    tops: list[Path] = field(default_factory=list)
    """Members no other member builds on: the scenarios."""

    def scenario_name(self, top: Path) -> str:
        rel = top.relative_to(self.root).as_posix()
        return "default" if rel == "." else rel


def find_dirs(paths: Iterable[Path]) -> list[Path]:
    """Every kustomization folder at or under `paths` (hidden folders and charts skipped)."""
    found: list[Path] = []
    for top in paths:
        top = Path(top)
        if top.is_file():
            top = top.parent
        for current, subdirs, _ in os.walk(top):
            here = Path(current)
            if any(_is_file(here / m) for m in OWNER_MARKERS):
                subdirs[:] = []
                continue
            subdirs[:] = sorted(
                d for d in subdirs if not d.startswith(".") and d not in SKIPPED_DIRS
            )
            if kustomization_file(here):
                found.append(here.resolve())
    return sorted(set(found))


def groups(seeds: Sequence[Path], boundary: Path) -> list[Group]:
    """The groups the kustomizations `seeds` belong to, following what they build on inside
    `boundary` (see `boundary_of`): a base outside it is no member, and building the
    kustomization that names it is refused (KustomizeSource._named).

    Groups whose common folder is the same are one target (two apps whose bases and
    overlays interleave in one tree)."""
    boundary = boundary.resolve()
    parent: dict[Path, Path] = {}

    def find(x: Path) -> Path:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    built_on: dict[Path, list[Path]] = {}
    pending = list(seeds)
    while pending:
        directory = pending.pop()
        if directory in built_on:
            continue
        parent.setdefault(directory, directory)
        try:
            bases = [
                b for b in read(directory).kustomization_dirs() if b.is_relative_to(boundary)
            ]
        except TargetError:
            bases = []  # its build will say what is wrong
        built_on[directory] = bases
        for base in bases:
            parent.setdefault(base, base)
            parent[find(base)] = find(directory)
            pending.append(base)
    components: dict[Path, list[Path]] = {}
    for directory in built_on:
        components.setdefault(find(directory), []).append(directory)
    by_root: dict[Path, Group] = {}
    for members in components.values():
        root = Path(os.path.commonpath([str(m) for m in members]))
        group = by_root.setdefault(root, Group(root))
        group.members += members
    _adopt_broken(by_root)
    referenced = {b for bases in built_on.values() for b in bases}
    for group in by_root.values():
        group.members.sort()
        group.tops = [m for m in group.members if m not in referenced and not _component(m)]
    return sorted((g for g in by_root.values() if g.tops), key=lambda g: g.root)


def _adopt_broken(by_root: dict[Path, Group]) -> None:
    """A lone kustomization naming a path that does not exist, inside another group's
    folder (`overlays/broken` whose base was mistyped), is an overlay of that group that
    cannot build: one of its scenarios (named with the reason while the others are
    checked), not a target of its own failing beside it."""
    for root, group in sorted(by_root.items(), reverse=True):
        if group.members != [root] or not _names_missing(root):
            continue
        holders = [r for r in by_root if r != root and root.is_relative_to(r)]
        if holders:
            by_root[max(holders, key=lambda r: len(r.parts))].members.append(root)
            del by_root[root]


def claimed(group: Group) -> set[Path]:
    """The folders a group's kustomizations use: theirs, not a manifests target's."""
    dirs: set[Path] = set(group.members)
    for member in group.members:
        try:
            refs = read(member).local_refs()
        except TargetError:
            continue
        dirs |= {r if r.is_dir() else r.parent for r in refs}
    return dirs


def groups_holding(files: Sequence[Path]) -> dict[Path, set[Path]]:
    """File -> the roots of the groups it belongs to, for files given alone (a pre-commit
    hook's changed files): those in a folder a group uses (a member's, a resource's or a
    patch's folder), or below a member. A base's file stands for the base with its
    overlays, as the folder above them does; the overlays may be anywhere in the
    repository, so the groups are those of the repository the file is in (its `.git`
    folder's; without one, the working directory's, or the file's own folder). Files of
    a Helm chart or cdk8s app are theirs, not a kustomization's."""
    held: dict[Path, set[Path]] = {}
    by_top: dict[Path, dict[Path, set[Path]]] = {}
    for file in files:
        file = Path(file).resolve()
        top = repository_of(file)
        above = file.parents[: file.parents.index(top) + 1] if top in file.parents else ()
        if any(_is_file(d / m) for d in above for m in OWNER_MARKERS):
            continue  # a chart's or app's file: no need to read the repository's kustomizations
        if top not in by_top:
            by_top[top] = {}
            for group in groups(find_dirs([top]), top):
                for directory in claimed(group):
                    by_top[top].setdefault(directory, set()).add(group.root)
        uses = by_top[top]
        for directory in file.parents:
            if directory in uses and (directory == file.parent or kustomization_file(directory)):
                held[file] = uses[directory]
                break
            if directory == top:
                break
    return held


def boundary_of(target: Path) -> Path:
    """What a target given on the command line may use: its repository (the folder holding
    `.git`, at or above it), or the target folder itself when it is in none."""
    target = Path(target).resolve()
    folder = target.parent if target.is_file() else target
    for directory in (folder, *folder.parents):
        if is_repository_top(directory):
            return directory
    return folder


def repository_of(file: Path) -> Path:
    """The repository `file` is in: its `.git` folder's; without one, the working
    directory when it holds the file, or else the file's own folder."""
    for directory in file.parents:
        if is_repository_top(directory):
            return directory
    cwd = Path.cwd().resolve()
    return cwd if file.is_relative_to(cwd) else file.parent


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _names_missing(directory: Path) -> bool:
    try:
        return bool(read(directory).missing())
    except TargetError:
        return False


def _component(directory: Path) -> bool:
    """A `kind: Component`: built only as part of a kustomization that names it, never alone
    (so never a scenario, and no target when nothing uses it)."""
    try:
        return read(directory).data.get("kind") == "Component"
    except TargetError:
        return False


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _strings(raw: Any) -> list[str]:
    return [r for r in raw if isinstance(r, str)] if isinstance(raw, list) else []


def _remote(ref: str) -> bool:
    """A URL kustomize fetches; another path that does not exist is refused as missing
    (`Kustomization.missing`), so nothing a kustomization names reaches kubectl as a URL
    unseen."""
    return "://" in ref or "::" in ref or ref.startswith(
        ("github.com/", "git@", "gitlab.com/", "bitbucket.org/")
    )
