"""cdk8s apps as a source kind: finding them is cheap; loading one imports libcst."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chartfix.sources.cdk8s.app import CONFIG_FILE, FACTS, find_apps, skip_reason

if TYPE_CHECKING:
    from chartfix.sources.cdk8s.output import CommittedOutput
    from chartfix.sources.cdk8s.source import CdkSource


class Cdk8sKind:
    """cdk8s apps written in Python: a folder with a cdk8s.yaml."""

    name = "cdk8s"
    marker = CONFIG_FILE
    facts = FACTS

    def find(self, paths: Sequence[Path]) -> list[Path]:
        return find_apps([p for p in paths if os.access(p, os.R_OK | os.X_OK)])

    def holds(self, root: Path) -> bool:
        return (Path(root) / self.marker).is_file()

    def skip_reason(
        self, root: Path, run_apps: bool | None, untrusted: Sequence[Path]
    ) -> str | None:
        return skip_reason(root, run_apps, untrusted)

    def depends_on(self, root: Path) -> list[Path]:
        return []

    def load(self, root: Path) -> CdkSource:
        from chartfix.sources.cdk8s.source import CdkSource

        return CdkSource.at(root)

    def load_unrun(self, root: Path, reason: str) -> CommittedOutput:
        """The app's committed synthesized output (`dist/`), check-only."""
        from chartfix.sources.cdk8s.output import committed_output

        return committed_output(root, reason)
