"""A bulk report as one self-contained HTML page, for people who will not read JSON.

`chartfix report html REPORT... -o page.html` and `chartfix bulk --html page.html`. The page
needs no server and no network: CSS and a little JavaScript are inline, the bar chart is
inline SVG, and a Content-Security-Policy lets only the page's own script and style run.
Every value that comes from a chart (names, paths, messages, diffs) is escaped, so a chart
cannot put markup or script into the page; the script reads data attributes and never
parses HTML.

The report's JSON is read in one place, `chart_view`: fields other branches add to a chart's
entry (and this module does not know yet) are shown under "More" in the chart's section.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape as _html_escape
from pathlib import Path
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer

from chartfix import __version__
from chartfix.publish.output import plural
from chartfix.terminal import visible

STATUSES = ("fixed", "partial", "left", "error", "warnings", "skipped", "clean")
"""Table order: what needs a look first (`skipped`: a cdk8s app not run, no --run-apps)."""

_KNOWN = {
    "path", "id", "name", "status", "findings", "fixed", "left", "error", "unsafe", "files",
    "lines_added", "lines_removed", "diff", "content_hash", "options", "applied", "commit",
    "branch", "finding_details", "notes", "migration", "upgrade", "pull_request", "publish",
    "needs_migration", "warnings", "repository", "in_repository", "not_run",
}


def escape(text: str, quote: bool = True) -> str:
    """HTML-escaped, and a control character or bidirectional override written as its escape
    (`\\u202e`): a name cannot read backwards (`gnp.exe` shown as `exe.png`) or hide."""
    return _html_escape(visible(text), quote)


@dataclass(frozen=True)
class FindingView:
    state: str  # fixed | left | warning | suppressed
    rule: str
    severity: str
    obj: str
    location: str
    message: str
    reason: str


@dataclass(frozen=True)
class ChartView:
    """One chart's entry of a bulk report, as the page shows it."""

    name: str
    id: str
    path: str
    repository: str
    """The repository's name (its remote's `owner/name` or its top folder's name)."""
    in_repository: str
    """The chart's folder inside the repository (`.`: the chart is the repository)."""
    status: str
    applied: bool
    findings: list[FindingView]
    error: str
    not_run: str
    """Why the target's code was not run (status `skipped`: a cdk8s app without --run-apps)."""
    unsafe: bool
    step: bool
    """Upgrading needs a step first though no immutable field changes (`upgrade: step`)."""
    files: list[str]
    added: int
    removed: int
    diff: str
    commit: str
    branch: str
    pull_request: str
    publish: str
    """What became of the branch: the pull request and what was done to it, or why none."""
    notes: list[str]
    migration: str
    more: dict[str, Any] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings})

    def count(self, state: str) -> int:
        return sum(1 for f in self.findings if f.state == state)

    @property
    def status_label(self) -> str:
        """A dry run's "fixed" is "fixable": nothing was written."""
        if self.status == "fixed":
            return "fixed" if self.applied else "fixable"
        if self.status == "partial":
            return "partly fixed" if self.applied else "partly fixable"
        if self.status == "warnings":
            return f"warnings {self.count('warning')}"
        if self.status == "clean" and self.count("suppressed"):
            return f"clean, {self.count('suppressed')} suppressed"
        return self.status


def chart_view(entry: dict[str, Any]) -> ChartView:
    """The one reader of a report's chart entry (older reports lack the newer fields)."""
    ident = str(entry.get("id") or entry.get("path") or entry.get("name") or "?")
    return ChartView(
        name=str(entry.get("name") or ident),
        id=ident,
        path=str(entry.get("path") or ""),
        repository=str(entry.get("repository") or ident.split("/", 1)[0]),
        in_repository=str(entry.get("in_repository") or _below_root(ident)),
        status=str(entry.get("status") or "error"),
        applied=bool(entry.get("applied")),
        findings=_findings(entry),
        error=str(entry.get("error") or ""),
        not_run=str(entry.get("not_run") or ""),
        unsafe=bool(entry.get("needs_migration", entry.get("unsafe"))),
        step=entry.get("upgrade") == "step",
        files=[str(f) for f in entry.get("files") or []],
        added=int(entry.get("lines_added") or 0),
        removed=int(entry.get("lines_removed") or 0),
        diff=str(entry.get("diff") or ""),
        commit=str(entry.get("commit") or ""),
        branch=str(entry.get("branch") or ""),
        pull_request=str(entry.get("pull_request") or ""),
        publish=str(entry.get("publish") or ""),
        notes=[str(n) for n in entry.get("notes") or []],
        migration=str(entry.get("migration") or ""),
        more={k: v for k, v in entry.items() if k not in _KNOWN and v not in (None, "", [], {})},
    )


