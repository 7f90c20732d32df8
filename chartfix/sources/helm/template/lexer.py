"""A lexer for Go template actions as Helm uses them.

It splits a template into literal text and actions (`{{ ... }}`), knowing about trim markers
(`{{-`, `-}}`), comments (`{{/* */}}`), string literals that contain `}}`, raw backtick strings
and actions that span lines. Positions index the decoded text, so every byte of the file stays
addressable: nothing here ever rewrites what it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ActionKind = Literal["output", "open", "else", "end", "comment", "assign", "other"]

_OPENERS = ("if", "range", "with", "define", "block")
_ASSIGN = re.compile(r"^\$[A-Za-z0-9_]*\s*:?=")
_INDENT = re.compile(r"\|\s*(n?indent)\s+(\d+)\s*$")
_ACTION_STOP = re.compile(r"[\"'`]|\}\}")
"""What ends or changes a scan through an action: a string's or raw string's opening quote,
or the closing braces (found by the regex engine, not a loop over every character)."""
_STRING_STOP = {q: re.compile(rf"[\\{q}\n]") for q in "\"'"}
"""What a scan through a quoted string stops at: an escape, the closing quote, a newline."""


class TemplateSyntaxError(ValueError):
    """A template the lexer cannot read (unterminated action, comment or string)."""

    def __init__(self, message: str, line: int) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass(frozen=True)
class Action:
    """One `{{ ... }}` action: `start`/`end` cover the braces and trim markers."""

    start: int
    end: int
    inner: str
    """The pipeline between the delimiters, trim markers and outer spaces removed."""
    kind: ActionKind
    keyword: str
    """`if`, `range`, `define`... for control actions; empty otherwise."""
    trim_left: bool
    trim_right: bool
    inner_start: int = 0
    """Position of `inner` in the text, for edits inside an action (a helper's argument)."""

    @property
    def produces_output(self) -> bool:
        return self.kind == "output"

    def indent_argument(self) -> int | None:
        """N of a trailing `| indent N` / `| nindent N`: the column its output starts lines at."""
        match = _INDENT.search(self.inner)
        return int(match.group(2)) if match else None

    @property
    def starts_new_line(self) -> bool:
        """True for a pipeline ending in `nindent`, whose output begins with a newline."""
        match = _INDENT.search(self.inner)
        return bool(match and match.group(1) == "nindent")


def lex(text: str) -> list[Action]:
    """Every action of `text`, in order. Text between actions is implied by their spans."""
    actions: list[Action] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return actions
        action = _read_action(text, start)
        actions.append(action)
        pos = action.end


def _read_action(text: str, start: int) -> Action:
    body = start + 2
    trim_left = text.startswith("- ", body) or text.startswith("-\t", body) or (
        text.startswith("-\n", body) or text.startswith("-\r", body)
    )
    if trim_left:
        body += 1
    stripped_start = body
    while stripped_start < len(text) and text[stripped_start] in " \t\r\n":
        stripped_start += 1
    if text.startswith("/*", stripped_start):
        close = text.find("*/", stripped_start + 2)
        if close < 0:
            raise TemplateSyntaxError("unclosed comment", _line_of(text, start))
        end, trim_right = _close_delimiter(text, close + 2, start)
        inner = text[stripped_start : close + 2]
        return Action(start, end, inner, "comment", "", trim_left, trim_right, stripped_start)

    i = body
    while (found := _ACTION_STOP.search(text, i)) is not None:
        i = found.start()
        ch = text[i]
        if ch in "\"'":
            i = _skip_quoted(text, i, ch, start)
            continue
        if ch == "`":
            close = text.find("`", i + 1)
            if close < 0:
                raise TemplateSyntaxError("unterminated raw string", _line_of(text, start))
            i = close + 1
            continue
        # Go's right trim marker is exactly " -}}": a space, a dash, the braces.
        trim_right = i - 2 >= body and text[i - 1] == "-" and text[i - 2] in " \t\r\n"
        inner_end = i - 1 if trim_right else i
        raw = text[body:inner_end]
        inner = raw.strip()
        inner_start = body + len(raw) - len(raw.lstrip())
        kind, keyword = _classify(inner)
        return Action(start, i + 2, inner, kind, keyword, trim_left, trim_right, inner_start)
    raise TemplateSyntaxError("unterminated action '{{'", _line_of(text, start))


def _close_delimiter(text: str, pos: int, start: int) -> tuple[int, bool]:
    """After a comment's `*/`: optional ` -` then `}}`."""
    i = pos
    trim_right = False
    if text.startswith(" -}}", i):
        return i + 4, True
    if text.startswith("}}", i):
        return i + 2, trim_right
    raise TemplateSyntaxError("comment not closed by '*/}}'", _line_of(text, start))


def _skip_quoted(text: str, i: int, quote: str, start: int) -> int:
    j = i + 1
    while (found := _STRING_STOP[quote].search(text, j)) is not None:
        j = found.start()
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        break  # a newline
    raise TemplateSyntaxError("unterminated string in action", _line_of(text, start))


def _classify(inner: str) -> tuple[ActionKind, str]:
    word = inner.split(None, 1)[0] if inner else ""
    word = word.split("(", 1)[0]
    if word in _OPENERS:
        return "open", word
    if word == "else":
        return "else", "else"
    if word == "end":
        return "end", "end"
    if word in ("break", "continue"):
        return "other", word
    if _ASSIGN.match(inner):
        return "assign", ""
    return "output", ""


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1
