"""--branch: verified changes become commits on a new branch, then a push and a PR body.

One branch per repository holding one commit per chart (or, for bulk --branch-per-chart, one
branch per chart). A refusal (branch exists, chart has uncommitted changes, not in a git
repository, push rejected) becomes that chart's error line, so a bulk run goes on with the
other repositories.
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import git

from chartfix.errors import ChartError, UsageError
from chartfix.model.changes import ChartChange
from chartfix.publish.apply import Outcome
from chartfix.publish.bump import bump_version
from chartfix.publish.diff import chart_diff, summarize
from chartfix.publish.migration import NoteTarget, default_level, needs_note, note_path
from chartfix.publish.prbody import pr_body, pr_title
from chartfix.publish.repos import redact, unique_names
from chartfix.publish.vcs import (
    CHART_FIELD,
    BranchCommits,
    commit_charts,
    open_pr,
    push,
    repo_for,
)


def publish(outcomes: Sequence[Outcome], args: argparse.Namespace) -> None:
    branches = _branches(outcomes, args)
    names = unique_names(repo_dir for _, repo_dir, _ in branches)
    for branch, repo_dir, group in branches:
        changes = [o.change for o in group if o.change is not None]
        try:
            repo = repo_for(repo_dir)
            made = commit_charts(
                repo, branch, changes, release=args.release, namespace=args.namespace,
                bump=args.bump, note_target=args.note_target, remote=args.push,
            )
            base = repo.head.commit.hexsha  # the branch's start: HEAD never moves
            for outcome, sha in zip(group, made.shas, strict=True):
                outcome.branch_commit = sha
                outcome.branch_state = made.state
                outcome.branch = branch
                outcome.committed_diff = _committed_diff(repo, base, sha, outcome.root)
            body_file = _pr_body_file(args, branch, names[repo_dir.resolve()])
            for outcome in group:
                _say_where_the_note_is(outcome, args.note_target, body_file)
            if args.push and made.published != made.tip:
                _push(repo, made, args.push)
                for outcome in group:
                    outcome.pushed = (branch, redact(args.push), made.tip)
            if body_file is not None:
                _write_body(body_file, changes, args)
            if args.open_pr and body_file is not None:
                print(open_pr(body_file, branch, _title(changes), cwd=repo_dir))
        except (UsageError, ChartError) as err:
            reason = err.reason if isinstance(err, ChartError) else str(err)
            for outcome in group:
                own = outcome.branch_commit  # committed before the push failed: name it
                mine = f"; this chart's commit on it: {own[:12]}" if own else ""
                outcome.error = ChartError(outcome.root, reason + mine)


def _committed_diff(repo: git.Repo, base: str, tip: str, chart: Path) -> str:
    """What the branch changes under `chart`: the fix, the version bump and the note."""
    return str(repo.git.execute(
        ["git", "--literal-pathspecs", "diff", "--no-color", "--no-ext-diff", "--no-textconv",
         base, tip, "--", str(chart.resolve())],
        strip_newline_in_stdout=False,
    ))


def _say_where_the_note_is(outcome: Outcome, target: NoteTarget, body: Path | None) -> None:
    if outcome.change is None or not needs_note(outcome.change):
        return
    where = [f"{note_path(outcome.change.chart_root, target)} in the commit"]
    if body is not None:
        where.append(f"the PR description {body}")
    outcome.note = ", ".join(where)


def _push(repo: git.Repo, made: BranchCommits, remote: str) -> None:
    """Push the branch; when git refuses, say that the branch stays and how to go on."""
    try:
        push(repo, made.branch, remote, lease=made.published)
    except UsageError as err:
        raise UsageError(redact(
            f"{err}; the local branch {made.branch} stays (tip {made.tip[:12]}): once the "
            f"cause is fixed, run `git push {remote} {made.branch}`, or this command again "
            "(it pushes the branch as it is while it holds this fix)"
        )) from err


def _branches(
    outcomes: Sequence[Outcome], args: argparse.Namespace
) -> list[tuple[str, Path, list[Outcome]]]:
    """(branch name, repository directory, charts) for every branch to create."""
    by_repo: dict[Path, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.change is None or not outcome.change.changed:
            continue
        try:
            repo_dir = Path(str(repo_for(outcome.root).working_tree_dir))
        except UsageError as err:
            outcome.error = ChartError(outcome.root, str(err))
            continue
        by_repo[repo_dir].append(outcome)
    branches = []
    for repo_dir, group in sorted(by_repo.items()):
        if per_chart_branches(args):
            names = Counter(o.change.chart_name for o in group if o.change is not None)
            for outcome in group:
                assert outcome.change is not None
                label = outcome.change.chart_name
                if names[label] > 1:  # two charts of one name: tell them apart by path
                    label = os.path.relpath(outcome.root, repo_dir)
                branches.append((_chart_branch(args.branch, _slug(label)), repo_dir, [outcome]))
        else:
            branches.append((args.branch, repo_dir, group))
    return branches


def per_chart_branches(args: argparse.Namespace) -> bool:
    """One branch per chart: --branch NAME holds `{chart}`, or bulk --branch-per-chart."""
    return CHART_FIELD in (args.branch or "") or bool(getattr(args, "branch_per_chart", False))


def _chart_branch(template: str, chart: str) -> str:
    """The branch of one chart: `{chart}` replaced, else `NAME-chart` (--branch-per-chart)."""
    if CHART_FIELD in template:
        return template.replace(CHART_FIELD, chart)
    return f"{template}-{chart}"


def _pr_body_file(args: argparse.Namespace, branch: str, repo_name: str) -> Path | None:
    """--pr-body-dir: one file per repository and branch (two repositories may share a
    branch name, two owners a repository name: `repo_name` is unique in the run);
    --pr-body: the one file given."""
    directory = getattr(args, "pr_body_dir", None)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        return Path(directory) / f"{_slug(repo_name)}-{_slug(branch)}.md"
    return args.pr_body


def write_pr_body(outcomes: Sequence[Outcome], args: argparse.Namespace) -> None:
    """--pr-body in a dry run: the description the branch would get."""
    changes = [o.change for o in outcomes if o.change is not None and o.change.changed]
    if changes and args.pr_body:
        _write_body(args.pr_body, changes, args)
        for outcome in outcomes:
            if outcome.change is not None and needs_note(outcome.change):
                outcome.note = f"the PR description {args.pr_body}"


def _write_body(path: Path, changes: Sequence[ChartChange], args: argparse.Namespace) -> None:
    parts = []
    for change in changes:
        summary = str(summarize([chart_diff(change)]))
        level = default_level(change) if args.bump == "auto" else args.bump
        version = bump_version(change.chart_version, level)
        body = pr_body(change, summary, args.release, args.namespace, version=version)
        parts.append(body if len(changes) == 1 else f"# {change.chart_name}\n\n{body}")
    from chartfix.publish.report.file import replace_text  # a fresh temp file renamed over the path

    replace_text(path, "\n".join(parts))


def _title(changes: Sequence[ChartChange]) -> str:
    if len(changes) == 1:
        return pr_title(changes[0])
    return f"Fix label selectors in {len(changes)} charts"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "chart"
