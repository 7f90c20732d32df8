"""A kustomize base and its overlays as a source kind: built by the real engine, edited where
each label is written.

Building: `kubectl kustomize SCENARIO` (kustomize's own engine, as Argo CD and Flux run it),
on a copy of the group in a temporary folder whose kustomizations also ask for
`buildMetadata: [originAnnotations]`. kustomize then says, on every object it builds, which
file the object came from (`config.kubernetes.io/origin`); chartfix reads that, removes the
annotation again, and finds the document in that file by kind and name. Edited files (for
verification) are written into the copy, never into the repository.

Editing: a label is written where kustomize takes it from:
- the resource file (in the base, or in an overlay's own resources): added, changed or
  removed there, as in plain manifests;
- a strategic-merge patch of an overlay that writes the key for that object: removed there
  too (it would put the key back);
- `commonLabels:` (which also writes every selector and pod template) or `labels:` (which
  writes selectors only with `includeSelectors: true`) of a kustomization: that changes every
  object of the kustomization, so a fix for one object is refused there, with the reason;
- a JSON 6902 patch op: refused with the reason (remove the op by hand);
- a generated object (configMapGenerator...) or a remote base is never edited.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chartfix.environment import PROXIES, child_environment
from chartfix.errors import TargetError
from chartfix.files import decode
from chartfix.model.changes import Refused
from chartfix.model.edits import LabelChange, PlannedEdit
from chartfix.model.findings import Location
from chartfix.model.kinds import KindFacts
from chartfix.model.objects import FileDocument, K8sObject, Origin, Rendering
from chartfix.sources.base import (
    Renderings,
    RenderSettings,
    container_names,
    unrendered_note,
    values_ignored,
)
from chartfix.sources.kustomize.kustomization import (
    FACTS,
    Group,
    Kustomization,
    boundary_of,
    kustomization_file,
    read,
)
from chartfix.sources.yamledit import YamlText
from chartfix.sources.yamlfiles import YamlFiles, is_manifest, objects_of, own_part
from chartfix.yamlfile import load_all

ORIGIN = "config.kubernetes.io/origin"
KUBECTL = "kubectl"
TIMEOUT = 120
SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__"})


@dataclass
class KustomizeSource(YamlFiles):
    """One group: a base and the overlays built on it (or one lone kustomization)."""

    group: Group = field(default_factory=lambda: Group(Path(".")))
    kind: str = "kustomize"
    facts: KindFacts = FACTS
    name: str = ""
    version: str | None = None
    app_version: str | None = None
    namespace: str = "default"
    release: str = "release-name"
    allow_remote: bool = False
    """--allow-remote: its kustomizations may fetch remote resources (else refused)."""

    def scenarios(self, settings: RenderSettings) -> list[str]:
        return [self.group.scenario_name(top) for top in self.group.tops]

    def render_all(
        self, settings: RenderSettings, only: Sequence[str] | None = None
    ) -> Renderings:
        self.namespace, self.release = settings.namespace, settings.release
        self.allow_remote = settings.allow_remote
        result = Renderings()
        for scenario in self.scenarios(settings):
            if only is not None and scenario not in only:
                continue
            try:
                result.renderings.append(self.render(scenario))
            except TargetError as err:  # one overlay that cannot build: the others go on
                result.unrendered.append((scenario, err))
        if not result.renderings and result.unrendered:
            raise result.unrendered[0][1]
        result.notes += [unrendered_note(name, err.reason) for name, err in result.unrendered]
        for rendering in result.renderings:
            rendering.warnings += values_ignored(settings, "a kustomization")
        return result

    def verification(self, settings: RenderSettings) -> list[Rendering]:
        return []  # no feature switches

    def render(
        self, scenario: str, files: Mapping[str, bytes] | None = None, release: str | None = None
    ) -> Rendering:
        top = self.root if scenario == "default" else self.root / scenario
        for kustomization in self._chain(scenario):
            for key, ref in kustomization.missing():
                rel = kustomization.file.relative_to(self.root).as_posix()
                raise TargetError(top, f"{rel} `{key}` names {ref}, which does not exist")
        with tempfile.TemporaryDirectory(prefix="chartfix-kustomize-") as tmp:
            copy = Path(tmp).resolve() / "t"
            above = self._copy(copy, files or {})
            inner = copy / self.root.relative_to(above)
            built = build(
                inner / top.relative_to(self.root), top, (copy, above),
                Path(tmp) / "home", self.allow_remote,
            )
            objects = [self._traced(body, top) for body in built]
        return Rendering(scenario, objects, release=self.release, namespace=self.namespace)

    def _copy(self, copy: Path, files: Mapping[str, bytes]) -> Path:
        """The group's folders and every local path their kustomizations name (following
        the kustomization folders they name), below `copy` as below the folder holding them
        all, which is returned; `files` in place of those on disk and origin annotations
        asked for. Paths outside the group's folder are copied when they are inside the
        repository; nothing outside it is, even through a symbolic link."""
        boundary = boundary_of(self.root)
        wanted = self._named(boundary)
        above = Path(os.path.commonpath([str(p) for p in (self.root, *wanted)]))
        ignore = _ignored(boundary)
        for path in sorted(wanted):
            target = copy / path.relative_to(above)
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True, symlinks=False, ignore=ignore)
            elif path.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        inner = copy / self.root.relative_to(above)
        for rel, data in files.items():
            target = inner / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for member in self.group.members:
            file = kustomization_file(inner / member.relative_to(self.root))
            if file is not None:
                _ask_for_origins(file)
        return above

    def _named(self, boundary: Path) -> set[Path]:
        """The group's folders and the existing paths their kustomizations name, and those
        the kustomizations in named folders name, and so on; TargetError for a path (or
        the target of a link) outside `boundary`, or for a kustomization it cannot read
        (never handed to kubectl unchecked)."""
        wanted: set[Path] = set(self.group.members)
        pending, seen = list(self.group.members), set()
        while pending:
            directory = pending.pop()
            if directory in seen:
                continue
            seen.add(directory)
            kustomization = read(directory)
            self._refuse_remote(kustomization)
            for written, path in kustomization.local_paths():
                if not path.exists():
                    continue
                if not path.is_relative_to(boundary):
                    rel = kustomization.file.relative_to(self.root).as_posix()
                    raise TargetError(
                        self.root, f"{rel} names {written}, which is outside {boundary} "
                        "(the repository): chartfix copies nothing from outside it"
                    )
                wanted.add(path)
                if path.is_dir() and kustomization_file(path):
                    pending.append(path)
        return wanted

    def _refuse_remote(self, kustomization: Kustomization) -> None:
        """TargetError naming the file and the URL of its first remote resource, unless the
        user allowed them (--allow-remote): a repository's files reach no network."""
        remote = kustomization.remote_refs()
        if remote and not self.allow_remote:
            key, url = remote[0]
            raise TargetError(
                kustomization.file, f"`{key}` names {url}, a remote resource: chartfix "
                "fetches nothing a repository's files name (--allow-remote lets a "
                "trusted tree's kustomizations fetch theirs)"
            )

    def _traced(self, body: dict[str, Any], top: Path) -> K8sObject:
        """An object built by kustomize, with its origin read and the annotation removed."""
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        origin: Any = None
        if isinstance(annotations, dict) and ORIGIN in annotations:
            origin = yaml.safe_load(str(annotations.pop(ORIGIN)))
            if not annotations and isinstance(metadata, dict):
                del metadata["annotations"]
        source = FileDocument("", -1)
        if isinstance(origin, dict) and isinstance(origin.get("path"), str) and not origin.get(
            "repo"
        ) and not origin.get("configuredBy"):
            path = Path(os.path.normpath(top / origin["path"]))
            if path.is_relative_to(self.root):
                source = self._document(path.relative_to(self.root).as_posix(), body)
        elif isinstance(origin, dict) and origin.get("configuredIn"):
            source = FileDocument(str(origin["configuredIn"]), -1)  # generated: never edited
        return K8sObject(body, source, chart=self.name)

    def _document(self, rel: str, body: Mapping[str, Any]) -> FileDocument:
        """The document of resource file `rel` that kustomize built `body` from: the one of
        its kind whose written name the built name contains (prefixes, suffixes)."""
        try:
            written = objects_of(self.read(rel), rel)
        except TargetError:
            return FileDocument(rel, -1)
        kind = body.get("kind")
        name = str((body.get("metadata") or {}).get("name") or "")
        candidates = [o for o in written if o.kind == kind and o.name and o.name in name]
        if not candidates:
            return FileDocument(rel, -1)
        best = max(candidates, key=lambda o: len(o.name))
        return best.document

    # --- what the recipes and the verifier ask --------------------------------------------

    def locate(self, obj: K8sObject, path: str, rendering: Rendering) -> Location | None:
        if obj.document.doc_index < 0:
            return Location(obj.document.path) if obj.document.path else None
        try:
            text = YamlText(decode(self.read(obj.document.path)), obj.document.path)
            node = text.node_at(obj.document.doc_index, path)
        except Exception:
            node = None
        if node is not None:
            return Location(obj.document.path, node.start_mark.line + 1)
        writer = self._label_writer(rendering.scenario, path)
        return writer or Location(obj.document.path, obj.document.line)

    def origin(self, obj: K8sObject, rendering: Rendering) -> Origin:
        """(resource file, kind, document): the same in every overlay, whatever name or
        namespace the overlay gives the object; a generated object is its own."""
        if obj.document.doc_index < 0:
            return Origin(f"{rendering.scenario}:{obj.document.path}:{obj.name}", (obj.kind,), -1)
        return Origin(obj.document.path, (obj.kind,), obj.document.doc_index)

    def role_names(self, obj: K8sObject, rendering: Rendering) -> tuple[str, ...]:
        """The name written in the resource (`api` of `staging-api`, after `namePrefix`),
        then the containers' names."""
        written = self._written_name(obj)
        own = own_part(obj, written) if written else None
        return (*([own] if own else []), *container_names(obj, written or "", own or ""))

    def written_name(self, obj: K8sObject, rendering: Rendering) -> str | None:
        return None

    def label_edits(
        self, obj: K8sObject, rendering: Rendering, changes: Sequence[LabelChange]
    ) -> list[PlannedEdit]:
        if obj.document.doc_index < 0:
            where = obj.document.path or "a remote base"
            raise Refused(
                f"{obj.ref} is generated or remote ({where}); chartfix edits no generated file"
            )
        rel = obj.document.path
        planned: list[PlannedEdit] = []
        resource = YamlText(decode(self.read(rel)), rel)
        for change in changes:
            if not change.removed:
                continue
            site = resource.site(obj.document.doc_index, change.path)
            if site is None or site.entry(change.key) is None:
                writer = self._label_writer(rendering.scenario, change.path, change.key)
                where = f" ({writer})" if writer else ""
                raise Refused(
                    f"{change.key} at {change.path} of {obj.ref} is not written in {rel} but "
                    f"by the kustomization{where}, which labels every object: change it there "
                    "by hand"
                )
        planned += self.yaml_edits(obj, rel, changes, f"labels of {obj.ref}")
        for patch_rel, doc in self._patches_for(obj):
            removed = [c for c in changes if c.removed]
            text = YamlText(decode(self.read(patch_rel)), patch_rel)
            for change in removed:
                site = text.site(doc, change.path)
                if site is not None and site.entry(change.key) is not None:
                    planned += self.yaml_edits(
                        K8sObject(obj.body, FileDocument(patch_rel, doc)), patch_rel, [change],
                        f"the patch of {obj.ref}",
                    )
        return planned

    # --- where kustomize writes labels --------------------------------------------------------

    def _chain(self, scenario: str) -> list[Kustomization]:
        """The kustomizations a scenario builds through, top first."""
        top = self.root if scenario == "default" else self.root / scenario
        seen: list[Kustomization] = []
        pending = [top.resolve()]
        while pending:
            directory = pending.pop(0)
            if any(k.dir == directory for k in seen):
                continue
            try:
                kustomization = read(directory)
            except TargetError:
                continue
            seen.append(kustomization)
            pending += kustomization.bases()
        return seen

    def _label_writer(self, scenario: str, path: str, key: str | None = None) -> Location | None:
        """The kustomization of `scenario`'s chain whose `commonLabels` (or `labels:` with
        selectors or templates) write into label maps at `path`."""
        selector = "selector" in path.lower()
        template = "template" in path
        for kustomization in self._chain(scenario):
            rel = kustomization.file.relative_to(self.root).as_posix()
            common = kustomization.data.get("commonLabels")
            if isinstance(common, dict) and (key is None or key in common):
                return Location(rel, _line_of(kustomization.file, "commonLabels"))
            for entry in kustomization.data.get("labels") or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("pairs"), dict):
                    continue
                if key is not None and key not in entry["pairs"]:
                    continue
                if (selector and entry.get("includeSelectors")) or (
                    template and (entry.get("includeTemplates") or entry.get("includeSelectors"))
                ) or not (selector or template):
                    return Location(rel, _line_of(kustomization.file, "labels"))
        return None

    def _patches_for(self, obj: K8sObject) -> list[tuple[str, int]]:
        """(file, document) of the strategic-merge patches, in any kustomization of the
        group, whose target is the object `obj` was built from (same kind, written name)."""
        written = self._written_name(obj)
        found = []
        for member in self.group.members:
            try:
                kustomization = read(member)
            except TargetError:
                continue
            paths = [p for p in kustomization.data.get("patchesStrategicMerge") or []
                     if isinstance(p, str) and "\n" not in p]
            paths += [p["path"] for p in kustomization.data.get("patches") or []
                      if isinstance(p, dict) and isinstance(p.get("path"), str)]
            for ref in paths:
                file = (member / ref).resolve()
                if not file.is_file() or not file.is_relative_to(self.root):
                    continue
                rel = file.relative_to(self.root).as_posix()
                try:
                    docs = objects_of(self.read(rel), rel)
                except TargetError:
                    continue
                found += [
                    (rel, d.document.doc_index) for d in docs
                    if d.kind == obj.kind and d.name == written
                ]
        return found

    def _written_name(self, obj: K8sObject) -> str | None:
        if obj.document.doc_index < 0:
            return None
        try:
            written = objects_of(self.read(obj.document.path), obj.document.path)
        except TargetError:
            return None
        for other in written:
            if other.document.doc_index == obj.document.doc_index and other.kind == obj.kind:
                return other.name
        return None


