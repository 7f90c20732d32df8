"""Pull (merge) requests on GitHub, GitLab, Gitea/Forgejo and Bitbucket Cloud through their
REST APIs: the forge found from the push remote's URL (or named), its token from the usual
environment variables, one call to `ensure` per branch.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import PurePosixPath

from chartfix.publish.forge.base import (
    Forge,
    ForgeError,
    Http,
    Outcome,
    Proposal,
    PullRequest,
    ensure,
)
from chartfix.publish.forge.bitbucket import Bitbucket
from chartfix.publish.forge.gitea import Gitea
from chartfix.publish.forge.github import GitHub
from chartfix.publish.forge.gitlab import GitLab

__all__ = [
    "FORGES", "Forge", "ForgeError", "Outcome", "Proposal", "PullRequest", "ensure",
    "forge_for",
]

FORGES: dict[str, type[Forge]] = {f.name: f for f in (GitHub, GitLab, Gitea, Bitbucket)}
HOSTS = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket",
         "codeberg.org": "gitea"}
"""Hosts whose forge is known; any other needs --forge (a self-hosted one)."""


def forge_for(
    remote_url: str, kind: str | None = None, api: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Forge:
    """The forge holding the repository at `remote_url`: `kind` (--forge) or its host's,
    its API at `api` (--forge-api) or the host's usual address, with a token from `env`."""
    env = os.environ if env is None else env
    host, project = split_remote(remote_url)
    kind = kind or HOSTS.get(host or "")
    if kind is None:
        raise ForgeError(
            f"cannot tell which forge {host or remote_url} is: give --forge "
            f"{'|'.join(FORGES)} (and --forge-api URL for a self-hosted one)"
        )
    forge = FORGES[kind]
    base = api or default_api(kind, host)
    if base is None:
        raise ForgeError(f"{remote_url} names no host: give --forge-api URL")
    token = next((env[name] for name in forge.tokens if env.get(name)), None)
    if token is None:
        raise ForgeError(f"no token for {forge.title}: set {' or '.join(forge.tokens)}")
    http = Http(base, forge.auth(token), forge.reason, secret=token)
    return forge(http, project)


def default_api(kind: str, host: str | None) -> str | None:
    if host is None:
        return None
    if kind == "github":
        return "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3"
    if kind == "bitbucket":
        return "https://api.bitbucket.org/2.0"
    return f"https://{host}/api/{'v4' if kind == 'gitlab' else 'v1'}"


_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def split_remote(url: str) -> tuple[str | None, str]:
    """(host, project path) of a remote URL: `https://host/owner/name.git`,
    `git@host:owner/name.git`, `ssh://git@host:22/group/sub/name`; a local path or file://
    URL has no host, and its last two folders stand for `owner/name`."""
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        path = parts.path
        host = parts.hostname if parts.scheme != "file" else None
    elif (scp := _SCP.match(url)) and not os.path.exists(url):
        host, path = scp.group("host"), scp.group("path")
    else:
        host, path = None, url
    path = re.sub(r"\.git/?$", "", path.strip("/"))
    if host is None:
        path = "/".join(PurePosixPath(path).parts[-2:])
    return host, path
