"""Headings of a Markdown file as CommonMark reads them (markdown-it-py), by line.

The notes and changelog entries chartfix writes go next to a heading of the repository's own
README.md, CHANGELOG.md or MIGRATION.md; the parser says which lines are headings (an ATX
`## Upgrading` or a setext one, underlined with `=` or `-`; never a `## ...` line inside a
fenced or indented code block, an HTML block or a block quote) and the edit splices the
original text by line, so that every byte around it stays.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    """A top-level heading: `level` 1-6, its words, and its rows in `split_lines(text)`."""

    level: int
    text: str
    start: int
    end: int
    """The row after it: a setext heading's underline is part of it."""


def split_lines(text: str) -> list[str]:
    """`text`'s lines with their endings, cut where CommonMark ends a line (`\\r\\n`, `\\r`,
    `\\n`), so that row numbers are the parser's: `str.splitlines` also cuts at a form feed
    or U+2028, which a Markdown line may hold."""
    return io.StringIO(text, newline="").readlines()


def ending_as(old: str, new: str) -> str:
    """`new` ending as `old` does: without a final line break when `old` has none (text added
    after its last line is joined to it by a line break, and none follows the addition)."""
    if old and not old.endswith(("\n", "\r")):
        return new.rstrip("\r\n")
    return new


def headings(text: str) -> list[Heading]:
    """The headings of `text` outside any container (a heading quoted in a `>` block or
    inside a list item is part of that block), in order."""
    from markdown_it import MarkdownIt  # 50 ms to import: only commands that write notes pay

    tokens = MarkdownIt("commonmark").parse(text)
    found: list[Heading] = []
    for token, inline in itertools.pairwise(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map is not None:
            start, end = token.map
            found.append(Heading(int(token.tag[1:]), inline.content, start, end))
    return found
