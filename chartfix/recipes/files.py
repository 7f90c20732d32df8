"""Declarative recipes: a YAML file that names the Python recipes to run, in order, each with
its options, plus what a platform team wants the same on every chart (OpenRewrite's
`rewrite.yml`). The format is documented by `recipes/recipe.schema.json`; a file is checked
here on load, and every error names the file, the line and the key.

    type: chartfix/v1/recipe
    name: legacy-component
    description: Bare `component` key, a value per workload (the FleetDM fix).
    recipeList:
      - stable-selectors
      - component-labels:
          component-key: component
          components: {"*-server": fleet-server}
    rules: [overlap, stray, volatile]   # which rules count (default: every rule)
    latent: false                       # also fix latent matches (warnings nothing acts on)
    bump: auto                          # chart version bump with --branch
    note-target: auto                   # where the migration note goes with --branch
    safe-only: false                    # apply only fixes that change no immutable field
    commit-message: "{chart}: {summary}"
    branch: chartfix/{recipe}

A name given to `--recipe` is looked up as a Python recipe, then as `recipes/NAME.yaml` in
the repository holding the charts, then among the recipes shipped with chartfix; anything
with a `/` or a `.yaml`/`.yml` suffix is a file.
"""

from __future__ import annotations

import difflib
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartfix import yamlfile
from chartfix.errors import TargetError, UsageError
from chartfix.files import is_repository_top, within
from chartfix.recipes import registry
from chartfix.recipes.base import Recipe, options_of
from chartfix.rules import RULES
from chartfix.terminal import shown

TYPE = "chartfix/v1/recipe"
KEYS = (
    "type", "name", "description", "recipeList", "rules", "latent", "bump", "note-target",
    "commit-message", "branch", "safe-only",
)
REQUIRED = ("type", "name", "description", "recipeList")
BUMPS = ("auto", "major", "minor", "patch", "none")
NOTE_TARGETS = ("auto", "migration", "readme")
PLACEHOLDERS = {
    "commit-message": ("chart", "summary", "recipe"),
    "branch": ("recipe",),
}


@dataclass(frozen=True)
class Step:
    recipe: str
    options: tuple[tuple[str, Any], ...] = ()
    """(option name as written, value), validated against the recipe's declared options."""


@dataclass(frozen=True)
class RecipeFile:
    name: str
    description: str
    steps: tuple[Step, ...]
    origin: str
    """Where it comes from: `shipped (…/legacy-component.yaml)`, or the file's path."""
    rules: tuple[str, ...] | None = None
    latent: bool = False
    """Also fix latent matches (warnings whose match nothing acts on yet); naming the recipe
    alone does not."""
    bump: str | None = None
    note_target: str | None = None
    commit_message: str | None = None
    branch: str | None = None
    safe_only: bool = False
    """Apply only the fixes that change no immutable field (as `fix --safe-only`)."""

    @property
    def recipe_names(self) -> tuple[str, ...]:
        return tuple(step.recipe for step in self.steps)

    def options_for(self, recipe: str) -> list[dict[str, Any]]:
        """The options the steps running `recipe` set, one mapping per step (option name as
        written -> value), in order: layers for `RecipeOptions.of`, a later step winning."""
        return [dict(step.options) for step in self.steps if step.recipe == recipe]

    def describe(self) -> str:
        """One line that re-runs it: the name and every step's options."""
        steps = []
        for step in self.steps:
            written = ", ".join(f"{k}={_show(v)}" for k, v in step.options)
            steps.append(f"{step.recipe}({written})" if written else step.recipe)
        extras = [
            f"{key}={_show(value)}"
            for key, value in (
                ("rules", list(self.rules) if self.rules is not None else None),
                ("latent", True if self.latent else None),
                ("bump", self.bump), ("note-target", self.note_target),
                ("safe-only", True if self.safe_only else None),
            )
            if value is not None
        ]
        return f"{self.name} [{self.origin}]: " + " -> ".join(steps) + (
            f"; {', '.join(extras)}" if extras else ""
        )

    def subject(self, chart: str, summary: str) -> str:
        """The commit subject the file's `commit-message` template gives (default: summary)."""
        if self.commit_message is None:
            return summary
        return self.commit_message.format(chart=chart, summary=summary, recipe=self.name)


def _show(value: Any) -> str:
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, sort_keys=False)
    return str(value)


# --- finding a recipe -----------------------------------------------------------------------


def shipped_dir() -> Path:
    """The declarative recipes shipped with chartfix (the top-level `recipes/` folder)."""
    from importlib.resources import files  # here: only a run that names a recipe file

    return Path(str(files("chartfix_recipes")))


def is_file_reference(ref: str) -> bool:
    return "/" in ref or ref.endswith((".yaml", ".yml"))


