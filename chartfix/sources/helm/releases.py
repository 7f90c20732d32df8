"""A chart's next release, rendered: the same scenario with Chart.yaml's versions bumped.

The chart's `version` and `appVersion` are raised in an in-memory Chart.yaml handed to Helm
with the chart's other files (nothing on disk changes), and so are those of the dependencies
staged as folders (`charts/NAME/Chart.yaml`); whatever the templates derive from
them (`helm.sh/chart`, `app.kubernetes.io/version`, an image tag defaulting to the app
version) renders as the next release would. The same scenario rendered once more unchanged
is the control (chartfix.model.releases), rendered only when the next release changes a
label otherwise than by the bumped version strings and the chart may render differently
twice (not `deterministic`): a checksum of a ConfigMap holding the version changes with the
release, and a chart calling no random function needs no control to tell that from noise.
Named extra renders per chart: `SCENARIO: next-release`, and where needed `SCENARIO:
control`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from chartfix import yamlfile
from chartfix.errors import TargetError
from chartfix.model.objects import Rendering
from chartfix.model.releases import CONTROL, NEXT_RELEASE, ReleaseDiff, ReleasePair, unexplained
from chartfix.sources.helm.chart import Chart, Scenario
from chartfix.sources.helm.dependencies import stage
from chartfix.sources.helm.render import render

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def bumped(version: str) -> str:
    """The next release's version: its last number raised (`5.18.1` -> `5.18.2`,
    `1.0.0-rc.1` -> `1.0.0-rc.2`, `v2.12.0` -> `v2.12.1`); `-next` added when it has none."""
    found = _LAST_NUMBER.search(version)
    if found is None:
        return f"{version}-next"
    number = str(int(found.group(1)) + 1).zfill(len(found.group(1)))
    return version[: found.start()] + number + version[found.end() :]


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when PyYAML has it


def next_chart_yaml(data: bytes) -> bytes:
    """A Chart.yaml as the next release has it: `version` and `appVersion` bumped."""
    meta = _meta(data)
    for key in ("version", "appVersion"):
        if meta.get(key) not in (None, ""):
            meta[key] = bumped(str(meta[key]))
    return yaml.dump(meta, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode("utf-8")


def _meta(data: bytes) -> dict[str, Any]:
    meta = yamlfile.load(data, "Chart.yaml")
    return meta if isinstance(meta, dict) else {}


def next_release_files(chart: Chart) -> dict[str, bytes]:
    """Every Chart.yaml of the staged chart bumped: the chart's own, and those of its
    dependencies staged as folders (an umbrella's next release usually brings theirs; a
    packaged dependency keeps its archive). Worked out once per staged chart."""
    staged = stage(chart)
    if "next release" not in staged.derived:
        staged.derived["next release"] = {
            path: next_chart_yaml(data)
            for path, data in staged.files.items()
            if path == "Chart.yaml"
            or (path.startswith("charts/") and path.endswith("/Chart.yaml"))
        }
    files: dict[str, bytes] = staged.derived["next release"]
    return dict(files)


def version_bumps(chart: Chart) -> dict[str, str]:
    """Every version string the next release changes (old -> new), also as Helm writes it in
    a label (`+` as `_`): what a label may hold and still just follow the release."""
    bumps: dict[str, str] = {}
    for path in next_release_files(chart):
        meta = _meta(stage(chart).files[path])
        for key in ("version", "appVersion"):
            if meta.get(key) not in (None, ""):
                old = str(meta[key])
                bumps[old] = bumped(old)
                bumps[old.replace("+", "_")] = bumped(old).replace("+", "_")
    return bumps


NONDETERMINISTIC = re.compile(
    r"\b(?:rand\w*|uuidv4|now|ago|shuffle|htpasswd|bcrypt|encryptAES|getHostByName"
    r"|gen(?:CA|PrivateKey|SelfSignedCert|SignedCert)\w*)\b"
)
"""Template functions whose result differs between two renders of the same input (random
values, the time, keys and salts, a DNS answer)."""
_ACTION = re.compile(rb"\{\{.*?\}\}", re.DOTALL)


def deterministic(
    chart: Chart, scenario: Scenario, files: Mapping[str, bytes] | None = None
) -> bool:
    """Whether rendering `scenario` twice surely gives the same text: no template action in
    any staged file (templates, values a `tpl` may render, files read by `.Files`), in
    `files`, or in the scenario's values calls a function of `NONDETERMINISTIC`, and no
    dependency is packaged (its archive is not read here). Then the control render is the
    rendering itself."""
    staged = stage(chart)
    if staged.packed:
        return False
    if "random" not in staged.derived:
        staged.derived["random"] = any(_calls_random(data) for data in staged.files.values())
    if staged.derived["random"] or any(_calls_random(d) for d in (files or {}).values()):
        return False
    given = [scenario.base, *scenario.set_values, *scenario.synthesized]
    try:
        given += [Path(p).read_text("utf-8", "replace") for p in scenario.values_files]
    except OSError:
        return False
    return not any(_calls_random(text.encode("utf-8", "replace")) for text in given)


def _calls_random(data: bytes) -> bool:
    return any(
        NONDETERMINISTIC.search(action.decode("utf-8", "replace"))
        for action in _ACTION.findall(data)
    )


def release_pair(
    chart: Chart,
    scenario: Scenario,
    this: Rendering,
    files: Mapping[str, bytes] | None = None,
    release: str = "release-name",
    namespace: str = "default",
) -> ReleasePair | str:
    """`this` (the scenario's rendering, with `files` replacing the chart's) with the next
    release's rendering and the control, or why the next release cannot be rendered."""
    if "Chart.yaml" in (files or {}):
        return "the fix edits Chart.yaml"
    try:
        upcoming = {**(files or {}), **next_release_files(chart)}
        later = render(chart, scenario, upcoming, release, namespace)
        again = (
            render(chart, scenario, files, release, namespace)
            if unexplained(this, later, version_bumps(chart))
            and not deterministic(chart, scenario, files)
            else None
        )
    except (TargetError, yaml.YAMLError, KeyError) as err:
        reason = err.reason if isinstance(err, TargetError) else str(err)
        return f"the next release of {chart.name} does not render: {reason}"
    versions = (
        f"{chart.version} -> {bumped(chart.version)}",
        f"{chart.app_version} -> {bumped(chart.app_version)}" if chart.app_version else "",
    )
    return ReleasePair(
        this,
        replace(later, scenario=f"{this.scenario}: {NEXT_RELEASE}"),
        again and replace(again, scenario=f"{this.scenario}: {CONTROL}"),
        (f"version {versions[0]}", *([f"appVersion {versions[1]}"] if versions[1] else [])),
    )


def release_diff(
    chart: Chart,
    scenario: Scenario,
    this: Rendering,
    files: Mapping[str, bytes] | None = None,
    release: str = "release-name",
    namespace: str = "default",
) -> ReleaseDiff:
    """How `this` rendering's labels change with the chart's next release (see
    chartfix.model.releases); the key list stands in, with the reason, where the next
    release does not render."""
    pair = release_pair(chart, scenario, this, files, release, namespace)
    return ReleaseDiff.by_keys(pair) if isinstance(pair, str) else ReleaseDiff.of(pair)
