"""From a rendered object back to the template text that wrote it.

Helm tells us the file (`# Source:`); the outline tells us the documents in it. Which document
wrote an object is decided by kind, then by the literal pieces of `metadata.name`, then by
order among objects of the same kind from the same file. A file whose documents are only
`{{ include "x" . }}` lines rendered the object from a `define`: the include is followed to
the define that writes it, in whichever file that is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chartfix.errors import TargetError
from chartfix.files import decode, inside
from chartfix.model.changes import Refused
from chartfix.model.findings import Location
from chartfix.model.objects import K8sObject, Rendering
from chartfix.sources.helm.template.helpers import Helper, find_helpers, included_helper
from chartfix.sources.helm.template.outline import Document, MappingSite, Outline, outline


@lru_cache(maxsize=512)
def _outline_bytes(data: bytes) -> Outline:
    return outline(decode(data))


class Peers:
    """The objects one scenario rendered, by template file and kind: which of a file's
    documents of one kind rendered an object is told by its place among them when names do
    not. Made once per rendering (`peers_of`), so that placing each of its objects is linear,
    not quadratic."""

    def __init__(self, objects: Iterable[K8sObject] = ()) -> None:
        self._by_file_and_kind: dict[tuple[str, str], list[K8sObject]] = {}
        for obj in objects:
            self._by_file_and_kind.setdefault((obj.document.path, obj.kind), []).append(obj)

    def of(self, obj: K8sObject) -> list[K8sObject]:
        """The objects `obj`'s template file rendered with its kind, in order."""
        return self._by_file_and_kind.get((obj.document.path, obj.kind), [])


NO_PEERS = Peers()


def peers_of(rendering: Rendering) -> Peers:
    """`rendering`'s objects as `Peers`, made once per rendering."""
    made: Peers = rendering.memo("template peers", lambda objects, _namespace: Peers(objects))
    return made


@dataclass(frozen=True)
class Place:
    """The document that wrote an object, and the chart-relative file it is written in: the
    object's own template, or the helper file of the `define` its template includes."""

    path: str
    doc: Document
    define: str | None = None
    """The define the document is the body of, when it was reached through an include."""
    includes: int = 1
    """How many include actions in the chart render that define (1 for a template's own
    documents): more than one, and an edit there reaches other objects too."""

    @property
    def shared(self) -> bool:
        """Other includes render this define too: an edit here reaches their objects."""
        return self.includes > 1

    def shared_reason(self, ref: object) -> str:
        return (
            f'{ref} is written in define "{self.define}" ({self.path}), which '
            f"{self.includes} includes render: an edit there would reach every one of them"
        )


class Templates:
    """The template files of one chart, read once and outlined on demand.

    `overrides` holds files as a fix has rewritten them (chart-relative path -> bytes), so the
    same lookups work on the chart before and after an edit.
    """

    def __init__(
        self,
        root: Path,
        overrides: Mapping[str, bytes] | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> None:
        self.root = root
        self.overrides = dict(overrides or {})
        self.files = files
        """The chart's files already read (the staged tree a render uses), if any: then the
        disk is not looked at again."""
        self._cache: dict[str, bytes] = {}
        self._helpers: dict[str, Helper] | None = None
        self._includes: dict[str, int] = {}
        self._outlines: dict[bytes, Outline] = {}

    def read(self, rel: str) -> bytes:
        if rel in self.overrides:
            return self.overrides[rel]
        if self.files is not None and rel in self.files:
            return self.files[rel]
        if rel not in self._cache:
            self._cache[rel] = inside(self.root, rel).read_bytes()
        return self._cache[rel]

    def site(self, doc: Document, path: str) -> MappingSite | None:
        """The mapping at `path` in `doc`. `matchLabels` rendered, key and entries, by a
        helper included under `selector:` (a vendored `base.meta.selector`) is a site whose
        new entries go right after that include line, at the helper's entry indentation."""
        found = doc.sites.get(path)
        if found is not None or path != "spec.selector.matchLabels":
            return found
        parent = doc.sites.get("spec.selector")
        if parent is None or parent.flow is not None or parent.inline_generator:
            return None
        if len(parent.entries) != 1 or parent.entries[0].conditional:
            return None
        line = parent.entries[0].line
        actions = line.output_actions
        if not parent.entries[0].generated or len(actions) != 1:
            return None
        name, indent = included_helper(actions[0]), actions[0].indent_argument()
        helper = self.helpers().get(name) if name else None
        if helper is None or indent is None or not _renders_key(helper.body, "matchLabels"):
            return None
        return MappingSite(path, line, indent, ())

    def template_files(self, under: str = "templates/") -> list[str]:
        """Chart-relative paths of the template files below `under` (own chart by default)."""
        suffixes = (".yaml", ".yml", ".tpl", ".txt")
        if self.files is not None:
            return sorted(r for r in self.files if r.startswith(under) and r.endswith(suffixes))
        top = self.root / under
        if not top.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix() for p in top.rglob("*")
            if p.is_file() and p.suffix in suffixes
        )

    def outline(self, rel: str) -> Outline:
        """Outlined once per chart however many files it has (the shared cache below is
        bounded: a chart of thousands of templates would outline each one again and again)."""
        data = self.read(rel)
        found = self._outlines.get(data)
        if found is None:
            found = self._outlines[data] = _outline_bytes(data)
        return found

    def document_for(
        self, obj: K8sObject, peers: Peers = NO_PEERS
    ) -> Document | None:
        """The document that rendered `obj` (see `place_for`)."""
        place = self.place_for(obj, peers)
        return None if place is None else place.doc

    def place_for(self, obj: K8sObject, peers: Peers = NO_PEERS) -> Place | None:
        """Where `obj` is written: a document of `obj.document.path`, or of the define that a
        document made only of include lines renders.

        `peers` are the objects rendered in the same scenario; they settle which of
        several same-kind documents is meant when names do not.
        """
        try:
            docs = self.outline(obj.document.path).documents
        except (OSError, ValueError, TargetError):
            return None
        if not any(obj.kind in d.kinds for d in docs):
            through = self._through_include(obj, obj.document.path, docs)
            if through is not None:
                return through
        doc = _pick(obj, docs, peers.of(obj))
        return None if doc is None else Place(obj.document.path, doc)

    def helpers(self) -> dict[str, Helper]:
        if self._helpers is None:
            self._helpers = find_helpers(self)
        return self._helpers

    def _through_include(
        self, obj: K8sObject, path: str, docs: Sequence[Document], depth: int = 0
    ) -> Place | None:
        """The define body writing `obj` among those the documents' own lines include."""
        helpers = self.helpers()
        found: list[Place] = []
        for name in _included_names(self.outline(path), docs):
            helper = helpers.get(name)
            if helper is None or depth > 3:
                continue
            body = [
                d for d in self.outline(helper.path).documents
                if d.in_define and helper.open.end <= d.start <= helper.close.start
            ]
            named = [
                d for d in body
                if obj.kind in d.kinds and _name_matches(d.name_fragments, obj.name)
            ]
            if len(named) == 1:
                found.append(Place(helper.path, named[0], name, self.include_count(name)))
            elif not named:
                deeper = self._through_include(obj, helper.path, body, depth + 1)
                if deeper is not None:
                    found.append(deeper)
        return found[0] if len(found) == 1 else None

    def include_count(self, name: str) -> int:
        """How many include/template actions in the chart's own templates render `name`."""
        if name in self._includes:
            return self._includes[name]
        self._includes[name] = sum(
            1
            for rel in self.template_files()
            for line in self.outline(rel).lines
            for action in line.output_actions
            if included_helper(action) == name
        )
        return self._includes[name]


