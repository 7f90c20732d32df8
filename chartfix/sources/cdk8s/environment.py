"""A cdk8s app's own Python environment: the dependencies it declares, installed into a
cached virtual environment of its own, so that it synthesizes as its owners run it.

What the app declares beside its cdk8s.yaml (the first of `Pipfile`, `requirements.txt`,
`pyproject.toml`'s `[project] dependencies`) is read as plain requirements: a name, extras,
a version specifier, a marker. An index, a direct URL, a VCS link or a local path chosen by
the repository is refused in one line: the repository would choose what code is installed.
pip installs them

- from the index the user's own pip is configured with: `pip config list`, read with the
  user's environment, passed as explicit options (`--index-url`, `--find-links`...); the
  install itself runs with the apps' scrubbed environment and no pip configuration file;
- as wheels only (`--only-binary :all:`), since building a source distribution runs its
  code; `--allow-source-builds` lifts that.

Environments live in the user's cache folder (`chartfix/app-envs/KEY`), KEY a hash of the
requirements, the Python and the wheels-only choice: apps declaring the same share one, and
the next run installs nothing. An app that declares nothing runs with chartfix's own Python.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from platformdirs import user_cache_dir

from chartfix.errors import TargetError
from chartfix.sources.cdk8s.synth import app_environment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DECLARATIONS = ("Pipfile", "requirements.txt", "pyproject.toml")
"""Where an app declares its dependencies, in the order chartfix looks."""
INSTALL_TIMEOUT = 900
_DONE = ".chartfix-installed"
_PYPI_HOSTS = ("pypi.org", "pypi.python.org")


@dataclass(frozen=True)
class Declared:
    """The requirements one file of the app declares."""

    file: str
    requirements: tuple[str, ...]
    python: str | None = None
    """The Python version it asks for (a Pipfile's `[requires] python_version`)."""


@dataclass(frozen=True)
class AppPython:
    """The interpreter an app runs with, and what to say about it."""

    python: Path
    note: str = ""
    declared: Declared | None = None


def declared(root: Path) -> Declared | None:
    """The app's declared dependencies (None: it declares none). TargetError naming the file
    when one is not a plain requirement."""
    for name in DECLARATIONS:
        path = Path(root) / name
        if not path.is_file():
            continue
        reader = {"Pipfile": _pipfile, "requirements.txt": _requirements_txt}.get(name, _pyproject)
        found = reader(path)
        if found is not None:
            python = _python_version(path) if name == "Pipfile" else None
            return Declared(name, tuple(found), python)
    return None


def _python_version(pipfile: Path) -> str | None:
    requires = _toml(pipfile).get("requires")
    version = requires.get("python_version") if isinstance(requires, dict) else None
    return str(version) if version else None


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise TargetError(path, f"cannot read: {err}") from err


_PIPFILE_KEYS = frozenset({"version", "extras", "markers"})


def _pipfile(path: Path) -> list[str]:
    """`[packages]` of a Pipfile (dev-packages are not needed to synthesize); a `[[source]]`
    other than PyPI, and an entry naming a git, path, file or index, are refused."""
    data = _toml(path)
    for source in _list(data.get("source")):
        url = str(source.get("url", "")) if isinstance(source, dict) else ""
        if not any(f"//{host}/" in url for host in _PYPI_HOSTS):
            raise TargetError(path, refused_index(f"[[source]] {url}"))
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise TargetError(path, "[packages] is not a table")
    requirements = []
    for name, spec in packages.items():
        if isinstance(spec, str):
            written = name if spec.strip() in ("", "*") else f"{name}{spec}"
        elif isinstance(spec, dict) and set(spec) <= _PIPFILE_KEYS:
            named = ",".join(map(str, spec.get("extras") or []))
            extras = f"[{named}]" if named else ""
            version = str(spec.get("version", "*")).strip()
            markers = f"; {spec['markers']}" if spec.get("markers") else ""
            written = f"{name}{extras}{'' if version in ('', '*') else version}{markers}"
        else:
            other = sorted(set(spec) - _PIPFILE_KEYS) if isinstance(spec, dict) else [spec]
            raise TargetError(path, refused_entry(name, f"{', '.join(map(str, other))}"))
        requirements.append(plain(written, path))
    return requirements


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else [] if value is None else [value]


_INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index",
                  "--trusted-host")


