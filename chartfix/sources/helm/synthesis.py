"""Synthesized values: make a chart that needs deploy-time values render, so it can be analysed.

Many organisations' charts cannot render with their own defaults: they expect values that
the platform supplies at deploy time (`global.region`, a registry, a password) and say so
with `required`, `fail` or a nil pointer on `.Values.global.x`. Analysing such a scenario
needs *some* value there. When Helm refuses a scenario, this module reads which value is
missing and adds the smallest overlay that gets past it, then renders again, a bounded
number of times:

- the value's path comes from the error (`at <.Values.a.b>`: nil pointer evaluating...,
  or a message naming `.Values.a.b`) or, when the message names none (`fail "cluster
  password required"`), from the template action at the error's file:line:col, read with
  the template lexer, and the conditions of the blocks around it (`if not .Values.x`);
- its placeholder's type follows its use: a number where it is compared with a number or
  used in arithmetic, a list under `range`, a map under `toYaml`/`with`, a string
  otherwise; a placeholder that Helm then rejects for its type is changed once.

The overlay lives only in the Scenario (`Scenario.synthesized`, as `--set-json` strings) and
is never written to the chart; every output marks such a scenario and lists its values.
A scenario that still does not render keeps its error, naming the values that were tried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from chartfix.errors import TargetError
from chartfix.files import decode
from chartfix.model.objects import Rendering
from chartfix.sources.helm.chart import ABSENT, Chart, Scenario, read_default_values, value_at
from chartfix.sources.helm.dependencies import stage
from chartfix.sources.helm.render import Engine, render, scenario_values
from chartfix.sources.helm.template.lexer import Action, TemplateSyntaxError, lex
from chartfix.values import deep_merge

MAX_ATTEMPTS = 12
"""Renders per scenario beyond the first: each adds or retypes one value (or, for a
template that renders invalid YAML, the batch of values it uses that are unset)."""
MAX_BATCH = 24

Kind = Literal["string", "number", "list", "map"]

PLACEHOLDER = "placeholder"
"""What every synthesized string starts with (`placeholder-2`): a made-up value is told
apart from the chart's own in rendered objects (see model.objects.Rendering.placeholders)."""

_RENDER_FAILED = "helm could not render: "
_BAD_YAML = "rendered invalid YAML"
_LOCATION = re.compile(
    r"([\w.-]+(?:/charts/[\w.-]+)*/templates/[^\s:()\"]+):(\d+):(\d+)"
)
_AT = re.compile(r"executing \"[^\"]*\" at <(.*?)>: ")
_NIL = re.compile(r"nil pointer evaluating interface \{\}\.([\w-]+)")
_REF = re.compile(r"\bValues((?:\.[A-Za-z_][\w-]*)+)")
_KEYED = re.compile(r"\b(?:hasKey|index)\s+\$?\.?(?:\w+\.)*?Values((?:\.[A-Za-z_][\w-]*)*)"
                    r"((?:\s+\"[^\"]+\")+)")
