"""Helm's engine -> rendered objects, with dependencies found offline and files overridden.

How a chart reaches Helm: we assemble its files in memory (the chart's own files as Helm's
directory loader would pick them, plus dependencies staged under `charts/`), apply any
overrides, and hand Helm one in-memory archive. That one path serves every case:
- verifying a fix renders the chart as if its files had the new content, without touching
  the chart and without temp directories;
- a dependency that lives beside the chart (monorepo sibling, `file://`) renders as if
  `helm dependency build` had vendored it;
- Helm never follows a symlink, and says nothing on stderr about staging links.
A loaded chart is not reused between renders: Helm drops disabled subcharts from the loaded
chart while rendering, so a reused handle would render the next scenario without them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Protocol

import yaml

from chartfix import yamlfile
from chartfix.errors import ChartError, display_path
from chartfix.model.objects import ANALYZED_KINDS, K8sObject, LazyBody, Rendering, Source
from chartfix.sources.helm.chart import (
    Chart,
    Dependency,
    Scenario,
    chart_files,
    declared_dependencies,
    find_charts,
    parse_values_file,
    read_chart_meta,
    read_default_values,
    repository_root,
    tree_signature,
)
from chartfix.sources.helm.constraint import BadConstraint, satisfies
from chartfix.sources.helm.template.locate import ChartSources
from chartfix.sources.helm.template.names import stable_names


def _no_duplicate_label_key(document: yaml.Node) -> None:
    _duplicate_label_key(document, "")


class _DuplicateKey(Exception):
    """A label map or selector renders a key twice. Not `invalid YAML`: no missing value
    causes it, so value synthesis must not try to render past it."""


_LABEL_MAPS = frozenset({"labels", "matchLabels", "selector"})
"""Mappings where a key written twice changes what a selector or pod label means."""


def _duplicate_label_key(node: yaml.Node, parent: str) -> None:
    """Refuse a label map or selector that renders a key twice: PyYAML would keep the last
    one silently, hiding from the rules the entry the API server may read."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_label_key(item, parent)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
        if parent in _LABEL_MAPS and key in seen:
            line = key_node.start_mark.line + 1
            raise _DuplicateKey(f"renders the key {key!r} twice in {parent} (rendered line {line})")
        seen[key] = key_node
        _duplicate_label_key(value_node, key)


# --- engines ---------------------------------------------------------------------------------


class EngineError(Exception):
    """Helm refused to render; the message is Helm's own."""


class Engine(Protocol):
    """Something that renders a chart archive the way `helm template` does.

    Returns {"<chart>/templates/x.yaml": text, "<chart>/charts/<sub>/templates/...": ...}.
    """

    def render(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        log: list[str] | None = None,
    ) -> dict[str, str]:
        """`log` receives the lines Helm logged while rendering (its warnings)."""
        ...


