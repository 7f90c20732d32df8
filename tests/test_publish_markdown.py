"""The upgrade note and the changelog entry go where the Markdown parser finds their heading.

Each case is a file a regex over lines read wrongly: a heading inside a fenced code block, a
setext heading (underlined), an indented one. Before and after are literal texts, compared
byte for byte: everything outside the inserted text stays.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from chartfix.publish.bump import changelog_with_entry
from chartfix.publish.markdown import headings, split_lines
from chartfix.publish.migration.placement import note_files

NOTE = "## Upgrading to 2.0.0\n\nRun first:\n\n```sh\nkubectl get pods\n```\n"
INSERTED = "### To 2.0.0\n\nRun first:\n\n```sh\nkubectl get pods\n```\n\n"
TODAY = datetime.date(2026, 3, 1)


def readme_with_note(folder: Path, readme: bytes) -> bytes:
    (folder / "README.md").write_bytes(readme)
    return note_files(folder, NOTE, "readme", "2.0.0")["README.md"]


FENCED = """# shop

Write your own notes like this:

```markdown
## Upgrading

### To 1.0.0
```

## Upgrading

### To 1.0.0

Nothing to do.
"""


def test_an_upgrading_heading_in_a_code_block_is_not_the_section(tmp_path: Path) -> None:
    out = readme_with_note(tmp_path, FENCED.encode())
    assert out.decode() == FENCED.replace(
        "## Upgrading\n\n### To 1.0.0\n\nNothing", "## Upgrading\n\n" + INSERTED
        + "### To 1.0.0\n\nNothing"
    )


SETEXT = "shop\n====\n\nUpgrading\n---------\n\nTo 1.0.0: nothing to do.\n\nLicense\n-------\n"


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_a_setext_upgrading_heading_gets_the_note(tmp_path: Path, nl: str) -> None:
    before = SETEXT.replace("\n", nl)
    out = readme_with_note(tmp_path, before.encode())
    assert out == before.replace(
        f"---------{nl}{nl}", f"---------{nl}{nl}" + INSERTED.replace("\n", nl), 1
    ).encode()


def test_an_indented_atx_heading_is_a_heading(tmp_path: Path) -> None:
    before = "# shop\n\n  ## Upgrading\n\nNothing yet.\n"
    out = readme_with_note(tmp_path, before.encode())
    assert out.decode() == "# shop\n\n  ## Upgrading\n\n" + INSERTED + "Nothing yet.\n"


def test_rows_are_the_parsers_with_form_feeds_and_line_separators(tmp_path: Path) -> None:
    """`str.splitlines` cuts at a form feed and U+2028, the parser does not: rows must agree,
    or the note lands a row off."""
    before = "# shop\n\nPage\x0cbreak and a\u2028separator.\n\n## Upgrading\n\nOld.\n"
    out = readme_with_note(tmp_path, before.encode())
    assert out.decode() == before.replace("## Upgrading\n\n", "## Upgrading\n\n" + INSERTED)


def test_headings_and_rows() -> None:
    text = "Title\r\n=====\r\n\r\n```\r\n# not one\r\n```\r\n> ## quoted\r\n### Three ###\r\n"
    assert [(h.level, h.text, h.start, h.end) for h in headings(text)] == [
        (1, "Title", 0, 2), (3, "Three", 7, 8),
    ]
    assert "".join(split_lines(text)) == text
    assert len(split_lines(text)) == 8


CHANGELOG_FENCED = """# Changelog

Entries look like this:

```markdown
## 1.0.0

* what changed
```

## 0.3.0

- Older fix
"""


def test_a_changelog_example_in_a_code_block_is_not_the_newest_section() -> None:
    out = changelog_with_entry(CHANGELOG_FENCED, "1.0.0", "Own labels", TODAY)
    assert out == CHANGELOG_FENCED.replace(
        "```\n\n## 0.3.0", "```\n\n## 1.0.0\n\n- Own labels\n\n## 0.3.0"
    )


def test_setext_changelog_headings_are_the_model() -> None:
    text = "Changelog\n=========\n\n0.3.0\n-----\n\n* Older fix\n"
    out = changelog_with_entry(text, "1.0.0", "Own labels", TODAY)
    assert out == (
        "Changelog\n=========\n\n1.0.0\n-----\n\n* Own labels\n\n0.3.0\n-----\n\n* Older fix\n"
    )


def test_a_setext_title_stays_on_top() -> None:
    text = "Changes\r\n=======\r\n\r\nNothing yet.\r\n"
    out = changelog_with_entry(text, "v2.0.0", "Fix", TODAY)
    assert out == "Changes\r\n=======\r\n\r\n## v2.0.0\r\n\r\n- Fix\r\n\r\nNothing yet.\r\n"
