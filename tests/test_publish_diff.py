"""Dry-run diffs must be real patches: `git apply` turns the old bytes into the new ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chartfix.model.changes import FileChange
from chartfix.publish.diff import file_diff, summarize

CASES = {
    "lf": (b"a: 1\nb: 2\n", b"a: 1\nc: 3\nb: 2\n"),
    "crlf": (b"a: 1\r\nb: 2\r\n", b"a: 1\r\nc: 3\r\nb: 2\r\n"),
    "no-final-newline": (b"a: 1\nb: 2", b"a: 1\nb: 2\nc: 3"),
    "bom": ("\ufeffa: 1\nb: 2\n".encode(), "\ufeffa: 1\nc: 3\nb: 2\n".encode()),
    "removal": (b"a: 1\nv: 2\nb: 3\n", b"a: 1\nb: 3\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_patch_applies_with_git(tmp_path: Path, name: str) -> None:
    before, after = CASES[name]
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    target = chart / "templates" / "x.yaml"
    target.write_bytes(before)
    patch = file_diff("chart", FileChange("templates/x.yaml", before, after))
    (tmp_path / "fix.patch").write_text(patch, encoding="utf-8", newline="")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True)
    assert target.read_bytes() == after


def test_summary_counts_lines_from_the_diff() -> None:
    before, after = CASES["lf"]
    removal = CASES["removal"]
    diffs = [
        file_diff("c", FileChange("templates/a.yaml", before, after)),
        file_diff("c", FileChange("templates/b.yaml", *removal)),
    ]
    summary = summarize(diffs)
    assert (summary.files, summary.added, summary.removed) == (2, 1, 1)
    assert str(summary) == "2 files changed, 1 lines added, 1 removed"
