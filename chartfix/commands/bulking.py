"""What `chartfix bulk` does: every chart under some roots, or in many repositories, in one
run.

Charts are processed in parallel; one chart's failure never stops the others. `--shard I/N`
picks charts by a hash of their identity, so N machines (a CI matrix, an indexed Kubernetes
Job's completion index) split the work without talking to each other, and `chartfix report
merge` joins their reports. A re-run with the same `--report` skips charts recorded as done
whose files have not changed since, and retries the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from chartfix.commands.coverage import Coverage
from chartfix.commands.fixing import (
    FixOptions,
    apply_outcomes,
    check_components,
    crashed,
    fix_outcome,
)
from chartfix.commands.workers import start as start_workers
from chartfix.errors import UsageError, display_path
from chartfix.model.changes import TargetChange
from chartfix.model.findings import Finding
from chartfix.pipeline import FixRequest, organisation_request, select_recipes
from chartfix.publish.apply import (
    Outcome,
    RunSummary,
    branch_result,
    print_branches,
    print_pushes,
    write_outcome,
)
from chartfix.publish.branch import per_chart_branches
from chartfix.publish.diff import chart_diff, summarize
from chartfix.publish.migration.steps import needs_note, upgrade_kind
from chartfix.publish.migration.text import migration_note
from chartfix.publish.options import PublishOptions
from chartfix.publish.output.json import finding_entry
from chartfix.publish.paths import writable_file
from chartfix.publish.report.file import (
    ReportFile,
    Shard,
    content_hash,
    file_bytes,
    report_document,
)
from chartfix.publish.repos import RepoFailure, chart_place, unique_names
from chartfix.runner import abandon, run_parallel
from chartfix.sources.targets import find_targets, nothing_found, targets_noun
from chartfix.terminal import shown, unfiltered


def chart_identity(chart: Path, roots: Sequence[Path]) -> str:
    """A name for a chart that is the same on every machine: its root's name (unique among
    the roots: `repos.unique_names`), then its path below the root."""
    labels = unique_names(roots)
    for root in reversed((chart, *chart.parents)):  # the outermost root holding the chart
        if root in labels:
            below = chart.relative_to(root).as_posix()
            return labels[root] if below == "." else f"{labels[root]}/{below}"
    return chart.name


@dataclass(frozen=True)
class BulkOptions:
    """A bulk run as its command line asks for it: fix's options and bulk's own."""

    fix: FixOptions
    roots: tuple[Path, ...] = ()
    repos: Path | None = None
    """--repos FILE: the repositories to clone (or fetch) and fix."""
    workdir: Path | None = None
    shard: str | None = None
    """--shard I/N or auto (`Shard.parse`)."""
    report: Path | None = None
    html: Path | None = None


def shard_key(identity: str, options: PublishOptions) -> str:
    """What a shard is chosen by: the chart, or with --branch (one branch per repository)
    the chart's root, so that two shards never build the same branch of one repository."""
    if options.branch and not per_chart_branches(options):
        return identity.split("/", 1)[0]
    return identity


def options_hash(request: FixRequest) -> str:
    """Hash of the run's options that change a chart's results: recipes, rule control,
    organisation values (the values files' bytes and --set), components, label-jobs,
    release, namespace, run-apps, source builds, --trusted, --allow-remote, feature renders,
    safe-only."""
    policy = request.policy
    options = {
        "recipes": list(request.recipes),
        "recipe_file": repr(request.recipe_file),
        "base_values": request.base_values,
        "values_files": [file_bytes(p).hex() for p in request.values_files],
        "set": list(request.set_values),
        "components": [list(c) for c in request.components],
        "label_jobs": request.label_jobs,
        "fix_latent": request.fix_latent,
        "release": request.release,
        "namespace": request.namespace,
        "extra": sorted(request.extra.items()),
        "include": sorted(policy.include) if policy.include is not None else None,
        "exclude": sorted(policy.exclude),
        "severity": [[rule, str(level)] for rule, level in policy.severity],
        "suppress": repr(policy.suppress),
        "run_apps": request.run_apps,
        "features": request.features,
        "safe_only": request.safe_only,
        **({"source_builds": True} if request.source_builds else {}),  # older reports resume
        "trusted": request.trusted,
        "allow_remote": request.allow_remote,
    }
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()


