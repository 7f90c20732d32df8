"""What `fix` and `bulk` share: the run's options, built once from the command line; one
target fixed into an `Outcome` (in a worker); the verified changes written or committed."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from chartfix.commands.options import features_from, policy_from
from chartfix.errors import Skipped, TargetError, UsageError
from chartfix.model.changes import TargetChange
from chartfix.model.selectors import LABEL_VALUE_RULE, valid_label_value
from chartfix.pipeline import FixRequest, fix_target, recipe_components
from chartfix.publish.apply import Outcome, write_outcome
from chartfix.publish.options import PublishOptions
from chartfix.publish.paths import writable_dir, writable_file
from chartfix.publish.releases import releases_from
from chartfix.publish.write import recover, refuse_pending
from chartfix.recipes import registry
from chartfix.recipes.files import RecipeFile, resolve
from chartfix.recipes.naming import unmatched, unmatched_line
from chartfix.runner import crash_reason, run_parallel
from chartfix.values import values_once

if TYPE_CHECKING:
    from chartfix.publish.bump import Level
    from chartfix.publish.migration.placement import NoteTarget


@dataclass(frozen=True)
class FixOptions:
    """A fix or bulk run as its command line asks for it (`fix_options`)."""

    request: FixRequest
    """What each target's fix needs (it travels to the workers)."""
    publish: PublishOptions
    """How the verified changes land."""
    jobs: int | None = None
    timeout: float | None = None
    """--timeout: seconds a target may take."""
    quiet: bool = False


def fix_options(
    args: argparse.Namespace, targets: Sequence[Path], *, pr_body_dir: Path | None = None,
    branch_per_chart: bool = False,
) -> FixOptions:
    """The options of fix's flags (`options.add_fix_args`), built once; `targets`: the paths
    or roots given (a declarative recipe is also looked for in them); `pr_body_dir` and
    `branch_per_chart`: bulk's own flags. A declarative recipe (`--recipe NAME|FILE`) fills
    the settings the user left unset (--bump, --note-target, the branch). Flag combinations
    that make no sense are usage errors (exit 2), before any work."""
    check_mode(args, pr_body_dir)
    recipe_file = declarative_recipe(args.recipe, targets)
    publish = PublishOptions(
        releases=tuple(releases_from(args.releases, args.namespace, args.releases_file)),
        write=args.write,
        branch=branch_name(args.branch, args.recipe, recipe_file),
        bump=cast("Level", args.bump or (recipe_file and recipe_file.bump) or "auto"),
        note_target=cast(
            "NoteTarget", args.note_target or (recipe_file and recipe_file.note_target) or "auto"
        ),
        push=args.push,
        pr_body=args.pr_body,
        pr_body_dir=pr_body_dir,
        branch_per_chart=branch_per_chart,
        charts_per_pr=args.charts_per_pr,
        open_pr=args.open_pr,
        forge=args.forge,
        forge_api=args.forge_api,
        pr_base=args.pr_base,
        draft=args.draft,
        labels=tuple(args.label),
        reviewers=tuple(args.reviewer),
    )
    request = FixRequest(
        recipes=() if recipe_file else tuple(args.recipe),
        recipe_file=recipe_file,
        values_files=values_once(args.values),
        set_values=tuple(args.set),
        components=components_from(args.component),
        label_jobs=args.label_jobs,
        fix_latent=args.fix_latent,
        release=publish.release,
        namespace=publish.namespace,
        more_releases=tuple((r.name, r.namespace) for r in publish.releases[1:]),
        policy=policy_from(args),
        run_apps=args.run_apps,
        features=features_from(args),
        safe_only=args.safe_only,
        source_builds=args.allow_source_builds,
        trusted=args.trusted,
        allow_remote=args.allow_remote,
        mode="--branch" if publish.branch else "--write" if publish.write else "a dry run",
    )
    return FixOptions(request, publish, args.jobs, args.timeout, args.quiet)


def branch_name(
    given: str | None, recipes: Sequence[str], recipe_file: RecipeFile | None
) -> str | None:
    """--branch NAME with `{recipe}` filled in; --branch without NAME: the recipe file's
    branch template, or a usage error."""
    if given == "":
        if recipe_file is None or recipe_file.branch is None:
            raise UsageError("--branch needs a NAME (or a --recipe whose file sets `branch`)")
        given = recipe_file.branch.format(recipe=recipe_file.name)
    if not given:
        return None
    from chartfix.publish.vcs import expand_branch

    topic = recipe_file.name if recipe_file else "+".join(recipes) or "selectors"
    return expand_branch(given, topic)


def components_from(given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """--component WORKLOAD=VALUE..., each value a valid label value."""
    components = []
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"--component takes WORKLOAD=VALUE, not {item!r}")
        if not valid_label_value(value):
            raise UsageError(f"--component {item}: {value!r} is no label value; {LABEL_VALUE_RULE}")
        components.append((name, value))
    return tuple(components)


def declarative_recipe(recipes: Sequence[str], targets: Sequence[Path]) -> RecipeFile | None:
    """The recipe file `--recipe` names, if any (looked for in `targets` and the current
    folder): one per run, not mixed with Python recipes (its recipeList says which run)."""
    python = registry()
    declarative = [ref for ref in recipes if ref not in python]
    if not declarative:
        return None
    if len(recipes) > 1:
        raise UsageError(
            f"--recipe {declarative[0]} is a declarative recipe: give it alone (its "
            "recipeList says which recipes run)"
        )
    return resolve(declarative[0], [*targets, Path.cwd()])


