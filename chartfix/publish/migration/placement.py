"""Where the migration note goes: README.md (or the README.md.gotmpl helm-docs renders it
from), under its Upgrading heading, or MIGRATION.md. Headings are the Markdown parser's
(`publish.markdown`); the note is spliced in by line and every other byte stays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from chartfix.publish.markdown import ending_as, headings, split_lines

NoteTarget = Literal["auto", "migration", "readme"]


MIGRATION_FILE = "MIGRATION.md"


README_FILE = "README.md"


HELM_DOCS_TEMPLATE = "README.md.gotmpl"


def note_files(
    target_root: str | Path, note: str, target: NoteTarget, version: str
) -> dict[str, bytes]:
    """Where the note goes, as {chart-relative path: new bytes}.

    `readme` (or `auto` when the chart has a README.md): under the README's "Upgrading"
    heading, newest first, or in a new "## Upgrading" section at its end. `migration` (or a
    chart without README): on top of MIGRATION.md under a top-level heading of its own,
    newest first; the file is created when missing.
    """
    root = Path(target_root)
    path = note_path(root, target)
    if path == HELM_DOCS_TEMPLATE:  # a Go template: `{{` must come out as text
        note = note.replace("{{", '{{ "{{" }}')
    if path != MIGRATION_FILE:
        return {path: _into_readme((root / path).read_bytes(), note, version)}
    migration = root / MIGRATION_FILE
    old = migration.read_bytes() if migration.is_file() and not migration.is_symlink() else b""
    return {MIGRATION_FILE: _into_migration(old, note)}


def note_path(target_root: str | Path, target: NoteTarget) -> str:
    """The chart-relative file the note goes to: for `readme`, and for `auto` when the chart
    has one, the README; MIGRATION.md otherwise. A README that helm-docs generates from
    README.md.gotmpl gets the note in the template: the next helm-docs run would drop it
    from the generated file."""
    for name in (HELM_DOCS_TEMPLATE, README_FILE):
        candidate = Path(target_root) / name
        if target != "migration" and candidate.is_file() and not candidate.is_symlink():
            return name
    return MIGRATION_FILE


def _into_readme(raw: bytes, note: str, version: str) -> bytes:
    """The README with the note under its "Upgrading" heading (the first top-level heading
    whose words start so, as the Markdown parser reads headings), newest first, or in a new
    "## Upgrading" section at its end; every other byte as it was (a BOM, CRLF, a missing
    final newline)."""
    text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    text = text.removeprefix("\ufeff")
    nl = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    lines = split_lines(text)
    heading = next((h for h in headings(text) if h.text.lower().startswith("upgrad")), None)
    if heading is None:
        section = _retitle(note, 3, _readme_title(note, version))
        body = f"## Upgrading{nl}{nl}" + _with_newlines(section, nl)
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += nl
        sep = nl if lines and lines[-1].strip() else ""
        return (bom + ending_as(text, "".join(lines) + sep + body)).encode("utf-8")
    at = heading.end
    while at < len(lines) and not lines[at].strip():
        at += 1
    block = _with_newlines(_retitle(note, heading.level + 1, _readme_title(note, version)), nl)
    block += nl
    if at == len(lines):
        block = nl + block
    lines[at:at] = [block] if at > heading.end else [nl + block]
    return (bom + ending_as(text, "".join(lines))).encode("utf-8")


def _readme_title(note: str, version: str) -> str | None:
    """"To VERSION" under the README's Upgrading heading, for a note upgrading to that
    version; another note (the version unchanged) keeps its own title."""
    return f"To {version}" if note.split("\n", 1)[0].endswith(f" Upgrading to {version}") else None


def _into_migration(old: bytes, note: str) -> bytes:
    """The note on top of MIGRATION.md as a section of its own (a top-level heading, newest
    first), never under the file's old title, where it would read as part of what follows."""
    bom = b"\xef\xbb\xbf" if old.startswith(b"\xef\xbb\xbf") else b""
    text = old[len(bom):].decode("utf-8")
    nl = "\r\n" if "\r\n" in text else "\n"
    section = _with_newlines(_retitle(note, 1), nl)
    if not text.strip():
        return bom + section.encode("utf-8")
    return bom + (section + nl + text).encode("utf-8")


def _retitle(note: str, level: int, title: str | None = None) -> str:
    """The note with its headings moved to start at `level` and its first heading renamed
    (when `title` is given). The note is chartfix's own: ATX headings, the first on top."""
    lines = split_lines(note)
    found = headings(note)
    shift = level - found[0].level if found else 0
    for heading in found:
        line = lines[heading.start]
        hashes = len(line) - len(line.lstrip("#"))
        lines[heading.start] = "#" * max(1, min(6, heading.level + shift)) + line[hashes:]
    if title is not None and lines:
        ending = lines[0][len(lines[0].rstrip("\r\n")):]
        lines[0] = "#" * level + " " + title + ending
    return "".join(lines)


def _with_newlines(text: str, nl: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", nl)
