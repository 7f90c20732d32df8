"""What a commit and a pull request say about a fix in one line or a few: the commit message,
its subject (the PR title), and the sentence for CHANGELOG.md and Artifact Hub.
"""

from __future__ import annotations

from chartfix.model.changes import TargetChange
from chartfix.publish.migration.steps import upgrade_kind

NOTHING_TO_MIGRATE = (
    "Nothing to migrate: no immutable field changes and no running pod is left out, so "
    "`helm upgrade` applies it in place."
)
"""What a commit or PR says instead of a migration note when upgrading asks for nothing."""


def commit_message(
    change: TargetChange, *, version: str | None = None, note_file: str | None = None
) -> str:
    """Subject line, blank line, a short body: what was fixed, the new chart version
    (`version`), and the file holding the upgrade steps (`note_file`, repository-relative):
    the note itself is in that file and in the pull request, not repeated here. A
    declarative recipe's `commit-message` template makes the subject; the recipe, with its
    options, ends the message so a reviewer can re-run it."""
    subject = summary_line(change)
    recipe = change.recipe_file
    if recipe is not None:
        subject = recipe.subject(change.target_name, subject.split(": ", 1)[1])
    count = len(change.fixed)
    rules = sorted({finding.rule for finding in change.fixed})
    body = [f"Fixes {count} label-selector finding{'s' if count != 1 else ''}"
            + (f" ({', '.join(rules)})" if rules else "") + f" in {change.target_name}."]
    if version is not None:
        body.append(f"Chart version {change.target_version} -> {version}.")
    if note_file is not None:
        body.append(f"Upgrade steps: {note_file}.")
    else:
        body.append("No step is needed before " + (
            "`helm upgrade`." if change.released else "applying."))
    message = subject + "\n\n" + "\n".join(body) + "\n"
    if recipe is not None:
        message += f"\nchartfix recipe: {recipe.describe()}\n"
    return message


def summary_line(change: TargetChange) -> str:
    """One line saying what the fix does to this chart (a commit subject)."""
    count = len(change.fixed)
    rules = sorted({finding.rule for finding in change.fixed})
    what = f"fix {count} label-selector finding{'s' if count != 1 else ''}"
    if rules:
        what += f" ({', '.join(rules)})"
    kind = upgrade_kind(change)
    deploy = "apply" if not change.released else "upgrade"
    if kind == "unsafe":
        what += f"; {deploy} needs migration"
    elif kind == "step":
        what += f"; {deploy} needs a step first"
    return f"{change.target_name}: {what}"


def change_summary(change: TargetChange) -> str:
    """One sentence for CHANGELOG.md and Artifact Hub: what was fixed, on which objects."""
    objects = sorted({str(finding.obj) for finding in change.fixed})
    shown = ", ".join(objects[:3]) + (f" and {len(objects) - 3} more" if len(objects) > 3 else "")
    text = "Fix label selectors that also select other workloads' pods"
    if change.recipes:
        text += f" ({', '.join(change.recipes)})"
    if shown:
        text += f" on {shown}"
    kind = upgrade_kind(change)
    before = "applying" if not change.released else "upgrading a release"
    if kind == "unsafe":
        text += f"; selectors change, see the upgrade notes before {before}"
    elif kind == "step":
        text += f"; running pods need a label before {before}, see the upgrade notes"
    return text + "."
