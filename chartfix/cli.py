"""The command line: check, fix, bulk, recipes, rule, report (merge and html, for bulk
reports).

Exit status: `check` 0 when no finding is an error (with --strict: no finding at all, and no
unused suppression), 1 otherwise; `fix`/`bulk` 0 every finding fixed (dry run: fixable), 1
some finding left; all commands 2 when a chart could not be processed or the command was
misused.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chartfix import __version__
from chartfix.errors import ChartError, UsageError

if TYPE_CHECKING:
    pass


PATHS_HELP = (
    "chart directory, a directory searched for charts, or a file in a chart (that chart: what "
    "a pre-commit hook passes)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chartfix",
        description="Find label-selector bugs in Helm charts, cdk8s apps, kustomizations "
        "and plain manifests by rendering them; fix them with minimal, verified source edits.",
    )
    parser.add_argument("--version", action="version", version=f"chartfix {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report selector bugs (no changes)")
    _paths(check, "PATH", PATHS_HELP)
    _render_options(check)
    check.add_argument(
        "--format", choices=("text", "json", "sarif", "github"), default="text",
        help="text for people (default); json for scripts; sarif for code scanning (paths "
        "relative to the repository's top); github: workflow annotations on each finding's "
        "line (::error file=...,line=...::)",
    )
    check.add_argument(
        "--strict", action="store_true",
        help="fail on warnings too (warning findings, suppressions that match nothing)",
    )
    check.add_argument(
        "--user-scenarios", action="store_true",
        help="render only the scenarios you wrote (the defaults or your values, ci/ files): "
        "no feature switches and no next-release render (volatile selector labels are then "
        "found by their keys); the fastest check",
    )
    _jobs(check)
    _output_options(check)

    fix = commands.add_parser("fix", help="fix selector bugs (dry run by default)")
    _paths(fix, "PATH", PATHS_HELP)
    _fix_options(fix)
    _jobs(fix)
    _output_options(fix)

    bulk = commands.add_parser("bulk", help="fix every chart under roots or in many repos")
    bulk.add_argument(
        "roots", nargs="*", type=Path, metavar="ROOT",
        help="a folder searched for targets (a monorepo, a folder of checkouts); or --repos",
    )
    bulk.add_argument("--repos", type=Path, help="file listing git repositories (paths or URLs)")
    bulk.add_argument("--workdir", type=Path, help="where --repos clones go (reused on re-runs)")
    _fix_options(bulk)
    _jobs(bulk)
    _output_options(bulk)
    bulk.add_argument(
        "--shard", metavar="I/N|auto",
        help="process only the I-th (0-based) of N deterministic shares; auto: I from "
        "JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), N from CHARTFIX_SHARDS",
    )
    bulk.add_argument("--report", type=Path, help="write a JSON report to FILE")
    bulk.add_argument(
        "--html", type=Path, metavar="FILE", help="write the report as one HTML page to FILE"
    )
    bulk.add_argument(
        "--branch-per-chart", action="store_true", help="one branch per chart, not per repo"
    )
    bulk.add_argument("--pr-body-dir", type=Path, help="write one PR description per branch")

    recipes = commands.add_parser(
        "recipes", help="list the recipes, or show one recipe's doc and options"
    )
    recipes.add_argument("name", nargs="?", metavar="NAME", help="the recipe to explain")
    rule = commands.add_parser("rule", help="show a rule's doc and the recipes that fix it")
    rule.add_argument("code", metavar="CODE", help="the rule (overlap, stray, ...)")

    report = commands.add_parser("report", help="work with bulk reports")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    merge = report_commands.add_parser("merge", help="merge the reports of sharded runs")
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT")
    merge.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    html = report_commands.add_parser(
        "html", help="one self-contained HTML page from bulk reports (shards merged)"
    )
    html.add_argument("reports", nargs="+", type=Path, metavar="REPORT")
    html.add_argument("-o", "--output", type=Path, required=True, help="the page to write")
    return parser


def _paths(parser: argparse.ArgumentParser, metavar: str, help_text: str) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar=metavar, help=help_text)


def _render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--values", action="append", type=Path, default=[], metavar="VALUES",
        help="values file, as for helm (repeatable)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="K=V", help="value, as for helm"
    )
    parser.add_argument(
        "--release", action="append", dest="releases", metavar="NAME",
        help="release name to render (default: release-name); repeated with fix and bulk, "
        "the migration note has one block of steps per release (rendering uses the first)",
    )
    parser.add_argument("--namespace", default="default", help="namespace to render into")
    parser.add_argument(
        "--include", action="append", default=[], metavar="RULE",
        help="run only these rules (repeatable, or RULE,RULE; default: all)",
    )
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="RULE",
        help="do not run these rules (repeatable, or RULE,RULE)",
    )
    parser.add_argument(
        "--severity", action="append", default=[], metavar="RULE=LEVEL",
        help="report RULE's findings as error or warning (repeatable)",
    )
    parser.add_argument(
        "--no-features", action="store_true",
        help="render only the defaults (or your values) and ci/ files, not the objects "
        "behind off-by-default feature switches (podDisruptionBudget.enabled...)",
    )
    parser.add_argument(
        "--feature-renders", type=_positive(int, MAX_FEATURE_RENDERS), default=None,
        metavar="N", help="render at most N feature scenarios per chart (default: 8)",
    )
    parser.add_argument(
        "--run-apps", action=argparse.BooleanOptionalAction, default=None,
        help="run cdk8s apps (their Python is code; default: only where a .chartfix.yaml "
        "says run-apps: true and --trusted is given; an app not run is checked from its "
        "committed output, dist/)",
    )
    parser.add_argument(
        "--allow-source-builds", action="store_true",
        help="with --run-apps, let pip build an app's declared dependencies from source "
        "distributions (that runs their code; default: wheels only)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, metavar="DIR",
        help="where renders and analyses are cached (default: $CHARTFIX_CACHE_DIR, else "
        "$XDG_CACHE_HOME/chartfix, else ~/.cache/chartfix)",
    )
    parser.add_argument(
        "--no-cache", action="store_true",
        help="render and analyse everything again, reading and writing no cache "
        "(as CHARTFIX_NO_CACHE=1)",
    )
    parser.add_argument(
        "--trusted", action="store_true",
        help="the trees given are your own: a .chartfix.yaml's `run-apps: true` in them "
        "counts (never in bulk --repos clones)",
    )
    parser.add_argument(
        "--allow-remote", action="store_true",
        help="let kustomizations fetch their remote resources and bases (http, git, ssh); "
        "default: refused, a repository's files reach no network",
    )


def _jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j", "--jobs", type=_positive(int, MAX_JOBS), default=None, metavar="N",
        help="charts processed in parallel (default: all cores)",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="print only findings and errors (fix: the patch, errors and findings left): no "
        "notes, progress or summary",
    )
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the output: auto (default) on a terminal unless NO_COLOR is set",
    )


def _color(args: argparse.Namespace) -> None:
    """--color as the environment every writer (and rich) reads: NO_COLOR or FORCE_COLOR."""
    choice = getattr(args, "color", "auto")
    if choice == "never":
        os.environ["NO_COLOR"] = "1"
        os.environ.pop("FORCE_COLOR", None)
    elif choice == "always":
        os.environ.pop("NO_COLOR", None)
        os.environ["FORCE_COLOR"] = "1"


def _positive(kind: type[int] | type[float], most: float) -> Callable[[str], float]:
    """An argparse type: a finite number above 0 and at most `most` (`-j -5`, `--timeout 0`
    or `--timeout nan` is a usage error, not an error on every chart)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        if value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:g}, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


