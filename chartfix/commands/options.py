"""The argument groups several commands share (the render options of check, fix and bulk,
fix's options, -j, -q and --color), and what they set in the environment of the run.

Light on purpose: `chartfix --help` and every command's parser are built from this module
and the command modules, which import nothing heavy at their top (their `run` does).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chartfix.rules.policy import Policy

CHECK_FORMATS = ("text", "json", "sarif", "github")
"""`check --format`'s choices."""

PATHS_HELP = (
    "chart directory, a directory searched for charts, or a file in a chart (that chart: what "
    "a pre-commit hook passes)"
)


def add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help=PATHS_HELP)


def add_render_args(parser: argparse.ArgumentParser) -> None:
    """How targets are rendered and judged: check's, fix's and bulk's flags."""
    _add_values_args(parser)
    _add_rule_args(parser)
    _add_scenario_args(parser)
    _add_app_args(parser)
    _add_cache_args(parser)
    _add_trust_args(parser)


def _add_values_args(parser: argparse.ArgumentParser) -> None:
    """Values, release and namespace, as for helm."""
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


def _add_rule_args(parser: argparse.ArgumentParser) -> None:
    """Which rules run, and how severe their findings are."""
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


def _add_scenario_args(parser: argparse.ArgumentParser) -> None:
    """The feature-switch scenarios rendered besides the user's."""
    parser.add_argument(
        "--no-features", action="store_true",
        help="render only the defaults (or your values) and ci/ files, not the objects "
        "behind off-by-default feature switches (podDisruptionBudget.enabled...)",
    )
    parser.add_argument(
        "--feature-renders", type=positive(int, MAX_FEATURE_RENDERS), default=None,
        metavar="N", help="render at most N feature scenarios per chart (default: 8)",
    )


def _add_app_args(parser: argparse.ArgumentParser) -> None:
    """Whether cdk8s apps run, and what pip may build for them."""
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


def _add_cache_args(parser: argparse.ArgumentParser) -> None:
    """Where results are cached, or no cache."""
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


def _add_trust_args(parser: argparse.ArgumentParser) -> None:
    """What a repository's own files may make chartfix do."""
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


def add_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j", "--jobs", type=positive(int, MAX_JOBS), default=None, metavar="N",
        help="charts processed in parallel (default: all cores)",
    )


def add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="print only findings and errors (fix: the patch, errors and findings left): no "
        "notes, progress or summary",
    )
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the output: auto (default) on a terminal unless NO_COLOR is set",
    )


def positive(kind: type[int] | type[float], most: float) -> Callable[[str], float]:
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


def add_fix_args(parser: argparse.ArgumentParser) -> None:
    """fix's flags (bulk's too): what is rendered, which recipes run, how the fix lands."""
    add_render_args(parser)
    _add_recipe_args(parser)
    _add_landing_args(parser)
    _add_choice_args(parser)
    _add_branch_args(parser)
    _add_pull_request_args(parser)
    parser.add_argument(
        "--timeout", type=positive(float, MAX_TIMEOUT), metavar="SECONDS",
        help="give up on a chart after this long (it gets an error line; the others go on)",
    )


def _add_recipe_args(parser: argparse.ArgumentParser) -> None:
    """The releases the target runs as, and the recipes that run."""
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


def _add_landing_args(parser: argparse.ArgumentParser) -> None:
    """How a fix lands: a dry run, --write, or a --branch (pushed)."""
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


def _add_choice_args(parser: argparse.ArgumentParser) -> None:
    """What the fix does: component values, Jobs too, safe fixes only, latent matches."""
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


def _add_branch_args(parser: argparse.ArgumentParser) -> None:
    """What a --branch commit holds besides the fix: the bump, the migration note; a PR
    description."""
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


def _add_pull_request_args(parser: argparse.ArgumentParser) -> None:
    """--open-pr and the pull requests it opens."""
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
        "--charts-per-pr", type=positive(int, 100000), metavar="N",
        help="at most N charts per branch and pull request (more branches, NAME-1, NAME-2...)",
    )


def set_environment(args: argparse.Namespace) -> None:
    """--color, --cache-dir and --no-cache as the environment every writer (and rich), the
    cache and the workers read: NO_COLOR or FORCE_COLOR, CHARTFIX_CACHE_DIR,
    CHARTFIX_NO_CACHE. A command without these flags leaves the environment as it is."""
    choice = getattr(args, "color", "auto")
    if choice == "never":
        os.environ["NO_COLOR"] = "1"
        os.environ.pop("FORCE_COLOR", None)
    elif choice == "always":
        os.environ.pop("NO_COLOR", None)
        os.environ["FORCE_COLOR"] = "1"
    if getattr(args, "cache_dir", None) is not None:
        os.environ["CHARTFIX_CACHE_DIR"] = str(args.cache_dir.resolve())
    if getattr(args, "no_cache", False):
        os.environ["CHARTFIX_NO_CACHE"] = "1"


def policy_from(args: argparse.Namespace) -> Policy:
    """The command line's rule control (it wins over `.chartfix.yaml`)."""
    from chartfix.rules import RULES
    from chartfix.rules.policy import command_line_policy

    return command_line_policy(args.include, args.exclude, args.severity, list(RULES))


def features_from(args: argparse.Namespace) -> int:
    """Feature scenarios per chart the command line asks for (0: none)."""
    from chartfix.sources.base import DEFAULT_FEATURE_RENDERS

    if args.no_features:
        return 0
    return int(args.feature_renders or DEFAULT_FEATURE_RENDERS)
