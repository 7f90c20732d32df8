"""`chartfix report merge|html`: work with bulk reports (shards merged, one HTML page)."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "work with bulk reports"


def add_args(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="report_command", required=True)
    merge = commands.add_parser("merge", help="merge the reports of sharded runs")
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT",
                       help="a bulk --report file (one per shard)")
    merge.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    html = commands.add_parser(
        "html", help="one self-contained HTML page from bulk reports (shards merged)"
    )
    html.add_argument("reports", nargs="+", type=Path, metavar="REPORT",
                      help="a bulk --report file (one per shard)")
    html.add_argument("-o", "--output", type=Path, required=True, help="the page to write")


def run(args: argparse.Namespace) -> int:
    if args.report_command == "html":
        from chartfix.publish.report.html import html_command

        return html_command(args.reports, args.output)
    from chartfix.publish.paths import writable_file
    from chartfix.publish.report.merge import merge_reports

    if args.output is not None:
        writable_file(args.output, "-o")
    return merge_reports(args.reports, args.output)