def declarative_recipes(roots: Sequence[Path] = ()) -> dict[str, Path]:
    """Recipe files by name: shipped ones, overridden by `recipes/*.yaml` in the repositories
    holding `roots` (a team's own recipe wins over chartfix's of the same name)."""
    found = {p.stem: p for p in sorted(shipped_dir().glob("*.yaml"))}
    for directory in repo_recipe_dirs(roots):
        found.update({p.stem: p for p in sorted(directory.glob("*.yaml"))})
    return found


def repo_recipe_dirs(roots: Sequence[Path]) -> list[Path]:
    """`recipes/` at the top of each repository (the first directory holding `.git`) that
    holds one of `roots`."""
    dirs: list[Path] = []
    for root in roots:
        start = root.resolve()
        for directory in [start, *start.parents]:
            if is_repository_top(directory):
                candidate = directory / "recipes"
                if candidate.is_dir() and candidate not in dirs:
                    dirs.append(candidate)
                break
    return dirs


def resolve(
    ref: str, roots: Sequence[Path] = (), base: Path | None = None, bound: Path | None = None
) -> RecipeFile:
    """The declarative recipe `ref` names: a file (relative to `base` when given), or a name
    found in the repositories' `recipes/` or among the shipped ones. Usage error otherwise.

    `bound`: the repository a file named by a repository's own file must stay in (its
    content is never read, so never shown, when it does not)."""
    if is_file_reference(ref):
        path = (base / ref) if base is not None and not Path(ref).is_absolute() else Path(ref)
        if not within(path, bound):
            raise UsageError(
                f"recipe file {shown(ref)} is outside the repository ({bound}); a "
                "repository's files may name only its own files"
            )
        if not path.is_file():
            raise UsageError(f"recipe file {path} does not exist")
        return load_recipe_file(path)
    known = declarative_recipes(roots)
    if ref not in known:
        choices = [*registry(), *known]
        close = difflib.get_close_matches(ref, choices, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"unknown recipe {ref}{hint}; available: {', '.join(choices)}")
    shipped = known[ref].parent == shipped_dir()
    if not shipped:
        _refuse_outside_link(known[ref])
    return load_recipe_file(known[ref], shipped=shipped)


def _refuse_outside_link(path: Path) -> None:
    """A usage error, before reading, for a repository's `recipes/NAME.yaml` that is (or is
    in a `recipes/` folder that is) a link out of the repository holding `recipes/`."""
    top = path.parent.parent.resolve()
    target = path.resolve()
    if not target.is_relative_to(top):
        raise UsageError(
            f"recipe file {path}: symlink points outside the repository ({top}), to {target}"
        )


# --- loading and checking one file ----------------------------------------------------------


class _Error(Exception):
    def __init__(self, node: yaml.Node | None, key: str, reason: str) -> None:
        super().__init__(reason)
        self.line = node.start_mark.line + 1 if node is not None else 1
        self.key = key
        self.reason = reason


def load_recipe_file(path: Path, shipped: bool = False) -> RecipeFile:
    """Read and check the recipe file at `path`; a UsageError `FILE:LINE: KEY: reason`."""
    try:
        text = path.read_text(encoding="utf-8")
        yamlfile.check_size(text, path)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            yamlfile.check_expansion(node)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else 1
        raise UsageError(f"{path}:{line}: not valid YAML: {err.problem}") from err
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise UsageError(f"{path}: cannot read recipe file: {err}") from err
    except TargetError as err:
        raise UsageError(str(err)) from err
    origin = f"shipped with chartfix ({path})" if shipped else str(path)
    try:
        return _recipe(node, origin)
    except _Error as err:
        where = f"`{err.key}`: " if err.key else ""
        raise UsageError(f"{path}:{err.line}: {where}{err.reason}") from None


def _recipe(node: yaml.Node | None, origin: str) -> RecipeFile:
    top = _mapping(node, "", "a recipe file must be a mapping with " + ", ".join(REQUIRED))
    _known_keys(top, "", KEYS)
    for key in REQUIRED:
        if key not in top:
            raise _Error(node, key, "missing (a recipe needs " + ", ".join(REQUIRED) + ")")
    kind = _string(top["type"], "type")
    if kind != TYPE:
        raise _Error(top["type"][1], "type", f"must be {TYPE}, not {kind!r}")
    name = _string(top["name"], "name")
    if not name.replace("-", "").isalnum() or name != name.lower():
        raise _Error(top["name"][1], "name", "lowercase letters, digits and dashes only")
    steps = _steps(top["recipeList"])
    return RecipeFile(
        name=name,
        description=_string(top["description"], "description"),
        steps=steps,
        origin=origin,
        rules=_rules(top["rules"]) if "rules" in top else None,
        latent=_flag(top, "latent"),
        bump=_choice(top, "bump", BUMPS),
        note_target=_choice(top, "note-target", NOTE_TARGETS),
        commit_message=_template(top, "commit-message"),
        branch=_template(top, "branch"),
        safe_only=_flag(top, "safe-only"),
    )