def run_bulk(bulk: BulkOptions) -> int:
    """The `bulk` command: fix every target found, write or commit, print the table, write
    the reports; the exit status."""
    chosen, publish = bulk.fix, bulk.fix.publish
    if bulk.report:
        writable_file(bulk.report, "--report")
    shard = Shard.parse(bulk.shard) if bulk.shard else None
    if bulk.html:
        writable_file(bulk.html, "--html")
    request = organisation_request(chosen.request)
    select_recipes(request.recipes)
    report = ReportFile(bulk.report) if bulk.report else None  # a bad one stops us here
    found = _targets(bulk, request, shard)
    entries = _Entries(found, publish, options_hash(found.request), str(shard) if shard else None)
    todo, skipped = report.resume(found.charts, entries.options) if report else (found.charts, [])
    outcomes = _fix_each(todo, found.request, chosen, report, entries)
    if outcomes is None:
        return 130
    check_components(found.request, outcomes)
    applied = apply_outcomes(outcomes, publish)
    if not chosen.quiet:
        print_pushes(outcomes, sys.stderr)
        print_branches(outcomes, sys.stderr)
    print_table(outcomes, skipped, sys.stderr, dry_run=not applied,  # its summary ends the run
                quiet=chosen.quiet)
    if report or bulk.html:  # an entry costs the chart's diff, migration note, files' hash
        document = (
            report.finish(entries.of(outcomes), keep=skipped, shard=entries.shard,
                          dry_run=not applied)
            if report else report_document(entries.of(outcomes), entries.shard, not applied)
        )
        if bulk.html:
            from chartfix.publish.report.html import write_html

            write_html(bulk.html, [document])
    return 2 if found.repo_errors else RunSummary(outcomes).exit_status


@dataclass(frozen=True)
class _Targets:
    """What a bulk run works on: its roots (given and cloned), the targets found in them
    (this shard's), the request (cloned repositories' settings untrusted) and the
    repositories that could not be cloned."""

    roots: list[Path]
    charts: list[Path]
    request: FixRequest
    repo_errors: list[RepoFailure]


def _targets(bulk: BulkOptions, request: FixRequest, shard: Shard | None) -> _Targets:
    """The roots given or cloned (--repos; each that fails, one error line), the targets in
    them and this shard's share of them. Nothing to work on is a usage error."""
    roots = list(bulk.roots)
    repo_errors: list[RepoFailure] = []
    if bulk.repos:
        from chartfix.publish.repos import checkout_repos

        cloned, repo_errors = checkout_repos(bulk.repos, bulk.workdir or Path(".chartfix-repos"))
        roots += cloned
        request = replace(request, untrusted=tuple(cloned))
        for error in repo_errors:
            print(f"error: {error}", file=sys.stderr)
    elif not roots:
        raise UsageError("bulk needs ROOT directories or --repos FILE")
    charts = find_targets(roots) if roots else []
    if not charts and not repo_errors:
        raise UsageError(nothing_found(roots))
    if shard is not None:
        publish = bulk.fix.publish
        charts = [c for c in charts if shard.holds(shard_key(chart_identity(c, roots), publish))]
    return _Targets(roots, charts, request, repo_errors)


