"""A cdk8s app on disk: a directory with `cdk8s.yaml` whose `app:` command runs a Python file.

The app object is "chart-like" (name, version, app_version, root) so that the Helm rules of
chartfix.rules run on its objects unchanged.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from chartfix.config import CONFIG_NAME, load_config
from chartfix.errors import ChartError
from chartfix.model.kinds import APPLY_WORDS, KindFacts

CONFIG_FILE = "cdk8s.yaml"
DEFAULT_OUTPUT = "dist"
"""Where `cdk8s synth` writes an app's manifests unless its cdk8s.yaml says `output:`."""

FACTS = KindFacts(
    name="cdk8s",
    noun="cdk8s app",
    nouns="cdk8s apps",
    looks_for="cdk8s app (cdk8s.yaml)",
    rendered_by="the cdk8s app (cdk8s synth)",
    released=False,
    words=APPLY_WORDS,
    applied_as=(
        "For the cdk8s app `{root}`: synthesize it again (`cdk8s synth` in its folder), then "
        "apply its output with `kubectl apply -f {path}` or let Argo CD or Flux sync it: the "
        "steps name the objects the app makes, in their namespace."
    ),
    apply="kubectl {ns}apply -f {path}  # after cdk8s synth; or let a GitOps sync",
    output=DEFAULT_OUTPUT,
)
_SKIPPED_DIRS = frozenset({".git", "dist", "node_modules", "__pycache__", ".venv", "venv"})


@dataclass
class CdkApp:
    root: Path
    entry: str
    """The Python entry file, relative to `root` (from `app: python main.py`)."""
    name: str
    version: str = "0.0.0"
    app_version: str | None = None
    output: str = DEFAULT_OUTPUT
    """The folder `cdk8s synth` writes the manifests to (`output:` of cdk8s.yaml)."""

    @property
    def entry_path(self) -> Path:
        return self.root / self.entry


def is_app(path: Path) -> bool:
    return (path / CONFIG_FILE).is_file()


def find_apps(paths: Iterable[Path]) -> list[Path]:
    """Every cdk8s app directory at or under `paths`, sorted, without following symlinks."""
    found: set[Path] = set()
    for start in paths:
        start = Path(start)
        if is_app(start):
            found.add(start.resolve())
            continue
        if not start.is_dir():
            continue
        for config in start.rglob(CONFIG_FILE):
            relative = config.relative_to(start).parts
            if any(part in _SKIPPED_DIRS for part in relative) or config.is_symlink():
                continue
            if any((start / Path(*relative[:i])).is_symlink() for i in range(1, len(relative))):
                continue
            found.add(config.parent.resolve())
    return sorted(found)


def load_app(root: Path) -> CdkApp:
    """Read `cdk8s.yaml`; the entry is the `.py` argument of its `app:` command."""
    root = Path(root).resolve()
    config_path = root / CONFIG_FILE
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ChartError(config_path, f"cannot read: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        raise ChartError(config_path, f"invalid YAML: {err}") from err
    if not isinstance(config, dict):
        raise ChartError(config_path, "expected a mapping")
    command = config.get("app")
    if not isinstance(command, str) or not command.strip():
        raise ChartError(config_path, "no `app:` command")
    language = str(config.get("language") or "python")
    if language != "python":
        raise ChartError(config_path, f"language {language!r}: only Python apps are supported")
    entries = [word for word in shlex.split(command) if word.endswith(".py")]
    if not entries:
        raise ChartError(config_path, f"`app: {command}` names no Python file")
    entry = entries[-1]
    entry_path = (root / entry).resolve()
    if not entry_path.is_relative_to(root):
        raise ChartError(config_path, f"entry {entry} lies outside the app")
    if not entry_path.is_file():
        raise ChartError(root / entry, "entry file does not exist")
    output = config.get("output")
    return CdkApp(
        root=root, entry=entry_path.relative_to(root).as_posix(), name=root.name,
        output=output.strip() if isinstance(output, str) and output.strip() else DEFAULT_OUTPUT,
    )


def skip_reason(
    root: Path, run_apps: bool | None, untrusted: Iterable[Path] = ()
) -> str | None:
    """Why the app at `root` must not run (None: it may).

    A cdk8s app is a program, unlike a Helm template: it runs only when the user asks, with
    --run-apps or `run-apps: true` in a `.chartfix.yaml`; --no-run-apps (False) wins over
    the file. Under `untrusted` roots (repositories cloned by `bulk --repos`) a file's
    `run-apps` does not count: it is the repository's author speaking, not the user.
    """
    if run_apps is not None:
        return None if run_apps else "not run (--no-run-apps)"
    cloned = any(Path(root).resolve().is_relative_to(Path(r).resolve()) for r in untrusted)
    if not cloned and load_config(Path(root)).run_apps:
        return None
    where = " (a cloned repository's own setting does not count)" if cloned else ""
    return (
        "cdk8s app not run: its Python is code from the repository; run it with --run-apps "
        f"or `run-apps: true` in {CONFIG_NAME}{where}"
    )
