"""`chartfix report html` and `bulk --html`: the page, opened in headless Chromium.

A bulk dry run over copies of our fixtures in two repositories (fixed, left, clean and
broken charts), then the page is loaded from disk in Debian's chromium (tests/chromium.py
drives it over the DevTools protocol) and the DOM is checked as a reader would use it:
every chart a row, filters and sorting, the patch of a fixed chart, both colour schemes,
print. A chart whose directory, object names, messages and patch hold `<script>`, event
handlers and quotes must show them as text and run none of them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from chromium import Browser
from conftest import git, make_leftover

from chartfix.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPO_A = ("clean", "legacy-server", "volatile-one")
REPO_B = ("multi-doc", "shared-selector")


def add_chart(tree: Path, fixture: str, name: str | None = None) -> Path:
    target = tree / (name or fixture)
    shutil.copytree(FIXTURES / fixture, target, symlinks=True)
    return target


def run(*argv: object) -> int:
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def browser() -> Any:
    with Browser(width=1280, height=900) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def bulk_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Two repositories: repo-a (clean, fixable, volatile), repo-b (fixable, one chart with
    a finding left, one that cannot be rendered). -> (page, report)."""
    base = tmp_path_factory.mktemp("html")
    repo_a, repo_b = base / "repo-a", base / "repo-b"
    for fixture in REPO_A:
        add_chart(repo_a, fixture)
    for fixture in REPO_B:
        add_chart(repo_b, fixture)
    make_leftover(add_chart(repo_b, "clean", "leftover"))
    broken = add_chart(repo_b, "clean", "bad-values")
    (broken / "values.yaml").write_text("replicaCount: [2\n")
    page, report = base / "page.html", base / "report.json"
    assert run("bulk", "--fix-latent", repo_a, repo_b, "-j", "1", "--report", report, "--html",
               page) == 2
    return page, json.loads(report.read_text())


def merge_status(tmp_path: Path, *reports: Path) -> int:
    return run("report", "merge", *reports, "-o", tmp_path / "merged.json")


