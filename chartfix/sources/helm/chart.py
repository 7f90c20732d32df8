"""A chart on disk: finding charts, reading Chart.yaml, its scenarios, its files and writes.

Everything that touches the chart's directory goes through here, so the safety rules live in
one place: a symlink is read through, as Helm does, while it stays inside the repository (a
monorepo shares a values.yaml between charts that way); one that leaves the repository is an
error, never followed; reads refuse paths that escape it; writes are atomic and never go
through a symlink at all (the file behind it belongs to another chart too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartfix.errors import TargetError, UsageError
from chartfix.files import repository_root, where
from chartfix.model.kinds import KindFacts
from chartfix.sources.base import kustomization_file
from chartfix.values import parse_values_file

FACTS = KindFacts(
    name="helm",
    noun="chart",
    looks_for="chart (Chart.yaml)",
    rendered_by="the chart with Helm's engine",
    released=True,
)
"""What the Helm kind is called and how its charts are released (`SourceKind.facts`)."""

SKIPPED_DIRS = frozenset({"node_modules"})
"""Directories never searched for charts (besides hidden ones)."""


# --- finding charts ----------------------------------------------------------------------


def find_charts(paths: Sequence[Path]) -> list[Path]:
    """Chart directories named by `paths`: each is a chart or a tree searched for charts.

    A chart's own `charts/` folder holds its dependencies, not targets, so it is not
    searched; its other folders are (monorepos nest charts). Hidden folders, node_modules
    and symlinked folders are skipped. Sorted, deduplicated, resolved.
    """
    found: set[Path] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
        if path.is_file() and path.name == "Chart.yaml":
            path = path.parent
        if not path.is_dir():
            raise UsageError(f"{path}: not a chart directory")
        if not os.access(path, os.R_OK | os.X_OK) or (path / "Chart.yaml").is_file():
            found.add(path.resolve())  # an unreadable folder is a target: its error line
            continue
        found.update(_search(path.resolve()))
    return sorted(found)


def _search(top: Path) -> Iterator[Path]:
    """Chart folders below `top`, and the folders that cannot be read (they might hold one:
    each gets its error line instead of vanishing from the run)."""
    unreadable: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top, onerror=lambda e: unreadable.append(
        Path(e.filename)
    )):
        is_chart = "Chart.yaml" in filenames
        if is_chart:
            yield Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in SKIPPED_DIRS and not (is_chart and d == "charts")
        )
    yield from unreadable


# --- Chart.yaml ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dependency:
    """One entry of Chart.yaml `dependencies:` (or requirements.yaml for apiVersion v1)."""

    name: str
    version: str = ""
    repository: str = ""
    alias: str | None = None
    condition: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def local_name(self) -> str:
        """The name the subchart renders under (its alias when it has one)."""
        return self.alias or self.name


@dataclass(frozen=True)
class Chart:
    """A chart directory and the facts of its Chart.yaml that chartfix needs."""

    root: Path
    name: str
    version: str
    app_version: str | None
    api_version: str
    dependencies: tuple[Dependency, ...] = ()
    snapshot: str = field(
        default_factory=lambda: os.urandom(8).hex(), init=False, compare=False, repr=False
    )
    """This load's own name: one `load_chart` is one snapshot of the chart, and what is
    staged from it is kept under this name (a chart loaded again is staged again)."""


def load_chart(root: Path) -> Chart:
    """Read the chart at `root`, checking what would make every later step unsafe or moot.

    Raises TargetError naming the file for: a missing or unparsable Chart.yaml (with the YAML
    line), a Chart.yaml without name or version, an unparsable values.yaml, and any symlink
    in the chart that points outside it, and a folder that is as much a kustomization.
    """
    root = Path(root).resolve()
    meta_path = root / "Chart.yaml"
    if not meta_path.is_file():
        raise TargetError(meta_path, "missing Chart.yaml")
    check_symlinks(root)
    meta = _yaml_mapping(meta_path)
    for key in ("name", "version"):
        if not meta.get(key):
            raise TargetError(meta_path, f"Chart.yaml has no {key}")
    name = str(meta["name"])
    if name != os.path.basename(name):
        # Helm's own check (Metadata.Validate): the name is the folder of the chart archive
        raise TargetError(meta_path, f"chart name {name!r} is invalid: it must not be a path")
    read_default_values(root)
    refuse_ambiguous(root)
    return Chart(
        root=root,
        name=str(meta["name"]),
        version=str(meta["version"]),
        app_version=None if meta.get("appVersion") is None else str(meta["appVersion"]),
        api_version=str(meta.get("apiVersion") or "v1"),
        dependencies=tuple(declared_dependencies(root, meta)),
    )

def refuse_ambiguous(root: Path) -> None:
    """A folder with a Chart.yaml and a kustomization is a chart only with a templates/
    folder (a chart whose output a kustomization post-renders): without one, Helm renders
    nothing of its own while `kubectl kustomize` builds the kustomization, and deployers
    disagree on which it is (Argo CD's releases have picked each), so chartfix says so
    instead of checking one and calling the other clean."""
    kustomization = kustomization_file(root)
    if kustomization is not None and not (root / "templates").is_dir():
        raise TargetError(
            root, f"both Chart.yaml and {kustomization.name}, and no templates/ folder: "
            "ambiguous (a Helm chart or a kustomization?); remove the one not in use, or "
            "move the kustomization to a folder of its own"
        )


def kustomization_not_built(root: Path) -> list[str]:
    """What a chart says of a kustomization beside its Chart.yaml (see refuse_ambiguous)."""
    kustomization = kustomization_file(root)
    if kustomization is None:
        return []
    return [
        f"{kustomization.name} was not built: a folder with Chart.yaml and templates/ is "
        "checked as a Helm chart"
    ]



def read_chart_meta(root: Path) -> dict[str, Any]:
    """Chart.yaml of any chart directory (dependencies included) as a mapping."""
    return _yaml_mapping(Path(root) / "Chart.yaml")


def _yaml_mapping(path: Path) -> dict[str, Any]:
    from chartfix import yamlfile  # here: finding charts needs no YAML library

    try:
        text = path.read_bytes()
    except OSError as err:
        raise TargetError(path, f"cannot read: {err.strerror or err}") from err
    data = yamlfile.load(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TargetError(path, "expected a YAML mapping")
    return data


def declared_dependencies(root: Path, meta: Mapping[str, Any]) -> Iterator[Dependency]:
    """Dependencies a chart declares: Chart.yaml, or requirements.yaml (apiVersion v1)."""
    meta_path = root / "Chart.yaml"
    raw = meta.get("dependencies")
    requirements = root / "requirements.yaml"
    if raw is None and requirements.is_file():
        meta_path = requirements
        raw = _yaml_mapping(requirements).get("dependencies")
    if raw is None:
        return
    if not isinstance(raw, list):
        raise TargetError(meta_path, "dependencies must be a list")
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise TargetError(meta_path, "a dependency has no name")
        tags = entry.get("tags") or ()
        yield Dependency(
            name=str(entry["name"]),
            version=str(entry.get("version") or ""),
            repository=str(entry.get("repository") or ""),
            alias=str(entry["alias"]) if entry.get("alias") else None,
            condition=str(entry["condition"]) if entry.get("condition") else None,
            tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        )


def read_default_values(root: Path) -> dict[str, Any]:
    """The chart's values.yaml, parsed by Helm's own parser (so types match Helm's).

    A chart without values.yaml has no defaults. Raises TargetError naming values.yaml.
    """
    path = Path(root) / "values.yaml"
    if not path.is_file():
        return {}
    return parse_values_file(path)


ABSENT: Any = object()
"""What `value_at` gives for a path the values do not hold (a value may be None)."""


def value_at(values: Mapping[str, Any], dotted: str) -> Any:
    """The value at the dotted path `a.b.c` of chart values, or ABSENT."""
    node: Any = values
    for part in dotted.split(".") if dotted else [""]:
        if not isinstance(node, Mapping) or part not in node:
            return ABSENT
        node = node[part]
    return node


# --- symlinks ------------------------------------------------------------------------------


def check_symlinks(root: Path) -> None:
    """Raise TargetError for the first symlink in the chart that resolves outside its repository.

    Helm follows symlinks when it loads a chart directory, so a link out of the repository
    would let rendering reach files that are not the organisation's. Links that stay inside
    it (to a sibling chart's values.yaml) are read through, as Helm does.
    """
    root = root.resolve()
    bound = repository_root(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in sorted(dirnames + filenames):
            link = Path(dirpath, name)
            if link.is_symlink():
                try:
                    target = link.resolve(strict=False)
                except (RuntimeError, OSError) as err:
                    raise TargetError(link, "symlink loop") from err
                if not target.is_relative_to(bound):
                    outside = where(root, bound)
                    raise TargetError(link, f"symlink points outside {outside}, to {target}")


# --- the files Helm loads ------------------------------------------------------------------


def chart_files(root: Path) -> dict[str, bytes]:
    """Every file Helm would load from the chart directory, by chart-relative path.

    Applies the chart's .helmignore as Helm does (plus Helm's default `templates/.?*`) and
    follows symlinks that stay inside the chart. `.git` folders are never read: they cannot
    matter to a render and can be large.
    """
    root = root.resolve()
    bound = repository_root(root)
    rules = IgnoreRules.for_chart(root)
    files: dict[str, bytes] = {}
    seen: set[Path] = set()

    def walk(directory: Path, rel_dir: str) -> None:
        real = directory.resolve()
        if real in seen:  # a symlink loop inside the chart
            return
        seen.add(real)
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            rel = f"{rel_dir}{entry.name}"
            is_dir = entry.is_dir()  # follows symlinks, like Helm's loader
            if entry.name == ".git" or rules.ignored(rel, is_dir):
                continue
            if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(bound):
                raise TargetError(entry.path, f"symlink points outside {where(root, bound)}")
            if is_dir:
                walk(Path(entry.path), rel + "/")
            elif entry.is_file():
                files[rel] = Path(entry.path).read_bytes()

    walk(root, "")
    return files


def tree_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint of a chart tree (paths, sizes, mtimes): a changed chart misses caches."""
    out: list[tuple[str, int, int]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            try:
                st = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            out.append((os.path.join(dirpath, name), st.st_size, st.st_mtime_ns))
    return tuple(out)


@dataclass(frozen=True)
class _IgnoreRule:
    pattern: re.Pattern[str]
    negate: bool
    dir_only: bool
    basename_only: bool


class IgnoreRules:
    """Helm's .helmignore semantics (pkg/ignore), including its quirks.

    Patterns are Go `filepath.Match` globs (`*` stops at `/`); a pattern without `/` matches
    the base name; a leading `/` anchors at the root; a trailing `/` matches directories only;
    `!pattern` is Helm's negation: any path the pattern does *not* match is ignored.
    """

    def __init__(self, lines: Sequence[str]) -> None:
        self.rules = [r for r in (_parse_rule(line) for line in lines) if r is not None]

    @classmethod
    def for_chart(cls, root: Path) -> IgnoreRules:
        lines = ["templates/.?*"]
        ignore_file = root / ".helmignore"
        if ignore_file.is_file():
            lines += ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        return cls(lines)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for rule in self.rules:
            subject = rel.rsplit("/", 1)[-1] if rule.basename_only else rel
            if rule.negate:
                if rule.dir_only and not is_dir:
                    return True
                if not rule.pattern.fullmatch(subject):
                    return True
                continue
            if rule.dir_only and not is_dir:
                continue
            if rule.pattern.fullmatch(subject):
                return True
        return False


def _parse_rule(line: str) -> _IgnoreRule | None:
    rule = line.strip()
    if not rule or rule.startswith("#") or "**" in rule:
        return None  # Helm rejects `**`; we skip it rather than fail the chart
    negate = rule.startswith("!")
    rule = rule.removeprefix("!")
    dir_only = rule.endswith("/")
    rule = rule.rstrip("/")
    anchored = rule.startswith("/")
    rule = rule.lstrip("/")
    return _IgnoreRule(_glob_regex(rule), negate, dir_only, not anchored and "/" not in rule)


def _glob_regex(glob: str) -> re.Pattern[str]:
    """Go filepath.Match syntax as a regex: `*`, `?`, `[...]` (with `^` negation), `\\`."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        elif c == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            body = glob[i + 1 : end]
            negated = body.startswith("^")
            body = body.removeprefix("^").replace("\\", "\\\\")
            out.append(f"[{'^' if negated else ''}{body}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One set of values a chart is rendered with: defaults, a ci/ file, or the user's.

    Values layer as Helm's `-f` flags would, later wins: the chart's values.yaml, then
    `base` (organisation values: bulk -f/--set and the `values` key of .chartfix.yaml, as
    JSON), then `values_files`, then `set_values`, then `synthesized`: placeholders chartfix
    made up so that a chart that needs deploy-time values renders at all (`--set-json`
    strings, `global.region="placeholder-1"`; see synthesis.py). A synthesized scenario is
    marked as such wherever it is reported.
    """

    name: str
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    base: str = ""
    synthesized: tuple[str, ...] = ()


CI_VALUES_GLOB = "*-values.yaml"
"""chart-testing's convention (`ct`'s NewChart: `filepath.Glob(chart/ci/*-values.yaml)`):
only these files in ci/ are test configurations; others there are not."""


def scenarios(
    chart: Chart,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    base: str = "",
) -> list[Scenario]:
    """The scenarios of `chart` (see scenarios_at)."""
    return scenarios_at(chart.root, values_files, set_values, base)


def scenarios_at(
    root: Path,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    base: str = "",
) -> list[Scenario]:
    """The configurations to analyse the chart under, and to verify a fix against.

    Without user values: "default" (values.yaml alone) plus one "ci/<file>" scenario per
    `ci/*-values.yaml` (chart-testing's convention: each file rendered over the defaults).
    chart-testing skips the defaults when ci/ has files; chartfix keeps them, as a fix
    ships to every user, but a chart whose defaults cannot render is still analysed
    under the ci/ scenarios that can (see synthesis.render_scenarios).

    With -f/--set: "user" replaces "default" (the user told us how they deploy; the bare
    defaults are then not what they ship), and the ci/ scenarios stay as the chart defines
    them, without the user's values layered on: a fix is written into the chart for every
    user, so it must keep the chart's own test configurations rendering, and mixing the
    user's values into those would create configurations nobody runs. Organisation values
    (`base`) are layered under every scenario: they are what every deployment sets.
    """
    first = (
        Scenario("user", tuple(Path(f) for f in values_files), tuple(set_values), base)
        if values_files or set_values
        else Scenario("default", base=base)
    )
    ci_files = sorted(p for p in (root / "ci").glob(CI_VALUES_GLOB) if p.is_file())
    return [first] + [Scenario(f"ci/{p.name}", (p,), base=base) for p in ci_files]
