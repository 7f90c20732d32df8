"""Recipes: each decides, on rendered objects, which labels to change; and their registry.

A recipe module holds one recipe class (`component_labels`, `stable_selectors`,
`restart_on_labels`); `base` is
what a recipe is (options, plans, units), `files` the declarative recipe files that compose
them. The registry below is the one list of recipes: the built-in ones, then those installed
packages add under the `chartfix.recipes` entry point group.
"""

from __future__ import annotations

from chartfix.errors import UsageError
from chartfix.recipes.base import Recipe
from chartfix.recipes.component_labels import ComponentLabels
from chartfix.recipes.restart_on_labels import RestartOnLabels
from chartfix.recipes.stable_selectors import StableSelectors

BUILT_IN: tuple[Recipe, ...] = (StableSelectors(), ComponentLabels(), RestartOnLabels())
"""In the order they run: selectors lose their volatile labels before components are added;
pod annotations that follow labels come last (they touch no selector)."""

ENTRY_POINT_GROUP = "chartfix.recipes"


def registry() -> dict[str, Recipe]:
    """Every Python recipe by name, in the order they run: the built-in ones, then those
    installed packages add under the `chartfix.recipes` entry point group."""
    return {name: recipe for name, (recipe, _) in registry_with_origins().items()}


def registry_with_origins() -> dict[str, tuple[Recipe, str]]:
    """(recipe, where it comes from) by name. An entry point that does not load, or that
    reuses a taken name, is an error naming its package: a recipe must not vanish silently."""
    # here, not at the top: importlib.metadata (and the scan of every installed
    # distribution) only for a run that asks for the installed recipes
    from importlib.metadata import entry_points

    found: dict[str, tuple[Recipe, str]] = {}
    for builtin in BUILT_IN:
        if builtin.name in found:
            raise UsageError(f"two built-in recipes are named {builtin.name!r}")
        found[builtin.name] = (builtin, "built-in")
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        package = point.dist.name if point.dist is not None else point.value
        origin = f"entry point {point.name} = {point.value} (package {package})"
        try:
            loaded = point.load()
            recipe: Recipe = loaded() if isinstance(loaded, type) else loaded
        except Exception as err:  # a third-party package's failure, whatever it is
            raise UsageError(f"recipe from {origin} failed to load: {err}") from err
        if recipe.name in found:
            raise UsageError(
                f"recipe {recipe.name!r} from {origin} is already {found[recipe.name][1]}"
            )
        found[recipe.name] = (recipe, origin)
    return found