@dataclass(frozen=True)
class _Entries:
    """The report's entries of a run: the repositories that failed (as errors), then one
    per target fixed."""

    found: _Targets
    publish: PublishOptions
    options: str
    """`options_hash` of the request: a re-run with other options does every target again."""
    shard: str | None

    def of(self, outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
        return [
            *(failure_entry(f) for f in self.found.repo_errors),
            *(self.entry(o) for o in outcomes),
        ]

    def entry(self, outcome: Outcome) -> dict[str, Any]:
        return report_entry(outcome, self.found.roots, self.publish, self.options)


def _fix_each(
    todo: Sequence[Path], request: FixRequest, chosen: FixOptions, report: ReportFile | None,
    entries: _Entries,
) -> list[Outcome] | None:
    """Each target fixed in the workers, in the order of their roots. As each finishes, its
    files (--write) and its report line land together, so a stopped run keeps them. None:
    Ctrl-C stopped the run (what finished is in the report, and said)."""
    publish = chosen.publish
    progress = Progress(
        len(todo), fixing=bool(publish.write or publish.branch),
        committing=bool(publish.branch), quiet=chosen.quiet,
    )
    outcomes: list[Outcome] = []
    work = partial(fix_outcome, request=request)
    start_workers(chosen.jobs, len(todo))
    try:
        for outcome in run_parallel(
            work, todo, chosen.jobs, on_crash=crashed, timeout=chosen.timeout
        ):
            with _uninterrupted():
                # --component names are first checked against every target's workloads
                # (check_components, after the run)
                if publish.write and not request.components:
                    write_outcome(outcome)
                outcomes.append(outcome)
                if report:
                    report.add(entries.entry(outcome))
            progress.advance(outcome)
    except KeyboardInterrupt:
        abandon()
        progress.close()
        if report:
            report.finish(
                entries.of(outcomes), keep=None, shard=entries.shard, dry_run=not publish.write
            )
        print(
            f"interrupted: {len(outcomes)} of {len(todo)} charts done"
            + (f"; {report.path} has them: run again with the same --report to resume"
               if report else ""),
            file=sys.stderr,
        )
        return None
    progress.close()
    return sorted(outcomes, key=lambda o: str(o.root))


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl-C during the block takes effect when it ends (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# --- progress and the final table -------------------------------------------------------------


class Progress:
    """A live bar on a terminal (rich); one plain line per chart in CI logs."""

    def __init__(
        self, total: int, fixing: bool = False, committing: bool = False, quiet: bool = False
    ) -> None:
        """`fixing`: the run writes or commits (else a dry run: the bar says so);
        `committing`: it commits to a branch, once every chart is done; `quiet`: nothing."""
        self.total = total
        self.committing = committing
        self.quiet = quiet
        self.count = 0
        self.live = sys.stderr.isatty() and not os.environ.get("CI") and not quiet
        self._bar: Any = None
        if self.live and total:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("fixing charts" if fixing else "checking charts (dry run)"),
                BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("{task.description}"), transient=True,
                console=_console(sys.stderr),
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=total)

    def advance(self, outcome: Outcome) -> None:
        self.count += 1
        line = f"[{self.count}/{self.total}] {shown(display_path(outcome.root))}: "
        line += progress_word(outcome, self.committing)
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=shown(display_path(outcome.root)))
        elif not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def progress_word(outcome: Outcome, committing: bool = False) -> str:
    """The chart's status as far as the run has gone: "fixed" once written; "fixed, to
    commit" in a --branch run (its verified change is committed once every chart is done);
    "fixable" in a dry run, which changes nothing."""
    status = outcome.status
    if status == "warnings":
        assert outcome.change is not None
        return f"warnings {len(outcome.change.warnings)}"
    if status in ("fixed", "partial") and not outcome.landed:
        if committing:
            return f"{status}, to commit"
        return "fixable" if status == "fixed" else "partly fixable"
    return status


