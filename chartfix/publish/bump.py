"""The chart version bump that goes with a fix: Chart.yaml, its Artifact Hub changes, CHANGELOG.md.

A selector fix breaks `helm upgrade` of existing releases, so it deserves a major version;
a fix that changes no immutable field a minor one when running pods need a step (a Service
narrowed to a label they get when replaced), else a patch (see migration.default_level).
The edits are text splices at places ruamel.yaml found: every byte outside the edited lines
(comments, key order, quoting, CRLF) stays as it was.

SemVer rule used here: a bump increments the number and drops any pre-release and build
metadata (`1.4.0-rc.1+abc` -> patch -> `1.4.1`); a leading `v` is kept.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from chartfix.errors import ChartError

Level = Literal["major", "minor", "patch", "none"]
LEVELS: tuple[Level, ...] = ("major", "minor", "patch", "none")
CHANGES_KEY = "artifacthub.io/changes"

_SEMVER = re.compile(
    r"^(?P<v>v?)(?P<major>0|[1-9]\d*)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_VERSION_IN_HEADING = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEADING = re.compile(r"^(#{1,6})\s")


def bump_version(version: str, level: Level) -> str:
    """`version` raised by one `level` (SemVer; `none` returns it unchanged).

    Helm accepts `1.2` as `1.2.0`; the bumped version is written out in full.
    """
    if level == "none" or not version:
        return version  # "": a target without a version (plain manifests, kustomize)
    match = _SEMVER.match(version.strip())
    if not match:
        raise ValueError(f"chart version {version!r} is not a SemVer version")
    major, minor, patch = (int(match.group(k) or 0) for k in ("major", "minor", "patch"))
    if level == "major":
        major, minor, patch = major + 1, 0, 0
    elif level == "minor":
        minor, patch = minor + 1, 0
    elif level == "patch":
        patch += 1
    else:
        raise ValueError(f"unknown bump level {level!r}; use one of {', '.join(LEVELS)}")
    return f"{match.group('v')}{major}.{minor}.{patch}"


def bump_chart(
    chart_root: str | Path, level: Level, change_summary: str, today: datetime.date | None = None
) -> dict[str, bytes]:
    """New bytes of Chart.yaml (and CHANGELOG.md when the chart has one), chart-relative.

    With `level="none"` the version stays and the Artifact Hub entry is appended to the
    current version's list; otherwise the list describes the new version only (Artifact Hub
    shows it as "changes in this version"), so it is replaced by the new entry.
    """
    root = Path(chart_root)
    chart_file = root / "Chart.yaml"
    try:
        text = chart_file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ChartError(chart_file, f"cannot read: {err}") from err
    lines = text.splitlines(keepends=True)
    document = _load(chart_file, text)
    old_version = str(document.get("version", ""))
    try:
        new_version = bump_version(old_version, level)
    except ValueError as err:
        raise ChartError(chart_file, str(err)) from err
    if new_version != old_version:
        _set_version(chart_file, lines, document, old_version, new_version)
    _record_change(lines, document, change_summary, replace=level != "none")
    out = {"Chart.yaml": "".join(lines).encode("utf-8")}
    changelog = root / "CHANGELOG.md"
    if changelog.is_file() and not changelog.is_symlink():
        try:
            old_log = changelog.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ChartError(changelog, f"cannot read: {err}") from err
        out["CHANGELOG.md"] = changelog_with_entry(
            old_log, new_version, change_summary, today or datetime.date.today()
        ).encode("utf-8")
    return out


def _load(path: Path, text: str) -> CommentedMap:
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as err:
        raise ChartError(path, f"invalid YAML: {err}") from err
    if not isinstance(document, CommentedMap):
        raise ChartError(path, "Chart.yaml is not a mapping")
    return document


def _newline(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _set_version(
    path: Path, lines: list[str], document: CommentedMap, old: str, new: str
) -> None:
    """Replace the version text on its own line, keeping its quotes and any comment."""
    row, col = document.lc.value("version")
    line = lines[row]
    at = line.find(old, col)
    if at < 0:
        raise ChartError(path, f"cannot find version {old!r} on line {row + 1}")
    lines[row] = line[:at] + new + line[at + len(old):]


def _record_change(
    lines: list[str], document: CommentedMap, summary: str, replace: bool
) -> None:
    """Add a `kind: fixed` entry to `artifacthub.io/changes` when the chart keeps one."""
    annotations = document.get("annotations")
    if not isinstance(annotations, CommentedMap) or CHANGES_KEY not in annotations:
        return
    key_row, key_col = annotations.lc.key(CHANGES_KEY)
    first, end = _block_body(lines, key_row, key_col)
    nl = _newline(lines)
    body = lines[first:end]
    block = lines[key_row].rstrip("\r\n").rstrip().endswith(("|", "|-", "|+"))
    if not block:
        # A flow or quoted string: rewrite the value as a literal block in the usual style.
        key_text = lines[key_row][: lines[key_row].index(":", key_col) + 1]
        existing = str(annotations[CHANGES_KEY])
        indent = " " * (key_col + 2)
        old_items = [] if replace else [indent + t + nl for t in existing.splitlines() if t]
        entry = _entry_lines(old_items, indent, summary, nl)
        lines[key_row:end] = [key_text + " |" + nl, *old_items, *entry]
        return
    indent = _body_indent(body) or " " * (key_col + 2)
    kept = [] if replace else body
    trailing = _trailing_blank(kept)
    entry = _entry_lines(kept, indent, summary, nl)
    if kept and not kept[len(kept) - trailing - 1].endswith(("\n", "\r")):
        kept = [*kept[: len(kept) - trailing - 1], kept[len(kept) - trailing - 1] + nl]
    lines[first:end] = [*kept[: len(kept) - trailing], *entry, *kept[len(kept) - trailing:]]


def _block_body(lines: list[str], key_row: int, key_col: int) -> tuple[int, int]:
    """[first, end) rows of the block scalar after the key (trailing blank rows excluded)."""
    end = key_row + 1
    last_content = key_row
    while end < len(lines):
        stripped = lines[end].strip()
        if stripped and len(lines[end]) - len(lines[end].lstrip(" ")) <= key_col:
            break
        if stripped:
            last_content = end
        end += 1
    return key_row + 1, last_content + 1


def _body_indent(body: list[str]) -> str:
    for line in body:
        if line.strip():
            return line[: len(line) - len(line.lstrip(" "))]
    return ""


def _trailing_blank(body: list[str]) -> int:
    count = 0
    for line in reversed(body):
        if line.strip():
            break
        count += 1
    return count


def _entry_lines(existing: list[str], indent: str, summary: str, nl: str) -> list[str]:
    """The new list item, written like the items already there."""
    items = [line.strip() for line in existing if line.strip().startswith("- ")]
    text = " ".join(summary.split())
    if items and not items[0].startswith("- kind:"):
        return [f"{indent}- {_scalar(text, _quote_style(items[0][2:]))}{nl}"]
    described = [line.strip() for line in existing if line.strip().startswith("description:")]
    style = _quote_style(described[0][len("description:"):].strip()) if described else ""
    return [
        f"{indent}- kind: fixed{nl}",
        f"{indent}  description: {_scalar(text, style)}{nl}",
    ]


def _quote_style(value: str) -> str:
    return value[0] if value[:1] in ("'", '"') else ""


def _scalar(text: str, style: str) -> str:
    """`text` as a YAML scalar: in the given quote style, or plain when plain is safe."""
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    plain_unsafe = (
        not text
        or text[0] in "!&*-?{}[]|>'\"%@`#,:"
        or ": " in text
        or " #" in text
        or text.endswith(":")
    )
    if style == '"' or plain_unsafe:
        return json.dumps(text, ensure_ascii=False)
    return text


def changelog_with_entry(text: str, version: str, summary: str, today: datetime.date) -> str:
    """CHANGELOG text with a new section for `version` on top, in the file's heading style.

    The newest existing version heading is the model: same heading level, same decoration
    (`<small>`, a date in parentheses), same bullet marker and `[chart]` prefix on entries.
    """
    lines = text.splitlines(keepends=True)
    nl = _newline(lines)
    model = next(
        (i for i, line in enumerate(lines)
         if _HEADING.match(line) and _VERSION_IN_HEADING.search(line)),
        None,
    )
    entry_text = " ".join(summary.split())
    if model is None:
        heading = f"## {version}{nl}"
        section = [heading, nl, f"- {entry_text}{nl}", nl]
        at = _after_title(lines)
        if at == len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += nl
        lines[at:at] = section
        return "".join(lines)
    old_heading = lines[model].rstrip("\r\n")
    found = _VERSION_IN_HEADING.search(old_heading)
    assert found is not None  # the model heading was chosen for holding a version
    bare = version.lstrip("v")  # the file's own `v` habit, whichever way Chart.yaml writes it
    shown = f"v{bare}" if found.group(0).startswith("v") else bare
    heading = old_heading[: found.start()] + shown + old_heading[found.end():]
    heading = heading[: found.start()] + _DATE.sub(
        today.isoformat(), heading[found.start():], count=1
    )
    bullet = _entry_model(lines[model + 1:])
    lines[model:model] = [heading + nl, nl, bullet.format(entry_text) + nl, nl]
    return "".join(lines)


def _entry_model(section: list[str]) -> str:
    """A format string for one entry, modelled on the first entry of the newest section."""
    for line in section:
        if _HEADING.match(line):
            break
        stripped = line.strip()
        if not stripped:
            continue
        marker = stripped[:2] if stripped[:2] in ("* ", "- ", "+ ") else ""
        rest = stripped[len(marker):]
        prefix = re.match(r"\[[^\]]+\] ", rest)
        chart_prefix = prefix.group(0) if prefix and not rest.startswith("[#") else ""
        return marker + chart_prefix.replace("{", "{{").replace("}", "}}") + "{}"
    return "- {}"


def _after_title(lines: list[str]) -> int:
    """Row after a leading `# Title` line and the blank lines that follow it (else row 0)."""
    if not lines or not lines[0].startswith("# "):
        return 0
    row = 1
    while row < len(lines) and not lines[row].strip():
        row += 1
    return row