def test_report_html_exits_as_report_merge_on_the_same_reports(
    bulk_page: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """2 with a chart that could not be processed, 1 with a finding left, 0 when all is
    fixed or clean: a CI step reads either command the same way (the page is written)."""
    _, report = bulk_page
    by_status = {c["status"]: c for c in report["charts"]}
    cases = {
        2: report["charts"],
        1: [c for c in report["charts"] if c["status"] != "error"],
        0: [c for c in report["charts"] if c["status"] in ("clean", "fixed")],
    }
    assert {"error", "left", "fixed", "clean"} <= by_status.keys()
    for status, charts in cases.items():
        path = tmp_path / f"r{status}.json"
        path.write_text(json.dumps({**report, "charts": charts}))
        page = tmp_path / f"p{status}.html"
        assert merge_status(tmp_path, path) == status
        assert run("report", "html", path, "-o", page) == status
        assert page.is_file()


def visible_ids(browser: Browser) -> list[str]:
    return list(browser.eval(
        "[...document.querySelectorAll('#charts tbody tr')].filter(r => !r.hidden)"
        ".map(r => r.dataset.id)"
    ))


def choose(browser: Browser, select: str, value: str) -> None:
    browser.eval(
        f"(() => {{ const s = document.getElementById({json.dumps(select)});"
        f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
    )


def test_every_chart_is_a_row_with_its_status(browser, bulk_page) -> None:
    page, report = bulk_page
    browser.open(page)
    rows = browser.eval(
        "[...document.querySelectorAll('#charts tbody tr')].map(r => [r.dataset.id,"
        " r.dataset.status, r.cells[2].textContent, r.cells[1].textContent])"
    )
    expected = {c["id"]: c["status"] for c in report["charts"]}
    assert len(rows) == len(expected) == 7
    assert {row[0]: row[1] for row in rows} == expected
    labels = {row[0]: row[2] for row in rows}
    assert labels["repo-a/legacy-server"] == "fixable", "a dry run's fix is not applied"
    assert labels["repo-b/leftover"] == "left" and labels["repo-b/bad-values"] == "error"
    assert {row[0]: row[3] for row in rows}["repo-b/multi-doc"] == "repo-b"
    assert "Dry run" in browser.eval("document.getElementById('mode').textContent")
    cards = browser.eval(
        "Object.fromEntries([...document.querySelectorAll('.card')].map(c => "
        "[c.dataset.count, Number(c.querySelector('.n').textContent)]))"
    )
    assert cards == {
        "found": 7, "analyzed": 6, "clean": 1, "fixed": 4, "partial": 0, "left": 1, "error": 1
    }
    assert browser.eval("document.getElementById('shown').textContent") == "7 of 7 charts shown"
    assert browser.problems() == []


def test_filters_change_the_visible_rows_and_sections(browser, bulk_page) -> None:
    page, report = bulk_page
    browser.open(page)
    everything = sorted(visible_ids(browser))
    by_status: dict[str, list[str]] = {}
    for chart in report["charts"]:
        by_status.setdefault(chart["status"], []).append(chart["id"])

    choose(browser, "f-status", "error")
    assert visible_ids(browser) == ["repo-b/bad-values"]
    sections = browser.eval(
        "[...document.querySelectorAll('article.chart')].filter(a => !a.hidden)"
        ".map(a => a.dataset.id)"
    )
    assert sections == ["repo-b/bad-values"], "a chart's section follows its row"
    choose(browser, "f-status", "fixed")
    assert sorted(visible_ids(browser)) == sorted(by_status["fixed"])
    choose(browser, "f-status", "")

    choose(browser, "f-rule", "volatile")
    assert visible_ids(browser) == ["repo-a/volatile-one"]
    choose(browser, "f-repo", "repo-b")
    assert visible_ids(browser) == [], "filters combine"
    choose(browser, "f-rule", "")
    assert sorted(visible_ids(browser)) == sorted(c for c in everything if c.startswith("repo-b/"))
    assert browser.eval("document.getElementById('shown').textContent") == "4 of 7 charts shown"
    choose(browser, "f-repo", "")

    browser.eval(
        "(() => { const t = document.getElementById('f-text'); t.value = 'LEGACY';"
        " t.dispatchEvent(new Event('input')); })()"
    )
    assert visible_ids(browser) == ["repo-a/legacy-server"]


def test_headers_sort_the_rows(browser, bulk_page) -> None:
    page, report = bulk_page
    browser.open(page)
    findings = {c["id"]: c["findings"] for c in report["charts"]}
    browser.eval("document.querySelectorAll('#charts th button')[3].click()")
    ascending = [findings[i] for i in visible_ids(browser)]
    assert ascending == sorted(ascending)
    browser.eval("document.querySelectorAll('#charts th button')[3].click()")
    descending = [findings[i] for i in visible_ids(browser)]
    assert descending == sorted(ascending, reverse=True)
    browser.eval("document.querySelectorAll('#charts th button')[0].click()")
    assert visible_ids(browser) == sorted(findings)


def test_a_fixed_chart_shows_findings_migration_and_its_patch(browser, bulk_page) -> None:
    page, report = bulk_page
    browser.open(page)
    legacy = next(c for c in report["charts"] if c["id"] == "repo-a/legacy-server")
    anchor = browser.eval(
        "[...document.querySelectorAll('#charts tbody tr')].find(r => "
        "r.dataset.id === 'repo-a/legacy-server').dataset.section"
    )
    assert anchor
    section = f"document.getElementById({json.dumps(anchor)})"
    patch = browser.eval(f"{section}.querySelector('.patch pre').textContent")
    assert patch == legacy["diff"] and "+      component: server" in patch
    added = browser.eval(f"[...{section}.querySelectorAll('.patch .gi')].map(s => s.textContent)")
    assert "+      component: server" in added, "added lines are highlighted as insertions"
    colors = browser.eval(
        f"[...new Set([...{section}.querySelectorAll('.patch .gi, .patch .gd')]"
        ".map(s => getComputedStyle(s).color))].length"
    )
    assert colors == 2, "insertions and deletions have their own colours"
    rows = browser.eval(
        f"[...{section}.querySelectorAll('table.findings tbody tr')]"
        ".map(r => [...r.cells].map(c => c.textContent))"
    )
    assert sorted(r[1] for r in rows) == ["overlap", "stray"]
    assert rows[0][:3] == ["fixable", "overlap", "error"], "a dry run fixed nothing"
    locations = {r[1]: r[4] for r in rows}
    assert locations["overlap"] == "templates/deployment.yaml:13"
    assert locations["stray"] == "templates/service.yaml:17"
    note = browser.eval(
        f"(() => {{ const d = {section}.querySelector('details.migration');"
        " const patch = d.parentElement.querySelector('details.patch');"
        " return {open: d.open, afterPatch: !!(patch.compareDocumentPosition(d)"
        " & Node.DOCUMENT_POSITION_FOLLOWING), text: d.querySelector('.note').textContent,"
        " headings: [...d.querySelectorAll('h2, h3')].map(h => h.textContent),"
        " code: [...d.querySelectorAll('pre code')].map(c => c.textContent).join('')}; })()"
    )
    assert not note["open"] and note["afterPatch"], "folded, after the patch"
    assert note["headings"][0] == "Upgrading to 2.0.0", "its ## heading is a heading"
    assert "##" not in note["text"] and "```" not in note["text"], "Markdown, rendered"
    assert "--cascade=orphan" in note["code"], "the commands are a code block"
    assert browser.eval(f"{section}.querySelector('.patch summary').textContent") == (
        "Patch, not applied (dry run): 2 files, +3 −0"
    )
    assert browser.eval(f"{section}.querySelector('.line').textContent") == (
        "2 findings: 2 fixable, 0 left · +3 −0 in 2 files · needs migration"
    ), "the chart at a glance"

    left = browser.eval(
        "[...document.querySelectorAll('article.chart')].find(a => "
        "a.dataset.id === 'repo-b/leftover')"
        ".querySelector('ul.left').textContent"
    )
    reasons = [f["reason"] for f in next(
        c for c in report["charts"] if c["id"] == "repo-b/leftover"
    )["finding_details"]]
    assert reasons and all(reason in left for reason in reasons)


def test_light_and_dark_schemes_and_print(browser, bulk_page) -> None:
    page, _ = bulk_page
    browser.open(page)
    colors = "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body)" \
        ".color]"
    light = browser.eval(colors)
    browser.color_scheme("dark")
    try:
        dark = browser.eval(colors)
    finally:
        browser.color_scheme("light")
    assert light == ["rgb(255, 255, 255)", "rgb(27, 31, 36)"]
    assert browser.eval("document.documentElement.scrollWidth <= innerWidth"), "no sideways scroll"
    assert dark[0] != light[0] and dark[1] != light[1]
    browser.call("Emulation.setEmulatedMedia", session=True, media="print")
    try:
        hidden = browser.eval("getComputedStyle(document.getElementById('filters')).display")
        folded = browser.eval(
            "[...document.querySelectorAll('details:not([open]) > :not(summary)')]"
            ".map(e => e.getBoundingClientRect().height)"
        )
    finally:
        browser.call("Emulation.setEmulatedMedia", session=True, media="")
    assert hidden == "none", "the filter form is not printed"
    assert folded and all(height > 0 for height in folded), "folded notes print open"


def test_merged_shard_reports_give_one_page(browser, bulk_page, tmp_path) -> None:
    page, report = bulk_page
    roots = [page.parent / "repo-a", page.parent / "repo-b"]
    shards = [tmp_path / f"s{i}.json" for i in range(3)]
    for i, shard in enumerate(shards):
        run("bulk", "--fix-latent", *roots, "-j", "1", "--shard", f"{i}/3", "--report", shard)
    merged = tmp_path / "merged.html"
    assert run("report", "html", *shards, "-o", merged) == 2, "a chart could not be processed"
    browser.open(merged)
    assert sorted(visible_ids(browser)) == sorted(c["id"] for c in report["charts"])
    sources = browser.eval("document.querySelector('.sources').textContent")
    assert "Merged from 3 reports: s0.json, s1.json, s2.json" in sources
    assert "shards 0/3, 1/3, 2/3" in sources


def test_a_page_from_shards_with_one_missing_says_so_and_exits_2(
    browser, bulk_page, tmp_path, capsys
) -> None:
    """As `report merge`: the page is written, but it and the command say it is partial."""
    page, _ = bulk_page
    roots = [page.parent / "repo-a", page.parent / "repo-b"]
    shards = [tmp_path / f"s{i}.json" for i in range(3)]
    for i, shard in enumerate(shards):
        run("bulk", "--fix-latent", *roots, "-j", "1", "--shard", f"{i}/3", "--report", shard)
    capsys.readouterr()
    partial = tmp_path / "partial.html"
    assert run("report", "html", shards[0], shards[2], "-o", partial) == 2
    assert "error: shard 1/3 is missing: its charts are not on the page" in capsys.readouterr().err
    browser.open(partial)
    banner = browser.eval("document.getElementById('missing').textContent")
    assert banner.startswith("Incomplete: shard 1/3 of this run is missing")
    whole = tmp_path / "whole.html"
    assert run("report", "html", *shards, "-o", whole) == merge_status(tmp_path, *shards)
    browser.open(whole)
    assert browser.eval("document.getElementById('missing')") is None


def test_report_html_checks_its_output_before_reading(tmp_path, capsys) -> None:
    assert run("report", "html", tmp_path / "nothing.json", "-o", tmp_path / "no" / "p.html") == 2
    assert "directory" in capsys.readouterr().err
    assert run("report", "html", tmp_path / "nothing.json", "-o", tmp_path / "p.html") == 2
    assert "not a chartfix report" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()


# --- a chart that tries to inject -----------------------------------------------------------

EVIL_DIR = "x<img src=x onerror=window.pwned=1>'\""
EVIL_NAME = "<script>window.pwned=2</script>\"q\"'"
EVIL_COMMENT = "# <script>window.pwned=3</script> \"quoted\" & 'single'"
EVIL_BROKEN = "<svg onload=window.pwned=4>'\""
EVIL_FIELD = "<script>window.pwned=5</script>"


def test_markup_from_a_chart_shows_as_text_and_never_runs(browser, tmp_path) -> None:
    """Object names (from nameOverride), messages, the chart's directory, a comment in the
    patch's context, an error line and a field added to the report by a later chartfix all
    carry markup; the page shows each as written and runs none."""
    tree = tmp_path / "evil"
    chart = add_chart(tree, "legacy-server", EVIL_DIR)
    deployment = chart / "templates" / "deployment.yaml"
    text = deployment.read_text()
    deployment.write_text(text.replace("matchLabels:\n", f"matchLabels:\n      {EVIL_COMMENT}\n"))
    values = chart / "values.yaml"
    values.write_text(values.read_text() + f"nameOverride: {json.dumps(EVIL_NAME)}\n")
    broken = add_chart(tree, "clean", EVIL_BROKEN)
    (broken / "values.yaml").write_text("a: [1\n")
    report = tmp_path / "r.json"
    assert run("bulk", "--fix-latent", tree, "-j", "1", "--report", report) == 2
    data = json.loads(report.read_text())
    data["charts"][0]["coverage_note"] = EVIL_FIELD  # fields this page does not know
    data["coverage"] = {"note": EVIL_FIELD}
    report.write_text(json.dumps(data))
    page = tmp_path / "page.html"
    assert run("report", "html", report, "-o", page) == 2, "as `report merge`: one chart failed"

    browser.open(page)
    assert browser.eval("typeof window.pwned") == "undefined"
    assert browser.eval("document.scripts.length") == 1, "only the page's own script"
    assert browser.eval("document.querySelectorAll('img, svg [onload], iframe').length") == 0
    assert browser.eval("document.querySelectorAll('[onerror], [onload]').length") == 0
    assert browser.problems() == [], "nothing was refused by the CSP: nothing tried to run"

    ids = browser.eval("[...document.querySelectorAll('#charts tbody tr')].map(r => r.dataset.id)")
    assert sorted(ids) == sorted(f"evil/{d}" for d in (EVIL_DIR, EVIL_BROKEN))
    body = browser.eval("document.body.innerText")
    for shown in (EVIL_COMMENT, f"release-name-{EVIL_NAME}", EVIL_FIELD, EVIL_BROKEN):
        assert shown in body, f"{shown!r} must show as written"
    messages = browser.eval(
        "[...document.querySelectorAll('table.findings td:nth-child(6)')].map(c => c.textContent)"
    )
    entry = next(c for c in data["charts"] if c["id"] == f"evil/{EVIL_DIR}")
    assert messages == [f["message"] for f in entry["finding_details"]]
    assert EVIL_NAME in messages[0]
    patch = browser.eval("document.querySelector('.patch pre').textContent")
    assert patch == entry["diff"] and EVIL_COMMENT in patch
    error = browser.eval("document.querySelector('pre.error').textContent")
    assert error == next(c["error"] for c in data["charts"] if c["status"] == "error")
    more = browser.eval(
        "[...document.querySelectorAll('article dl.more > *')].map(e => e.textContent)"
    )
    assert more == ["coverage_note", EVIL_FIELD], "fields a later chartfix adds show too"
    run_fields = browser.eval(
        "[...document.querySelectorAll('#run-fields > *')].map(e => e.textContent)"
    )
    assert run_fields == ["coverage", json.dumps({"note": EVIL_FIELD})]
    html = page.read_text()
    assert "<script>window" not in html and not re.search(r"<(img|svg)\b[^>]*\son\w+=", html)


def test_a_branch_run_shows_each_commit_and_branch(browser, tmp_path) -> None:
    repo = tmp_path / "repo"
    add_chart(repo, "legacy-server")
    add_chart(repo, "clean")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "charts")
    page = tmp_path / "page.html"
    assert run("bulk", "--fix-latent", repo, "-j", "1", "--branch", "fix/selectors", "--html",
               page) == 0
    sha = git(repo, "rev-parse", "fix/selectors")
    browser.open(page)
    assert browser.eval("document.getElementById('mode').textContent") == (
        "Fixes were written or committed."
    )
    assert browser.eval("document.querySelector('article .commit').textContent") == (
        f"Committed {sha[:12]} on branch fix/selectors"
    )
    assert browser.eval("document.querySelector('#charts .st').textContent") == "fixed"