class SdkEngine:
    """Helm's Go engine in-process through helm-python-sdk (ctypes; releases the GIL).

    A chart without subcharts is loaded once and rendered for each scenario from the same
    handle (loading is a fifth of a render). A chart with subcharts is loaded afresh every
    time: rendering a scenario that disables a subchart removes it from the handle.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def render(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        log: list[str] | None = None,
    ) -> dict[str, str]:
        with _go_log(log if log is not None else []):
            return self._render_archive(archive, values, release, namespace)

    def _render_archive(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str
    ) -> dict[str, str]:
        import helm_python

        try:
            loaded = self._reusable(archive)
            if loaded is not None:
                return self._render(loaded, values, release, namespace)
            loaded = helm_python.Chart.load_archive(archive)
            if loaded.dependencies:
                with loaded:
                    return self._render(loaded, values, release, namespace)
            self._keep(archive, loaded)
            return self._render(loaded, values, release, namespace)
        except helm_python.HelmError as err:
            raise EngineError(str(err)) from err

    @staticmethod
    def _render(
        loaded: Any, values: Mapping[str, Any], release: str, namespace: str
    ) -> dict[str, str]:
        rendered: dict[str, str] = loaded.render(
            values=dict(values), name=release, namespace=namespace, is_install=True
        )
        return rendered

    def _reusable(self, archive: bytes) -> Any:
        kept = getattr(self._local, "kept", None)
        return kept[1] if kept is not None and kept[0] is archive else None

    def _keep(self, archive: bytes, loaded: Any) -> None:
        kept = getattr(self._local, "kept", None)
        if kept is not None:
            kept[1].close()
        self._local.kept = (archive, loaded)


_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


class HelmBinaryEngine:
    """The `helm` binary on PATH: `helm template` of the same archive, split by `# Source:`."""

    def __init__(self, helm: str) -> None:
        self.helm = helm

    def render(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        log: list[str] | None = None,
    ) -> dict[str, str]:
        import json

        with tempfile.TemporaryDirectory(prefix="chartfix-") as tmp:
            chart_tgz = Path(tmp, "chart.tgz")
            chart_tgz.write_bytes(archive)
            values_json = Path(tmp, "values.json")  # JSON is YAML
            values_json.write_text(json.dumps(dict(values)), encoding="utf-8")
            done = subprocess.run(
                [self.helm, "template", release, str(chart_tgz), "--namespace", namespace,
                 "--values", str(values_json)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise EngineError(done.stderr.strip().removeprefix("Error: "))
        if log is not None:
            log.extend(line for line in done.stderr.splitlines() if line.strip())
        return split_by_source(done.stdout)


_go_log_lock = threading.Lock()
_go_log_file: list[Any] = []
"""One temporary file per process, reused under the lock (a new one per render costs more
than a small render)."""


@contextmanager
def _go_log(lines: list[str]) -> Iterator[None]:
    """Catch what Helm's Go code writes to stderr (its `log` package: "coalesce.go: warning:
    cannot overwrite table...") into `lines`, so that it can be said which chart it is about.

    Go writes to file descriptor 2 itself, so the descriptor is pointed at a temporary file
    for the call; a lock keeps two threads of one process from swapping it at once.
    """
    with _go_log_lock:
        if not _go_log_file:
            _go_log_file.append(tempfile.TemporaryFile())  # noqa: SIM115 (kept open)
        caught = _go_log_file[0]
        caught.seek(0)
        caught.truncate()
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode("utf-8", errors="replace")
            lines.extend(line for line in text.splitlines() if line.strip())


_GO_LOG_TIME = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)? ")
_said: set[tuple[Path, str]] = set()


def _say_helm_log(chart: Chart, lines: Sequence[str]) -> None:
    """Helm's log lines on stderr, each naming its chart, once per chart and process (every
    scenario and every verification render would repeat them)."""
    for line in lines:
        text = _GO_LOG_TIME.sub("", line.strip())
        if (chart.root, text) in _said:
            continue
        _said.add((chart.root, text))
        sys.stderr.write(f"{display_path(chart.root)}: helm: {text}\n")
    sys.stderr.flush()


def split_by_source(stream: str) -> dict[str, str]:
    """`helm template` output -> text per template, keyed by its `# Source:` comment."""
    out: dict[str, list[str]] = {}
    for doc in re.split(r"^---[ \t]*$", stream, flags=re.MULTILINE):
        found = _SOURCE.search(doc)
        if found:
            out.setdefault(found.group(1), []).append(doc[found.end() :].lstrip("\n"))
    return {key: "---\n".join(docs) for key, docs in out.items()}


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    """`helm` when it is on PATH (CHARTFIX_ENGINE=sdk|helm forces one), else the SDK."""
    return _engine_for(os.environ.get("CHARTFIX_ENGINE", ""), os.environ.get("PATH", ""))


@lru_cache(maxsize=4)
def _engine_for(choice: str, path: str) -> Engine:
    """One engine per setting, kept: the SDK engine holds loaded charts between renders."""
    helm = shutil.which("helm", path=path)
    if choice != "sdk" and helm:
        return HelmBinaryEngine(helm)
    return SdkEngine()


# --- dependencies and the staged file tree ---------------------------------------------------


@dataclass(frozen=True)
class MissingDependency:
    """A declared dependency found nowhere offline; `values_path` scopes its condition."""

    dependency: Dependency
    declared_in: str
    values_path: tuple[str, ...]


@dataclass
class StagedChart:
    """The chart as Helm will see it: its files plus dependencies vendored under charts/."""

    name: str
    files: dict[str, bytes]
    read: dict[Path, str] = field(default_factory=dict)
    """sha256 of every file taken from disk, by its path: --write rechecks them all."""
    missing: list[MissingDependency] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    disk_dirs: dict[str, str] = field(default_factory=dict)
    """Rendered subchart prefix ("charts/<alias>") -> its folder in `files` ("charts/<dir>")."""
    watched: list[Path] = field(default_factory=list)
    borrowed: dict[str, str] = field(default_factory=dict)
    """Staged folder of a dependency found elsewhere on disk -> that folder, relative to
    the chart's root (see Rendering.borrowed)."""
    packed: dict[str, str] = field(default_factory=dict)
    """Rendered folder of a packaged dependency -> its archive (see Rendering.packed)."""
    archive: bytes | None = None
    members: dict[str, bytes] = field(default_factory=dict)

    def archive_with(self, overrides: Mapping[str, bytes] | None) -> bytes:
        """The gzipped tar Helm loads, with `overrides` replacing (or adding) files.

        Tar members are built once per file and joined, so an override costs one member.
        """
        if not overrides and self.archive is not None:
            return self.archive
        members = dict(self.members)
        for rel in self.files.keys() - members.keys():
            members[rel] = _tar_member(f"{self.name}/{rel}", self.files[rel])
        self.members = members
        if overrides:
            members = {**members}
            for rel, data in overrides.items():
                members[rel] = _tar_member(f"{self.name}/{rel}", data)
        tar = b"".join(members[rel] for rel in sorted(members)) + bytes(2 * tarfile.BLOCKSIZE)
        archive = gzip.compress(tar, compresslevel=0, mtime=0)  # speed over size
        if not overrides:
            self.archive = archive
        return archive

    def disk_path(self, rendered: str) -> str:
        """Map a rendered template path to the path of its file in the staged tree."""
        best = ""
        for prefix in self.disk_dirs:
            if rendered.startswith(prefix + "/") and len(prefix) > len(best):
                best = prefix
        return self.disk_dirs[best] + rendered[len(best) :] if best else rendered


