"""The names a chart's author wrote for a workload, read from its templates, not its render.

A rendered name carries what the render made up: the release name, a fullname helper's
`trunc 20`, a value. The author's own word for a workload is what its template writes
literally: the text of `metadata.name` around its actions (`{{ include "x.fullname" . }}-worker`
-> `worker`, also through a one-line helper and `printf "%s-worker"`), the helper the name
is included from (`x.server.fullname` -> `server`), the `define` the object is written in,
the template file's stem and folder (`worker.yaml`, `server/deployment.yaml`), and the
container names written as literals. Which of them names a role (not a kind word, not the
chart's own name) the recipes decide (chartfix/recipes/naming.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from chartfix.model.objects import K8sObject
from chartfix.sources.helm.template.helpers import included_name
from chartfix.sources.helm.template.locate import Place, Templates
from chartfix.sources.helm.template.names import inlined
from chartfix.sources.helm.template.outline import PLACEHOLDER

_PRINTF = re.compile(r'^printf\s+"((?:[^"\\]|\\.)*)"((?:\s+(?:"[^"]*"|\([^()]*\)|\S+))*)')
_VERB = re.compile(r"%[-+# 0-9.]*[a-zA-Z%]")
_STRING_ARG = re.compile(r'(?<![\w"])"([^"]*)"')
_INCLUDED = re.compile(r'\b(?:include|template)\s+"[^"]*"')
_NAME_WORDS = frozenset({"fullname", "fullName", "full-name", "name", "names", "Name"})
"""Words of a helper's name that say it makes a name, not which one."""
_SEPARATORS = "-._ "


def role_names(sources: Templates, place: Place, obj: K8sObject) -> tuple[str, ...]:
    """What the author wrote for `obj` (written by `place`), most telling first: the literal
    part of its name, the helper naming it, its define, its file's stem and folder, then
    its containers' names written as literals."""
    doc = place.doc
    found: list[str] = []
    if doc.name_template is not None:
        template, actions = inlined(doc.name_template, doc.name_actions, sources)
        found.append(_literal_part(template, actions))
        found += [_helper_role(n) for a in actions if (n := included_name(a)) is not None]
    if place.define:
        found.append(_helper_role(place.define))
    path = PurePosixPath(place.path)
    if not place.define:
        found.append(path.stem.split(".")[0])
        if path.parent.name not in ("templates", ""):
            found.append(path.parent.name)
    text = sources.outline(place.path).text[doc.start : doc.end]
    found += [
        name for c in obj.containers()
        if (name := str(c.get("name", ""))) and _written_literally(text, name)
    ]
    return tuple(dict.fromkeys(n for n in found if n))


def _literal_part(template: str, actions: Sequence[str]) -> str:
    """The text of a name template outside its actions (`-worker`), or the literal pieces
    of a one-action `printf` (its format's text and its quoted arguments)."""
    pieces = template.split(PLACEHOLDER)
    if template.strip() == PLACEHOLDER and len(actions) == 1:
        match = _PRINTF.match(actions[0])
        if match is not None:
            pieces = _VERB.split(match.group(1)) + _STRING_ARG.findall(
                _INCLUDED.sub("", match.group(2))
            )
    words = [p.strip(_SEPARATORS) for p in pieces]
    return "-".join(w for w in words if w)


def _helper_role(name: str) -> str:
    """The words of a helper's name between its namespace and the word saying it makes a
    name: `prometheus.server.fullname` -> `server`, `common.names.fullname` -> ''."""
    words = [w for w in name.split(".")[1:] if w not in _NAME_WORDS]
    return "-".join(words)


def _written_literally(text: str, name: str) -> bool:
    """`name: NAME` is a line of `text` (plain or quoted), not an action's output."""
    pattern = rf"""^\s*(?:-\s+)?name:\s*(["']?){re.escape(name)}\1\s*(?:#.*)?$"""
    return re.search(pattern, text, re.MULTILINE) is not None