MAX_JOBS = 1024
MAX_FEATURE_RENDERS = 256
MAX_TIMEOUT = 7 * 24 * 3600.0
"""A week: past that a limit means none (and larger numbers overflow the timers)."""


def _fix_options(parser: argparse.ArgumentParser) -> None:
    _render_options(parser)
    parser.add_argument(
        "--releases", type=Path, metavar="FILE", dest="releases_file",
        help="the releases the chart runs as, one a line: RELEASE NAMESPACE [argocd:APP | "
        "flux:HELMRELEASE | helmfile] (rendering uses the first; one block of steps each)",
    )
    parser.add_argument(
        "--recipe", action="append", default=[], metavar="NAME|FILE",
        help="run only this recipe (repeatable; default: all), or a recipe file / a "
        "declarative recipe's name (alone; see `chartfix recipes`)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the fixed files in place")
    mode.add_argument(
        "--branch", metavar="NAME", nargs="?", const="",
        help="commit the fix to a git branch chartfix owns (NAME may hold {recipe} and "
        "{chart}: one branch per chart; NAME may be left out when the recipe file sets "
        "`branch`)",
    )
    parser.add_argument(
        "--push", metavar="REMOTE",
        help="push the branch (forced only over chartfix's own branch, with a lease on the "
        "tip it read)",
    )
    parser.add_argument(
        "--component", action="append", default=[], metavar="WORKLOAD=VALUE",
        help="component value for a workload: a name or shell-style pattern (rendered name, "
        "name without the release, or role)",
    )
    parser.add_argument(
        "--label-jobs", action="store_true",
        help="also label the Jobs, CronJobs and test Pods that overlap",
    )
    parser.add_argument(
        "--safe-only", action="store_true",
        help="apply only fixes that change no immutable field (no selector of a "
        "Deployment/StatefulSet/DaemonSet, no non-hook Job's pods): nothing to migrate; "
        "the rest is left, with the command that fixes it",
    )
    parser.add_argument(
        "--fix-latent", action="store_true",
        help="also fix latent matches: warnings nothing acts on yet (no traffic, no adoption); "
        "default: errors only",
    )
    parser.add_argument(
        "--bump", choices=("auto", "major", "minor", "patch", "none"), default=None,
        help="chart version bump with --branch (default: the recipe file's, else auto: "
        "major when a selector changes)",
    )
    parser.add_argument(
        "--note-target", choices=("auto", "migration", "readme"), default=None,
        help="with --branch, where the migration note goes (auto: README.md when the chart "
        "has one, under its 'Upgrading' heading or a new one at its end; else MIGRATION.md)",
    )
    parser.add_argument("--pr-body", type=Path, metavar="FILE", help="write a PR description")
    parser.add_argument(
        "--open-pr", action="store_true",
        help="open (or update) the pull request of each pushed branch on the forge of the "
        "--push remote (GitHub, GitLab, Gitea/Forgejo, Bitbucket Cloud: token from "
        "GITHUB_TOKEN/GH_TOKEN, GITLAB_TOKEN, GITEA_TOKEN/FORGEJO_TOKEN, BITBUCKET_TOKEN)",
    )
    parser.add_argument(
        "--forge", choices=("github", "gitlab", "gitea", "bitbucket", "gh"),
        help="the forge of the --push remote when its host does not say (self-hosted); gh: "
        "run `gh pr create` with --pr-body FILE",
    )
    parser.add_argument("--forge-api", metavar="URL",
                        help="the forge's API address (default: the remote host's usual one)")
    parser.add_argument("--pr-base", metavar="BRANCH",
                        help="the branch pull requests go to (default: the checked-out one)")
    parser.add_argument("--draft", action="store_true", help="open pull requests as drafts")
    parser.add_argument("--label", action="append", default=[], metavar="LABEL",
                        help="label for new pull requests (repeatable)")
    parser.add_argument("--reviewer", action="append", default=[], metavar="USER",
                        help="reviewer asked on new pull requests (repeatable)")
    parser.add_argument(
        "--charts-per-pr", type=_positive(int, 100000), metavar="N",
        help="at most N charts per branch and pull request (more branches, NAME-1, NAME-2...)",
    )
    parser.add_argument(
        "--timeout", type=_positive(float, MAX_TIMEOUT), metavar="SECONDS",
        help="give up on a chart after this long (it gets an error line; the others go on)",
    )


