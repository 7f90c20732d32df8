"""`.chartfix.yaml`: per-chart or per-repository settings a team commits next to its charts.

    components:          # workload (rendered name, or its suffix after the fullname) -> value
      worker: background
    label-jobs: false    # also label Jobs, CronJobs and test Pods

The file in the chart directory wins over one in a parent directory, up to the repository
root (the first directory holding `.git`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chartfix.errors import ChartError

CONFIG_NAME = ".chartfix.yaml"


@dataclass(frozen=True)
class Config:
    components: dict[str, str] = field(default_factory=dict)
    label_jobs: bool = False


def load_config(chart_root: Path) -> Config:
    components: dict[str, str] = {}
    label_jobs = False
    for directory in reversed(_config_dirs(chart_root)):
        path = directory / CONFIG_NAME
        if not path.is_file():
            continue
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoAliases) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ChartError(path, f"cannot read chartfix config: {err}") from err
        if not isinstance(data, dict):
            raise ChartError(path, "chartfix config must be a mapping")
        raw = data.get("components") or {}
        if not isinstance(raw, dict):
            raise ChartError(path, "`components` must map workload names to values")
        components.update({str(k): str(v) for k, v in raw.items()})
        label_jobs = bool(data.get("label-jobs", label_jobs))
    return Config(components, label_jobs)


class _NoAliases(yaml.SafeLoader):
    """Safe YAML without aliases: a config never needs them, and a few nested aliases
    (a "billion laughs") expand to gigabytes."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a chartfix config", mark
            )
        return super().compose_node(parent, index)


def _config_dirs(chart_root: Path) -> list[Path]:
    """The chart directory and its parents up to the repository root, nearest first."""
    dirs = []
    for directory in [chart_root, *chart_root.parents]:
        dirs.append(directory)
        if (directory / ".git").exists():
            break
    else:
        return [chart_root]
    return dirs
