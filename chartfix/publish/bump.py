"""The chart version bump that goes with a fix: Chart.yaml, its Artifact Hub changes, CHANGELOG.md.

A selector fix breaks `helm upgrade` of existing releases, so it deserves a major version;
a fix that changes no immutable field a minor one when running pods need a step (a Service
narrowed to a label they get when replaced), else a patch (`default_level`).
The edits are text splices at places ruamel.yaml found: every byte outside the edited lines
(comments, key order, quoting, CRLF) stays as it was.

Versions are read as Helm reads them (`chartfix.versions`: the `semver` library, plus the `v`
and short forms Helm accepts); a bump drops any pre-release and build metadata
(`1.4.0-rc.1+abc` -> patch -> `1.4.1`), keeps a leading `v` and writes `1.2` out in full.
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

from chartfix.errors import TargetError
from chartfix.model.changes import TargetChange
from chartfix.publish.markdown import Heading, ending_as, headings, split_lines
from chartfix.publish.migration.steps import upgrade_kind
from chartfix.versions import helm_version

Level = Literal["major", "minor", "patch", "none"]
LEVELS: tuple[Level, ...] = ("major", "minor", "patch", "none")
CHANGES_KEY = "artifacthub.io/changes"

_VERSION_IN_HEADING = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
"""Where in a CHANGELOG heading's line its version is written (a place in free text, which no
version parser finds; the heading itself is found by the Markdown parser)."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNRELEASED = re.compile(r"\[?unreleased\b", re.IGNORECASE)
"""A heading collecting entries for the next release (Keep a Changelog's `[Unreleased]`)."""


def bump_version(version: str, level: Level) -> str:
    """`version` raised by one `level` (`none` returns it unchanged), as `semver` bumps: the
    prerelease and build metadata go; ValueError when Helm would not read it either."""
    if level == "none" or not version:
        return version  # "": a target without a version (plain manifests, kustomize)
    if level not in LEVELS:
        raise ValueError(f"unknown bump level {level!r}; use one of {', '.join(LEVELS)}")
    try:
        prefix, parsed = helm_version(version)
    except ValueError as err:
        raise ValueError(f"chart version {err}") from None
    if level == "major":
        return prefix + str(parsed.bump_major())
    return prefix + str(parsed.bump_minor() if level == "minor" else parsed.bump_patch())


def bump_chart(
    target_root: str | Path, level: Level, change_summary: str, today: datetime.date | None = None
) -> dict[str, bytes]:
    """New bytes of Chart.yaml (and CHANGELOG.md when the chart has one), chart-relative.

    With `level="none"` the version stays and the Artifact Hub entry is appended to the
    current version's list; otherwise the list describes the new version only (Artifact Hub
    shows it as "changes in this version"), so it is replaced by the new entry.
    """
    root = Path(target_root)
    chart_file = root / "Chart.yaml"
    try:
        text = chart_file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TargetError(chart_file, f"cannot read: {err}") from err
    lines = text.splitlines(keepends=True)
    document = _load(chart_file, text)
    old_version = str(document.get("version", ""))
    try:
        new_version = bump_version(old_version, level)
    except ValueError as err:
        raise TargetError(chart_file, str(err)) from err
    if new_version != old_version:
        _set_version(chart_file, lines, document, old_version, new_version)
    _record_change(lines, document, change_summary, replace=level != "none")
    out = {"Chart.yaml": ending_as(text, "".join(lines)).encode("utf-8")}
    changelog = root / "CHANGELOG.md"
    if changelog.is_file() and not changelog.is_symlink():
        try:
            old_log = changelog.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise TargetError(changelog, f"cannot read: {err}") from err
        out["CHANGELOG.md"] = changelog_with_entry(
            old_log, new_version, change_summary, today or datetime.date.today()
        ).encode("utf-8")
    return out


def _load(path: Path, text: str) -> CommentedMap:
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as err:
        raise TargetError(path, f"invalid YAML: {err}") from err
    if not isinstance(document, CommentedMap):
        raise TargetError(path, "Chart.yaml is not a mapping")
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
        raise TargetError(path, f"cannot find version {old!r} on line {row + 1}")
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
    """CHANGELOG text with a new section for `version` on top, in the file's heading style;
    a file without a final newline still ends without one (`_changelog_with_entry`)."""
    return ending_as(text, _changelog_with_entry(text, version, summary, today))


def _changelog_with_entry(
    text: str, version: str, summary: str, today: datetime.date
) -> str:
    """CHANGELOG text with a new section for `version` on top, in the file's heading style.

    The newest existing version heading is the model: same heading level, same decoration
    (`<small>`, a date in parentheses), same bullet marker and `[chart]` prefix on entries.
    Headings are the Markdown parser's: a `## 1.0.0` in a fenced example is none, a setext
    title (`Changelog` underlined with `=`) is one. A file collecting entries under an
    Unreleased heading (Keep a Changelog) gets the entry there instead; a version heading
    that is a link reference (`## [v1.2.3]`) gets its definition when the model's can be
    carried over; a model section sorted into `### Added/Fixed` subsections gets `### Fixed`.
    """
    lines = split_lines(text)
    nl = _newline(lines)
    entry_text = " ".join(summary.split())
    found = headings(text)
    unreleased = next((h for h in found if _UNRELEASED.match(h.text)), None)
    if unreleased is not None:
        return "".join(_under_unreleased(lines, found, unreleased, entry_text, nl))
    model = next((h for h in found if _VERSION_IN_HEADING.search(lines[h.start])), None)
    if model is None:
        at = _after_title(lines, found)
        if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += nl
        lines[at:at] = [f"## {version}{nl}", nl, f"- {entry_text}{nl}", nl]
        return "".join(lines)
    heading = _new_heading(lines[model.start:model.end], version, today, nl)
    section_end = next((h.start for h in found if h.start > model.start
                        and h.level <= model.level), len(lines))
    bullet = _entry_model(lines[model.end:section_end])
    definition = _link_definition(lines, lines[model.start], version, nl)
    section = [*heading, nl, bullet.format(entry_text) + nl, nl]
    if any(model.start < h.start < section_end and h.level == model.level + 1 for h in found):
        section[len(heading) + 1:len(heading) + 1] = ["#" * (model.level + 1) + " Fixed" + nl, nl]
    if definition is not None and definition[0] > model.start:
        row, new_row = definition
        lines.insert(row, new_row)  # newest first, as Keep a Changelog lists them
    lines[model.start:model.start] = section
    return "".join(lines)


def _under_unreleased(
    lines: list[str], found: list[Heading], unreleased: Heading, entry: str, nl: str
) -> list[str]:
    """`lines` with `entry` in the Unreleased section: at the end of its `Fixed` subsection,
    in a new `Fixed` subsection when the file sorts entries into subsections, else at the end
    of the section's own entries."""
    end = next((h.start for h in found if h.start > unreleased.start
                and h.level <= unreleased.level), len(lines))
    sub_level = unreleased.level + 1
    fixed = next((h for h in found if unreleased.start < h.start < end
                  and h.level == sub_level and h.text.strip().lower() == "fixed"), None)
    if fixed is not None:
        fixed_end = next((h.start for h in found if h.start > fixed.start), end)
        bullet = _entry_model(lines[fixed.end:fixed_end])
        return _insert_after_text(lines, fixed.start, min(fixed_end, end),
                                  [bullet.format(entry) + nl], nl)
    bullet = _entry_model(lines[unreleased.end:end])
    if any(h.level == sub_level and h.start > unreleased.start for h in found):
        security = next((h.start for h in found if unreleased.start < h.start < end
                         and h.level == sub_level and h.text.strip().lower() == "security"), None)
        if security is not None:
            rows = ["#" * sub_level + " Fixed" + nl, nl, bullet.format(entry) + nl, nl]
            return lines[:security] + rows + lines[security:]
        rows = [nl, "#" * sub_level + " Fixed" + nl, nl, bullet.format(entry) + nl]
        return _insert_after_text(lines, unreleased.start, end, rows, nl)
    return _insert_after_text(lines, unreleased.start, end, [bullet.format(entry) + nl], nl)


def _insert_after_text(
    lines: list[str], start: int, end: int, rows: list[str], nl: str
) -> list[str]:
    """`lines` with `rows` after the last non-blank row of `lines[start:end]` (a heading's
    section): the blank lines that end the section stay after it."""
    last = max(row for row in range(start, end) if lines[row].strip())
    out = list(lines)
    if not out[last].endswith(("\n", "\r")):
        out[last] += nl
    if rows[0] != nl and last == start:
        rows = [nl, *rows]  # an entry under a heading is a paragraph of its own
    out[last + 1:last + 1] = rows
    if last + 1 + len(rows) < len(out) and out[last + 1 + len(rows)].strip():
        out.insert(last + 1 + len(rows), nl)
    return out


def _link_definition(
    lines: list[str], heading: str, version: str, nl: str
) -> tuple[int, str] | None:
    """Where the new version's link reference definition goes (the row of the model
    heading's own definition) and its row, when the model heading's version is a link
    reference (`## [v1.2.3]`) defined in the file by a URL it can be derived from: the model's
    version becomes the new one and the version before it becomes the model's (a compare
    URL), or the only version in it becomes the new one. None: nothing to derive."""
    label = re.search(r"\[(" + _VERSION_IN_HEADING.pattern + r")\]", heading)
    if label is None:
        return None
    old = label.group(1)
    definition = re.compile(r"^ {0,3}\[" + re.escape(old) + r"\]:[ \t]*(\S+)")
    defined = next(((i, m) for i, line in enumerate(lines) if (m := definition.match(line))),
                   None)
    if defined is None:
        return None
    row, url = defined[0], defined[1].group(1)
    old_bare = old.lstrip("v")
    new_bare = version.lstrip("v")
    versions = {m.group(0).lstrip("v") for m in _VERSION_IN_HEADING.finditer(url)}
    if old_bare not in versions or len(versions) > 2:
        return None
    previous = next((v for v in versions if v != old_bare), None)
    parts = re.split(f"({_VERSION_IN_HEADING.pattern})", url)
    swap = {old_bare: new_bare, **({previous: old_bare} if previous else {})}
    new_url = "".join(
        (part[:1] if part.startswith("v") else "") + swap[part.lstrip("v")]
        if i % 2 and part.lstrip("v") in swap else part
        for i, part in enumerate(parts)
    )
    shown = f"v{new_bare}" if old.startswith("v") else new_bare
    line = lines[row]
    new_line = line.replace(f"[{old}]", f"[{shown}]", 1).replace(url, new_url, 1)
    return row, new_line if new_line.endswith(("\n", "\r")) else new_line + nl


def _new_heading(rows: list[str], version: str, today: datetime.date, nl: str) -> list[str]:
    """The model heading's rows (a setext heading's underline too) for `version`: its version
    and its first date after it replaced, the rest as written."""
    old = rows[0].rstrip("\r\n")
    found = _VERSION_IN_HEADING.search(old)
    assert found is not None  # the model heading was chosen for holding a version
    bare = version.lstrip("v")  # the file's own `v` habit, whichever way Chart.yaml writes it
    shown = f"v{bare}" if found.group(0).startswith("v") else bare
    heading = old[: found.start()] + shown + old[found.end():]
    heading = heading[: found.start()] + _DATE.sub(
        today.isoformat(), heading[found.start():], count=1
    )
    underline = [row if row.endswith(("\n", "\r")) else row + nl for row in rows[1:]]
    return [heading + nl, *underline]


def _entry_model(section: list[str]) -> str:
    """A format string for one entry, modelled on the first entry of the newest section."""
    for line in section:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # a subsection's heading (`### Fixed`): its entries are the model
        marker = stripped[:2] if stripped[:2] in ("* ", "- ", "+ ") else ""
        rest = stripped[len(marker):]
        prefix = re.match(r"\[[^\]]+\] ", rest)
        chart_prefix = prefix.group(0) if prefix and not rest.startswith("[#") else ""
        return marker + chart_prefix.replace("{", "{{").replace("}", "}}") + "{}"
    return "- {}"


def _after_title(lines: list[str], found: list[Heading]) -> int:
    """Row after a leading title (a level-1 heading before any text) and the blank lines that
    follow it, else row 0."""
    title = found[0] if found else None
    if title is None or title.level != 1 or any(row.strip() for row in lines[: title.start]):
        return 0
    row = title.end
    while row < len(lines) and not lines[row].strip():
        row += 1
    return row


def default_level(change: TargetChange) -> Level:
    """Major when an immutable field changes (upgrades need the migration); minor when no
    immutable field changes but running pods need a step (a consumer's selector asks for a
    label they get only when replaced); else patch: a bug fix with nothing to do on upgrade
    (a test Pod, a hook Job or a CronJob got labels of their own)."""
    if change.needs_migration:
        return "major"
    return "minor" if upgrade_kind(change) == "step" else "patch"


def default_version(change: TargetChange) -> str | None:
    """The chart version after the default bump, or None when the version is not SemVer."""
    try:
        return bump_version(change.target_version, default_level(change))
    except ValueError:
        return None
