"""What a commit and a pull request say about a fix in one line or a few: the commit message,
its subject (the PR title), and the sentence for CHANGELOG.md and Artifact Hub.
"""

from __future__ import annotations

from chartfix.model.changes import TargetChange
from chartfix.model.findings import Finding
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


FIXED_SENTENCES: dict[str, tuple[str, str]] = {
    "overlap": ("no longer matches other workloads' pods", "no longer match other workloads' pods"),
    "stray": ("no longer matches Job, CronJob or test pods",
              "no longer match Job, CronJob or test pods"),
    "spans": ("no longer selects the pods of several controllers",
              "no longer select the pods of several controllers"),
    "volatile": ("holds no label that changes with each release, such as the chart or app version",
                 "hold no label that changes with each release, such as the chart or app version"),
    "mismatch": ("now matches its own pod template labels",
                 "now match their own pod template labels"),
    "autosharding": ("is watched by kube-state-metrics through labels that stay the same across "
                     "releases", "are watched by kube-state-metrics through labels that stay the "
                     "same across releases"),
}
"""Rule code -> what its fix makes true of the objects it fixed (one object, several)."""

SHOWN_OBJECTS = 3
"""How many objects a sentence names per rule before it says "and N more"."""


def change_summary(change: TargetChange) -> str:
    """One sentence for CHANGELOG.md and Artifact Hub: for each rule fixed, what its fix
    makes true of which objects, named by kind, selector field and the template file
    writing them (rendered names carry the release chartfix rendered with, not the chart's)."""
    by_rule: dict[str, list[str]] = {}
    for finding in change.fixed:
        named = by_rule.setdefault(finding.rule, [])
        if (place := _object_place(finding)) not in named:
            named.append(place)
    clauses = [_fixed_clause(rule, places) for rule, places in sorted(by_rule.items())]
    text = "; ".join(clauses) if clauses else "Fix label selectors"
    text = text[0].upper() + text[1:]
    kind = upgrade_kind(change)
    before = "applying" if not change.released else "upgrading a release"
    if kind == "unsafe":
        text += f"; selectors change, see the upgrade notes before {before}"
    elif kind == "step":
        text += f"; running pods need a label before {before}, see the upgrade notes"
    return text + "."


def _object_place(finding: Finding) -> str:
    """`NetworkPolicy podSelector in templates/networkpolicy.yaml`: the object's kind, the
    field the rule is about, the file writing it."""
    kind = finding.obj.kind
    what = kind if finding.rule == "autosharding" else (
        f"{kind} podSelector" if kind == "NetworkPolicy" else f"{kind} selector")
    return f"{what} in {finding.location.path}" if finding.location.path else what


def _fixed_clause(rule: str, places: list[str]) -> str:
    """`A and B hold no label ...`: the objects fixed for `rule` and what the fix made true."""
    one, several = FIXED_SENTENCES.get(
        rule, (f"is fixed ({rule})", f"are fixed ({rule})"))
    shown = places[:SHOWN_OBJECTS]
    if len(places) > SHOWN_OBJECTS:
        names = ", ".join(shown) + f" and {len(places) - SHOWN_OBJECTS} more"
    elif len(shown) > 1:
        names = ", ".join(shown[:-1]) + " and " + shown[-1]
    else:
        names = shown[0]
    return f"{names} {one if len(places) == 1 else several}"
