"""Add a label to label maps of a cdk8s app, as libcst edits that keep every other byte.

A dict literal written at the use site gets one more entry, in its own layout (one line or
one entry per line, trailing comma or not, its quote style). Any other expression (a shared
name, a helper call) is wrapped where it is used: `label` -> `{**label, "component": "server"}`,
so the shared value and its other users stay as they were. A call that leaves the labels
parameter to its default gets it passed, `labels={**DEFAULT, "component": "server"}`, after
its last argument and in its layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import libcst as cst

from chartfix.sources.cdk8s.locate import LabelSite, ParsedFile

MAX_LINE = 100
"""Longest line a wrapped label map may leave on one line (the project's own limit)."""


@dataclass(frozen=True)
class LabelEdit:
    site: LabelSite
    key: str
    value: str


def apply_label_edits(file: ParsedFile, edits: Sequence[LabelEdit]) -> bytes:
    """The file's bytes with every edit applied (edits at one site are applied together)."""
    quote = _quote_style(file)
    by_node: dict[cst.CSTNode, list[LabelEdit]] = {}
    for edit in edits:
        by_node.setdefault(edit.site.node, []).append(edit)
    sites: dict[cst.CSTNode, LabelSite] = {e.site.node: e.site for e in edits}

    class Replace(cst.CSTTransformer):
        def on_leave(  # type: ignore[override]
            self, original_node: cst.CSTNode, updated_node: cst.CSTNode
        ) -> cst.CSTNode:
            wanted = by_node.get(original_node)
            if wanted is None:
                return updated_node
            assert isinstance(updated_node, cst.BaseExpression)
            site = sites[original_node]
            if site.how == "pass":
                assert isinstance(updated_node, cst.Call)
                return _pass(updated_node, wanted, quote)
            entries = _unique_entries(wanted)
            if site.how == "insert":
                assert isinstance(updated_node, cst.Dict)
                return _insert(updated_node, entries, quote)
            return _wrap(updated_node, entries, quote, _room(file, original_node))

    return file.module.visit(Replace()).bytes


def _pass(call: cst.Call, edits: Sequence[LabelEdit], quote: str) -> cst.Call:
    """The call with each defaulted parameter passed: its default plus the new entries."""
    by_keyword: dict[str, list[LabelEdit]] = {}
    for edit in edits:
        by_keyword.setdefault(edit.site.keyword, []).append(edit)
    args = list(call.args)
    new: list[cst.Arg] = []
    for keyword, group in by_keyword.items():
        default = group[0].site.default
        assert default is not None
        entries = _unique_entries(group)
        if isinstance(default, cst.Dict):
            copied = [
                _element(_string_of(e.key), _string_of(e.value), quote)
                for e in default.elements
                if isinstance(e, cst.DictElement)
            ]
            value: cst.BaseExpression = _insert(
                cst.Dict([e.with_changes(comma=_COMMA) for e in copied[:-1]] + copied[-1:]),
                entries,
                quote,
            )
        else:
            value = _wrap(default, entries, quote, None)
        new.append(
            cst.Arg(
                value,
                keyword=cst.Name(keyword),
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""),
                    whitespace_after=cst.SimpleWhitespace(""),
                ),
            )
        )
    if not args:
        return call.with_changes(args=new)
    return call.with_changes(args=_appended(args, new, _plain(_arg_separator(call))))


Item = TypeVar("Item", cst.Arg, cst.BaseDictElement)


def _appended(items: Sequence[Item], new: Sequence[Item], separator: cst.Comma) -> list[Item]:
    """`items` (at least one) then `new`, separated by `separator` (a call's arguments, a
    dict's entries). Comments stay with the item they follow: the last item keeps its own
    line end, the new items get the plain separator, the final one the list's closing
    whitespace (and trailing comma, if it had one)."""
    last = items[-1]
    closing = last.comma
    if isinstance(closing, cst.Comma):
        own_line_end = closing.with_changes(
            whitespace_after=_continue_with(closing.whitespace_after, separator)
        )
        closing = closing.with_changes(whitespace_after=_plain_ws(closing.whitespace_after))
    else:
        own_line_end = separator
    out = list(items[:-1])
    out.append(last.with_changes(comma=own_line_end))
    out += [
        item.with_changes(comma=separator if i < len(new) - 1 else closing)
        for i, item in enumerate(new)
    ]
    return out


_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _arg_separator(call: cst.Call) -> cst.Comma:
    """The comma (and whitespace) between two arguments of this call."""
    args = call.args
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        return args[-2].comma
    after_paren = call.whitespace_before_args
    if isinstance(after_paren, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=after_paren)
    return _COMMA


def _string_of(node: cst.BaseExpression) -> str:
    assert isinstance(node, (cst.SimpleString, cst.ConcatenatedString))
    value = node.evaluated_value
    assert isinstance(value, str)
    return value


def _unique_entries(edits: Sequence[LabelEdit]) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for edit in edits:
        if (edit.key, edit.value) not in entries:
            entries.append((edit.key, edit.value))
    return entries


