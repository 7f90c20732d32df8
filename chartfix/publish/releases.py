"""The releases a chart runs as: `--release` repeated, or `--releases FILE`, and what manages
each (the Helm CLI, Argo CD, Flux, helmfile), for migration notes with one block of steps per
release.

A releases file has one release a line, `#` comments and blank lines skipped:

    RELEASE NAMESPACE [argocd:APPLICATION[@NAMESPACE] | flux:HELMRELEASE[@NAMESPACE] | helmfile]

An Argo CD Application lives in `argocd` unless said, a Flux HelmRelease in the release's
namespace unless said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chartfix.errors import UsageError

MANAGERS = ("helm", "argocd", "flux", "helmfile")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""A DNS label, as Helm release names, namespaces and object names are."""


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    manager: str = "helm"
    """helm (the Helm CLI), argocd, flux or helmfile."""
    owner: str | None = None
    """The Argo CD Application or Flux HelmRelease that deploys the release."""
    owner_namespace: str | None = None

    def describe(self) -> str:
        managed = {
            "argocd": f", deployed by the Argo CD Application `{self.owner}`",
            "flux": f", deployed by the Flux HelmRelease `{self.owner}`",
            "helmfile": ", deployed with helmfile",
        }.get(self.manager, "")
        return f"Release `{self.name}` in namespace `{self.namespace}`{managed}"


def releases_from(names: Sequence[str] | None, namespace: str, path: Path | None) -> list[Release]:
    """The run's releases: the file's, else each --release in --namespace, else the default."""
    if path is not None:
        if names:
            raise UsageError("--releases FILE and --release name the releases twice: give one")
        return read_releases(path)
    return [Release(_checked(n, "--release"), namespace) for n in names or ["release-name"]]


def read_releases(path: Path) -> list[Release]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--releases {path}: {getattr(err, 'strerror', None) or err}") from err
    out = []
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{path}:{number}"
        if len(words) not in (2, 3):
            raise UsageError(f"{where}: want RELEASE NAMESPACE [argocd:APP | flux:NAME | "
                             f"helmfile], not {line.strip()!r}")
        name, namespace = _checked(words[0], where), _checked(words[1], where)
        out.append(_managed(name, namespace, words[2] if len(words) == 3 else "helm", where))
    if not out:
        raise UsageError(f"--releases {path}: lists no release")
    names = [(r.name, r.namespace) for r in out]
    if len(set(names)) != len(names):
        raise UsageError(f"--releases {path}: a release is listed twice")
    return out


def _managed(name: str, namespace: str, manager: str, where: str) -> Release:
    kind, _, owner = manager.partition(":")
    if kind not in MANAGERS or (kind in ("argocd", "flux")) != bool(owner):
        raise UsageError(f"{where}: {manager!r}: want argocd:APPLICATION, flux:HELMRELEASE or "
                         "helmfile")
    if not owner:
        return Release(name, namespace, kind)
    owner, _, home = owner.partition("@")
    default = "argocd" if kind == "argocd" else namespace
    return Release(name, namespace, kind, _checked(owner, where),
                   _checked(home or default, where))


def _checked(name: str, where: str) -> str:
    if not _NAME.match(name) or len(name) > 63:
        raise UsageError(f"{where}: {name!r} is no release, namespace or object name (a DNS "
                         "label: lower-case letters, digits and '-')")
    return name
