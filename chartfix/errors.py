"""The one error type a chart can fail with: it names the file and the reason, on one line."""

from __future__ import annotations

from pathlib import Path


class ChartError(Exception):
    """A chart that cannot be read, parsed or rendered.

    `path` is the file (or chart directory) at fault; `reason` says what is wrong with it.
    The CLI prints `str(error)` as the single line for this chart and exits with status 2.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(str(reason).split())  # one line, whatever the engine said
        super().__init__(f"{self.path}: {self.reason}")

    def __reduce__(self) -> tuple[type[ChartError], tuple[str, str]]:
        """Rebuild from (path, reason): reports carrying errors cross process pools."""
        return (type(self), (self.path, self.reason))


class UsageError(Exception):
    """The command was misused (bad flag combination, unknown recipe...): exit status 2."""