def _below_root(ident: str) -> str:
    """A report from before `in_repository`: the chart's path below its bulk ROOT."""
    return ident.split("/", 1)[1] if "/" in ident else "."


def _findings(entry: dict[str, Any]) -> list[FindingView]:
    details = entry.get("finding_details")
    if details is not None:
        return [_finding(d) for d in details]
    # a report written before finding_details: "rule Kind/name" and "rule Kind/name: reason"
    out = []
    for state in ("fixed", "left"):
        for text in entry.get(state) or []:
            rule, _, rest = str(text).partition(" ")
            obj, _, reason = rest.partition(": ") if state == "left" else (rest, "", "")
            out.append(FindingView(state, rule, "", obj, "", "", reason))
    return out


def _finding(detail: dict[str, Any]) -> FindingView:
    obj = detail.get("object") or {}
    ref = f"{obj.get('kind', '')}/{obj.get('name', '')}" if isinstance(obj, dict) else str(obj)
    location = detail.get("location") or {}
    where = str(location.get("path") or "")
    if where and location.get("line"):
        where += f":{location['line']}"
    return FindingView(
        state=str(detail.get("state") or "left"),
        rule=str(detail.get("rule") or "?"),
        severity=str(detail.get("severity") or ""),
        obj=ref,
        location=where,
        message=str(detail.get("message") or ""),
        reason=str(detail.get("reason") or ""),
    )


# --- the command ---------------------------------------------------------------------------


def html_command(paths: Sequence[Path], output: Path) -> int:
    """`chartfix report html`: the reports (shards are merged) -> one page, written whatever
    they hold. Exit status as `report merge`'s (`reports_status`): 2 on a shard missing or a
    chart that could not be processed, 1 on a finding left, else 0; 2 also on a report that
    cannot be read or a page that cannot be written."""
    from chartfix.publish.paths import writable_file
    from chartfix.publish.report.file import read_report
    from chartfix.publish.report.merge import merge_documents, missing_shards, reports_status

    writable_file(output, "-o")
    documents = [read_report(path) for path in paths]
    write_html(output, documents, sources=[p.name for p in paths])
    missing = missing_shards(documents)
    for shard in missing:
        print(f"error: shard {shard} is missing: its charts are not on the page", file=sys.stderr)
    print(f"wrote {output} ({plural(len(page_charts(documents)), 'chart')})")
    return reports_status(merge_documents(documents), missing)


def page_charts(documents: Sequence[dict[str, Any]]) -> list[ChartView]:
    from chartfix.publish.report.merge import merge_documents

    return [chart_view(c) for c in merge_documents(documents)["charts"]]


def write_html(
    path: Path, documents: Sequence[dict[str, Any]], sources: Sequence[str] = ()
) -> None:
    from chartfix.publish.report.file import replace_text

    replace_text(path, render_page(documents, sources))


# --- the page ------------------------------------------------------------------------------


def render_page(documents: Sequence[dict[str, Any]], sources: Sequence[str] = ()) -> str:
    from chartfix.publish.report.merge import merge_documents

    merged = merge_documents(documents)
    charts = [chart_view(c) for c in merged["charts"]]
    dry_run = merged["dry_run"]
    details = [
        (f"c{i}", c) for i, c in enumerate(charts)
        if c.status != "clean" or c.more or c.count("suppressed")
    ]
    anchors = {c.id: anchor for anchor, c in details}
    script, style = _SCRIPT, _STYLE + _diff_style()
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src '{_sha256(style)}'; script-src '{_sha256(script)}'"
    )
    title = "chartfix bulk report"
    fixed_word = "fixable" if dry_run else "fixed"
    body = [
        f"<header><h1>{title}</h1>",
        _mode_banner(dry_run, len(documents)),
        _missing_banner(documents),
        _sources(sources, documents),
        "</header>",
        "<main>",
        _summary(charts, dry_run),
        _run_fields(documents, sources),
        _table(charts, anchors, fixed_word),
        _branch_table(charts),
        '<section id="details"><h2>Charts</h2>',
        *(_chart_section(anchor, chart) for anchor, chart in details),
        "</section></main>",
        f"<footer>chartfix {escape(__version__)}</footer>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{script}</script>\n</body></html>\n"
    )


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _mode_banner(dry_run: bool | None, reports: int) -> str:
    if dry_run:
        text = (
            "Dry run: nothing was written or committed. “Fixable” charts have a verified "
            "patch, shown below, that has not been applied."
        )
    elif dry_run is None:
        text = (
            "Some shards were dry runs: a chart’s status says whether its fix was applied "
            "(fixed) or only verified (fixable)."
        )
    else:
        return '<p class="mode applied" id="mode">Fixes were written or committed.</p>'
    return f'<p class="mode dry" id="mode">{escape(text)}</p>'


