"""Version bumps: SemVer arithmetic and byte-exact edits of Chart.yaml and CHANGELOG.md."""

from __future__ import annotations

import datetime
import difflib
from pathlib import Path

import pytest
import yaml

from chartfix.errors import TargetError
from chartfix.model.changes import TargetChange
from chartfix.publish.bump import bump_chart, bump_version, changelog_with_entry, default_level

TODAY = datetime.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("version", "level", "expected"),
    [
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        ("1.2.3", "none", "1.2.3"),
        ("v0.9.1", "minor", "v0.10.0"),
        ("1.4.0-rc.1+build.7", "patch", "1.4.1"),
        ("2.0.0+meta", "major", "3.0.0"),
        ("1.2", "patch", "1.2.1"),
        ("0.1.0-alpha", "none", "0.1.0-alpha"),
        ("1", "minor", "1.1.0"),
        ("2024.01.5", "patch", "2024.1.6"),  # Helm coerces leading zeros of the numbers
        ("v01.2.3", "major", "v2.0.0"),
    ],
)
def test_bump_version(version: str, level: str, expected: str) -> None:
    assert bump_version(version, level) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "version",
    ["latest", "1.2.3.4", "1.2.3-rc..1", "1.2.3-01", "1.2.3-", "1.2.3+", "V1.2.3", "1.x"],
)
def test_bump_version_refuses_what_helm_does_not_read_as_a_version(version: str) -> None:
    """What Masterminds/semver's NewVersion (Helm's parser) refuses: an empty or
    leading-zero prerelease identifier among them, which SemVer 2 forbids too."""
    with pytest.raises(ValueError, match="not a SemVer"):
        bump_version(version, "minor")


def test_default_level_is_major_only_for_unsafe_changes() -> None:
    change = TargetChange(Path("."), "c", "1.0.0")
    assert default_level(change) == "patch", "nothing to do on upgrade: a bug fix"
    change.unsafe = True
    assert default_level(change) == "major"


def write_chart(tmp_path: Path, chart_yaml: bytes, changelog: bytes | None = None) -> Path:
    (tmp_path / "Chart.yaml").write_bytes(chart_yaml)
    if changelog is not None:
        (tmp_path / "CHANGELOG.md").write_bytes(changelog)
    return tmp_path


def changed_lines(before: bytes, after: bytes) -> list[str]:
    """The lines a reviewer sees in the diff, without the context."""
    diff = difflib.unified_diff(
        before.decode().splitlines(keepends=True), after.decode().splitlines(keepends=True), n=0
    )
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


PLAIN = b"""\
# The shop chart.
apiVersion: v2
name: shop   # the name
description: "A shop"
version: "1.4.2" # bumped by CI
appVersion: 2.0.0
dependencies:
  - name: common
    version: 1.x.x
"""


def test_only_the_version_line_changes_with_quotes_and_comment_kept(tmp_path: Path) -> None:
    out = bump_chart(write_chart(tmp_path, PLAIN), "major", "Give each workload its own labels")
    assert set(out) == {"Chart.yaml"}
    assert changed_lines(PLAIN, out["Chart.yaml"]) == [
        '-version: "1.4.2" # bumped by CI\n',
        '+version: "2.0.0" # bumped by CI\n',
    ]


def test_crlf_file_keeps_crlf_everywhere(tmp_path: Path) -> None:
    crlf = PLAIN.replace(b"\n", b"\r\n")
    out = bump_chart(write_chart(tmp_path, crlf), "minor", "fix")["Chart.yaml"]
    assert out == crlf.replace(b'"1.4.2"', b'"1.5.0"')


def test_file_without_final_newline(tmp_path: Path) -> None:
    text = b"apiVersion: v2\nname: x\nversion: 0.1.0"
    out = bump_chart(write_chart(tmp_path, text), "patch", "fix")["Chart.yaml"]
    assert out == b"apiVersion: v2\nname: x\nversion: 0.1.1"


def test_bump_none_leaves_a_chart_without_changes_annotation_identical(tmp_path: Path) -> None:
    out = bump_chart(write_chart(tmp_path, PLAIN), "none", "fix")["Chart.yaml"]
    assert out == PLAIN


ARTIFACTHUB = b"""\
apiVersion: v2
name: shop
version: 3.8.0
annotations:
  "artifacthub.io/license": Apache-2.0
  "artifacthub.io/changes": |
    - kind: added
      description: "Allow configuring the emptyDir volume"
    - kind: changed
      description: "Bump app to 1.2"
  "artifacthub.io/links": |
    - name: Chart Source
      url: https://example.org/charts
# trailing comment
"""


def changes_of(chart_yaml: bytes) -> list[dict[str, str]]:
    doc = yaml.safe_load(chart_yaml)
    parsed = yaml.safe_load(doc["annotations"]["artifacthub.io/changes"])
    assert isinstance(parsed, list)
    return parsed