def print_table(
    outcomes: Sequence[Outcome], skipped: Sequence[Path], stream: Any, dry_run: bool = False,
    quiet: bool = False,
) -> None:
    """The final table: charts with findings or an error (the error column holds the reason).

    A chart that failed (or was refused) counts no fix; in a dry run the column says "would
    fix". On a terminal the table grows wider than the screen rather than cut a chart's
    name, an error stays on one line there, and each error follows in full below it.
    """
    rows = [_row(o) for o in outcomes if o.error is not None or o.status != "clean"]
    noun = targets_noun([o.root for o in outcomes], 1).split(" ", 1)[1]
    headers = (noun, "findings", "would fix" if dry_run else "fixed", "left", "migration",
               "error")
    if stream.isatty():
        _rich_table(headers, rows, stream)
        for outcome in outcomes:
            if outcome.error is not None:
                stream.write(f"error: {outcome.error}\n")
    else:
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
        for row in [headers, *rows]:
            stream.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            stream.write("\n")
    if quiet:  # -q: the charts with findings or errors, no coverage or summary line
        return
    coverage = Coverage()
    coverage.skipped_as_done(len(skipped))
    for o in outcomes:
        change = o.change
        error = str(o.error) if o.error else (f"not run: {o.skipped}" if o.skipped else None)
        coverage.add(
            error, bool(change and change.synthesized), bool(change and change.unrendered),
            change.features if change else None,
        )
    stream.write("".join(line + "\n" for line in coverage.lines()))
    clean = sum(1 for o in outcomes if o.status == "clean")
    warned = sum(1 for o in outcomes if o.status == "warnings")
    not_run = sum(1 for o in outcomes if o.skipped is not None)
    stream.write(
        f"{targets_noun([o.root for o in outcomes])} processed ({clean} clean"
        f"{f', {warned} with warnings only' if warned else ''}), "
        f"{len(skipped)} skipped "
        f"as done{f', {not_run} not run' if not_run else ''}"
        f"{'; dry run: nothing written' if dry_run else ''}\n"
    )


def _row(outcome: Outcome) -> tuple[str, str, str, str, str, str]:
    """chart, findings, fixed, left, migration ("needed" when the fix changes an immutable
    field), error."""
    change = outcome.change
    findings = str(len(change.fixed) + len(change.unfixed)) if change else "-"
    if change and change.warnings:  # warnings no fix took on: "warnings 2", "3, warnings 2"
        said = f"warnings {len(change.warnings)}"
        findings = said if findings == "0" else f"{findings}, {said}"
    if outcome.error is not None or change is None:
        return (shown(display_path(outcome.root)), findings, "-", "-", "-",
                shown(outcome.skipped or str(outcome.error)))
    migration = "needed" if change.needs_migration and change.fixed else "-"
    return (shown(display_path(outcome.root)), findings, str(len(change.fixed)),
            str(len(change.unfixed)), migration, "")


def _rich_table(headers: Sequence[str], rows: Sequence[Sequence[str]], stream: Any) -> None:
    """Every column but the last as wide as its widest cell (wider than the screen if need
    be); the error column takes what is left, its cells cut with an ellipsis."""
    from rich.table import Table

    borders = 3 * len(headers) + 1
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    room = max(_console(stream).width - sum(widths[:-1]) - borders, len(headers[-1]))
    cut = [(*r[:-1], r[-1] if len(r[-1]) <= room else r[-1][: room - 1] + "…") for r in rows]
    widths[-1] = max([len(headers[-1])] + [len(r[-1]) for r in cut])
    table = Table()
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in cut:
        table.add_row(*row)
    _console(stream, width=sum(widths) + borders).print(table)


def _console(stream: Any, width: int | None = None) -> Any:
    """A rich console on `stream`; NO_COLOR (no-color.org) turns off every style, bold too
    (rich's own NO_COLOR support drops colours only), and nothing is highlighted."""
    from rich.console import Console

    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        file=unfiltered(stream), width=width, highlight=False, no_color=plain,
        color_system=None if plain else "auto",
    )


# --- reports -------------------------------------------------------------------------------


