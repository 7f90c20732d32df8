"""Plain manifest files: which YAML files are Kubernetes objects, and the objects they hold.

A manifest is a YAML document with a string `apiVersion` and a string `kind`; a file is a
manifest file when it holds at least one. A `values.yaml`, a CI workflow, a kustomization's
`configurations:` file hold none and are not. Files are read with the one bounded loader
(chartfix/yamlfile.py), so a repository's YAML cannot blow up a run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartfix.errors import ChartError
from chartfix.model.objects import K8sObject, Source
from chartfix.yamlfile import load_all

SUFFIXES = (".yaml", ".yml")
MERGE_TAG = "tag:yaml.org,2002:merge"


def _key(name: str) -> re.Pattern[str]:
    """`name` written as a mapping key in any style: plain, quoted, in a flow mapping, as a
    list item's first key or after `? `."""
    plain = rf"{name}[ \t]*:(?=\s|$)"
    quoted = rf"""(?:"{name}"|'{name}')[ \t]*:"""
    return re.compile(rf"(?:^|[\s{{,\[?-])(?:{plain}|{quoted})", re.M)


_MEANT = (_key("apiVersion"), _key("kind"))
"""A file writing both keys was meant as a manifest, even when it does not parse."""


@dataclass(frozen=True)
class Document:
    """One non-empty document of a manifest file."""

    index: int
    """Its position among the file's non-empty documents (what `Source.doc_index` counts)."""
    line: int
    body: Any


def documents(data: bytes, rel: str) -> list[Document]:
    """The non-empty documents of a YAML file; ChartError naming `rel` when it does not parse
    (or is past the loader's bounds)."""
    lines: list[int] = []

    def note(node: yaml.Node) -> None:
        lines.append(node.start_mark.line + 1)
        twice = written_twice(node)
        if twice:
            raise ChartError(rel, twice)

    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ChartError(
            rel, f"line {line}: not UTF-8 (byte 0x{data[err.start]:02x}): kubectl reads "
            "YAML as UTF-8; convert the file"
        ) from err
    docs = list(load_all(text, rel, check=note))
    found: list[Document] = []
    for line, body in zip(lines, docs, strict=True):
        if body is not None:
            found.append(Document(len(found), line, body))
    return found


def written_twice(root: yaml.Node) -> str:
    """`line N: KEY is written twice in PATH ...` for the first mapping of a document that
    writes a key twice, else "". PyYAML keeps the last; kubectl refuses the file (`mapping
    key already defined`) and Helm's path refuses it too, so chartfix does not guess. A key
    that a `<<` merge brings and the mapping writes again is an override, not a repeat."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == MERGE_TAG:
                    stack.append((value, path))
                    continue
                name = str(key.value)
                if name in first:
                    return (
                        f"line {key.start_mark.line + 1}: {name} is written twice in "
                        f"{path or 'the document'} (first at line {first[name]}); kubectl "
                        "refuses a mapping key written twice"
                    )
                first[name] = key.start_mark.line + 1
                stack.append((value, f"{path}.{name}" if path else name))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return ""


def is_manifest(body: Any) -> bool:
    return (
        isinstance(body, Mapping)
        and isinstance(body.get("apiVersion"), str)
        and isinstance(body.get("kind"), str)
    )


def manifest_kind(path: Path) -> str | None:
    """"manifest" when the file holds a Kubernetes object; "broken" when it is meant to but
    cannot be read as one (`refusal` says why); None when it is no manifest at all."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        docs = documents(data, str(path))
    except ChartError:
        text = data.decode("utf-8", "replace")
        meant = "{{" not in text and all(key.search(text) for key in _MEANT)
        return "broken" if meant else None
    if any(is_manifest(d.body) for d in docs):
        return "manifest"
    return "broken" if any(_listed(d.body) for d in docs) else None


def refusal(path: Path) -> ChartError:
    """Why a "broken" file (see manifest_kind) cannot be read, naming it as given."""
    try:
        docs = documents(path.read_bytes(), str(path))
    except OSError as err:
        return ChartError(path, f"cannot read: {err.strerror or err}")
    except ChartError as err:
        return err
    line = next((d.line for d in docs if _listed(d.body)), 1)
    return ChartError(
        path, f"line {line}: a top-level list of objects, which kubectl refuses: write one "
        "object per document (separated by `---`), or a `kind: List` with `items:`"
    )


def outside_link(path: Path, bound: Path) -> ChartError | None:
    """A ChartError when `path` is a symlink leaving `bound` (the repository): Helm charts'
    rule (chartfix/sources/helm/chart.py): a link is read through while it stays inside the
    repository, never out of it, where the files are not the organisation's."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=False)
    except (RuntimeError, OSError):
        return ChartError(path, "symlink loop")
    if target.is_relative_to(bound):
        return None
    return ChartError(path, f"symlink points outside the repository, to {target}")


def _listed(body: Any) -> bool:
    """A top-level list of Kubernetes objects (kubectl reads a mapping per document)."""
    return isinstance(body, list) and any(is_manifest(item) for item in body)


def objects_of(data: bytes, rel: str, chart: str = "") -> list[K8sObject]:
    """The Kubernetes objects of one manifest file, each knowing its file, document and line.
    A `kind: List` is read as its items (as kubectl applies it), all at the list's place."""
    found: list[K8sObject] = []
    for doc in documents(data, rel):
        source = Source(rel, doc.index, doc.line)
        if not is_manifest(doc.body):
            continue
        if doc.body["kind"] == "List" and isinstance(doc.body.get("items"), list):
            found += [
                K8sObject(item, source, chart=chart)
                for item in doc.body["items"]
                if is_manifest(item)
            ]
            continue
        found.append(K8sObject(doc.body, source, chart=chart))
    return found
