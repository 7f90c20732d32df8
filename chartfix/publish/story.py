"""Which finding each hunk of a fix's patch fixes: the story `fix` tells beside its patch.

A reviewer reads the patch hunk by hunk; each fixed finding names the hunks (by their `@@`
header, as the patch prints them) of the edits planned for it, so the Deployment that
overlapped a migration Job is said next to the lines that stop it.
"""

from __future__ import annotations

from unidiff import PatchSet

from chartfix.errors import display_path
from chartfix.model.changes import TargetChange
from chartfix.model.findings import Finding
from chartfix.publish.diff import file_diff

Hunk = tuple[int, int, str]
"""(first line, last line) of the file before the fix that a hunk shows, and its header."""


def file_hunks(change: TargetChange) -> dict[str, tuple[str, list[Hunk]]]:
    """Per changed file (target-relative path): its name in the patch and its hunks."""
    chart_dir = display_path(change.target_root)
    out: dict[str, tuple[str, list[Hunk]]] = {}
    for file in change.files:
        patch = PatchSet(file_diff(chart_dir, file))
        if not patch:
            continue
        patched = patch[0]
        hunks = [
            (h.source_start, h.source_start + max(h.source_length, 1),
             f"@@ -{h.source_start},{h.source_length} +{h.target_start},{h.target_length} @@")
            for h in patched
        ]
        out[file.path] = (patched.path, hunks)
    return out


def hunks_fixing(change: TargetChange) -> dict[tuple[str, str], list[str]]:
    """(rule, object) of each fixed finding -> the hunks its edits are in, as
    `path @@ -12,6 +12,7 @@ @@ ...` (one entry per file, in patch order). An edit of a unit
    planned for several findings goes to those reported in the file it edits (the Service's
    selector fixes the stray Service), else to all of them."""
    files = file_hunks(change)
    found: dict[tuple[str, str], dict[str, set[Hunk]]] = {}
    for record in change.edits:
        for path, line in record.sites:
            if path not in files:
                continue
            name, hunks = files[path]
            hunk = next((h for h in hunks if h[0] <= line <= h[1]), None)
            if hunk is None:
                continue
            here = [t for t in record.targets if t.location.path == path]
            for target in here or record.targets:
                found.setdefault(_key(target), {}).setdefault(name, set()).add(hunk)
    return {
        key: [f"{name} {' '.join(h[2] for h in sorted(hunks))}" for name, hunks in by_file.items()]
        for key, by_file in found.items()
    }


def _key(finding: Finding) -> tuple[str, str]:
    return finding.rule, str(finding.obj)
