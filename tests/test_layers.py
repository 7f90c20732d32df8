"""The layers docs/architecture.md promises, checked on the code's own imports.

Every import counts wherever it is written: at load time, inside a function (a lazy import is
still a dependency) and under `if TYPE_CHECKING:` (a type is a dependency too). Modules and
packages form no cycle, and the arrows against the layering (FORBIDDEN) do not exist. Each
check fails naming the modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chartfix"

KINDS = ("chartfix.sources.helm", "chartfix.sources.cdk8s", "chartfix.sources.kustomize",
         "chartfix.sources.manifests")
"""Every source kind's package: only the registry (chartfix.sources.targets) and the kind
itself import it."""
REGISTRY = "chartfix.sources.targets"
"""The registry of kinds: above every kind, as the kinds stand on chartfix.sources.base."""
BELOW_MODEL = ("chartfix.model", "chartfix.errors")
"""What the model may import: itself, and the one error type."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.Module) -> Iterator[str]:
    """Every module `tree` imports, wherever it is written (in functions, classes, under
    TYPE_CHECKING), and the names it imports from them (`a.b` of `from a import b` may be a
    module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def graph_of(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the modules among `sources` it imports (module name -> its text)."""
    graph: dict[str, set[str]] = {}
    for name, text in sources.items():
        imported = set(imports(ast.parse(text)))
        graph[name] = {m for m in imported if m in sources and m != name}
    return graph


GRAPH = graph_of(
    {_module_name(p): p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}
)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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


def package_of(module: str) -> str:
    """The package a module belongs to, as the architecture names them (a source kind's
    package is its own: `chartfix.sources.helm`)."""
    parts = module.split(".")
    if len(parts) > 2 and ".".join(parts[:3]) in (*KINDS, REGISTRY):
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        packages.setdefault(package_of(module), set()).update(
            package_of(m) for m in imported if package_of(m) != package_of(module)
        )
    return packages


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


FORBIDDEN: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    # (name, importers, imported, allowed importers): why the architecture forbids it
    ("rules -> a source kind", ("chartfix.rules",), ("chartfix.sources",), ""),
    ("recipes -> a source kind's package", ("chartfix.recipes",), KINDS, ""),
    ("publish -> a source kind's package", ("chartfix.publish",), KINDS, ""),
    ("commands -> a source kind but through the registry", ("chartfix.commands",), KINDS, ""),
    ("config -> a source kind", ("chartfix.config",), ("chartfix.sources",), ""),
    ("model -> above the model", ("chartfix.model",), ("chartfix",), "below-model"),
    ("commands -> cli", ("chartfix.commands",), ("chartfix.cli",), ""),
    ("rules -> recipes, verify, pipeline", ("chartfix.rules",),
     ("chartfix.recipes", "chartfix.verify", "chartfix.pipeline"), ""),
    ("sources -> recipes and above", ("chartfix.sources",),
     ("chartfix.recipes", "chartfix.verify", "chartfix.pipeline", "chartfix.publish",
      "chartfix.commands", "chartfix.cli"), ""),
    ("recipes -> verify, pipeline", ("chartfix.recipes",),
     ("chartfix.verify", "chartfix.pipeline"), ""),
    ("verify -> pipeline", ("chartfix.verify",), ("chartfix.pipeline",), ""),
    ("pipeline -> publish, commands", ("chartfix.pipeline",),
     ("chartfix.publish", "chartfix.commands", "chartfix.cli"), ""),
    ("publish -> pipeline, commands", ("chartfix.publish",),
     ("chartfix.pipeline", "chartfix.commands", "chartfix.cli"), ""),
]


def against(
    graph: dict[str, set[str]], importers: tuple[str, ...], imported: tuple[str, ...],
    allowed: str = "",
) -> list[str]:
    """`module imports other` for every arrow from `importers` to `imported` in `graph`;
    `below-model`: what the model may import (BELOW_MODEL) is not against."""
    found = []
    for module, others in graph.items():
        if not any(_under(module, p) for p in importers):
            continue
        for other in others:
            if not any(_under(other, p) for p in imported):
                continue
            if allowed == "below-model" and any(_under(other, p) for p in BELOW_MODEL):
                continue
            found.append(f"{module} imports {other}")
    return sorted(found)


