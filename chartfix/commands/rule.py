"""`chartfix rule CODE`: a rule's doc and the recipes that fix it."""

from __future__ import annotations

import argparse
import sys

HELP = "show a rule's doc and the recipes that fix it"


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", metavar="CODE", help="the rule (overlap, stray, ...)")


def run(args: argparse.Namespace) -> int:
    from chartfix.commands.explain import explain_rule

    return explain_rule(args.code, sys.stdout)