def test_bulk_checks_the_html_path_before_any_work(tmp_path, capsys) -> None:
    tree = tmp_path / "tree"
    add_chart(tree, "legacy-server")
    assert run("bulk", "--fix-latent", tree, "-j", "1", "--write", "--html",
               tmp_path / "no" / "p.html") == 2
    assert capsys.readouterr().err.startswith("chartfix: --html ")
    assert (tree / "legacy-server" / "templates" / "deployment.yaml").read_bytes() == (
        FIXTURES / "legacy-server" / "templates" / "deployment.yaml"
    ).read_bytes(), "nothing was written"


def test_a_report_from_before_the_detail_fields_still_makes_a_page(browser, bulk_page) -> None:
    """Reports written by an older chartfix (no dry_run, finding_details, migration) keep
    working: rules and reasons come from the fixed/left lines."""
    page, report = bulk_page
    new_fields = ("finding_details", "notes", "migration", "branch")
    old = {
        "version": 1, "shard": None,
        "charts": [{k: v for k, v in c.items() if k not in new_fields} for c in report["charts"]],
    }
    old_report = page.parent / "old.json"
    old_report.write_text(json.dumps(old))
    old_page = page.parent / "old.html"
    assert run("report", "html", old_report, "-o", old_page) == 2, "its broken chart"
    browser.open(old_page)
    assert "Dry run" in browser.eval("document.getElementById('mode').textContent")
    rules = browser.eval(
        "Object.fromEntries([...document.querySelectorAll('#charts tbody tr')].map(r => "
        "[r.dataset.id, JSON.parse(r.dataset.rules)]))"
    )
    assert rules["repo-a/legacy-server"] == ["overlap", "stray"]
    leftover = next(c for c in report["charts"] if c["id"] == "repo-b/leftover")
    text = browser.eval("document.body.innerText")
    assert all(line.split(": ", 1)[1] in text for line in leftover["left"])