def _tar_member(name: str, data: bytes) -> bytes:
    """One tar member (header, data, padding), ready to be joined into an archive."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    header = info.tobuf(format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape")
    padding = -len(data) % tarfile.BLOCKSIZE
    return header + data + bytes(padding)


_stage_lock = threading.Lock()
_stage_cache: dict[Path, tuple[tuple[Any, ...], StagedChart]] = {}
_staged_for: dict[int, tuple[Chart, StagedChart]] = {}
"""The staged tree per loaded Chart object: one `load_chart` is one snapshot of the chart,
so its scenarios need not look at the disk again."""


def stage(chart: Chart) -> StagedChart:
    """The staged tree of `chart`, cached per process until a file of it (or a dep) changes."""
    same_load = _staged_for.get(id(chart))
    if same_load is not None and same_load[0] is chart:
        return same_load[1]
    cached = _stage_cache.get(chart.root)
    if cached is not None and cached[0] == _signature(cached[1].watched):
        staged = cached[1]
    else:
        staged = StagedChart(name=chart.name, files={})
        _add_chart(staged, chart.root, "", (), (chart.root,))
        with _stage_lock:
            _stage_cache[chart.root] = (_signature(staged.watched), staged)
    with _stage_lock:
        if len(_staged_for) > 64:
            _staged_for.clear()
        _staged_for[id(chart)] = (chart, staged)
    return staged


def _signature(dirs: Sequence[Path]) -> tuple[Any, ...]:
    return tuple(tree_signature(d) for d in dirs)


def _add_chart(
    staged: StagedChart,
    root: Path,
    prefix: str,
    values_path: tuple[str, ...],
    chain: tuple[Path, ...],
) -> None:
    """Add the chart at `root` under `prefix`, then stage its dependencies that are absent."""
    staged.watched.append(root)
    own = chart_files(root)
    for rel, data in own.items():
        staged.files[prefix + rel] = data
        staged.read[root / rel] = hashlib.sha256(data).hexdigest()
    meta = read_chart_meta(root)
    declared = list(declared_dependencies(root, meta))
    present = _vendored(root, own)
    for rel_dir, sub_name in present.items():
        if rel_dir.endswith("gz"):  # a packaged subchart renders under its own name
            for local in {d.local_name for d in declared if d.name == sub_name} | {sub_name}:
                staged.packed[f"{prefix}charts/{local}"] = prefix + rel_dir
            continue
        for local in {d.local_name for d in declared if d.name == sub_name} | {sub_name}:
            staged.disk_dirs[f"{prefix}charts/{local}"] = prefix + rel_dir
    for dep in declared:
        if dep.name in present.values() or f"{prefix}charts/{dep.name}" in staged.disk_dirs:
            continue
        found = _locate(dep, root)
        here = str(root / "Chart.yaml")
        if found is None:
            staged.missing.append(MissingDependency(dep, here, values_path))
            continue
        if found in chain:
            raise ChartError(here, f"dependency cycle through {found}")
        sub_meta = read_chart_meta(found)
        note = _version_note(dep, str(sub_meta.get("version") or ""), found)
        if note and note not in staged.notes:
            staged.notes.append(note)
        sub_prefix = f"{prefix}charts/{dep.name}/"
        if not prefix:  # the top chart's own dependency; deeper ones live inside it
            staged.borrowed[sub_prefix.rstrip("/")] = os.path.relpath(found, root)
        for local in {d.local_name for d in declared if d.name == dep.name}:
            staged.disk_dirs[f"{prefix}charts/{local}"] = sub_prefix.rstrip("/")
        _add_chart(staged, found, sub_prefix, (*values_path, dep.local_name), (*chain, found))


def _vendored(root: Path, files: Mapping[str, bytes]) -> dict[str, str]:
    """Subcharts already in charts/ (folders and .tgz): their path -> their chart name."""
    out: dict[str, str] = {}
    for rel, data in files.items():
        parts = rel.split("/")
        if len(parts) == 3 and parts[0] == "charts" and parts[2] == "Chart.yaml":
            meta = yamlfile.load(data, root / rel)
            name = meta.get("name") if isinstance(meta, dict) else None
            out["/".join(parts[:2])] = str(name or parts[1])
        elif len(parts) == 2 and parts[0] == "charts" and rel.endswith((".tgz", ".tar.gz")):
            out[rel] = _archive_chart_name(data, parts[1])
    return out


def _archive_chart_name(data: bytes, filename: str) -> str:
    """A packaged chart's name: Helm archives hold one top folder named after the chart."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            first = tar.next()
            if first is not None:
                return first.name.split("/", 1)[0]
    except (tarfile.TarError, OSError, EOFError):
        pass
    return re.sub(r"-v?\d.*$", "", filename)