def _missing_banner(documents: Sequence[dict[str, Any]]) -> str:
    from chartfix.publish.report.merge import missing_shards

    missing = missing_shards(documents)
    if not missing:
        return ""
    text = (
        f"Incomplete: shard{'s' if len(missing) > 1 else ''} "
        f"{', '.join(map(str, missing))} of this run {'are' if len(missing) > 1 else 'is'} "
        "missing; their charts are not on this page, and the counts below leave them out."
    )
    return f'<p class="mode missing" id="missing">{escape(text)}</p>'


def _sources(sources: Sequence[str], documents: Sequence[dict[str, Any]]) -> str:
    if len(documents) < 2 and not sources:
        return ""
    shards = sorted({str(d["shard"]) for d in documents if d.get("shard")})
    if len(documents) == 1:
        text = f"Report: {', '.join(sources)}"
    else:
        text = f"Merged from {plural(len(documents), 'report')}"
        if sources:
            text += ": " + ", ".join(sources)
    if shards:
        text += f" (shards {', '.join(shards)})"
    return f'<p class="sources">{escape(text)}</p>'


def _run_fields(documents: Sequence[dict[str, Any]], sources: Sequence[str]) -> str:
    """Top-level fields of the reports this page does not know (added by a later chartfix)."""
    rows = []
    for index, document in enumerate(documents):
        source = sources[index] if index < len(sources) else f"report {index + 1}"
        for key, value in sorted(document.items()):
            if key in ("version", "shard", "dry_run", "charts") or value in (None, "", [], {}):
                continue
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            label = key if len(documents) == 1 else f"{key} ({source})"
            rows.append(f"<dt>{escape(label)}</dt><dd>{escape(str(shown))}</dd>")
    return f'<dl class="more" id="run-fields">{"".join(rows)}</dl>' if rows else ""


def _summary(charts: Sequence[ChartView], dry_run: bool | None) -> str:
    by_status = Counter(c.status for c in charts)
    analyzed = len(charts) - by_status["error"] - by_status["skipped"]
    share = f"{100 * analyzed / len(charts):.0f}%" if charts else "-"
    fixed_word = "fixable" if dry_run else "fixed"
    cards = [
        ("found", "charts found", len(charts), ""),
        ("analyzed", "analyzed", analyzed, share),
        ("clean", "clean", by_status["clean"], ""),
        ("fixed", fixed_word, by_status["fixed"], ""),
        ("partial", f"partly {fixed_word}", by_status["partial"], ""),
        ("left", "left", by_status["left"], ""),
        ("error", "errors", by_status["error"], "could not be processed"),
    ]
    if by_status["warnings"]:  # charts whose only findings are warnings no fix took on
        cards.insert(3, ("warnings", "warnings only", by_status["warnings"], ""))
    if by_status["skipped"]:  # their code was not run (a cdk8s app without --run-apps)
        cards.append(("skipped", "not run", by_status["skipped"], "their code was not run"))
    items = "".join(
        f'<div class="card s-{key}{" zero" if not n else ""}" data-count="{key}">'
        f'<span class="n">{n}</span>'
        f'<span class="k">{escape(label)}</span>'
        + (f'<span class="x">{escape(extra)}</span>' if extra else "")
        + "</div>"
        for key, label, n, extra in cards
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<div class="cards">{items}</div>{_rule_chart(charts, fixed_word)}</section>'
    )


