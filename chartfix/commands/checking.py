"""What `chartfix check` does: render every target under every scenario in parallel (a
heavy target's scenarios shared out among the workers), run the rules, answer from the cache
when nothing changed, report (the exit status: `exit_status`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import TextIO

from chartfix import cache
from chartfix.commands.options import CHECK_FORMATS as FORMATS
from chartfix.commands.options import features_from, policy_from
from chartfix.commands.workers import start as start_workers
from chartfix.config import config_files, load_config
from chartfix.errors import Skipped, TargetError, UsageError, display_path
from chartfix.model.findings import Analysis as Judged
from chartfix.model.objects import Rendering, features_added, object_ids
from chartfix.model.report import ChartReport
from chartfix.publish.releases import releases_from
from chartfix.publish.write import refuse_pending
from chartfix.rules import Policy, merge_findings
from chartfix.sources.base import RenderSettings
from chartfix.sources.targets import (
    find_targets,
    load_target,
    nothing_found,
    only_files,
    target_weight,
)
from chartfix.values import values_once

USER_SCENARIOS_NOTE = (
    "note: --user-scenarios: only the scenarios you wrote are rendered (the defaults or your "
    "values, ci/ files); not checked: objects only an off-by-default feature switch renders, "
    "and selector labels that change with the next release in ways their key or value does "
    "not show (volatile labels are found by key and by the chart's version in their value, "
    "not by rendering the next release)"
)


@dataclass(frozen=True)
class CheckOptions:
    """A check as its command line asks for it (`check_options`): what each target's check
    needs (`check_chart`, `check_all`) and how the run reports (`run_check`)."""

    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    release: str = "release-name"
    namespace: str = "default"
    policy: Policy = field(default_factory=Policy)
    """The command line's rule control, on top of each target's `.chartfix.yaml`."""
    run_apps: bool | None = None
    features: int = 0
    """Feature-switch scenarios rendered per chart at most."""
    source_builds: bool = False
    trusted: bool = False
    """A target's own `run-apps: true` counts."""
    allow_remote: bool = False
    """Kustomizations may fetch remote resources."""
    user_scenarios: bool = False
    """Only the scenarios the user wrote: no feature switch and no next release rendered
    (`run_check` says once, on stderr, what that leaves unchecked)."""
    jobs: int | None = None
    fmt: str = "text"
    strict: bool = False
    """Warnings fail the run too."""
    quiet: bool = False
    """Findings and errors only: no scenarios, advice, notes or summary line."""

    def settings(self) -> RenderSettings:
        """What every target is rendered with."""
        return RenderSettings(
            tuple(Path(v).resolve() for v in self.values_files), tuple(self.set_values), "",
            self.release, self.namespace, 0 if self.user_scenarios else self.features,
            source_builds=self.source_builds, allow_remote=self.allow_remote,
            trusted=self.trusted, next_release=not self.user_scenarios,
        )


def check_options(args: argparse.Namespace) -> CheckOptions:
    """The options of check's flags, built once."""
    [first, *_] = releases_from(args.releases, args.namespace, None)
    return CheckOptions(
        values_files=tuple(args.values), set_values=tuple(args.set),
        release=first.name, namespace=first.namespace, policy=policy_from(args),
        run_apps=args.run_apps, features=features_from(args),
        source_builds=args.allow_source_builds, trusted=args.trusted,
        allow_remote=args.allow_remote, user_scenarios=args.user_scenarios,
        jobs=args.jobs, fmt=args.format, strict=args.strict, quiet=args.quiet,
    )


def check_chart(
    root: Path, options: CheckOptions = CheckOptions(), keep_renderings: bool = True
) -> ChartReport:
    """Render the target at `root` under each scenario and analyze it (`pipeline.analyze`).
    Never raises for a bad target: its TargetError travels in the report."""
    task = ScenarioTask(root, options.settings(), options.policy, options.run_apps)
    result, renderings = _check(task)
    report = _report(root, [(task, result)])
    if keep_renderings and report.error is None:
        report.renderings = renderings
    return report


def _keep(report: ChartReport, analysis: Judged) -> None:
    report.findings = analysis.findings
    report.suppressed = analysis.suppressed
    report.suppressions = Judged(declared=analysis.declared, used=analysis.used)


