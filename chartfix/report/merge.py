"""`chartfix report merge`: the reports of sharded bulk runs joined into one.

A chart in two reports keeps its last entry (a shard run again replaces its older report).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from chartfix.bulk import REPORT_VERSION, _read_report, _write_json


def chart_key(chart: dict[str, Any]) -> str:
    """A chart's identity across machines: its id (path below its root), else its path."""
    return str(chart.get("id") or chart["path"])


def merge_documents(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One report holding every chart of `documents`, sorted by identity.

    `dry_run` is the shards' common value, None when some wrote and some did not.
    """
    charts: dict[str, dict[str, Any]] = {}
    for document in documents:
        for chart in document["charts"]:
            charts[chart_key(chart)] = chart
    modes = {
        document.get("dry_run", not any(c.get("applied") for c in document["charts"]))
        for document in documents
    }  # a report older than `dry_run`: a dry run when no chart was applied
    return {
        "version": REPORT_VERSION,
        "shard": None,
        "dry_run": modes.pop() if len(modes) == 1 else None,
        "charts": sorted(charts.values(), key=chart_key),
    }


def merge_reports(paths: Iterable[Path], output: Path | None) -> int:
    merged = merge_documents([_read_report(path) for path in paths])
    if output:
        _write_json(output, merged)
    else:
        json.dump(merged, sys.stdout, indent=2)
        sys.stdout.write("\n")
    statuses = [c["status"] for c in merged["charts"]]
    if "error" in statuses:
        return 2
    return 1 if any(s in ("partial", "left") for s in statuses) else 0
