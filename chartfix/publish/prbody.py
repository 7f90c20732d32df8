"""The pull request description for one chart's fix: what, why, how to upgrade, how verified.

A reviewer of a chart PR asks four questions in this order: what was wrong, what changed,
what will it break, and how do I know it works. Every answer comes from the `TargetChange`;
nothing is claimed that the renderings did not show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chartfix.errors import UsageError
from chartfix.model.changes import TargetChange
from chartfix.model.findings import Finding
from chartfix.publish.messages import NOTHING_TO_MIGRATE, summary_line
from chartfix.publish.migration.steps import release_steps, upgrade_kind
from chartfix.publish.migration.text import migration_note


def pr_title(change: TargetChange) -> str:
    return summary_line(change)


def pr_body(
    change: TargetChange,
    diff_summary: str,
    release: str,
    namespace: str,
    *,
    version: str | None = None,
    note_file: str | None = None,
) -> str:
    """Markdown for one chart: what was wrong, what changed, why it breaks, the upgrade
    steps (the note itself, or with `note_file` where the branch holds it), verification."""
    out = ["## What was wrong", ""]
    out += [_finding_line(f) for f in change.fixed] or ["- (no finding fixed)"]
    out += ["", "## What changed", "", diff_summary.strip() or "(no file changed)", ""]
    if change.recipes:
        out += [f"Recipes: {', '.join(f'`{r}`' for r in change.recipes)}.", ""]
    if change.recipe_file is not None:
        out += [f"Recipe file that ran: `{change.recipe_file.describe()}`", ""]
    out += [f"- `{f.path}`" for f in change.files if f.before != f.after] + [""]
    kind = upgrade_kind(change)
    helm = change.released
    if kind == "unsafe":
        out += ["## Why this is a breaking change", "", *_breaking(change, namespace), ""]
    elif kind == "step":
        deploying = "upgrading" if helm else "applying"
        out += [f"## Why {deploying} needs a step first", "", *_step(change, namespace), ""]
    title = "Upgrading an existing release" if helm else "Applying over what runs"
    if note_file is not None:
        out += [f"## {title}", "", f"The steps are in `{note_file}` on this branch.", ""]
    elif kind == "safe" and helm:
        out += [f"{NOTHING_TO_MIGRATE}", ""]
    else:
        out += [migration_note(change, release, namespace, version=version, heading_level=2,
                               title=title)]
    out += ["## How it was verified", "", *_verification(change)]
    if change.unfixed:
        out += ["", "## Not fixed", ""]
        out += [f"- {_finding_line(u.finding)[2:]}: {u.reason}" for u in change.unfixed]
    if change.notes:
        out += ["", "## Notes", ""] + [f"- {note}" for note in change.notes]
    return "\n".join(out).rstrip("\n") + "\n"


def _finding_line(finding: Finding) -> str:
    line = f"- `{finding.rule}` {finding.obj} ({finding.location}): {finding.message}"
    unnamed = [str(r) for r in finding.related if str(r) not in finding.message]
    if unnamed:  # the message often names them already
        line += f" (with {', '.join(unnamed)})"
    if finding.scenarios:
        line += f" [scenarios: {', '.join(finding.scenarios)}]"
    return line


def _breaking(change: TargetChange, namespace: str) -> list[str]:
    steps = release_steps(change, namespace)
    lines = [
        "Kubernetes does not let `helm upgrade` change these fields of existing objects; "
        "upgrading a release installed from an older version fails with "
        "`field is immutable` until the steps below are done:",
        "",
    ] if change.released else [
        "Kubernetes does not let `kubectl apply` (or an Argo CD / Flux sync) change these "
        "fields of existing objects; applying the new YAML over what runs fails with "
        "`field is immutable` until the steps below are done:",
        "",
    ]
    for step in steps.before:
        field = "`spec.template`" if step.heading.startswith("Job ") else "`spec.selector`"
        lines.append(f"- {step.heading}: {field}")
    if not steps.before:
        lines += ["- (none in the rendered scenarios; the change was marked unsafe by a recipe)"]
    lines += ["", "New installations are not affected."]
    return lines


def _step(change: TargetChange, namespace: str) -> list[str]:
    """Not breaking (no immutable field changes, `helm upgrade` succeeds), not safe either:
    say which selectors would leave running pods out."""
    steps = release_steps(change, namespace)
    command = "`helm upgrade`" if change.released else "`kubectl apply`"
    lines = [
        f"No field Kubernetes keeps immutable changes, so {command} succeeds; but these "
        "selectors start to ask for a label the running pods get only as the rolling update "
        "replaces each, and leave them out until then, unless they are labelled first:",
        "",
    ]
    lines += [f"- {step.heading}: `spec.selector`" for step in steps.keep]
    lines += ["", "New installations are not affected."]
    return lines


def _verification(change: TargetChange) -> list[str]:
    rendered = change.kind.rendered_by
    lines = [
        f"chartfix rendered {rendered} before and after the change, in "
        "every scenario below, and keeps a change only when its findings are gone, no new "
        "finding appears and objects differ by the planned labels alone.",
        "",
        "| scenario | objects before | objects after | objects changed |",
        "| --- | ---: | ---: | ---: |",
    ]
    for old, new in zip(change.before, change.after, strict=True):
        after = {o.ref: o.body for o in new.objects}
        changed = sum(1 for o in old.objects if o.ref in after and after[o.ref] != o.body)
        lines.append(f"| {old.scenario} | {len(old.objects)} | {len(new.objects)} | {changed} |")
    return lines


@dataclass(frozen=True)
class ChartEntry:
    """One chart of a pull request: its change, diff summary, new version, note file."""

    change: TargetChange
    diff_summary: str
    version: str | None = None
    """The chart version the branch sets (None: a target without one)."""
    note_file: str | None = None
    """The repository-relative file holding the upgrade steps on the branch (None: no note
    file, or no branch yet: the note goes into the description)."""


BREAKING = {"unsafe": "**yes**", "step": "no, a step first", "safe": "no"}


def branch_title(entries: Sequence[ChartEntry]) -> str:
    if len(entries) == 1:
        return pr_title(entries[0].change)
    return f"Fix label selectors in {len(entries)} charts"


def branch_body(
    entries: Sequence[ChartEntry],
    release: str,
    namespace: str,
    *,
    built_on: str | None = None,
    limit: int | None = None,
    forge: str = "the forge",
) -> str:
    """The description of a pull request over `entries`: a summary table first (charts,
    findings fixed, breaking or not, the steps upgrading needs), then each chart's details
    folded. Under `limit` characters: the details are shortened, then left out (each
    chart's commit and note file keep them); a table alone over it is a UsageError."""
    head = _summary(entries, built_on)
    shapes = (
        [_details(e, release, namespace, full=True) for e in entries],
        [_details(e, release, namespace, full=False) for e in entries],
        ["Each chart's details are in its commit and its upgrade note: the full description "
         f"would be over {forge}'s limit.\n"],
    )
    for details in shapes:
        body = head + "\n" + "\n".join(details)
        if limit is None or len(body) <= limit:
            return body
    raise UsageError(
        f"the description of {len(entries)} charts has {len(body)} characters, over {forge}'s "
        f"{limit}: give --charts-per-pr N to split them into more pull requests"
    )


def _breaking_said(breaking: int) -> str:
    if not breaking:
        return "none is breaking (no immutable field changes)."
    return (f"{breaking} {'is' if breaking == 1 else 'are'} breaking (an immutable field "
            "changes: the release needs the steps of its upgrade note).")


def _summary(entries: Sequence[ChartEntry], built_on: str | None) -> str:
    fixed = sum(len(e.change.fixed) for e in entries)
    breaking = sum(1 for e in entries if upgrade_kind(e.change) == "unsafe")
    charts = f"{len(entries)} chart{'s' if len(entries) != 1 else ''}"
    lines = [
        "## Summary", "",
        f"chartfix fixed {fixed} label-selector finding{'s' if fixed != 1 else ''} in "
        f"{charts}; " + _breaking_said(breaking), "",
        "| chart | findings fixed | left | breaking | before upgrading | version |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    for entry in entries:
        change = entry.change
        kind = upgrade_kind(change)
        steps = "nothing" if kind == "safe" else (
            f"the steps in `{entry.note_file}`" if entry.note_file else "the steps below")
        version = f"{change.target_version} → {entry.version}" if entry.version else "-"
        lines.append(f"| {change.target_name} | {len(change.fixed)} | {len(change.unfixed)} | "
                     f"{BREAKING[kind]} | {steps} | {version} |")
    if built_on:
        lines += ["", f"Built on {built_on} by chartfix. A re-run rebuilds this branch and "
                  "updates this description; a commit of anyone else's on the branch stops it."]
    return "\n".join(lines) + "\n"


def _details(entry: ChartEntry, release: str, namespace: str, *, full: bool) -> str:
    change = entry.change
    kind = upgrade_kind(change)
    summary = (f"<b>{change.target_name}</b>: {len(change.fixed)} fixed"
               + (", breaking" if kind == "unsafe" else ""))
    if full:
        inner = pr_body(change, entry.diff_summary, release, namespace, version=entry.version,
                        note_file=entry.note_file)
    else:
        inner = "\n".join([_finding_line(f) for f in change.fixed] or ["- (no finding fixed)"])
        if entry.note_file:
            inner += f"\n\nUpgrade steps: `{entry.note_file}`."
    return f"<details><summary>{summary}</summary>\n\n{inner.strip()}\n\n</details>\n"