# --- as a person reads it: anchors, a phone, the repository ---------------------------------


def section_in_view(browser: Browser, anchor: str) -> bool:
    """The section `anchor` is shown and its top is inside the viewport."""
    return bool(browser.eval(
        f"(() => {{ const a = document.getElementById({json.dumps(anchor)});"
        " const box = a.getBoundingClientRect();"
        " return !a.hidden && box.height > 0 && box.top >= 0 && box.top < innerHeight; })()"
    ))


def last_anchor(browser: Browser) -> str:
    return str(browser.eval("[...document.querySelectorAll('article.chart')].at(-1).id"))


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_link_to_a_charts_anchor_opens_on_its_section(browser, bulk_page, size) -> None:
    """`report.html#cN` from a chat or an issue: the page opens on that chart, also when
    the filters hide it (they are cleared), at a desktop's and a phone's width."""
    page, _ = bulk_page
    browser.resize(*size)
    try:
        browser.open(page)
        anchor = last_anchor(browser)
        links = browser.eval(
            "[...document.querySelectorAll('#charts a[href^=\"#\"]')].map(a => a.hash.slice(1))"
        )
        assert anchor in links and all(browser.eval(
            f"!!document.getElementById({json.dumps(link)})") for link in links)
        assert not section_in_view(browser, anchor), "the page is longer than the viewport"
        status = browser.eval(f"document.getElementById({json.dumps(anchor)}).dataset.status")
        choose(browser, "f-status", "clean" if status != "clean" else "error")
        assert browser.eval(f"document.getElementById({json.dumps(anchor)}).hidden")
        browser.eval(f"location.hash = {json.dumps('#' + anchor)}")
        assert section_in_view(browser, anchor), "a filtered-out chart is shown for its link"
        assert browser.eval("document.getElementById('f-status').value") == ""

        browser.open_at(page, anchor)
        assert browser.eval("scrollY") > 0 and section_in_view(browser, anchor)
        assert browser.problems() == []
    finally:
        browser.resize(1280, 900)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_nothing_overflows_sideways_on_a_phone(browser, bulk_page, scheme) -> None:
    """At 390 px the page fits its width: the tables become cards, the bar chart shrinks,
    and a patch's long lines scroll inside its own code block."""
    page, _ = bulk_page
    browser.resize(390, 844)
    browser.color_scheme(scheme)
    try:
        browser.open(page)
        assert browser.eval("document.documentElement.scrollWidth") <= 390
        assert browser.eval("innerWidth") == 390
        blocks = browser.eval(
            "[...document.querySelectorAll('.patch pre, .note pre')].map(p => "
            "[getComputedStyle(p).overflowX, p.getBoundingClientRect().right])"
        )
        assert blocks and all(o == "auto" and right <= 390 for o, right in blocks)
        assert browser.eval(
            "[...document.querySelectorAll('.patch pre')].some(p => p.scrollWidth > p.clientWidth)"
        ), "a long patch line scrolls inside its block, not the page"
    finally:
        browser.resize(1280, 900)
        browser.color_scheme("light")


