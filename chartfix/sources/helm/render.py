"""Helm's engine -> rendered objects, with dependencies found offline and files overridden.

How a chart reaches Helm: we assemble its files in memory (the chart's own files as Helm's
directory loader would pick them, plus dependencies staged under `charts/`), apply any
overrides, and hand Helm one in-memory archive. That one path serves every case:
- verifying a fix renders the chart as if its files had the new content, without touching
  the chart and without temp directories;
- a dependency that lives beside the chart (monorepo sibling, `file://`) renders as if
  `helm dependency build` had vendored it;
- Helm never follows a symlink, and says nothing on stderr about staging links.
A loaded chart is rendered again only as far as that gives what a fresh load would (Helm
drops disabled subcharts from the loaded chart while rendering, and folds values into it):
see SdkEngine and StagedChart.reusable.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Protocol

import yaml

from chartfix import yamlfile
from chartfix.errors import TargetError
from chartfix.model.objects import ANALYZED_KINDS, FileDocument, K8sObject, LazyBody, Rendering
from chartfix.sources.helm.chart import (
    Chart,
    Scenario,
    read_default_values,
)
from chartfix.sources.helm.dependencies import (
    MissingDependency,
    StagedChart,
    enabled,
    stage,
)
from chartfix.sources.helm.template.locate import Peers, Templates
from chartfix.sources.helm.template.names import stable_names
from chartfix.values import deep_merge, parse_values_file


def _no_duplicate_label_key(text: str, document: yaml.Node) -> None:
    repeats = _duplicate_label_key(document, "", "")
    if repeats:
        _repeated.setdefault(text, []).extend(repeats)


class _DuplicateKey(Exception):
    """A label map or selector renders a key twice with different values. Not `invalid
    YAML`: no missing value causes it, so value synthesis must not try to render past it."""


_LABEL_MAPS = frozenset({"labels", "matchLabels", "selector"})
"""Mappings where a key written twice changes what a selector or pod label means."""

_repeated: dict[str, list[tuple[str, str, int]]] = {}
"""Rendered document text -> (label map path, key, rendered line) of each key it writes
twice with the same value (kept as long as the parsed documents are)."""


def _duplicate_label_key(node: yaml.Node, parent: str, path: str) -> list[tuple[str, str, int]]:
    """Refuse a label map or selector that renders a key twice with different values:
    PyYAML would keep the last one silently, hiding from the rules the entry the API server
    may read (what a cluster keeps is then a guess). The same value twice (a template
    repeating `app:` after a selector-labels include) agrees whichever is kept: those are
    returned, (map path, key, rendered line), for a warning."""
    if isinstance(node, yaml.SequenceNode):
        return [r for item in node.value for r in _duplicate_label_key(item, parent, path)]
    if not isinstance(node, yaml.MappingNode):
        return []
    repeats: list[tuple[str, str, int]] = []
    seen: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
        if parent in _LABEL_MAPS and key in seen:
            line = key_node.start_mark.line + 1
            if not _same_scalar(seen[key], value_node):
                raise _DuplicateKey(
                    f"renders the key {key!r} twice in {parent}, with different values "
                    f"(rendered line {line})"
                )
            repeats.append((path, key, line))
        seen[key] = value_node
        repeats += _duplicate_label_key(value_node, key, f"{path}.{key}" if path else key)
    return repeats


def _same_scalar(one: yaml.Node, other: yaml.Node) -> bool:
    return (
        isinstance(one, yaml.ScalarNode) and isinstance(other, yaml.ScalarNode)
        and one.value == other.value
    )


def _repeat_warnings(
    objects: Sequence[K8sObject], sources: Templates
) -> list[str]:
    """One warning per label key an object's document renders twice with the same value,
    naming the template line that writes it literally (else the template file)."""
    out: list[str] = []
    peers = Peers(objects)
    for obj in objects:
        for path, key, line in _repeated.get(obj.text or "", ()):
            out.append(
                f"{_written_at(sources, obj, path, key, peers, line)}: {key} is written "
                f"twice in {path} of {obj.ref}, with the same value: Helm renders it and the "
                "entries agree, so the chart was analysed; remove the repeated one (a "
                "stricter YAML reader refuses a key written twice)"
            )
    return list(dict.fromkeys(out))


def _written_at(
    sources: Templates, obj: K8sObject, path: str, key: str,
    peers: Peers, line: int,
) -> str:
    try:
        place = sources.place_for(obj, peers)
        site = sources.site(place.doc, path) if place is not None else None
    except (OSError, ValueError, TargetError):
        place, site = None, None
    if place is None or site is None:
        return f"{obj.document.path} (rendered line {line})"
    entries = [e for e in site.entries if e.key == key]
    return f"{place.path}:{(entries[-1].line if entries else site.key_line).number}"


# --- engines ---------------------------------------------------------------------------------


class EngineError(Exception):
    """Helm refused to render; the message is Helm's own."""