def check_mode(args: argparse.Namespace, pr_body_dir: Path | None = None) -> None:
    """Flag combinations that make no sense, and output paths that cannot be written, are
    usage errors (exit 2), before any work. `--branch` without NAME (or empty) takes the
    recipe file's branch template: `branch_name` resolves it, or refuses."""
    if args.branch and not args.branch.strip():
        raise UsageError("--branch needs a branch name")
    if args.push and args.branch is None:
        raise UsageError("--push needs --branch")
    if args.bump and args.branch is None and not args.pr_body:
        raise UsageError("--bump needs --branch (or --pr-body FILE, whose version it names)")
    if args.note_target and args.branch is None:
        raise UsageError("--note-target needs --branch")
    if args.open_pr and not args.push:
        raise UsageError("--open-pr needs --push")
    if args.forge == "gh" and not (args.pr_body or pr_body_dir):
        raise UsageError("--forge gh needs --pr-body FILE (gh reads the description there)")
    if args.pr_body:
        writable_file(args.pr_body, "--pr-body")
        if args.pr_body.is_symlink():  # replaced, never written through
            raise UsageError(f"--pr-body {args.pr_body}: is a symlink; give the file itself")
    if pr_body_dir:
        writable_dir(pr_body_dir, "--pr-body-dir")


def fix_outcome(root: Path, request: FixRequest) -> Outcome:
    """One chart (or cdk8s app), never raising for a bad one: the error travels in the
    outcome (--timeout is the runner's: `run_parallel(..., timeout=)`)."""
    try:
        readable(root)
        recovered = None
        if request.mode == "--write":  # a --write that a kill interrupted: finish it first
            recovered = recover(root)
        else:
            refuse_pending(root, request.mode)
        change = fix_target(root, request)
        if recovered:
            change.notes.insert(0, recovered)
        return Outcome(root, change=change, release_changes=other_releases(root, request, change))
    except Skipped as skipped:
        return Outcome(root, skipped=skipped.reason)
    except TargetError as err:
        return Outcome(root, error=err)


def other_releases(
    root: Path, request: FixRequest, change: TargetChange
) -> dict[tuple[str, str], TargetChange]:
    """The change rendered for each other release, for its block of the note; a release
    whose patch differs from the first's is said in a note (the first's is the one made)."""
    out = {}
    for name, namespace in request.more_releases:
        other = fix_target(root, replace(request, release=name, namespace=namespace,
                                        more_releases=()))
        if [(f.path, f.after) for f in other.files] != [(f.path, f.after) for f in change.files]:
            change.notes.append(
                f"release {name}: the fix rendered for it differs from the first release's; "
                "the patch is the first release's, its block of steps names its own objects"
            )
        out[(name, namespace)] = other
    return out


def readable(root: Path) -> None:
    """A chart folder chartfix may not list is that chart's error line, not a traceback."""
    try:
        with os.scandir(root):
            pass
    except OSError as err:
        raise TargetError(root, f"cannot read the folder: {err.strerror}") from err


def crashed(root: Path, error: BaseException) -> Outcome:
    """A chart whose worker was stopped or died, or on which chartfix itself failed (a
    bug): its error line."""
    return Outcome(root, error=TargetError(root, crash_reason(error)))


def fix_all(charts: Sequence[Path], options: FixOptions) -> list[Outcome]:
    """Every target fixed in parallel, in their order."""
    work = partial(fix_outcome, request=options.request)
    return list(run_parallel(work, charts, options.jobs, on_crash=crashed,
                             timeout=options.timeout))


def check_components(request: FixRequest, outcomes: Sequence[Outcome]) -> None:
    """A `--component NAME=VALUE` (or a pattern), or a `components` entry of the recipe file
    given, that no workload of any chart matches (by its name, its name without the release,
    or its role) is a warning naming the workloads it could have meant: a typo must not
    pass silently, and a pattern meant for other charts is no error. Not decidable when a
    chart could not be rendered: that chart's error says so."""
    if any(o.error is not None for o in outcomes):
        return
    known: dict[str, str] = {}
    for change in [o.change for o in outcomes if o.change is not None]:
        known.update(change.workloads)
    asked = [("--component", name) for name, _ in request.components]
    if request.recipe_file is not None:
        origin = f"recipe file {request.recipe_file.name}: components"
        asked += [(origin, name) for name in recipe_components(request.recipe_file)]
    for origin, name in asked:
        for pattern, meant in unmatched([name], known).items():
            print(f"warning: {unmatched_line(origin, pattern, meant)}", file=sys.stderr)


def apply_outcomes(outcomes: list[Outcome], options: PublishOptions) -> bool:
    """Write or commit the verified changes as asked; True when something was written."""
    if options.branch:
        from chartfix.publish.branch import publish

        publish(outcomes, options)
        return True
    if options.write:
        for outcome in outcomes:
            write_outcome(outcome)
    if options.pr_body:  # a dry run's or a --write's change, described for a pull request
        from chartfix.publish.branch import write_pr_body

        write_pr_body([o for o in outcomes if o.error is None], options)
    return options.write