def report_entry(
    outcome: Outcome,
    roots: Sequence[Path],
    publish: PublishOptions | None = None,
    options: str | None = None,
) -> dict[str, Any]:
    """`applied`: the change was written or committed (a dry run's "fixed" means fixable);
    `publish`: the run's options (release, namespace, bump) the migration note is written for;
    `options`: their `options_hash`, which a resumed run compares with its own."""
    change = outcome.change
    diff = chart_diff(change) if change else ""
    summary = summarize([diff]) if diff else None
    place = chart_place(outcome.root, roots)
    return {
        "path": str(outcome.root),
        "id": chart_identity(outcome.root, roots),
        "repository": place.repository,
        "in_repository": place.path,
        "name": change.target_name if change else outcome.root.name,
        "status": outcome.status,
        "findings": len(change.fixed) + len(change.unfixed) if change else 0,
        "warnings": len(change.warnings) if change else 0,
        "fixed": [f"{f.rule} {f.obj}" for f in change.fixed] if change and not outcome.error
        else [],
        "left": [f"{u.finding.rule} {u.finding.obj}: {u.reason}" for u in change.unfixed]
        if change else [],
        "error": str(outcome.error) if outcome.error else None,
        "not_run": outcome.skipped,
        "synthesized": change.synthesized if change else {},
        "unrendered": change.unrendered if change else {},
        "unsafe": bool(change and change.unsafe),
        "needs_migration": bool(change and change.needs_migration),
        "features": dict(change.features) if change else {},
        "upgrade": upgrade_kind(change) if change else None,
        "files": [f.path for f in change.files] if change else [],
        "lines_added": summary.added if summary else 0,
        "lines_removed": summary.removed if summary else 0,
        "diff": diff,
        "content_hash": content_hash(outcome.root) if change else None,
        "options": options,
        "applied": outcome.error is None
        and bool(change and change.files)
        and (outcome.written or outcome.branch_commit is not None),
        "commit": outcome.branch_commit,
        "branch": outcome.branch,
        "pull_request": outcome.pull_request[0] if outcome.pull_request else None,
        "publish": branch_result([outcome]) if outcome.branch else None,
        "finding_details": finding_details(change) if change else [],
        "notes": list(change.notes) if change else [],
        "migration": migration_for(change, publish or PublishOptions()) if change else None,
        "recipe": change.recipe_file.describe() if change and change.recipe_file else None,
    }


def failure_entry(failure: RepoFailure) -> dict[str, Any]:
    """A repository of --repos that could not be had, as an error entry of the report."""
    return {
        "path": failure.url, "id": failure.url, "name": failure.url.rstrip("/").rsplit("/")[-1],
        "repository": failure.url, "in_repository": ".",
        "status": "error", "findings": 0, "fixed": [], "left": [], "error": failure.reason,
        "files": [], "lines_added": 0, "lines_removed": 0, "diff": "", "content_hash": None,
        "applied": False, "finding_details": [], "notes": [],
    }


def finding_details(change: TargetChange) -> list[dict[str, Any]]:
    """Every finding of the chart as in `check --format json` (location relative to the
    chart), with `state` fixed, left, warning or suppressed and, when left or suppressed, the
    `reason`."""
    namespace = change.before[0].namespace if change.before else None
    fixed = [
        {"state": "fixed", "reason": None, **finding_entry(f, f.location.path, namespace)}
        for f in change.fixed
    ]
    left = [
        {"state": "left", "reason": u.reason,
         **finding_entry(u.finding, u.finding.location.path, namespace)}
        for u in change.unfixed
    ]
    warned = [
        {"state": "warning", "reason": u.reason,
         **finding_entry(u.finding, u.finding.location.path, namespace)}
        for u in change.warnings
    ]
    accepted = [
        {"state": "suppressed", "reason": _accepted(f),
         **finding_entry(f, f.location.path, namespace)}
        for f in change.suppressed
    ]
    return fixed + left + warned + accepted


def _accepted(finding: Finding) -> str:
    """`reason (where it was accepted)`, as check's text says it."""
    assert finding.suppression is not None
    return f"{finding.suppression.justification or '-'} ({finding.suppression.origin})"


def migration_for(change: TargetChange, publish: PublishOptions) -> str | None:
    """The migration note the branch commit carries (when upgrading needs more than `helm
    upgrade`: `needs_note`), for the run's release and namespace."""
    if not change.changed or not needs_note(change):
        return None
    from chartfix.publish.bump import LEVELS, bump_version

    bump = publish.bump
    version = None  # the default bump's version, as the branch commit gets
    if bump in LEVELS:
        with contextlib.suppress(ValueError):  # not SemVer: the note names no version
            version = bump_version(change.target_version, bump)
    return migration_note(change, publish.release, publish.namespace, version=version)
