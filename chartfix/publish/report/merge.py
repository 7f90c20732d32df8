"""`chartfix report merge`: the reports of sharded bulk runs joined into one, saying what it did.

A chart in two reports keeps its last entry (a shard run again replaces its older report).
On stderr: the charts each report brings, shards given twice or missing from 0..N-1, and a
summary by status. Exit status: 2 when a shard is missing (part of the tree is not in the
report) or a chart could not be processed, else 1 when a finding is left, else 0; 2 also
for a file that is not a report, or shards of different splits (N differs).
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from chartfix.errors import UsageError
from chartfix.publish.output import plural
from chartfix.publish.report.file import REPORT_VERSION, Shard, read_report, write_json

STATUS_LABELS = ("clean", "warnings", "fixed", "fixable", "partial", "left", "error")


def status_label(chart: dict[str, Any]) -> str:
    """A chart's status as the run left it: "fixed" only when its fix was applied."""
    status = str(chart["status"])
    return "fixable" if status == "fixed" and not chart.get("applied") else status


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


def merge_reports(paths: Iterable[Path], output: Path | None, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    documents = [(path, read_report(path)) for path in paths]
    shards = _shards(documents)
    merged = merge_documents([document for _, document in documents])
    if output:
        write_json(output, merged)
    else:
        json.dump(merged, sys.stdout, indent=2)
        sys.stdout.write("\n")

    missing = _tell(documents, shards, merged, err)
    return reports_status(merged, missing)


def reports_status(merged: dict[str, Any], missing: Sequence[Shard]) -> int:
    """The exit status of `report merge` and `report html` alike, as bulk's own: 2 when part
    of the run is not there (a shard missing) or a chart could not be processed, else 1 when
    a finding is left, else 0."""
    statuses = Counter(c["status"] for c in merged["charts"])
    if missing or statuses["error"]:
        return 2
    return 1 if statuses["partial"] or statuses["left"] else 0


def _shards(documents: Sequence[tuple[Path, dict[str, Any]]]) -> dict[Path, Shard]:
    """Each sharded report's shard (the reader checked it is I/N); all must split the tree
    the same way (one N)."""
    shards = {
        path: Shard.parse(document["shard"]) for path, document in documents if document["shard"]
    }
    counts = sorted({shard.count for shard in shards.values()})
    if len(counts) > 1:
        listed = ", ".join(f"{path.name} ({shard})" for path, shard in shards.items())
        raise UsageError(
            f"report merge: shards of different splits ({listed}): merge the shards of one run"
        )
    return shards


def missing_shards(documents: Sequence[dict[str, Any]]) -> list[Shard]:
    """The shards of the run absent from `documents` (when every report is a shard of one
    split: a report without a shard is a whole run, and nothing is missing)."""
    shards = [d.get("shard") for d in documents]
    if not shards or not all(shards):
        return []
    given = {Shard.parse(str(s)) for s in shards}
    count = next(iter(given)).count
    return [Shard(i, count) for i in range(count) if Shard(i, count) not in given]


def _tell(
    documents: Sequence[tuple[Path, dict[str, Any]]],
    shards: dict[Path, Shard],
    merged: dict[str, Any],
    err: TextIO,
) -> list[Shard]:
    """What the merge did, on stderr; returns the missing shards."""
    for path, document in documents:
        which = f"shard {shards[path]}" if path in shards else "unsharded"
        err.write(f"{path}: {which}, {plural(len(document['charts']), 'chart')}\n")
    given: dict[int, list[Path]] = defaultdict(list)
    for path, shard in shards.items():
        given[shard.index].append(path)
    for index, paths in sorted(given.items()):
        if len(paths) > 1:
            count = shards[paths[0]].count
            err.write(
                f"warning: shard {index}/{count} given {len(paths)} times "
                f"({', '.join(p.name for p in paths)}): for a chart in both, the entry of "
                f"{paths[-1].name} is kept\n"
            )
    missing = missing_shards([document for _, document in documents])
    for shard in missing:
        err.write(f"error: shard {shard} is missing: its charts are not in the merged report\n")
    seen = Counter(chart_key(c) for _, d in documents for c in d["charts"])
    twice = sum(1 for n in seen.values() if n > 1)
    if twice:
        err.write(
            f"warning: {plural(twice, 'chart')} in more than one report: the last report's "
            "entry is kept\n"
        )
    statuses = Counter(status_label(c) for c in merged["charts"])
    shown = [  # a dry run's fixes are fixable, an applied run's fixed; a mixed merge has both
        s for s in STATUS_LABELS
        if (s != "warnings" or statuses[s])
        and not (s == "fixed" and merged["dry_run"]) and not (s == "fixable" and
                                                           merged["dry_run"] is False)
    ]
    width = max(len(s) for s in shown)
    err.write(f"{'status'.ljust(width)}  charts\n")
    for status in shown:
        err.write(f"{status.ljust(width)}  {statuses[status]}\n")
    err.write(
        f"merged {plural(len(documents), 'report')}: {plural(len(merged['charts']), 'chart')}"
        + (" (dry run)" if merged["dry_run"] else "")
        + "\n"
    )
    return missing
