"""Plain YAML files of Kubernetes objects, which every source kind made of them shares (plain
manifests, the resources and patches of a kustomization): which files are manifests, the
objects they hold, reading a set of them as written (`ManifestFiles`: a folder of plain
manifests, a cdk8s app's committed output) and editing them in place (`YamlFiles`).

A manifest is a YAML document with a string `apiVersion` and a string `kind`; a file is a
manifest file when it holds at least one. A `values.yaml`, a CI workflow, a kustomization's
`configurations:` file hold none and are not. Files are read with the one bounded loader
(chartfix/yamlfile.py), so a repository's YAML cannot blow up a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from chartfix.errors import TargetError
from chartfix.files import decode, encode
from chartfix.model.changes import Refused
from chartfix.model.edits import Edit, LabelChange, NotEditable, PlannedEdit
from chartfix.model.findings import Location
from chartfix.model.objects import (
    ANALYZED_KINDS,
    FileDocument,
    K8sObject,
    Origin,
    Rendering,
    mapping_at,
)
from chartfix.model.releases import ReleaseDiff
from chartfix.sources.base import RenderSettings, container_names, splice
from chartfix.sources.yamledit import (
    LabelRequest,
    YamlText,
    label_edits,
    remove_entry,
    repeated_keys,
)
from chartfix.yamlfile import load_all

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
    """Its position among the file's non-empty documents (what `FileDocument.doc_index` counts)."""
    line: int
    body: Any


