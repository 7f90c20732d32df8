"""kustomize bases and overlays as a source kind: finding them reads kustomization files
only; loading one imports the builder and YAML editing (chartfix.sources.kustomize.source)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chartfix.errors import TargetError
from chartfix.sources.kustomize.kustomization import (
    FACTS,
    boundary_of,
    claimed,
    find_dirs,
    groups,
    groups_holding,
)
from chartfix.sources.static import StaticKind

if TYPE_CHECKING:
    from chartfix.sources.kustomize.source import KustomizeSource


class KustomizeKind(StaticKind):
    """kustomize bases and overlays (see kustomization.py for how they group)."""

    name = "kustomize"
    marker = "kustomization.yaml"
    facts = FACTS

    def find(self, paths: Sequence[Path]) -> list[Path]:
        return sorted({g.root for p in paths for g in groups(find_dirs([p]), boundary_of(p))})

    def holds(self, root: Path) -> bool:
        return any(
            g.root == Path(root).resolve() for g in groups(find_dirs([root]), boundary_of(root))
        )

    def owned(self, paths: Sequence[Path]) -> set[Path]:
        """Folders the kustomizations at or under `paths` use (not manifests targets)."""
        dirs: set[Path] = set()
        for path in paths:
            for group in groups(find_dirs([path]), boundary_of(path)):
                dirs |= claimed(group)
        return dirs

    def holders(self, files: Sequence[Path]) -> dict[Path, set[Path]]:
        """The target roots each of `files` stands for, when given alone (see
        `groups_holding`): a kustomization.yaml, a base's resource, an overlay's patch."""
        return groups_holding(files)

    def load(self, root: Path) -> KustomizeSource:
        from chartfix.sources.kustomize.source import KustomizeSource

        root = Path(root).resolve()
        mine = [g for g in groups(find_dirs([root]), boundary_of(root)) if g.root == root]
        if not mine:
            raise TargetError(root, "no kustomize base or overlay has this folder as its own")
        return KustomizeSource(root=root, group=mine[0], name=root.name)
