"""Bytes, text and path safety that every layer shares: how a target's files are read as
text and written back byte for byte, and which paths chartfix may read or write.

A symlink is read through while it stays inside the repository (a monorepo shares a
values.yaml between charts that way); reads refuse paths that escape the target or, through
a symlink, its repository; writes never go through a symlink at all (`linked`): the file
behind it belongs to another target too.
"""

from __future__ import annotations

import os
from pathlib import Path

from chartfix.errors import ChartError


def decode(data: bytes) -> str:
    """A file's bytes as text; undecodable bytes survive the round trip unchanged."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def repository_root(chart_root: Path) -> Path:
    """The repository holding a chart: the nearest directory with `.git`, else the chart."""
    chart_root = Path(chart_root).resolve()
    for directory in [chart_root, *chart_root.parents]:
        if (directory / ".git").exists():
            return directory
    return chart_root


def where(root: Path, bound: Path) -> str:
    """What a path escapes: the chart itself outside a repository, else the repository."""
    return "the chart" if bound == root else "the repository"


def inside(root: Path, rel: str) -> Path:
    """The real path of chart-relative `rel`, refusing anything that escapes the chart, or
    through a symlink, its repository."""
    root = root.resolve()
    if not rel or Path(rel).is_absolute():
        raise ChartError(root / rel, "not a chart-relative path")
    if not os.path.normpath(root / rel).startswith(str(root) + os.sep):
        raise ChartError(root / rel, "path escapes the chart")
    try:
        target = (root / rel).resolve()
    except (RuntimeError, OSError) as err:
        raise ChartError(root / rel, "symlink loop") from err
    bound = repository_root(root)
    if not target.is_relative_to(bound):
        raise ChartError(root / rel, f"path escapes {where(root, bound)}")
    return target


def linked(root: Path, rel: str) -> Path | None:
    """The symlink on the way to chart-relative `rel` (the file or a folder above it), if any:
    chartfix never writes through one."""
    path = Path(root).resolve()
    for part in Path(rel).parts:
        path = path / part
        if path.is_symlink():
            return path
    return None
