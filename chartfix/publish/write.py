"""--write: a chart's change lands whole or not at all, as far as a file system allows.

Every new file is staged beside its target (`.NAME.chartfix.tmp`, owner and mode of the
file it replaces) before any target is touched; a journal in the chart directory
(`.chartfix-write.json`) names the staged files and says how far the write got:

    staging    temp files are being written: the next run deletes them (rolls back)
    replacing  every temp file is whole: the next run moves the rest into place (completes)

A kill at any point therefore leaves either the old chart, the new chart, or a journal that
the next `--write` on that chart finishes before it reads a byte. The journal holds each
file's sha256 before and after: recovery moves a staged file into place only while its
target still holds the recorded before (or already the after), so an edit the user made
after the kill is never overwritten; the chart is refused instead. A dry run or --branch run
never finishes a write (they change no file): the pending journal refuses the chart, saying
how to finish it, and so does `check` (it would read a half-written chart as real). Staged
files left without their journal (deleted by hand) refuse the chart, all named at once, with
the one command that removes them (`leftover_command`). Each step is fsynced, the journal is
replaced atomically,
and the chart directory is locked (flock) while a write or a recovery runs, so two runs never
interleave. Before the replace step every target must still hold the bytes the fix was
planned against: a file edited meanwhile refuses the chart, nothing written.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from chartfix.errors import TargetError
from chartfix.files import inside, linked
from chartfix.model.changes import FileChange

JOURNAL = ".chartfix-write.json"
TEMP_SUFFIX = ".chartfix.tmp"
_CHANGED = "changed since chartfix read it; nothing written (run chartfix again)"


@dataclass(frozen=True)
class _Staged:
    target: Path
    tmp: Path
    before: str
    """sha256 of the bytes the target held when the fix was planned (b"" for a new file)."""
    after: str
    """sha256 of the staged bytes."""


def write_chart(
    root: Path, files: Sequence[FileChange], read: Mapping[Path, str] | None = None
) -> None:
    """Replace the chart's files by `files[i].after`, all or none; refuse (TargetError) when a
    file no longer holds `files[i].before`, or a file the fix was planned from (`read`: its
    sha256 by path) changed."""
    root = Path(root).resolve()
    wanted = [(f, inside(root, f.path)) for f in files]
    for change in files:  # the file behind a link is shared: never written through it
        link = linked(root, change.path)
        if link is not None:
            raise TargetError(link, "is a symlink; chartfix does not write through links")
    with _locked(root):
        _recover_locked(root)
        refuse_leftovers(root)
        _check_unchanged(wanted, read or {})
        staged = [
            _Staged(target, _temp_for(target), _sha(change.before), _sha(change.after))
            for change, target in wanted
        ]
        for item in staged:
            if os.path.lexists(item.tmp):
                raise TargetError(item.tmp, "exists and is not chartfix's: remove it first")
        _write_journal(root, "staging", staged)
        try:
            for (change, _), item in zip(wanted, staged, strict=True):
                _stage(item, change.after)
            _check_unchanged(wanted, read or {})  # the last moment before any target changes
        except BaseException:
            _roll_back(root, staged)
            raise
        _write_journal(root, "replacing", staged)
        _replace_all(root, staged)


def recover(root: Path) -> str | None:
    """Finish a write that a kill interrupted; a note saying what was done, or None. A
    target edited since the kill refuses the chart (TargetError), nothing changed."""
    root = Path(root).resolve()
    if not (root / JOURNAL).exists() and not (root / (JOURNAL + ".tmp")).exists():
        return None
    with _locked(root):
        return _recover_locked(root)


def refuse_pending(root: Path, command: str) -> None:
    """For a run that must not write (dry run, --branch, check): a TargetError when an
    interrupted --write is pending, saying what would finish it, or when its staged files
    are left without a journal; nothing is changed."""
    root = Path(root).resolve()
    if not os.path.lexists(root / JOURNAL):
        refuse_leftovers(root)
        return
    state, staged = _read_journal(root)
    pending = sum(1 for item in staged if os.path.lexists(item.tmp))
    if state == "replacing":
        finish = (f"`chartfix fix {root} --write` completes it ({pending} of {len(staged)} "
                  "staged files still to move into place)")
    else:
        finish = (f"`chartfix fix {root} --write` rolls it back (deletes {pending} staged "
                  f"{TEMP_SUFFIX} files)")
    raise TargetError(
        root / JOURNAL,
        f"an interrupted --write is pending ({state}); {command} does not finish it: "
        f"{finish}, or delete the journal and its {TEMP_SUFFIX} files",
    )


def leftovers(root: Path) -> list[Path]:
    """Staged files of an interrupted --write (`.NAME.chartfix.tmp`) anywhere in the chart."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        found += [Path(directory, f) for f in sorted(files) if f.endswith(TEMP_SUFFIX)]
    return found


def leftover_command(root: Path) -> str:
    """The one command that removes every staged file of an interrupted --write whose journal
    is gone (docs/security.md): nothing else in a chart ends in .chartfix.tmp."""
    return f"find {shlex.quote(str(root))} -name '.*{TEMP_SUFFIX}' -type f -delete"


