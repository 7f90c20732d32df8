"""Helm charts as a source kind: scenarios rendered by Helm, edits spliced into templates.

What a chart's objects remember (`Source`: template path, document index) leads back to the
template document that wrote them (`Templates.place_for`); a label change becomes a line
inserted into (or removed from, or replaced in) the mapping that document writes at the
change's path, in the shapes only templates have (templated entries copied as written,
helper arguments, a defaulted selector written out): see chartfix/sources/helm/labels.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from chartfix import cache
from chartfix.errors import TargetError
from chartfix.files import decode, encode, linked
from chartfix.model.changes import FixUnit, Unfixed
from chartfix.model.edits import Edit, LabelChange, PlannedEdit
from chartfix.model.findings import Location
from chartfix.model.objects import K8sObject, Origin, Rendering
from chartfix.model.releases import ReleaseDiff
from chartfix.sources.base import (
    Removal,
    Renderings,
    RenderSettings,
    synthesized_note,
    unrendered_note,
)
from chartfix.sources.helm.chart import (
    FACTS,
    Chart,
    Scenario,
    kustomization_not_built,
)
from chartfix.sources.helm.dependencies import stage
from chartfix.sources.helm.features import all_features_scenario, scenarios_with_features
from chartfix.sources.helm.labels import label_edits, writes_literally
from chartfix.sources.helm.releases import release_diff
from chartfix.sources.helm.render import render
from chartfix.sources.helm.restart import restart_edits
from chartfix.sources.helm.selectors import selector_removals
from chartfix.sources.helm.synthesis import Rendered, render_scenarios
from chartfix.sources.helm.template.edit import apply_edits
from chartfix.sources.helm.template.locate import Templates, locate, peers_of
from chartfix.sources.helm.template.outline import outline
from chartfix.sources.helm.template.roles import role_names


def _render_key(root: Path, settings: RenderSettings, scenarios: Sequence[str]) -> str:
    """The cache key of `scenarios` rendered with `settings` (the values files by their
    bytes); "" when the cache is off."""
    if cache.directory() is None:
        return ""
    values = settings.values_files
    return cache.key(
        "render", root, values, replace(settings, values_files=()),
        [cache.file_digest(v) for v in values], list(scenarios),
    )


class HelmSource:
    """One chart: its scenarios rendered by Helm, its templates outlined and edited."""

    kind = "helm"
    facts = FACTS

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.root = chart.root
        self.name = chart.name
        self.version: str | None = chart.version
        self.app_version = chart.app_version
        self.templates = Templates(chart.root)
        self.rendered: dict[str, Scenario] = {}
        """The scenarios `render_all` rendered, by name (to render one again)."""
        self.first = ""
        """The first scenario of the target (default, or the user's values): the one rendered
        again as the next release."""
        self.release = "release-name"
        self.namespace = "default"
        self.key = ""
        """The cache key of what `render_all` rendered ("": the cache is off)."""
        self.inputs: dict[Path, str] = {}
        """What it depends on besides the key (`Renderings.inputs`)."""
        self.found: dict[RenderSettings, list[Scenario]] = {}
        """Scenarios by the settings they were found for (`_scenarios`)."""

    # --- rendering ------------------------------------------------------------------------

    def scenarios(self, settings: RenderSettings) -> list[str]:
        return [s.name for s in self._scenarios(settings)]

    def _scenarios(self, settings: RenderSettings) -> list[Scenario]:
        """The scenarios for `settings`, found once per source: finding the feature switches
        reads every template, and render_all, analyze and verification each ask."""
        if settings not in self.found:
            self.found[settings] = scenarios_with_features(
                self.root, settings.values_files, settings.set_values, settings.base_values,
                settings.features,
            )
        return list(self.found[settings])

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        """The scenarios rendered, or read from the cache when nothing they depend on
        changed (chartfix.cache): fix's renders before the edit, check's on a miss."""
        self.release, self.namespace = settings.release, settings.namespace
        every = self._scenarios(settings)
        self.first = every[0].name
        requested = [s for s in every if only is None or s.name in only]
        self.key = _render_key(self.root, settings, [s.name for s in requested])
        hit = cache.get("render", self.key, self.root) if self.key else None
        if hit is not None:
            rendered, out = hit
        else:
            rendered = render_scenarios(self.chart, requested, self.release, self.namespace)
            out = self._renderings(rendered)
            if self.key:
                cache.put("render", self.key, (rendered, out), out.inputs())
        self.rendered = {s.name: s for s in rendered.scenarios}
        self.inputs = out.inputs()
        return out

    def _renderings(self, rendered: Rendered) -> Renderings:
        out = Renderings(rendered.renderings, rendered.unrendered)
        out.notes += [
            synthesized_note(r.scenario, r.synthesized) for r in out.renderings if r.synthesized
        ]
        out.notes += [unrendered_note(name, err.reason) for name, err in out.unrendered]
        out.warnings += kustomization_not_built(self.root)
        out.synthesized = {r.scenario: list(r.synthesized) for r in out.renderings if r.synthesized}
        staged = stage(self.chart)
        out.read = dict(staged.read)
        out.absent = list(staged.absent)
        out.folders = {
            folder: cache.folder_token(folder) for folder in staged.watched
            if not folder.resolve().is_relative_to(self.root.resolve())  # in the key already
        }
        out.folders |= staged.searched  # each repository's charts when it was searched
        out.cacheable = True
        return out

    def verification(self, settings: RenderSettings) -> list[Rendering]:
        """Every chosen feature switch on together over the first scenario (with the values
        it had to make up), rendered once to verify a fix against: nothing new may appear
        there. None with fewer than two switches, or when it does not render."""
        first = self._scenarios(settings)[0]
        together = all_features_scenario(self.root, first, settings.features)
        if together is None:
            return []
        made_up = self.rendered[first.name].synthesized if first.name in self.rendered else ()
        together = replace(together, synthesized=made_up)
        try:
            rendering = render(self.chart, together, None, self.release, self.namespace)
        except TargetError:
            return []  # the single switches were verified; their sum is no scenario of its own
        self.rendered[together.name] = together
        return [rendering]

    def render(
        self, scenario: str, files: Mapping[str, bytes] | None = None, release: str | None = None
    ) -> Rendering:
        if scenario not in self.rendered:
            raise TargetError(self.root, f"no scenario {scenario!r} was rendered")
        named = release or self.release
        return render(self.chart, self.rendered[scenario], files, named, self.namespace)

    def read(self, path: str) -> bytes:
        return self.templates.read(path)

    def releases(
        self, rendering: Rendering, files: Mapping[str, bytes] | None = None
    ) -> ReleaseDiff:
        scenario = self.rendered.get(rendering.scenario)
        if scenario is None or rendering.scenario != self.first:
            return ReleaseDiff.by_keys(f"scenario {self.first} does not render")
        if files is not None or not self.key:  # a verification: always rendered
            return release_diff(
                self.chart, scenario, rendering, files, self.release, self.namespace
            )
        hit = cache.get("releases", self.key, self.root)
        if hit is None:
            hit = release_diff(self.chart, scenario, rendering, None, self.release,
                               self.namespace)
            cache.put("releases", self.key, hit, self.inputs)
        diff: ReleaseDiff = hit
        return diff

    # --- locating -------------------------------------------------------------------------

    def locate(self, obj: K8sObject, path: str, rendering: Rendering) -> Location | None:
        """The template line writing `path` of `obj`, else its document's `kind:` line, in
        the template or in the define it includes; else its file alone."""
        try:
            return locate(self.root, obj, path, peers_of(rendering), self.templates)
        except (OSError, ValueError):  # unreadable or escaping template: the file is enough
            return None

    def origin(self, obj: K8sObject, rendering: Rendering) -> Origin:
        """The template document: one workload however its name renders, and whichever of
        its document's kinds (`Deployment` or `DaemonSet`) a scenario gives it."""
        place = self.templates.place_for(obj, peers_of(rendering))
        if place is None:
            return Origin(obj.document.path, (obj.kind,), -1 - obj.document.doc_index)
        kinds = tuple(place.doc.kinds) if obj.kind in place.doc.kinds else (obj.kind,)
        if not place.doc.kinds and place.doc.name_template is not None:
            kinds = ()  # `kind: {{ .Values.kind }}`: whatever a scenario renders
        return Origin(place.path, kinds, place.doc.index)

    def role_names(self, obj: K8sObject, rendering: Rendering) -> tuple[str, ...]:
        place = self.templates.place_for(obj, peers_of(rendering))
        if place is None:
            return ()
        return role_names(self.templates, place, obj)

    def written_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        doc = self.templates.document_for(obj, peers_of(rendering))
        if doc is None or not doc.renders_many or not doc.name_value:
            return None
        siblings = [
            o for o in rendering.objects
            if o.kind == obj.kind  # a define's objects may come from several files
            and self.templates.document_for(o, peers_of(rendering)) is doc
        ]
        return doc.name_value if len(siblings) > 1 else None

    # --- editing --------------------------------------------------------------------------

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        return label_edits(
            self.templates, obj, rendering, changes, self.written_name, self.rendered
        )

    def restart_edits(
        self, obj: K8sObject, rendering: Rendering, key: str
    ) -> list[PlannedEdit]:
        return restart_edits(self.templates, obj, rendering, key)

    def writes_literally(self, obj: K8sObject, rendering: Rendering, path: str, key: str) -> bool:
        return writes_literally(self.templates, obj, rendering, path, key)

    def selector_removals(
        self, removals: Sequence[Removal]
    ) -> tuple[list[FixUnit], list[Unfixed]]:
        """Literal selector lines deleted; a helper feeding selectors and metadata labels
        split, or a library's switched for its selector-only sibling (selectors.py)."""
        return selector_removals(self.templates, removals)

    def apply(self, path: str, edits: Iterable[Edit]) -> bytes:
        return encode(apply_edits(decode(self.read(path)), edits))

    def problem(self, files: Mapping[str, bytes]) -> str:
        """A label written twice in one mapping: Helm renders it, the API server may not,
        and which one wins is up to the YAML parser. No fix may leave one behind."""
        for path, data in files.items():
            for doc in outline(decode(data)).documents:
                for site in doc.sites.values():
                    keys = [e.key for e in site.entries if e.key is not None and not e.conditional]
                    if site.flow is not None:
                        keys += [i.key for i in site.flow.items if i.key is not None]
                    twice = sorted({k for k in keys if keys.count(k) > 1})
                    if twice:
                        named = ", ".join(twice)
                        return f"{path}:{site.line}: {named} written twice in {site.path}"
        return ""

    def unwritable(self, path: str) -> str | None:
        link = linked(self.root, path)
        if link is None:
            return None
        return (
            f"{path} is reached through the symlink {link.relative_to(self.root)} (to "
            f"{link.resolve()}); chartfix does not write through links: edit the file it "
            "points to, or replace the link by a copy"
        )