def documents(data: bytes, rel: str) -> list[Document]:
    """The non-empty documents of a YAML file; TargetError naming `rel` when it does not parse
    (or is past the loader's bounds)."""
    lines: list[int] = []

    def note(node: yaml.Node) -> None:
        lines.append(node.start_mark.line + 1)
        twice = written_twice(node)
        if twice:
            raise TargetError(rel, twice)

    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise TargetError(
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
    seen: set[yaml.Node] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node in seen:
            continue
        seen.add(node)
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
    except TargetError:
        text = data.decode("utf-8", "replace")
        meant = "{{" not in text and all(key.search(text) for key in _MEANT)
        return "broken" if meant else None
    if any(is_manifest(d.body) for d in docs):
        return "manifest"
    return "broken" if any(_listed(d.body) for d in docs) else None


def refusal(path: Path) -> TargetError:
    """Why a "broken" file (see manifest_kind) cannot be read, naming it as given."""
    try:
        docs = documents(path.read_bytes(), str(path))
    except OSError as err:
        return TargetError(path, f"cannot read: {err.strerror or err}")
    except TargetError as err:
        return err
    line = next((d.line for d in docs if _listed(d.body)), 1)
    return TargetError(
        path, f"line {line}: a top-level list of objects, which kubectl refuses: write one "
        "object per document (separated by `---`), or a `kind: List` with `items:`"
    )


def outside_link(path: Path, bound: Path) -> TargetError | None:
    """A TargetError when `path` is a symlink leaving `bound` (the repository): Helm charts'
    rule (chartfix/sources/helm/chart.py): a link is read through while it stays inside the
    repository, never out of it, where the files are not the organisation's."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=False)
    except (RuntimeError, OSError):
        return TargetError(path, "symlink loop")
    if target.is_relative_to(bound):
        return None
    return TargetError(path, f"symlink points outside the repository, to {target}")


def _listed(body: Any) -> bool:
    """A top-level list of Kubernetes objects (kubectl reads a mapping per document)."""
    return isinstance(body, list) and any(is_manifest(item) for item in body)


def objects_of(data: bytes, rel: str, chart: str = "") -> list[K8sObject]:
    """The Kubernetes objects of one manifest file, each knowing its file, document and line.
    A `kind: List` is read as its items (as kubectl applies it), all at the list's place."""
    found: list[K8sObject] = []
    for doc in documents(data, rel):
        source = FileDocument(rel, doc.index, doc.line)
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


@dataclass
class YamlFiles:
    """Editing support every source kind made of plain YAML files shares (manifests, and the
    resources and patches of a kustomization): read, splice, check, refuse links."""

    root: Path
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    def releases(
        self, rendering: Rendering, files: Mapping[str, bytes] | None = None
    ) -> ReleaseDiff:
        return ReleaseDiff.by_keys("applied YAML has no release version to bump")

    def restart_edits(
        self, obj: K8sObject, rendering: Rendering, key: str
    ) -> list[PlannedEdit]:
        raise Refused(
            f"{obj.ref}: applied YAML has no release that changes its labels; restart its "
            "pods by hand after changing them"
        )

    def read(self, path: str) -> bytes:
        if path not in self._cache:
            try:
                self._cache[path] = (self.root / path).read_bytes()
            except OSError as err:
                raise TargetError(self.root / path, f"cannot read: {err.strerror or err}") from err
        return self._cache[path]

    def apply(self, path: str, edits: Iterable[Edit]) -> bytes:
        return encode(splice(decode(self.read(path)), edits))

    def problem(self, files: Mapping[str, bytes]) -> str:
        """A key an edit wrote twice in one mapping of a file, literally or beside a `<<`
        merge that brings it (see yamledit.repeated_keys): no fix may leave one behind. A
        pair the file held before the edit is the author's."""
        for path, data in files.items():
            try:
                now = repeated_keys(YamlText(decode(data), path))
                before = repeated_keys(YamlText(decode(self.read(path)), path)) if now else {}
            except NotEditable as err:
                return str(err)
            except TargetError:
                before = {}
            new = [message for key, message in now.items() if key not in before]
            if new:
                return f"{path}: {new[0]}"
        return ""

    def unwritable(self, path: str) -> str | None:
        current = self.root.resolve()
        for part in Path(path).parts:
            current = current / part
            if current.is_symlink():
                return (
                    f"{path} is reached through the symlink {current} (to {current.resolve()}); "
                    "chartfix does not write through links"
                )
        return None

    def writes_literally(self, obj: K8sObject, rendering: Rendering, path: str, key: str) -> bool:
        """Plain YAML computes nothing: a label is written as it reads when it is there."""
        return key in (mapping_at(obj.body, path) or {})

    def yaml_edits(
        self, obj: K8sObject, rel: str, changes: Sequence[LabelChange], why: str
    ) -> list[PlannedEdit]:
        """The splices of `rel` making `changes` to the document `obj` was read from."""
        if obj.selector_defaulted and any(c.path.startswith("spec.selector") for c in changes):
            raise Refused(
                f"{obj.ref} has no spec.selector in {rel} ({obj.api_version} defaults it from "
                "the pod labels): write the selector out by hand"
            )
        templated = [c.key for c in changes if c.value is None and not c.removed]
        if templated:
            raise Refused(
                f"{obj.ref}: plain YAML cannot carry a value per object for {templated[0]}"
            )
        try:
            text = YamlText(decode(self.read(rel)), rel)
            doc = obj.document.doc_index
            if doc >= len(text.documents):
                raise Refused(f"{rel}: document {doc + 1} not found")
            kind = text.node_at(doc, "kind")
            if kind is not None and getattr(kind, "value", None) == "List":
                raise Refused(f"{obj.ref} is an item of a `kind: List` in {rel}; not edited")
            added = [c for c in changes if not c.removed]
            requests = [LabelRequest(doc, c.path, c.key, str(c.value)) for c in added]
            edits = label_edits(text, requests)
            for change in changes:
                if change.removed:
                    site = text.site(doc, change.path)
                    if site is None or site.entry(change.key) is None:
                        raise Refused(f"{change.key} is not written at {change.path} in {rel}")
                    edits.append(remove_entry(text, site, change.key))
        except NotEditable as err:
            raise Refused(str(err)) from err
        except TargetError as err:
            raise Refused(str(err)) from err
        return [PlannedEdit(rel, edit, why) for edit in edits]


APP_KEYS = ("app.kubernetes.io/name", "app", "k8s-app")


def _last_of_each(objects: list[K8sObject]) -> tuple[list[K8sObject], list[str]]:
    """One object per kind, namespace and name, as `kubectl apply -f DIR` leaves it: the
    last file (in name order) wins. A folder holding an all-in-one file beside the same
    objects one per file is told so, instead of each copy overlapping the other."""
    last: dict[tuple[str, str, str], K8sObject] = {}
    for obj in objects:
        last[(obj.kind, obj.namespace or "", obj.name)] = obj
    kept = [o for o in objects if last[(o.kind, o.namespace or "", o.name)] is o]
    warnings = []
    for obj in objects:
        winner = last[(obj.kind, obj.namespace or "", obj.name)]
        if winner is not obj and obj.kind in ANALYZED_KINDS:  # the ones findings are about
            warnings.append(
                f"{obj.ref} is written twice, in {obj.document.path} and "
                f"{winner.document.path}: `kubectl apply -f` keeps the latter, so chartfix "
                "reads and fixes that one only"
            )
    return kept, warnings


@dataclass
class ManifestFiles(YamlFiles):
    """Files of plain manifests read as written, as `kubectl apply -f` reads them (one
    scenario): a folder of plain manifests, and a cdk8s app's committed output. Each object
    remembers its file, document and line; findings are located at the label map there."""

    scenario: ClassVar[str] = "manifests"
    name: str = ""
    files: tuple[str, ...] = ()
    """The manifest files, relative to `root`."""
    namespace: str = "default"
    release: str = "release-name"

    def verification(self, settings: RenderSettings) -> list[Rendering]:
        return []  # no feature switches

    def render(
        self, scenario: str, files: Mapping[str, bytes] | None = None, release: str | None = None
    ) -> Rendering:
        objects: list[K8sObject] = []
        for rel in self.files:
            data = files[rel] if files and rel in files else self.read(rel)
            try:
                objects += objects_of(data, rel, chart=self.name)
            except TargetError as err:  # named as every other kind names a file: with its path
                raise TargetError(self.root / rel, err.reason) from err
        kept, warnings = _last_of_each(objects)
        return Rendering(
            self.scenario, kept, release=self.release, namespace=self.namespace,
            warnings=warnings,
        )

    def locate(self, obj: K8sObject, path: str, rendering: Rendering) -> Location | None:
        try:
            text = YamlText(decode(self.read(obj.document.path)), obj.document.path)
            node = text.node_at(obj.document.doc_index, path)
        except (NotEditable, TargetError, IndexError):
            return Location(obj.document.path, obj.document.line)
        line = obj.document.line if node is None else node.start_mark.line + 1
        return Location(obj.document.path, line)

    def origin(self, obj: K8sObject, rendering: Rendering) -> Origin:
        """The file's document."""
        return Origin(obj.document.path, (obj.kind,), obj.document.doc_index)

    def role_names(self, obj: K8sObject, rendering: Rendering) -> tuple[str, ...]:
        own = own_part(obj, obj.name)
        return (*([own] if own else []), *container_names(obj, obj.name))

    def written_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        return None


def own_part(obj: K8sObject, name: str) -> str | None:
    """The part of a written name that tells the workload apart: what follows the
    application's name (its `app.kubernetes.io/name` or `app` label: `migrate` of
    `shop-migrate`, `web` of `web`); None when the name is just the application's."""
    labels = {**obj.labels, **(obj.pod_labels or {})}
    for key in APP_KEYS:
        app = labels.get(key)
        if not app:
            continue
        if name == app:
            return None
        if name.startswith(app + "-"):
            return name[len(app) + 1:] or None
    return name or None
