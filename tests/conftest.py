"""Shared test helpers: fixture charts copied to a scratch directory, so tests may write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def chart_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`chart_copy("legacy-server")` -> a private copy of that fixture chart."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, symlinks=True)
        return target

    return copy
