"""From a rendered object back to the template text that wrote it.

Helm tells us the file (`# Source:`); the outline tells us the documents in it. Which document
wrote an object is decided by kind, then by the literal pieces of `metadata.name`, then by
order among objects of the same kind from the same file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from chartfix.chart import inside
from chartfix.errors import ChartError
from chartfix.findings import Location
from chartfix.objects import K8sObject
from chartfix.template.outline import Document, MappingSite, Outline, outline


def decode(data: bytes) -> str:
    """Template bytes as text; undecodable bytes survive the round trip unchanged."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@lru_cache(maxsize=512)
def _outline_bytes(data: bytes) -> Outline:
    return outline(decode(data))


class ChartSources:
    """The template files of one chart, read once and outlined on demand.

    `overrides` holds files as a fix has rewritten them (chart-relative path -> bytes), so the
    same lookups work on the chart before and after an edit.
    """

    def __init__(self, root: Path, overrides: Mapping[str, bytes] | None = None) -> None:
        self.root = root
        self.overrides = dict(overrides or {})
        self._cache: dict[str, bytes] = {}
        self._outlines: dict[bytes, Outline] = {}

    def read(self, rel: str) -> bytes:
        if rel in self.overrides:
            return self.overrides[rel]
        if rel not in self._cache:
            self._cache[rel] = inside(self.root, rel).read_bytes()
        return self._cache[rel]

    def outline(self, rel: str) -> Outline:
        """Outlined once per chart however many files it has (the shared cache below is
        bounded: a chart of thousands of templates would outline each one again and again)."""
        data = self.read(rel)
        found = self._outlines.get(data)
        if found is None:
            found = self._outlines[data] = _outline_bytes(data)
        return found

    def document_for(
        self, obj: K8sObject, siblings: Sequence[K8sObject] = ()
    ) -> Document | None:
        """The document of `obj.source.path` that rendered `obj`.

        `siblings` are the other objects rendered in the same scenario; they settle which of
        several same-kind documents is meant when names do not.
        """
        try:
            docs = self.outline(obj.source.path).documents
        except (OSError, ValueError, ChartError):
            return None
        candidates = [d for d in docs if d.kind == obj.kind] or [
            d for d in docs if d.kind is None
        ]
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
        same = [
            o for o in siblings
            if o.source.path == obj.source.path and o.kind == obj.kind
        ]
        if len(same) == len(candidates) and obj in same:
            return candidates[same.index(obj)]
        return candidates[0]

    def site_for(
        self, obj: K8sObject, path: str, siblings: Sequence[K8sObject] = ()
    ) -> MappingSite | None:
        doc = self.document_for(obj, siblings)
        return None if doc is None else doc.sites.get(path)


def _name_matches(fragments: tuple[str, ...], name: str) -> bool:
    pos = 0
    for fragment in fragments:
        found = name.find(fragment, pos)
        if found < 0:
            return False
        pos = found + len(fragment)
    return True


def locate(
    chart_root: Path,
    obj: K8sObject,
    manifest_path: str | None,
    siblings: Sequence[K8sObject] = (),
    sources: ChartSources | None = None,
) -> Location:
    """The template file and line of `manifest_path` (say `spec.selector.matchLabels`) of obj.

    Falls back to the document's `kind:` line, then to the file alone.
    """
    sources = sources or ChartSources(chart_root)
    doc = sources.document_for(obj, siblings)
    if doc is None:
        return Location(obj.source.path)
    site = doc.sites.get(manifest_path) if manifest_path else None
    if site is not None:
        return Location(obj.source.path, site.line)
    return Location(obj.source.path, doc.kind_line or doc.first_line)
