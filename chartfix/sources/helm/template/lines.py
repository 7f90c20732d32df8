"""Logical lines of a template: what the YAML structure is made of, actions masked out.

A newline inside an action does not end a line (an action may span lines), so lines are cut
only at newlines in literal text. Each line knows its actions, its literal text with the
actions masked, its indentation and the newline that ends it (`\\n`, `\\r\\n` or none at EOF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chartfix.sources.helm.template.lexer import Action, lex

PLACEHOLDER = "\x00"
"""Stands in the masked text for an action that produces output (a templated scalar)."""

LineClass = Literal["blank", "comment", "control", "generator", "content", "separator"]


@dataclass(frozen=True)
class Line:
    number: int
    """1-based line number of the line's first character."""
    start: int
    end: int
    """End of the line's content, before its newline."""
    newline: str
    actions: tuple[Action, ...]
    masked: str
    """The line's text with output actions replaced by PLACEHOLDER and other actions removed."""
    indent: int
    cls: LineClass
    ends_in_action: bool = False
    """Only blanks follow the line's last action."""

    @property
    def next_start(self) -> int:
        """Where the following line begins (end of this line's newline)."""
        return self.end + len(self.newline)

    @property
    def output_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.produces_output)

    @property
    def effective_indent(self) -> int:
        """The column this line's output lands at: `nindent N` wins over the source column."""
        if self.cls == "generator":
            for action in reversed(self.output_actions):
                arg = action.indent_argument()
                if arg is not None:
                    return arg
        return self.indent

    @property
    def trims_following(self) -> bool:
        """The line ends (but for blanks) with a `-}}`, which eats the newline after it."""
        return self.ends_in_action and self.actions[-1].trim_right


def split_lines(text: str) -> list[Line]:
    """Cut `text` into logical lines; joining their spans and newlines gives `text` back."""
    actions = lex(text)
    breaks = _line_breaks(text, actions)
    lines: list[Line] = []
    start = 0
    number = 1
    action_index = 0
    for brk in [*breaks, len(text)]:
        first = action_index
        while action_index < len(actions) and actions[action_index].start < brk:
            action_index += 1
        line_actions = tuple(actions[first:action_index])
        newline, content_end = "", brk
        if brk < len(text):
            newline = "\n"
            if brk > start and text[brk - 1] == "\r":
                newline, content_end = "\r\n", brk - 1
        lines.append(_make_line(text, number, start, content_end, newline, line_actions))
        number += text.count("\n", start, brk) + 1
        start = brk + 1
    return lines


def _line_breaks(text: str, actions: list[Action]) -> list[int]:
    """Positions of the newlines that end lines: those outside every action."""
    breaks = []
    index = 0
    pos = text.find("\n")
    while pos >= 0:
        while index < len(actions) and actions[index].end <= pos:
            index += 1
        if not (index < len(actions) and actions[index].start <= pos):
            breaks.append(pos)
        pos = text.find("\n", pos + 1)
    return breaks


def _make_line(
    text: str, number: int, start: int, end: int, newline: str, actions: tuple[Action, ...]
) -> Line:
    parts: list[str] = []
    cursor = start
    for action in actions:
        parts.append(text[cursor : action.start])
        if action.produces_output:
            parts.append(PLACEHOLDER)
        cursor = action.end
    parts.append(text[cursor:end])
    masked = "".join(parts).replace("\ufeff", "")
    stripped = masked.lstrip(" ")
    indent = len(masked) - len(stripped)
    body = stripped.strip()
    cls: LineClass
    if not body:
        cls = "control" if actions else "blank"
    elif body.startswith("#"):
        cls = "comment"
    elif set(body) <= {PLACEHOLDER, " ", "\t"}:
        cls = "generator"
    elif indent == 0 and (body == "---" or body.startswith("--- ") or body.startswith("---#")):
        cls = "separator"
    else:
        cls = "content"
    if cls == "generator" and actions and text[start:end].lstrip(" \ufeff").startswith("{{"):
        # A line that starts with an action: its own column says little; nindent says more.
        indent = len(text[start:end]) - len(text[start:end].lstrip(" \ufeff"))
    ends_in_action = bool(actions) and not text[actions[-1].end : end].strip(" \t")
    return Line(number, start, end, newline, actions, masked, indent, cls, ends_in_action)
