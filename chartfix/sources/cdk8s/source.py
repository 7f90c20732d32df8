"""A cdk8s app as a source: synthesized by its own Python, edited with libcst.

Each synthesized object remembers the construct call that built it (`Construction`); a label map
of it is followed from there through the app's Python (`locate_labels`), and a label added
there is a libcst edit of that expression (`apply_label_edits`), expressed as the one splice
of the file's text it makes (`minimal_edit`), so that the verifier, the diff and the writer
treat it like any template edit.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import libcst as cst

from chartfix.errors import TargetError
from chartfix.model.changes import Refused
from chartfix.model.edits import Edit, LabelChange, PlannedEdit
from chartfix.model.findings import Location
from chartfix.model.objects import (
    K8sObject,
    ObjectRef,
    Origin,
    Rendering,
    mapping_at,
    string_map,
)
from chartfix.model.releases import ReleaseDiff
from chartfix.sources.base import (
    Renderings,
    RenderSettings,
    container_names,
    minimal_edit,
    splice,
)
from chartfix.sources.cdk8s.app import FACTS, CdkApp, load_app
from chartfix.sources.cdk8s.edit import LabelEdit, apply_label_edits
from chartfix.sources.cdk8s.environment import app_python
from chartfix.sources.cdk8s.locate import AppFiles, LabelSite, NotLocated, locate_labels
from chartfix.sources.cdk8s.synth import SCENARIO, Construction, synthesize


class CdkSource:
    """One cdk8s app: one scenario (`synth`), its Python files edited in place."""

    kind = "cdk8s"

    def __init__(self, app: CdkApp) -> None:
        self.app = app
        self.facts = replace(FACTS, output=app.output)
        self.root = app.root
        self.name = app.name
        self.version: str | None = None  # an app has no version of its own to bump
        self.app_version = app.app_version
        self.files = AppFiles(app.root)
        self.origins: dict[ObjectRef, Construction] = {}
        self.python: Path | None = None
        """The Python of the app's own environment (render_all finds it, render reuses it)."""
        self._synthesized: dict[tuple[tuple[str, bytes], ...], Rendering] = {}
        """Each synthesis, by the files it replaced: a render asked for with a release name
        (the verifier's longest one) is the same app's output, not a synthesis more."""

    @classmethod
    def at(cls, root: Path) -> CdkSource:
        return cls(load_app(root))

    # --- rendering ------------------------------------------------------------------------

    def scenarios(self, settings: RenderSettings) -> list[str]:
        return [SCENARIO]

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        try:
            environment = app_python(self.root, settings.source_builds)
            self.python = environment.python
            synthesis = synthesize(self.app, python=self.python)
        except TargetError as err:
            raise self._with_output(err) from err
        self.origins = synthesis.origins
        self._synthesized[()] = copy.deepcopy(synthesis.rendering)
        notes = [environment.note] if environment.note else []
        return Renderings(
            [synthesis.rendering], notes=[*notes, f"synthesis: {synthesis.seconds:.2f}s"]
        )

    def _with_output(self, err: TargetError) -> TargetError:
        """`err`, with a note when the app commits output that can be checked instead."""
        output = self.root / self.app.output
        if not any(output.glob("*.y*ml")):
            return err
        note = f"without --run-apps, chartfix checks the app's committed output {self.app.output}/"
        return TargetError(err.path, err.reason, (*err.notes, note))

    def verification(self, settings: RenderSettings) -> list[Rendering]:
        return []  # no feature switches

    def render(
        self, scenario: str, files: Mapping[str, bytes] | None = None, release: str | None = None
    ) -> Rendering:
        """Synthesize again (verification), in the environment `render_all` ran the app in.
        An app takes no release: with one, the synthesis of the same files made already is
        the answer (a render without one synthesizes anew: the verifier's control render)."""
        if scenario != SCENARIO:
            raise TargetError(self.root, f"a cdk8s app has one scenario, not {scenario!r}")
        key = tuple(sorted((files or {}).items()))
        if release is not None and key in self._synthesized:
            return copy.deepcopy(self._synthesized[key])
        rendering = synthesize(self.app, files, self.python).rendering
        self._synthesized[key] = copy.deepcopy(rendering)
        return rendering

    def read(self, path: str) -> bytes:
        return self.files.file(path).data

    def restart_edits(
        self, obj: K8sObject, rendering: Rendering, key: str
    ) -> list[PlannedEdit]:
        raise Refused(
            f"{obj.ref}: a cdk8s app has no release that changes its labels; restart its pods "
            "by hand after changing them"
        )

    def releases(
        self, rendering: Rendering, files: Mapping[str, bytes] | None = None
    ) -> ReleaseDiff:
        return ReleaseDiff.by_keys("a cdk8s app has no release version to bump")

    # --- locating -------------------------------------------------------------------------

    def locate(self, obj: K8sObject, path: str, rendering: Rendering) -> Location | None:
        origin = self.origins.get(obj.ref)
        if origin is None or origin.frame is None:
            return None
        try:
            site = locate_labels(self.files, origin, path)
            return Location(site.path, site.line)
        except (NotLocated, TargetError):
            return Location(origin.frame.path, origin.frame.line)

    def origin(self, obj: K8sObject, rendering: Rendering) -> Origin:
        """The construct (its path in the app's tree) that built `obj`."""
        origin = self.origins.get(obj.ref)
        if origin is None:
            return Origin(obj.document.path, (obj.kind,), -1 - obj.document.doc_index)
        return Origin(origin.construct_path, (obj.kind,), 0)

    def role_names(self, obj: K8sObject, rendering: Rendering) -> tuple[str, ...]:
        """The construct id (`server` of `shop-server-c8e5b3a1`), then the containers'
        names, but those equal to the id of the cdk8s Chart holding it (the app's own
        name, as a chart's name is a Helm chart's)."""
        origin = self.origins.get(obj.ref)
        if origin is None:
            return container_names(obj)
        chart_id = origin.construct_path.split("/")[0]
        own = [origin.construct_id] if origin.construct_id != chart_id else []
        return (*own, *container_names(obj, chart_id))

    def written_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        return None  # each construct call builds one object

    # --- editing --------------------------------------------------------------------------

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        origin = self.origins.get(obj.ref)
        if origin is None:
            raise Refused(f"{obj.ref}: not traced to a line of the app's Python")
        sites: dict[cst.BaseExpression, LabelSite] = {}
        wanted: dict[cst.BaseExpression, list[LabelEdit]] = defaultdict(list)
        for change in changes:
            if change.removed or change.value is None:
                raise Refused(f"{obj.ref}: removing a label from Python sources is not supported")
            current = string_map(mapping_at(obj.body, change.path)).get(change.key)
            if current is not None and current != change.value:
                raise Refused(
                    f"{obj.ref}: changing the value of {change.key} ({current}) in Python "
                    "sources is not supported; give it a value of its own by hand"
                )
            try:
                site = locate_labels(self.files, origin, change.path)
            except NotLocated as err:
                raise Refused(str(err)) from err
            site = sites.setdefault(site.node, site)
            wanted[site.node].append(LabelEdit(site, change.key, change.value))
        edits: list[PlannedEdit] = []
        for node, site in sites.items():
            file = self.files.file(site.path)
            old = file.data.decode("utf-8")
            new = apply_label_edits(file, wanted[node]).decode("utf-8")
            edit = minimal_edit(old, new)
            if edit is not None:
                edits.append(PlannedEdit(site.path, edit, f"labels of {obj.ref}"))
        return edits

    def writes_literally(self, obj: K8sObject, rendering: Rendering, path: str, key: str) -> bool:
        """An app takes no values: what it synthesizes is what it always writes."""
        return key in string_map(mapping_at(obj.body, path))

    def apply(self, path: str, edits: Iterable[Edit]) -> bytes:
        return splice(self.read(path).decode("utf-8"), edits).encode("utf-8")

    def problem(self, files: Mapping[str, bytes]) -> str:
        return ""  # a dict key written twice is one key in Python: synthesis shows it

    def unwritable(self, path: str) -> str | None:
        full = self.root / path
        if any(p.is_symlink() for p in (full, *full.parents) if p.is_relative_to(self.root)):
            return f"{path} is reached through a symlink; chartfix does not write through links"
        return None
