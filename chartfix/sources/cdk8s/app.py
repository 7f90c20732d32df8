"""A cdk8s app on disk: a directory with `cdk8s.yaml` whose `app:` command runs a Python file.

`cdk8s.yaml` says how the app is run (`app: pipenv install && pipenv run python ./main.py`)
and where `cdk8s synth` writes its manifests (`output:`, `dist` by default). chartfix never
runs the `app:` line as a shell command: it reads the script given to `python` from it and
runs that file through its own runner (synth.py), which records where each object comes from.

The app object is "chart-like" (name, version, app_version, root) so that the Helm rules of
chartfix.rules run on its objects unchanged.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartfix.errors import TargetError
from chartfix.model.kinds import KindFacts

CONFIG_FILE = "cdk8s.yaml"
DEFAULT_OUTPUT = "dist"
"""Where `cdk8s synth` writes an app's manifests unless its cdk8s.yaml says `output:`."""

FACTS = KindFacts(
    name="cdk8s",
    noun="cdk8s app",
    looks_for="cdk8s app (cdk8s.yaml)",
    rendered_by="the cdk8s app (cdk8s synth)",
    released=False,
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
    """The folder `cdk8s synth` writes to, relative to `root` (`output:` of cdk8s.yaml)."""
    imports: tuple[str, ...] = ()
    """What `cdk8s import` generates bindings from (`imports:` of cdk8s.yaml)."""

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
    """Read `cdk8s.yaml`: the entry is the script its `app:` command gives to `python`."""
    root = Path(root).resolve()
    config_path = root / CONFIG_FILE
    config = read_config(root)
    command = config.get("app")
    if not isinstance(command, str) or not command.strip():
        raise TargetError(config_path, "no `app:` command")
    language = str(config.get("language") or "python")
    if language != "python":
        raise TargetError(config_path, f"language {language!r}: only Python apps are supported")
    entry = entry_of(command)
    if entry is None:
        raise TargetError(
            config_path,
            f"`app: {command}` runs no Python file (chartfix runs the script it gives to "
            "python: `python main.py`, `pipenv run python ./main.py`)",
        )
    entry_path = (root / entry).resolve()
    if not entry_path.is_relative_to(root):
        raise TargetError(config_path, f"entry {entry} lies outside the app")
    if not entry_path.is_file():
        raise TargetError(root / entry, "entry file does not exist")
    imports = config.get("imports") or []
    return CdkApp(
        root=root,
        entry=entry_path.relative_to(root).as_posix(),
        name=root.name,
        output=output_folder(root, config),
        imports=tuple(str(i) for i in imports) if isinstance(imports, list) else (),
    )


def read_config(root: Path) -> dict[str, object]:
    """The mapping in `root`'s cdk8s.yaml; TargetError naming it when it is not one."""
    import yaml  # here: finding apps needs no YAML library

    config_path = Path(root) / CONFIG_FILE
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise TargetError(config_path, f"cannot read: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        raise TargetError(config_path, f"invalid YAML: {err}") from err
    if not isinstance(config, dict):
        raise TargetError(config_path, "expected a mapping")
    return config


def output_folder(root: Path, config: dict[str, object]) -> str:
    """Where `cdk8s synth` writes (`output:`, `dist` by default), relative to `root`; a
    folder outside the app is refused."""
    output = config.get("output") or DEFAULT_OUTPUT
    if not isinstance(output, str):
        raise TargetError(Path(root) / CONFIG_FILE, f"`output: {output}` is no folder name")
    full = (Path(root) / output).resolve()
    if full == Path(root).resolve() or not full.is_relative_to(Path(root).resolve()):
        raise TargetError(Path(root) / CONFIG_FILE, f"`output: {output}` lies outside the app")
    return full.relative_to(Path(root).resolve()).as_posix()


_OPERATOR = re.compile(r"[;&|()<>]+")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_TAKES_ARGUMENT = frozenset({"-W", "-X", "-Q"})


def entry_of(command: str) -> str | None:
    """The script the `app:` command runs: the file given to the last `python` in it
    (`pipenv install && pipenv run python ./main.py` -> `./main.py`, `python3 -u main.py`
    -> `main.py`), or a command that is a `.py` file itself; None when it runs none
    (`python -m app`)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # an unclosed quote
        return None
    commands: list[list[str]] = [[]]
    for word in words:
        if _OPERATOR.fullmatch(word):
            commands.append([])
        else:
            commands[-1].append(word)
    scripts = [s for s in map(_script, commands) if s is not None]
    return scripts[-1] if scripts else None


def _script(words: Sequence[str]) -> str | None:
    """The file one simple command runs with Python (`env X=1 pipenv run python a.py`)."""
    for at, word in enumerate(words):
        if _PYTHON.fullmatch(Path(word).name):
            rest = list(words[at + 1 :])
            while rest and rest[0].startswith("-"):
                if rest[0] in ("-m", "-c", "-"):
                    return None
                del rest[: 2 if rest[0] in _TAKES_ARGUMENT else 1]
            return rest[0] if rest else None
    return words[0] if words and words[0].endswith(".py") else None


def skip_reason(
    root: Path, run_apps: bool | None, untrusted: Iterable[Path] = ()
) -> str | None:
    """Why the app at `root` must not run (None: it may).

    A cdk8s app is a program, unlike a Helm template: only the command line switches its
    running on: --run-apps, or --trusted for a tree whose `.chartfix.yaml` says `run-apps:
    true`; --no-run-apps (False) wins over the file. Under `untrusted` roots (every target
    without --trusted, and repositories cloned by `bulk --repos` always) a file's
    `run-apps` does not count: it is the repository's author speaking, not the user (a
    pull request's author, in a gate), and the line says it was ignored.
    """
    from chartfix.config import CONFIG_NAME, load_config  # here: finding apps reads none

    if run_apps is not None:
        return None if run_apps else "not run (--no-run-apps)"
    ignored = any(Path(root).resolve().is_relative_to(Path(r).resolve()) for r in untrusted)
    setting = load_config(Path(root)).run_apps
    if setting and not ignored:
        return None
    why = (
        f" (`run-apps: true` in its {CONFIG_NAME} was ignored: a repository cannot switch "
        "on running its own code; --trusted says the tree is yours, never a bulk --repos "
        "clone)" if setting else ""
    )
    return (
        "cdk8s app not run: its Python is code from the repository; run it with "
        f"--run-apps{why}"
    )