class Engine(Protocol):
    """Something that renders a chart archive the way `helm template` does.

    Returns {"<chart>/templates/x.yaml": text, "<chart>/charts/<sub>/templates/...": ...}.
    """

    def render(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        log: list[str] | None = None, reusable: bool = False,
        switched_off: Callable[[], Collection[str]] = frozenset,
    ) -> dict[str, str]:
        """`log` receives the lines Helm logged while rendering (its warnings).
        `reusable`: a loaded chart with subcharts may be kept and rendered again for these
        values (`StagedChart.reusable`, and `_plain_values`);
        `switched_off()`: top subcharts the values surely switch off (`StagedChart`)."""
        ...


class SdkEngine:
    """Helm's Go engine in-process through helm-python-sdk (ctypes; releases the GIL).

    Loaded charts are kept (the last `KEEP` of each thread) and rendered again for the
    next scenario of the same archive: loading costs a fifth to a half of a render, more
    for a chart with big subcharts. A render changes a loaded chart that has subcharts: Helm
    drops each subchart the scenario's values switch off (a `condition`, `tags`), then folds
    the defaults of those left into the chart's own values. A kept chart renders a scenario
    as a fresh one would only when the scenario switches on exactly the subcharts it still
    holds: none it dropped (each is one the values surely switch off: `switched_off`) and
    none it holds (Helm says which it holds: `dependencies`; a render that dropped one more,
    or failed, is done again from a fresh load). A chart with subcharts is kept and rendered
    again only when `reusable` says a render changes nothing else Helm does not show.
    """

    KEEP = 3
    """Loaded charts kept per thread: a chart's scenarios alternate between its own archive
    and another (its next release's), and between sets of subcharts switched on."""

    def __init__(self) -> None:
        self._local = threading.local()

    def render(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        log: list[str] | None = None, reusable: bool = False,
        switched_off: Callable[[], Collection[str]] = frozenset,
    ) -> dict[str, str]:
        with _go_log(log if log is not None else []):
            try:
                return self._render_archive(
                    archive, values, release, namespace, reusable, switched_off
                )
            except _Dropped:  # the kept chart held a subchart the values switch off, or failed
                return self._render_archive(
                    archive, values, release, namespace, reusable, switched_off, fresh=True
                )

    def _render_archive(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        reusable: bool, switched_off: Callable[[], Collection[str]], fresh: bool = False,
    ) -> dict[str, str]:
        import helm_python

        kept = self._kept()
        off = lru_cache(maxsize=None)(lambda: frozenset(switched_off()))
        held = None if fresh else next(
            (
                k for k in reversed(kept)
                if k.archive is archive and (reusable or not k.subcharts)
                and k.renders(off, values)
            ),
            None,
        )
        again = held is not None and bool(held.subcharts)  # rendered once already
        try:
            if held is not None:
                kept.remove(held)
            else:
                loaded = helm_python.Chart.load_archive(archive)
                stats.loads += 1
                held = _Loaded(archive, loaded, _subcharts(loaded))
                if held.subcharts and not reusable:
                    with loaded:
                        return self._render(loaded, values, release, namespace)
            rendered = self._render(held.loaded, values, release, namespace)
            if held.subcharts:
                now, held.now = held.now, _subcharts(held.loaded)
                if again and held.now != now:
                    raise _Dropped
        except BaseException as err:
            if held is not None:
                held.loaded.close()
            if again and isinstance(err, helm_python.HelmError):
                # it may hold the defaults of a subchart Helm dropped during this render
                raise _Dropped from err
            if isinstance(err, helm_python.HelmError):
                raise EngineError(str(err)) from err
            raise
        kept.append(held)  # the most recently used last
        if len(kept) > self.KEEP:
            kept.pop(0).loaded.close()
        return rendered

    def _kept(self) -> list[_Loaded]:
        kept: list[_Loaded] | None = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = []
        return kept

    @staticmethod
    def _render(
        loaded: Any, values: Mapping[str, Any], release: str, namespace: str
    ) -> dict[str, str]:
        rendered: dict[str, str] = loaded.render(
            values=dict(values), name=release, namespace=namespace, is_install=True
        )
        return rendered