def refuse_leftovers(root: Path) -> None:
    """TargetError naming every staged file left without its journal (deleted by hand): which
    of them were whole is unknown, so none is moved into place; one command removes them."""
    found = leftovers(root)
    if not found:
        return
    names = ", ".join(p.relative_to(root).as_posix() for p in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise TargetError(
        root, f"{len(found)} staged file(s) of an interrupted --write are left without its "
        f"journal ({names}{more}): `{leftover_command(root)}` removes them all, then run "
        "chartfix again"
    )


def _recover_locked(root: Path) -> str | None:
    journal = root / JOURNAL
    leftover = root / (JOURNAL + ".tmp")
    if not journal.exists():
        if leftover.exists() and not leftover.is_symlink():
            leftover.unlink()  # killed while writing the first journal: nothing staged yet
        return None
    state, staged = _read_journal(root)
    if state == "replacing":
        _check_recoverable(staged)
        moved = _replace_all(root, staged)
        return f"completed an interrupted --write ({moved} of {len(staged)} files were pending)"
    _roll_back(root, staged)
    return "rolled back an interrupted --write (no file had been replaced)"


# --- steps ---------------------------------------------------------------------------------


def _check_unchanged(
    wanted: Sequence[tuple[FileChange, Path]], read: Mapping[Path, str]
) -> None:
    targets = {target for _, target in wanted}
    for path, digest in read.items():
        if path in targets:
            continue  # compared byte for byte below
        try:
            same = _sha(path.read_bytes()) == digest
        except OSError:
            same = False
        if not same:
            raise TargetError(path, _CHANGED)
    for change, target in wanted:
        try:
            now = target.read_bytes()
        except FileNotFoundError:
            now = b""
        except OSError as err:
            raise TargetError(target, f"cannot read: {err.strerror or err}") from err
        if now != change.before:
            raise TargetError(target, _CHANGED)


def _check_recoverable(staged: Sequence[_Staged]) -> None:
    """Before an interrupted write is completed: every staged file is whole (its recorded
    after) and its target still holds its recorded before, or already the after."""
    for item in staged:
        if not (item.tmp.is_file() and not item.tmp.is_symlink()):
            continue  # moved into place before the kill
        if _sha(item.tmp.read_bytes()) != item.after:
            raise TargetError(item.tmp, "does not hold what an interrupted --write staged; "
                             "nothing written (delete it and the journal to start over)")
        try:
            now = _sha(item.target.read_bytes())
        except FileNotFoundError:
            now = _sha(b"")
        if now not in (item.before, item.after):
            raise TargetError(
                item.target,
                f"changed since an interrupted --write staged it; nothing written (keep your "
                f"edit: delete {JOURNAL} and the {TEMP_SUFFIX} files, then run chartfix again)",
            )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _temp_for(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_SUFFIX}")


def _stage(item: _Staged, data: bytes) -> None:
    """The new bytes in a fresh temp file (never through a link) with the target's owner
    and mode, on disk before the journal says `replacing`."""
    try:
        item.target.parent.mkdir(parents=True, exist_ok=True)
        try:
            old = os.stat(item.target)
            mode, owner = old.st_mode & 0o7777, (old.st_uid, old.st_gid)
        except FileNotFoundError:
            mode, owner = 0o666 & ~_UMASK, None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(item.tmp, flags, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                os.fchown(out.fileno(), *owner)
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
    except OSError as err:
        raise TargetError(err.filename or item.target, f"cannot write: {err.strerror}") from err


def _replace_all(root: Path, staged: Sequence[_Staged]) -> int:
    """Move every staged file that is still there into place; then drop the journal."""
    moved = 0
    for item in staged:
        if item.tmp.is_file() and not item.tmp.is_symlink():
            os.replace(item.tmp, item.target)
            moved += 1
    for directory in {item.target.parent for item in staged}:
        _fsync_dir(directory)
    _drop_journal(root)
    return moved


def _roll_back(root: Path, staged: Sequence[_Staged]) -> None:
    for item in staged:
        if item.tmp.is_file() and not item.tmp.is_symlink():
            item.tmp.unlink()
    _drop_journal(root)


# --- the journal ---------------------------------------------------------------------------


def _write_journal(root: Path, state: str, staged: Sequence[_Staged]) -> None:
    entries = [
        {"target": item.target.relative_to(root).as_posix(), "before": item.before,
         "after": item.after}
        for item in staged
    ]
    data = json.dumps({"version": 2, "state": state, "files": entries}, indent=1).encode()
    tmp = root / (JOURNAL + ".tmp")
    if tmp.is_symlink():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, root / JOURNAL)
    _fsync_dir(root)


def _read_journal(root: Path) -> tuple[str, list[_Staged]]:
    path = root / JOURNAL
    try:
        if path.is_symlink():
            raise ValueError("a symlink")
        data = json.loads(path.read_text(encoding="utf-8"))
        state = data["state"]
        if state not in ("staging", "replacing"):
            raise ValueError(f"unknown state {state!r}")
        staged = []
        for entry in data["files"]:
            target = inside(root, str(entry["target"]))
            staged.append(
                _Staged(target, _temp_for(target), str(entry["before"]), str(entry["after"]))
            )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TargetError(path, f"not a chartfix write journal ({err}); remove it") from err
    return state, staged


def _drop_journal(root: Path) -> None:
    for name in (JOURNAL, JOURNAL + ".tmp"):
        with suppress(FileNotFoundError):
            os.unlink(root / name)
    _fsync_dir(root)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """An exclusive flock on the chart directory: one writer or recoverer at a time."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise TargetError(root, "another chartfix run is writing this chart") from err
        yield
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_umask() -> int:
    """The process umask, read once at import (setting it later is not thread-safe)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _read_umask()
