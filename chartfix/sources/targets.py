"""What chartfix works on: Helm charts (a `Chart.yaml`) and cdk8s apps written in Python (a
`cdk8s.yaml`). Both go through the same rules; each has its own renderer and editor."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from chartfix.errors import UsageError
from chartfix.sources.cdk8s.app import find_apps
from chartfix.sources.helm.chart import find_charts

PACKAGED = (".tgz", ".tar.gz")
"""What `helm package` makes: a chart in a tarball."""


def find_targets(paths: Sequence[Path]) -> list[Path]:
    """Every chart and cdk8s app under `paths`, sorted, each once.

    A file (other than a Chart.yaml) stands for the chart or app that holds it, so that a
    pre-commit hook can pass the files that changed; a file no chart holds is skipped. A
    packaged chart (`.tgz`) no chart holds is a usage error: it would be skipped silently.
    """
    given = [Path(p) for p in paths]
    for path in given:
        if path.name.endswith(PACKAGED) and path.is_file() and holder_of(path) is None:
            raise UsageError(
                f"{path}: a packaged chart (helm package); chartfix works on a chart's "
                f"folder: extract it first (tar xzf {path}) and give the folder"
            )
    holders = {h for p in given if _is_member_file(p) and (h := holder_of(p)) is not None}
    dirs = [p for p in given if not _is_member_file(p)] + sorted(holders)
    found = {p.resolve() for p in find_charts(dirs)}  # unreadable folders too: their errors
    readable = [p for p in dirs if os.access(p, os.R_OK | os.X_OK)]
    found |= {p.resolve() for p in find_apps(readable) if not (p / "Chart.yaml").is_file()}
    return sorted(found)


def only_files(paths: Sequence[Path]) -> bool:
    """True when every path is a file inside a chart or not (what a pre-commit hook passes)."""
    return bool(paths) and all(_is_member_file(Path(p)) for p in paths)


def holder_of(path: Path) -> Path | None:
    """The chart (or cdk8s app) holding file `path`: the nearest directory above it with a
    Chart.yaml or cdk8s.yaml, stepping out of a chart's `charts/` folder (a vendored
    dependency changes the chart that vendors it). None when no chart holds it."""
    found: Path | None = None
    for directory in Path(path).resolve().parents:
        if (directory / "Chart.yaml").is_file() or (directory / "cdk8s.yaml").is_file():
            vendored = found is not None and found.parent == directory / "charts"
            if found is not None and not vendored:
                break
            found = directory
            continue
        if (directory / ".git").exists():
            break
    return found


def _is_member_file(path: Path) -> bool:
    return path.is_file() and path.name not in ("Chart.yaml", "cdk8s.yaml")


def is_cdk8s_app(root: Path) -> bool:
    return (root / "cdk8s.yaml").is_file() and not (root / "Chart.yaml").is_file()
