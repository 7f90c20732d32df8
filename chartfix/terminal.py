"""Text from repositories, shown as text: control characters and bidirectional overrides
are written as their escapes (`\\u001b`, `\\u202e`), never obeyed by a terminal or hidden in a
page. `TerminalStream` guards chartfix's stdout and stderr (cli.main); `shown` puts a value
on one line; `visible` is for pages (the HTML report) and multi-line text."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

_MARKS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
"""Line and paragraph separators, and the invisible bidirectional marks, embeddings,
overrides and isolates (U+202E RIGHT-TO-LEFT OVERRIDE makes `exe.txt` read `txt.exe`)."""
_PAGE_UNSAFE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _MARKS
"""Control characters (C0 but tab, newline and carriage return; DEL; C1) and the marks."""
_UNSAFE = "\r" + _PAGE_UNSAFE
_IN_LINE = re.compile(f"[\t\n{_UNSAFE}]")
_IN_TEXT = re.compile(f"[{_UNSAFE}]")
_IN_COLOURED = re.compile(f"\x1b\\[[0-9;]*m|[{_UNSAFE}]")
_IN_PAGE = re.compile(f"[{_PAGE_UNSAFE}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if len(char) > 1 and "8" not in char[2:-1].split(";"):  # colours, but concealed text
        return char
    return "".join(_code(c) if _IN_TEXT.match(c) else c for c in char)


def _code(char: str) -> str:
    return _NAMED.get(char) or f"\\u{ord(char):04x}"


def shown(text: Any) -> str:
    """`text` on one line, every control or bidirectional character written as its escape
    (`\\n`, `\\u001b`, `\\u202e`): what a repository wrote, shown, never obeyed. The escapes
    are JSON's too, so a shown text stays valid inside a JSON string."""
    return _IN_LINE.sub(lambda m: _code(m.group()), str(text))


def visible(text: str) -> str:
    """`text` with its lines and tabs kept, and every other control or bidirectional
    character written as its escape (`\\u202e`): for pages and multi-line text."""
    return _IN_PAGE.sub(lambda m: _code(m.group()), text)


class OutputError(Exception):
    """Writing to stdout or stderr failed (a full disk, `> /dev/full`): the environment's
    fault, said in one line. A closed pipe (`| head -1`) stays a BrokenPipeError: not an
    error to report."""

    def __init__(self, stream: str, err: OSError) -> None:
        names = {"<stdout>": "standard output", "<stderr>": "standard error"}
        super().__init__(f"cannot write to {names.get(stream, stream)}: {err.strerror or err}")


class TerminalStream:
    """A text stream that escapes every control and bidirectional character written to it
    but newlines, tabs and, on a terminal, colours (SGR sequences such as `ESC[1;31m`,
    never concealed text): whatever a message carries from a repository, the terminal or
    CI log shows it and does not obey it. `raw` is the stream underneath, for bytes that
    must pass as they are (a patch)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw
        isatty = getattr(raw, "isatty", None)
        self._tty = bool(isatty is not None and isatty())

    def write(self, text: str) -> int:
        # colours pass on a terminal, and anywhere with `--color always` (FORCE_COLOR)
        coloured = self._tty or bool(os.environ.get("FORCE_COLOR"))
        with self._failing_as_output_error():
            self.raw.write((_IN_COLOURED if coloured else _IN_TEXT).sub(_escape, text))
        return len(text)

    def flush(self) -> None:
        with self._failing_as_output_error():
            self.raw.flush()

    @contextlib.contextmanager
    def _failing_as_output_error(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as err:
            raise OutputError(str(getattr(self.raw, "name", "output")), err) from err

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def unfiltered(stream: Any) -> Any:
    """The stream under a TerminalStream (rich draws its own cursor moves), else `stream`."""
    return stream.raw if isinstance(stream, TerminalStream) else stream


def for_terminal(stream: TextIO) -> TextIO:
    return stream if isinstance(stream, TerminalStream) else TerminalStream(stream)  # type: ignore[return-value]
