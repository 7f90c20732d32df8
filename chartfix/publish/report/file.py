"""The bulk report file: written as charts finish, read back by resume, merge and html.

`ReportFile` keeps `--report FILE` current (one fsynced JSON line per finished chart in
FILE.partial, FILE whole at the end); `read_report` is the one reader, checking every field
that bulk's resume, `report merge` and `report html` use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import sys
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartfix.errors import UsageError
from chartfix.publish.output import plural

REPORT_VERSION = 1


SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX"
"""Set by Kubernetes in each pod of an Indexed Job: 0..completions-1."""
SHARD_COUNT_ENV = "CHARTFIX_SHARDS"
"""Set by the Job manifest (deploy/kubernetes/): the Job's completions."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        if text == "auto":
            return cls.from_environment()
        index, sep, count = text.partition("/")
        if not sep or not index.isdigit() or not count.isdigit() or int(count) < 1:
            raise UsageError(f"--shard takes I/N (for example 0/4), not {text!r}")
        shard = cls(int(index), int(count))
        if shard.index >= shard.count:
            raise UsageError(
                f"--shard {text}: the index is 0-based (0..{shard.count - 1}), like a "
                "Kubernetes Job completion index"
            )
        return shard

    @classmethod
    def from_environment(cls) -> Shard:
        """--shard auto: the index from an Indexed Job's pod, the count from the manifest."""
        index = os.environ.get(SHARD_INDEX_ENV, "").strip()
        count = os.environ.get(SHARD_COUNT_ENV, "").strip()
        if not index:
            raise UsageError(
                f"--shard auto: {SHARD_INDEX_ENV} is not set (Kubernetes sets it in the pods "
                "of an Indexed Job); elsewhere use --shard I/N"
            )
        if not count:
            raise UsageError(
                f"--shard auto: {SHARD_COUNT_ENV} is not set: set it to the Job's completions"
            )
        if not index.isdigit() or not count.isdigit() or int(count) < 1:
            raise UsageError(
                f"--shard auto: {SHARD_INDEX_ENV}={index!r} and {SHARD_COUNT_ENV}={count!r} "
                "must be whole numbers, the count at least 1"
            )
        if int(index) >= int(count):
            raise UsageError(
                f"--shard auto: {SHARD_INDEX_ENV}={index} is not below {SHARD_COUNT_ENV}="
                f"{count}: set {SHARD_COUNT_ENV} to the Job's completions"
            )
        return cls(int(index), int(count))

    def holds(self, identity: str) -> bool:
        digest = hashlib.sha256(identity.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index


def content_hash(chart: Path) -> str:
    """Hash of what the chart's results are made from, besides the options (`options_hash`):
    its files (names and bytes; a link's target text and, when it is a file, its bytes), the
    `.chartfix.yaml` files that apply to it (up to the repository root) and the files of its
    `file://` dependencies. Has any changed since the last run?"""
    digest = hashlib.sha256()
    _hash_tree(chart, digest, seen=set())
    from chartfix.config import CONFIG_NAME, _config_dirs, load_config
    from chartfix.errors import TargetError

    for directory in _config_dirs(chart)[1:]:  # the chart's own is among its files
        config = directory / CONFIG_NAME
        digest.update(b"config\0" + str(config).encode() + b"\0" + file_bytes(config))
    with contextlib.suppress(TargetError):  # a config's values files (a bad config: the run
        values = load_config(chart).values  # says why)
        digest.update(b"values\0" + json.dumps(values, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _hash_tree(chart: Path, digest: Any, seen: set[Path]) -> None:
    """The chart's files into `digest`, then those of its `file://` dependencies."""
    seen.add(chart.resolve())
    for path in sorted(p for p in chart.rglob("*") if p.is_file() or p.is_symlink()):
        digest.update(path.relative_to(chart).as_posix().encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link\0" + os.readlink(path).encode() + b"\0")
        digest.update(file_bytes(path))
    from chartfix.sources.targets import kind_of

    for dependency in kind_of(chart).depends_on(chart):
        if dependency not in seen:
            digest.update(b"dependency\0" + str(dependency).encode() + b"\0")
            _hash_tree(dependency, digest, seen)


def file_bytes(path: Path) -> bytes:
    """A file's bytes; b"" when it is absent or not a file, b"?" when it cannot be read."""
    try:
        return path.read_bytes() if path.is_file() else b""
    except OSError:
        return b"?"


STATUSES = ("clean", "warnings", "fixed", "partial", "left", "error", "skipped")
"""warnings: only warnings no fix took on (a `spans`, a latent match), none fixed or left;
skipped: a target whose code was not run (a cdk8s app without --run-apps)."""


class ReportFile:
    """--report FILE, kept current as charts finish, so an interrupted run loses nothing.

    Each finished chart is appended as one JSON line to FILE.partial (flushed and fsynced: a
    kill can tear only the line being written, which readers skip); the end of the run, or
    Ctrl-C, writes FILE whole (a fresh temp file, never one through a link, replaced
    atomically) and removes FILE.partial. Readers take FILE plus FILE.partial, so a re-run
    resumes where a killed one stopped.

    Before any work: FILE.partial must be a file chartfix can append to (a symlink there
    would stop the run after its first chart's fix had landed, recorded nowhere), and the
    run takes an exclusive lock on FILE.lock until the report is whole, so a second run on
    the same report is refused in one line instead of overwriting the first one's entries;
    FILE.lock is removed when the lock is released (a killed run leaves it: harmless).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = partial_of(path)
        _check_appendable(self.partial)
        self._lock = _lock(path)
        self.close = weakref.finalize(self, _unlock, self._lock, _lock_path(path))
        """Release the lock and remove FILE.lock: at `finish`, or when the run drops this
        object."""
        self.previous = {c["path"]: c for c in read_report(path)["charts"]} if (
            path.exists() or self.partial.exists()
        ) else {}

    def resume(self, charts: Sequence[Path], options: str) -> tuple[list[Path], list[Path]]:
        """(charts to run, charts done), saying on stderr why done charts are run again.

        Done is clean, or fixed with the fix written or committed (a dry run's "fixed" chart
        still has its bugs on disk, so a following --write run must not skip it), by a run
        with the same options (`options_hash`) on the same inputs (`content_hash`).
        """
        finished = {
            path: c for path, c in self.previous.items()
            if c["status"] in ("clean", "warnings")
            or (c["status"] == "fixed" and c.get("applied"))
        }
        todo, done, other_options, changed = [], [], 0, 0
        for chart in charts:
            entry = finished.get(str(chart))
            if entry is None:
                todo.append(chart)
            elif entry.get("options") != options:
                other_options += 1
                todo.append(chart)
            elif entry.get("content_hash") != content_hash(chart):
                changed += 1
                todo.append(chart)
            else:
                done.append(chart)
        if other_options:
            print(
                f"{self.path}: {plural(other_options, 'chart')} done with other options "
                "(recipes, rules, values, --set, components, release, namespace, run-apps): "
                "run again",
                file=sys.stderr,
            )
        if changed:
            print(
                f"{self.path}: {plural(changed, 'chart')} changed since done (files, "
                ".chartfix.yaml or file:// dependencies): run again",
                file=sys.stderr,
            )
        return todo, done

    def add(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry) + "\n").encode("utf-8")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.partial, flags, 0o644)
        except OSError as err:
            raise UsageError(f"--report {self.partial}: {err.strerror}") from err
        try:
            os.write(fd, line)
            os.fsync(fd)
        except OSError as err:
            raise UsageError(f"--report {self.partial}: {err.strerror or err}") from err
        finally:
            os.close(fd)

    def finish(
        self,
        entries: Sequence[dict[str, Any]],
        keep: Sequence[Path] | None,
        shard: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        """The whole report: `entries`, plus the previous entries of the charts in `keep`
        (None: of every chart this run did not reach). Returns what it wrote."""
        new = {e["path"] for e in entries}
        kept_paths = {str(p) for p in keep} if keep is not None else None
        kept = [
            c for path, c in self.previous.items()
            if path not in new and (kept_paths is None or path in kept_paths)
        ]
        document = report_document([*kept, *entries], shard, dry_run)
        write_json(self.path, document)
        self.partial.unlink(missing_ok=True)
        self.close()
        return document


def _check_appendable(partial: Path) -> None:
    """A usage error when FILE.partial is there but not a regular file chartfix may append
    to: a symlink (never written through), a folder, a file it cannot write."""
    try:
        st = os.lstat(partial)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(f"--report {partial}: is a symlink; chartfix writes no report "
                         "through one: remove it")
    if not stat.S_ISREG(st.st_mode) or not os.access(partial, os.W_OK):
        raise UsageError(f"--report {partial}: not a file chartfix can append to: remove it")


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _lock(path: Path) -> int:
    """An exclusive lock on FILE.lock (its descriptor); a usage error when another run
    holds it. The run that holds it removes FILE.lock before releasing it (`_unlock`), so a
    run that opened the file just before may lock a removed one: it checks that the lock it
    got is on the file the path names now, and else tries again on the new one."""
    lock = _lock_path(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        try:
            fd = os.open(lock, flags, 0o644)
        except OSError as err:
            raise UsageError(f"--report {lock}: {err.strerror}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(
                f"--report {path}: another chartfix run is using this report (it holds "
                f"{lock}); wait for it to end, or give this run a report of its own"
            ) from None
        if _names(lock, fd):
            return fd
        os.close(fd)  # the run before removed it after we opened it: lock the new one


def _names(lock: Path, fd: int) -> bool:
    """Whether the path `lock` still names the file open as `fd`."""
    try:
        now = os.stat(lock, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _unlock(fd: int, lock: Path) -> None:
    """Remove FILE.lock while still holding it (only the file this run locked: no other run
    can have replaced it meanwhile), then release it."""
    try:
        if _names(lock, fd):
            lock.unlink()
    finally:
        os.close(fd)


def report_document(
    charts: Sequence[dict[str, Any]], shard: str | None, dry_run: bool
) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION, "shard": shard, "dry_run": dry_run,
        "charts": sorted(charts, key=lambda c: c["path"]),
    }


def partial_of(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def write_json(path: Path, data: dict[str, Any]) -> None:
    replace_text(path, json.dumps(data, indent=2) + "\n")


def replace_text(path: Path, text: str) -> None:
    """Replace `path` atomically; the temp file is new (O_EXCL), so a link planted under a
    predictable name is never followed. A failure (permission, full disk) is a UsageError
    naming the file and the reason."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise UsageError(f"{path}: cannot write: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise UsageError(f"{path}: cannot write: {err.strerror or err}") from err
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_report(path: Path) -> dict[str, Any]:
    """A report and, when a run was interrupted, the lines of its FILE.partial; a file of
    another shape is a usage error naming what is wrong. The one reader of reports: bulk's
    resume, `report merge` and `report html` take only what it let through."""
    data: dict[str, Any] = {"version": REPORT_VERSION, "shard": None, "charts": []}
    if path.exists() or not partial_of(path).exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UsageError(f"{path}: not a chartfix report: {err}") from err
        except RecursionError as err:
            raise UsageError(f"{path}: not a chartfix report: nested too deeply") from err
        if not isinstance(data, dict) or data.get("version") != REPORT_VERSION:
            raise UsageError(f"{path}: not a chartfix report of version {REPORT_VERSION}")
    problem = _document_problem(data)
    if problem:
        raise UsageError(f"{path}: not a chartfix report: {problem}")
    by_path = {c["path"]: c for c in data["charts"]}
    for line in _partial_lines(partial_of(path)):
        by_path[line["path"]] = line
    data["charts"] = sorted(by_path.values(), key=lambda c: c["path"])
    return data


def _document_problem(data: dict[str, Any]) -> str | None:
    shard = data.get("shard")
    if shard is not None:
        if not isinstance(shard, str) or shard == "auto":
            return f"`shard` {shard!r} is not I/N"
        try:
            Shard.parse(shard)
        except UsageError as err:
            return f"`shard` {shard!r}: {err}"
    if not isinstance(data.get("dry_run"), bool | None):
        return "`dry_run` is not true, false or null"
    charts = data.get("charts")
    if not isinstance(charts, list):
        return "`charts` is not a list"
    for i, chart in enumerate(charts):
        problem = _entry_problem(chart)
        if problem:
            return f"charts[{i}] {problem}"
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_text(value: object) -> bool:
    return isinstance(value, str | None)


_ENTRY_FIELDS: dict[str, tuple[Any, str]] = {
    "id": (lambda v: isinstance(v, str), "a string"),
    "name": (lambda v: isinstance(v, str), "a string"),
    "repository": (lambda v: isinstance(v, str), "a string"),
    "in_repository": (lambda v: isinstance(v, str), "a string"),
    "findings": (_is_count, "a count"),
    "warnings": (_is_count, "a count"),
    "lines_added": (_is_count, "a count"),
    "lines_removed": (_is_count, "a count"),
    "fixed": (_is_strings, "a list of strings"),
    "left": (_is_strings, "a list of strings"),
    "files": (_is_strings, "a list of strings"),
    "notes": (_is_strings, "a list of strings"),
    "diff": (lambda v: isinstance(v, str), "a string"),
    "error": (_is_text, "a string or null"),
    "content_hash": (_is_text, "a string or null"),
    "options": (_is_text, "a string or null"),
    "commit": (_is_text, "a string or null"),
    "branch": (_is_text, "a string or null"),
    "pull_request": (_is_text, "a string or null"),
    "publish": (_is_text, "a string or null"),
    "migration": (_is_text, "a string or null"),
    "not_run": (_is_text, "a string or null"),
    "recipe": (_is_text, "a string or null"),
    "applied": (lambda v: isinstance(v, bool), "true or false"),
    "unsafe": (lambda v: isinstance(v, bool), "true or false"),
    "needs_migration": (lambda v: isinstance(v, bool), "true or false"),
    "features": (
        lambda v: isinstance(v, dict) and all(isinstance(n, int) for n in v.values()),
        "an object of counts",
    ),
    "upgrade": (lambda v: v in (None, "safe", "step", "unsafe"), "safe, step, unsafe or null"),
    "synthesized": (lambda v: isinstance(v, dict), "an object"),
    "unrendered": (lambda v: isinstance(v, dict), "an object"),
}
"""The fields of a chart entry readers use (each may be absent, in older reports), with
the test of its shape and what the test wants."""

_DETAIL_TEXT = ("state", "rule", "severity", "message", "reason", "remediation")


def _entry_problem(chart: object) -> str | None:
    if not isinstance(chart, dict):
        return "is not an object"
    for key in ("path", "status"):
        if not isinstance(chart.get(key), str):
            return f"has no {key!r} string"
    if chart["status"] not in STATUSES:
        return f"has an unknown status {chart['status']!r}"
    for key, (valid, wanted) in _ENTRY_FIELDS.items():
        if key in chart and not valid(chart[key]):
            return f"`{key}` is not {wanted}"
    details = chart.get("finding_details")
    if details is not None:
        if not isinstance(details, list):
            return "`finding_details` is not a list"
        for i, detail in enumerate(details):
            problem = _detail_problem(detail)
            if problem:
                return f"finding_details[{i}] {problem}"
    return None


def _detail_problem(detail: object) -> str | None:
    if not isinstance(detail, dict):
        return "is not an object"
    for key in _DETAIL_TEXT:
        if not _is_text(detail.get(key)):
            return f"`{key}` is not a string or null"
    if detail.get("state") not in (None, "fixed", "left", "warning"):
        return f"has an unknown state {detail['state']!r}"
    if not isinstance(detail.get("object"), dict | str | None):
        return "`object` is not an object or a string"
    location = detail.get("location")
    if location is not None:
        if not isinstance(location, dict) or not _is_text(location.get("path")):
            return "`location` is not an object with a `path` string"
        line = location.get("line")
        if line is not None and not _is_count(line):
            return "`location.line` is not a line number"
    return None


def _partial_lines(path: Path) -> list[dict[str, Any]]:
    """Entries of FILE.partial; a line torn by a kill (the last one) is skipped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise UsageError(f"{path}: {err.strerror}") from err
    entries = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if _entry_problem(entry) is None:
            entries.append(entry)
    return entries
