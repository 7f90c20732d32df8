"""Repositories for `chartfix bulk --repos FILE`: local paths as they are, URLs cloned once.

Clones go into a work directory and are reused on re-runs (a second run does not clone
again), so an interrupted organisation-wide run picks up where it stopped.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import git

from chartfix.errors import UsageError
from chartfix.files import git_repository

ALLOWED_SCHEMES = ("https", "ssh", "git", "file")
"""Transports --repos may clone with; git's others (`ext::` runs a command, `fd::`, plain
http) are refused, here and, through GIT_ALLOW_PROTOCOL, in submodules and redirects."""


_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/?#\s'\"]+)@")
"""A URL's userinfo: everything up to the last `@` before the host (a password may hold a
raw `@`)."""


def redact(text: str) -> str:
    """`text` with the secrets of every URL's userinfo hidden: `user:***@` for a password,
    `***@` for an http(s) token (`https://TOKEN@host`); an ssh user name stays."""

    def hide(match: re.Match[str]) -> str:
        scheme, userinfo = match.group(1), match.group(2)
        user, colon, _ = userinfo.partition(":")
        if colon:
            return f"{scheme}{user}:***@"
        if scheme.lower().startswith("http"):
            return f"{scheme}***@"
        return match.group(0)

    return _USERINFO.sub(hide, text)


def read_repo_list(path: Path) -> list[str]:
    """One repository a line; blank lines and `#` comments are skipped. An unreadable,
    non-UTF-8 or empty list is a usage error."""
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except OSError as err:
        raise UsageError(f"--repos {path}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise UsageError(f"--repos {path}: not UTF-8 text (byte {err.start})") from err
    entries = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not entries:
        raise UsageError(f"--repos {path}: lists no repository")
    return entries


def refused_transport(entry: str) -> str | None:
    """Why `entry` may not be cloned, or None: URLs of the allowed schemes, scp-like
    `user@host:path` (ssh) and local paths are fine."""
    helper = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)::", entry)
    if helper:
        return f"the {helper.group(1)}:: transport is refused (use https, ssh, git or file)"
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", entry)
    if scheme and scheme.group(1).lower() not in ALLOWED_SCHEMES:
        return f"the {scheme.group(1)}:// transport is refused (use https, ssh, git or file)"
    return None


@dataclass(frozen=True)
class RepoFailure:
    """A repository of the list that could not be had: its URL (password hidden) and why."""

    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


def checkout_repos(list_file: Path, workdir: Path) -> tuple[list[Path], list[RepoFailure]]:
    """(roots to search for charts, each repository that could not be had).

    Every entry is checked before the first clone; a repository that is refused or cannot
    be cloned is named and skipped: the others go on.
    """
    roots: list[Path] = []
    errors: list[RepoFailure] = []
    entries = read_repo_list(list_file)
    allowed = []
    for entry in entries:
        reason = refused_transport(entry)
        if reason:
            errors.append(RepoFailure(redact(entry), redact(reason)))
        else:
            allowed.append(entry)
    for entry in allowed:
        local = Path(entry).expanduser()
        if not local.is_absolute():
            local = list_file.parent / local  # relative to the list, not to where we run
        if "://" not in entry and not entry.startswith("git@") and local.exists():
            roots.append(local.resolve())
            continue
        target = _clone_dir(entry, workdir)
        if not (target / ".git").exists():
            workdir.mkdir(parents=True, exist_ok=True)
            try:
                git.Repo.clone_from(
                    entry, target, env={"GIT_ALLOW_PROTOCOL": ":".join(ALLOWED_SCHEMES)}
                )
            except git.GitCommandError as err:
                reason = " ".join(str(err.stderr).split()) or "git clone failed"
                errors.append(RepoFailure(redact(entry), f"cannot clone: {redact(reason)}"))
                continue
        roots.append(target.resolve())
    return roots, errors


def _clone_dir(url: str, workdir: Path) -> Path:
    """The readable name, unless a clone of another URL already holds it (two hosts, one
    `org/repo`): then the name plus a hash of the URL, so no repository is mistaken for
    another."""
    target = workdir / _dir_name(url)
    if (target / ".git").exists() and _origin_url(target) != url:
        digest = hashlib.sha256(url.encode()).hexdigest()[:10]
        target = workdir / f"{target.name}-{digest}"
    return target


def _origin_url(clone: Path) -> str | None:
    try:
        return str(git.Repo(clone).remotes.origin.url)
    except (AttributeError, IndexError, ValueError, git.GitError):
        return None


def _dir_name(url: str) -> str:
    """`https://host/org/repo.git` -> `org+repo`: stable and readable (never a password:
    chart paths below it are printed)."""
    tail = re.sub(r"\.git/?$", "", _USERINFO.sub(r"\1", url).rstrip("/"))
    parts = re.split(r"[/:]", tail)
    return "+".join(p for p in parts[-2:] if p) or "repo"


def unique_names(directories: Iterable[Path]) -> dict[Path, str]:
    """Resolved directory -> a short name no other directory of the set has: its own name,
    else `parent+name` (two owners' `charts` repositories), else its whole path. Depends only
    on the set, so every shard of a run names a repository alike."""
    return dict(_unique_names(tuple(sorted({d.resolve() for d in directories}))))


@lru_cache(maxsize=16)
def _unique_names(resolved: tuple[Path, ...]) -> tuple[tuple[Path, str], ...]:
    names = Counter(d.name for d in resolved)
    first = {d: d.name if names[d.name] == 1 else f"{d.parent.name}+{d.name}" for d in resolved}
    clash = Counter(first.values())
    return tuple(
        (d, label if clash[label] == 1 else d.as_posix().strip("/").replace("/", "+"))
        for d, label in first.items()
    )


@dataclass(frozen=True)
class Place:
    """Where a chart lives, as a person names it: the repository and the path inside it."""

    repository: str
    path: str
    """The chart's folder below the repository's top (`.`: the chart is the repository)."""


def chart_place(chart: Path, roots: Iterable[Path]) -> Place:
    """The git repository holding `chart` (named by its `origin` remote's project, e.g.
    `bitnami/charts`, else its top folder's name) and the chart's path inside it; outside
    any repository, the ROOT argument holding it stands for one (its folder's name)."""
    chart = chart.resolve()
    top = git_repository(chart)
    if top is None:
        holding = [r.resolve() for r in roots if chart.is_relative_to(r.resolve())]
        top = min(holding, key=lambda r: len(r.parts)) if holding else chart.parent
        name = top.name
    else:
        name = _repository_name(top)
    return Place(name, chart.relative_to(top).as_posix())


@lru_cache(maxsize=256)
def _repository_name(top: Path) -> str:
    """The project path of an `origin` remote on a host (`owner/name`: never its user or
    password, `split_remote` keeps the path alone), else (no remote, a local one) the top
    folder's name."""
    from chartfix.publish.forge import split_remote

    url = _origin_url(top)
    host, project = split_remote(url) if url else (None, "")
    return project if host and project else top.name