def _rule_chart(charts: Sequence[ChartView], fixed_word: str) -> str:
    """Findings by rule: a table and the same numbers as a stacked bar chart in SVG."""
    fixed: Counter[str] = Counter()
    left: Counter[str] = Counter()
    for chart in charts:
        for finding in chart.findings:
            if finding.state in ("warning", "suppressed"):  # neither fixed nor left
                continue
            (fixed if finding.state == "fixed" else left)[finding.rule] += 1
    rules = sorted(set(fixed) | set(left), key=lambda r: (-(fixed[r] + left[r]), r))
    if not rules:
        return '<p id="rules">No findings.</p>'
    rows = "".join(
        f"<tr><th scope=\"row\">{escape(r)}</th><td>{fixed[r]}</td><td>{left[r]}</td>"
        f"<td>{fixed[r] + left[r]}</td></tr>"
        for r in rules
    )
    table = (
        f'<table id="rules"><caption>Findings by rule</caption><thead><tr><th>rule</th>'
        f"<th>{escape(fixed_word)}</th><th>left</th><th>total</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    top = max(fixed[r] + left[r] for r in rules)
    label_w, bar_w, row_h = 110, 320, 26
    height = row_h * len(rules) + 28
    bars = []
    for i, rule in enumerate(rules):
        y = i * row_h + 4
        w_fixed = bar_w * fixed[rule] / top
        w_left = bar_w * left[rule] / top
        bars.append(
            f'<text class="lbl" x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(rule)}</text>"
            f'<rect class="b-fixed" x="{label_w}" y="{y}" width="{w_fixed:.1f}" height="20">'
            f"<title>{escape(rule)}: {fixed[rule]} {escape(fixed_word)}</title></rect>"
            f'<rect class="b-left" x="{label_w + w_fixed:.1f}" y="{y}" width="{w_left:.1f}" '
            f'height="20"><title>{escape(rule)}: {left[rule]} left</title></rect>'
            f'<text class="num" x="{label_w + w_fixed + w_left + 6:.1f}" y="{y + 15}">'
            f"{fixed[rule] + left[rule]}</text>"
        )
    legend_y = height - 8
    legend = (
        f'<rect class="b-fixed" x="{label_w}" y="{legend_y - 10}" width="10" height="10"/>'
        f'<text class="lbl" x="{label_w + 14}" y="{legend_y}">{escape(fixed_word)}</text>'
        f'<rect class="b-left" x="{label_w + 90}" y="{legend_y - 10}" width="10" height="10"/>'
        f'<text class="lbl" x="{label_w + 104}" y="{legend_y}">left</text>'
    )
    svg = (
        f'<svg id="rule-chart" role="img" aria-labelledby="rule-chart-title" '
        f'viewBox="0 0 {label_w + bar_w + 50} {height}" width="{label_w + bar_w + 50}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="rule-chart-title">Findings by rule</title>{"".join(bars)}{legend}</svg>'
    )
    return f'<div class="rules">{svg}{table}</div>'


def _options(values: Sequence[tuple[str, str]]) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in values)


def _table(charts: Sequence[ChartView], anchors: dict[str, str], fixed_word: str) -> str:
    statuses = [s for s in STATUSES if any(c.status == s for c in charts)]
    rules = sorted({r for c in charts for r in c.rules})
    repos = sorted({c.repository for c in charts})
    filters = (
        '<form id="filters" class="filters" hidden>'
        '<label>Status <select id="f-status"><option value="">all</option>'
        + _options([(s, s) for s in statuses])
        + '</select></label><label>Rule <select id="f-rule"><option value="">all</option>'
        + _options([(r, r) for r in rules])
        + '</select></label><label>Repository <select id="f-repo"><option value="">all</option>'
        + _options([(r, r) for r in repos])
        + '</select></label><label>Chart <input id="f-text" type="search" '
        'placeholder="name or path"></label><output id="shown"></output></form>'
    )
    heads = [
        ("chart", "text"), ("repository", "text"), ("status", "text"), ("findings", "num"),
        (fixed_word, "num"), ("left", "num"), ("warnings", "num"), ("rules", "text"),
        ("lines", "num"), ("upgrade", "text"),
    ]
    head = "".join(
        f'<th scope="col" data-type="{kind}"><button type="button">{name}</button></th>'
        for name, kind in heads
    )
    order = {s: i for i, s in enumerate(STATUSES)}
    rows = [
        _chart_row(chart, anchors.get(chart.id), order.get(chart.status, 9), fixed_word)
        for chart in sorted(charts, key=lambda c: (order.get(c.status, 9), c.id))
    ]
    return (
        f'<section id="table"><h2>Charts by status</h2>{filters}'
        f'<table id="charts"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></section>"
    )


