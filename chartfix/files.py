"""Bytes, text and path safety that every layer shares: how a target's files are read as
text and written back byte for byte, and which paths chartfix may read or write.

A symlink is read through while it stays inside the repository (a monorepo shares a
values.yaml between charts that way); reads refuse paths that escape the target or, through
a symlink, its repository; writes never go through a symlink at all (`linked`): the file
behind it belongs to another target too. A path a repository's own file names (`recipe:`,
`values:`, a dependency's `file://` path) is refused when it leaves the repository
(`named_path`, `within`); what the user gives on the command line may point anywhere
(docs/security.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from chartfix.errors import TargetError
from chartfix.terminal import shown


def decode(data: bytes) -> str:
    """A file's bytes as text; undecodable bytes survive the round trip unchanged."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def is_repository_top(directory: Path) -> bool:
    """`directory` holds `.git`. False when it cannot be looked into (an unreadable folder
    is not a repository top; what reads the folder reports it as that target's error)."""
    try:
        return (Path(directory) / ".git").exists()
    except OSError:
        return False


def git_repository(path: Path) -> Path | None:
    """The git repository holding `path`: the nearest folder at or above it with `.git`;
    None outside any (a tree of the user's own, not a checkout)."""
    start = Path(path).resolve()
    for directory in [start, *start.parents]:
        if is_repository_top(directory):
            return directory
    return None


def repository_root(target_root: Path) -> Path:
    """The repository holding a chart: the nearest directory with `.git`, else the chart."""
    return git_repository(target_root) or Path(target_root).resolve()


def within(path: Path, bound: Path | None) -> bool:
    """`path`, resolved (through every symlink), lies inside `bound` (None: no bound)."""
    if bound is None:
        return True
    try:
        return Path(path).resolve().is_relative_to(bound)
    except (OSError, RuntimeError):  # a symlink loop leads nowhere inside
        return False


def named_path(file: Path, written: str, bound: Path, key: str) -> Path:
    """The real path that `written` (a path in `file`, under `key`) names: relative to the
    file's folder, absolute as written. TargetError naming `file` when it leaves `bound`
    (by `..`, an absolute path or a symlink): a repository's files name only its own
    files, and the content of another file is never read, so never shown."""
    path = Path(file).parent / written
    if not within(path, bound):
        raise TargetError(
            file, f"`{key}`: {shown(written)} is outside the repository ({bound}); "
            "a repository's files may name only its own files"
        )
    return path.resolve()


def where(root: Path, bound: Path) -> str:
    """What a path escapes: the chart itself outside a repository, else the repository."""
    return "the chart" if bound == root else "the repository"


def inside(root: Path, rel: str) -> Path:
    """The real path of chart-relative `rel`, refusing anything that escapes the chart, or
    through a symlink, its repository."""
    root = root.resolve()
    if not rel or Path(rel).is_absolute():
        raise TargetError(root / rel, "not a chart-relative path")
    if not os.path.normpath(root / rel).startswith(str(root) + os.sep):
        raise TargetError(root / rel, "path escapes the chart")
    try:
        target = (root / rel).resolve()
    except (RuntimeError, OSError) as err:
        raise TargetError(root / rel, "symlink loop") from err
    bound = repository_root(root)
    if not target.is_relative_to(bound):
        raise TargetError(root / rel, f"path escapes {where(root, bound)}")
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
