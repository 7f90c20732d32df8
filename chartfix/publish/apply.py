"""The last step: what a verified change becomes — a dry-run diff, files, or a git commit.

Dry run and --write share one path up to the end: the same verified `TargetChange` is either
printed as a patch or written atomically.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from chartfix.errors import TargetError, display_path
from chartfix.model.changes import TargetChange
from chartfix.publish.diff import chart_diff, colorize, summarize
from chartfix.publish.migration.steps import upgrade_kind
from chartfix.publish.output import said_once
from chartfix.publish.output.text import use_color
from chartfix.publish.story import hunks_fixing
from chartfix.publish.write import write_chart
from chartfix.sources.targets import targets_noun
from chartfix.terminal import shown, unfiltered

NEEDS_MIGRATION = "needs migration"
"""The mark of a chart whose fix changes an immutable field (text, bulk table, HTML)."""


@dataclass
class Outcome:
    """One chart's result in a fix or bulk run."""

    root: Path
    change: TargetChange | None = None
    error: TargetError | None = None
    branch_commit: str | None = None
    """This chart's own commit on the --branch branch."""
    skipped: str | None = None
    """Why the target was not processed (a cdk8s app the user did not allow to run)."""
    branch_state: str | None = None
    """What --branch did to the branch: created; unchanged (it held this commit already, an
    earlier run's, and was kept); updated (chartfix's own branch rebuilt on HEAD)."""
    branch: str | None = None
    """The branch `branch_commit` is on (--branch)."""
    committed_diff: str | None = None
    """The diff of what was committed for this chart (fix, version bump, note), when it was."""
    note: str | None = None
    """Where the migration note went, for the user: `MIGRATION.md in the commit`, a file."""
    pushed: tuple[str, str, str] | None = None
    """(branch, remote, commit) of the push that carried this chart's commit."""
    written: bool = False
    """--write put the change into the chart's files."""
    repository: str | None = None
    """The repository of the --branch branch, by its short name in the run."""
    branch_error: str | None = None
    """Why the branch could not be made, pushed or proposed (the same for its charts)."""
    release_changes: dict[tuple[str, str], TargetChange] = field(default_factory=dict)
    """The change rendered for each other release (--release repeated, --releases FILE)."""
    pull_request: tuple[str, str] | None = None
    """(URL, opened|updated|unchanged) of the branch's pull request (--open-pr)."""

    @property
    def landed(self) -> bool:
        """The change is in the chart's files or in a commit (a push that failed after the
        commit leaves the commit on the local branch)."""
        return self.written or self.branch_commit is not None

    @property
    def unfixed(self) -> int:
        return len(self.change.unfixed) if self.change else 0

    @property
    def status(self) -> str:
        """error, skipped, clean, warnings (only warnings no fix takes on), fixed (every
        finding), partial or left (none fixed); in a dry run "fixed" means fixable."""
        if self.error is not None:
            return "error"
        if self.skipped is not None:
            return "skipped"
        change = self.change
        assert change is not None
        if not change.fixed and not change.unfixed:
            return "warnings" if change.warnings else "clean"
        return "fixed" if not change.unfixed else ("partial" if change.fixed else "left")


@dataclass
class RunSummary:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """2 when a chart could not be processed, else 1 when a finding stays unfixed, else 0."""
        if any(o.error for o in self.outcomes):
            return 2
        return 1 if any(o.unfixed for o in self.outcomes) else 0


def write_change(change: TargetChange) -> None:
    """Write the verified files of `change` into the chart, all or none (chartfix.publish.write)."""
    write_chart(change.target_root, change.files, change.read)


def write_outcome(outcome: Outcome) -> None:
    """--write for one chart (once): its error line when it cannot be written."""
    change = outcome.change
    if outcome.written or outcome.error is not None or change is None or not change.files:
        return
    try:
        write_change(change)
        outcome.written = True
    except TargetError as err:
        outcome.error = err


def print_dry_run(
    outcomes: Sequence[Outcome], out: TextIO | None = None, err: TextIO | None = None,
    quiet: bool = False,
) -> None:
    """The patch on stdout (so `chartfix fix > fix.patch` is a clean patch); findings, notes
    and the summary on stderr."""
    out = out or sys.stdout
    err = err or sys.stderr
    color = use_color(out)
    diffs = []
    for outcome in outcomes:
        if outcome.change is None or outcome.error is not None:
            continue
        diff = chart_diff(outcome.change)
        diffs.append(diff)
        # a patch is the files' bytes (`chartfix fix > fix.patch` must apply); a terminal
        # still shows their control characters escaped
        (out if out.isatty() else unfiltered(out)).write(colorize(diff) if color else diff)
    report(outcomes, err, diffs, written=False, quiet=quiet)