def _requirements_txt(path: Path) -> list[str]:
    """One requirement a line (comments, blank lines and `--hash` options left out); an
    index or links option, an editable or another file named (`-r`, `-c`) are refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TargetError(path, f"cannot read: {err}") from err
    requirements = []
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        line = re.sub(r"\s--hash[=\s]\S+", "", line).strip()
        if not line:
            continue
        if line.startswith(_INDEX_OPTIONS):
            raise TargetError(path, refused_index(line))
        if line.startswith("-"):
            raise TargetError(
                path, f"`{line}`: only plain requirements are installed for an app "
                "(no editable, no other requirements file)"
            )
        requirements.append(plain(line, path))
    return requirements


def _pyproject(path: Path) -> list[str] | None:
    """`[project] dependencies` (None when the file declares none there)."""
    project = _toml(path).get("project")
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if dependencies is None:
        return None
    if not isinstance(dependencies, list):
        raise TargetError(path, "[project] dependencies is not a list")
    return [plain(str(d), path) for d in dependencies]


def plain(written: str, where: Path) -> str:
    """`written` as a requirement pip installs by name from the user's index, or TargetError:
    a direct URL (`name @ https://...`), a VCS link or a path is the repository choosing."""
    try:
        requirement = Requirement(written)
    except InvalidRequirement as err:
        raise TargetError(
            where, f"`{written}` is no plain requirement (a name and a version): {err}"
        ) from err
    if requirement.url:
        raise TargetError(where, refused_entry(requirement.name, requirement.url))
    return str(requirement)


def refused_index(what: str) -> str:
    return (
        f"`{what}`: an index chosen by the repository; chartfix installs an app's "
        "dependencies from your pip's own index only"
    )


def refused_entry(name: str, what: str) -> str:
    return (
        f"{name}: `{what}` chosen by the repository (a URL, VCS link, path or index); "
        "chartfix installs plain requirement names only, from your pip's own index"
    )


# --- the user's pip configuration --------------------------------------------------------

_LIST_OPTIONS = {"extra-index-url": "--extra-index-url", "find-links": "--find-links",
                 "trusted-host": "--trusted-host"}
_VALUE_OPTIONS = {"index-url": "--index-url", "cert": "--cert", "client-cert": "--client-cert",
                  "timeout": "--timeout", "default-timeout": "--timeout", "proxy": "--proxy",
                  "retries": "--retries", "constraint": "--constraint"}
_SCOPES = ("global", "install", ":env:")
"""pip's own precedence: a command's section over [global], the environment over both."""
_CONFIG_LINE = re.compile(r"^(?P<scope>[^.]+)\.(?P<key>[\w-]+)='(?P<value>.*)'$")


def index_options(config_list: str) -> list[str]:
    """pip options saying what `pip config list` printed (the user's configured index,
    links, certificate, proxy, time limit): what the scrubbed install is told explicitly."""
    settings: dict[str, str] = {}
    for scope in _SCOPES:
        for line in config_list.splitlines():
            found = _CONFIG_LINE.match(line.strip())
            if found and found["scope"] == scope:
                settings[found["key"]] = found["value"]
    options: list[str] = []
    for key, value in settings.items():
        if key in _LIST_OPTIONS:
            for item in value.split():
                options += [_LIST_OPTIONS[key], item]
        elif key in _VALUE_OPTIONS and value:
            options += [_VALUE_OPTIONS[key], value]
        elif key == "no-index" and value.lower() in ("1", "true", "yes", "on"):
            options.append("--no-index")
    return options


def _user_pip_options(python: Path) -> list[str]:
    """The user's pip configuration, read by pip itself with the user's own environment
    (config files, PIP_* variables): reading it runs no code of the app."""
    listed = subprocess.run(
        [str(python), "-m", "pip", "config", "list"], capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=120, check=False,
    )
    return index_options(listed.stdout)


# --- the cached environment --------------------------------------------------------------


def app_python(root: Path, source_builds: bool = False) -> AppPython:
    """The Python the app at `root` runs with: its own cached environment holding what it
    declares (installed now when missing), or chartfix's own when it declares nothing.
    TargetError naming the declaration when it is refused or does not install."""
    wanted = declared(root)
    if wanted is None:
        return AppPython(Path(sys.executable))
    key = environment_key(wanted.requirements, source_builds)
    cache = Path(user_cache_dir("chartfix")) / "app-envs"
    place = cache / key
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with _locked(cache / f"{key}.lock"):
            if (place / _DONE).is_file():
                how = "cached"
            else:
                _install(place, wanted, Path(root) / wanted.file, source_builds)
                how = "installed now"
    except OSError as err:  # the cache folder cannot be written, the venv not made
        raise TargetError(
            Path(root) / wanted.file,
            f"cannot prepare its environment in {cache}: {err.strerror or err}",
        ) from err
    count = len(wanted.requirements)
    note = (
        f"the app ran in its own environment: {count} requirement{'s' if count != 1 else ''} "
        f"of its {wanted.file} ({how}, {place})"
    )
    running = "{}.{}".format(*sys.version_info[:2])
    if wanted.python and wanted.python != running:
        note += f"; its {wanted.file} asks for Python {wanted.python}, it ran with {running}"
    return AppPython(_python_in(place), note, wanted)


def environment_key(requirements: Sequence[str], source_builds: bool) -> str:
    """One environment per set of requirements, Python and build choice."""
    described = json.dumps({
        "requirements": sorted(requirements),
        "python": [sys.implementation.name, *sys.version_info[:3],
                   os.path.realpath(getattr(sys, "_base_executable", sys.executable))],
        "source-builds": source_builds,
    })
    return hashlib.sha256(described.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time prepares an environment (parallel workers share the cache)."""
    import fcntl  # POSIX only, as the apps' process groups are (synth.py)

    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _python_in(place: Path) -> Path:
    return place / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _install(place: Path, wanted: Declared, declaration: Path, source_builds: bool) -> None:
    shutil.rmtree(place, ignore_errors=True)  # a half-made one, from an interrupted run
    venv.EnvBuilder(with_pip=True, clear=True).create(place)
    python = _python_in(place)
    command = [
        str(python), "-m", "pip", "install", "--quiet", "--no-input",
        "--disable-pip-version-check", *_user_pip_options(python),
        *([] if source_builds else ["--only-binary", ":all:"]), *wanted.requirements,
    ]
    try:
        with tempfile.TemporaryDirectory(prefix="chartfix-install-") as home:
            scrubbed = app_environment(os.environ, Path(home))
            done = subprocess.run(
                command, env=install_environment(scrubbed, os.environ), capture_output=True,
                text=True, stdin=subprocess.DEVNULL, timeout=INSTALL_TIMEOUT, check=False,
            )
    except subprocess.TimeoutExpired as err:
        raise TargetError(
            declaration, f"installing its dependencies took over {INSTALL_TIMEOUT}s"
        ) from err
    if done.returncode != 0:
        hint = "" if source_builds else (
            " (wheels only: --allow-source-builds lets pip build source distributions)"
        )
        raise TargetError(declaration, f"its dependencies do not install: {_pip_error(done)}{hint}")
    (place / _DONE).write_text("\n".join(wanted.requirements) + "\n", encoding="utf-8")


_PROXIES = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


def install_environment(scrubbed: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The apps' scrubbed environment, with the proxy the user's pip goes through, and no
    pip configuration file (the user's settings come as options) nor PYTHONPATH (pip would
    count packages on it as installed)."""
    kept = {k: v for k, v in scrubbed.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proxies = {k: environ[k] for k in _PROXIES if k in environ}
    return {**kept, **proxies, "PIP_CONFIG_FILE": os.devnull}


def _pip_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors[0] if errors else lines[-1] if lines else f"pip exited {done.returncode}")
