"""The environment of a process a repository's files steer (`kubectl kustomize` and the git
it starts, a cdk8s app, an install for one): built from an allowlist, never the job's
tokens. chartfix's own git (clones, pushes) keeps the environment it needs (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

KEPT = frozenset({
    "PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "TERM",
    "NO_COLOR", "PYTHONPATH", "VIRTUAL_ENV", "NODE_PATH", "NODE_OPTIONS",
})
"""What a program a repository steers may see of chartfix's environment, besides `LC_*`."""
KEPT_PREFIXES = ("LC_",)
PROXIES = frozenset({
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})
"""Kept only where the user let a repository fetch (--allow-remote)."""


def child_environment(
    environ: Mapping[str, str], home: Path, also: Iterable[str] = (), prefixes: tuple[str, ...] = ()
) -> dict[str, str]:
    """The environment of a process a repository's files steer: the allowlist `KEPT` (PATH,
    locale, temp folders, Python and Node search paths), the names in `also` and those
    starting with `prefixes`, and HOME an empty folder of its own (no git or cloud
    configuration, no credential helper). Everything else stays out: tokens and keys above
    all (GITHUB_TOKEN, SSH_AUTH_SOCK, AWS_*, KUBECONFIG, ...)."""
    home.mkdir(parents=True, exist_ok=True)
    kept = {
        key: value for key, value in environ.items()
        if key in KEPT or key in also or key.startswith(KEPT_PREFIXES + prefixes)
    }
    return {**kept, "HOME": str(home)}