def warnings_left(change: TargetChange) -> str:
    """`3 warnings left (spans: why)`: the warnings the run did not take on, by rule and
    reason (they do not fail the run)."""
    rules: dict[str, dict[str, None]] = {}  # reason -> its rules, in order
    for item in change.warnings:
        rules.setdefault(item.reason, {})[item.finding.rule] = None
    said = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in rules.items())
    count = len(change.warnings)
    return shown(f"{count} warning{'s' if count != 1 else ''} left ({said})")


def report_quiet(outcomes: Sequence[Outcome], err: TextIO) -> None:
    """What needs a person: each error, each finding left unfixed, and what deploying the
    fix needs first (an unsafe change: a plain `helm upgrade` would fail), with its chart."""
    for outcome in outcomes:
        if outcome.error is not None:
            err.write(f"error: {outcome.error}\n")
        where = shown(display_path(outcome.root))
        for item in outcome.change.unfixed if outcome.change else ():
            why = shown(f"{item.finding.obj}: {item.reason}")
            err.write(f"{where}: left: {item.finding.rule} {why}\n")
        if outcome.change and (outcome.error is None or outcome.branch_commit):
            for line in upgrade_warnings(outcome, outcome.change):
                err.write(f"{where}: {line}\n")


def upgrade_warnings(outcome: Outcome, change: TargetChange) -> list[str]:
    """What deploying the change needs first, if anything: the migration steps (an immutable
    field changes), or a labelling step (a Service would leave running pods out)."""
    kind = upgrade_kind(change)
    where = (
        f"migration note: {outcome.note}" if outcome.note
        else "--branch or --pr-body FILE writes a migration note"
    )
    deploying, command = (
        ("upgrading a release", "`helm upgrade`") if change.released
        else ("applying the new YAML", "`kubectl apply` (or a GitOps sync)")
    )
    if kind == "unsafe":
        return [
            "unsafe: an immutable field changes (a controller's spec.selector or a "
            f"Job's pod template): {deploying} needs the migration steps ({where})"
        ]
    if kind == "step":
        return [
            f"needs a step before {'upgrade' if change.released else 'applying'}"
            ": no immutable field changes, but a Service "
            "(or another selector) would leave running pods out until each is replaced: "
            f"label them before {command} ({where})"
        ]
    return []


BRANCH_HEADERS = ("repository", "branch", "commit", "pull request or reason")


