"""The one error type a chart can fail with: it names the file and the reason, on one line;
and how chartfix shows a path in any message."""

from __future__ import annotations

import os
from pathlib import Path


class ChartError(Exception):
    """A chart that cannot be read, parsed or rendered.

    `path` is the file (or chart directory) at fault; `reason` says what is wrong with it.
    The CLI prints `str(error)` as the single line for this chart and exits with status 2.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = _one_line(str(reason))
        super().__init__(f"{self.path}: {self.reason}")

    def __reduce__(self) -> tuple[type[ChartError], tuple[str, str]]:
        """Rebuild from (path, reason): reports carrying errors cross process pools."""
        return (type(self), (self.path, self.reason))


MAX_REASON = 500


def _one_line(reason: str) -> str:
    """One line, whatever the engine said, and short enough to read (a template that
    includes itself makes Helm repeat 'error calling include' thousands of times)."""
    text = " ".join(reason.split())
    if len(text) <= MAX_REASON:
        return text
    return f"{text[: MAX_REASON // 2]} … {text[-MAX_REASON // 2 :]}"


class UsageError(Exception):
    """The command was misused (bad flag combination, unknown recipe...): exit status 2."""


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it (as git would show it)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)
