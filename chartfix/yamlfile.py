"""The one way chartfix reads a YAML file that comes from a chart or a repository.

Chart.yaml, requirements.yaml and rendered manifests are attacker-shaped input in a bulk run:
a few nested aliases (a "billion laughs") expand to gigabytes once anything walks or prints
the value. `load` bounds the file's size and how far aliases may expand, and reads unknown
local tags (`condition: !redis.emulate`) as Helm's YAML library (go-yaml, through
sigs.k8s.io/yaml) does: the tag is dropped and the scalar stays a plain string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from chartfix.errors import TargetError

MAX_BYTES = 5 * 1024 * 1024
"""Helm's own default limit for one file of a chart (`helm template --max-file-size`)."""

MAX_EXPANSION = 10
"""Aliases may at most make a document this many times larger than its own nodes
(plus a small allowance): enough for anchors reused as defaults, never for a bomb."""

_ALLOWANCE = 10_000

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


class Loader(_Base):
    """Safe YAML as Helm and Kubernetes read it: `=` and timestamps stay plain strings, an
    unknown tag leaves its value untagged."""


def _plain(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


Loader.add_constructor("tag:yaml.org,2002:value", _plain)
Loader.add_constructor("tag:yaml.org,2002:timestamp", _plain)
Loader.add_multi_constructor("!", _untagged)


class NoAliases(yaml.SafeLoader):
    """Safe YAML without aliases, for chartfix's own config (it never needs them)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a chartfix config", mark
            )
        return super().compose_node(parent, index)


class TooLarge(yaml.YAMLError):
    """The file or its alias expansion is past the bounds above."""


def load(data: bytes | str, path: str | Path) -> Any:
    """The one document of `data` (read from `path`); TargetError naming `path` when it is not
    valid YAML or is too large."""
    docs = list(load_all(data, path, single=True))
    return docs[0] if docs else None


def load_all(
    data: bytes | str,
    path: str | Path,
    single: bool = False,
    max_bytes: int | None = MAX_BYTES,
    check: Callable[[yaml.Node], None] | None = None,
) -> Iterator[Any]:
    """Every document of `data`, each checked as `load` checks one (`max_bytes` None: any
    size, for what Helm rendered); `check` sees each document's node before it is built."""
    if max_bytes is not None:
        check_size(data, path)
    loader = Loader(data)
    try:
        try:
            if single:
                node = loader.get_single_node()
                nodes = [] if node is None else [node]
            else:
                nodes = []
                while loader.check_node():
                    nodes.append(loader.get_node())
            for node in nodes if _may_alias(data) else ():
                check_expansion(node)
            if check is not None:
                for node in nodes:
                    check(node)
            docs = [loader.construct_document(node) for node in nodes]
        except yaml.YAMLError as err:
            raise TargetError(path, _problem(err)) from err
    finally:
        loader.dispose()
    yield from docs


_ALIAS = re.compile(r"(?:^|[\s\[\]{},:?-])\*")
"""Where an alias can start (the YAML token `*name` follows a space or a flow indicator):
a text without it has no alias, and the expansion walk is skipped."""


def _may_alias(data: bytes | str) -> bool:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return "&" in text and _ALIAS.search(text) is not None


def check_size(data: bytes | str, path: str | Path) -> None:
    """Refuse (TargetError) a file larger than Helm reads."""
    if len(data) > MAX_BYTES:
        raise TargetError(path, f"{len(data)} bytes, larger than Helm's limit of {MAX_BYTES}")


def _problem(err: yaml.YAMLError) -> str:
    if isinstance(err, TooLarge):
        return str(err)
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    return f"invalid YAML: {where}{getattr(err, 'problem', None) or err}"


def check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past MAX_EXPANSION times its own size."""
    # each node's expanded size, by the node itself (an alias is the node it names), -1
    # while its children are being counted
    sizes: dict[yaml.Node, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            children = _children(node)
            sizes[node] = 1 + sum(sizes[c] for c in children)
            continue
        if node in sizes:
            if sizes[node] < 0:
                raise TooLarge(f"line {node.start_mark.line + 1}: an alias refers to itself")
            continue
        distinct += 1
        sizes[node] = -1
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
    if sizes[root] > MAX_EXPANSION * distinct + _ALLOWANCE:
        raise TooLarge(
            f"aliases expand {distinct} YAML nodes to {sizes[root]}: refused as an alias bomb"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
