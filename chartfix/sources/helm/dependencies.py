"""A chart's dependencies, found offline, and the file tree Helm is given (`stage`).

Helm renders a chart with its dependencies vendored under `charts/`. chartfix assembles that
tree in memory: the chart's own files as Helm's directory loader picks them, plus each
declared dependency from `charts/` (folder or archive), a `file://` path, or a chart of the
same name beside it in the monorepo, whose version must fit the constraint (a note says
when it does not). A dependency found nowhere is a `MissingDependency`: the chart renders
without it, with a warning when the scenario enables it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from chartfix import yamlfile
from chartfix.cache import charts_token
from chartfix.errors import TargetError
from chartfix.files import git_repository, within
from chartfix.sources.helm.chart import (
    Chart,
    Dependency,
    chart_files,
    declared_dependencies,
    find_charts,
    read_chart_meta,
    tree_signature,
    value_at,
)
from chartfix.sources.helm.constraint import BadConstraint, satisfies
from chartfix.terminal import shown

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
    absent: list[Path] = field(default_factory=list)
    """Where a missing dependency was looked for first (its `file://` folder's or its
    sibling's Chart.yaml): the render changes when one appears (chartfix.cache checks)."""
    notes: list[str] = field(default_factory=list)
    disk_dirs: dict[str, str] = field(default_factory=dict)
    """Rendered subchart prefix ("charts/<alias>") -> its folder in `files` ("charts/<dir>")."""
    watched: list[Path] = field(default_factory=list)
    searched: dict[Path, str] = field(default_factory=dict)
    """Repositories searched whole for a dependency not found offline, with the
    `charts_token` of their charts then: one added anywhere in them changes the render."""
    borrowed: dict[str, str] = field(default_factory=dict)
    """Staged folder of a dependency found elsewhere on disk -> that folder, relative to
    the chart's root (see Rendering.borrowed)."""
    packed: dict[str, str] = field(default_factory=dict)
    """Rendered folder of a packaged dependency -> its archive (see Rendering.packed)."""
    archive: bytes | None = None
    members: dict[str, bytes] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """What is worked out from `files` once for every render of the chart (render.py's
    template sources, releases.py's next-release files): gone with the staged chart when
    one of its files changes."""

    def archive_with(self, overrides: Mapping[str, bytes] | None) -> bytes:
        """The gzipped tar Helm loads, with `overrides` replacing (or adding) files.

        Tar members are built once per file and joined, so an override costs one member.
        No NOTES.txt goes in (see `_is_notes`).
        """
        if not overrides and self.archive is not None:
            return self.archive
        members = dict(self.members)
        for rel in self.files.keys() - members.keys():
            members[rel] = _member(f"{self.name}/{rel}", self.files[rel])
        self.members = members
        if overrides:
            members = {**members}
            for rel, data in overrides.items():
                members[rel] = _member(f"{self.name}/{rel}", data)
        tar = b"".join(members[rel] for rel in sorted(members)) + bytes(2 * tarfile.BLOCKSIZE)
        archive = gzip.compress(tar, compresslevel=0, mtime=0)  # speed over size
        if not overrides:
            self.archive = archive
        return archive

    @property
    def reusable(self) -> bool:
        """Whether a loaded chart that Helm rendered once renders a later scenario as a fresh
        load would, as long as that scenario switches on the same top subcharts
        (render.SdkEngine). It would not, a render changing the loaded chart in ways Helm
        does not show, when:
        - a subchart, at any depth, declares a dependency that values can switch off (a
          `condition` or `tags`): Helm drops it without a trace in the top subcharts;
        - a chart, at any depth, imports values (`import-values`): Helm folds them into its
          values after choosing the subcharts, so a kept chart would choose by them (and
          `.Chart.Dependencies` no longer lists the imports);
        - a top dependency has an alias: Helm names the subchart by it only when it
          renders, so the subcharts a chart held when loaded do not show which it dropped;
        - a top dependency's condition reads another subchart's values: a fresh load reads
          them in that subchart's defaults, a kept chart that dropped it does not."""
        reusable = self.derived.get("reusable")
        if reusable is None:
            reusable = self.derived["reusable"] = not any(
                meta is _UNREADABLE or _switches(meta) for _, meta in _below(self.files)
            ) and _plain_top(self.files)
        return bool(reusable)

    @property
    def subchart_names(self) -> frozenset[str]:
        """Every name a subchart, at any depth, may have its values under: the names of the
        charts below this one, and the names and aliases their parents give them."""
        names = self.derived.get("subchart names")
        if names is None:
            top = [(name, _read(self.files.get(name, b""), name)) for name in _DECLARING]
            names = self.derived["subchart names"] = frozenset().union(
                *(_names(path, meta) for path, meta in [*top, *_below(self.files)])
            )
        return frozenset(names)

    def switched_off(self, values: Mapping[str, Any]) -> frozenset[str]:
        """The chart's own subcharts (by the name they render under) that `values` (its
        defaults and the scenario's) surely switch off: the first path of their `condition`
        holds false. Helm would take the same path first, and find the same value there:
        the values a subchart's own defaults add never override these. A path into a
        subchart's `global` is never taken as false: Helm copies the chart's globals over it.
        `values` must hold the defaults Helm reads (none when .helmignore leaves them out)."""
        switches = self.derived.get("switches")
        if switches is None:
            switches = self.derived["switches"] = [
                (name, paths[0]) for name, paths in _conditions(_top_dependencies(self.files))
                if "global" not in paths[0].split(".")[1:]  # Helm copies the chart's over it
            ]
        return frozenset(name for name, path in switches if value_at(values, path) is False)

    def disk_path(self, rendered: str) -> str:
        """Map a rendered template path to the path of its file in the staged tree."""
        best = ""
        for prefix in self.disk_dirs:
            if rendered.startswith(prefix + "/") and len(prefix) > len(best):
                best = prefix
        return self.disk_dirs[best] + rendered[len(best) :] if best else rendered


_DECLARING = ("Chart.yaml", "requirements.yaml")
"""The files a chart declares its dependencies in (Helm reads requirements.yaml after
Chart.yaml, whatever the apiVersion)."""

_UNREADABLE = object()
"""What `_read` gives for a declaration that is no YAML (or a packaged chart that cannot be
opened, in `_below`)."""


def _read(data: bytes, name: str) -> Any:
    """A declaration file's data, or `_UNREADABLE`."""
    try:
        return yamlfile.load(data, name)
    except TargetError:
        return _UNREADABLE


def _below(files: Mapping[str, bytes]) -> Iterator[tuple[str, Any]]:
    """(path, data as `_read` gives it) of the declaration files of every chart below the
    staged one, in folders and in packaged subcharts alike (`charts/x.tgz/x/Chart.yaml`),
    however deep."""
    for rel, data in files.items():
        if rel.startswith("charts/"):
            yield from _declarations(rel, data)


def _declarations(name: str, data: bytes) -> Iterator[tuple[str, Any]]:
    if name.rsplit("/", 1)[-1] in _DECLARING:
        yield name, _read(data, name)
    elif name.endswith((".tgz", ".tar.gz")):
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                members = [
                    (f"{name}/{m.name}", reader.read()) for m in tar.getmembers()
                    if m.isfile() and m.name.endswith(("/Chart.yaml", "/requirements.yaml", "gz"))
                    and (reader := tar.extractfile(m)) is not None
                ]
        except (tarfile.TarError, OSError, EOFError):
            yield name, _UNREADABLE
            return
        for member, inner in members:
            yield from _declarations(member, inner)


def _top_dependencies(files: Mapping[str, bytes]) -> list[Any]:
    """The dependencies the staged chart itself declares, as Helm reads them: Chart.yaml's,
    replaced by requirements.yaml's when that file lists any. None when a file cannot be
    read."""
    declared: list[Any] = []
    for name in _DECLARING:
        meta = _read(files.get(name, b""), name)
        if meta is _UNREADABLE:
            return [None]
        if isinstance(meta, dict) and "dependencies" in meta:
            deps = meta["dependencies"]
            declared = deps if isinstance(deps, list) else []
    return declared


def _conditions(deps: Iterable[Any]) -> list[tuple[str, list[str]]]:
    """(name rendered under, paths of its `condition` in Helm's order) of each dependency
    with a condition. Helm trims the condition as a whole, not each path: `a.on ,b.on`
    reads `a.on ` (found nowhere) and then `b.on`."""
    return [
        (str(d.get("alias") or d.get("name")), str(d["condition"]).strip().split(","))
        for d in deps if isinstance(d, dict) and d.get("condition")
    ]


def _plain_top(files: Mapping[str, bytes]) -> bool:
    """Whether the staged chart's own dependencies (in Chart.yaml and in requirements.yaml)
    import no values, have no alias and no condition reading another one's values (nor
    tags, when a subchart is named `tags`: its defaults would be read as tags)."""
    for name in _DECLARING:
        meta = _read(files.get(name, b""), name)
        if meta is _UNREADABLE:
            return False
        deps = meta.get("dependencies") if isinstance(meta, dict) else None
        if deps is None:
            continue
        if not isinstance(deps, list) or not all(isinstance(d, dict) for d in deps):
            return False
        if any(d.get("import-values") or d.get("alias") for d in deps):
            return False
        names = {str(d.get("name")) for d in deps}
        if any(
            path.split(".")[0] in names - {own}
            for own, paths in _conditions(deps) for path in paths
        ) or ("tags" in names and any(d.get("tags") for d in deps)):
            return False
    return True


def _switches(meta: Any) -> bool:
    """Whether a subchart's declaration (`_below`) names a dependency that values can switch
    off or that imports values."""
    deps = meta.get("dependencies") if isinstance(meta, dict) else None
    return isinstance(deps, list) and any(
        not isinstance(d, dict) or d.get("condition") or d.get("tags") or d.get("import-values")
        for d in deps
    )


def _names(path: str, meta: Any) -> set[str]:
    """The chart names a declaration gives (see StagedChart.subchart_names): a subchart's
    own name (not the staged chart's), and the names and aliases of the dependencies it
    declares."""
    if not isinstance(meta, dict):
        return set()  # unreadable: not reusable anyway (`_switches`)
    out = {str(meta["name"])} if path != "Chart.yaml" and meta.get("name") else set()
    deps = meta.get("dependencies")
    for d in deps if isinstance(deps, list) else ():
        if isinstance(d, dict):
            out |= {str(d[key]) for key in ("name", "alias") if d.get(key)}
    return out


def _is_notes(name: str) -> bool:
    """A chart's or subchart's `templates/NOTES.txt`: text for the person who installs, never
    objects. It is left out of what Helm renders: it often names templates of dependencies
    that cannot be had offline (`template "kibana.fullname" not defined`), and one failing
    NOTES.txt would stop the whole chart from being analysed."""
    parts = name.split("/")
    return len(parts) >= 2 and parts[-1] == "NOTES.txt" and parts[-2] == "templates"


def _member(name: str, data: bytes) -> bytes:
    """The tar member of one staged file: none for a NOTES.txt, and a packaged subchart
    without its NOTES.txt files."""
    if _is_notes(name):
        return b""
    if name.endswith((".tgz", ".tar.gz")) and "/charts/" in name:
        data = _archive_without_notes(data)
    return _tar_member(name, data)


def _archive_without_notes(data: bytes) -> bytes:
    """A packaged chart with its NOTES.txt files (its own and its subcharts') left out; the
    archive as it was when it has none or cannot be read (Helm will say what is wrong)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            members = tar.getmembers()
            if not any(_is_notes(m.name) for m in members):
                return data
            out = io.BytesIO()
            with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as kept:
                for member in members:
                    if not _is_notes(member.name):
                        kept.addfile(member, tar.extractfile(member) if member.isfile() else None)
            return out.getvalue()
    except (tarfile.TarError, OSError, EOFError):
        return data


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
_staged_for: dict[str, StagedChart] = {}
"""The staged tree per `Chart.snapshot`: one `load_chart` is one snapshot of the chart, so
its scenarios need not look at the disk again."""


def stage(chart: Chart) -> StagedChart:
    """The staged tree of `chart`, cached per process until a file of it (or a dep) changes."""
    same_load = _staged_for.get(chart.snapshot)
    if same_load is not None:
        return same_load
    cached = _stage_cache.get(chart.root)
    if cached is not None and cached[0] == _signature(cached[1]):
        staged = cached[1]
    else:
        staged = StagedChart(name=chart.name, files={})
        _add_chart(staged, chart.root, "", (), (chart.root,))
        with _stage_lock:
            _stage_cache[chart.root] = (_signature(staged, staged.searched.values()), staged)
    with _stage_lock:
        if len(_staged_for) > 64:
            _staged_for.clear()
        _staged_for[chart.snapshot] = staged
    return staged


def _signature(staged: StagedChart, tokens: Iterable[str] | None = None) -> tuple[Any, ...]:
    """What a staged chart depends on: its folders, and the charts of the repositories it
    searched for a missing dependency (one added there is staged on the next load); `tokens`:
    those charts' `charts_token` as the staging just took them, else taken now."""
    if tokens is None:
        tokens = [charts_token(repo) for repo in staged.searched]
    return (*(tree_signature(d) for d in staged.watched), *tokens)


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
            staged.absent.append(_first_place(dep, root) / "Chart.yaml")
            searched = _searched_repository(dep, root)
            if searched is not None and searched not in staged.searched:
                staged.searched[searched] = charts_token(searched)
            continue
        if found in chain:
            raise TargetError(here, f"dependency cycle through {found}")
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
    name, which is not available offline. Never outside the chart's git repository: a
    `file://` path leaving it is refused (TargetError), and the folders beside a chart at
    the repository's top (other clones, in bulk) are not searched.
    """
    here = root.resolve()
    bound = git_repository(here)
    if dep.repository.startswith("file://"):
        written = dep.repository.removeprefix("file://")
        target = (root / written).resolve()
        if not within(target, bound):
            raise TargetError(
                root / "Chart.yaml", f"dependency {dep.name}: {shown(dep.repository)} is "
                f"outside the repository ({bound}); chartfix reads no chart outside it"
            )
        return target if _chart_named(target, dep.name) else None
    if not within(root.parent, bound):
        return None
    sibling = (root.parent / dep.name).resolve()
    if sibling != here and within(sibling, bound) and _chart_named(sibling, dep.name):
        return sibling
    for path, name in _sibling_charts(root.parent.resolve()):
        if name == dep.name and path != here and within(path, bound):
            return path
    if bound is None or bound == here:
        return None
    found = [
        path
        for path, name in _repository_charts(bound, charts_token(bound))
        if name == dep.name and path != here and not here.is_relative_to(path)
    ]
    fitting = [path for path in found if _fits(dep, path)]
    return next(iter(fitting or found), None)


def _searched_repository(dep: Dependency, root: Path) -> Path | None:
    """The repository `_locate` searched whole for `dep` (none for a `file://` path, or a
    chart alone in its repository or outside one)."""
    if dep.repository.startswith("file://"):
        return None
    here = root.resolve()
    bound = git_repository(here)
    return None if bound is None or bound == here else bound


def _first_place(dep: Dependency, root: Path) -> Path:
    """The folder `_locate` looks in first for `dep`: its `file://` path, else its sibling."""
    if dep.repository.startswith("file://"):
        return (root / dep.repository.removeprefix("file://")).resolve()
    return (root.parent / dep.name).resolve()


def _fits(dep: Dependency, path: Path) -> bool:
    """The chart at `path` satisfies the dependency's version (or it pins none)."""
    version = str(read_chart_meta(path).get("version") or "")
    try:
        return not dep.version.strip() or satisfies(version, dep.version.strip())
    except (BadConstraint, TargetError):
        return False


def _chart_named(path: Path, name: str) -> bool:
    meta_path = path / "Chart.yaml"
    if not meta_path.is_file():
        return False
    try:
        meta = yamlfile.load(meta_path.read_bytes(), meta_path)
    except (OSError, TargetError) as err:
        _skip_candidate(meta_path, err)
        return False
    return isinstance(meta, dict) and str(meta.get("name")) == name


_skipped: set[str] = set()


def _skip_candidate(meta_path: Path, err: Exception) -> None:
    """A chart looked at only as a candidate dependency is unreadable: warn once, go on."""
    line = f"warning: {err if isinstance(err, TargetError) else f'{meta_path}: {err}'}"
    with _stage_lock:
        if line in _skipped:
            return
        _skipped.add(line)
    # shown: a worker process prints here, past the stream cli.main guards
    print(f"{shown(line)} (skipped as a candidate dependency)", file=sys.stderr)


@lru_cache(maxsize=256)
def _sibling_charts(parent: Path) -> tuple[tuple[Path, str], ...]:
    """Charts in a monorepo folder whose directory name differs from their chart name."""
    out = []
    for entry in sorted(parent.iterdir()) if parent.is_dir() else []:
        meta_path = entry / "Chart.yaml"
        if entry.is_dir() and meta_path.is_file():
            try:
                meta = yamlfile.load(meta_path.read_bytes(), meta_path)
            except (OSError, TargetError) as err:
                _skip_candidate(meta_path, err)
                continue
            if isinstance(meta, dict) and meta.get("name"):
                out.append((entry.resolve(), str(meta["name"])))
    return tuple(out)


@lru_cache(maxsize=16)
def _repository_charts(repo: Path, token: str) -> tuple[tuple[Path, str], ...]:
    """Every chart of a repository (not the vendored ones under a chart's charts/), by path,
    while its Chart.yaml files are those `token` (`charts_token`) was made of."""
    out = []
    for chart in find_charts([repo]):
        try:
            meta = yamlfile.load((chart / "Chart.yaml").read_bytes(), chart / "Chart.yaml")
        except (OSError, TargetError) as err:
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



def enabled(missing: MissingDependency, values: Mapping[str, Any]) -> bool:
    """Helm's rule for a subchart: first condition path found wins, else tags, else on."""
    scope: Any = values
    for part in missing.values_path:
        scope = scope.get(part) if isinstance(scope, Mapping) else None
    scope = scope if isinstance(scope, Mapping) else {}
    dep = missing.dependency
    for path in (dep.condition or "").split(","):
        found = value_at(scope, path.strip())
        if isinstance(found, bool):
            return found
    tags = scope.get("tags") if isinstance(scope.get("tags"), Mapping) else {}
    states = [tags.get(t) for t in dep.tags if isinstance(tags.get(t), bool)]
    if states:
        return any(states)
    return True
