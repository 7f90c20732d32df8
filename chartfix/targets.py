"""What chartfix works on: Helm charts (a `Chart.yaml`) and cdk8s apps written in Python (a
`cdk8s.yaml`). Both go through the same rules; each has its own renderer and editor."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from chartfix.cdk8s.app import find_apps
from chartfix.chart import find_charts


def find_targets(paths: Sequence[Path]) -> list[Path]:
    """Every chart and cdk8s app under `paths`, sorted, each once."""
    found = {p.resolve() for p in find_charts(paths)}  # unreadable folders too: their errors
    readable = [p for p in paths if os.access(p, os.R_OK | os.X_OK)]
    found |= {p.resolve() for p in find_apps(readable) if not (p / "Chart.yaml").is_file()}
    return sorted(found)


def is_cdk8s_app(root: Path) -> bool:
    return (root / "cdk8s.yaml").is_file() and not (root / "Chart.yaml").is_file()