EVIL_NOTE = """## Upgrading <script>window.pwned=6</script>

<img src=x onerror="window.pwned=7"> and <b>bold</b>

[a link](javascript:window.pwned=8) ![an image](https://example.com/t.png)

```sh
kubectl delete deployment web --cascade=orphan  # <script>window.pwned=9</script>
```
"""


def test_markup_in_a_migration_note_shows_as_text(browser, bulk_page, tmp_path) -> None:
    """The note is Markdown with raw HTML off: tags a repository's text carries into it
    are text, a `javascript:` link is no link, and no image is loaded."""
    _, report = bulk_page
    entries = [
        {**c, "migration": EVIL_NOTE} if c["id"] == "repo-a/legacy-server" else c
        for c in report["charts"]
    ]
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**report, "charts": entries}))
    evil = tmp_path / "page.html"
    assert run("report", "html", path, "-o", evil) == 2
    browser.open(evil)
    assert browser.eval("typeof window.pwned") == "undefined"
    assert browser.eval("document.scripts.length") == 1
    assert browser.eval("document.querySelectorAll('img, [onerror], .note b').length") == 0
    assert browser.eval("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    note = browser.eval("document.querySelector('.migration .note').textContent")
    for shown in ("<script>window.pwned=6</script>", '<img src=x onerror="window.pwned=7">',
                  "<b>bold</b>", "[a link](javascript:window.pwned=8)", "an image",
                  "# <script>window.pwned=9</script>"):
        assert shown in note
    assert browser.eval("document.querySelector('.migration h2').textContent") == (
        "Upgrading <script>window.pwned=6</script>"
    )
    assert browser.problems() == []


def test_the_repository_column_names_the_repository_and_the_path_in_it(
    browser, tmp_path, monkeypatch
) -> None:
    """`bulk charts` run inside a checkout: the repository is the checkout, named by its
    remote (`owner/name`, never its token), and each chart's path is from its top."""
    repo = tmp_path / "checkout"
    add_chart(repo / "charts", "legacy-server", "web")
    add_chart(repo / "charts", "clean", "db")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://bot:s3cret@git.example.com/acme/shop.git")
    plain = add_chart(tmp_path / "plain", "clean", "api").parent
    monkeypatch.chdir(repo)
    page, report = tmp_path / "page.html", tmp_path / "r.json"
    assert run("bulk", "charts", plain, "-j", "1", "--report", report, "--html", page) == 0
    places = sorted((c["repository"], c["in_repository"])
                    for c in json.loads(report.read_text())["charts"])
    assert places == [("acme/shop", "charts/db"), ("acme/shop", "charts/web"), ("plain", "api")]
    browser.open(page)
    rows = browser.eval(
        "[...document.querySelectorAll('#charts tbody tr')].map(r => "
        "[r.cells[1].textContent, r.querySelector('.in').textContent])"
    )
    assert sorted(rows) == [["acme/shop", "charts/db"], ["acme/shop", "charts/web"],
                            ["plain", "api"]]
    options = browser.eval("[...document.querySelectorAll('#f-repo option')].map(o => o.value)")
    assert options == ["", "acme/shop", "plain"]
    assert "s3cret" not in page.read_text() and "s3cret" not in report.read_text()


def test_a_report_with_an_app_not_run_makes_a_page(browser, tmp_path) -> None:
    """A cdk8s app skipped (no --run-apps) is `skipped` in the report; `report html` and a
    resumed run read it, and the page counts it as not run."""
    tree = tmp_path / "tree"
    add_chart(tree, "cdk8s-arguments")
    add_chart(tree, "clean")
    report, page = tmp_path / "r.json", tmp_path / "page.html"
    assert run("bulk", tree, "-j", "1", "--report", report) == 0
    assert "skipped" in {c["status"] for c in json.loads(report.read_text())["charts"]}
    assert run("report", "html", report, "-o", page) == 0
    browser.open(page)
    cards = browser.eval(
        "Object.fromEntries([...document.querySelectorAll('.card')].map(c => "
        "[c.dataset.count, Number(c.querySelector('.n').textContent)]))"
    )
    assert (cards["found"], cards["analyzed"], cards["skipped"]) == (2, 1, 1)
    said = browser.eval("document.querySelector('article[data-status=skipped] .not-run')"
                        ".textContent")
    assert said.startswith("Not run: ") and "--run-apps" in said, "and says why"


CONTRAST_TEXT = (
    "body", "h2", ".card .k", ".card.s-fixed .n", ".card.s-left .n", ".card.s-error .n",
    "#charts a", "#charts .in", "#charts td.zero", ".st.s-fixed", ".st.s-left", ".st.s-error",
    ".unsafe", ".add", ".del", ".patch .gi", ".patch .gd", ".patch .gu", ".mode",
)
"""Text a reader must make out: every element these select, in both colour schemes."""


def luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: list[float], bg: list[float]) -> float:
    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa_in_both_schemes(browser, bulk_page, scheme) -> None:
    """4.5:1 between each text colour and the background it is drawn on (the nearest
    ancestor's that is not transparent), as WCAG AA asks for body text."""
    page, _ = bulk_page
    browser.color_scheme(scheme)
    try:
        browser.open(page)
        pairs = browser.eval(
            "(() => { const rgb = c => c.match(/[\\d.]+/g).map(Number);"
            " const behind = e => { for (; e; e = e.parentElement) {"
            "  const c = rgb(getComputedStyle(e).backgroundColor);"
            "  if (c.length < 4 || c[3] > 0) { return c; } } return [255, 255, 255]; };"
            f" return {json.dumps(CONTRAST_TEXT)}.flatMap(s =>"
            " [...document.querySelectorAll(s)].map(e =>"
            "  [s, rgb(getComputedStyle(e).color), behind(e)])); })()"
        )
    finally:
        browser.color_scheme("light")
    assert {p[0] for p in pairs} == set(CONTRAST_TEXT), "every kind of text is on the page"
    low = sorted({(s, round(contrast(fg, bg), 2)) for s, fg, bg in pairs
                  if contrast(fg, bg) < 4.5})
    assert low == []


