"""`chartfix fix --format json`: one JSON document for scripts, per target its patch, its
fix units (what each changes, its applicability, the findings it fixes), the findings left
with the reason, and every finding (docs/output.md).

Versioned with check's JSON (`SCHEMA_VERSION`): new fields may come, none changes meaning
without a version bump. Paths of findings are shown as in check's JSON (relative to the
current folder when below it); the units' edit sites are relative to the target.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from chartfix.errors import display_path
from chartfix.model.changes import EditRecord, TargetChange, Unfixed
from chartfix.model.findings import Finding
from chartfix.publish.apply import Outcome
from chartfix.publish.diff import chart_diff
from chartfix.publish.migration.steps import upgrade_kind
from chartfix.publish.output import finding_path
from chartfix.publish.output.json import SCHEMA_VERSION, finding_entry, ref_entry


def fix_document(outcomes: Sequence[Outcome], mode: str) -> dict[str, Any]:
    """`mode`: "a dry run", "--write" or "--branch", as the run was."""
    return {
        "version": SCHEMA_VERSION,
        "mode": mode,
        "targets": [target_entry(o) for o in outcomes],
        "summary": {
            "targets": len(outcomes),
            "fixed": sum(len(o.change.fixed) for o in outcomes if o.change and not o.error),
            "left": sum(o.unfixed for o in outcomes),
            "warnings": sum(len(o.change.warnings) for o in outcomes if o.change and not o.error),
            "errors": sum(1 for o in outcomes if o.error is not None),
        },
    }


def target_entry(outcome: Outcome) -> dict[str, Any]:
    """One target: `status` (`Outcome.status`: "fixed" in a dry run means fixable), the
    patch it gets or got, the units and findings."""
    change = outcome.change
    usable = change is not None and outcome.error is None
    return {
        "path": display_path(outcome.root),
        "name": change.target_name if change else outcome.root.name,
        "status": outcome.status,
        "error": None if outcome.error is None else str(outcome.error),
        "skipped": outcome.skipped,
        "landed": outcome.landed,
        "patch": _patch(outcome) if usable else "",
        "files": [f.path for f in change.files] if usable and change else [],
        "needs_migration": bool(change and change.needs_migration),
        "upgrade": upgrade_kind(change) if usable and change else None,
        "branch": outcome.branch,
        "commit": outcome.branch_commit,
        "units": units(change, outcome.landed) if usable and change else [],
        "warnings_left": len(change.warnings) if change else 0,
        "findings": findings(change, outcome.landed) if change else [],
        "notes": list(change.notes) if change else [],
    }


def _patch(outcome: Outcome) -> str:
    """What the target gets: the fix (with --branch, as committed: the bump and note too)."""
    assert outcome.change is not None
    if outcome.committed_diff is not None:
        return outcome.committed_diff
    return chart_diff(outcome.change)


def units(change: TargetChange, landed: bool) -> list[dict[str, Any]]:
    """The kept units (`fixed` when written or committed, else `fixable`), then each finding
    left (`left`, with the reason no unit fixes it)."""
    where = _where(change)
    kept = [_unit(record, "fixed" if landed else "fixable", where, change)
            for record in change.edits]
    return kept + [_left(item, where, change) for item in change.unfixed]


def _unit(
    record: EditRecord, state: str, where: Callable[[Finding], str], change: TargetChange
) -> dict[str, Any]:
    return {
        "state": state,
        "reason": None,
        "recipe": record.recipe,
        "title": record.title,
        "applicability": record.applicability,
        "fixes": [_ref(f, where, change) for f in record.targets],
        "edits": [{"path": path, "line": line} for path, line in sorted(record.sites)],
        "changes": [
            {"source": source, "kind": kind, "at": c.path, "key": c.key, "value": c.value,
             "removed": c.removed}
            for source, kind, c in record.changes
        ],
    }


def _left(item: Unfixed, where: Callable[[Finding], str], change: TargetChange) -> dict[str, Any]:
    return {
        "state": "left", "reason": item.reason, "recipe": None, "title": None,
        "applicability": None, "fixes": [_ref(item.finding, where, change)], "edits": [],
        "changes": [],
    }


def findings(change: TargetChange, landed: bool) -> list[dict[str, Any]]:
    """Every finding of the target as in check's JSON, with its `state` (fixed or fixable,
    left, warning: one no fix takes on) and, when left or a warning, the `reason`."""
    where, namespace = _where(change), _namespace(change)
    fixed = "fixed" if landed else "fixable"
    return (
        [{"state": fixed, "reason": None, **finding_entry(f, where(f), namespace)}
         for f in change.fixed]
        + [{"state": "left", "reason": u.reason,
            **finding_entry(u.finding, where(u.finding), namespace)} for u in change.unfixed]
        + [{"state": "warning", "reason": u.reason,
            **finding_entry(u.finding, where(u.finding), namespace)} for u in change.warnings]
    )


def _ref(finding: Finding, where: Callable[[Finding], str], change: TargetChange) -> dict[str, Any]:
    """A finding named briefly: rule, object, where."""
    return {
        "rule": finding.rule,
        "object": ref_entry(finding.obj, _namespace(change)),
        "location": {"path": where(finding), "line": finding.location.line},
    }


def _where(change: TargetChange) -> Callable[[Finding], str]:
    return lambda finding: finding_path(change.target_root, finding)


def _namespace(change: TargetChange) -> str | None:
    return change.before[0].namespace if change.before else None


def write_fix_json(outcomes: Sequence[Outcome], mode: str, stream: TextIO) -> None:
    json.dump(fix_document(outcomes, mode), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
