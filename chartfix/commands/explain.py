"""`chartfix recipes [NAME]` and `chartfix rule CODE`: what each recipe and rule is, from
their own docs and declarations (ruff's `ruff rule CODE`), never from a second copy.

Which recipe fixes a rule is read from the registry (`Recipe.rules`) here, where it is
printed: rules sit below recipes and do not know them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from chartfix.errors import UsageError
from chartfix.recipes import registry, registry_with_origins
from chartfix.recipes.base import Recipe, RecipeOption, options_of, recipe_doc
from chartfix.recipes.files import declarative_recipes, load_recipe_file, shipped_dir
from chartfix.rules import RULES, Rule

_KIND = {str: "string", bool: "true or false", dict: "mapping"}


def fixers(rule: str) -> list[str]:
    """The recipes that fix `rule`'s findings, in the order they run."""
    return [name for name, recipe in registry().items() if rule in recipe.rules]


def list_recipes(out: TextIO) -> int:
    """Python recipes (built-in, then entry points) with their declared options, then the
    declarative recipe files (shipped, then the current repository's `recipes/`)."""
    for recipe, origin in registry_with_origins().values():
        rules = ", ".join(sorted(recipe.rules))
        out.write(f"{recipe.name:<18} {recipe.summary} (fixes: {rules})\n")
        out.write(f"{'':<18} from: {origin}\n")
        for option in options_of(recipe):
            out.write(f"{'':<18} option {option.name}: {option.description} "
                      f"(example: {option.example})\n")
    for name, path in declarative_recipes([Path.cwd()]).items():
        recipe_file = load_recipe_file(path, shipped=path.parent == shipped_dir())
        out.write(f"{name:<18} {recipe_file.description}\n")
        out.write(f"{'':<18} from: {recipe_file.origin}\n")
        out.write(f"{'':<18} runs: {recipe_file.describe().split(': ', 1)[1]}\n")
    return 0


def explain_recipe(name: str, out: TextIO) -> int:
    """One recipe's doc: a Python recipe's sections and declared options, or a recipe file's
    description and steps. An unknown name is a usage error listing the known ones."""
    python = registry_with_origins()
    files = declarative_recipes([Path.cwd()])
    if name in python:
        recipe, origin = python[name]
        out.write(recipe_text(recipe, origin))
        return 0
    if name in files:
        recipe_file = load_recipe_file(files[name], shipped=files[name].parent == shipped_dir())
        out.write(f"{name}: {recipe_file.description}\n\nfrom: {recipe_file.origin}\n")
        out.write(f"runs: {recipe_file.describe().split(': ', 1)[1]}\n")
        return 0
    raise UsageError(_unknown("recipe", name, [*python, *files]))


def explain_rule(code: str, out: TextIO) -> int:
    """One rule's doc, its severity, and the recipes that fix it."""
    if code not in RULES:
        raise UsageError(_unknown("rule", code, list(RULES)))
    out.write(rule_text(RULES[code]))
    return 0


def recipe_text(recipe: Recipe, origin: str) -> str:
    """What `chartfix recipes NAME` prints: the doc, then the options it declares."""
    lines = [
        f"fixes: {', '.join(sorted(recipe.rules))}",
        f"from: {origin}",
        "",
        recipe_doc(recipe).strip(),
        "",
        "## Options",
        *(option_line(o) for o in options_of(recipe)),
    ]
    if not options_of(recipe):
        lines.append("None.")
    return "\n".join(lines) + "\n"


def option_line(option: RecipeOption) -> str:
    return (
        f"- `{option.name}` ({_KIND[option.kind]}): {option.description}; "
        f"example: `{option.example}`"
    )


def rule_text(rule: Rule) -> str:
    """What `chartfix rule CODE` prints: the doc, its severity, the recipes that fix it."""
    names = fixers(rule.code)
    fixed_by = (
        ", ".join(f"`{n}` (`chartfix fix --recipe {n}`)" for n in names) if names
        else "no recipe: a hand edit"
    )
    return "\n".join([
        f"severity: {rule.severity}" + (f" ({rule.severity_note})" if rule.severity_note else ""),
        "",
        rule.doc.strip(),
        "",
        "## Fixed by",
        fixed_by,
    ]) + "\n"


def _unknown(what: str, name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {what} {name!r}{hint}; known: {', '.join(known)}"