Pair = tuple[yaml.Node, yaml.Node]


def _mapping(node: yaml.Node | None, key: str, reason: str) -> dict[str, Pair]:
    if not isinstance(node, yaml.MappingNode):
        raise _Error(node, key, reason)
    out: dict[str, Pair] = {}
    for k, v in node.value:
        name = str(k.value)
        if name in out:
            raise _Error(k, _join(key, name), "written twice")
        out[name] = (k, v)
    return out


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _known_keys(mapping: dict[str, Pair], prefix: str, known: Sequence[str]) -> None:
    for key, (knode, _) in mapping.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            choices = ", ".join(known) or "none"
            raise _Error(knode, _join(prefix, key), f"unknown key{hint}; known keys: {choices}")


def _string(pair: Pair, key: str) -> str:
    node = pair[1]
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not str(
        node.value
    ).strip():
        raise _Error(node, key, "must be a non-empty string")
    return str(node.value)


def _choice(top: dict[str, Pair], key: str, choices: Sequence[str]) -> str | None:
    if key not in top:
        return None
    value = _string(top[key], key)
    if value not in choices:
        raise _Error(top[key][1], key, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _flag(top: dict[str, Pair], key: str) -> bool:
    if key not in top:
        return False
    node = top[key][1]
    value = node.value if isinstance(node, yaml.ScalarNode) else None
    if value not in ("true", "false") or node.tag != "tag:yaml.org,2002:bool":
        raise _Error(node, key, "must be true or false")
    return value == "true"


def _template(top: dict[str, Pair], key: str) -> str | None:
    """A template of plain `{name}` fields, each one of the documented placeholders: an
    attribute, an index, a conversion or a format spec is refused here, when the file is
    read (formatted later, it could raise anything or ask for any amount of memory)."""
    if key not in top:
        return None
    value = _string(top[key], key)
    allowed = PLACEHOLDERS[key]
    names = ", ".join("{" + n + "}" for n in allowed)
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(value)
                  if f is not None]
    except ValueError as err:
        raise _Error(top[key][1], key, f"bad placeholder: {err}; use {names}") from None
    for field, spec, conversion in fields:
        if field not in allowed:
            raise _Error(top[key][1], key, f"bad placeholder {field!r}; use {names}")
        if spec or conversion:
            shown = "{" + field + f"!{conversion}" * bool(conversion) + f":{spec}" * bool(spec)
            shown += "}"
            raise _Error(top[key][1], key, f"bad placeholder {shown} (no conversion or format "
                         f"spec); use {names}")
    return value


def _rules(pair: Pair) -> tuple[str, ...]:
    node = pair[1]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _Error(node, "rules", "must be a list of rules: " + ", ".join(RULES))
    rules = []
    for index, item in enumerate(node.value):
        value = _string((item, item), f"rules[{index}]")
        if value not in RULES:
            raise _Error(item, f"rules[{index}]", f"unknown rule {value!r}; rules: "
                         + ", ".join(RULES))
        rules.append(value)
    return tuple(rules)


def _steps(pair: Pair) -> tuple[Step, ...]:
    node = pair[1]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _Error(node, "recipeList", "must be a list of recipes, each a name or "
                     "{name: {option: value}}")
    recipes = registry()
    steps = []
    for index, item in enumerate(node.value):
        where = f"recipeList[{index}]"
        if isinstance(item, yaml.ScalarNode):
            name, options_node = str(item.value), None
        elif isinstance(item, yaml.MappingNode) and len(item.value) == 1:
            name, options_node = str(item.value[0][0].value), item.value[0][1]
        else:
            raise _Error(item, where, "must be a recipe name or {name: {option: value}}")
        if name not in recipes:
            close = difflib.get_close_matches(name, list(recipes), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise _Error(item, where, f"unknown recipe {name!r}{hint}; Python recipes: "
                         + ", ".join(recipes))
        steps.append(Step(name, _step_options(recipes[name], options_node, f"{where}.{name}")))
    return tuple(steps)


def _step_options(recipe: Recipe, node: yaml.Node | None, where: str) -> tuple[tuple[str, Any],
                                                                               ...]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        return ()
    options = _mapping(node, where, "options must be a mapping of option: value")
    declared = {o.name: o for o in options_of(recipe)}
    _known_keys(options, where, list(declared))
    out = []
    for key, (_, value_node) in options.items():
        value = yaml.SafeLoader(""  # build the Python value of this node alone
                                ).construct_object(value_node, deep=True)
        problem = declared[key].check(value)
        if problem:
            raise _Error(value_node, f"{where}.{key}", problem)
        out.append((key, value))
    return tuple(out)