class _Dropped(Exception):
    """A kept chart's render dropped a subchart, or failed: what it rendered is not
    (surely) a fresh load's."""


@dataclass
class _Loaded:
    """A chart Helm's library holds: the top subcharts it held when loaded, and holds now."""

    archive: bytes
    loaded: Any
    subcharts: tuple[str, ...]
    now: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.now = self.subcharts

    def renders(
        self, switched_off: Callable[[], frozenset[str]], values: Mapping[str, Any]
    ) -> bool:
        """Whether it renders a scenario as a fresh load would, as far as can be told before
        the render: every subchart it dropped is one the scenario switches off, and none it
        holds is. A fresh load also checks the values against the defaults of the subcharts
        it drops, and warns of a map given for a value that is none (or of either way in
        `global`): a kept chart that dropped one renders only values that give it no map
        and give no `global`."""
        if not self.subcharts:
            return True
        off = switched_off()
        dropped = set(self.subcharts) - set(self.now)
        if dropped and (values.get("global") or any(
            isinstance(value, Mapping)
            for name in dropped if isinstance(values.get(name), Mapping)
            for value in values[name].values()
        )):
            return False
        return dropped <= off and not off & set(self.now)


def _plain_values(values: Mapping[str, Any], subcharts: Collection[str]) -> bool:
    """Whether no value is null, and none under a subchart's name (at any depth) is other
    than a map. Helm checks and coalesces the values of every subchart before it drops
    those switched off, which a kept chart no longer holds: `x: 5` or `x.s: 5` fails on a
    fresh load even with x switched off ("type mismatch on x"), and rendered on a kept
    chart without x; `x: null` deletes the key, and a kept chart holds x's defaults there."""
    return all(
        value is not None
        and (isinstance(value, Mapping) or key not in subcharts)
        and (not isinstance(value, Mapping) or _plain_values(value, subcharts))
        for key, value in values.items()
    )


def _subcharts(loaded: Any) -> tuple[str, ...]:
    """The top subcharts in a loaded chart, as Helm holds them now."""
    return tuple(sorted(str(d.get("name")) for d in loaded.dependencies))


_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


