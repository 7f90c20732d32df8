"""Names Helm makes up anew on every render, and what stays of them.

helm test Pods and some Jobs are named with `randAlphaNum`, `uuidv4`, `randNumeric` or `now`:
`{{ include "x.fullname" . }}-test-{{ randAlphaNum 5 | lower }}` renders to another name each
time. Such an object is known by what is stable: its kind and the name as its template writes
it, with each random part shown as `*` (`Pod/release-name-x-test-*`). Findings, their merging
across scenarios and their fingerprints then stay the same from run to run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from weakref import WeakKeyDictionary

from chartfix.errors import TargetError
from chartfix.files import decode
from chartfix.model.objects import ANALYZED_KINDS, K8sObject
from chartfix.sources.helm.template.helpers import Helper, included_helper, included_name
from chartfix.sources.helm.template.lexer import TemplateSyntaxError, lex
from chartfix.sources.helm.template.locate import Peers, Templates
from chartfix.sources.helm.template.outline import PLACEHOLDER, Document

RANDOM = re.compile(
    r"\b(randAlphaNum|randAlpha|randNumeric|randAscii|randInt|randBytes|uuidv4|now)\b"
)
"""Template functions whose result differs from one render to the next."""


def calls_random(text: str) -> bool:
    """Whether an action of a template's text calls a random function (`lex` finds them,
    strings and comments read whole). Only its actions: the text around them (a CRD's
    descriptions say "now") is rendered as it is written. A text the lexer cannot read
    may (Helm refuses it anyway)."""
    if RANDOM.search(text) is None:  # the word nowhere, so in no action
        return False
    try:
        return any(RANDOM.search(action.inner) for action in lex(text))
    except TemplateSyntaxError:
        return True


MASK = "*"


def stable_names(objects: Sequence[K8sObject], sources: Templates) -> list[K8sObject]:
    """`objects` with `stable_name` set on those whose template names them randomly."""
    randomness = _randomness(sources)
    if not randomness.chart:
        return list(objects)
    random_helpers: dict[str, bool] = {}
    peers = Peers(objects)
    out = []
    for obj in objects:
        stable = None
        if obj.kind in ANALYZED_KINDS and randomness.may_name_randomly(obj.document.path):
            try:
                place = sources.place_for(obj, peers)
            except (OSError, ValueError, TargetError):
                place = None
            if place is not None:
                stable = stable_name(obj.name, place.doc, sources, random_helpers)
        out.append(obj if stable is None else dataclasses.replace(obj, stable_name=stable))
    return out


def stable_name(
    name: str, doc: Document, sources: Templates, cache: dict[str, bool] | None = None
) -> str | None:
    """`name` with the parts random actions of `doc`'s `metadata.name` wrote masked; None
    when no action there is random."""
    if doc.name_template is None:
        return None
    cache = {} if cache is None else cache
    template, actions = inlined(doc.name_template, doc.name_actions, sources)
    random = [_is_random(inner, sources, cache) for inner in actions]
    if not any(random):
        return None
    literals = template.split(PLACEHOLDER)
    if len(literals) != len(random) + 1:
        return None
    pattern = re.escape(literals[0]) + "".join(f"(.*){re.escape(lit)}" for lit in literals[1:])
    match = re.fullmatch(pattern, name)
    if match is None:  # truncated or rewritten by the template: keep what is surely literal
        fragments = [f for f in literals if f]
        return MASK + MASK.join(fragments) + MASK if fragments else MASK
    parts = [literals[0]]
    for index, is_random in enumerate(random):
        parts += [MASK if is_random else match.group(index + 1), literals[index + 1]]
    return "".join(parts)


def inlined(
    template: str, actions: tuple[str, ...], sources: Templates
) -> tuple[str, tuple[str, ...]]:
    """A name written as one include of a one-line helper is that helper's line:
    `{{ include "x.jobName" . }}` with `{{ include "x.fullname" . }}-seed-{{ randNumeric 6 }}`
    keeps `-seed-` as a stable part."""
    if template != PLACEHOLDER or len(actions) != 1:
        return template, actions
    name = included_name(actions[0])
    helper = sources.helpers().get(name) if name else None
    if helper is None:
        return template, actions
    body = helper.body
    found = lex(body)
    if "\n" in body.strip() or any(not a.produces_output for a in found):
        return template, actions
    pieces, cursor = [], 0
    for action in found:
        pieces += [body[cursor : action.start], PLACEHOLDER]
        cursor = action.end
    pieces.append(body[cursor:])
    return "".join(pieces).strip(), tuple(a.inner for a in found)


def _is_random(inner: str, sources: Templates, cache: dict[str, bool]) -> bool:
    if RANDOM.search(inner):
        return True
    name = included_name(inner)
    return name is not None and _helper_random(name, sources.helpers(), cache, set())


def _helper_random(
    name: str, helpers: dict[str, Helper], cache: dict[str, bool], seen: set[str]
) -> bool:
    if name in cache:
        return cache[name]
    helper = helpers.get(name)
    if helper is None or name in seen:
        return False
    seen.add(name)
    found = False
    for action in lex(helper.body):
        if RANDOM.search(action.inner):
            found = True
            break
        inner = included_helper(action)
        if inner is not None and _helper_random(inner, helpers, cache, seen):
            found = True
            break
    cache[name] = found
    return found


class _Randomness:
    """Where a chart's templates may call a random function, looked at once per Templates (a
    render shares one for every scenario of a chart): outlining a template to find the
    document naming an object costs far more than reading its text, and a chart whose
    library calls `randAlphaNum` for its passwords (bitnami's common) names almost nothing
    randomly."""

    def __init__(self, sources: Templates) -> None:
        self.sources = sources
        self.chart = _uses_randomness(sources)
        """Any template file of the chart (or of a subchart directory) calls one."""
        self.random_helpers: frozenset[str] | None = None
        self.files: dict[str, bool] = {}

    def may_name_randomly(self, path: str) -> bool:
        """Whether a document of the template file `path` may write a name a random action
        makes: its text calls a random function or names a helper of the chart that may
        (the only ways `stable_name` finds one, directly or through the define it includes).
        Looked at by text, so it may say yes where no name is random, never the reverse."""
        if path not in self.files:
            try:
                text = decode(self.sources.read(path))
            except (OSError, ValueError, TargetError):
                return True  # placing it fails too: stable_names keeps its name
            self.files[path] = calls_random(text) or any(
                f'"{name}"' in text for name in self._random_helpers()
            )
        return self.files[path]

    def _random_helpers(self) -> frozenset[str]:
        """The chart's own helpers whose body, or that of a helper it includes (however
        deep), calls a random function anywhere in its text."""
        if self.random_helpers is None:
            helpers = self.sources.helpers()
            found = {name for name, helper in helpers.items() if calls_random(helper.body)}
            grew = True
            while grew:
                more = {
                    name for name, helper in helpers.items()
                    if name not in found and not found.isdisjoint(helper.includes())
                }
                found |= more
                grew = bool(more)
            self.random_helpers = frozenset(found)
        return self.random_helpers


_random_charts: WeakKeyDictionary[Templates, _Randomness] = WeakKeyDictionary()


def _randomness(sources: Templates) -> _Randomness:
    known = _random_charts.get(sources)
    if known is None:
        known = _random_charts[sources] = _Randomness(sources)
    return known


def _uses_randomness(sources: Templates) -> bool:
    for rel in sources.template_files(under=""):
        if "templates/" not in rel:
            continue
        try:
            if calls_random(decode(sources.read(rel))):
                return True
        except (OSError, TargetError):
            continue
    return False
