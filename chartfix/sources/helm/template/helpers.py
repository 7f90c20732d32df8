"""Named templates (`{{ define "x.labels" }}`): where they are and what their bodies say.

Recipes need this when a label comes from a helper rather than from the workload's own
template: to see which keys a helper writes, and to add a sibling helper next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from chartfix.errors import TargetError
from chartfix.files import decode
from chartfix.sources.helm.template.lexer import Action, lex


class TemplateFiles(Protocol):
    """A chart's template files, as `locate.Templates` reads them."""

    def template_files(self, under: str = "templates/") -> list[str]: ...
    def read(self, rel: str) -> bytes: ...

_NAME = re.compile(r'^(?:define|template|include)\s+"([^"]+)"')
_INCLUDE = re.compile(r'(?:include|template)\s+"([^"]+)"')


@dataclass(frozen=True)
class Helper:
    name: str
    path: str
    """Chart-relative file holding the definition."""
    open: Action
    close: Action
    """The `{{ end }}` closing the definition."""
    text: str
    """The whole file's text (the spans index it)."""

    @property
    def body(self) -> str:
        return self.text[self.open.end : self.close.start]

    @property
    def end_of_definition(self) -> int:
        """Just after the closing `{{ end }}` and its newline."""
        end = self.close.end
        if self.text.startswith("\r\n", end):
            return end + 2
        return end + 1 if self.text.startswith("\n", end) else end

    def includes(self) -> list[str]:
        """Names of the helpers this one includes."""
        return _INCLUDE.findall(self.body)


def find_helpers(sources: TemplateFiles) -> dict[str, Helper]:
    """Every helper the chart itself defines (its own templates/, not its subcharts')."""
    helpers: dict[str, Helper] = {}
    for rel in sources.template_files():
        try:
            text = decode(sources.read(rel))
        except (OSError, ValueError, TargetError):
            continue
        for helper in _definitions(rel, text):
            helpers.setdefault(helper.name, helper)
    return helpers


@lru_cache(maxsize=1024)
def _definitions(rel: str, text: str) -> tuple[Helper, ...]:
    """The defines of one file (cached: every render of a chart asks again)."""
    if "define" not in text:
        return ()  # not lexed: most template files define nothing
    found: list[Helper] = []
    stack: list[tuple[Action, str | None]] = []
    for action in lex(text):
        if action.kind == "open":
            match = _NAME.match(action.inner) if action.keyword == "define" else None
            stack.append((action, match.group(1) if match else None))
        elif action.kind == "end" and stack:
            opened, name = stack.pop()
            if name is not None:
                found.append(Helper(name, rel, opened, action, text))
    return tuple(found)


def included_helper(action: Action) -> str | None:
    """The helper an `include "x" ...` / `template "x" ...` action renders, if it is one."""
    return included_name(action.inner)


def included_name(inner: str) -> str | None:
    """The helper the action text `inner` includes first, if any."""
    match = _INCLUDE.search(inner)
    return match.group(1) if match else None


def writes_key(helpers: dict[str, Helper], name: str, key: str) -> bool:
    """The helper `name`, or one it includes, writes the mapping key `key` literally
    (`app.kubernetes.io/component: server` on a line of its own)."""
    return written_value(helpers, name, key) is not None


def written_value(helpers: dict[str, Helper], name: str, key: str) -> str | None:
    """The value of the entry `key` as the helper `name`, or the first one it includes that
    writes the key on a line of its own, writes it (`{{ include "x.name" . }}`)."""
    pattern = re.compile(
        rf"^[ \t]*([\"']?){re.escape(key)}\1[ \t]*:[ \t]*(?P<value>.*?)[ \t]*\r?$", re.MULTILINE
    )
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        helper = helpers.get(current)
        if helper is None or current in seen:
            continue
        seen.add(current)
        match = pattern.search(helper.body)
        if match is not None:
            return match.group("value")
        todo.extend(reversed(helper.includes()))
    return None
