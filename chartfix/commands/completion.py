"""`chartfix completion SHELL`: a completion script for bash, zsh or fish, generated from the
parser itself (so it knows every command, flag and choice there is) by shtab.

shtab writes static scripts: a TAB runs the shell's own function, never chartfix (argcomplete
would start Python on every TAB), and it covers the three shells from one parser (our own
generator would be a second description of argparse's structure to keep right).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "print a shell completion script (bash, zsh, fish)"
SHELLS = ("bash", "zsh", "fish")
FOLDER_FLAGS = ("--workdir", "--cache-dir", "--pr-body-dir")
"""Flags whose value is a folder (the other path arguments complete files and folders)."""


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "shell", choices=SHELLS, metavar="SHELL",
        help="bash (`source <(chartfix completion bash)` in ~/.bashrc), zsh (`chartfix "
        "completion zsh > \"${fpath[1]}/_chartfix\"`) or fish (`chartfix completion fish > "
        "~/.config/fish/completions/chartfix.fish`)",
    )


def run(args: argparse.Namespace) -> int:
    import shtab

    from chartfix.commands import build_parser

    parser = build_parser()
    names = _names()
    for action in _actions(parser):
        if action.type is Path:  # a path argument completes paths
            folder = any(flag in FOLDER_FLAGS for flag in action.option_strings)
            action.complete = shtab.DIRECTORY if folder else shtab.FILE  # type: ignore[attr-defined]
        elif action.metavar in names:  # rule codes, recipe names: as this chartfix has them
            words = " ".join(names[str(action.metavar)])
            action.complete = shtab.cmd(f"echo {words}")  # type: ignore[attr-defined]
    sys.stdout.write(shtab.complete(parser, shell=args.shell))
    return 0


def _names() -> dict[str, list[str]]:
    """What an argument of each metavar names: rule codes (`rule CODE`, `--include RULE`,
    `--exclude RULE`) and recipes (`recipes NAME`, `--recipe NAME|FILE`: the Python recipes
    and the shipped recipe files; a repository's own come from where the shell is)."""
    from chartfix.recipes import registry
    from chartfix.recipes.files import declarative_recipes
    from chartfix.rules import RULES

    recipes = [*registry(), *declarative_recipes()]
    return {"CODE": list(RULES), "RULE": list(RULES), "NAME": recipes, "NAME|FILE": recipes}


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every action of `parser` and of its subcommands' parsers, however deep."""
    found = []
    for action in parser._actions:
        found.append(action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _actions(sub)
    return found