def build(
    directory: Path,
    shown: Path,
    moved: tuple[Path, Path] | None,
    home: Path,
    allow_remote: bool = False,
) -> list[dict[str, Any]]:
    """`kubectl kustomize DIRECTORY`'s objects; TargetError naming `shown` (the folder on
    disk) when kubectl is missing or the build fails. `moved`: (copy, original) folders, so
    that kubectl's messages name the original.

    kubectl (and the git it starts for a remote base) runs with an environment built from
    an allowlist and HOME the empty folder `home`: no token, agent socket, cloud key or
    kubeconfig of the job reaches it; with `allow_remote`, the proxy settings too."""
    kubectl = shutil.which(KUBECTL)
    if kubectl is None:
        raise TargetError(
            shown, "kubectl not found on PATH: kustomize targets are built with "
            "`kubectl kustomize` (install kubectl, e.g. Debian's `kubectl` package)"
        )
    try:
        done = subprocess.run(
            [kubectl, "kustomize", str(directory)],
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
            stdin=subprocess.DEVNULL, env=_kubectl_environment(home, allow_remote),
        )
    except subprocess.TimeoutExpired as err:
        raise TargetError(shown, f"kubectl kustomize took longer than {TIMEOUT}s") from err
    if done.returncode != 0:
        raise TargetError(shown, f"kubectl kustomize: {_kubectl_error(done.stderr, moved)}")
    docs = list(load_all(done.stdout, shown, max_bytes=None))
    return [d for d in docs if is_manifest(d)]


