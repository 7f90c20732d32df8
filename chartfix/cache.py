"""A cache of what rendering and analysing a target gave, keyed by everything it depends on.

Most runs (a pre-commit hook, a pull request's check, a nightly bulk run) see targets that did
not change since the last run: their renders and analyses are read back instead of redone.

A key is the sha256 of a canonical description of the inputs (`key`): the target's files
(`folder_digest`: every file under its root, bytes and names), the values files, the
settings and flags, the `.chartfix.yaml` files that apply, the chartfix code (its version and
its source files' bytes) and the Helm engine's version. What a render read outside the
target's folder (a sibling chart staged as a dependency) is only known after rendering: an
entry keeps those files' digests (`read`), and a hit whose files changed is a miss.

Entries live under `$CHARTFIX_CACHE_DIR`, else `$XDG_CACHE_HOME/chartfix`, else
`~/.cache/chartfix` (`--cache-dir`); `CHARTFIX_NO_CACHE=1` (`--no-cache`) turns it off. An
entry is a header (format and the payload's sha256) and a pickle read back by an unpickler
that knows only chartfix's data classes (`ALLOWED`): one whose header, checksum, key or
classes do not match, or that is not the user's own file, is ignored, counted as corrupt,
and rewritten by the run. A folder that is not the user's, or that group or others can
write, is not used (one warning line). Entries are written to a temporary file renamed into
place, so concurrent runs share a folder safely (the last writer of equal content wins).
The checksum is no signature: a process running as the user can still forge a verdict
(docs/security.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
import json
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import chartfix
from chartfix.files import repository_root
from chartfix.terminal import shown

FORMAT = b"chartfix-cache 1\n"
"""First line of every entry; a new layout gets a new number (older entries then miss)."""


@dataclass
class Stats:
    """What the cache did in this process: the counters tests assert on."""

    hits: int = 0
    misses: int = 0
    corrupt: int = 0
    """Entries ignored because their header, checksum or key did not match."""
    stale: int = 0
    """Entries whose outside files (`read`) changed since they were written."""
    writes: int = 0


stats = Stats()


def directory() -> Path | None:
    """The cache folder, or None when the cache is off."""
    if os.environ.get("CHARTFIX_NO_CACHE", "") not in ("", "0"):
        return None
    chosen = os.environ.get("CHARTFIX_CACHE_DIR")
    if chosen:
        folder = Path(chosen)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        folder = (Path(xdg) if xdg else Path.home() / ".cache") / "chartfix"
    return folder if _trusted(str(folder)) else None


@lru_cache(maxsize=16)
def _trusted(folder: str) -> bool:
    """The folder may hold entries: absent (the run creates it, the user's), or the user's
    own and writable by nobody else. Otherwise one warning line, and the run goes on without
    the cache: another user could plant entries there."""
    try:
        problem = _foreign(os.stat(folder))
    except OSError:
        return True
    if problem:
        print(f"warning: cache folder {shown(folder)} is {problem}: running without the cache",
              file=sys.stderr)
    return not problem


def _foreign(info: os.stat_result) -> str:
    """What makes a file or folder another user's to write ("" when nothing does)."""
    if not hasattr(os, "getuid"):  # Windows: no owner and mode bits to go by
        return ""
    if info.st_uid != os.getuid():
        return "not owned by you"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "writable by group or others"
    return ""


@lru_cache(maxsize=1)
def chartfix_version() -> str:
    """chartfix's version and a digest of its code: a changed module changes every key."""
    return f"{chartfix.__version__}+{folder_digest(Path(chartfix.__file__).parent)}"


ENGINE = "helm-python-sdk"
"""The distribution that bundles Helm's engine (helm_python)."""


@lru_cache(maxsize=1)
def engine_version() -> str:
    """The Helm engine's version (helm-python-sdk, which bundles Helm's library): the name of
    its installed metadata folder beside the package, found without importing either (the
    package loads Go; importlib.metadata scans every distribution: a tenth of a warm run);
    else what importlib.metadata says."""
    spec = importlib.util.find_spec("helm_python")
    if spec is not None and spec.origin is not None:
        site = Path(spec.origin).parent.parent
        prefix = ENGINE.replace("-", "_") + "-"
        found = [p.name for p in site.glob(f"{prefix}*.dist-info")]
        if len(found) == 1:
            return found[0].removeprefix(prefix).removesuffix(".dist-info")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(ENGINE)
    except PackageNotFoundError:
        return "unknown"


def folder_digest(root: Path) -> str:
    """sha256 over every file under `root` (names and bytes), `.git` and `__pycache__` left
    out. A symlink that stays inside the repository counts by what it resolves to (the
    renderer reads through it: a linked values.yaml's bytes, a linked folder's files); one
    that leaves it counts by its target string (the render refuses it). Unreadable files
    count by name only: the render says what is wrong with them."""
    digest = hashlib.sha256()
    _digest_folder(digest, str(root), "", str(repository_root(root)), frozenset())
    return digest.hexdigest()


def _digest_folder(
    digest: Any, folder: str, prefix: str, bound: str, ancestors: frozenset[str]
) -> None:
    """Feed `folder`'s entries, by name under `prefix`, into `digest`; `ancestors` (real
    paths of the folders above) stop a symlink loop."""
    real = os.path.realpath(folder)
    if real in ancestors:
        digest.update(b"loop\0")
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        digest.update(b"unreadable\0")
        return
    for entry in entries:
        if entry.name in (".git", "__pycache__"):
            continue
        rel = prefix + entry.name
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        if entry.is_symlink() and not _inside(os.path.realpath(entry.path), bound):
            digest.update(b"link:" + os.fsencode(os.readlink(entry.path)) + b"\0")
        elif entry.is_dir():
            digest.update(b"folder\0")
            _digest_folder(digest, entry.path, rel + "/", bound, ancestors | {real})
        else:
            digest.update(_file_token(entry.path) + b"\0")


def _inside(path: str, bound: str) -> bool:
    return path == bound or path.startswith(os.path.join(bound, ""))


def _file_token(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).digest()
    except OSError:
        return b"unreadable"


FOLDER = "folder:"
"""How an entry's `read` marks a folder read whole (`folder_token`), not one file."""


def folder_token(folder: Path) -> str:
    """A folder read whole as an entry's `read` keeps it: any file added, removed or changed
    under it makes the entry stale."""
    return FOLDER + folder_digest(folder)


CHARTS = "charts:"
"""How an entry's `read` marks a repository searched for a chart by name (`charts_token`)."""


def charts_token(repository: Path) -> str:
    """The Chart.yaml files of a repository searched for a dependency not found offline, by
    path and bytes: a chart added anywhere in it (where chartfix's note says to keep one)
    makes the entry stale."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(repository):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__"))
        if "Chart.yaml" in files:
            path = os.path.join(folder, "Chart.yaml")
            rel = os.path.relpath(path, repository)
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0" + _file_token(path))
    return CHARTS + digest.hexdigest()


def _current(path: Path, recorded: str) -> str:
    """What `recorded` (a file's sha256, a `folder_token`, a `charts_token`, "" for absent)
    is now."""
    if recorded.startswith(CHARTS):
        return charts_token(path)
    return folder_token(path) if recorded.startswith(FOLDER) else file_digest(path)


def file_digest(path: Path) -> str:
    """A file's sha256 as `Renderings.read` keeps it; "" when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def key(kind: str, root: Path, files: Iterable[Path], *parts: Any) -> str:
    """The key of `kind` of work (`check`, `render`...) on the target at `root`: its folder,
    the bytes of `files` (values files, `.chartfix.yaml`s: absent ones count as absent),
    `parts` (settings, flags: dataclasses, sets and paths in a canonical form), and the
    chartfix and engine versions."""
    described = {
        "kind": kind,
        "root": str(root),
        "folder": folder_digest(root),
        "files": {str(p): file_digest(p) if p.is_file() else None for p in files},
        "parts": _canonical(parts),
        "chartfix": chartfix_version(),
        "engine": engine_version(),
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    """`value` as JSON-able data whose text does not depend on hashing order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"@": type(value).__name__, **_canonical(fields)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, default=str))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _entry_path(folder: Path, kind: str, name: str) -> Path:
    return folder / kind / name[:2] / f"{name}.pickle"


def get(kind: str, name: str, root: Path) -> Any | None:
    """The value stored under `name`, or None: no cache, no entry, a corrupt or foreign one,
    or one whose files outside `root` changed since it was written."""
    folder = directory()
    if folder is None:
        return None
    try:
        with open(_entry_path(folder, kind, name), "rb") as handle:
            mine = not _foreign(os.fstat(handle.fileno()))
            data = handle.read()
    except OSError:
        stats.misses += 1
        return None
    entry = _decoded(data, name) if mine else None
    if entry is None:
        stats.corrupt += 1
        stats.misses += 1
        return None
    value, read = entry
    inside = os.path.join(str(root), "")  # the folder's own files are in the key already
    outside = {path: sha for path, sha in read.items() if not str(path).startswith(inside)}
    if any(_current(path, sha) != sha for path, sha in outside.items()):
        stats.stale += 1
        stats.misses += 1
        return None
    stats.hits += 1
    return value


ALLOWED: dict[str, frozenset[str]] = {
    "chartfix.commands.checking": frozenset({"ScenarioResult", "ScenarioTask"}),
    "chartfix.errors": frozenset({"TargetError"}),
    "chartfix.model.findings": frozenset({"Analysis", "Finding", "Location"}),
    "chartfix.model.objects": frozenset(
        {"FileDocument", "K8sObject", "LazyBody", "ObjectRef", "Origin", "Rendering"}
    ),
    "chartfix.model.releases": frozenset({"ReleaseDiff"}),
    "chartfix.pipeline": frozenset({"NothingRendered"}),
    "chartfix.rules.policy": frozenset({"Policy"}),
    "chartfix.sources.base": frozenset({"RenderSettings", "Renderings"}),
    "chartfix.sources.helm.chart": frozenset({"Chart", "Dependency", "Scenario"}),
    "chartfix.sources.helm.render": frozenset({"_parse_one"}),
    "chartfix.sources.helm.synthesis": frozenset({"Rendered"}),
    "functools": frozenset({"partial"}),
    "pathlib": frozenset({"PosixPath", "WindowsPath"}),
}
"""The only classes an entry may name: the data classes the cached values are made of (and
the errors they carry), and paths. Lists, dicts, sets, tuples, strings and numbers need no
class. One function: a LazyBody not parsed yet keeps its parser, `partial(_parse_one,
chart, file)` (safe YAML). Anything else (`os.system`, a class whose construction does
something) makes the entry corrupt: pickles are code, and this is what keeps a planted
entry from running."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name not in ALLOWED.get(module, ()):
            raise pickle.UnpicklingError(f"{module}.{name} is not a cached class")
        return super().find_class(module, name)


def _decoded(data: bytes, name: str) -> tuple[Any, dict[Path, str]] | None:
    """(value, read) from an entry's bytes, or None when anything about it is wrong."""
    header, _, rest = data.partition(b"\n")
    checksum, _, payload = rest.partition(b"\n")
    if header + b"\n" != FORMAT or hashlib.sha256(payload).hexdigest().encode() != checksum:
        return None
    try:
        stored, value, read = _Unpickler(io.BytesIO(payload)).load()
    except Exception:
        return None
    if stored != name or not isinstance(read, dict):
        return None
    return value, read


def _private_folder(folder: Path) -> None:
    """Make `folder` and its missing parents the user's alone (0700 whatever the umask:
    `_trusted` refuses a folder group or others can write). One stat when it exists."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)


def put(kind: str, name: str, value: Any, read: Mapping[Path, str] | None = None) -> None:
    """Store `value` under `name`, with `read` (path -> sha256 of the files rendering read):
    a temporary file renamed into place. A cache that cannot be written is no error."""
    folder = directory()
    if folder is None:
        return
    payload = pickle.dumps((name, value, dict(read or {})), protocol=pickle.HIGHEST_PROTOCOL)
    data = FORMAT + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    path = _entry_path(folder, kind, name)
    try:
        _private_folder(path.parent)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return
    stats.writes += 1