def _wrap(
    expr: cst.BaseExpression, entries: list[tuple[str, str]], quote: str, room: _Room | None
) -> cst.Dict:
    """`{**expr, "key": "value"}`, one entry per line when one line would be too long."""
    elements: list[cst.BaseDictElement] = [cst.StarredDictElement(expr)]
    elements += [_element(key, value, quote) for key, value in entries]
    one_line = cst.Dict(elements)
    if room is None or room.fits(_code(one_line)):
        return one_line
    inner = cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(),
        indent=False,
        last_line=cst.SimpleWhitespace(room.indent + "    "),
    )
    outer = inner.with_changes(last_line=cst.SimpleWhitespace(room.indent))
    stacked = [e.with_changes(comma=cst.Comma(whitespace_after=inner)) for e in elements]
    stacked[-1] = stacked[-1].with_changes(comma=cst.Comma(whitespace_after=outer))
    return cst.Dict(stacked, lbrace=cst.LeftCurlyBrace(whitespace_after=inner))


@dataclass(frozen=True)
class _Room:
    """The line a one-line expression sits on: what is left of it once the expression changes."""

    indent: str
    rest: int
    """Characters of the line besides the expression."""

    def fits(self, code: str) -> bool:
        return "\n" not in code and self.rest + len(code) <= MAX_LINE


def _room(file: ParsedFile, node: cst.CSTNode) -> _Room | None:
    span = file.span(node)
    if span.start.line != span.end.line:
        return None
    lines = file.module.code.splitlines()
    line = lines[span.start.line - 1] if span.start.line <= len(lines) else ""
    length = span.end.column - span.start.column
    indent = line[: len(line) - len(line.lstrip())]
    return _Room(indent, len(line) - length)


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _insert(node: cst.Dict, entries: list[tuple[str, str]], quote: str) -> cst.Dict:
    """Append entries after the last one, separated the way the dict already separates.

    Comments stay with the entry they follow: the last entry keeps its own line end, the
    new entries get the plain separator, the final one the dict's closing whitespace.
    Where the dict's keys are two or more string literals in alphabetical order, an entry
    goes in its sorted place instead (as template edits do).
    """
    quote = _dict_quote(node) or quote
    node, entries = _insert_sorted(node, entries, quote)
    if not entries:
        return node
    elements = list(node.elements)
    new: list[cst.BaseDictElement] = [_element(key, value, quote) for key, value in entries]
    if not elements:
        return node.with_changes(elements=new)
    return node.with_changes(elements=_appended(elements, new, _plain(_separator(node))))


def _insert_sorted(
    node: cst.Dict, entries: list[tuple[str, str]], quote: str
) -> tuple[cst.Dict, list[tuple[str, str]]]:
    """The dict with each entry that sorts before some key placed before the first such key,
    and the entries left to append; nothing moves unless the keys are sorted literals."""
    keys = [
        e.key.evaluated_value
        if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString) else None
        for e in node.elements
    ]
    literal = [k for k in keys if isinstance(k, str)]
    if len(literal) < 2 or len(literal) != len(keys) or literal != sorted(literal):
        return node, entries
    separator = _plain(_separator(node))
    elements = list(node.elements)
    rest = []
    for key, value in entries:
        index = next((i for i, k in enumerate(literal) if k > key), None)
        if index is None:
            rest.append((key, value))
            continue
        elements.insert(index, _element(key, value, quote).with_changes(comma=separator))
        literal.insert(index, key)
    return node.with_changes(elements=elements), rest


def _plain(comma: cst.Comma) -> cst.Comma:
    return comma.with_changes(whitespace_after=_plain_ws(comma.whitespace_after))


def _plain_ws(ws: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    """Whitespace without the comments and blank lines it may carry."""
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=())
    return ws


def _continue_with(
    ws: cst.BaseParenthesizableWhitespace, separator: cst.Comma
) -> cst.BaseParenthesizableWhitespace:
    """The last entry's own line end (its comment), then the indentation of an entry."""
    after = separator.whitespace_after
    if isinstance(ws, cst.ParenthesizedWhitespace) and isinstance(
        after, cst.ParenthesizedWhitespace
    ):
        return ws.with_changes(indent=after.indent, last_line=after.last_line)
    return after


def _separator(node: cst.Dict) -> cst.Comma:
    """The comma (and whitespace) between two entries of this dict."""
    elements = node.elements
    if len(elements) >= 2 and isinstance(elements[-2].comma, cst.Comma):
        return elements[-2].comma
    after_brace = node.lbrace.whitespace_after
    if isinstance(after_brace, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=after_brace)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _element(key: str, value: str, quote: str) -> cst.DictElement:
    return cst.DictElement(
        cst.SimpleString(_literal(key, quote)), cst.SimpleString(_literal(value, quote))
    )


def _literal(text: str, quote: str) -> str:
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def _dict_quote(node: cst.Dict) -> str | None:
    for element in node.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
            return element.key.quote[-1]
    return None


def _quote_style(file: ParsedFile) -> str:
    """The quote the file uses most for strings: new strings should look like the others."""
    counts = {'"': 0, "'": 0}
    for node in file.nodes(cst.SimpleString):
        assert isinstance(node, cst.SimpleString)
        if node.quote in counts:
            counts[node.quote] += 1
    return "'" if counts["'"] > counts['"'] else '"'