def crashed_report(root: Path, error: BaseException) -> ChartReport:
    """A chart whose check raised something other than TargetError (a bug, a dead worker)."""
    from chartfix.runner import crash_reason

    return ChartReport(root=root, name=root.name, error=TargetError(root, crash_reason(error)))


@dataclass(frozen=True)
class ScenarioTask:
    """Some scenarios of one target: the unit of parallel work. Targets differ a lot in cost
    (one big chart can take a third of a tree's time), so a heavy target's scenarios are
    shared out among the workers, whatever its kind (`Source.scenarios`); a light target
    stays one task (it is loaded and staged once). The worker works out which scenarios
    its share holds (`share_of`): the parent never loads a target."""

    root: Path
    settings: RenderSettings
    policy: Policy = field(default_factory=Policy)
    run_apps: bool | None = None
    share: int = 0
    """Which of the `shares` consecutive runs of the target's scenarios is this task's."""
    shares: int = 1
    """1: the whole target."""

    @property
    def whole(self) -> bool:
        return self.shares == 1


def share_of(scenarios: Sequence[str], share: int, shares: int) -> list[str]:
    """The `share`th of `shares` runs of consecutive scenarios, as even as they come (the
    last ones may be shorter, or empty when there are fewer scenarios than shares)."""
    size = -(-len(scenarios) // shares)
    return list(scenarios[share * size : (share + 1) * size])


@dataclass
class ScenarioResult:
    name: str
    analysis: Judged = field(default_factory=Judged)
    scenarios: list[str] = field(default_factory=list)
    """The scenarios the task was to check, rendered or not, in order."""
    warnings: list[str] = field(default_factory=list)
    engine_log: list[str] = field(default_factory=list)
    error: TargetError | None = None
    skipped: str | None = None
    stand_in: str | None = None
    synthesized: dict[str, list[str]] = field(default_factory=dict)
    unrendered: dict[str, TargetError] = field(default_factory=dict)
    objects: dict[str, frozenset[str]] = field(default_factory=dict)
    """Scenario -> its objects (`object_ids`): what feature scenarios add is counted from
    them, the first scenario being in another task maybe."""
    read: dict[Path, str] = field(default_factory=dict)
    """sha256 of every file rendering read, "" for those whose absence counts
    (`Renderings.inputs`): a cached result is trusted only while they are unchanged."""
    cacheable: bool = False
    """Whether the result may be cached (`Renderings.cacheable`: rendered, and read all it
    depends on)."""


def check_scenarios(task: ScenarioTask) -> ScenarioResult:
    """Analyze some scenarios of one target; never raises TargetError."""
    return _check(task)[0]


def _check(task: ScenarioTask) -> tuple[ScenarioResult, list[Rendering]]:
    # here, not at the top: a run the cache answers never loads the rules and recipes
    from chartfix.pipeline import NothingRendered, advised, analyze, configured

    result = ScenarioResult(task.root.name)
    try:
        untrusted = _untrusted(task.root, task.settings)
        source = load_target(task.root, task.run_apps, untrusted)
        result.name = source.name
        config = load_config(source.root)
        settings, policy = configured(config, task.settings, task.policy)
        result.scenarios = share_of(source.scenarios(settings), task.share, task.shares)
        if not result.scenarios:  # fewer scenarios than shares: the others have them all
            return result, []
        analysis = analyze(source, settings, policy, None if task.whole else result.scenarios)
    except NothingRendered as err:
        result.unrendered = dict(err.unrendered)
        result.error = err.unrendered[0][1] if err.unrendered else err
        if err.inputs is not None:  # Helm's engine refuses these files the same way again
            result.read, result.cacheable = {**err.inputs, **config.read}, True
        return result, []
    except Skipped as skipped:
        result.skipped = skipped.reason
        return result, []
    except TargetError as err:
        result.error = err
        return result, []
    rendered = analysis.rendered
    result.stand_in = rendered.stand_in
    # fix's planner judges the advice; read from a stand-in (an app's committed output),
    # the source is fixed by running the app, as the advice says
    result.analysis = (
        advised(source, analysis, config) if rendered.stand_in is None else analysis.judged
    )
    if rendered.stand_in is not None:
        result.analysis.findings = [
            replace(f, remediation=stand_in_remedy(f.remediation, rendered.stand_in))
            for f in result.analysis.findings
        ]
    result.unrendered = dict(rendered.unrendered)
    result.warnings = list(dict.fromkeys(rendered.warnings))
    for rendering in rendered.renderings:
        result.warnings += [w for w in rendering.warnings if w not in result.warnings]
        result.engine_log += [n for n in rendering.engine_log if n not in result.engine_log]
        result.objects[rendering.scenario] = object_ids(rendering)
    result.synthesized = dict(rendered.synthesized)
    result.read = {**rendered.inputs(), **config.read}
    result.cacheable = rendered.cacheable
    return result, analysis.renderings


def stand_in_remedy(remediation: str, stand_in: str) -> str:
    """A finding's fix when it was read from what stands in for the source (a cdk8s app's
    committed output): the source is fixed, by running the program that writes it."""
    return (
        f"{remediation} {stand_in} is the app's synthesized output, not its source: the "
        "Python source is fixed by running the app (chartfix fix --run-apps)."
    )


def _crashed_scenario(task: ScenarioTask, error: BaseException) -> ScenarioResult:
    return ScenarioResult(task.root.name, error=crashed_report(task.root, error).error)


def check_all(
    charts: Sequence[Path], options: CheckOptions = CheckOptions()
) -> list[ChartReport]:
    """Reports for `charts` (targets of any kind), in their order, with
    `settle_suppressions` done.

    A heavy target's scenarios are split into tasks, biggest targets first, so that two
    workers stay busy until the end. Findings of a target's scenarios are merged as
    `analyze` merges them.
    """
    settings = options.settings()
    policy, run_apps = options.policy, options.run_apps
    unfinished = {c: ChartReport(root=c, name=c.name, error=e) for c in charts
                  if (e := _unfinished_write(c)) is not None}
    ready = [c for c in charts if c not in unfinished]
    lookup = _Lookup(settings, policy, run_apps, options.jobs, len(ready))
    fresh = _checked(ready, lookup)
    for root, parts in fresh.items():
        _store(lookup.keys[root], parts)
    ordered = [
        unfinished.get(root) or _report(root, lookup.hits.get(root) or fresh[root])
        for root in charts
    ]
    settle_suppressions(ordered)
    return ordered


Parts = list[tuple[ScenarioTask, ScenarioResult]]
"""A target's tasks and their results (one task, or a heavy target's shares)."""


@dataclass
class _Lookup:
    """Targets looked up in the cache one at a time, as `_tasks` comes to them: their keys
    and the cache's answers kept. The first the cache does not answer starts the workers."""

    settings: RenderSettings
    policy: Policy
    run_apps: bool | None
    jobs: int | None
    targets: int
    keys: dict[Path, str] = field(default_factory=dict)
    hits: dict[Path, Parts] = field(default_factory=dict)

    def missed(self, root: Path) -> bool:
        """Whether `root` must be checked (the cache does not answer for it)."""
        self.keys[root] = _target_key(root, self.settings, self.policy, self.run_apps)
        hit = _cached(root, self.keys[root])
        if hit is not None:
            self.hits[root] = hit
            return False
        if len(self.keys) == len(self.hits) + 1:  # the first: a cold run, work to do
            start_workers(self.jobs, self.targets)
        return True


def _checked(targets: Sequence[Path], lookup: _Lookup) -> dict[Path, Parts]:
    """Each target the cache does not answer (`lookup`), its tasks and their results, run
    in worker processes (chartfix.runner, imported here: a run the cache answers starts
    none). The workers start on the first task while the parent still looks up the rest:
    the runner takes the tasks as they come."""
    tasks = _tasks(
        targets, lookup.settings, lookup.jobs, lookup.policy, lookup.run_apps, lookup.missed
    )
    first = next(tasks, None)
    if first is None:
        return {}
    from chartfix.runner import run_parallel

    planned: list[ScenarioTask] = []

    def planning() -> Iterator[ScenarioTask]:
        for task in chain([first], tasks):
            planned.append(task)
            yield task

    fresh: dict[Path, Parts] = {}
    results = run_parallel(
        check_scenarios, planning(), lookup.jobs, on_crash=_crashed_scenario
    )
    for index, result in enumerate(results):
        task = planned[index]
        parts = fresh.setdefault(task.root, [])
        if not _idle(task, result):
            parts.append((task, result))
    return fresh


def _idle(task: ScenarioTask, result: ScenarioResult) -> bool:
    """A share left without scenarios (the target has fewer than shares): it rendered
    nothing and says nothing the other shares do not."""
    return not task.whole and not result.scenarios and result.error is None \
        and result.skipped is None


def _target_key(
    root: Path, settings: RenderSettings, policy: Policy, run_apps: bool | None
) -> str:
    """The cache key of a target's check: its files, its `.chartfix.yaml`s, the values
    files' bytes, the settings and policy (chartfix.cache); "" when the cache is off."""
    if cache.directory() is None:
        return ""
    values = settings.values_files
    return cache.key(
        "check", root, config_files(root), replace(settings, values_files=()),
        [cache.file_digest(v) for v in values], policy, run_apps,
    )


def _cached(root: Path, key: str) -> Parts | None:
    """A target's results from the cache: a hit loads no target, starts no worker and
    renders nothing."""
    hit: Parts | None = cache.get("check", key, root) if key else None
    return hit


def _store(key: str, parts: Parts) -> None:
    """Cache a target's results when every task's depends on files alone (analysed, or no
    scenario rendered: `Renderings.cacheable`), never a crash, a timeout or a target that
    could not be read; the files they read are checked on the next hit."""
    if key and parts and all(r.cacheable for _, r in parts):
        read = {path: sha for _, r in parts for path, sha in r.read.items()}
        cache.put("check", key, parts, read)


def settle_suppressions(reports: Sequence[ChartReport]) -> None:
    """Warn about suppressions that matched nothing in the whole run, each once, in the
    first chart that declared it (an entry of a shared `.chartfix.yaml` may be meant for
    another chart)."""
    used: set[str] = set()
    for report in reports:
        used |= report.suppressions.used
    warned: set[str] = set()
    for report in reports:
        report.unused_suppressions = []
        for ident, message in report.suppressions.declared.items():
            if ident not in used and ident not in warned:
                warned.add(ident)
                report.unused_suppressions.append(message)


def _tasks(
    targets: Sequence[Path],
    settings: RenderSettings,
    jobs: int | None,
    policy: Policy,
    run_apps: bool | None,
    missed: Callable[[Path], bool] = lambda root: True,
) -> Iterator[ScenarioTask]:
    """The tasks of the targets to check (`missed`, asked of each in turn), heaviest first
    (`target_weight`). Targets are asked in their order until one is missed (a run the
    cache answers whole weighs nothing), then the rest in the order of their weight, each
    as its turn comes: the workers start on the first while the rest are asked. A target
    heavier than a worker's fair share (the whole over the workers), which would end last
    however the rest were handed out, is split into `jobs` tasks, each of a share of its
    scenarios that its worker works out (`share_of`): a lighter one is not, as each share
    loads and stages it again. No target is loaded here: that would hold up every worker
    and load Helm's library in this process. One worker, or one target: one task per
    target, in their order (nothing to balance; one target's worker is then forked,
    chartfix.runner, and starts no pool)."""
    pending = list(targets)
    while pending and not missed(pending[0]):
        del pending[0]
    if not pending:
        return
    from chartfix.runner import default_jobs

    jobs = jobs or default_jobs()
    first, weighed = pending[0], jobs > 1 and len(targets) > 1
    weight = {root: target_weight(root) for root in pending} if weighed else {}
    fair = sum(weight.values()) / jobs
    for root in sorted(pending, key=weight.__getitem__, reverse=True) if weighed else pending:
        if root is first or missed(root):
            shares = jobs if weighed and weight[root] > fair else 1
            for share in range(shares):
                yield ScenarioTask(root, settings, policy, run_apps, share, shares)


def _untrusted(root: Path, settings: RenderSettings) -> tuple[Path, ...]:
    """The roots whose own `run-apps` setting does not count: every target, but with
    --trusted (then none: check never clones)."""
    return () if settings.trusted else (root,)


def _unfinished_write(root: Path) -> TargetError | None:
    """Why a chart a killed `fix --write` left half written is not checked: its files are
    neither the old chart nor the new one (and a `git add -A` would commit the staged ones)."""
    try:
        refuse_pending(root, "check")
    except TargetError as err:
        return err
    except OSError:  # an unreadable folder: its check says why
        return None
    return None


def _report(root: Path, parts: list[tuple[ScenarioTask, ScenarioResult]]) -> ChartReport:
    """One target's report from its tasks' results, in scenario order (the first error
    wins, as a serial check would have stopped there)."""
    report = ChartReport(root=root, name=parts[0][1].name if parts else root.name)
    report.namespace = parts[0][0].settings.namespace if parts else report.namespace
    report.skipped = next((part.skipped for _, part in parts if part.skipped), None)
    if report.skipped is not None:
        return report
    report.scenarios = [name for _, part in parts for name in part.scenarios]
    report.stand_in = next((part.stand_in for _, part in parts if part.stand_in), None)
    rendered = [part for _, part in parts if part.error is None]
    for _, part in parts:
        if part.error is not None and (not rendered or not part.unrendered):
            report.error = part.error  # a broken target, or no scenario renders at all
            report.warnings = list(part.error.notes)
            return report
    for _, part in parts:
        report.warnings += [w for w in part.warnings if w not in report.warnings]
        report.engine_log += [n for n in part.engine_log if n not in report.engine_log]
        report.synthesized.update(part.synthesized)
        report.unrendered.update({n: e.reason for n, e in part.unrendered.items()})
    analyses = [part.analysis for _, part in parts if part.error is None]
    _keep(report, Judged.combine(analyses, merge_findings))
    report.features = features_added({k: v for _, p in parts for k, v in p.objects.items()})
    return report


def exit_status(reports: Sequence[ChartReport], strict: bool = False) -> int:
    """2 when a chart could not be processed; else 1 on an error finding, or with `strict` on
    a warning finding, an unused suppression or a skipped target (a cdk8s app neither run
    nor checked from committed output: a gate must not pass over it); else 0."""
    if any(r.error is not None for r in reports):
        return 2
    if any(r.errors for r in reports):
        return 1
    if strict and any(
        r.warning_findings or r.unused_suppressions or r.skipped is not None for r in reports
    ):
        return 1
    return 0


def _say_engine_log(reports: Sequence[ChartReport]) -> None:
    """With JSON or SARIF on stdout, Helm's log lines go to stderr, each naming its chart
    (text output shows them in the chart's section)."""
    for report in reports:
        for line in report.engine_log:
            print(f"{display_path(report.root)}: {line}", file=sys.stderr)


def run_check(paths: Sequence[Path], options: CheckOptions, stream: TextIO) -> int:
    """The `check` command: find targets, check them in parallel, print, return the status."""
    if options.fmt not in FORMATS:
        raise UsageError(
            f"unknown format {options.fmt!r}; choose one of {', '.join(FORMATS)}"
        )
    options = replace(options, values_files=values_once(options.values_files))  # -f <(...)
    charts = find_targets(paths)
    if not charts and not only_files(paths):
        raise UsageError(nothing_found(paths))
    # Files no chart holds (a hook's changed files): nothing to check, and that is a pass.
    if options.user_scenarios and not options.quiet:
        print(USER_SCENARIOS_NOTE, file=sys.stderr)
    reports = check_all(charts, options)
    fmt, quiet = options.fmt, options.quiet
    if fmt != "text" and not quiet:
        _say_engine_log(reports)
    if fmt == "json":
        from chartfix.publish.output.json import write_json

        write_json(reports, stream)
    elif fmt == "sarif":
        from chartfix.publish.output.sarif import write_sarif

        write_sarif(reports, stream)
    elif fmt == "github":
        from chartfix.publish.output.github import write_github

        write_github(reports, stream)
    else:
        from chartfix.publish.output.text import write_text

        write_text(reports, stream, quiet=quiet)
    return exit_status(reports, options.strict)