def _chart_row(chart: ChartView, anchor: str | None, rank: int, fixed_word: str) -> str:
    """One row of the charts table; on a phone each row is a card (the CSS), its counts
    labelled by `data-label`."""
    name = escape(chart.name)
    link = f'<a href="#{anchor}">{name}</a>' if anchor else name
    where = "" if chart.in_repository == "." else escape(chart.in_repository)

    def count(label: str, n: int) -> str:
        return f'<td class="n{" zero" if not n else ""}" data-label="{label}">{n}</td>'

    return (
        f'<tr data-id="{escape(chart.id)}" data-status="{escape(chart.status)}" '
        f'data-repo="{escape(chart.repository)}" data-rules="{escape(json.dumps(chart.rules))}" '
        f'data-text="{escape(_searched(chart))}"'
        + (f' data-section="{anchor}"' if anchor else "")
        + f'><td data-sort="{escape(chart.id)}">{link}<span class="in">{where}</span></td>'
        f'<td class="repo">{escape(chart.repository)}</td>'
        f'<td data-sort="{rank}"><span class="st s-{escape(chart.status)}">'
        f"{escape(chart.status_label)}</span></td>"
        + count("findings", chart.count("fixed") + chart.count("left"))
        + count(escape(fixed_word), chart.count("fixed"))
        + count("left", chart.count("left"))
        + count("warnings", chart.count("warning"))
        + f'<td class="rule-list">{escape(", ".join(chart.rules))}</td>'
        f'<td data-sort="{chart.added + chart.removed}">'
        + (_lines(chart) if chart.added or chart.removed else "")
        + "</td><td>"
        + ('<span class="unsafe">needs migration</span>' if chart.unsafe
           else '<span class="unsafe">needs a step</span>' if chart.step else "")
        + "</td></tr>"
    )


def _searched(chart: ChartView) -> str:
    """What the Chart box matches: the name, the id, the repository and the path in it."""
    return " ".join((chart.name, chart.id, f"{chart.repository}/{chart.in_repository}")).lower()


def _lines(chart: ChartView) -> str:
    return f'<span class="add">+{chart.added}</span> <span class="del">−{chart.removed}</span>'


def _chart_section(anchor: str, chart: ChartView) -> str:
    out = [
        f'<article id="{anchor}" class="chart s-{escape(chart.status)}" '
        f'data-id="{escape(chart.id)}" data-status="{escape(chart.status)}">',
        f'<h3><span class="name">{escape(chart.name)}</span> '
        f'<span class="st s-{escape(chart.status)}">{escape(chart.status_label)}</span></h3>',
        _where(chart),
        _chart_line(chart),
        _applied_line(chart),
    ]
    if chart.error:
        out.append(f'<pre class="error">{escape(chart.error)}</pre>')
    if chart.not_run:
        out.append(f'<p class="not-run">Not run: {escape(chart.not_run)}</p>')
    if chart.findings:
        out.append(_findings_table(chart))
    for state, heading in (("left", "Left, and why"), ("suppressed", "Suppressed, and why")):
        out += _reasons(heading, state, [f for f in chart.findings if f.state == state])
    if chart.notes:
        out.append('<h4>Notes</h4><ul class="notes">')
        out += [f"<li>{escape(note)}</li>" for note in chart.notes]
        out.append("</ul>")
    if chart.unsafe:
        out.append(
            '<p class="unsafe">Needs migration: a controller’s selector (an immutable '
            "field) changes, so upgrading existing releases needs the migration steps.</p>"
        )
    elif chart.step:
        out.append(
            '<p class="unsafe">Needs a step before upgrading existing releases: no immutable '
            "field changes, but a selector would leave running pods out until each is "
            "replaced; the migration note labels them first.</p>"
        )
    if chart.diff:
        files = plural(len(chart.files), "file") if chart.files else "patch"
        out.append(
            f'<details class="patch" open><summary>{_patch_title(chart)}: {escape(files)}, '
            f"{_lines(chart)}"
            f"</summary>{_highlight(chart.diff)}</details>"
        )
    if chart.migration:
        out.append(
            '<details class="migration"><summary>Migration note</summary>'
            f'<div class="note">{render_markdown(chart.migration)}</div></details>'
        )
    if chart.more:
        out.append('<h4>More</h4><dl class="more">')
        for key, value in sorted(chart.more.items()):
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            out.append(f"<dt>{escape(key)}</dt><dd>{escape(str(shown))}</dd>")
        out.append("</dl>")
    out.append("</article>")
    return "\n".join(out)


