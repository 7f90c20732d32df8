"""`.chartfix.yaml`: per-chart or per-repository settings a team commits next to its charts.

    components:          # workload (rendered name, or its suffix after the fullname) -> value
      worker: background
    label-jobs: false    # also label Jobs, CronJobs and test Pods
    recipe: legacy-component  # the declarative recipe `fix`/`bulk` run without --recipe
                         # (or a recipe file, relative to this file, inside the repository)
    rules:               # rule control (the command line's --include/--exclude/--severity win)
      exclude: [spans]   # or include: [overlap, stray]: only these
      severity: {volatile: warning}
    suppress:            # accepted findings, by rule and object name pattern
      - rule: spans
        object: "*-memberlist"       # name, or Kind/name; * and ? as in shell patterns
        reason: gossip ring, one Service over every member on purpose
    run-apps: true       # run the cdk8s apps here (their Python is code; counts only with
                         # --trusted on the command line)
    values:              # organisation values, layered under every scenario of every chart
      global:            # (or a list of values files, relative to this file, inside the
        region: eu-west-1  # repository)

The file in the chart directory wins over one in a parent directory, up to the repository
root (the first directory holding `.git`); `suppress` entries of every file apply; `values`
merge, the nearer file's keys winning. An unknown key is an error that names the key and
the known ones: a misspelt setting must not be silently ignored.

Organisation values are what a platform team sets for every deployment; chartfix renders
with them before it synthesizes any missing value (see synthesis.py).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartfix.cache import file_digest
from chartfix.errors import TargetError, UsageError
from chartfix.files import git_repository, is_repository_top, named_path
from chartfix.model.findings import SEVERITIES, Severity
from chartfix.rules import RULES
from chartfix.rules.policy import Policy, SuppressEntry
from chartfix.values import MAX_VALUES_DEPTH, deep_merge, depth, parse_values_file, too_deep

CONFIG_NAME = ".chartfix.yaml"
KEYS = ("components", "label-jobs", "rules", "suppress", "run-apps", "recipe", "values")
RULE_KEYS = ("include", "exclude", "severity")
SUPPRESS_KEYS = ("rule", "object", "reason")


@dataclass(frozen=True)
class Config:
    components: dict[str, str] = field(default_factory=dict)
    label_jobs: bool = False
    policy: Policy = field(default_factory=Policy)
    run_apps: bool | None = None
    """`run-apps`: None when no config file says."""
    recipe: tuple[Path, str] | None = None
    """(directory of the file that names it, recipe name or file relative to it)."""
    values: dict[str, Any] = field(default_factory=dict)
    read: dict[Path, str] = field(default_factory=dict)
    """sha256 of each values file `values:` names, by path: a cached check of the target is
    trusted only while they are unchanged (they may lie outside it, where its key cannot
    see them)."""


def load_config(target_root: Path) -> Config:
    components: dict[str, str] = {}
    label_jobs = False
    policy = Policy()
    run_apps: bool | None = None
    recipe: tuple[Path, str] | None = None
    values: dict[str, Any] = {}
    read: dict[Path, str] = {}
    dirs = _config_dirs(target_root)
    for directory in reversed(dirs):
        path = directory / CONFIG_NAME
        if not path.is_file():
            if path.exists():  # a directory of that name: said, not silently ignored
                raise TargetError(path, "is not a file: chartfix reads its config from a file")
            continue
        _refuse_outside_link(path, dirs[-1])
        data = _read(path)
        if not isinstance(data, dict):
            raise TargetError(path, "chartfix config must be a mapping")
        _known(path, "", data, KEYS)
        raw = data.get("components") or {}
        if not isinstance(raw, dict):
            raise TargetError(path, "`components` must map workload names to values")
        components.update({str(k): str(v) for k, v in raw.items()})
        label_jobs = bool(data.get("label-jobs", label_jobs))
        if "recipe" in data:
            if not isinstance(data["recipe"], str) or not data["recipe"].strip():
                raise TargetError(path, "`recipe` must name a recipe or a recipe file")
            recipe = (directory, data["recipe"].strip())
        policy = policy.overridden_by(_policy(path, data))
        if "run-apps" in data:
            if not isinstance(data["run-apps"], bool):
                raise TargetError(path, "`run-apps` must be true or false")
            run_apps = data["run-apps"]
        values = deep_merge(values, _values_key(path, data.get("values"), read))
    return Config(components, label_jobs, policy, run_apps, recipe, values, read)


def _policy(path: Path, data: Mapping[str, Any]) -> Policy:
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise TargetError(path, "`rules` must be a mapping with include, exclude, severity")
    _known(path, "rules.", rules, RULE_KEYS)
    include = _rule_list(path, "rules.include", rules.get("include"))
    exclude = _rule_list(path, "rules.exclude", rules.get("exclude")) or []
    severity = rules.get("severity") or {}
    if not isinstance(severity, dict):
        raise TargetError(path, "`rules.severity` must map rules to error or warning")
    overrides: list[tuple[str, Severity]] = []
    for rule, level in severity.items():
        overrides.append((_rule(path, "rules.severity", rule), _severity(path, rule, level)))
    entries = data.get("suppress") or []
    if not isinstance(entries, list):
        raise TargetError(path, "`suppress` must be a list of {rule, object, reason}")
    suppress = [_suppress_entry(path, index, entry) for index, entry in enumerate(entries)]
    return Policy(
        None if include is None else frozenset(include),
        frozenset(exclude),
        tuple(overrides),
        tuple(suppress),
    )


def _suppress_entry(path: Path, index: int, entry: Any) -> SuppressEntry:
    where = f"suppress[{index}]"
    if not isinstance(entry, dict):
        raise TargetError(path, f"`{where}` must be a mapping with rule, object, reason")
    _known(path, f"{where}.", entry, SUPPRESS_KEYS)
    missing = [k for k in SUPPRESS_KEYS if not str(entry.get(k) or "").strip()]
    if missing:
        raise TargetError(path, f"`{where}` needs {', '.join(missing)}")
    rule = _rule(path, f"{where}.rule", entry["rule"])
    return SuppressEntry(
        rule, str(entry["object"]).strip(), str(entry["reason"]).strip(), path, where
    )


def _rule_list(path: Path, where: str, raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise TargetError(path, f"`{where}` must be a list of rules")
    return [_rule(path, where, r) for r in raw]


def _rule(path: Path, where: str, name: Any) -> str:
    if str(name) not in RULES:
        raise TargetError(
            path, f"`{where}`: unknown rule {name!r}; rules: {', '.join(RULES)}"
        )
    return str(name)


def _severity(path: Path, rule: str, level: Any) -> Severity:
    for severity in SEVERITIES:
        if str(level) == severity:
            return severity
    raise TargetError(
        path, f"`rules.severity.{rule}`: {level!r} is no severity; use {' or '.join(SEVERITIES)}"
    )


def _known(path: Path, prefix: str, data: Mapping[str, Any], known: Sequence[str]) -> None:
    """Unknown keys are errors naming the key, the closest known key, and all of them."""
    for key in data:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f" (did you mean `{prefix}{close[0]}`?)" if close else ""
        raise TargetError(
            path,
            f"unknown key `{prefix}{key}`{hint}; known keys: "
            + ", ".join(f"{prefix}{k}" for k in known),
        )


def _values_key(path: Path, raw: Any, read: dict[Path, str]) -> dict[str, Any]:
    """The values `values:` of the config file at `path` gives; each file it names is added
    to `read` with its sha256."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list) and all(isinstance(f, str) for f in raw):
        merged: dict[str, Any] = {}
        bound = git_repository(path) or path.parent
        for name in raw:
            named = named_path(path, name, bound, "values")
            merged = deep_merge(merged, parse_values_file(named))
            read[named] = file_digest(named)
        return merged
    raise TargetError(path, "`values` must be a mapping of values or a list of values files")


