"""Folders of plain manifests as a source kind: finding them parses only folders with YAML;
loading one imports YAML editing (chartfix.sources.manifests.source)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chartfix.errors import TargetError
from chartfix.files import repository_root
from chartfix.sources.manifests.folders import (
    FACTS,
    has_kustomization,
    holds_manifests,
    manifest_dirs,
    manifest_file,
    owned_by_marker,
    yaml_files,
)
from chartfix.sources.static import StaticKind

if TYPE_CHECKING:
    from chartfix.sources.manifests.source import ManifestsSource


class ManifestsKind(StaticKind):
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
                if manifest_file(given) and self._free(given.parent):
                    dirs.add(given.parent.resolve())
                continue
            dirs |= set(manifest_dirs(given))
        owned = self.owned(list(paths)) if self.owned and dirs else set()
        return sorted(d for d in dirs if d not in owned)

    def holds(self, root: Path) -> bool:
        return self._free(root) and holds_manifests(root)

    def load(self, root: Path) -> ManifestsSource:
        from chartfix.sources.manifests.source import ManifestsSource
        from chartfix.sources.yamlfiles import manifest_kind, outside_link, refusal

        root = Path(root)
        files = []
        bound = repository_root(root)
        for path in yaml_files(root):
            link = outside_link(path, bound)
            if link is not None:
                raise link
            kind = manifest_kind(path)
            if kind == "broken":
                raise refusal(path)
            if kind is not None:
                files.append(path.name)
        if not files:
            raise TargetError(root, "no Kubernetes manifest (apiVersion and kind) in this folder")
        return ManifestsSource(root=root, name=root.resolve().name, files=tuple(files))

    def _free(self, directory: Path) -> bool:
        return not owned_by_marker(directory) and not has_kustomization(directory)
