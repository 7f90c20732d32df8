"""What a kind whose targets are only read answers about running them (plain manifests,
kustomize): a `SourceKind`'s defaults for targets that run no code of their own.

Light on purpose, as the kinds' `kind.py` modules are (the registry imports them on every
run): it imports nothing but chartfix.errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from chartfix.errors import Skipped


class StaticKind:
    """A kind whose targets are files read as they are: never skipped (no program of theirs
    runs), nothing read outside them, so no stand-in is ever asked for."""

    def skip_reason(
        self, root: Path, run_apps: bool | None, untrusted: Sequence[Path]
    ) -> str | None:
        return None

    def depends_on(self, root: Path) -> list[Path]:
        return []

    def load_unrun(self, root: Path, reason: str) -> NoReturn:
        raise Skipped(reason)  # never asked: skip_reason is always None