def test_the_docs_screenshots_are_made_by_docs_screenshot_py(tmp_path) -> None:
    """docs/screenshot.py makes the four PNGs the README and docs/bulk.md show (each the
    size it says), and every one they name is in docs/."""
    import importlib.util
    import struct

    docs = FIXTURES.parent / "docs"
    spec = importlib.util.spec_from_file_location("screenshot", docs / "screenshot.py")
    assert spec and spec.loader
    screenshot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshot)
    made = {path.name: path for path in screenshot.make(tmp_path)}
    assert sorted(made) == sorted(
        f"report-{device}-{scheme}.png" for device in ("desktop", "phone")
        for scheme in ("light", "dark")
    )
    for name, path in made.items():
        width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the PNG's IHDR
        assert (width, height) == screenshot.SIZES[name.split("-")[1]]
    for page in (FIXTURES.parent / "README.md", docs / "bulk.md"):
        named = set(re.findall(r"report-\w+-\w+\.png", page.read_text()))
        assert named == set(made), f"{page.name} shows every screenshot"
    assert all((docs / name).is_file() for name in made)


def test_a_suppressed_finding_shows_in_its_charts_section(tmp_path) -> None:
    """A chart whose only finding was accepted is clean, yet the page says so and shows the
    finding with its reason, as check does."""
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "rules-charts" / "gossip-ring", tree / "ring")
    (tree / "ring" / ".chartfix.yaml").write_text(
        "suppress:\n  - {rule: spans, object: '*-memberlist', reason: gossip ring on purpose}\n"
    )
    page, report = tmp_path / "page.html", tmp_path / "report.json"
    assert run("bulk", tree, "-j", "1", "--report", report, "--html", page) == 0
    [chart] = json.loads(report.read_text())["charts"]
    assert chart["status"] == "clean"
    [detail] = chart["finding_details"]
    assert (detail["state"], detail["rule"]) == ("suppressed", "spans")
    assert detail["reason"].startswith("gossip ring on purpose (")
    html = page.read_text()
    assert ">clean, 1 suppressed</span>" in html
    assert "1 suppressed (accepted, with the reason below)" in html
    assert '<tr class="suppressed">' in html and "gossip ring on purpose" in html