def _locate(dep: Dependency, root: Path) -> Path | None:
    """Where a dependency can be had offline: `file://` path, else a monorepo sibling, else
    a chart of that name elsewhere in the same repository (monorepos keep shared library
    charts in a folder of their own, `common/`, and publish them to their registry).

    Never the chart itself: a wrapper chart often depends on the upstream chart of its own
    name, which is not available offline.
    """
    here = root.resolve()
    if dep.repository.startswith("file://"):
        target = (root / dep.repository.removeprefix("file://")).resolve()
        return target if _chart_named(target, dep.name) else None
    sibling = (root.parent / dep.name).resolve()
    if sibling != here and _chart_named(sibling, dep.name):
        return sibling
    for path, name in _sibling_charts(root.parent.resolve()):
        if name == dep.name and path != here:
            return path
    repo = repository_root(here)
    if repo == here:
        return None
    found = [
        path
        for path, name in _repository_charts(repo)
        if name == dep.name and path != here and not here.is_relative_to(path)
    ]
    fitting = [path for path in found if _fits(dep, path)]
    return next(iter(fitting or found), None)


def _fits(dep: Dependency, path: Path) -> bool:
    """The chart at `path` satisfies the dependency's version (or it pins none)."""
    version = str(read_chart_meta(path).get("version") or "")
    try:
        return not dep.version.strip() or satisfies(version, dep.version.strip())
    except (BadConstraint, ChartError):
        return False


