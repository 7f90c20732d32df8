"""`chartfix bulk`: every chart under some roots, or in many repositories, in one run.

Charts are processed in parallel; one chart's failure never stops the others. `--shard I/N`
picks charts by a hash of their identity, so N machines (a CI matrix, an indexed Kubernetes
Job's completion index) split the work without talking to each other, and `chartfix report
merge` joins their reports. A re-run with the same `--report` skips charts recorded as done
whose files have not changed since, and retries the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from chartfix.apply import Outcome, RunSummary, print_pushes, write_outcome
from chartfix.changes import ChartChange
from chartfix.coverage import Coverage
from chartfix.diff import chart_diff, display_path, summarize
from chartfix.errors import UsageError
from chartfix.fixcmd import (
    apply_outcomes,
    check_components,
    check_mode,
    crashed,
    fix_outcome,
    request_from,
)
from chartfix.output import plural
from chartfix.output.json import finding_entry
from chartfix.pipeline import FixRequest, organisation_request, select_recipes
from chartfix.repos import RepoFailure, unique_names
from chartfix.runner import abandon, run_parallel
from chartfix.targets import find_targets

REPORT_VERSION = 1


SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX"
"""Set by Kubernetes in each pod of an Indexed Job: 0..completions-1."""
SHARD_COUNT_ENV = "CHARTFIX_SHARDS"
"""Set by the Job manifest (deploy/kubernetes/): the Job's completions."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        if text == "auto":
            return cls.from_environment()
        index, sep, count = text.partition("/")
        if not sep or not index.isdigit() or not count.isdigit() or int(count) < 1:
            raise UsageError(f"--shard takes I/N (for example 0/4), not {text!r}")
        shard = cls(int(index), int(count))
        if shard.index >= shard.count:
            raise UsageError(
                f"--shard {text}: the index is 0-based (0..{shard.count - 1}), like a "
                "Kubernetes Job completion index"
            )
        return shard

    @classmethod
    def from_environment(cls) -> Shard:
        """--shard auto: the index from an Indexed Job's pod, the count from the manifest."""
        index = os.environ.get(SHARD_INDEX_ENV, "").strip()
        count = os.environ.get(SHARD_COUNT_ENV, "").strip()
        if not index:
            raise UsageError(
                f"--shard auto: {SHARD_INDEX_ENV} is not set (Kubernetes sets it in the pods "
                "of an Indexed Job); elsewhere use --shard I/N"
            )
        if not count:
            raise UsageError(
                f"--shard auto: {SHARD_COUNT_ENV} is not set: set it to the Job's completions"
            )
        if not index.isdigit() or not count.isdigit() or int(count) < 1:
            raise UsageError(
                f"--shard auto: {SHARD_INDEX_ENV}={index!r} and {SHARD_COUNT_ENV}={count!r} "
                "must be whole numbers, the count at least 1"
            )
        if int(index) >= int(count):
            raise UsageError(
                f"--shard auto: {SHARD_INDEX_ENV}={index} is not below {SHARD_COUNT_ENV}="
                f"{count}: set {SHARD_COUNT_ENV} to the Job's completions"
            )
        return cls(int(index), int(count))

    def holds(self, identity: str) -> bool:
        digest = hashlib.sha256(identity.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index


def chart_identity(chart: Path, roots: Sequence[Path]) -> str:
    """A name for a chart that is the same on every machine: its root's name (unique among
    the roots: `repos.unique_names`), then its path below the root."""
    labels = unique_names(roots)
    for root in reversed((chart, *chart.parents)):  # the outermost root holding the chart
        if root in labels:
            below = chart.relative_to(root).as_posix()
            return labels[root] if below == "." else f"{labels[root]}/{below}"
    return chart.name


def shard_key(identity: str, args: argparse.Namespace) -> str:
    """What a shard is chosen by: the chart, or with --branch (one branch per repository)
    the chart's root, so that two shards never build the same branch of one repository."""
    if args.branch and not getattr(args, "branch_per_chart", False):
        return identity.split("/", 1)[0]
    return identity


def content_hash(chart: Path) -> str:
    """Hash of what the chart's results are made from, besides the options (`options_hash`):
    its files (names and bytes; a link's target text and, when it is a file, its bytes), the
    `.chartfix.yaml` files that apply to it (up to the repository root) and the files of its
    `file://` dependencies. Has any changed since the last run?"""
    digest = hashlib.sha256()
    _hash_tree(chart, digest, seen=set())
    from chartfix.config import CONFIG_NAME, _config_dirs, load_config
    from chartfix.errors import ChartError

    for directory in _config_dirs(chart)[1:]:  # the chart's own is among its files
        config = directory / CONFIG_NAME
        digest.update(b"config\0" + str(config).encode() + b"\0" + _file_bytes(config))
    with contextlib.suppress(ChartError):  # a config's values files (a bad config: the run
        values = load_config(chart).values  # says why)
        digest.update(b"values\0" + json.dumps(values, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _hash_tree(chart: Path, digest: Any, seen: set[Path]) -> None:
    """The chart's files into `digest`, then those of its `file://` dependencies."""
    seen.add(chart.resolve())
    for path in sorted(p for p in chart.rglob("*") if p.is_file() or p.is_symlink()):
        digest.update(path.relative_to(chart).as_posix().encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link\0" + os.readlink(path).encode() + b"\0")
        digest.update(_file_bytes(path))
    for dependency in _file_dependencies(chart):
        if dependency not in seen:
            digest.update(b"dependency\0" + str(dependency).encode() + b"\0")
            _hash_tree(dependency, digest, seen)


def _file_dependencies(chart: Path) -> list[Path]:
    """The directories of the chart's `file://` dependencies (a Chart.yaml that cannot be
    read has none here: the run says why)."""
    from chartfix.chart import declared_dependencies, read_chart_meta
    from chartfix.errors import ChartError

    try:
        dependencies = list(declared_dependencies(chart, read_chart_meta(chart)))
    except (ChartError, OSError, ValueError):
        return []
    return [
        (chart / d.repository.removeprefix("file://")).resolve()
        for d in dependencies
        if d.repository.startswith("file://")
        and (chart / d.repository.removeprefix("file://")).is_dir()
    ]


def _file_bytes(path: Path) -> bytes:
    """A file's bytes; b"" when it is absent or not a file, b"?" when it cannot be read."""
    try:
        return path.read_bytes() if path.is_file() else b""
    except OSError:
        return b"?"


def options_hash(request: FixRequest) -> str:
    """Hash of the run's options that change a chart's results: recipes, rule control,
    organisation values (the values files' bytes and --set), components, label-jobs,
    release, namespace, run-apps."""
    policy = request.policy
    options = {
        "recipes": list(request.recipes),
        "recipe_file": repr(request.recipe_file),
        "base_values": request.base_values,
        "values_files": [_file_bytes(p).hex() for p in request.values_files],
        "set": list(request.set_values),
        "components": [list(c) for c in request.components],
        "label_jobs": request.label_jobs,
        "release": request.release,
        "namespace": request.namespace,
        "extra": sorted(request.extra.items()),
        "include": sorted(policy.include) if policy.include is not None else None,
        "exclude": sorted(policy.exclude),
        "severity": [[rule, str(level)] for rule, level in policy.severity],
        "suppress": repr(policy.suppress),
        "run_apps": request.run_apps,
    }
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()


def run_bulk(args: argparse.Namespace) -> int:
    check_mode(args)
    shard = Shard.parse(args.shard) if args.shard else None
    if args.html:
        from chartfix.fixcmd import writable_file

        writable_file(args.html, "--html")
    request = organisation_request(request_from(args))
    select_recipes(request.recipes)
    report = ReportFile(args.report) if args.report else None  # a bad one stops us here
    roots = list(args.roots)
    repo_errors: list[RepoFailure] = []
    if args.repos:
        from chartfix.repos import checkout_repos

        cloned, repo_errors = checkout_repos(args.repos, args.workdir or Path(".chartfix-repos"))
        roots += cloned
        request = replace(request, untrusted=tuple(cloned))
        for error in repo_errors:
            print(f"error: {error}", file=sys.stderr)
    elif not roots:
        raise UsageError("bulk needs ROOT directories or --repos FILE")
    failed = [failure_entry(f) for f in repo_errors]  # in the report, as errors
    charts = find_targets(roots) if roots else []
    if not charts and not failed:
        raise UsageError(
            f"no chart (Chart.yaml) or cdk8s app under {', '.join(map(str, roots))}"
        )
    if shard is not None:
        charts = [c for c in charts if shard.holds(shard_key(chart_identity(c, roots), args))]
    options = options_hash(request)
    todo, skipped = report.resume(charts, options) if report else (charts, [])
    shard_name = str(shard) if shard else None

    progress = Progress(len(todo), fixing=bool(args.write or args.branch))
    outcomes: list[Outcome] = []
    work = partial(fix_outcome, request=request)
    try:
        for outcome in run_parallel(
            work, todo, args.jobs, on_crash=crashed, timeout=args.timeout
        ):
            with _uninterrupted():  # a chart's files and its report line land together
                # as each chart finishes, so a stopped run keeps them; --component names are
                # first checked against every chart's workloads (check_components, below)
                if args.write and not request.components:
                    write_outcome(outcome)
                outcomes.append(outcome)
                if report:
                    report.add(report_entry(outcome, roots, args, options))
            progress.advance(outcome)
    except KeyboardInterrupt:
        abandon()
        progress.close()
        if report:
            entries = [*failed, *(report_entry(o, roots, args, options) for o in outcomes)]
            report.finish(entries, keep=None, shard=shard_name, dry_run=not args.write)
        print(
            f"interrupted: {len(outcomes)} of {len(todo)} charts done"
            + (f"; {args.report} has them: run again with the same --report to resume"
               if report else ""),
            file=sys.stderr,
        )
        return 130
    progress.close()
    outcomes.sort(key=lambda o: str(o.root))
    check_components(request, outcomes)

    applied = apply_outcomes(outcomes, args)
    print_table(outcomes, skipped, sys.stderr, dry_run=not applied)
    print_pushes(outcomes, sys.stderr)
    entries = [*failed, *(report_entry(o, roots, args, options) for o in outcomes)]
    document = report_document(entries, shard_name, dry_run=not applied)
    if report:
        document = report.finish(entries, keep=skipped, shard=shard_name, dry_run=not applied)
    if args.html:
        from chartfix.report.html import write_html

        write_html(args.html, [document])
    return 2 if repo_errors else RunSummary(outcomes).exit_status


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

    def __init__(self, total: int, fixing: bool = False) -> None:
        """`fixing`: the run writes or commits (else a dry run: the bar says so)."""
        self.total = total
        self.count = 0
        self.live = sys.stderr.isatty() and not os.environ.get("CI")
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
        line = f"[{self.count}/{self.total}] {display_path(outcome.root)}: {progress_word(outcome)}"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=display_path(outcome.root))
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _status(outcome: Outcome) -> str:
    if outcome.error is not None:
        return "error"
    if outcome.skipped is not None:
        return "skipped"
    change = outcome.change
    assert change is not None
    if not change.fixed and not change.unfixed:
        return "clean"
    return "fixed" if not change.unfixed else ("partial" if change.fixed else "left")


def progress_word(outcome: Outcome) -> str:
    """The chart's status as far as the run has gone: "fixed" once written; until then (a dry
    run, or a --branch commit still to come) "fixable"."""
    status = _status(outcome)
    if status in ("fixed", "partial") and not outcome.landed:
        return "fixable" if status == "fixed" else "partly fixable"
    return status


def print_table(
    outcomes: Sequence[Outcome], skipped: Sequence[Path], stream: Any, dry_run: bool = False
) -> None:
    """The final table: charts with findings or an error (the error column holds the reason).

    A chart that failed (or was refused) counts no fix; in a dry run the column says "would
    fix". On a terminal the table grows wider than the screen rather than cut a chart's
    name, an error stays on one line there, and each error follows in full below it.
    """
    rows = [_row(o) for o in outcomes if o.error is not None or _status(o) != "clean"]
    headers = ("chart", "findings", "would fix" if dry_run else "fixed", "left", "error")
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
    coverage = Coverage()
    coverage.skipped_as_done(len(skipped))
    for o in outcomes:
        change = o.change
        error = str(o.error) if o.error else (f"not run: {o.skipped}" if o.skipped else None)
        coverage.add(error, bool(change and change.synthesized), bool(change and change.unrendered))
    stream.write("".join(line + "\n" for line in coverage.lines()))
    clean = sum(1 for o in outcomes if _status(o) == "clean")
    not_run = sum(1 for o in outcomes if o.skipped is not None)
    stream.write(
        f"{plural(len(outcomes), 'chart')} processed ({clean} clean), {len(skipped)} skipped "
        f"as done{f', {not_run} not run' if not_run else ''}"
        f"{'; dry run: nothing written' if dry_run else ''}\n"
    )


def _row(outcome: Outcome) -> tuple[str, str, str, str, str]:
    change = outcome.change
    findings = str(len(change.fixed) + len(change.unfixed)) if change else "-"
    if outcome.error is not None or change is None:
        return (display_path(outcome.root), findings, "-", "-",
                outcome.skipped or str(outcome.error))
    return (display_path(outcome.root), findings, str(len(change.fixed)),
            str(len(change.unfixed)), "")


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
        file=stream, width=width, highlight=False, no_color=plain,
        color_system=None if plain else "auto",
    )


# --- reports -------------------------------------------------------------------------------


def report_entry(
    outcome: Outcome,
    roots: Sequence[Path],
    args: argparse.Namespace | None = None,
    options: str | None = None,
) -> dict[str, Any]:
    """`applied`: the change was written or committed (a dry run's "fixed" means fixable);
    `args`: the run's options (release, namespace, bump) the migration note is written for;
    `options`: their `options_hash`, which a resumed run compares with its own."""
    change = outcome.change
    diff = chart_diff(change) if change else ""
    summary = summarize([diff]) if diff else None
    return {
        "path": str(outcome.root),
        "id": chart_identity(outcome.root, roots),
        "name": change.chart_name if change else outcome.root.name,
        "status": _status(outcome),
        "findings": len(change.fixed) + len(change.unfixed) if change else 0,
        "fixed": [f"{f.rule} {f.obj}" for f in change.fixed] if change and not outcome.error
        else [],
        "left": [f"{u.finding.rule} {u.finding.obj}: {u.reason}" for u in change.unfixed]
        if change else [],
        "error": str(outcome.error) if outcome.error else None,
        "synthesized": change.synthesized if change else {},
        "unrendered": change.unrendered if change else {},
        "unsafe": bool(change and change.unsafe),
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
        "finding_details": finding_details(change) if change else [],
        "notes": list(change.notes) if change else [],
        "migration": migration_for(change, args) if change else None,
        "recipe": change.recipe_file.describe() if change and change.recipe_file else None,
    }


def failure_entry(failure: RepoFailure) -> dict[str, Any]:
    """A repository of --repos that could not be had, as an error entry of the report."""
    return {
        "path": failure.url, "id": failure.url, "name": failure.url.rstrip("/").rsplit("/")[-1],
        "status": "error", "findings": 0, "fixed": [], "left": [], "error": failure.reason,
        "files": [], "lines_added": 0, "lines_removed": 0, "diff": "", "content_hash": None,
        "applied": False, "finding_details": [], "notes": [],
    }


def finding_details(change: ChartChange) -> list[dict[str, Any]]:
    """Every finding of the chart as in `check --format json` (location relative to the
    chart), with `state` fixed or left and, when left, the `reason`."""
    fixed = [
        {"state": "fixed", "reason": None, **finding_entry(f, f.location.path)}
        for f in change.fixed
    ]
    left = [
        {"state": "left", "reason": u.reason, **finding_entry(u.finding, u.finding.location.path)}
        for u in change.unfixed
    ]
    return fixed + left


def migration_for(change: ChartChange, args: argparse.Namespace | None) -> str | None:
    """The migration note the branch commit carries (unsafe changes only), for the run's
    release and namespace."""
    if not change.unsafe or not change.changed:
        return None
    from chartfix.bump import LEVELS, bump_version
    from chartfix.migration import migration_note

    release = getattr(args, "release", "release-name")
    namespace = getattr(args, "namespace", "default")
    bump = getattr(args, "bump", "auto")
    version = None  # the default bump's version, as the branch commit gets
    if bump in LEVELS:
        with contextlib.suppress(ValueError):  # not SemVer: the note names no version
            version = bump_version(change.chart_version, bump)
    return migration_note(change, release, namespace, version=version)


STATUSES = ("clean", "fixed", "partial", "left", "error")


class ReportFile:
    """--report FILE, kept current as charts finish, so an interrupted run loses nothing.

    Each finished chart is appended as one JSON line to FILE.partial (flushed and fsynced: a
    kill can tear only the line being written, which readers skip); the end of the run, or
    Ctrl-C, writes FILE whole (a fresh temp file, never one through a link, replaced
    atomically) and removes FILE.partial. Readers take FILE plus FILE.partial, so a re-run
    resumes where a killed one stopped.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = partial_of(path)
        self.previous = {c["path"]: c for c in _read_report(path)["charts"]} if (
            path.exists() or self.partial.exists()
        ) else {}

    def resume(self, charts: Sequence[Path], options: str) -> tuple[list[Path], list[Path]]:
        """(charts to run, charts done), saying on stderr why done charts are run again.

        Done is clean, or fixed with the fix written or committed (a dry run's "fixed" chart
        still has its bugs on disk, so a following --write run must not skip it), by a run
        with the same options (`options_hash`) on the same inputs (`content_hash`).
        """
        finished = {
            path: c for path, c in self.previous.items()
            if c["status"] == "clean" or (c["status"] == "fixed" and c.get("applied"))
        }
        todo, done, other_options, changed = [], [], 0, 0
        for chart in charts:
            entry = finished.get(str(chart))
            if entry is None:
                todo.append(chart)
            elif entry.get("options") != options:
                other_options += 1
                todo.append(chart)
            elif entry.get("content_hash") != content_hash(chart):
                changed += 1
                todo.append(chart)
            else:
                done.append(chart)
        if other_options:
            print(
                f"{self.path}: {plural(other_options, 'chart')} done with other options "
                "(recipes, rules, values, --set, components, release, namespace, run-apps): "
                "run again",
                file=sys.stderr,
            )
        if changed:
            print(
                f"{self.path}: {plural(changed, 'chart')} changed since done (files, "
                ".chartfix.yaml or file:// dependencies): run again",
                file=sys.stderr,
            )
        return todo, done

    def add(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry) + "\n").encode("utf-8")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.partial, flags, 0o644)
        except OSError as err:
            raise UsageError(f"--report {self.partial}: {err.strerror}") from err
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def finish(
        self,
        entries: Sequence[dict[str, Any]],
        keep: Sequence[Path] | None,
        shard: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        """The whole report: `entries`, plus the previous entries of the charts in `keep`
        (None: of every chart this run did not reach). Returns what it wrote."""
        new = {e["path"] for e in entries}
        kept_paths = {str(p) for p in keep} if keep is not None else None
        kept = [
            c for path, c in self.previous.items()
            if path not in new and (kept_paths is None or path in kept_paths)
        ]
        document = report_document([*kept, *entries], shard, dry_run)
        _write_json(self.path, document)
        self.partial.unlink(missing_ok=True)
        return document


def report_document(
    charts: Sequence[dict[str, Any]], shard: str | None, dry_run: bool
) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION, "shard": shard, "dry_run": dry_run,
        "charts": sorted(charts, key=lambda c: c["path"]),
    }


def partial_of(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    replace_text(path, json.dumps(data, indent=2) + "\n")


def replace_text(path: Path, text: str) -> None:
    """Replace `path` atomically; the temp file is new (O_EXCL), so a link planted under a
    predictable name is never followed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _read_report(path: Path) -> dict[str, Any]:
    """A report and, when a run was interrupted, the lines of its FILE.partial; a file of
    another shape is a usage error naming what is wrong. The one reader of reports: bulk's
    resume, `report merge` and `report html` take only what it let through."""
    data: dict[str, Any] = {"version": REPORT_VERSION, "shard": None, "charts": []}
    if path.exists() or not partial_of(path).exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UsageError(f"{path}: not a chartfix report: {err}") from err
        except RecursionError as err:
            raise UsageError(f"{path}: not a chartfix report: nested too deeply") from err
        if not isinstance(data, dict) or data.get("version") != REPORT_VERSION:
            raise UsageError(f"{path}: not a chartfix report of version {REPORT_VERSION}")
    problem = _document_problem(data)
    if problem:
        raise UsageError(f"{path}: not a chartfix report: {problem}")
    by_path = {c["path"]: c for c in data["charts"]}
    for line in _partial_lines(partial_of(path)):
        by_path[line["path"]] = line
    data["charts"] = sorted(by_path.values(), key=lambda c: c["path"])
    return data


def _document_problem(data: dict[str, Any]) -> str | None:
    shard = data.get("shard")
    if shard is not None:
        if not isinstance(shard, str) or shard == "auto":
            return f"`shard` {shard!r} is not I/N"
        try:
            Shard.parse(shard)
        except UsageError as err:
            return f"`shard` {shard!r}: {err}"
    if not isinstance(data.get("dry_run"), bool | None):
        return "`dry_run` is not true, false or null"
    charts = data.get("charts")
    if not isinstance(charts, list):
        return "`charts` is not a list"
    for i, chart in enumerate(charts):
        problem = _entry_problem(chart)
        if problem:
            return f"charts[{i}] {problem}"
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_text(value: object) -> bool:
    return isinstance(value, str | None)


_ENTRY_FIELDS: dict[str, tuple[Any, str]] = {
    "id": (lambda v: isinstance(v, str), "a string"),
    "name": (lambda v: isinstance(v, str), "a string"),
    "findings": (_is_count, "a count"),
    "lines_added": (_is_count, "a count"),
    "lines_removed": (_is_count, "a count"),
    "fixed": (_is_strings, "a list of strings"),
    "left": (_is_strings, "a list of strings"),
    "files": (_is_strings, "a list of strings"),
    "notes": (_is_strings, "a list of strings"),
    "diff": (lambda v: isinstance(v, str), "a string"),
    "error": (_is_text, "a string or null"),
    "content_hash": (_is_text, "a string or null"),
    "options": (_is_text, "a string or null"),
    "commit": (_is_text, "a string or null"),
    "branch": (_is_text, "a string or null"),
    "migration": (_is_text, "a string or null"),
    "recipe": (_is_text, "a string or null"),
    "applied": (lambda v: isinstance(v, bool), "true or false"),
    "unsafe": (lambda v: isinstance(v, bool), "true or false"),
    "synthesized": (lambda v: isinstance(v, dict), "an object"),
    "unrendered": (lambda v: isinstance(v, dict), "an object"),
}
"""The fields of a chart entry readers use (each may be absent, in older reports), with
the test of its shape and what the test wants."""

_DETAIL_TEXT = ("state", "rule", "severity", "message", "reason", "remediation")


def _entry_problem(chart: object) -> str | None:
    if not isinstance(chart, dict):
        return "is not an object"
    for key in ("path", "status"):
        if not isinstance(chart.get(key), str):
            return f"has no {key!r} string"
    if chart["status"] not in STATUSES:
        return f"has an unknown status {chart['status']!r}"
    for key, (valid, wanted) in _ENTRY_FIELDS.items():
        if key in chart and not valid(chart[key]):
            return f"`{key}` is not {wanted}"
    details = chart.get("finding_details")
    if details is not None:
        if not isinstance(details, list):
            return "`finding_details` is not a list"
        for i, detail in enumerate(details):
            problem = _detail_problem(detail)
            if problem:
                return f"finding_details[{i}] {problem}"
    return None


def _detail_problem(detail: object) -> str | None:
    if not isinstance(detail, dict):
        return "is not an object"
    for key in _DETAIL_TEXT:
        if not _is_text(detail.get(key)):
            return f"`{key}` is not a string or null"
    if detail.get("state") not in (None, "fixed", "left"):
        return f"has an unknown state {detail['state']!r}"
    if not isinstance(detail.get("object"), dict | str | None):
        return "`object` is not an object or a string"
    location = detail.get("location")
    if location is not None:
        if not isinstance(location, dict) or not _is_text(location.get("path")):
            return "`location` is not an object with a `path` string"
        line = location.get("line")
        if line is not None and not _is_count(line):
            return "`location.line` is not a line number"
    return None


def _partial_lines(path: Path) -> list[dict[str, Any]]:
    """Entries of FILE.partial; a line torn by a kill (the last one) is skipped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise UsageError(f"{path}: {err.strerror}") from err
    entries = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if _entry_problem(entry) is None:
            entries.append(entry)
    return entries