def kind_arrows(graph: dict[str, set[str]]) -> list[str]:
    """One source kind importing another (manifests -> helm, kustomize -> manifests)."""
    return sorted(
        f"{module} imports {other}"
        for module, others in graph.items()
        for other in others
        if package_of(module) in KINDS and package_of(other) in KINDS
        and package_of(module) != package_of(other)
    )


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(GRAPH) == []


def test_packages_form_no_cycle() -> None:
    assert cycles(package_graph(GRAPH)) == []


@pytest.mark.parametrize(("name", "importers", "imported", "allowed"), FORBIDDEN,
                         ids=[f[0] for f in FORBIDDEN])
def test_data_flows_one_way(
    name: str, importers: tuple[str, ...], imported: tuple[str, ...], allowed: str
) -> None:
    """Rules report objects and fields, the pipeline locates; recipes decide on rendered
    objects and ask any kind through `Source`; publishing, config and the commands know a
    kind only through the registry (chartfix.sources.targets) and `KindFacts`."""
    assert against(GRAPH, importers, imported, allowed) == []


def test_no_source_kind_stands_on_another() -> None:
    assert kind_arrows(GRAPH) == []


# --- the guard's guard: the checks see every kind of arrow --------------------------------

GUARD = {
    "chartfix.model.a": "from chartfix.rules.r import x\n",  # model -> above
    "chartfix.rules.r": (
        "def f():\n    from chartfix.sources.helm.chart import y\n"  # inside a function
    ),
    "chartfix.publish.p": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import chartfix.sources.cdk8s.app\n"  # for type checking
    ),
    "chartfix.commands.c": "class C:\n    from chartfix.cli import main\n",  # in a class
    "chartfix.cli": "from chartfix.commands.c import C\n",
    "chartfix.sources.manifests.m": "from chartfix.sources.helm import chart\n",
    "chartfix.sources.helm": "",
    "chartfix.sources.helm.chart": "import chartfix.sources.kustomize.k\n",
    "chartfix.sources.kustomize.k": "from chartfix.sources.manifests.m import z\n",
    "chartfix.sources.cdk8s.app": "",
    "chartfix.config": "from chartfix.sources.helm.chart import v\n",
    "chartfix.recipes.s": "from chartfix.sources.helm.chart import w\n",
}


def test_the_checks_see_each_kind_of_arrow() -> None:
    """A guard for the guard: imports at load time, inside a function or a class, under
    TYPE_CHECKING, `import a.b` and `from a import b`: each is an arrow, each forbidden one
    is refused, and cycles of modules and packages are found."""
    graph = graph_of(GUARD)
    refused = {name: against(graph, *rest) for name, *rest in FORBIDDEN}
    assert refused["model -> above the model"] == ["chartfix.model.a imports chartfix.rules.r"]
    assert refused["rules -> a source kind"] == [
        "chartfix.rules.r imports chartfix.sources.helm.chart"
    ]
    assert refused["publish -> a source kind's package"] == [
        "chartfix.publish.p imports chartfix.sources.cdk8s.app"
    ]
    assert refused["commands -> cli"] == ["chartfix.commands.c imports chartfix.cli"]
    assert refused["config -> a source kind"] == [
        "chartfix.config imports chartfix.sources.helm.chart"
    ]
    assert refused["recipes -> a source kind's package"] == [
        "chartfix.recipes.s imports chartfix.sources.helm.chart"
    ]
    assert kind_arrows(graph) == [
        "chartfix.sources.helm.chart imports chartfix.sources.kustomize.k",
        "chartfix.sources.kustomize.k imports chartfix.sources.manifests.m",
        "chartfix.sources.manifests.m imports chartfix.sources.helm",
        "chartfix.sources.manifests.m imports chartfix.sources.helm.chart",
    ]
    assert ["chartfix.cli", "chartfix.commands.c"] in cycles(graph)
    assert [
        "chartfix.sources.helm", "chartfix.sources.kustomize", "chartfix.sources.manifests"
    ] in cycles(package_graph(graph))


def test_the_graph_holds_the_real_imports() -> None:
    """Else every check passes on an empty graph."""
    assert "chartfix.sources.base" in GRAPH["chartfix.pipeline"]
    assert "chartfix.model.objects" in GRAPH["chartfix.rules.overlap"]
    assert "chartfix.sources.helm.kind" in GRAPH["chartfix.sources.targets"]
    assert "chartfix.sources.helm.source" in GRAPH["chartfix.sources.helm.kind"]  # lazily
