"""The layers docs/architecture.md promises, checked on the code's own imports.

A cycle counts only imports that run when a module loads (not those under `if
TYPE_CHECKING:` nor inside functions, which load lazily); an import against the data flow
counts wherever it is written, inside functions too (a lazy import is still a dependency),
but for type checking. Either fails with the modules named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chartfix"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, lazy: bool) -> Iterator[str]:
    """The modules `tree` imports: at load time, and inside functions when `lazy`."""
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if not lazy and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                yield inner.module
                yield from (f"{inner.module}.{alias.name}" for alias in inner.names)
            elif isinstance(inner, ast.Import):
                yield from (alias.name for alias in inner.names)


def _graph(lazy: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported = set(_imports(ast.parse(path.read_text(encoding="utf-8")), lazy))
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


GRAPH = _graph(lazy=False)
"""Imports that run when a module loads: what a cycle is made of."""
EVERY_IMPORT = _graph(lazy=True)
"""Imports wherever they are written (but for type checking): what a layer depends on."""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> str:
    """The package a module belongs to, as the architecture names them."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "sources":
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def test_no_module_imports_itself_through_others() -> None:
    assert _cycles(GRAPH) == []


def test_packages_form_no_cycle() -> None:
    packages: dict[str, set[str]] = {}
    for module, imported in GRAPH.items():
        packages.setdefault(_layer(module), set()).update(
            _layer(m) for m in imported if _layer(m) != _layer(module)
        )
    assert _cycles(packages) == []


FORBIDDEN = [
    # (importing package, imported package): why the architecture forbids it
    ("chartfix.model", "chartfix.rules"),
    ("chartfix.model", "chartfix.sources"),
    ("chartfix.model", "chartfix.recipes"),
    ("chartfix.rules", "chartfix.recipes"),
    ("chartfix.rules", "chartfix.verify"),
    ("chartfix.sources", "chartfix.recipes"),
    ("chartfix.sources", "chartfix.verify"),
    ("chartfix.sources", "chartfix.pipeline"),
    ("chartfix.sources", "chartfix.publish"),
    ("chartfix.sources", "chartfix.commands"),
    ("chartfix.recipes", "chartfix.sources.cdk8s"),
    ("chartfix.recipes.component_labels", "chartfix.sources.helm"),
    ("chartfix.recipes.explicit_selector", "chartfix.sources.helm"),
    ("chartfix.recipes", "chartfix.verify"),
    ("chartfix.recipes", "chartfix.pipeline"),
    ("chartfix.verify", "chartfix.pipeline"),
    ("chartfix.pipeline", "chartfix.publish"),
    ("chartfix.pipeline", "chartfix.commands"),
    ("chartfix.publish", "chartfix.commands"),
    ("chartfix.publish", "chartfix.pipeline"),
]


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_data_flows_one_way(importer: str, imported: str) -> None:
    """Recipes decide on rendered objects (no source kind's package: component-labels asks
    every kind through `Source.label_edits`; stable-selectors' Helm helpers are what
    docs/architecture.md lists as still Helm-specific); rules import no recipe; source kinds
    know no recipe; publishing and the commands come last."""
    against = sorted(
        f"{module} imports {other}"
        for module, others in EVERY_IMPORT.items()
        if module == importer or module.startswith(importer + ".")
        for other in others
        if other == imported or other.startswith(imported + ".")
    )
    assert against == []


def test_the_checks_see_the_imports() -> None:
    """A guard for the guard: the graph holds imports that exist (else every check passes)."""
    assert "chartfix.sources.base" in GRAPH["chartfix.pipeline"]
    assert "chartfix.model.objects" in GRAPH["chartfix.rules.overlap"]
    assert any(EVERY_IMPORT[m] - GRAPH[m] for m in GRAPH), "no import inside a function seen"
