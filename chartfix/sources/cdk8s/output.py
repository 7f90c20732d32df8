"""A cdk8s app that is not run, checked from its committed synthesized output.

GitOps repositories commit what `cdk8s synth` writes (`dist/*.k8s.yaml`, the `output:` of
cdk8s.yaml) and apply that. When the user does not let the app's code run, chartfix reads
that output as it reads a folder of plain manifests (`yamlfiles.ManifestFiles`; one
pipeline: the same rules, findings that point at the output files). It is check-only: the
next synth overwrites it, so the fix belongs in the Python, which chartfix edits only by
running the app (--run-apps);
`label_edits` answers that reason, and `fix` counts the findings as left with it. When git's
commit times show the output older than the app's sources, a note says so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from chartfix.errors import Skipped
from chartfix.model.changes import Refused
from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.kinds import KindFacts
from chartfix.model.objects import K8sObject, Rendering
from chartfix.sources.base import SUFFIXES, Renderings, RenderSettings, values_ignored
from chartfix.sources.cdk8s.app import DEFAULT_OUTPUT, FACTS, output_folder, read_config
from chartfix.sources.cdk8s.environment import DECLARATIONS
from chartfix.sources.yamlfiles import ManifestFiles, manifest_kind, refusal

RUN_TO_FIX = "the Python source is fixed by running the app (--run-apps)"
SCENARIO = "committed-output"


@dataclass
class CommittedOutput(ManifestFiles):
    """The manifests an app's output folder holds, read as plain manifests (check-only)."""

    scenario: ClassVar[str] = SCENARIO
    kind: str = "cdk8s"
    facts: KindFacts = FACTS
    version: str | None = None
    app_version: str | None = None
    output: str = DEFAULT_OUTPUT
    stale: str | None = None
    """Why the output may not be what the sources synthesize now (git's commit times)."""

    def scenarios(self, settings: RenderSettings) -> list[str]:
        return [SCENARIO]

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        self.namespace, self.release = settings.namespace, settings.release
        rendering = self.render(SCENARIO)
        rendering.warnings[:0] = [
            f"the app was not run: checked its committed synthesized output {self.output}/ "
            f"(findings point there); {RUN_TO_FIX}",
            *([self.stale] if self.stale else []),
        ]
        rendering.warnings += values_ignored(settings, "a cdk8s app")
        return Renderings([rendering], stand_in=f"{self.output}/")

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        raise Refused(
            f"{obj.ref} is read from {obj.document.path}, what `cdk8s synth` wrote (the next "
            f"synth overwrites an edit there): {RUN_TO_FIX}"
        )


def committed_output(root: Path, reason: str) -> CommittedOutput:
    """The app at `root`, not run (`reason`), as its committed output; Skipped(reason) when
    its output folder holds no manifest."""
    root = Path(root)
    output = output_folder(root, read_config(root))
    folder = root / output
    files = sorted(
        p for p in folder.glob("*") if p.name.endswith(SUFFIXES) and p.is_file()
    ) if folder.is_dir() and not folder.is_symlink() else []
    manifests = []
    for path in files:
        kind = manifest_kind(path)
        if kind == "broken":
            raise refusal(path)
        if kind is not None and not path.is_symlink():
            manifests.append(f"{output}/{path.name}")
    if not manifests:
        raise Skipped(f"{reason}; it commits no synthesized output ({output}/) to check instead")
    return CommittedOutput(
        root=root, name=root.resolve().name, files=tuple(manifests), output=output,
        stale=staleness(root, output), facts=replace(FACTS, output=output),
    )


def staleness(root: Path, output: str) -> str | None:
    """A note when git's last commit of the app's sources (Python, cdk8s.yaml, declared
    dependencies) is later than its last commit of `output`; None when not (or no git)."""
    made = _last_commit(root, [output])
    sources = ["*.py", "cdk8s.yaml", *DECLARATIONS, "Pipfile.lock", f":(exclude){output}"]
    changed = _last_commit(root, sources)
    if made is None or changed is None or changed[0] <= made[0]:
        return None
    return (
        f"the committed output {output}/ is older than the app's sources ({output}/ last "
        f"committed in {made[1]} on {made[2]}, the sources in {changed[1]} on {changed[2]}): "
        "it may not be what the app synthesizes now"
    )


def _last_commit(root: Path, pathspecs: Sequence[str]) -> tuple[int, str, str] | None:
    """(commit time, short hash, date) of the last commit touching `pathspecs` under `root`."""
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%ct %h %cs", "--", *pathspecs],
            cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 3:
        return None
    return int(words[0]), words[1], words[2]

