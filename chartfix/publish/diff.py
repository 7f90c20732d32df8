"""Unified diffs of a verified change (difflib) and their summaries (unidiff).

The diff is a real patch: `git apply` takes it, CRLF lines keep their `\\r`, and a file
without a final newline says so the way git does.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from unidiff import PatchSet

from chartfix.errors import display_path
from chartfix.files import decode
from chartfix.model.changes import FileChange, TargetChange

_NO_NEWLINE = "\\ No newline at end of file\n"


def file_diff(chart_dir: str, change: FileChange) -> str:
    name = f"{chart_dir}/{change.path}" if chart_dir not in ("", ".") else change.path
    name = name.lstrip("/")  # a/ and b/ prefixes, as git writes them, even for absolute paths
    old = decode(change.before).splitlines(keepends=True)
    new = decode(change.after).splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, quote_path(f"a/{name}"), quote_path(f"b/{name}"))
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n" + _NO_NEWLINE)
    return "".join(out)


_C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
              34: '\\"', 92: "\\\\"}


def quote_path(name: str) -> str:
    """A path as git writes it in a patch: in C-style quotes when it holds a control
    character, a quote, a backslash or a non-ASCII byte (git's default core.quotePath), so a
    chart folder named with a newline still makes one header line that `git apply` reads."""
    data = name.encode("utf-8", "surrogateescape")
    if all(0x20 <= b < 0x7F and b not in (34, 92) for b in data):
        return name
    out = "".join(
        _C_ESCAPES.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\{b:03o}") for b in data
    )
    return f'"{out}"'


def chart_diff(change: TargetChange) -> str:
    chart_dir = display_path(change.target_root)
    return "".join(file_diff(chart_dir, f) for f in change.files)


@dataclass(frozen=True)
class DiffSummary:
    files: int
    added: int
    removed: int

    def __str__(self) -> str:
        noun = "file" if self.files == 1 else "files"
        return f"{self.files} {noun} changed, {self.added} lines added, {self.removed} removed"


def summarize(diffs: Iterable[str]) -> DiffSummary:
    """Count files and lines from the diff text itself, as a reviewer would see them."""
    patch = PatchSet("".join(diffs))
    return DiffSummary(
        len(patch),
        sum(f.added for f in patch),
        sum(f.removed for f in patch),
    )


def colorize(diff: str) -> str:
    """ANSI colours for a terminal: additions green, removals red, hunk headers cyan."""
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(f"\x1b[1m{line.rstrip(chr(10))}\x1b[0m\n")
        elif line.startswith("+"):
            out.append(f"\x1b[32m{line.rstrip(chr(10))}\x1b[0m\n")
        elif line.startswith("-"):
            out.append(f"\x1b[31m{line.rstrip(chr(10))}\x1b[0m\n")
        elif line.startswith("@@"):
            out.append(f"\x1b[36m{line.rstrip(chr(10))}\x1b[0m\n")
        else:
            out.append(line)
    return "".join(out)
