"""Commit a verified fix to a branch chartfix owns, push it, open a pull request.

The user's checkout is never moved: commits are built with git plumbing in a temporary index
(GIT_INDEX_FILE), so HEAD, the real index and the working tree stay byte-identical, and the
branch ref moves with `update-ref` against the exact old value read.

A branch is chartfix's own when it has commits of its own (not on HEAD) and every one of them
was committed by chartfix (`COMMITTER`) with a `Chartfix-Tree` trailer naming the tree it
has: nobody amended it, nobody added a commit. A re-run leaves its own branch alone when it
holds this fix on this base, and rebuilds it on HEAD when the fix or the base changed; the
push that follows is the one forced push chartfix makes, `--force-with-lease` expecting the
exact remote tip it read and checked. Any other existing branch is refused, never touched.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import git

from chartfix.errors import TargetError, UsageError
from chartfix.model.changes import TargetChange
from chartfix.publish.bump import Level, bump_chart, bump_version, default_level
from chartfix.publish.messages import change_summary, commit_message
from chartfix.publish.migration.placement import NoteTarget, note_files, note_path
from chartfix.publish.migration.steps import needs_note
from chartfix.publish.migration.text import migration_note, releases_note
from chartfix.publish.releases import Release
from chartfix.publish.repos import redact

REGULAR_FILE = "100644"
COMMITTER = ("chartfix", "chartfix@noreply.invalid")
"""The committer of every commit chartfix makes (the author stays the user's)."""
TREE_TRAILER = "Chartfix-Tree"
"""The trailer naming the tree chartfix wrote for its commit: a commit whose tree differs was
changed by someone else."""
BranchState = Literal["created", "unchanged", "updated"]
_WRITABLE_MODES = ("100644", "100755")


def repo_for(path: str | Path) -> git.Repo:
    """The git repository whose work tree holds `path`."""
    try:
        return git.Repo(Path(path), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as err:
        raise UsageError(f"{path} is not inside a git repository") from err


def describe_head(repo: git.Repo) -> str:
    """What a new branch starts from, for the user: `main (1a2b3c4)` or a detached HEAD."""
    sha = _head_sha(repo)[:7]
    if repo.head.is_detached:
        return f"detached HEAD at {sha}"
    return f"{repo.active_branch.name} ({sha})"


def repo_path(repo: git.Repo, path: str | Path) -> str:
    """`path` relative to the work tree, in git's `/` form (`.` for the top)."""
    top = Path(_work_tree(repo)).resolve()
    try:
        relative = Path(path).resolve().relative_to(top)
    except ValueError as err:
        raise UsageError(f"{path} is not inside the repository at {top}") from err
    return relative.as_posix() or "."


def _dependency_archive(path: str) -> bool:
    """`charts/NAME-VERSION.tgz`: what `helm dependency build` downloads and many
    repositories ignore. It is built from Chart.yaml/Chart.lock, which are committed, and a
    fix never edits it, so an ignored one does not stop a commit."""
    parts = path.rstrip("/").split("/")
    return len(parts) >= 2 and parts[-2] == "charts" and parts[-1].endswith(".tgz")


def require_clean(repo: git.Repo, paths: Iterable[str]) -> None:
    """Refuse when files under `paths` (repo-relative) differ from HEAD, are untracked or are
    ignored.

    The fix was computed from the files on disk but is committed on top of HEAD: both must
    agree, or the commit would silently carry (or drop) the user's uncommitted work.
    `--no-optional-locks` keeps `git status` from rewriting the user's index.
    """
    wanted = sorted(set(paths))
    if not wanted:
        return
    out = repo.git.execute(
        ["git", "--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all",
         "--ignored=matching", "--", *wanted],
        strip_newline_in_stdout=False,
    )
    lines = [line for line in str(out).splitlines() if line.strip()]
    ignored = [
        line[3:] for line in lines
        if line.startswith("!!") and not _dependency_archive(line[3:])
    ]
    dirty = [line[3:] for line in lines if not line.startswith("!!")]
    if ignored:
        raise UsageError(
            f"{_some(ignored, 3)} under {', '.join(wanted)} ignored by git (not tracked); the "
            "fix was computed with it on disk but the commit would leave it out: remove it, "
            "or commit it first (--branch commits on top of HEAD)"
        )
    if dirty:
        raise UsageError(
            f"uncommitted changes under {', '.join(wanted)}: {_some(dirty, 5)}; "
            "commit or stash them first (the fix is committed on top of HEAD)"
        )


@dataclass(frozen=True)
class BranchCommits:
    """What `commit_to_branch` did: one commit sha per (message, files), oldest first."""

    branch: str
    shas: list[str]
    state: BranchState = "created"
    """created; unchanged (it held exactly these changes on this base: an earlier run's);
    updated (chartfix's own branch, rebuilt on HEAD with the new fix)."""
    published: str | None = None
    """The remote's tip of the branch as read before committing (None: not there, or no
    remote): what a push expects to replace."""

    @property
    def tip(self) -> str:
        return self.shas[-1]


def _some(paths: Sequence[str], shown: int) -> str:
    """`a, b and 3 more`: the first paths of a list, for a one-line message."""
    rest = len(paths) - shown
    return ", ".join(paths[:shown]) + (f" and {rest} more" if rest > 0 else "")


def commit_to_branch(
    repo: git.Repo,
    branch: str,
    commits: Sequence[tuple[str, Mapping[str, bytes]]],
    clean_paths: Iterable[str] | None = None,
    remote: str | None = None,
) -> BranchCommits:
    """Make `branch` hold, on HEAD, one commit per (message, {repo path: bytes}).

    `clean_paths` (repo-relative files or directories, default: the committed files) must
    have no uncommitted changes. File modes of existing files are kept; new files are
    regular files. Blobs go through `hash-object --path`, so the repository's clean filters
    (eol, LFS) apply as they would on `git add`. Commits are signed when `commit.gpgsign`
    is set (`git commit-tree` alone ignores it); no commit hook runs.

    With `remote`, the branch there is read first (fetched, never merged). An existing
    branch (local or on the remote) that is not chartfix's own is refused; one that holds
    exactly these changes on HEAD is kept as is; else the commits are (re)built on HEAD.
    """
    _check_branch_name(repo, branch)
    base = _head_sha(repo)
    written = [path for _, files in commits for path in files]
    require_clean(repo, written if clean_paths is None else clean_paths)
    local = _branch_sha(repo, branch)
    published = remote_tip(repo, remote, branch) if remote else None
    for tip, where in ((local, ""), (published, f" on {remote}")):
        foreign = None if tip is None else _not_ours(repo, tip, base)
        if foreign is not None:
            raise UsageError(
                f"branch {branch}{where} already exists and {foreign}: chartfix leaves it "
                "alone; choose another name or delete it"
            )
    current = published or local
    with tempfile.TemporaryDirectory(prefix="chartfix-index-") as scratch:
        trees = _trees(repo, base, commits, scratch)
        held = None if current is None else _chain_holding(repo, current, base, trees)
        if held is not None:
            _move_branch(repo, branch, held[-1], local, f"chartfix: kept {held[-1][:7]}")
            return BranchCommits(branch, held, "unchanged", published)
        shas = _commit_chain(repo, base, [m for m, _ in commits], trees, scratch)
    _move_branch(repo, branch, shas[-1], local, f"chartfix: branch from {base[:7]}")
    return BranchCommits(branch, shas, "created" if current is None else "updated", published)


def _trees(
    repo: git.Repo, base: str, commits: Sequence[tuple[str, Mapping[str, bytes]]],
    scratch: str,
) -> list[str]:
    """The tree after each commit's files, built on `base` in a temporary index."""
    env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
    _git(repo, ["read-tree", base], env)
    trees = []
    for _, files in commits:
        for path, data in sorted(files.items()):
            mode = _mode_for(repo, path, env)
            sha = _write_blob(repo, path, data, scratch)
            _git(repo, ["update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}"], env)
        trees.append(_git(repo, ["write-tree"], env))
    return trees


def _commit_chain(
    repo: git.Repo, base: str, messages: Sequence[str], trees: Sequence[str], scratch: str
) -> list[str]:
    """One commit per tree on `base`, committed by chartfix, each naming its tree in a
    trailer (what makes the branch recognisably chartfix's own on a re-run)."""
    name, email = COMMITTER
    env = {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    sign = ["-S"] if _signing(repo) else []
    shas = []
    parent = base
    for message, tree in zip(messages, trees, strict=True):
        message_file = os.path.join(scratch, "message")
        text = f"{message.rstrip()}\n\n{TREE_TRAILER}: {tree}\n"
        Path(message_file).write_text(text, encoding="utf-8")
        parent = _git(
            repo, ["commit-tree", *sign, tree, "-p", parent, "-F", message_file], env,
            refusal="commit.gpgsign is set but signing the commit failed" if sign else None,
        )
        shas.append(parent)
    return shas


def _move_branch(repo: git.Repo, branch: str, new: str, old: str | None, why: str) -> None:
    """Point `branch` at `new`, only if it still is at `old` (absent: None)."""
    if new == old:
        return
    checked_out = _worktree_on(repo, branch)
    if checked_out is not None:
        raise UsageError(
            f"branch {branch} is checked out in the worktree {checked_out}: chartfix never "
            "moves a checkout; switch that worktree off it, or choose another branch name"
        )
    _git(
        repo, ["update-ref", "-m", why, f"refs/heads/{branch}", new, old or ""], {},
        refusal=f"branch {branch} could not be set (it moved meanwhile?)",
    )


def _worktree_on(repo: git.Repo, branch: str) -> str | None:
    """The path of a worktree of the repository that has `branch` checked out (None: none
    has), as `git branch -f` reads it before refusing to move such a branch."""
    listed = _git(repo, ["worktree", "list", "--porcelain"], {})
    path = None
    for line in listed.splitlines():
        if line.startswith("worktree "):
            path = line.removeprefix("worktree ")
        elif line == f"branch refs/heads/{branch}":
            return path
    return None


def _branch_sha(repo: git.Repo, branch: str) -> str | None:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"))
    except git.GitCommandError:
        return None


def remote_tip(repo: git.Repo, remote: str, branch: str) -> str | None:
    """The commit `branch` is at on `remote` (None: no such branch there), fetched so that
    its commits can be read; the branch's remote-tracking ref and FETCH_HEAD are left alone."""
    ref = f"refs/heads/{branch}"
    listed = _git(repo, ["ls-remote", remote, ref], {}, refusal=f"reading {remote} failed")
    tips = [line.split()[0] for line in listed.splitlines() if line.endswith(f"\t{ref}")]
    if not tips:
        return None
    _git(repo, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, ref], {},
         refusal=f"fetching {branch} from {remote} failed")
    try:
        repo.git.cat_file("-e", f"{tips[0]}^{{commit}}")
    except git.GitCommandError as err:
        raise UsageError(f"branch {branch} on {remote} moved while it was read; run again") from err
    return tips[0]


def _not_ours(repo: git.Repo, tip: str, base: str) -> str | None:
    """Why the branch at `tip` is not chartfix's own, or None: it must have commits of its
    own (not on `base`), each committed by chartfix with a trailer naming its own tree."""
    fields = "%x1f".join(("%H", "%T", "%cn", "%ce", f"%(trailers:key={TREE_TRAILER},valueonly)"))
    out = _git(repo, ["log", f"--format={fields}%x1e", tip, "--not", base], {})
    records = [r.strip("\n").split("\x1f") for r in out.split("\x1e") if r.strip()]
    if not records:
        return "has no commit of its own (chartfix did not make it)"
    for sha, tree, name, email, trailer in records:
        if (name, email) != COMMITTER:
            return f"has a commit chartfix did not make ({sha[:12]}, by {name})"
        if trailer.strip() != tree:
            return f"has a commit changed after chartfix made it ({sha[:12]})"
    return None


def _chain_holding(
    repo: git.Repo, tip: str, base: str, trees: Sequence[str]
) -> list[str] | None:
    """The commits from `base` to `tip`, oldest first, when they are exactly one commit per
    tree of `trees` in order (the same change, made by an earlier run); else None."""
    chain = []
    sha = tip
    for tree in reversed(trees):
        fields = str(repo.git.show("-s", "--format=%T %P", sha)).split()
        if fields[0] != tree or len(fields) != 2:
            return None
        chain.append(sha)
        sha = fields[1]
    return list(reversed(chain)) if sha == base else None


def _signing(repo: git.Repo) -> bool:
    """commit.gpgsign, as `git commit` reads it (`git commit-tree` does not)."""
    try:
        return str(repo.git.config("--type=bool", "--get", "commit.gpgsign")) == "true"
    except git.GitCommandError:
        return False


def push(repo: git.Repo, branch: str, remote: str, lease: str | None = None) -> None:
    """Push `branch` to the same name on `remote`. Forced only with `lease`, the remote tip
    chartfix read and found its own: `--force-with-lease` then replaces exactly that commit,
    and git refuses when anyone moved the branch since."""
    refspec = f"refs/heads/{branch}:refs/heads/{branch}"
    force = [f"--force-with-lease=refs/heads/{branch}:{lease}"] if lease else []
    _git(repo, ["push", *force, remote, refspec], {},
         refusal=f"push of {branch} to {remote} failed")


def open_pr(body_file: str | Path, branch: str, title: str, cwd: str | Path | None = None) -> str:
    """Open a pull request with `gh`; without `gh`, say what to run instead."""
    command = ["gh", "pr", "create", "--head", branch, "--title", title,
               "--body-file", str(body_file)]
    if shutil.which("gh") is None:
        return f"gh is not available; to open the pull request run: {shlex.join(command)}"
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = " ".join((result.stderr or result.stdout).split())
        raise UsageError(f"gh pr create failed: {reason}")
    return result.stdout.strip()


def _work_tree(repo: git.Repo) -> str:
    if repo.working_tree_dir is None:
        raise UsageError(f"{repo.git_dir} is a bare repository; run chartfix in a checkout")
    return str(repo.working_tree_dir)


def _head_sha(repo: git.Repo) -> str:
    try:
        return repo.head.commit.hexsha
    except ValueError as err:
        raise UsageError(f"{_work_tree(repo)} has no commit yet to branch from") from err


def _check_branch_name(repo: git.Repo, branch: str) -> None:
    check_branch_name(branch)


CHART_FIELD = "{chart}"
"""In a --branch name: one branch per chart, named after it."""


def expand_branch(template: str, recipe: str) -> str:
    """--branch NAME with its fields: `{recipe}` (the recipe file's name, the --recipe names,
    else `selectors`) filled in now; `{chart}` (one branch per chart) kept for each chart. A
    name that is no valid branch, or another `{field}`, is a UsageError."""
    try:
        name = template.replace(CHART_FIELD, "\0").format(recipe=recipe).replace("\0", CHART_FIELD)
    except (KeyError, IndexError, ValueError) as err:
        raise UsageError(
            f"--branch {template!r}: {{recipe}} and {{chart}} are the fields a branch name "
            f"may hold ({err})"
        ) from None
    check_branch_name(name.replace(CHART_FIELD, "chart"))
    return name


def check_branch_name(branch: str) -> None:
    """A UsageError unless `branch` is a plain new branch name: valid for git
    (`check-ref-format --branch`) and none of the names git reads otherwise (`HEAD`,
    `FETCH_HEAD` and other `*_HEAD`, `@`, `@{...}`, a full `refs/...` name, a leading `-`)."""
    special = (
        branch == "HEAD" or branch.endswith("_HEAD") or branch == "@" or "@{" in branch
        or branch.startswith(("refs/", "-"))
    )
    if special:
        raise UsageError(
            f"--branch {branch!r}: git reads that name as something else than a new branch; "
            "choose another name"
        )
    checked = subprocess.run(
        ["git", "check-ref-format", "--branch", branch], capture_output=True, text=True,
        check=False,
    )
    if checked.returncode != 0 or checked.stdout.strip() != branch:
        raise UsageError(f"--branch {branch!r} is not a valid branch name")


def _mode_for(repo: git.Repo, path: str, env: Mapping[str, str]) -> str:
    """The mode the file has at HEAD (kept), or a regular file's for a new one."""
    entry = _git(repo, ["ls-files", "--stage", "--", path], env)
    if not entry:
        return REGULAR_FILE
    mode = entry.split()[0]
    if mode not in _WRITABLE_MODES:
        raise UsageError(f"{path} is not a regular file in git (mode {mode}); not changing it")
    return mode


def _write_blob(repo: git.Repo, path: str, data: bytes, scratch: str) -> str:
    source = os.path.join(scratch, "blob")
    Path(source).write_bytes(data)
    with open(source, "rb") as stream:
        return str(repo.git.hash_object("-w", "--stdin", f"--path={path}", istream=stream))


def _git(
    repo: git.Repo, args: Sequence[str], env: Mapping[str, str], refusal: str | None = None
) -> str:
    """Run git; a failure becomes a UsageError carrying git's own reason."""
    try:
        return str(repo.git.execute(["git", *args], env=dict(env)))
    except git.GitCommandError as err:
        said = str(err.stderr or err.stdout).strip()
        said = said.removeprefix("stderr:").removeprefix("stdout:").strip()
        if len(said) > 1 and said[0] == said[-1] == "'":  # GitPython's quotes, not git's own
            said = said[1:-1]
        reason = " ".join(
            " ".join(line.split()) for line in said.splitlines()
            if line.strip() and not line.lstrip().startswith("hint:")
        )
        said = f"{refusal or 'git ' + args[0] + ' failed'}: {reason}"
        raise UsageError(redact(said)) from err  # a remote URL may carry a password


def chart_commit(
    repo: git.Repo,
    change: TargetChange,
    *,
    release: str,
    namespace: str,
    bump: Level | Literal["auto"] = "auto",
    note_target: NoteTarget = "auto",
    releases: Sequence[tuple[Release, TargetChange]] = (),
) -> tuple[str, dict[str, bytes]]:
    """(message, {repo path: bytes}) for one chart: the fix, the version bump, the note.

    The note file is written only when upgrading needs more than `helm upgrade` (an
    immutable field changes, or a step must come first: `needs_note`); the commit message
    names it.
    """
    level = default_level(change) if bump == "auto" else bump
    version = next_version(change, bump)
    files = {f.path: f.after for f in change.files if f.before != f.after}
    versioned = (change.target_root / "Chart.yaml").is_file()  # a cdk8s app has no version
    if versioned:
        files.update(bump_chart(change.target_root, level, change_summary(change)))
    prefix = repo_path(repo, change.target_root)
    note_file = None
    if needs_note(change):
        note = (releases_note(releases, version=version) if releases
                else migration_note(change, release, namespace, version=version, portable=True))
        files.update(note_files(change.target_root, note, note_target, version))
        note_file = in_repo(prefix, note_path(change.target_root, note_target))
    moved = {in_repo(prefix, path): data for path, data in files.items()}
    message = commit_message(change, version=version if versioned else None,
                             note_file=note_file)
    return message, moved


def next_version(change: TargetChange, bump: Level | Literal["auto"] = "auto") -> str:
    """The chart version the branch sets (`auto`: the change's default level)."""
    level = default_level(change) if bump == "auto" else bump
    try:
        return bump_version(change.target_version, level)
    except ValueError as err:
        raise TargetError(change.target_root / "Chart.yaml", str(err)) from err


def note_file_in_repo(repo: git.Repo, change: TargetChange, target: NoteTarget) -> str | None:
    """The repository-relative file the branch writes the change's note to, if any."""
    if not needs_note(change):
        return None
    return in_repo(repo_path(repo, change.target_root), note_path(change.target_root, target))


def remote_url(repo: git.Repo, remote: str) -> str:
    """The URL `git push REMOTE` pushes to: a remote's push URL, or REMOTE itself."""
    if remote in [r.name for r in repo.remotes]:
        return _git(repo, ["remote", "get-url", "--push", remote], {})
    return remote


def current_branch(repo: git.Repo) -> str:
    """The branch HEAD is on: where a pull request goes unless --pr-base says."""
    if repo.head.is_detached:
        raise UsageError("HEAD is detached: give --pr-base BRANCH for the pull request")
    return repo.active_branch.name


def in_repo(prefix: str, path: str) -> str:
    """A chart-relative path made repository-relative (`prefix`: the chart's folder)."""
    return path if prefix == "." else f"{prefix}/{path}"


def commit_charts(
    repo: git.Repo,
    branch: str,
    changes: Sequence[TargetChange],
    *,
    release: str,
    namespace: str,
    bump: Level | Literal["auto"] = "auto",
    note_target: NoteTarget = "auto",
    remote: str | None = None,
    releases: Mapping[Path, Sequence[tuple[Release, TargetChange]]] | None = None,
) -> BranchCommits:
    """Make `branch` hold one commit per changed chart, in order (`commit_to_branch`); every
    chart dir must be clean and tracked by git."""
    charts = [c for c in changes if c.changed]
    if not charts:
        raise UsageError("nothing to commit: no chart changed")
    clean = [repo_path(repo, c.target_root) for c in charts]
    for change in charts:
        require_tracked(repo, change)
    require_clean(repo, clean)
    commits = [
        chart_commit(repo, c, release=release, namespace=namespace, bump=bump,
                     note_target=note_target, releases=(releases or {}).get(c.target_root, ()))
        for c in charts
    ]
    return commit_to_branch(repo, branch, commits, clean_paths=clean, remote=remote)


def require_tracked(repo: git.Repo, change: TargetChange) -> None:
    """Refuse a chart whose files git does not track (ignored, or never added): a commit
    would add them whole, with whatever else lies on disk."""
    meta = [m for m in ("Chart.yaml", "cdk8s.yaml") if (change.target_root / m).is_file()]
    relative = [*meta, *(f.path for f in change.files if (change.target_root / f.path).exists())]
    prefix = repo_path(repo, change.target_root)
    paths = [p if prefix == "." else f"{prefix}/{p}" for p in relative]
    tracked = set(
        _git(repo, ["ls-tree", "-r", "-z", "--name-only", "--full-tree", _head_sha(repo), "--",
                    *paths], {}).split("\0")
    )
    missing = [p for p in paths if p not in tracked]
    if missing:
        raise UsageError(
            f"{_some(missing, 3)} not tracked by git (ignored or never committed); commit "
            "the chart first: --branch commits a fix on top of HEAD"
        )
