"""Helm charts as a source kind: finding them is cheap; loading one imports the engine's
side (rendering, template editing: chartfix.sources.helm.source)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from chartfix.errors import Skipped, TargetError
from chartfix.files import git_repository, within
from chartfix.sources.helm.chart import (
    FACTS,
    declared_dependencies,
    find_charts,
    load_chart,
    read_chart_meta,
)

if TYPE_CHECKING:
    from chartfix.sources.helm.source import HelmSource


class HelmKind:
    """Helm charts: a folder with a Chart.yaml."""

    name = "helm"
    marker = "Chart.yaml"
    facts = FACTS

    def find(self, paths: Sequence[Path]) -> list[Path]:
        return find_charts(paths)

    def holds(self, root: Path) -> bool:
        return (Path(root) / self.marker).is_file()

    def skip_reason(
        self, root: Path, run_apps: bool | None, untrusted: Sequence[Path]
    ) -> str | None:
        return None  # templates are data, not programs: always rendered

    def load_unrun(self, root: Path, reason: str) -> NoReturn:
        raise Skipped(reason)  # never asked: skip_reason is always None

    def load(self, root: Path) -> HelmSource:
        from chartfix.sources.helm.source import HelmSource

        return HelmSource(load_chart(root))

    def depends_on(self, root: Path) -> list[Path]:
        """The directories of the chart's `file://` dependencies, inside its repository (one
        outside is never read: the run refuses the chart)."""
        try:
            dependencies = list(declared_dependencies(root, read_chart_meta(root)))
        except (TargetError, OSError, ValueError):
            return []
        bound = git_repository(root)
        return [
            (root / d.repository.removeprefix("file://")).resolve()
            for d in dependencies
            if d.repository.startswith("file://")
            and (root / d.repository.removeprefix("file://")).is_dir()
            and within(root / d.repository.removeprefix("file://"), bound)
        ]