def _renders_key(body: str, key: str) -> bool:
    """A helper body that is `key:` and then only lines indented below it (its entries)."""
    lines = [line for line in body.strip("\r\n").splitlines() if line.strip()]
    return bool(lines) and lines[0].rstrip() == f"{key}:" and all(
        line.startswith(("  ", "{{")) for line in lines[1:]
    )


def _included_names(source: Outline, docs: Sequence[Document]) -> list[str]:
    """Helpers rendered by lines of `docs` that hold nothing but the include (a whole object
    or list of objects), in order."""
    names: list[str] = []
    for line in source.lines:
        if line.cls != "generator" or not any(d.start <= line.start < d.end for d in docs):
            continue
        for action in line.output_actions:
            name = included_helper(action)
            if name is not None and name not in names:
                names.append(name)
    return names


def _pick(obj: K8sObject, docs: Sequence[Document], same: list[K8sObject]) -> Document | None:
    """Which of a file's documents rendered `obj`; `same` are the file's objects of obj's
    kind in the same scenario, in order."""
    candidates = [d for d in docs if obj.kind in d.kinds] or [d for d in docs if not d.kinds]
    if len(candidates) <= 1:
        # One literal document of this kind, but its name says it renders another
        # object (which comes from an include elsewhere): no guess.
        if candidates and not _name_matches(candidates[0].name_fragments, obj.name):
            return None
        return candidates[0] if candidates else None
    named = [d for d in candidates if _name_matches(d.name_fragments, obj.name)]
    if named:
        best = max(sum(len(f) for f in d.name_fragments) for d in named)
        named = [d for d in named if sum(len(f) for f in d.name_fragments) == best]
        if len(named) == 1:
            return named[0]
        candidates = named
    if len(same) == len(candidates) and obj in same:
        return candidates[same.index(obj)]
    return candidates[0]


def _name_matches(fragments: tuple[str, ...], name: str) -> bool:
    pos = 0
    for fragment in fragments:
        found = name.find(fragment, pos)
        if found < 0:
            return False
        pos = found + len(fragment)
    return True


def editable_place(templates: Templates, obj: K8sObject, rendering: Rendering) -> Place:
    """Where `obj` is written, for an edit of it; Refused (one line): a subchart writes it
    (left as it is), or no template document renders it."""
    if obj.document.path.startswith("charts/"):
        raise Refused(f"{obj.ref} comes from a subchart; left as it is")
    place = templates.place_for(obj, peers_of(rendering))
    if place is None:
        raise Refused(f"no template document in {obj.document.path} renders {obj.ref}")
    return place


def locate(
    target_root: Path,
    obj: K8sObject,
    manifest_path: str | None,
    peers: Peers = NO_PEERS,
    sources: Templates | None = None,
) -> Location:
    """The template file and line of `manifest_path` (say `spec.selector.matchLabels`) of obj.

    Falls back to the document's `kind:` line, then to the file alone. An object written in
    a define is located in the define's file.
    """
    sources = sources or Templates(target_root)
    place = sources.place_for(obj, peers)
    if place is None:
        return Location(obj.document.path)
    site = place.doc.sites.get(manifest_path) if manifest_path else None
    if site is not None:
        return Location(place.path, site.line)
    return Location(place.path, place.doc.kind_line or place.doc.first_line)


__all__ = ["Place", "Templates", "locate"]