def _kubectl_environment(home: Path, allow_remote: bool) -> dict[str, str]:
    """What `kubectl kustomize` and its git see: the allowlist (chartfix.trust), and git
    told never to prompt nor read a system configuration."""
    env = child_environment(os.environ, home, also=PROXIES if allow_remote else ())
    return {**env, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


def _kubectl_error(stderr: str, moved: tuple[Path, Path] | None) -> str:
    """kubectl's reason, without its log prefix and without the temporary copy's path.

    kubectl logs the reason as `E1202 ... run.go:72] "command failed" err="REASON"`, or, when
    the reason spans lines (git's output for a remote base), as `err=<` followed by the
    reason's lines, tab-indented, and a closing ` >`; older releases print `error: REASON`
    (kustomize itself `Error: REASON`). The reason is what counts, on one line (TargetError
    joins its lines)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    text = lines[-1] if lines else "failed"
    for index, line in enumerate(lines):
        if re.search(r"\berr=<\s*$", line):
            block = [ln.strip() for ln in lines[index + 1 :]]
            end = block.index(">") if ">" in block else len(block)
            text = " ".join(block[:end])
            break
        match = re.search(r'\berr="(.*)"\s*$', line)
        if match:
            text = match.group(1).replace('\\"', '"')
            break
        if re.match(r"(?i)error: ", line):
            text = " ".join(ln.strip() for ln in lines[index:])
            break
    text = re.sub(r"(?i)^error: ", "", text) or "failed"
    return text if moved is None else _unmoved(text, *moved)


def _ignored(boundary: Path) -> Callable[[str, list[str]], set[str]]:
    """What a copied folder leaves out: SKIPPED_DIRS and links to outside `boundary`."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIPPED_DIRS}
        for name in names:
            path = Path(directory) / name
            if path.is_symlink() and not path.resolve().is_relative_to(boundary):
                skipped.add(name)
        return skipped

    return ignore


def _unmoved(text: str, copy: Path, original: Path) -> str:
    """`text` with each path of the temporary `copy` given as its `original` when the copy
    holds it (the same file, or its edit) or neither does (kubectl would say the same of
    the original), and as the copy's otherwise: the original there is a file kubectl never
    saw, and a message saying it is missing would be false."""

    def named(match: re.Match[str]) -> str:
        rest = match.group(1)
        if os.path.lexists(str(copy) + rest) or not os.path.lexists(str(original) + rest):
            return str(original) + rest
        return f"(chartfix's temporary copy of {original}){rest}"

    return re.sub(re.escape(str(copy)) + r"((?:/[^\s'\":]*)?)", named, text)


def _ask_for_origins(file: Path) -> None:
    """Add `originAnnotations` to the (copied) kustomization's `buildMetadata`."""
    docs = list(load_all(file.read_bytes(), file))
    data = docs[0] if docs and isinstance(docs[0], dict) else {}
    meta = data.get("buildMetadata")
    meta = [m for m in meta if isinstance(m, str)] if isinstance(meta, list) else []
    if "originAnnotations" not in meta:
        data["buildMetadata"] = [*meta, "originAnnotations"]
    file.write_text(yaml.safe_dump(data, sort_keys=False))


def _line_of(file: Path, key: str) -> int | None:
    try:
        for number, line in enumerate(file.read_text(errors="replace").splitlines(), 1):
            if line.startswith(f"{key}:"):
                return number
    except OSError:
        return None
    return None