def test_artifacthub_changes_of_a_new_version_hold_the_fix_only(tmp_path: Path) -> None:
    out = bump_chart(
        write_chart(tmp_path, ARTIFACTHUB), "major", "Selectors: add component: server"
    )["Chart.yaml"]
    assert changes_of(out) == [
        {"kind": "fixed", "description": "Selectors: add component: server"}
    ]
    assert changed_lines(ARTIFACTHUB, out) == [
        "-version: 3.8.0\n",
        "+version: 4.0.0\n",
        '-    - kind: added\n',
        '-      description: "Allow configuring the emptyDir volume"\n',
        '-    - kind: changed\n',
        '-      description: "Bump app to 1.2"\n',
        "+    - kind: fixed\n",
        '+      description: "Selectors: add component: server"\n',
    ]
    assert yaml.safe_load(out)["annotations"]["artifacthub.io/links"].startswith("- name:")


def test_artifacthub_entry_is_appended_when_the_version_stays(tmp_path: Path) -> None:
    out = bump_chart(write_chart(tmp_path, ARTIFACTHUB), "none", "Label the worker")["Chart.yaml"]
    assert changes_of(out)[-1] == {"kind": "fixed", "description": "Label the worker"}
    assert len(changes_of(out)) == 3
    assert changed_lines(ARTIFACTHUB, out) == [
        "+    - kind: fixed\n",
        '+      description: "Label the worker"\n',
    ]


def test_artifacthub_plain_style_and_crlf(tmp_path: Path) -> None:
    text = (
        b"name: x\r\nversion: 1.0.0\r\nannotations:\r\n  artifacthub.io/changes: |\r\n"
        b"    - kind: added\r\n      description: Something new\r\n\r\n"
        b"  other: value\r\n"
    )
    out = bump_chart(write_chart(tmp_path, text), "none", "Own labels per workload")["Chart.yaml"]
    assert out == text.replace(
        b"Something new\r\n",
        b"Something new\r\n    - kind: fixed\r\n      description: Own labels per workload\r\n",
    )
    assert changes_of(out)[-1]["description"] == "Own labels per workload"


@pytest.mark.parametrize("nl", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_artifacthub_changes_ending_the_file_without_final_newline(
    tmp_path: Path, nl: bytes
) -> None:
    """The changes list is the file's last line, with no newline after it: the new entry
    follows it on lines of their own, and the file still ends without a final newline."""
    text = b"name: x\nversion: 1.0.0\nannotations:\n  artifacthub.io/changes: |\n    - Old"
    out = bump_chart(write_chart(tmp_path, text.replace(b"\n", nl)), "none", "New")["Chart.yaml"]
    assert out == (text + b"\n    - New").replace(b"\n", nl)
    replaced = bump_chart(write_chart(tmp_path, text.replace(b"\n", nl)), "patch", "New")
    new = b"- kind: fixed\n      description: New"
    after = text.replace(b"1.0.0", b"1.0.1").replace(b"- Old", new)
    assert replaced["Chart.yaml"] == after.replace(b"\n", nl)


def test_artifacthub_list_of_strings_gets_a_string(tmp_path: Path) -> None:
    text = b"name: x\nversion: 1.0.0\nannotations:\n  artifacthub.io/changes: |\n    - Old\n"
    out = bump_chart(write_chart(tmp_path, text), "none", "New thing")["Chart.yaml"]
    assert changes_of(out) == ["Old", "New thing"]


def test_unreadable_chart_yaml_is_a_chart_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"Chart\.yaml"):
        bump_chart(write_chart(tmp_path, b"name: [unclosed\n"), "minor", "x")
    with pytest.raises(TargetError, match="not a SemVer"):
        bump_chart(write_chart(tmp_path, b"name: x\nversion: latest\n"), "minor", "x")


BITNAMI_STYLE = b"""\
# Changelog

## 22.1.1 (2026-02-23)

* [bitnami/shop] feat: add checksum annotation ([#1](https://example.org/1))

## <small>21.1.23 (2025-08-18)</small>

* [bitnami/shop] Update dependency references
"""


def test_changelog_section_in_the_files_own_style(tmp_path: Path) -> None:
    out = bump_chart(
        write_chart(tmp_path, b"name: shop\nversion: 22.1.1\n", BITNAMI_STYLE),
        "major", "Give each workload its own labels",
    )
    assert out["CHANGELOG.md"] == BITNAMI_STYLE.replace(
        b"## 22.1.1",
        b"## 23.0.0 (" + datetime.date.today().isoformat().encode() + b")\n\n"
        b"* [bitnami/shop] Give each workload its own labels\n\n## 22.1.1",
    )


def test_changelog_plain_headings_with_preamble_and_crlf() -> None:
    text = (
        "# Change Log\r\n\r\nThis file documents changes.\r\n\r\n## 0.14.0\r\n\r\n"
        "Updated exporter\r\n\r\n## 0.13.0\r\n\r\nAdded option\r\n"
    )
    out = changelog_with_entry(text, "1.0.0", "Own labels", TODAY)
    assert out == text.replace("## 0.14.0", "## 1.0.0\r\n\r\nOwn labels\r\n\r\n## 0.14.0")