def organisation_values(config: Mapping[str, Any], given: str = "") -> str:
    """The organisation values of a chart as JSON: its config's, then the command line's."""
    merged = deep_merge(config, json.loads(given) if given else {})
    return json.dumps(merged) if merged else ""


def values_json(files: Sequence[Path], set_values: Sequence[str]) -> str:
    """Values files and --set strings read once, here, merged as Helm would, as JSON.

    Raises UsageError naming the file or string Helm cannot read.
    """
    if not files and not set_values:
        return ""  # and Helm's library stays unloaded: bulk's workers are forked after this
    import helm_python

    merged: dict[str, Any] = {}
    try:
        for name in files:
            merged = deep_merge(merged, parse_values_file(Path(name)))
    except TargetError as err:
        raise UsageError(str(err)) from err
    for text in set_values:
        try:
            merged = deep_merge(merged, helm_python.parse_set_string(text))
        except helm_python.HelmError as err:
            raise UsageError(f"--set {text}: {err}") from err
    return json.dumps(merged) if merged else ""


def _read(path: Path) -> Any:
    """A config file's data: safe YAML without aliases (a config never needs them, and a few
    nested aliases, a "billion laughs", expand to gigabytes), bounded in size and depth."""
    import yaml  # here: a run the cache answers reads no config

    from chartfix import yamlfile

    try:
        text = path.read_text(encoding="utf-8")
        yamlfile.check_size(text, path)
        data = yaml.load(text, Loader=yamlfile.NoAliases) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise TargetError(path, f"cannot read chartfix config: {err}") from err
    except RecursionError as err:
        raise too_deep(path) from err
    if depth(data) > MAX_VALUES_DEPTH:
        raise too_deep(path)
    return data


def _refuse_outside_link(path: Path, top: Path) -> None:
    """TargetError, before reading, for a config file that is a link out of `top` (the
    repository, or the chart's folder outside one): the values files' rule."""
    target = path.resolve()
    if not target.is_relative_to(top.resolve()):
        raise TargetError(path, f"symlink points outside the repository, to {target}")


def config_files(target_root: Path) -> list[Path]:
    """Every `.chartfix.yaml` that may apply to the chart at `target_root`, there or not (what
    a cached analysis depends on)."""
    return [directory / CONFIG_NAME for directory in _config_dirs(target_root)]


def _config_dirs(target_root: Path) -> list[Path]:
    """The chart directory and its parents up to the repository root, nearest first."""
    dirs = []
    for directory in [target_root, *target_root.parents]:
        dirs.append(directory)
        if is_repository_top(directory):
            break
    else:
        return [target_root]
    return dirs
