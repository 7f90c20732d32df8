"""The one error type a chart can fail with: it names the file and the reason, on one line;
and how chartfix shows a path in any message."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from chartfix.terminal import shown


class TargetError(Exception):
    """A chart that cannot be read, parsed or rendered.

    `path` is the file (or chart directory) at fault; `reason` says what is wrong with it.
    The CLI prints `str(error)` as the single line for this chart and exits with status 2.
    `notes` are what else the user must know to read that line (a dependency that could not
    be had offline): printed after it, as notes.
    """

    def __init__(self, path: str | Path, reason: str, notes: Sequence[str] = ()) -> None:
        self.path = str(path)
        self.reason = _one_line(str(reason))
        self.notes = tuple(notes)
        super().__init__(f"{shown(display_path(Path(self.path)))}: {self.reason}")

    def __reduce__(self) -> tuple[type[TargetError], tuple[str, str, tuple[str, ...]]]:
        """Rebuild from (path, reason, notes): reports carrying errors cross process pools."""
        return (type(self), (self.path, self.reason, self.notes))


MAX_REASON = 500


def _one_line(reason: str) -> str:
    """One line, whatever the engine said (its line breaks joined, other control characters
    shown as escapes), and short enough to read (a template that includes itself makes
    Helm repeat 'error calling include' thousands of times)."""
    text = shown(" ".join(reason.split()))
    if len(text) <= MAX_REASON:
        return text
    return f"{text[: MAX_REASON // 2]} … {text[-MAX_REASON // 2 :]}"


class Skipped(Exception):
    """A target chartfix must not process and has nothing else of to read (a cdk8s app the
    user did not let run, with no committed output): `reason` says why, on one line."""

    def __init__(self, reason: str) -> None:
        self.reason = _one_line(reason)
        super().__init__(self.reason)


class UsageError(Exception):
    """The command was misused (bad flag combination, unknown recipe...): exit status 2."""


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, as git would show it
    (a symlink in it is not followed to decide: a link out of the chart is named where it is)."""
    here = Path.cwd()
    try:
        below = Path(os.path.abspath(path)).is_relative_to(here)
        below = below or path.resolve().is_relative_to(here)
        return os.path.relpath(path) if below else str(path)
    except (ValueError, OSError):
        return str(path)