def _chart_named(path: Path, name: str) -> bool:
    meta_path = path / "Chart.yaml"
    if not meta_path.is_file():
        return False
    try:
        meta = yamlfile.load(meta_path.read_bytes(), meta_path)
    except (OSError, ChartError) as err:
        _skip_candidate(meta_path, err)
        return False
    return isinstance(meta, dict) and str(meta.get("name")) == name


_skipped: set[str] = set()


def _skip_candidate(meta_path: Path, err: Exception) -> None:
    """A chart looked at only as a candidate dependency is unreadable: warn once, go on."""
    line = f"warning: {err if isinstance(err, ChartError) else f'{meta_path}: {err}'}"
    with _stage_lock:
        if line in _skipped:
            return
        _skipped.add(line)
    print(f"{line} (skipped as a candidate dependency)", file=sys.stderr)


@lru_cache(maxsize=256)
def _sibling_charts(parent: Path) -> tuple[tuple[Path, str], ...]:
    """Charts in a monorepo folder whose directory name differs from their chart name."""
    out = []
    for entry in sorted(parent.iterdir()) if parent.is_dir() else []:
        meta_path = entry / "Chart.yaml"
        if entry.is_dir() and meta_path.is_file():
            try:
                meta = yamlfile.load(meta_path.read_bytes(), meta_path)
            except (OSError, ChartError) as err:
                _skip_candidate(meta_path, err)
                continue
            if isinstance(meta, dict) and meta.get("name"):
                out.append((entry.resolve(), str(meta["name"])))
    return tuple(out)


@lru_cache(maxsize=16)
def _repository_charts(repo: Path) -> tuple[tuple[Path, str], ...]:
    """Every chart of a repository (not the vendored ones under a chart's charts/), by path."""
    out = []
    for chart in find_charts([repo]):
        try:
            meta = yamlfile.load((chart / "Chart.yaml").read_bytes(), chart / "Chart.yaml")
        except (OSError, ChartError) as err:
            _skip_candidate(chart / "Chart.yaml", err)
            continue
        if isinstance(meta, dict) and meta.get("name"):
            out.append((chart, str(meta["name"])))
    return tuple(out)


def _version_note(dep: Dependency, version: str, found: Path) -> str | None:
    """A note when the chart staged for `dep` does not satisfy its pinned version or range.

    Offline, the only candidate is the chart beside it; rendering with it is still the best
    analysis available, but the user must know it is not the version Helm would fetch.
    """
    want = dep.version.strip()
    if not want or not version:
        return None
    try:
        if satisfies(version, want):
            return None
    except BadConstraint as err:
        return f"dependency {dep.name} {want}: cannot judge {found} (version {version}): {err}"
    return (
        f"dependency {dep.name} {want}: the chart found offline at {found} is version "
        f"{version}, which does not satisfy {want}; rendered with it instead"
    )


# --- values ----------------------------------------------------------------------------------