class HelmBinaryEngine:
    """The `helm` binary on PATH: `helm template` of the same archive, split by `# Source:`."""

    def __init__(self, helm: str) -> None:
        self.helm = helm

    def render(
        self, archive: bytes, values: Mapping[str, Any], release: str, namespace: str,
        log: list[str] | None = None, reusable: bool = False,
        switched_off: Callable[[], Collection[str]] = frozenset,
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


def _helm_log(lines: Sequence[str]) -> list[str]:
    """Helm's log lines as chartfix shows them, each once, with the chart they are about:
    "helm: warning: ..." without Go's time stamp."""
    said = (_GO_LOG_TIME.sub("", line.strip()) for line in lines)
    return list(dict.fromkeys(f"helm: {text}" for text in said if text))


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
            raise TargetError(f"--set {text}", str(err)) from err
    for text in scenario.synthesized:
        merged = deep_merge(merged, helm_python.parse_set_json(text))
    return merged


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


@dataclass
class Stats:
    """What Helm's engine did in this process: the counters tests assert on (never times)."""

    renders: int = 0
    loads: int = 0
    """Charts Helm's library loaded (SdkEngine): fewer than renders when a loaded chart is
    rendered again."""


stats = Stats()


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
    enables it) and the chart renders without it. Raises TargetError naming the template
    file when Helm fails or a rendered document is not YAML.
    """
    staged = stage(chart)
    values = scenario_values(scenario)
    warnings = list(staged.notes)
    if staged.missing:
        warnings += _missing_notes(staged.missing, deep_merge(_defaults(chart.root), values))
    archive = staged.archive_with(overrides)
    log: list[str] = []
    stats.renders += 1
    try:
        manifests = (engine or default_engine()).render(
            archive, values, release, namespace, log=log,
            reusable=(
                not overrides and staged.reusable
                and _plain_values(values, staged.subchart_names)
            ),
            switched_off=lambda: staged.switched_off(
                deep_merge(_defaults(chart.root) if "values.yaml" in staged.files else {}, values)
            ),
        )
    except EngineError as err:
        notes = [*warnings, *_helm_log(log)]
        raise _render_error(chart, staged, str(err), notes) from err
    sources = _chart_sources(chart, staged, overrides)
    try:
        objects = stable_names(list(_objects(chart, staged, manifests)), sources)
    except TargetError as err:  # the notes may explain a document that is not YAML
        raise TargetError(err.path, err.reason, (*err.notes, *warnings)) from err
    clashes = _clashes(objects, namespace)
    if clashes:
        if release == SHORT_RELEASE or _clash_lasts(chart, scenario, overrides, namespace, engine):
            raise _clash_error(chart, clashes[0], namespace)
        warnings += [_clash_warning(pair, release, namespace) for pair in clashes]
    warnings += _repeat_warnings(objects, sources)
    return Rendering(
        scenario.name, objects, release, namespace, warnings,
        borrowed=dict(staged.borrowed), packed=dict(staged.packed),
        synthesized=scenario.synthesized,
        engine_log=tuple(_helm_log(log)),
        values=tuple([f"-f {Path(f).name}" for f in scenario.values_files]
                     + [f"--set {text}" for text in scenario.set_values]),
    )


def _chart_sources(
    chart: Chart, staged: StagedChart, overrides: Mapping[str, bytes] | None
) -> Templates:
    """The templates a render read: one Templates per staged chart for its renders without
    overrides (its helpers, outlines and randomness looked at once for every scenario), a
    fresh one for a fix's edited files."""
    if overrides:
        return Templates(chart.root, overrides, staged.files)
    kept = staged.derived.get("sources")
    if kept is None:
        kept = staged.derived["sources"] = Templates(chart.root, None, staged.files)
    sources: Templates = kept
    return sources


SHORT_RELEASE = "r"
"""The release name a chart is rendered again with when two of its objects share a kind and
name: a clash it renders apart comes from names cut to a fixed length with a long release
name in them."""


def _clashes(
    objects: Sequence[K8sObject], namespace: str
) -> list[tuple[K8sObject, K8sObject]]:
    """Each object rendered with the kind, name and namespace of an earlier one, with that
    one: one release cannot hold both (Helm refuses to install it)."""
    seen: dict[tuple[str, str, str], K8sObject] = {}
    clashes: list[tuple[K8sObject, K8sObject]] = []
    for obj in objects:
        if not obj.name or not obj.kind:
            continue
        first = seen.setdefault((obj.kind, obj.name, obj.namespace or namespace), obj)
        if first is not obj:
            clashes.append((first, obj))
    return clashes


def _clash_lasts(
    chart: Chart, scenario: Scenario, overrides: Mapping[str, bytes] | None, namespace: str,
    engine: Engine | None,
) -> bool:
    """Whether the chart renders two objects of one kind and name under a one-letter release
    name too (else the clash comes from the release name's length)."""
    try:
        render(chart, scenario, overrides, SHORT_RELEASE, namespace, engine)
    except TargetError:
        return True
    return False


def _files(pair: tuple[K8sObject, K8sObject]) -> str:
    first, second = pair
    if first.document.path == second.document.path:
        return f"{second.document.path} (twice)"
    return f"{first.document.path} and {second.document.path}"


