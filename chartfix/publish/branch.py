"""--branch: verified changes become commits on a new branch, then a push and a PR body.

One branch per repository holding one commit per chart (or, for bulk --branch-per-chart, one
branch per chart). A refusal (branch exists, chart has uncommitted changes, not in a git
repository, push rejected) becomes that chart's error line, so a bulk run goes on with the
other repositories.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import git

from chartfix.errors import TargetError, UsageError
from chartfix.model.changes import TargetChange
from chartfix.publish.apply import Outcome
from chartfix.publish.diff import chart_diff, summarize
from chartfix.publish.forge import ForgeError, Proposal, ensure, forge_for
from chartfix.publish.migration.placement import NoteTarget, note_path
from chartfix.publish.migration.steps import needs_note
from chartfix.publish.options import PublishOptions
from chartfix.publish.prbody import ChartEntry, branch_body, branch_title
from chartfix.publish.releases import Release
from chartfix.publish.repos import redact, unique_names
from chartfix.publish.vcs import (
    CHART_FIELD,
    BranchCommits,
    commit_charts,
    current_branch,
    describe_head,
    next_version,
    note_file_in_repo,
    open_pr,
    push,
    remote_url,
    repo_for,
)


def publish(outcomes: Sequence[Outcome], options: PublishOptions) -> None:
    branches = _branches(outcomes, options)
    names = unique_names(repo_dir for _, repo_dir, _ in branches)
    for branch, repo_dir, group in branches:
        try:
            _publish_branch(branch, repo_dir, group, names[repo_dir.resolve()], options)
        except (UsageError, TargetError, ForgeError) as err:
            reason = err.reason if isinstance(err, TargetError) else str(err)
            if isinstance(err, ForgeError):
                reason = f"pull request: {reason}"
            for outcome in group:
                outcome.branch_error = redact(reason)
                own = outcome.branch_commit  # committed before the push failed: name it
                mine = f"; this chart's commit on it: {own[:12]}" if own else ""
                outcome.error = TargetError(outcome.root, redact(reason) + mine)


def _publish_branch(
    branch: str, repo_dir: Path, group: Sequence[Outcome], repo_name: str,
    options: PublishOptions,
) -> None:
    """Commit, push, describe and propose one branch of one repository."""
    changes = [o.change for o in group if o.change is not None]
    for outcome in group:
        outcome.branch = branch
        outcome.repository = repo_name
    repo = repo_for(repo_dir)
    made = commit_charts(
        repo, branch, changes, release=options.release, namespace=options.namespace,
        bump=options.bump, note_target=options.note_target, remote=options.push,
        releases={o.change.target_root: run_as(o, options) for o in group if o.change is not None},
    )
    base = repo.head.commit.hexsha  # the branch's start: HEAD never moves
    for outcome, sha in zip(group, made.shas, strict=True):
        outcome.branch_commit = sha
        outcome.branch_state = made.state
        outcome.committed_diff = _committed_diff(repo, base, sha, outcome.root)
    body_file = _pr_body_file(options, branch, repo_name)
    for outcome in group:
        _say_where_the_note_is(outcome, options.note_target, body_file)
    if options.push and made.published != made.tip:
        _push(repo, made, options.push)
        for outcome in group:
            outcome.pushed = (branch, redact(options.push), made.tip)
    entries = [_entry(c, options, repo) for c in changes]
    built_on = f"`{describe_head(repo)}`"
    if body_file is not None:
        body = branch_body(entries, options.release, options.namespace, built_on=built_on)
        _replace(body_file, body)
    if options.open_pr:
        url, state = _propose(repo, branch, entries, options, built_on, body_file)
        for outcome in group:
            outcome.pull_request = (url, state)


def run_as(outcome: Outcome, options: PublishOptions) -> list[tuple[Release, TargetChange]]:
    """Each release the chart runs as with the change rendered for it; empty for the one
    default Helm release (the note is written as before)."""
    listed = options.releases
    if outcome.change is None or (len(listed) == 1 and listed[0].manager == "helm"):
        return []
    own = outcome.release_changes
    return [(listed[0], outcome.change),
            *((r, own.get((r.name, r.namespace), outcome.change)) for r in listed[1:])]


def _propose(
    repo: git.Repo, branch: str, entries: Sequence[ChartEntry], options: PublishOptions,
    built_on: str, body_file: Path | None,
) -> tuple[str, str]:
    """(pull request URL, opened|updated|unchanged) on the forge of the --push remote; with
    --forge gh, what `gh pr create` said."""
    title = branch_title(entries)
    if options.forge == "gh":
        if body_file is None:
            raise UsageError("--forge gh needs --pr-body FILE (gh reads the description there)")
        return open_pr(body_file, branch, title, cwd=str(repo.working_tree_dir)), "opened"
    assert options.push is not None, "--open-pr needs --push"
    forge = forge_for(remote_url(repo, options.push), options.forge, options.forge_api)
    body = branch_body(entries, options.release, options.namespace, built_on=built_on,
                       limit=forge.body_limit, forge=forge.title)
    proposal = Proposal(branch, options.pr_base or current_branch(repo), title, body,
                        draft=options.draft, labels=options.labels,
                        reviewers=options.reviewers)
    done = ensure(forge, proposal)
    for note in done.notes:
        print(f"note: {branch}: {note}", file=sys.stderr)
    return done.pull.url, done.state


def _entry(change: TargetChange, options: PublishOptions, repo: git.Repo | None) -> ChartEntry:
    """A chart as the description shows it (`repo`: on a branch, its note file named)."""
    versioned = (change.target_root / "Chart.yaml").is_file()
    return ChartEntry(
        change, str(summarize([chart_diff(change)])),
        version=next_version(change, options.bump) if versioned else None,
        note_file=None if repo is None else note_file_in_repo(repo, change, options.note_target),
    )


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
    where = [f"{note_path(outcome.change.target_root, target)} in the commit"]
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
    outcomes: Sequence[Outcome], options: PublishOptions
) -> list[tuple[str, Path, list[Outcome]]]:
    """(branch name, repository directory, charts) for every branch to create."""
    template = options.branch
    assert template, "branches are made for --branch NAME"
    by_repo: dict[Path, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.change is None or not outcome.change.changed:
            continue
        try:
            repo_dir = Path(str(repo_for(outcome.root).working_tree_dir))
        except UsageError as err:
            outcome.error = TargetError(outcome.root, str(err))
            continue
        by_repo[repo_dir].append(outcome)
    branches = []
    for repo_dir, group in sorted(by_repo.items()):
        if per_chart_branches(options):
            names = Counter(o.change.target_name for o in group if o.change is not None)
            for outcome in group:
                assert outcome.change is not None
                label = outcome.change.target_name
                if names[label] > 1:  # two charts of one name: tell them apart by path
                    label = os.path.relpath(outcome.root, repo_dir)
                branches.append((_chart_branch(template, _slug(label)), repo_dir, [outcome]))
        else:
            branches += _split(template, repo_dir, group, options.charts_per_pr)
    return branches


def _split(
    branch: str, repo_dir: Path, group: list[Outcome], most: int | None
) -> list[tuple[str, Path, list[Outcome]]]:
    """--charts-per-pr N: a repository's charts in branches of N (in path order), named
    BRANCH-1, BRANCH-2...; one branch named BRANCH when they fit."""
    if most is None or len(group) <= most:
        return [(branch, repo_dir, group)]
    ordered = sorted(group, key=lambda o: o.root)
    parts = [ordered[i:i + most] for i in range(0, len(ordered), most)]
    return [(f"{branch}-{n}", repo_dir, part) for n, part in enumerate(parts, 1)]


def per_chart_branches(options: PublishOptions) -> bool:
    """One branch per chart: --branch NAME holds `{chart}`, or bulk --branch-per-chart."""
    return CHART_FIELD in (options.branch or "") or options.branch_per_chart


def _chart_branch(template: str, chart: str) -> str:
    """The branch of one chart: `{chart}` replaced, else `NAME-chart` (--branch-per-chart)."""
    if CHART_FIELD in template:
        return template.replace(CHART_FIELD, chart)
    return f"{template}-{chart}"


def _pr_body_file(options: PublishOptions, branch: str, repo_name: str) -> Path | None:
    """--pr-body-dir: one file per repository and branch (two repositories may share a
    branch name, two owners a repository name: `repo_name` is unique in the run);
    --pr-body: the one file given."""
    directory = options.pr_body_dir
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        return Path(directory) / f"{_slug(repo_name)}-{_slug(branch)}.md"
    return options.pr_body


def write_pr_body(outcomes: Sequence[Outcome], options: PublishOptions) -> None:
    """--pr-body in a dry run: the description the branch would get."""
    changes = [o.change for o in outcomes if o.change is not None and o.change.changed]
    if changes and options.pr_body:
        entries = [_entry(c, options, None) for c in changes]
        _replace(options.pr_body, branch_body(entries, options.release, options.namespace))
        for outcome in outcomes:
            if outcome.change is not None and needs_note(outcome.change):
                outcome.note = f"the PR description {options.pr_body}"


def _replace(path: Path, text: str) -> None:
    from chartfix.publish.report.file import replace_text  # a fresh temp file renamed over the path

    replace_text(path, text)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "chart"