def scenario_values(scenario: Scenario) -> dict[str, Any]:
    """Values of a scenario over the chart's defaults, in Helm's order (later wins):
    organisation values, its files, its --set strings, then synthesized placeholders."""
    import json

    import helm_python

    merged: dict[str, Any] = json.loads(scenario.base) if scenario.base else {}
    for path in scenario.values_files:
        merged = deep_merge(merged, parse_values_file(Path(path)))
    for text in scenario.set_values:
        try:
            merged = deep_merge(merged, helm_python.parse_set_string(text))
        except helm_python.HelmError as err:
            raise ChartError(f"--set {text}", str(err)) from err
    for text in scenario.synthesized:
        merged = deep_merge(merged, helm_python.parse_set_json(text))
    return merged


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _enabled(missing: MissingDependency, values: Mapping[str, Any]) -> bool:
    """Helm's rule for a subchart: first condition path found wins, else tags, else on."""
    scope: Any = values
    for part in missing.values_path:
        scope = scope.get(part) if isinstance(scope, Mapping) else None
    scope = scope if isinstance(scope, Mapping) else {}
    dep = missing.dependency
    for path in (dep.condition or "").split(","):
        found = _lookup(scope, path.strip())
        if isinstance(found, bool):
            return found
    tags = scope.get("tags") if isinstance(scope.get("tags"), Mapping) else {}
    states = [tags.get(t) for t in dep.tags if isinstance(tags.get(t), bool)]
    if states:
        return any(states)
    return True


def _lookup(values: Mapping[str, Any], dotted: str) -> Any:
    if not dotted:
        return None
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


_defaults_cache: dict[Path, tuple[int, dict[str, Any]]] = {}


def _defaults(root: Path) -> dict[str, Any]:
    path = root / "values.yaml"
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    cached = _defaults_cache.get(root)
    if cached is None or cached[0] != mtime:
        cached = (mtime, read_default_values(root))
        _defaults_cache[root] = cached
    return cached[1]


# --- render ----------------------------------------------------------------------------------


def render(
    chart: Chart,
    scenario: Scenario,
    overrides: Mapping[str, bytes] | None = None,
    release: str = "release-name",
    namespace: str = "default",
    engine: Engine | None = None,
) -> Rendering:
    """Render `chart` under `scenario` into objects, as if `overrides` replaced its files.

    `overrides` maps chart-relative paths to new contents; the chart on disk is not touched.
    Dependencies absent from charts/ are taken from `file://` paths or monorepo siblings;
    one that cannot be had offline is named in `Rendering.warnings` (when the scenario
    enables it) and the chart renders without it. Raises ChartError naming the template
    file when Helm fails or a rendered document is not YAML.
    """
    staged = stage(chart)
    values = scenario_values(scenario)
    warnings = list(staged.notes)
    if staged.missing:
        merged = deep_merge(_defaults(chart.root), values)
        for miss in staged.missing:
            if _enabled(miss, merged):
                dep = miss.dependency
                warnings.append(
                    f"dependency {dep.name} {dep.version} ({dep.repository or 'no repository'}) "
                    f"of {miss.declared_in} is not available offline; rendered without it"
                )
    archive = staged.archive_with(overrides)
    log: list[str] = []
    try:
        manifests = (engine or default_engine()).render(
            archive, values, release, namespace, log=log
        )
    except EngineError as err:
        raise _render_error(chart, staged, str(err)) from err
    finally:
        _say_helm_log(chart, log)
    sources = ChartSources(chart.root, overrides, staged.files)
    objects = stable_names(list(_objects(chart, staged, manifests)), sources)
    return Rendering(
        scenario.name, objects, release, namespace, warnings,
        borrowed=dict(staged.borrowed), packed=dict(staged.packed),
        synthesized=scenario.synthesized,
        values=tuple([f"-f {Path(f).name}" for f in scenario.values_files]
                     + [f"--set {text}" for text in scenario.set_values]),
    )


_TEMPLATE_IN_ERROR = re.compile(r"[\w.-]+((?:/charts/[\w.-]+)*/templates/[^\s:()\"]+)")


def _render_error(chart: Chart, staged: StagedChart, message: str) -> ChartError:
    found = _TEMPLATE_IN_ERROR.search(message)
    if found is None:
        return ChartError(chart.root, f"helm could not render: {message}")
    rel = staged.disk_path(found.group(1).lstrip("/"))
    return ChartError(chart.root / rel, f"helm could not render: {message}")


