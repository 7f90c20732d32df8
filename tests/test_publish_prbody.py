"""The description of a pull request over many charts: a summary table first, each chart's
details folded, and under the forge's limit at any scale (details shortened, then left out,
else a usage error that says how to split)."""

from __future__ import annotations

import pytest
from test_cli_bulk import bulk, git, git_repo
from test_publish_migration import shop_change

from chartfix.errors import UsageError
from chartfix.publish.prbody import ChartEntry, branch_body, branch_title


@pytest.fixture(scope="module")
def entries() -> list[ChartEntry]:
    change = shop_change()
    return [ChartEntry(change, "3 files changed", "2.0.0", f"charts/shop{i}/MIGRATION.md")
            for i in range(40)]


def test_the_summary_table_comes_first_then_folded_details(entries: list[ChartEntry]) -> None:
    body = branch_body(entries[:2], "shop", "prod", built_on="`main (abc1234)`")
    summary, details = body.split("\n<details>", 1)
    assert summary.startswith("## Summary\n")
    assert "| chart | findings fixed | left | breaking | before upgrading | version |" in summary
    assert summary.count("| shop | 1 | 0 | **yes** | the steps in `charts/shop") == 2
    assert "Built on `main (abc1234)` by chartfix" in summary
    assert details.count("</details>") == 2
    assert "The steps are in `charts/shop0/MIGRATION.md` on this branch." in details
    assert "kubectl" not in body, "the note is in its file, linked, not pasted"
    assert branch_title(entries[:2]) == "Fix label selectors in 2 charts"


def test_a_body_over_the_limit_loses_details_first_then_says_how_to_split(
    entries: list[ChartEntry],
) -> None:
    full = branch_body(entries, "shop", "prod")
    short = branch_body(entries, "shop", "prod", limit=len(full) - 1)
    assert len(short) < len(full) and "## What was wrong" not in short
    assert short.count("<details>") == 40 and "Upgrade steps: `charts/shop0/MIGRATION.md`" in short
    bare = branch_body(entries, "shop", "prod", limit=len(short) - 1, forge="GitHub")
    assert "<details>" not in bare and "over GitHub's limit" in bare
    assert bare.count("| shop |") == 40, "the table keeps every chart"
    with pytest.raises(UsageError, match=r"the description of 40 charts has \d+ characters, "
                                         r"over GitHub's 2000: give --charts-per-pr N"):
        branch_body(entries, "shop", "prod", limit=2000, forge="GitHub")


def test_charts_per_pr_splits_a_repositorys_charts_into_branches(tmp_path, capsys) -> None:
    repo = git_repo(tmp_path / "shop", ["legacy-server", "scaffold-helpers", "volatile-one"])
    code, err = bulk(capsys, repo, "-j", "1", "--branch", "chartfix/selectors",
                     "--charts-per-pr", "2")
    assert code == 0, err
    counts = {b: git(repo, "rev-list", "--count", f"main..{b}")
              for b in ("chartfix/selectors-1", "chartfix/selectors-2")}
    assert counts == {"chartfix/selectors-1": "2", "chartfix/selectors-2": "1"}


def test_the_note_does_not_blame_the_fix_for_a_random_values_checksum(
    chart_copy, tmp_path, capsys
) -> None:
    """The cache Deployment's pod annotation checksums a password made anew on every
    render: a control render of the unchanged chart differs there too, so the note's list
    of changed objects leaves it out and names only what the fix changes."""
    from chartfix.cli import main

    chart = chart_copy("random-checksum-note")
    body = tmp_path / "body.md"
    main(["fix", str(chart), "-j", "1", "--pr-body", str(body)])
    note = body.read_text()
    assert "release-name-server" in note
    assert "release-name-cache" not in note