def _releases(args: argparse.Namespace) -> None:
    """`args.release_list` (every release, first rendered), `args.release` and
    `args.namespace` (the first's) from --release NAME... or --releases FILE."""
    from chartfix.publish.releases import releases_from

    listed = releases_from(args.releases, args.namespace, getattr(args, "releases_file", None))
    args.release_list = listed
    args.release, args.namespace = listed[0].name, listed[0].namespace


def _cache_options(args: argparse.Namespace) -> None:
    """--cache-dir and --no-cache as the environment chartfix.cache and the workers read."""
    if getattr(args, "cache_dir", None) is not None:
        os.environ["CHARTFIX_CACHE_DIR"] = str(args.cache_dir.resolve())
    if getattr(args, "no_cache", False):
        os.environ["CHARTFIX_NO_CACHE"] = "1"


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command with stdout and stderr guarded: a control character from a repository
    (an escape sequence, a carriage return, a bidirectional override) is shown escaped,
    never obeyed by the terminal or CI log (see chartfix.terminal)."""
    from chartfix.terminal import for_terminal

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = for_terminal(out), for_terminal(err)
    try:
        return _command(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _command(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _cache_options(args)
    _color(args)
    try:
        if hasattr(args, "releases"):
            _releases(args)
        if args.command == "check":
            from chartfix.commands import features_from, policy_from
            from chartfix.commands.check import run_check

            return run_check(
                args.paths, args.values, args.set, args.format, args.jobs, sys.stdout,
                release=args.release, namespace=args.namespace, strict=args.strict,
                policy=policy_from(args), run_apps=args.run_apps, features=features_from(args),
                source_builds=args.allow_source_builds, trusted=args.trusted,
                allow_remote=args.allow_remote, quiet=args.quiet,
                user_scenarios=args.user_scenarios,
            )
        if args.command == "fix":
            from chartfix.commands.fix import run_fix

            return run_fix(args)
        if args.command == "bulk":
            from chartfix.commands.bulk import run_bulk

            return run_bulk(args)
        if args.command in ("recipes", "rule"):
            from chartfix.commands.recipes import explain_recipe, explain_rule, list_recipes

            if args.command == "rule":
                return explain_rule(args.code, sys.stdout)
            if args.name is not None:
                return explain_recipe(args.name, sys.stdout)
            return list_recipes(sys.stdout)
        if args.command == "report" and args.report_command == "html":
            from chartfix.publish.report.html import html_command

            return html_command(args.reports, args.output)
        if args.command == "report":
            from chartfix.publish.paths import writable_file
            from chartfix.publish.report.merge import merge_reports

            if args.output is not None:
                writable_file(args.output, "-o")
            return merge_reports(args.reports, args.output)
    except UsageError as err:
        print(f"chartfix: {err}", file=sys.stderr)
        return 2
    except ChartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # quietly: no traceback, no worker left running
        from chartfix.runner import abandon

        abandon()
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