def _where(chart: ChartView) -> str:
    """The repository and the chart's folder inside it."""
    inside = "" if chart.in_repository == "." else (
        f' · <code class="in">{escape(chart.in_repository)}</code>'
    )
    return f'<p class="where"><span class="repo">{escape(chart.repository)}</span>{inside}</p>'


def _chart_line(chart: ChartView) -> str:
    """The chart at a glance: `3 findings: 2 fixable, 1 left · 1 warning · +8 −0 in 2 files
    · needs migration`."""
    fixed, left, warned = chart.count("fixed"), chart.count("left"), chart.count("warning")
    parts = []
    if fixed or left:
        parts.append(
            f"{plural(fixed + left, 'finding')}: "
            f'<span class="ok">{fixed} {_state_label("fixed", chart)}</span>, '
            f'<span class="{"warn" if left else "ok"}">{left} left</span>'
        )
    elif chart.status not in ("error", "skipped"):
        parts.append("no findings to fix")
    if warned:
        parts.append(f'<span class="warn">{plural(warned, "warning")}</span>')
    if chart.count("suppressed"):
        parts.append(f'{chart.count("suppressed")} suppressed (accepted, with the reason below)')
    if chart.diff:
        parts.append(f"{_lines(chart)} in {plural(len(chart.files), 'file')}")
    if chart.unsafe:
        parts.append('<span class="unsafe">needs migration</span>')
    elif chart.step:
        parts.append('<span class="unsafe">needs a step</span>')
    if chart.error:
        parts.append('<span class="bad">could not be processed</span>')
    return f'<p class="line">{" · ".join(parts)}</p>' if parts else ""


def _branch_table(charts: Sequence[ChartView]) -> str:
    """Repository, branch, commit, pull request or reason: one row per branch of the run."""
    rows: dict[tuple[str, str], ChartView] = {}
    for chart in charts:
        if chart.branch:
            rows[(chart.repository, chart.branch)] = chart  # the last chart's commit: the tip
    if not rows:
        return ""
    out = ['<section id="branches"><h2>Branches</h2><table><thead><tr><th>repository</th>'
           "<th>branch</th><th>commit</th><th>pull request or reason</th></tr></thead><tbody>"]
    for (repository, branch), chart in rows.items():
        result = escape(chart.publish)
        if chart.pull_request.startswith(("https://", "http://")):
            link = escape(chart.pull_request)
            result = f'<a href="{link}">{link}</a>' + escape(
                chart.publish.removeprefix(chart.pull_request))
        out.append(f"<tr><td>{escape(repository)}</td><td>{escape(branch)}</td>"
                   f"<td><code>{escape(chart.commit[:12])}</code></td><td>{result}</td></tr>")
    out.append("</tbody></table></section>")
    return "".join(out)


def _applied_line(chart: ChartView) -> str:
    if chart.commit:
        text = f"Committed {chart.commit[:12]}"
        if chart.branch:
            text += f" on branch {chart.branch}"
        return f'<p class="commit">{escape(text)}</p>'
    if chart.status in ("fixed", "partial") and chart.applied:
        return '<p class="commit">Written to the chart.</p>'
    return ""


def _patch_title(chart: ChartView) -> str:
    """A dry run's patch says it was not applied where the patch is."""
    return "Patch" if chart.applied else "Patch, not applied (dry run)"


def _reasons(heading: str, state: str, findings: Sequence[FindingView]) -> list[str]:
    """The findings left (or accepted), each with why."""
    if not findings:
        return []
    return [
        f'<h4>{heading}</h4><ul class="{state}">',
        *(f"<li><b>{escape(f.rule)}</b> {escape(f.obj)}: "
          f"{escape(f.reason or 'no reason given')}</li>" for f in findings),
        "</ul>",
    ]