def branch_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, str, str, str]]:
    """One row per branch a --branch run made or meant to make: repository, branch, its tip,
    and the pull request (URL and what was done to it) or why there is none."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.branch is not None:
            groups.setdefault((outcome.repository or "", outcome.branch), []).append(outcome)
    rows = []
    for (repository, branch), group in groups.items():
        commits = [o.branch_commit for o in group if o.branch_commit]
        rows.append((repository, branch, commits[-1][:12] if commits else "-",
                     branch_result(group)))
    return rows


def branch_result(group: Sequence[Outcome]) -> str:
    failed = next((o.branch_error or o.error.reason for o in group if o.error), None)
    if failed is not None:
        return " ".join(failed.split())
    first = group[0]
    if first.pull_request is not None:
        url, state = first.pull_request
        return f"{url} ({state})"
    if first.pushed is not None:
        return "pushed; no pull request asked (--open-pr)"
    if first.branch_state == "unchanged":
        return "unchanged: it holds this fix already"
    return "local branch, not pushed (--push)"


def print_branches(outcomes: Sequence[Outcome], err: TextIO) -> None:
    """The end of every --branch run: the branches, their commits, pull requests, or why."""
    rows = branch_rows(outcomes)
    if not rows:
        return
    widths = [max(len(r[i]) for r in [BRANCH_HEADERS, *rows]) for i in range(3)]
    err.write("branches:\n")
    for row in [BRANCH_HEADERS, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        err.write("  " + "  ".join([*cells, row[3]]) + "\n")


def print_pushes(outcomes: Sequence[Outcome], err: TextIO) -> None:
    """One line per branch pushed (fix and bulk alike)."""
    pushes = dict.fromkeys(o.pushed for o in outcomes if o.pushed and o.error is None)
    for pushed in pushes:
        assert pushed is not None
        branch, remote, sha = pushed
        err.write(f"pushed branch {branch} to {remote} (commit {sha[:12]})\n")


BRANCH_STATE_WORDS = {
    "updated": " (chartfix's own branch, rebuilt: the fix or its base changed)",
}


def report(
    outcomes: Sequence[Outcome], err: TextIO, diffs: Sequence[str], written: bool,
    quiet: bool = False,
) -> None:
    """Per chart: errors, fixed and unfixed findings, notes; then one summary line.
    `quiet` (`-q`): the errors and the findings left, nothing else."""
    if quiet:
        report_quiet(outcomes, err)
        return
    verb = "fixed" if written else "fixable"
    run_notes = said_once([o.change.notes if o.change else [] for o in outcomes],
                          [display_path(o.root) for o in outcomes])
    for outcome, notes in zip(outcomes, run_notes, strict=True):
        _report_outcome(outcome, notes, err, verb)
    print_pushes(outcomes, err)
    print_branches(outcomes, err)
    err.write(_summary_line(outcomes, diffs, verb) + "\n")


def _report_outcome(outcome: Outcome, notes: Sequence[str], err: TextIO, verb: str) -> None:
    """One chart's lines: its error or why it was skipped; what was fixed (and in which
    hunks), what was left and why, its notes and upgrade warnings, the commit made."""
    name = shown(display_path(outcome.root))
    if outcome.error is not None:
        err.write(f"error: {outcome.error}\n")
        for note in outcome.error.notes:
            err.write(f"  note: {shown(note)}\n")
        if outcome.branch_commit is None:
            return
    if outcome.skipped is not None:
        err.write(f"skipped: {name}: {shown(outcome.skipped)}\n")
        return
    change = outcome.change
    assert change is not None
    if not (change.fixed or change.unfixed or change.files or notes or change.warnings):
        return
    mark = f" ({NEEDS_MIGRATION})" if change.needs_migration else ""
    err.write(f"{name}: {len(change.fixed)} {verb}, {len(change.unfixed)} left{mark}\n")
    hunks = hunks_fixing(change)
    for finding in change.fixed:
        err.write(f"  {verb}: {finding.rule} {shown(f'{finding.obj}: {finding.message}')}\n")
        for where in hunks.get((finding.rule, str(finding.obj)), []):
            err.write(f"    in {shown(where)}\n")
    for item in change.unfixed:
        why = shown(f"{item.finding.obj}: {item.reason}")
        err.write(f"  left: {item.finding.rule} {why}\n")
    if change.warnings:
        err.write(f"  {warnings_left(change)}\n")
    for note in notes:
        err.write(f"  note: {shown(note)}\n")
    for line in upgrade_warnings(outcome, change):
        err.write(f"  {line}\n")
    if outcome.branch_commit and outcome.branch_state == "unchanged":
        err.write(f"  nothing committed: {outcome.branch} already holds this fix (commit "
                  f"{outcome.branch_commit[:12]}, from an earlier run)\n")
    elif outcome.branch_commit:
        kept = BRANCH_STATE_WORDS.get(outcome.branch_state or "", "")
        local = f" on the local branch {outcome.branch}, not pushed" if outcome.error else ""
        err.write(f"  committed {outcome.branch_commit[:12]}{kept}{local}\n")


def _already_fixed(held: Sequence[Outcome]) -> str:
    """`; 2 findings already fixed on fix/sel`: the charts whose branch held this fix from an
    earlier run (this run changed and committed nothing for them)."""
    if not held:
        return ""
    count = sum(len(o.change.fixed) for o in held if o.change)
    branches = ", ".join(sorted({o.branch for o in held if o.branch}))
    return f"; {count} finding{'s' if count != 1 else ''} already fixed on {branches}"


def _summary_line(outcomes: Sequence[Outcome], diffs: Sequence[str], verb: str) -> str:
    """What the run did: the files changed, findings fixed and left, and the charts that
    failed, were committed but not pushed, got no pull request or were skipped."""
    failed = sum(1 for o in outcomes if o.error and o.branch_commit is None)
    unpushed = sum(1 for o in outcomes if o.error and o.branch_commit and o.pushed is None)
    no_pr = sum(1 for o in outcomes if o.error and o.pushed is not None)
    skipped = sum(1 for o in outcomes if o.skipped)
    finished = [o for o in outcomes if o.change and (o.error is None or o.landed)]
    done = [o.change for o in finished if o.change and o.branch_state != "unchanged"]
    held = [o for o in finished if o.branch_state == "unchanged"]
    fixed = sum(len(change.fixed) for change in done)
    left = sum(len(change.unfixed) for change in done)
    warned = sum(len(change.warnings) for change in done)
    return (
        f"{targets_noun([o.root for o in outcomes])}: {summarize(diffs)}; "
        f"{fixed} finding{'s' if fixed != 1 else ''} {verb}, {left} left"
        + (f" ({warned} warning{'s' if warned != 1 else ''} left)" if warned else "")
        + _already_fixed(held)
        + (f"; {failed} could not be processed" if failed else "")
        + (f"; {unpushed} committed but not pushed" if unpushed else "")
        + (f"; {no_pr} pushed, pull request failed" if no_pr else "")
        + (f"; {skipped} skipped" if skipped else "")
    )
