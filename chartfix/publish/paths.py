"""The output paths chartfix checks before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

from chartfix.errors import UsageError


def writable_file(path: Path, flag: str) -> None:
    """An output file chartfix will create or replace: its folder must exist and be
    writable (checked before any chart is touched, not after)."""
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a directory")
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: no such directory {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write in {folder}")


def writable_dir(path: Path, flag: str) -> None:
    """An output folder chartfix will create if needed: it, or its nearest existing parent,
    must be a writable directory."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write in {existing}")
