"""A directory of plain Kubernetes manifests as a source kind: read as written, edited in place.

Rendering is parsing: each `.yaml`/`.yml` file of the directory that holds Kubernetes objects
(see sources/yamlfiles.py) is read as it is, every object remembering its file, document and
line. There is one scenario, `manifests`. Edits are splices computed from ruamel.yaml's positions
(sources/yamledit.py): a label lands in the very map the finding is about, nothing else moves.


Which directories are targets, and what the kind is called: chartfix/sources/manifests/folders.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.kinds import KindFacts
from chartfix.model.objects import K8sObject, Rendering
from chartfix.sources.base import Renderings, RenderSettings, values_ignored
from chartfix.sources.manifests.folders import FACTS
from chartfix.sources.yamlfiles import (
    ManifestFiles,
)

SCENARIO = ManifestFiles.scenario


@dataclass
class ManifestsSource(ManifestFiles):
    """One directory of plain manifests."""

    kind: str = "manifests"
    facts: KindFacts = FACTS
    version: str | None = None
    app_version: str | None = None

    def scenarios(self, settings: RenderSettings) -> list[str]:
        return [self.scenario]

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        self.namespace, self.release = settings.namespace, settings.release
        rendering = self.render(self.scenario)
        rendering.warnings += values_ignored(settings, "a folder of plain manifests")
        return Renderings([rendering])

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        return self.yaml_edits(obj, obj.document.path, changes, f"labels of {obj.ref}")
