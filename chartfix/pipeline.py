"""The pipeline for one target of any source kind: load, render, analyze (`analyze`, what
`check` reports), then plan and verify (`fix_target`) -> a TargetChange.

Each step is a function of the last; nothing is written here. The caller decides what to do
with the analysis (print it) or the verified change (print a diff, write files, commit to a
branch).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chartfix.config import (
    CONFIG_NAME,
    Config,
    load_config,
    organisation_values,
    values_json,
)
from chartfix.errors import TargetError, UsageError, display_path
from chartfix.files import decode, git_repository
from chartfix.model.changes import EditRecord, FileChange, TargetChange, Unfixed
from chartfix.model.findings import FIX_PROMISE, Finding, Location, by_hand
from chartfix.model.objects import (
    ALL_FEATURES,
    K8sObject,
    ObjectRef,
    Rendering,
    features_added,
    is_feature,
    object_ids,
)
from chartfix.model.releases import ReleaseDiff
from chartfix.recipes import BUILT_IN, registry
from chartfix.recipes.base import (
    FixUnit,
    Recipe,
    RecipeContext,
    RecipeOptions,
    options_class,
)
from chartfix.recipes.files import RecipeFile, resolve
from chartfix.recipes.naming import name_suffix, unmatched, unmatched_line, workload_names
from chartfix.rules import RULES, Policy, analyze_each, apply_policy, merge_findings
from chartfix.rules import Analysis as Judged
from chartfix.rules import latent as is_latent
from chartfix.rules.impact import advice
from chartfix.rules.ksm import restarts_needed
from chartfix.rules.overlap import SELECTOR_CHANGE
from chartfix.rules.stray import NARROWED
from chartfix.rules.synthesized import placeholders
from chartfix.sources.base import DEFAULT_FEATURE_RENDERS, Renderings, RenderSettings, Source
from chartfix.sources.targets import load_target

if TYPE_CHECKING:
    from chartfix.verify import Verified, Verifier


@dataclass(frozen=True)
class FixRequest:
    """Everything a fix run needs besides the chart; picklable, for worker processes."""

    recipes: tuple[str, ...] = ()
    """Recipe names; empty means every built-in recipe."""
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    components: tuple[tuple[str, str], ...] = ()
    label_jobs: bool = False
    fix_latent: bool = False
    """Also fix latent matches (`--fix-latent`, a recipe file's `latent: true`)."""
    release: str = "release-name"
    namespace: str = "default"
    more_releases: tuple[tuple[str, str], ...] = ()
    """Other (release, namespace) pairs the chart runs as: each gets its own change, for its
    block of the migration note (the patch is the first release's)."""
    base_values: str = ""
    """Organisation values (bulk -f/--set) as JSON, layered under every scenario."""
    extra: dict[str, str] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    """The command line's rule control, on top of `.chartfix.yaml` (as for `check`)."""
    run_apps: bool | None = None
    """--run-apps / --no-run-apps; None: as a .chartfix.yaml says (see cdk8s.app.skip_reason)."""
    untrusted: tuple[Path, ...] = ()
    """Roots whose own `run-apps` setting does not count even with --trusted (bulk --repos
    clones)."""
    trusted: bool = False
    """--trusted: a `.chartfix.yaml`'s `run-apps: true` counts (outside `untrusted`)."""
    allow_remote: bool = False
    """--allow-remote: kustomizations may fetch remote resources."""
    source_builds: bool = False
    """--allow-source-builds: an app's dependencies may be built from source (RenderSettings)."""
    mode: str = "a dry run"
    """How the change lands: "--write" (which also finishes an interrupted write), "--branch"
    or "a dry run" (these two refuse a chart with a pending write: they change no file)."""
    recipe_file: RecipeFile | None = None
    """The declarative recipe asked for (`--recipe NAME|FILE`): its steps replace `recipes`;
    without one, a chart's `.chartfix.yaml` may name one."""
    features: int = DEFAULT_FEATURE_RENDERS
    """Feature scenarios rendered per chart (off-by-default switches on, one at a time;
    0: none, `--no-features`)."""
    safe_only: bool = False
    """`--safe-only`: apply only the fixes that change no immutable field; the others are
    left, with the command that makes them."""


def organisation_request(request: FixRequest) -> FixRequest:
    """bulk's -f/--values and --set are organisation values: layered under every scenario
    of every chart (its defaults and each ci/ file), not a "user" scenario of one chart."""
    return replace(
        request,
        values_files=(),
        set_values=(),
        base_values=values_json(request.values_files, request.set_values),
    )


def select_recipes(names: Sequence[str]) -> list[Recipe]:
    """Built-in recipes by name, in their registry order; unknown names are a usage error."""
    available = registry()
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UsageError(
            f"unknown recipe {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return [r for n, r in available.items() if not names or n in names]


class NothingRendered(TargetError):
    """No scenario of the target rendered: the first one's error, with every scenario's
    (`unrendered`: a check sharing a target's scenarios out reports the others'). `inputs`:
    the files the failed renders read (`Renderings.inputs`) when they depend on files alone
    (`Renderings.cacheable`), so that the failure is cached as a result is; else None."""

    def __init__(
        self,
        path: str | Path,
        reason: str,
        notes: Sequence[str] = (),
        unrendered: Sequence[tuple[str, TargetError]] = (),
        inputs: Mapping[Path, str] | None = None,
    ) -> None:
        super().__init__(path, reason, notes)
        self.unrendered = list(unrendered)
        self.inputs = None if inputs is None else dict(inputs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.reason, self.notes, self.unrendered, self.inputs))


@dataclass
class Analysis:
    """One target analysed: what rendered, each scenario's findings located in the source,
    and the policy's verdict over them (what counts, what was accepted)."""

    source: Source
    rendered: Renderings
    per_scenario: list[list[Finding]]
    """Each rendering's findings, located, before the policy: what a fix is verified against."""
    judged: Judged
    releases: ReleaseDiff
    """How labels change with the target's next release (`Source.releases` of its first
    scenario): the rules judged by it, the verifier judges by it again."""

    @property
    def renderings(self) -> list[Rendering]:
        return self.rendered.renderings


def configured(
    config: Config, settings: RenderSettings, policy: Policy
) -> tuple[RenderSettings, Policy]:
    """What the run asked for over the target's `.chartfix.yaml`: its organisation values
    under the run's, its policy under the command line's."""
    values = organisation_values(config.values, settings.base_values)
    return replace(settings, base_values=values), config.policy.overridden_by(policy)


def analyze(
    source: Source,
    settings: RenderSettings,
    policy: Policy,
    only: Sequence[str] | None = None,
) -> Analysis:
    """Render the target's scenarios (those of `only`: a share of a heavy target's), run the
    rules, locate each finding where the source writes it, and judge them by `policy`.
    `settings` and `policy` are the target's own (`configured`). Every share renders the
    target's first scenario too, as its next release is judged from it (`Source.releases`):
    findings do not depend on how scenarios were shared out (with `settings.next_release`
    off no next release is rendered, and a share renders only its own scenarios). Raises
    TargetError when the target cannot be read, NothingRendered when no scenario renders."""
    first = source.scenarios(settings)[0]
    extra = settings.next_release and only is not None and first not in only
    rendered = source.render_all(
        settings, None if only is None else [first, *only] if extra else only
    )
    releases = _releases(source, rendered, settings, first)
    if extra:
        rendered = _without(rendered, first)
    if not rendered.renderings:
        error = rendered.unrendered[0][1]
        raise NothingRendered(
            error.path, error.reason, error.notes, rendered.unrendered,
            rendered.inputs() if rendered.cacheable else None,
        )
    per_scenario = located_findings(source, rendered.renderings, releases)
    judged = apply_policy(per_scenario, rendered.renderings, policy, source.root)
    return Analysis(source, rendered, per_scenario, judged, releases)


NEXT_RELEASE_OFF = "--user-scenarios: the next release was not rendered"


def _releases(
    source: Source, rendered: Renderings, settings: RenderSettings, first: str
) -> ReleaseDiff:
    """How labels change with the target's next release, judged from its first scenario;
    the key lists stand in when the run asked for no such render or nothing rendered."""
    if not settings.next_release:
        return ReleaseDiff.by_keys(NEXT_RELEASE_OFF)
    if not rendered.renderings:
        return ReleaseDiff.by_keys(f"scenario {first} does not render")
    return source.releases(rendered.renderings[0])


def _without(rendered: Renderings, scenario: str) -> Renderings:
    """`rendered` without `scenario` (rendered for the release pair of another share); the
    source's `Renderings` stay as they are."""
    return replace(
        rendered,
        renderings=[r for r in rendered.renderings if r.scenario != scenario],
        unrendered=[(n, e) for n, e in rendered.unrendered if n != scenario],
        synthesized={n: v for n, v in rendered.synthesized.items() if n != scenario},
    )


def located_findings(
    source: Source, renderings: Sequence[Rendering], releases: ReleaseDiff | None = None
) -> list[list[Finding]]:
    """Every rule over each scenario, each finding pointing where the source writes the
    field it is about (`Source.locate`), in the file that exists."""
    out = []
    each = analyze_each(source, renderings, releases)
    for found, rendering in zip(each, renderings, strict=True):
        out.append([_located(source, finding, rendering) for finding in found])
    return out


def _located(source: Source, finding: Finding, rendering: Rendering) -> Finding:
    """`finding` pointing at the line its source writes its field on (the field a rule named,
    else the object's pod labels); its object's rendered file when the source cannot tell."""
    obj = rendering.find(finding.obj)
    path = finding.at or (obj.pod_labels_path() if obj else None)
    where = source.locate(obj, path, rendering) if obj and path else None
    identities = {
        ref: _identity(source, found, rendering)
        for ref in (finding.obj, *finding.related)
        if (found := rendering.find(ref)) is not None
    }
    return replace(
        finding, location=_real_file(where or finding.location, rendering),
        identities=identities,
    )


def _identity(source: Source, obj: K8sObject, rendering: Rendering) -> str:
    """`obj` known by what writes it (`Source.origin`), not by a name a release makes: its
    kind and origin, and its name with the release masked only where one origin writes
    several objects of its kind (a `range`)."""
    origin = source.origin(obj, rendering)
    text = f"{obj.kind}@{origin}"
    siblings = [
        o for o in rendering.in_file(obj.document.path)
        if o is not obj and o.kind == obj.kind and source.origin(o, rendering) == origin
    ]
    if siblings:
        name, release = obj.ref.name, rendering.release
        text += "/" + (
            "{release}" + name[len(release):] if release and name.startswith(release) else name
        )
    return text


def _real_file(location: Location, rendering: Rendering) -> Location:
    """A location in a dependency rendered from elsewhere, pointing at the file that exists:
    the sibling chart's own (borrowed, a monorepo sibling or `file://` path), or the archive
    of a packaged one."""
    path = location.path
    borrowed = _folder(path, rendering.borrowed)
    if borrowed is not None:
        real = posixpath.normpath(rendering.borrowed[borrowed] + path[len(borrowed):])
        return Location(real, location.line)
    packed = _folder(path, rendering.packed)
    if packed is not None:
        return Location(rendering.packed[packed])
    return location


def _folder(path: str, folders: Mapping[str, str]) -> str | None:
    return next((f for f in folders if path.startswith(f + "/")), None)


def fix_target(root: Path, request: FixRequest) -> TargetChange:
    """Plan and verify every selected recipe's fixes for the target at `root` (a Helm chart,
    a cdk8s app: any source kind of chartfix.sources.targets).

    The findings are `check`'s: the same rules, severities and suppressions. A default run
    fixes the errors and counts every error left, whichever rule it is; recipes asked for by
    name fix the warnings of their rules too, and count what is left of their rules, but
    for latent matches (warnings nothing acts on yet): those only with `fix_latent`.
    Raises TargetError when the target cannot be read or rendered as it is, Skipped when it
    must not be (a cdk8s app not allowed to run, with no committed output to read instead).
    """
    run = _fix_run(root, request)
    source, recipe_file, recipes = run.source, run.recipe_file, run.recipes
    analysis = analyze(source, run.settings, run.policy)
    rendered, before = analysis.rendered, analysis.renderings
    counted = analysis.judged.findings
    findings, made_up = _to_fix(
        [f for f in counted if run.takes_on(f)], rendered.synthesized
    )
    planned = plan_fixes(
        source, before, findings, recipes,
        lambda recipe: recipe_options(recipe, recipe_file, run.config, request, source.root),
        request.release, request.namespace, run.safe_only,
    )
    refused, made_by = planned.refused, planned.made_by
    verifier, verified = _verified(analysis, run.settings, planned.units)
    after = verified.after[: len(before)]

    in_scope = set().union(*(r.rules for r in recipes)) if run.explicit else set(RULES)
    fixed, unfixed = _outcome(findings, in_scope, verified, refused, made_up, run.ran)
    files = [
        FileChange(path, source.read(path), data) for path, data in verified.files.items()
    ]
    named = workloads(source, before, request.release)
    return TargetChange(
        target_root=source.root,
        target_name=source.name,
        target_version=source.version or "",
        files=[f for f in files if f.before != f.after],
        fixed=fixed,
        unfixed=unfixed,
        before=before,
        after=after,
        noise=_noise(verifier, before, after) if verified.kept else {},
        recipes=[r.name for r in recipes if r.name in {made_by[u] for u in verified.kept}],
        unsafe=any(u.applicability == "unsafe" for u in verified.kept),
        notes=_fix_notes(run, request, verified, rendered, after, named),
        recipe_file=recipe_file,
        read=rendered.read,
        synthesized=rendered.synthesized,
        unrendered={name: err.reason for name, err in rendered.unrendered},
        workloads=named,
        kind=source.facts,
        features=features_added({r.scenario: object_ids(r) for r in before}),
        warnings=_warnings_left(counted, run, verified),
        suppressed=list(analysis.judged.suppressed),
        edits=[edit_record(source, unit, made_by[unit]) for unit in verified.kept],
    )


@dataclass(frozen=True)
class _FixRun:
    """One target's fix as its request and its own `.chartfix.yaml` decide it: the loaded
    source, the recipes (asked for by name, or a recipe file's), what is rendered and how
    findings are judged."""

    source: Source
    config: Config
    recipe_file: RecipeFile | None
    names: tuple[str, ...]
    """The recipes asked for by name (or the recipe file's); none: every built-in one."""
    recipes: list[Recipe]
    settings: RenderSettings
    policy: Policy
    latent: bool
    safe_only: bool

    @property
    def explicit(self) -> bool:
        return bool(self.names)

    @property
    def ran(self) -> str:
        """How the run named its recipes, for the findings it leaves (`--recipe NAME`)."""
        if self.recipe_file:
            return f"--recipe {self.recipe_file.name}"
        return f"--recipe {' --recipe '.join(self.names)}"

    def takes_on(self, finding: Finding) -> bool:
        return takes_on(finding, self.explicit, self.latent)


def _fix_run(root: Path, request: FixRequest) -> _FixRun:
    """The target at `root` loaded, and its fix decided by the request over its own
    `.chartfix.yaml` (and the recipe file either names)."""
    untrusted = request.untrusted if request.trusted else (root,)
    source = load_target(root, request.run_apps, untrusted)
    config = load_config(source.root)
    recipe_file = request.recipe_file or _configured_recipe(config, source.root)
    names = tuple(recipe_file.recipe_names if recipe_file else request.recipes)
    recipes = select_recipes(names)
    requested = RenderSettings(
        request.values_files, request.set_values, request.base_values,
        request.release, request.namespace, request.features, request.source_builds,
        allow_remote=request.allow_remote,
    )
    settings, policy = configured(config, requested, request.policy)
    if recipe_file is not None and recipe_file.rules is not None:
        policy = Policy(include=frozenset(recipe_file.rules)).overridden_by(policy)
    return _FixRun(
        source, config, recipe_file, names, recipes, settings, policy,
        latent=request.fix_latent or bool(recipe_file and recipe_file.latent),
        safe_only=request.safe_only or bool(recipe_file and recipe_file.safe_only),
    )


def _verified(
    analysis: Analysis, settings: RenderSettings, units: Sequence[FixUnit]
) -> tuple[Verifier, Verified]:
    """The planned units rendered again, over the analysed scenarios and the source's
    verification renders (nothing new may appear there either): what is kept."""
    from chartfix.verify import Verifier  # here: a check never verifies

    source, before = analysis.source, analysis.renderings
    also = source.verification(settings) if units else []
    known = merge_findings([*analysis.per_scenario, *analyze_each(source, also)])
    verifier = Verifier(source, [*before, *also], known, analysis.releases)
    return verifier, verifier.run(units)


def _to_fix(
    findings: Sequence[Finding], synthesized: Mapping[str, Sequence[str]]
) -> tuple[list[Finding], list[Unfixed]]:
    """The findings a fix plans for, and those it leaves because values chartfix made up
    decide them (`_not_made_up`; a finding on a synthesized value)."""
    findings, made_up = _not_made_up(findings, synthesized)
    made_up += [Unfixed(f, _MADE_UP) for f in findings if f.synthesized]
    return [f for f in findings if not f.synthesized], made_up


def _fix_notes(
    run: _FixRun, request: FixRequest, verified: Verified, rendered: Renderings,
    after: Sequence[Rendering], named: Mapping[str, str],
) -> list[str]:
    """What the fix says besides its findings, each once: the units' notes, restarts
    needed, the renders' warnings and engine log, component names that matched nothing,
    a version that cannot be bumped."""
    before = rendered.renderings
    notes = _unit_notes(verified)
    notes += restarts_needed(before, after)
    notes += [w for r in before for w in r.warnings]
    notes += [line for r in before for line in r.engine_log]
    notes += rendered.notes + rendered.warnings
    from_config = run.recipe_file if request.recipe_file is None else None
    notes += _unmatched_notes(run.config, from_config, named)
    if run.source.version is None and request.mode == "--branch":
        notes.append(f"no version bump: a {run.source.kind} target has no version to raise")
    return list(dict.fromkeys(notes))


def _configured_recipe(config: Config, root: Path) -> RecipeFile | None:
    """The recipe file the target's `.chartfix.yaml` names (`recipe:`), if any; a name that
    resolves to none is this target's error (other targets go on)."""
    if config.recipe is None:
        return None
    directory, ref = config.recipe
    try:
        return resolve(ref, [root], base=directory, bound=git_repository(directory) or directory)
    except UsageError as err:
        raise TargetError(directory / CONFIG_NAME, f"`recipe`: {err}") from err


def _outcome(
    findings: Sequence[Finding],
    in_scope: set[str],
    verified: Verified,
    refused: Sequence[Unfixed],
    made_up: Sequence[Unfixed],
    ran: str,
) -> tuple[list[Finding], list[Unfixed]]:
    """The findings the verified change fixes, and those it leaves with why: a recipe's
    refusal, a failed verification, values chartfix made up (`made_up`), or (an error, or
    a latent match asked for, of a rule the recipes run do not fix) what `check` says it
    is, left by this run: fix exits 1 where check does."""
    remaining = _remaining(verified)
    fixed = [f for f in findings if f.rule in in_scope and (f.rule, f.obj) not in remaining]
    reasons = _reasons(refused, verified.failed)
    unfixed = [
        Unfixed(f, reasons.get((f.rule, f.obj), f"no recipe fixes this {f.rule} finding"))
        for f in findings
        if f.rule in in_scope and (f.rule, f.obj) in remaining
    ]
    unfixed += made_up
    unfixed += [
        Unfixed(f, _out_of_scope(f.rule, ran))
        for f in findings
        if f.rule not in in_scope and (f.severity == "error" or is_latent(f))
    ]
    return fixed, unfixed


def _remaining(verified: Verified) -> set[tuple[str, ObjectRef]]:
    """(rule, object) of each finding the verified change still has, in a scenario other
    than every feature switch at once."""
    return {
        (f.rule, f.obj) for f in verified.after_findings
        if any(s != ALL_FEATURES for s in f.scenarios)
    }


def _warnings_left(counted: Sequence[Finding], run: _FixRun, verified: Verified) -> list[Unfixed]:
    """The warnings this run did not take on that its change leaves: one the edit made
    go away (a test Pod relabelled no longer matches a Service that routes it nothing) is
    not left."""
    remaining = _remaining(verified)
    return [
        Unfixed(f, warning_reason(f))
        for f in counted
        if not run.takes_on(f) and (f.rule, f.obj) in remaining
    ]


def _unit_notes(verified: Verified) -> list[str]:
    """The kept units' notes, and each unit that failed verification (neither it nor its
    fallback kept), with why."""
    kept = set(verified.kept)
    return [note for unit in verified.kept for note in unit.notes] + [
        f"not applied: {unit.title}: {why}"
        for unit, why in verified.failed
        if unit not in kept and unit.fallback not in kept
    ]


def edit_record(source: Source, unit: FixUnit, recipe: str) -> EditRecord:
    """Where `unit` (planned by `recipe`) edits the source (file, line before the fix), what
    it was planned for and what it changes."""
    texts = {path: decode(source.read(path)) for path in {e.path for e in unit.edits}}
    sites = tuple(
        (e.path, texts[e.path].count("\n", 0, e.edit.start) + 1) for e in unit.edits
    )
    changes = tuple(
        (path, kind, change) for (path, kind), made in unit.changes.items() for change in made
    )
    return EditRecord(tuple(unit.targets), sites, unit.title, recipe, unit.applicability,
                      changes)


def takes_on(finding: Finding, named: bool, latent: bool) -> bool:
    """Whether a fix run takes `finding` on: every error; a latent match only when asked
    (`--fix-latent`); another warning when its recipe was named."""
    if finding.severity == "error":
        return True
    return latent if is_latent(finding) else named


def warning_reason(finding: Finding) -> str:
    """Why a fix run leaves a warning it did not take on, and what would take it on."""
    if is_latent(finding):
        return "latent, nothing acts on it yet: --fix-latent fixes it"
    fixing = [name for name, recipe in registry().items() if finding.rule in recipe.rules]
    if fixing:
        return f"a warning: fixed only when asked, with --recipe {fixing[0]}"
    return (
        f"no recipe changes a {finding.rule} finding, often deliberate: accept it in "
        ".chartfix.yaml `suppress` or with an ignore-check annotation, or edit by hand"
    )


def advised(source: Source, analysis: Analysis, config: Config) -> Judged:
    """`analysis`'s judged findings with advice that is what `fix` does: a finding whose
    advice names `chartfix fix` keeps it only where fix's planner (every built-in recipe,
    the target's own options) plans an edit for it; else the advice says it is a hand
    edit, with the planner's reason. A target whose options are wrong keeps the advice
    (its `fix` run says what is wrong)."""
    judged = analysis.judged
    promising = [f for f in judged.findings if FIX_PROMISE in f.remediation]
    if not promising:
        return judged

    def plan(recipes: Sequence[Recipe]) -> Planned:
        return plan_fixes(
            source, analysis.renderings, promising, recipes,
            lambda recipe: recipe_options(recipe, None, config, FixRequest(), source.root),
            analysis.renderings[0].release, analysis.renderings[0].namespace,
        )

    try:
        # the built-in recipes first: installed packages' recipes (a scan of every installed
        # distribution) can only change the advice of a finding these plan nothing for
        planned = plan(BUILT_IN)
        if not {f.key for f in promising} <= planned.targeted():
            everything = select_recipes(())
            if len(everything) > len(BUILT_IN):
                planned = plan(everything)
    except TargetError:
        return judged
    targeted = planned.targeted()
    reasons = _reasons(planned.refused, [])
    safe = planned.safe_units()
    findings = [
        _safe_advice(f, safe[f.key]) if f.key in safe and _generic(f.remediation)
        else f if f.key in targeted or FIX_PROMISE not in f.remediation
        else replace(f, remediation=by_hand(f.remediation, _hand_reason(reasons.get(f.key))))
        for f in judged.findings
    ]
    return replace(judged, findings=findings)


GENERIC_ADVICE = (SELECTOR_CHANGE, NARROWED)
"""The rules' advice that names the component route's edit, whatever fix's planner does."""


def _generic(remediation: str) -> bool:
    """Whether a finding's advice is a rule's generic one, as written for an effect or for
    a latent match (`advice`: `chartfix fix --fix-latent`)."""
    return FIX_PROMISE in remediation and any(
        text in remediation or advice(text, "latent") in remediation for text in GENERIC_ADVICE
    )


def _safe_advice(finding: Finding, unit: FixUnit) -> Finding:
    """The advice of a finding fix's planner answers with a safe unit: what that unit does
    (the other pods get values of their own, a consumer narrowed), not the rule's generic
    edit (a selector change that would need a migration step)."""
    said = (f"{unit.title}; `chartfix fix` does it (safe: no immutable field changes, no "
            "migration step).")
    return replace(finding, remediation=advice(said, finding.impact or "effect"))


def _noise(
    verifier: Verifier, before: Sequence[Rendering], after: Sequence[Rendering]
) -> dict[str, list[tuple[str, str]]]:
    """Per scenario the change touches, what a control render of the unchanged chart
    differs by (TargetChange.noise): the migration note does not blame the fix for it."""
    return {
        old.scenario: sorted(verifier.noise(index))
        for index, (old, new) in enumerate(zip(before, after, strict=True))
        if old is not new
    }


def _hand_reason(reason: str | None) -> str:
    return reason or "no recipe plans an edit for it"


@dataclass
class Planned:
    """What the recipes plan for some findings: the units to verify (each by the recipe
    that made it, fallbacks too), and the findings they refused, each with the reason."""

    units: list[FixUnit] = field(default_factory=list)
    refused: list[Unfixed] = field(default_factory=list)
    made_by: dict[FixUnit, str] = field(default_factory=dict)

    def safe_units(self) -> dict[tuple[str, ObjectRef], FixUnit]:
        """(rule, object) of each finding a built-in recipe's safe unit means to fix first,
        with that unit (an installed recipe's unit title is its own, not advice)."""
        built_in = {recipe.name for recipe in BUILT_IN}
        return {
            (f.rule, f.obj): unit
            for unit in self.units
            if unit.applicability == "safe" and self.made_by.get(unit) in built_in
            for f in unit.targets
        }

    def targeted(self) -> set[tuple[str, ObjectRef]]:
        """(rule, object) of every finding some unit (or its fallback) means to fix."""
        out: set[tuple[str, ObjectRef]] = set()
        for unit in self.units:
            step: FixUnit | None = unit
            while step is not None:
                out |= {(f.rule, f.obj) for f in step.targets}
                step = step.fallback
        return out


def plan_fixes(
    source: Source,
    renderings: Sequence[Rendering],
    findings: Sequence[Finding],
    recipes: Sequence[Recipe],
    options: Callable[[Recipe], RecipeOptions],
    release: str = "release-name",
    namespace: str = "default",
    safe_only: bool = False,
) -> Planned:
    """Every recipe's plan for `findings` (fix's planner, and check's, for its advice),
    without the units that would write through a symlink, write a value chartfix made up
    or (`safe_only`) break a release: those are refused with the reason."""
    context = RecipeContext(
        source, renderings, findings, release=release, namespace=namespace,
        safe_only=safe_only,
    )
    out = Planned()
    for recipe in recipes:
        plan = recipe.plan(replace(context, options=options(recipe)))
        out.units.extend(plan.units)
        out.refused.extend(plan.refused)
        for unit in plan.units:  # and the smaller fallbacks verification may keep instead
            step: FixUnit | None = unit
            while step is not None:
                out.made_by[step] = recipe.name
                step = step.fallback
    out.units, through_links = _writable(source, out.units)
    out.units, made_up = _without_placeholders(out.units, renderings)
    out.refused += through_links + made_up
    if safe_only:
        out.units, breaking = _safe_only(out.units, source.root)
        out.refused += breaking
    return out


def workloads(source: Source, renderings: Sequence[Rendering], release: str) -> dict[str, str]:
    """Every name a `--component NAME=VALUE` may give a workload -> the name shown for it."""
    known: dict[str, str] = {}
    for rendering in renderings:
        for obj in rendering.objects:
            if obj.makes_pods:
                names = workload_names(
                    obj, source.name, release, source.role_names(obj, rendering)
                )
                shown = name_suffix(obj.ref.name, release, source.name) or obj.name
                known.update({n: shown for n in names})
    return known


def recipe_components(recipe_file: RecipeFile) -> list[str]:
    """The workload names and patterns the steps of `recipe_file` give `components` for."""
    return list(dict.fromkeys(
        name for step in recipe_file.steps for key, value in step.options
        if key == "components" and isinstance(value, Mapping) for name in value
    ))


def _unmatched_notes(
    config: Config, config_recipe: RecipeFile | None, known: Mapping[str, str]
) -> list[str]:
    """The target's own component names and patterns (its `.chartfix.yaml`, the recipe file
    it names) that match none of its workloads, each with those it could have meant."""
    asked = [(f"{CONFIG_NAME} components:", name) for name in config.components]
    if config_recipe is not None:
        origin = f"recipe file {config_recipe.name} ({CONFIG_NAME}): components"
        asked += [(origin, name) for name in recipe_components(config_recipe)]
    return [
        unmatched_line(origin, pattern, meant)
        for origin, name in asked
        for pattern, meant in unmatched([name], known).items()
    ]


def recipe_options(
    recipe: Recipe,
    recipe_file: RecipeFile | None,
    config: Config,
    request: FixRequest,
    root: Path,
) -> RecipeOptions:
    """`recipe`'s own options: the recipe file's steps, then the chart's `.chartfix.yaml`,
    then the command line (components merge name by name; Jobs are labelled when any asks).
    A chart whose `.chartfix.yaml` gives an option a bad value is that chart's error."""
    user: list[dict[str, Any]] = [
        {"components": dict(config.components)} if config.components else {},
        {"components": dict(request.components)} if request.components else {},
        {"label-jobs": True} if request.label_jobs or config.label_jobs else {},
    ]
    steps = recipe_file.options_for(recipe.name) if recipe_file is not None else []
    try:
        return options_class(recipe).of(*steps, *user)
    except ValueError as err:
        raise TargetError(root, f"{CONFIG_NAME}: {err}") from err


def _safe_only(units: Sequence[FixUnit], root: Path) -> tuple[list[FixUnit], list[Unfixed]]:
    """`--safe-only`: the units (or their fallbacks) that change no immutable field; the
    targets of the others are left, with the command that fixes them."""
    kept: list[FixUnit] = []
    left: list[Unfixed] = []
    for unit in units:
        step = _safe_steps(unit)
        if step is not None:
            kept.append(step)
            continue
        left += [
            Unfixed(target, (
                f"its fix changes an immutable field ({unit.title}), left by --safe-only: "
                f"`chartfix fix {display_path(root)}` makes it, and the upgrade then needs "
                "the migration note"
            ))
            for target in unit.targets
        ]
    return kept, left


def _safe_steps(unit: FixUnit | None) -> FixUnit | None:
    """`unit` with its fallbacks, keeping only the steps that change no immutable field."""
    while unit is not None and unit.applicability != "safe":
        unit = unit.fallback
    if unit is not None:
        unit.fallback = _safe_steps(unit.fallback)
    return unit


def _not_made_up(
    findings: Sequence[Finding], synthesized: Mapping[str, Sequence[str]]
) -> tuple[list[Finding], list[Unfixed]]:
    """The findings to fix, and those left because only feature scenarios that rendered
    with values chartfix made up show them (what the made-up values decide is not the
    chart's: a fix planned from it could be wrong)."""
    kept: list[Finding] = []
    left: list[Unfixed] = []
    for finding in findings:
        features = [s for s in finding.scenarios if is_feature(s)]
        if features and len(features) == len(finding.scenarios) and all(
            synthesized.get(s) for s in features
        ):
            values = ", ".join(dict.fromkeys(v for s in features for v in synthesized[s]))
            left.append(Unfixed(finding, (
                f"found only with {features[0]}, which renders only with values chartfix "
                f"made up ({values}): not fixed"
            )))
            continue
        kept.append(finding)
    return kept, left


def _writable(source: Source, units: Sequence[FixUnit]) -> tuple[list[FixUnit], list[Unfixed]]:
    """Units whose every edit lands in a file chartfix may write; the others are refused
    (a file reached through a symlink is shared with whatever else links to it)."""
    kept: list[FixUnit] = []
    refused: list[Unfixed] = []
    for unit in units:
        why = next((w for e in unit.edits if (w := source.unwritable(e.path))), None)
        if why is None:
            kept.append(unit)
            continue
        refused += [Unfixed(target, why) for target in unit.targets]
    return kept, refused


_MADE_UP = (
    "only values chartfix synthesized make this finding: not fixed (check it with the "
    "chart's real values, -f VALUES)"
)


def _without_placeholders(
    units: Sequence[FixUnit], renderings: Sequence[Rendering]
) -> tuple[list[FixUnit], list[Unfixed]]:
    """Units that write no value chartfix made up (a placeholder, or a name made of one);
    the others are refused: what a maintainer merges holds the chart's own values only."""
    made_up = {p for r in renderings for p in placeholders(r)}
    kept: list[FixUnit] = []
    refused: list[Unfixed] = []
    for unit in units:
        found = sorted({p for e in unit.edits for p in made_up if p in e.edit.text})
        if not found:
            kept.append(unit)
            continue
        why = f"the fix would write {found[0]}, a value chartfix synthesized: not written"
        refused += [Unfixed(target, why) for target in unit.targets]
    return kept, refused


def _out_of_scope(rule: str, ran: str) -> str:
    """Why an error of a rule outside the recipes run stays, and what would fix it."""
    fixers = [name for name, recipe in registry().items() if rule in recipe.rules]
    hint = (
        f"`chartfix fix --recipe {fixers[0]}` fixes it" if fixers
        else f"no recipe fixes {rule} findings"
    )
    return f"not fixed by the recipes run ({ran}); {hint}"


def _reasons(
    refused: Sequence[Unfixed], failed: Sequence[tuple[FixUnit, str]]
) -> dict[tuple[str, ObjectRef], str]:
    """Why each unfixed finding stayed: a recipe refused it, or its edit failed verification."""
    reasons: dict[tuple[str, ObjectRef], str] = {}
    for item in refused:
        reasons.setdefault((item.finding.rule, item.finding.obj), item.reason)
    for unit, why in failed:
        instead = next((e.instead for e in unit.edits if e.instead), "")
        reason = (
            f"{instead} (the edit tried instead failed verification: {why})" if instead
            else f"the fix failed verification: {why}"
        )
        for target in unit.targets:
            reasons.setdefault((target.rule, target.obj), reason)
    return reasons