@pytest.mark.parametrize(
    ("newest", "version", "heading"),
    [
        ("## v5.0.0", "6.0.0", "## v6.0.0"),
        ("## v5.0.0", "v6.0.0", "## v6.0.0"),
        ("## 5.0.0", "v6.0.0", "## 6.0.0"),
        ("## 5.0.0", "6.0.0", "## 6.0.0"),
    ],
)
def test_changelog_heading_takes_the_files_v_prefix_habit(
    newest: str, version: str, heading: str
) -> None:
    text = f"# Changelog\n\n{newest}\n\n- Older fix\n"
    out = changelog_with_entry(text, version, "Own labels", TODAY)
    assert out == text.replace(newest, f"{heading}\n\n- Own labels\n\n{newest}")


def test_changelog_without_version_headings_gets_one_after_the_title() -> None:
    out = changelog_with_entry("# Changes\n\nNothing yet.\n", "v2.0.0", "Fix", TODAY)
    assert out == "# Changes\n\n## v2.0.0\n\n- Fix\n\nNothing yet.\n"


@pytest.mark.parametrize("nl", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_changelog_without_final_newline_keeps_having_none(nl: str) -> None:
    """The new section goes at the end of a file whose last line has no newline (after the
    title only, or at the end of the Unreleased section): the file still ends without one."""
    title = changelog_with_entry(f"# Changes{nl}{nl}Nothing yet.", "v2.0.0", "Fix", TODAY)
    assert title == f"# Changes{nl}{nl}## v2.0.0{nl}{nl}- Fix{nl}{nl}Nothing yet."
    only = changelog_with_entry("# Changes", "v2.0.0", "Fix", TODAY)
    assert only == "# Changes\n## v2.0.0\n\n- Fix"
    text = f"# Changelog{nl}{nl}## Unreleased{nl}{nl}* Faster probes"
    out = changelog_with_entry(text, "1.0.1", "Own labels", TODAY)
    assert out == f"{text}{nl}* Own labels"


KEEP_A_CHANGELOG = """# Changelog

## [Unreleased]

### Added

- A values key for the probe port

### Fixed

- Service port name

## [v2.1.0] - 2024-03-01

### Fixed

- Ingress path type

[v2.1.0]: https://example.com/acme/charts/compare/widget-2.0.0...widget-2.1.0
"""


@pytest.mark.parametrize("heading", ["[Unreleased]", "[UNRELEASED]", "Unreleased"])
def test_changelog_entry_goes_to_the_unreleased_fixed_subsection(heading: str) -> None:
    text = KEEP_A_CHANGELOG.replace("[Unreleased]", heading).replace("\n", "\r\n")
    out = changelog_with_entry(text, "v2.1.1", "Own labels", TODAY)
    assert out == text.replace("- Service port name\r\n", "- Service port name\r\n- Own labels\r\n")


def test_changelog_unreleased_without_fixed_gets_one_when_the_file_uses_subsections() -> None:
    text = KEEP_A_CHANGELOG.replace("### Fixed\n\n- Service port name\n\n", "")
    out = changelog_with_entry(text, "v2.1.1", "Own labels", TODAY)
    assert out == text.replace(
        "- A values key for the probe port\n",
        "- A values key for the probe port\n\n### Fixed\n\n- Own labels\n",
    )


def test_changelog_unreleased_without_subsections_gets_the_entry_itself() -> None:
    text = "# Changelog\n\n## Unreleased\n\n* Faster probes\n\n## 1.0.0\n\n* First\n"
    out = changelog_with_entry(text, "1.0.1", "Own labels", TODAY)
    assert out == text.replace("* Faster probes\n", "* Faster probes\n* Own labels\n")


def test_changelog_new_version_gets_a_link_definition_derived_from_the_previous() -> None:
    text = KEEP_A_CHANGELOG.replace("## [Unreleased]\n\n### Added\n\n- A values key for the "
                                    "probe port\n\n### Fixed\n\n- Service port name\n\n", "")
    out = changelog_with_entry(text, "v2.1.1", "Own labels", TODAY)
    assert out == text.replace(
        "## [v2.1.0]",
        f"## [v2.1.1] - {TODAY.isoformat()}\n\n### Fixed\n\n- Own labels\n\n## [v2.1.0]",
    ).replace(
        "[v2.1.0]: ",
        "[v2.1.1]: https://example.com/acme/charts/compare/widget-2.1.0...widget-2.1.1\n"
        "[v2.1.0]: ",
    )


def test_changelog_link_definition_is_not_invented() -> None:
    text = "# Changelog\n\n## [1.0.0]\n\n- First\n\n[1.0.0]: https://example.com/notes\n"
    out = changelog_with_entry(text, "1.0.1", "Own labels", TODAY)
    assert out == text.replace("## [1.0.0]", "## [1.0.1]\n\n- Own labels\n\n## [1.0.0]")