def _clash_error(
    chart: Chart, pair: tuple[K8sObject, K8sObject], namespace: str
) -> TargetError:
    """Two documents render one object whatever the release is called: neither findings
    nor fixes about it would be true."""
    obj = pair[1]
    return TargetError(
        chart.root / obj.document.path,
        f"{_files(pair)} both render {obj.kind}/{obj.name} in namespace "
        f"{obj.namespace or namespace}: one release cannot hold two objects of one kind and "
        "name (Helm refuses to install it); rename or remove one",
    )


def _clash_warning(pair: tuple[K8sObject, K8sObject], release: str, namespace: str) -> str:
    """Two documents render one object under this release name only (names cut to a fixed
    length): true of the release, not of the chart's labels, which are analysed with both
    (leaving one out would hide its findings)."""
    obj = pair[1]
    return (
        f"{_files(pair)} both render {obj.kind}/{obj.name} in namespace "
        f"{obj.namespace or namespace} with the release name {release}: Helm refuses to "
        f"install the chart under that name (under a short one, `{SHORT_RELEASE}`, their "
        "names differ: they are cut to a fixed length); both are analysed"
    )


def _missing_notes(
    missing: Sequence[MissingDependency], values: Mapping[str, Any]
) -> list[str]:
    """One note per dependency missing offline that `values` enable. A chart that declares
    one dependency several times under aliases (memcached as memcachedindex, memcachedchunks...)
    gets one note naming the aliases, not one per alias."""
    aliases: dict[tuple[str, str, str, str], list[str]] = {}
    for miss in missing:
        if enabled(miss, values):
            dep = miss.dependency
            key = (dep.name, dep.version, dep.repository, miss.declared_in)
            named = aliases.setdefault(key, [])
            if dep.local_name not in named:
                named.append(dep.local_name)
    notes = []
    for (name, version, repository, declared_in), named in aliases.items():
        under = "" if named == [name] else f" (as {', '.join(named)})"
        notes.append(
            f"dependency {name} {version} ({repository or 'no repository'}){under} "
            f"of {declared_in} is not available offline; rendered without it "
            f"({_missing_hint(name, repository)})"
        )
    return notes


def _missing_hint(name: str, repository: str) -> str:
    """How to give chartfix a missing dependency: the places `dependencies.py` looks in."""
    vendored = "put it in the chart's charts/ as a folder or .tgz (`helm dependency build`)"
    if repository.startswith("file://"):
        return f"to render with it: a chart named {name} at that path, or {vendored}"
    return (
        f"to render with it: {vendored}, or keep chart {name} as a folder in the same git "
        "repository (beside this chart, or anywhere in it)"
    )


_TEMPLATE_IN_ERROR = re.compile(r"[\w.-]+((?:/charts/[\w.-]+)*/templates/[^\s:()\"]+)")


def _render_error(
    chart: Chart, staged: StagedChart, message: str, notes: Sequence[str]
) -> TargetError:
    """Helm's refusal as the chart's error, naming the template file at fault; `notes` (a
    dependency missing offline is the usual cause of an undefined template) go with it."""
    found = _TEMPLATE_IN_ERROR.search(message)
    if found is None:
        return TargetError(chart.root, f"helm could not render: {message}", notes)
    rel = staged.disk_path(found.group(1).lstrip("/"))
    return TargetError(chart.root / rel, f"helm could not render: {message}", notes)


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
            source = FileDocument(rel, index)
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
            out.append((piece, LazyBody(piece, kinds[0], parse, plain_identity(piece))))
            continue
        out.extend((piece, d) for d in _parse_all(chart, rel, piece))
    return out


_METADATA = re.compile(r"^metadata:[ \t]*(?:#[^\n]*)?$", re.MULTILINE)
_TOP = re.compile(r"^[^\s#]", re.MULTILINE)
_ENTRY = re.compile(r"(?P<key>[A-Za-z0-9_./-]+):(?:[ \t]+(?P<value>.*))?")
_VALUE = re.compile(
    r"(?P<text>\"[^\"\\\n]*\"|'[^'\n]*'|[A-Za-z0-9_./][A-Za-z0-9_./:@+=~-]*(?<!:))"
    r"[ \t]*(?:[ \t]#.*)?"
)
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"