def _findings_table(chart: ChartView) -> str:
    rows = "".join(
        f'<tr class="{escape(f.state)}"><td>{escape(_state_label(f.state, chart))}</td>'
        f"<td>{escape(f.rule)}</td>"
        f"<td>{escape(f.severity)}</td><td>{_breakable(f.obj)}</td>"
        f"<td><code>{_breakable(f.location)}</code></td><td>{escape(f.message)}</td></tr>"
        for f in chart.findings
    )
    return (
        '<table class="findings"><thead><tr><th>state</th><th>rule</th><th>severity</th>'
        "<th>object</th><th>template</th><th>message</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _breakable(text: str) -> str:
    """Escaped, with a line-break opportunity after each `/` (`Deployment/<wbr>api`)."""
    return "/<wbr>".join(escape(part) for part in text.split("/"))


def _state_label(state: str, chart: ChartView) -> str:
    """A finding's state as the run left it: a fix not applied is "fixable"."""
    return "fixable" if state == "fixed" and not chart.applied else state


def render_markdown(text: str) -> str:
    """A migration note (Markdown) as HTML, by markdown-it-py's CommonMark: raw HTML in the
    text is shown as text (`html: False`), images are not made (the page loads nothing),
    and links only of the schemes markdown-it allows (never `javascript:`)."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).disable("image")
    return str(parser.render(visible(text)))


def _highlight(diff: str) -> str:
    """The patch through pygments' diff lexer (it escapes the text); colours from our CSS."""
    return str(highlight(visible(diff), DiffLexer(), HtmlFormatter(cssclass="diff")))


def _diff_style() -> str:
    return (
        ".diff .gd{color:var(--del)}.diff .gi{color:var(--add)}"
        ".diff .gu,.diff .gh{color:var(--hunk)}.diff .gs{font-weight:bold}"
    )


_STYLE = """
:root{--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--ok:#1a7f37;
--warn:#9a6700;--bad:#cf222e;--info:#0969da;--add:#116329;--del:#a40e26;--hunk:#6639ba;
--bar-fixed:#2da44e;--bar-left:#d4a72c}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--panel:#151b23;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--info:#4493f8;
--add:#7ee787;--del:#ffa198;--hunk:#d2a8ff;--bar-fixed:#3fb950;--bar-left:#d29922}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:1rem 1.5rem;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:1px solid var(--line);
padding-bottom:.2rem;margin-top:1.6rem}h3{font-size:1.1rem;margin:.2rem 0}
h4{font-size:.95rem;margin:.8rem 0 .3rem}
a{color:var(--info)}code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
.mode{padding:.5rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--panel)}
.mode.dry{border-color:var(--warn)}.mode.missing{border-color:var(--bad)}.sources{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{border:1px solid var(--line);border-radius:8px;padding:.5rem .8rem;min-width:7.5rem;
background:var(--panel);display:flex;flex-direction:column}
.card .n{font-size:1.6rem;font-weight:600}.card .k{color:var(--muted)}
.card .x{color:var(--muted);font-size:.8rem}
.card.s-fixed .n{color:var(--ok)}.card.s-partial .n,.card.s-left .n{color:var(--warn)}
.card.s-error .n{color:var(--bad)}.card.zero .n{color:var(--muted)}
.rules{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start;margin-top:1rem}
svg .lbl,svg .num{fill:var(--fg);font-size:12px}svg .b-fixed{fill:var(--bar-fixed)}
svg .b-left{fill:var(--bar-left)}
table{border-collapse:collapse;margin:.4rem 0}th,td{padding:.3rem .6rem;text-align:left;
border-bottom:1px solid var(--line);vertical-align:top}
caption{text-align:left;font-weight:600;padding-bottom:.3rem}
#charts{width:100%}#charts th button{all:unset;cursor:pointer;font-weight:600}
#charts th[aria-sort=ascending] button::after{content:" ▲"}
#charts th[aria-sort=descending] button::after{content:" ▼"}
#charts .in{display:block;color:var(--muted);font-size:.8rem;word-break:break-all}
#charts td.zero{color:var(--muted)}#charts .rule-list{min-width:7rem}
svg#rule-chart{max-width:100%;height:auto}
.filters{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0}
.filters select,.filters input{font:inherit;color:var(--fg);background:var(--bg);
border:1px solid var(--line);border-radius:4px;padding:.15rem .3rem}
#shown{color:var(--muted)}
.st{display:inline-block;border-radius:1rem;padding:0 .55rem;font-size:.85rem;
border:1px solid currentColor;white-space:nowrap}
.st.s-fixed{color:var(--ok)}.st.s-partial,.st.s-left,.st.s-warnings{color:var(--warn)}
.st.s-error{color:var(--bad)}.st.s-clean,.st.s-skipped{color:var(--muted)}
.add{color:var(--add)}.del{color:var(--del)}
article.chart{border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem;margin:1rem 0;
scroll-margin-top:.5rem}
article.chart:target{outline:2px solid var(--info);outline-offset:2px}
article.chart .where{color:var(--muted);margin:.2rem 0;word-break:break-all}
article.chart .where .repo{font-weight:600}
article.chart .line{margin:.3rem 0}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.findings{width:100%}.findings td:nth-child(-n+3){white-space:nowrap}
.findings td:nth-child(4){min-width:9rem}.findings td:nth-child(2){font-weight:600}
.findings td:nth-child(6){overflow-wrap:anywhere}
.findings tr.left td:first-child{color:var(--warn)}
.findings tr.fixed td:first-child{color:var(--ok)}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.6rem;
overflow-x:auto}
pre.error{color:var(--bad);white-space:pre-wrap}
.note{border-left:3px solid var(--line);padding-left:.8rem}
.note h1,.note h2,.note h3,.note h4{font-size:1rem;margin:.8rem 0 .3rem}
.note code{background:var(--panel);border-radius:4px;padding:0 .2rem}
.note pre code{background:none;padding:0}
.unsafe{color:var(--warn)}
details summary{cursor:pointer;font-weight:600;margin:.6rem 0 .3rem}
details{min-width:0}
@media (max-width:40rem){body{padding:.6rem .8rem}article.chart{padding:.5rem .6rem}
#charts,#charts tbody,#charts thead{display:block}
#charts thead tr{display:flex;flex-wrap:wrap;gap:.2rem .8rem}
#charts thead tr::before{content:"Sort by";color:var(--muted);font-size:.85rem}
#charts thead th{border:0;padding:.1rem 0;font-size:.85rem}
#charts tbody tr{display:flex;flex-wrap:wrap;gap:.1rem .8rem;border-bottom:1px solid var(--line);
padding:.4rem 0}#charts tbody td{border:0;padding:0}
#charts tbody td:first-child{flex-basis:100%}
#charts td.n::before{content:attr(data-label) " ";color:var(--muted)}
#charts td.zero,#charts td:empty{display:none}
.findings,.findings tbody,.findings tr{display:block}.findings thead{display:none}
.findings tr{border-bottom:1px solid var(--line);padding:.3rem 0}
.findings td{display:inline;border:0;padding:0 .4rem 0 0}
.findings td:nth-child(n+4){display:block}
.rules{gap:.5rem}.card{min-width:6rem;padding:.3rem .6rem}.card .n{font-size:1.3rem}
#charts .rule-list{min-width:0}.findings td:nth-child(6){font-size:.9rem}}
dl.more dt{font-weight:600}dl.more dd{margin:0 0 .3rem 1rem;word-break:break-all}
footer{color:var(--muted);font-size:.8rem;margin:2rem 0 1rem}
@media print{body{max-width:none;padding:0;font-size:11px;background:#fff;color:#000}
:root{--bg:#fff;--fg:#000;--panel:#fff;--muted:#444}.filters{display:none!important}
pre{white-space:pre-wrap;word-break:break-all;overflow:visible}
details::details-content{content-visibility:visible;display:block}
article.chart{break-inside:avoid-page}h2{break-after:avoid}
#charts th button::after{content:""!important}a{color:inherit;text-decoration:none}}
"""

_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("charts");
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var form = document.getElementById("filters");
  var status = document.getElementById("f-status");
  var rule = document.getElementById("f-rule");
  var repo = document.getElementById("f-repo");
  var text = document.getElementById("f-text");
  var shown = document.getElementById("shown");
  function apply() {
    var count = 0, needle = text.value.trim().toLowerCase();
    rows.forEach(function (row) {
      var ok = (!status.value || row.dataset.status === status.value) &&
        (!rule.value || JSON.parse(row.dataset.rules).indexOf(rule.value) >= 0) &&
        (!repo.value || row.dataset.repo === repo.value) &&
        (!needle || row.dataset.text.indexOf(needle) >= 0);
      row.hidden = !ok;
      if (row.dataset.section) {
        document.getElementById(row.dataset.section).hidden = !ok;
      }
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " charts shown";
  }
  [status, rule, repo].forEach(function (el) { el.addEventListener("change", apply); });
  text.addEventListener("input", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.dataset.type === "num";
      function key(row) {
        var cell = row.cells[column];
        var value = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent;
        return numeric ? Number(value) : value.toLowerCase();
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
    });
  });
  form.hidden = false;
  apply();
  function reveal() {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target || !target.matches("article.chart")) { return; }
    if (target.hidden) {
      status.value = rule.value = repo.value = text.value = "";
      apply();
    }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      d.open = true;
    });
  });
})();
"""
