"""A directory of plain Kubernetes manifests as a source kind: read as written, edited in place.

Rendering is parsing: each `.yaml`/`.yml` file of the directory that holds Kubernetes objects
(see files.py) is read as it is, every object remembering its file, document and line. There
is one scenario, `manifests`. Edits are splices computed from ruamel.yaml's positions
(sources/yamledit.py): a label lands in the very map the finding is about, nothing else moves.

Which directories are targets (the discovery rules, also in the README):
- a directory is a manifests target when one of its own `.yaml`/`.yml` files (not those of
  its subdirectories, which are targets of their own) holds a document with a string
  `apiVersion` and a string `kind`;
- not when a Helm chart, a cdk8s app or a kustomization owns it: a folder at or under a
  `Chart.yaml` or `cdk8s.yaml`, a folder holding a `kustomization.yaml` (or `.yml`, or
  `Kustomization`), and the folders whose files a kustomization found in the same search
  lists (its `resources`, patches...): those are the kustomization's (the `owned` callback);
- hidden folders (`.git`, `.github`) and `node_modules` are not searched.
A file given on the command line stands for its folder when that folder is a target.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chartfix.errors import ChartError
from chartfix.model.edits import Edit, LabelChange, PlannedEdit
from chartfix.model.findings import Location
from chartfix.model.objects import ANALYZED_KINDS, K8sObject, Rendering, mapping_at
from chartfix.sources.base import Renderings, RenderSettings, splice, values_ignored
from chartfix.sources.helm.chart import repository_root
from chartfix.sources.helm.template.edit import NotEditable
from chartfix.sources.manifests.files import (
    SUFFIXES,
    manifest_kind,
    objects_of,
    outside_link,
    refusal,
)
from chartfix.sources.yamledit import (
    LabelRequest,
    YamlText,
    label_edits,
    remove_entry,
    repeated_keys,
)

SCENARIO = "manifests"
OWNER_MARKERS = ("Chart.yaml", "cdk8s.yaml")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@dataclass
class YamlFiles:
    """Editing support every source kind made of plain YAML files shares (manifests, and the
    resources and patches of a kustomization): read, splice, check, refuse links."""

    root: Path
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    def read(self, path: str) -> bytes:
        if path not in self._cache:
            try:
                self._cache[path] = (self.root / path).read_bytes()
            except OSError as err:
                raise ChartError(self.root / path, f"cannot read: {err.strerror or err}") from err
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
            except ChartError:
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
    ) -> list[PlannedEdit] | str:
        """The splices of `rel` making `changes` to the document `obj` was read from."""
        if obj.selector_defaulted and any(c.path.startswith("spec.selector") for c in changes):
            return (
                f"{obj.ref} has no spec.selector in {rel} ({obj.api_version} defaults it from "
                "the pod labels): write the selector out by hand"
            )
        templated = [c.key for c in changes if c.value is None and not c.removed]
        if templated:
            return f"{obj.ref}: plain YAML cannot carry a value per object for {templated[0]}"
        try:
            text = YamlText(decode(self.read(rel)), rel)
            doc = obj.source.doc_index
            if doc >= len(text.documents):
                return f"{rel}: document {doc + 1} not found"
            kind = text.node_at(doc, "kind")
            if kind is not None and getattr(kind, "value", None) == "List":
                return f"{obj.ref} is an item of a `kind: List` in {rel}; not edited"
            added = [c for c in changes if not c.removed]
            requests = [LabelRequest(doc, c.path, c.key, str(c.value)) for c in added]
            edits = label_edits(text, requests)
            for change in changes:
                if change.removed:
                    site = text.site(doc, change.path)
                    if site is None or site.entry(change.key) is None:
                        return f"{change.key} is not written at {change.path} in {rel}"
                    edits.append(remove_entry(text, site, change.key))
        except NotEditable as err:
            return str(err)
        except ChartError as err:
            return str(err)
        return [PlannedEdit(rel, edit, why) for edit in edits]


APP_KEYS = ("app.kubernetes.io/name", "app", "k8s-app")


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
                f"{obj.ref} is written twice, in {obj.source.path} and "
                f"{winner.source.path}: `kubectl apply -f` keeps the latter, so chartfix "
                "reads and fixes that one only"
            )
    return kept, warnings


@dataclass
class ManifestsSource(YamlFiles):
    """One directory of plain manifests."""

    kind: str = "manifests"
    name: str = ""
    version: str | None = None
    app_version: str | None = None
    files: tuple[str, ...] = ()
    namespace: str = "default"
    release: str = "release-name"

    def render_all(self, settings: RenderSettings) -> Renderings:
        self.namespace, self.release = settings.namespace, settings.release
        rendering = self.render(SCENARIO)
        rendering.warnings += values_ignored(settings, "a folder of plain manifests")
        return Renderings([rendering])

    def render(self, scenario: str, files: Mapping[str, bytes] | None = None) -> Rendering:
        objects: list[K8sObject] = []
        for rel in self.files:
            data = files[rel] if files and rel in files else self.read(rel)
            try:
                objects += objects_of(data, rel, chart=self.name)
            except ChartError as err:  # named as every other kind names a file: with its path
                raise ChartError(self.root / rel, err.reason) from err
        kept, warnings = _last_of_each(objects)
        return Rendering(
            SCENARIO, kept, release=self.release, namespace=self.namespace, warnings=warnings
        )

    def locate(self, obj: K8sObject, path: str, rendering: Rendering) -> Location | None:
        try:
            text = YamlText(decode(self.read(obj.source.path)), obj.source.path)
            node = text.node_at(obj.source.doc_index, path)
        except (NotEditable, ChartError, IndexError):
            return Location(obj.source.path, obj.source.line)
        line = obj.source.line if node is None else node.start_mark.line + 1
        return Location(obj.source.path, line)

    def origin(self, obj: K8sObject, rendering: Rendering) -> tuple[str, str, int]:
        """(file, kind, document): the shape the recipes key workloads by."""
        return (obj.source.path, obj.kind, obj.source.doc_index)

    def author_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        return own_part(obj, obj.name)

    def written_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        return None

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit] | str:
        return self.yaml_edits(obj, obj.source.path, changes, f"labels of {obj.ref}")


class ManifestsKind:
    """Directories of plain manifests (see the module docstring for the rules)."""

    name = "manifests"
    marker = "*.yaml"
    """No file makes a folder a manifests target: its YAML does (never matches a file)."""

    def __init__(self, owned: Callable[[Sequence[Path]], set[Path]] | None = None) -> None:
        self.owned = owned
        """Folders other kinds own under the searched paths (a kustomization's resources)."""

    def find(self, paths: Sequence[Path]) -> list[Path]:
        dirs: set[Path] = set()
        for given in paths:
            given = Path(given)
            if not os.access(given, os.R_OK):
                continue
            if given.is_file():
                if given.suffix in SUFFIXES and manifest_kind(given) and self._free(given.parent):
                    dirs.add(given.parent.resolve())
                continue
            dirs |= set(_manifest_dirs(given))
        owned = self.owned(list(paths)) if self.owned and dirs else set()
        return sorted(d for d in dirs if d not in owned)

    def holds(self, root: Path) -> bool:
        return self._free(root) and any(
            manifest_kind(f) for f in _yaml_files(root)
        )

    def skip_reason(
        self, root: Path, run_apps: bool | None, untrusted: Sequence[Path]
    ) -> str | None:
        return None

    def load(self, root: Path) -> ManifestsSource:
        root = Path(root)
        files = []
        bound = repository_root(root)
        for path in _yaml_files(root):
            link = outside_link(path, bound)
            if link is not None:
                raise link
            kind = manifest_kind(path)
            if kind == "broken":
                raise refusal(path)
            if kind is not None:
                files.append(path.name)
        if not files:
            raise ChartError(root, "no Kubernetes manifest (apiVersion and kind) in this folder")
        return ManifestsSource(root=root, name=root.resolve().name, files=tuple(files))

    def _free(self, directory: Path) -> bool:
        return not _owned_by_marker(directory) and not _has_kustomization(directory)


def _yaml_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [
        Path(e.path) for e in entries
        if e.name.endswith(SUFFIXES) and e.is_file() and not e.name.startswith(".")
    ]


def _manifest_dirs(top: Path) -> list[Path]:
    """Every folder at or under `top` holding a manifest file that no chart, cdk8s app or
    kustomization folder claims."""
    found = []
    if _owned_by_marker(top):
        return []
    for current, subdirs, _ in os.walk(top):
        here = Path(current)
        subdirs[:] = sorted(
            d for d in subdirs
            if not d.startswith(".") and d not in SKIPPED_DIRS
            and not any(_is_file(here / d / m) for m in OWNER_MARKERS)
        )
        if _has_kustomization(here):
            continue
        if any(manifest_kind(f) for f in _yaml_files(here)):
            found.append(here.resolve())
    return found


def _has_kustomization(directory: Path) -> bool:
    return any(_is_file(directory / name) for name in KUSTOMIZATION_NAMES)


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; False when it cannot be looked at (an unreadable folder is
    the kind that claims it's to report, not a crash of the search)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _owned_by_marker(directory: Path) -> bool:
    """At or under a chart or cdk8s app (up to the repository's top)."""
    for current in [directory.resolve(), *directory.resolve().parents]:
        if any(_is_file(current / m) for m in OWNER_MARKERS):
            return True
        if (current / ".git").exists():
            break
    return False