@lru_cache(maxsize=4096)
def plain_identity(text: str) -> tuple[str, str | None] | None:
    """(metadata.name, metadata.namespace) of one rendered document, read from its text
    without parsing it when the text writes them plainly: one top-level block `metadata:`
    whose entries are simple `key: value` lines, each value a plain or quoted string on its
    line. None when anything is less plain (a flow mapping, a merge key, an alias, a tag, a
    value YAML reads as another type, a value continued on the next line): then the
    document is parsed to know."""
    found = _METADATA.findall(text)
    if len(found) != 1:
        return None
    start = _METADATA.search(text)
    assert start is not None
    rest = text[start.end() + 1 :]
    end = _TOP.search(rest)
    lines = [
        line for line in (rest[: end.start()] if end else rest).split("\n")
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return None
    indent = len(lines[0]) - len(lines[0].lstrip(" "))
    values: dict[str, str | None] = {}
    for index, line in enumerate(lines):
        depth = len(line) - len(line.lstrip(" "))
        if depth > indent:
            continue
        entry = _ENTRY.fullmatch(line, indent)
        if depth < indent or line[depth] == "\t" or entry is None or entry["key"] == "<<":
            return None
        key = entry["key"]
        if key in ("name", "namespace"):
            value = _VALUE.fullmatch(entry["value"] or "")
            follows = lines[index + 1] if index + 1 < len(lines) else ""
            if value is None or key in values or len(follows) - len(follows.lstrip(" ")) > indent:
                return None  # empty (a block below it, or null), not plain, twice, continued
            values[key] = _plain_string(value["text"])
            if values[key] is None:
                return None
    return values.get("name") or "", values.get("namespace")


def _plain_string(value: str) -> str | None:
    """A scalar as YAML reads it, when it is surely a string."""
    if value[0] in "\"'":
        return value[1:-1]
    return value if _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR else None


def _parse_one(chart: Chart, rel: str, text: str) -> Mapping[str, Any]:
    docs = _parse_all(chart, rel, text)
    return docs[0] if docs and isinstance(docs[0], Mapping) else {}


class _Parsed:
    """Parsed documents by their text, for one chart at a time: its scenarios, its release
    renders and the verification renders of a fix mostly render the same documents, and
    another chart's seldom. Bounded by the text it holds, not by a count of documents: a
    chart of 1,600 workloads renders 4,800 of them each time, and a cache emptied part-way
    through every render of it saved nothing (each render parsed everything again)."""

    MAX_TEXT = 32 << 20

    def __init__(self) -> None:
        self.root: Path | None = None
        self.docs: dict[str, list[Any]] = {}
        self.size = 0

    def get(self, root: Path, text: str) -> list[Any] | None:
        if root != self.root:
            self.clear()
            self.root = root
        return self.docs.get(text)

    def put(self, text: str, docs: list[Any]) -> None:
        if self.size + len(text) > self.MAX_TEXT:
            self.clear()
        self.docs[text] = docs
        self.size += len(text)

    def clear(self) -> None:
        self.docs.clear()
        _repeated.clear()
        self.size = 0


_parsed = _Parsed()


def _parse_all(chart: Chart, rel: str, text: str) -> list[Any]:
    cached = _parsed.get(chart.root, text)
    if cached is not None:
        return cached
    docs = _parse_uncached(chart, rel, text)
    _parsed.put(text, docs)
    return docs


def _parse_uncached(chart: Chart, rel: str, text: str) -> list[Any]:
    _repeated.pop(text, None)
    try:
        docs = list(yamlfile.load_all(
            text, chart.root / rel, max_bytes=None, check=partial(_no_duplicate_label_key, text)
        ))
    except _DuplicateKey as err:
        raise TargetError(chart.root / rel, str(err)) from err
    except TargetError as err:
        raise TargetError(chart.root / rel, f"rendered {err.reason}") from err
    return [d for d in docs if d is not None]