def _objects(
    chart: Chart, staged: StagedChart, manifests: Mapping[str, str]
) -> Iterator[K8sObject]:
    for key in sorted(manifests):
        rendered = key.split("/", 1)[1] if "/" in key else key
        base = rendered.rsplit("/", 1)[-1]
        if base == "NOTES.txt" or base.startswith("_"):
            continue
        rel = staged.disk_path(rendered)
        owner = _owner_chart(chart.name, rendered)
        for index, (text, body) in enumerate(_documents(chart, rel, manifests[key])):
            if not isinstance(body, Mapping):
                continue
            source = Source(rel, index)
            if body.get("kind") == "List" and isinstance(body.get("items"), list):
                for item in body["items"]:
                    if isinstance(item, dict):
                        yield K8sObject(item, source, owner)
            else:
                yield K8sObject(body, source, owner, text)


def _owner_chart(root_name: str, rendered: str) -> str:
    """The (sub)chart a rendered template belongs to: the last `charts/<name>` in its path."""
    parts = rendered.split("/")
    owner = root_name
    for i in range(len(parts) - 1):
        if parts[i] == "charts" and i + 1 < len(parts) - 1:
            owner = parts[i + 1]
    return owner


_SEPARATOR = re.compile(r"^---[ \t]*(?:#[^\n]*)?$", re.MULTILINE)
_KIND = re.compile(
    r"^kind:[ \t]*[\"']?([A-Za-z][A-Za-z0-9]*)[\"']?[ \t]*(?:#[^\n]*)?$", re.MULTILINE
)
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


def _documents(chart: Chart, rel: str, text: str) -> list[tuple[str | None, Any]]:
    """(text, body) of each non-empty YAML document of one rendered template.

    Documents of kinds the rules read are parsed now; the others (CRDs, ConfigMaps...) get a
    LazyBody that parses on first use. A template whose output does not split cleanly on
    `---` lines is parsed whole, as before.
    """
    pieces = _SEPARATOR.split(text)
    if any(p.lstrip().startswith("---") for p in pieces) or "\n..." in text:
        return [(None, d) for d in _parse_all(chart, rel, text)]
    out: list[tuple[str | None, Any]] = []
    for piece in pieces:
        if not _CONTENT.search(piece):
            continue  # empty or comment-only
        kinds = _KIND.findall(piece)
        if len(kinds) == 1 and kinds[0] not in ANALYZED_KINDS and kinds[0] != "List":
            parse = partial(_parse_one, chart, rel)
            out.append((piece, LazyBody(piece, kinds[0], parse)))
            continue
        out.extend((piece, d) for d in _parse_all(chart, rel, piece))
    return out


def _parse_one(chart: Chart, rel: str, text: str) -> Mapping[str, Any]:
    docs = _parse_all(chart, rel, text)
    return docs[0] if docs and isinstance(docs[0], Mapping) else {}


_parsed: dict[str, list[Any]] = {}
"""Parsed documents by their text: a chart's scenarios mostly render the same documents."""
_PARSED_MAX = 4096


def _parse_all(chart: Chart, rel: str, text: str) -> list[Any]:
    cached = _parsed.get(text)
    if cached is not None:
        return cached
    docs = _parse_uncached(chart, rel, text)
    if len(_parsed) >= _PARSED_MAX:
        _parsed.clear()
    _parsed[text] = docs
    return docs


def _parse_uncached(chart: Chart, rel: str, text: str) -> list[Any]:
    try:
        docs = list(yamlfile.load_all(
            text, chart.root / rel, max_bytes=None, check=_no_duplicate_label_key
        ))
    except _DuplicateKey as err:
        raise ChartError(chart.root / rel, str(err)) from err
    except ChartError as err:
        raise ChartError(chart.root / rel, f"rendered {err.reason}") from err
    return [d for d in docs if d is not None]



def clear_caches() -> None:
    """Forget staged charts (tests; long-lived processes that rewrite charts on purpose)."""
    with _stage_lock:
        _stage_cache.clear()
        _staged_for.clear()
    _defaults_cache.clear()
    _sibling_charts.cache_clear()
    _repository_charts.cache_clear()