_KEY = re.compile(r"\"([^\"]+)\"")
_DOTTED = re.compile(
    r"(?<![\w./-])([A-Za-z_]\w*(?:\[\d+\])?(?:\.[A-Za-z_]\w*(?:\[\d+\])?)+)(?![\w/-])"
)
_NOT_VALUES = (".yaml", ".yml", ".tpl", ".txt", ".json", ".com", ".io", ".org", ".sh")
_FAIL = re.compile(r"\b(?:fail|required)\s+\(?(?:printf\s+)?\"((?:[^\"%\\]|\\.)*)")
_ALIAS = re.compile(r"(\$\w+)\s*:?=\s*(?:[^|]*\|\s*default\s+)?\$?\.?(?:\(\.\w+\)\.)?Values\s*$")
_VAR = re.compile(r"\$[A-Za-z_]\w*")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|`[^`]*`")
_NUMBER_USE = re.compile(
    r"\b(?:add1?|sub|mul|div|mod|max|min|int|int64|float64|until|untilStep)\b"
    r"|\b(?:eq|ne|lt|le|gt|ge)\b(?=.*(?<![\w.])\d)"
)
_MAP_USE = re.compile(r"\b(?:toYaml|toJson|toPrettyJson|keys|pick|omit|merge\w*)\b")
_RETYPE: tuple[tuple[re.Pattern[str], Kind], ...] = (
    (re.compile(r"range can't iterate over"), "list"),
    (re.compile(r"(?:incompatible|invalid) types? for comparison"), "number"),
    (re.compile(r"expected (?:map|dict)|can't evaluate field"), "map"),
    (re.compile(r"expected (?:int|float|number)"), "number"),
    (re.compile(r"expected (?:\[\]|slice|list)|as list"), "list"),
    (re.compile(r"expected string"), "string"),
)
_RETRIED: dict[Kind, tuple[Kind, ...]] = {"list": ("string",), "map": ("string", "list")}
"""Retypes that would undo an earlier one: the bound that keeps a retry loop from cycling."""


@dataclass
class Rendered:
    """The scenarios of a chart that rendered (with any synthesized values) and those that
    did not, each with its one error line."""

    scenarios: list[Scenario] = field(default_factory=list)
    renderings: list[Rendering] = field(default_factory=list)
    unrendered: list[tuple[str, TargetError]] = field(default_factory=list)


def render_scenarios(
    chart: Chart,
    cases: Sequence[Scenario],
    release: str = "release-name",
    namespace: str = "default",
    engine: Engine | None = None,
) -> Rendered:
    """Render each scenario, synthesizing values where needed; a scenario that cannot render
    is set aside with its reason, and the chart is analysed under the others (the caller
    decides what no rendering at all means)."""
    out = Rendered()
    for scenario in cases:
        try:
            done, rendering = render_scenario(chart, scenario, release, namespace, engine)
        except TargetError as err:
            out.unrendered.append((scenario.name, err))
            continue
        out.scenarios.append(done)
        out.renderings.append(rendering)
    return out


def render_scenario(
    chart: Chart,
    scenario: Scenario,
    release: str = "release-name",
    namespace: str = "default",
    engine: Engine | None = None,
) -> tuple[Scenario, Rendering]:
    """The scenario as it rendered (its synthesized values added) and its rendering."""
    tried: dict[str, Kind] = {}
    current = scenario
    given: dict[str, Any] | None = None  # what is set: read when a render first fails
    for _ in range(MAX_ATTEMPTS):
        try:
            rendering = render(chart, current, None, release, namespace, engine)
            return _smallest(chart, current, rendering, release, namespace, engine)
        except TargetError as err:
            if given is None:
                given = deep_merge(_all_defaults(chart), scenario_values(scenario))
            if err.reason.startswith(_RENDER_FAILED):
                found = next_value(chart, err.reason.removeprefix(_RENDER_FAILED), tried, given)
                steps = [found] if found else []
            elif err.reason.startswith(_BAD_YAML):
                steps = _unset_in(chart, err.path, tried, given)
            else:
                raise
            if not steps:
                raise _gave_up(err, tried) from err
        for path, kind in steps:
            for shorter in [p for p in tried if path.startswith(p + ".")]:
                del tried[shorter]  # a placeholder that turned out to need fields
            tried[path] = kind
        synthesized = tuple(set_json(p, k, n) for n, (p, k) in enumerate(tried.items(), 1))
        current = replace(scenario, synthesized=synthesized)
    try:
        rendering = render(chart, current, None, release, namespace, engine)
    except TargetError as err:
        raise _gave_up(err, tried) from err
    return _smallest(chart, current, rendering, release, namespace, engine)


def _smallest(
    chart: Chart,
    scenario: Scenario,
    rendering: Rendering,
    release: str,
    namespace: str,
    engine: Engine | None,
) -> tuple[Scenario, Rendering]:
    """Drop each synthesized value that a later one made unneeded, or that came in a batch
    and was not needed: the overlay reported is the smallest this search can show renders."""
    if len(scenario.synthesized) < 2:
        return scenario, rendering  # the one value was added because an error named it
    for value in scenario.synthesized[::-1]:
        fewer = replace(scenario, synthesized=tuple(v for v in scenario.synthesized if v != value))
        try:
            rendering = render(chart, fewer, None, release, namespace, engine)
        except TargetError:
            continue
        scenario = fewer
    return scenario, rendering


def _unset_in(
    chart: Chart, path: str, tried: dict[str, Kind], given: Mapping[str, Any]
) -> list[tuple[str, Kind]]:
    """A template that renders invalid YAML when values are missing (`key: {{ toYaml
    .Values.x }}` gives `key: null`...): Helm names no value, so try every value the file
    uses that is unset, at once; `_smallest` then drops those that were not needed."""
    staged = stage(chart)
    rel = Path(path).relative_to(chart.root).as_posix() if Path(path).is_absolute() else path
    data = staged.files.get(rel)
    if data is None:
        return []
    actions = _lexed(data)
    scope = _values_scope(f"{chart.name}/{rel}")
    out: dict[str, Kind] = {}
    for use in _uses(actions, _aliases(actions)):
        name = _scoped(scope, use.ref)
        if name not in tried and name not in out and name != "global" and not _is_set(given, name):
            out[name] = use.kind()
    longest = {n: k for n, k in out.items() if not any(o.startswith(n + ".") for o in out)}
    return list(longest.items())[:MAX_BATCH]


def _all_defaults(chart: Chart) -> dict[str, Any]:
    """The chart's values.yaml with each subchart's under its name (alias): what is set
    before any scenario, so that no placeholder replaces a subchart's own default."""
    import helm_python

    staged = stage(chart)
    merged: dict[str, Any] = {}
    for prefix, folder in sorted(staged.disk_dirs.items(), key=lambda item: item[0].count("/")):
        data = staged.files.get(f"{folder}/values.yaml")
        if data is None:
            continue
        try:
            values = helm_python.values_from_yaml(data.decode("utf-8-sig", "replace")) or {}
        except helm_python.HelmError:
            continue
        for name in reversed(prefix.split("/")[1::2]):  # charts/a/charts/b -> a, b
            values = {name: values}
        merged = deep_merge(merged, values)
    return deep_merge(merged, read_default_values(chart.root))


def _gave_up(err: TargetError, tried: dict[str, Kind]) -> TargetError:
    if not tried:
        return err
    return TargetError(
        err.path, f"{err.reason} (after trying placeholder values for {', '.join(tried)})",
        err.notes,
    )


def set_json(path: str, kind: Kind, number: int = 1) -> str:
    """The `--set-json` string giving `path` its placeholder (also how it is reported): the
    `number`th value synthesized for a scenario, distinct from every other (two required
    values never compare equal by accident: `placeholder-1`, `placeholder-2`, 1, 2...)."""
    return f"{path}={json.dumps(placeholder(kind, number))}"


def placeholder(kind: Kind, number: int) -> object:
    """The `number`th synthesized value, of `kind`."""
    text = f"{PLACEHOLDER}-{number}"
    if kind == "number":
        return number
    if kind == "list":
        return [{}]  # one item, so `if not .Values.x` passes; a map, so `$item.url` renders
    if kind == "map":
        return {PLACEHOLDER: text}  # `toYaml` of it is a valid block mapping
    return text


# --- reading the error ------------------------------------------------------------------


def next_value(
    chart: Chart, message: str, tried: dict[str, Kind], given: Mapping[str, Any]
) -> tuple[str, Kind] | None:
    """The one value to add (or retype) so that Helm gets past `message`; None when the
    error is not about a missing value, or every candidate was tried. A value the chart or
    the scenario already `given` is never overridden: only missing (or empty: `[]`, `{}`,
    `""`, as a chart's defaults leave what must be supplied) ones are made up."""
    locations = _LOCATION.findall(message)
    template, line, col = locations[-1] if locations else ("", "0", "0")
    scope = _values_scope(template)
    at = _AT.findall(message)
    expression = at[-1] if at else ""
    uses: list[Use] = []  # candidate paths, most telling first, each with the text using it
    at_position = _uses_at(chart, template, int(line), int(col))
    in_action = {u.ref: u for u in at_position}  # the whole action tells the use best
    nil = _NIL.search(message)
    for ref in _refs(_STRING.sub("", expression)):
        if nil is None or f".{nil.group(1)}." in f".{ref}.":
            uses.append(in_action.get(ref, Use(ref, expression, "")))
    if not expression:  # `required`/`fail` whose message names .Values.x
        uses += [Use(ref, "", "") for ref in _refs(message.rsplit("): ", 1)[-1])]
    uses += at_position
    if not expression:  # a `fail` inside an included helper: Helm names the include's line
        uses += _uses_of_fail(chart, message.rsplit("): ", 1)[-1])
    if not expression:  # a message naming `a.b` without `.Values`: the last resort
        uses += [Use(name, "", "") for name in _named_in_message(message.rsplit("): ", 1)[-1])]
    seen: set[str] = {"global"}  # Helm's own map of globals: never replaced by a placeholder
    longer = {u.ref for u in uses}
    for use in uses:
        path = _scoped(scope, use.ref)
        if path in seen or any(other.startswith(use.ref + ".") for other in longer):
            continue  # `hasKey .Values.global "x"` names global.x, not global
        seen.add(path)
        if path not in tried and _is_set(given, path):
            continue
        if path not in tried:
            return path, use.kind()
        retyped = _retyped(message, tried[path])
        if retyped is not None and use.ref in expression:
            return path, retyped
    if tried:  # a type error through a variable (`range $rw`): the value added last
        last = next(reversed(tried))
        retyped = _retyped(message, tried[last])
        if retyped is not None and retyped not in _RETRIED.get(tried[last], ()):
            return last, retyped
    return None


@dataclass(frozen=True)
class Use:
    """A value path as a template action uses it: `ref` (`a.b`), the action's text and
    its control keyword (`range`, `with`, `if`...)."""

    ref: str
    text: str
    keyword: str

    def kind(self) -> Kind:
        """A placeholder's type from how the template uses the value."""
        text = _STRING.sub('""', self.text)
        if self.keyword == "range" or re.match(r"\(?range\b", text):
            return "list"
        if self.keyword == "with" or _MAP_USE.search(text):
            return "map"
        if _NUMBER_USE.search(text):
            return "number"
        return "string"


def _is_set(values: Mapping[str, Any], path: str) -> bool:
    node = value_at(values, path)
    return not (node is ABSENT or node is None or node == "" or node == [] or node == {})


def _refs(text: str) -> list[str]:
    """`.Values.a.b` (also `$.Values`, `.root.Values`) paths in template text, as `a.b`;
    `hasKey .Values.a "b"` and `index .Values "a" "b"` name `a.b` too."""
    out = [".".join(filter(None, (m.group(1)[1:], *_KEY.findall(m.group(2)))))
           for m in _KEYED.finditer(text)]
    return out + [m.group(1)[1:] for m in _REF.finditer(text)]


def _named_in_message(message: str) -> list[str]:
    """Dotted value names a `fail`/`required` message gives without `.Values`
    (`'image.repository' must be set`, `global.region is required`)."""
    text = _LOCATION.sub("", message)
    return [n for n in _DOTTED.findall(text) if not n.endswith(_NOT_VALUES)]


def _scoped(scope: tuple[str, ...], ref: str) -> str:
    """A subchart's `.Values.x` is the parent's `<alias>.x`; globals are shared."""
    if not scope or ref == "global" or ref.startswith("global."):
        return ref
    return ".".join((*scope, ref))


def _values_scope(template: str) -> tuple[str, ...]:
    """`app/charts/db/templates/x.yaml` -> ("db",): where the subchart's values live."""
    parts = template.split("/")
    return tuple(parts[i + 1] for i in range(len(parts) - 1) if parts[i] == "charts")


def _retyped(message: str, kind: Kind) -> Kind | None:
    for pattern, wanted in _RETYPE:
        if pattern.search(message) and wanted != kind:
            return wanted
    return None


# --- the template action at file:line:col ------------------------------------------------


def _uses_at(chart: Chart, template: str, line: int, col: int) -> list[Use]:
    """Value paths of the action at the error's position, then of the conditions around it
    (the `if` whose `fail` fired, earlier branches of its chain, `$vars` they test)."""
    if not template or line < 1:
        return []
    staged = stage(chart)
    rendered = template.split("/", 1)[1] if "/" in template else template
    data = staged.files.get(staged.disk_path(rendered))
    if data is None:
        return []
    text = decode(data)
    actions = _lexed(data)
    lines = text.split("\n")
    if line > len(lines):
        return []
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(col - 1, 0)
    here = next((i for i, a in enumerate(actions) if a.start <= offset < a.end), None)
    if here is None:
        return []
    around = [actions[here], *_enclosing(actions, here)]
    return _uses(around, _aliases(actions))


def _uses_of_fail(chart: Chart, message: str) -> list[Use]:
    """Value paths around the `fail`/`required` anywhere in the chart whose literal message
    Helm printed: the conditions that led there, as for the action at the error's position."""
    staged = stage(chart)
    uses: list[Use] = []
    for rel, data in sorted(staged.files.items()):
        if "templates/" not in rel or (b"fail" not in data and b"required" not in data):
            continue
        actions = _lexed(data)
        for i, action in enumerate(actions):
            said = _FAIL.search(action.inner)
            if said and said.group(1) and said.group(1) in message:
                uses += _uses([action, *_enclosing(actions, i)], _aliases(actions))
    return uses


def _uses(actions: Sequence[Action], aliases: re.Pattern[str] | None) -> list[Use]:
    out = []
    for action in actions:
        text = aliases.sub(".Values.", action.inner) if aliases else action.inner
        out += [Use(ref, text, action.keyword) for ref in _refs(text)]
    return out


def _aliases(actions: Sequence[Action]) -> re.Pattern[str] | None:
    """`$v := .Values` (or `(.helm).Values | default .Values`): `$v.x` is `.Values.x`."""
    names = [
        m.group(1)
        for a in actions
        if a.kind == "assign" and (m := _ALIAS.match(a.inner)) is not None
    ]
    return re.compile("|".join(re.escape(n) + r"\." for n in names)) if names else None


@lru_cache(maxsize=1024)
def _lexed(data: bytes) -> list[Action]:
    try:
        return lex(decode(data))
    except TemplateSyntaxError:
        return []


def _enclosing(actions: Sequence[Action], here: int) -> list[Action]:
    found: list[Action] = []
    variables: list[str] = []
    depth = 0
    for action in reversed(actions[:here]):
        if action.kind == "end":
            depth += 1
        elif action.kind == "open":
            if depth == 0:
                if action.keyword in ("define", "block"):
                    break
                found.append(action)
                variables += _VAR.findall(action.inner)
            else:
                depth -= 1
        elif action.kind == "else" and depth == 0:
            found.append(action)
            variables += _VAR.findall(action.inner)
        elif action.kind == "assign" and variables:
            name = re.split(r":?=", action.inner, maxsplit=1)[0].strip()
            if name in variables:
                found.append(action)
    return found
