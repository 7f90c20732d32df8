"""`chartfix recipes [NAME]`: the recipes, or one recipe's doc and options."""

from __future__ import annotations

import argparse
import sys

HELP = "list the recipes, or show one recipe's doc and options"


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="the recipe to explain")


def run(args: argparse.Namespace) -> int:
    from chartfix.commands.explain import explain_recipe, list_recipes

    if args.name is not None:
        return explain_recipe(args.name, sys.stdout)
    return list_recipes(sys.stdout)
