"""chartfix's commands: one module each, owning its arguments and its run (as LibCST's
codemod commands declare `add_args`):

    HELP: str                                        the line `chartfix --help` shows
    add_args(parser: argparse.ArgumentParser) -> None
    run(args: argparse.Namespace) -> int             the exit status

`build_parser` makes the top parser from `COMMANDS` (`completion` prints it as a shell
script); `chartfix.cli` parses with it (with the arguments of the command the run names
alone: `named`) and calls `run`, and the commands never import it back. A command module
imports only argparse and light modules at its top (every one is imported on each start,
for its HELP); its `run` imports the work (`checking`, `fixing`,
`bulking`, `explain`), which turns the command line into frozen options once
(`fixing.FixOptions`, `publish.options.PublishOptions`)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Protocol, cast

from chartfix import __version__

COMMANDS = ("check", "fix", "bulk", "recipes", "rule", "report", "completion")
"""The command modules of this package, in the order `chartfix --help` lists them."""


class Command(Protocol):
    HELP: str

    def add_args(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def command(name: str) -> Command:
    """The module of command `name` (one of COMMANDS)."""
    module: ModuleType = importlib.import_module(f"{__name__}.{name}")
    return cast(Command, module)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top parser, each command's from its module. `only`: the command a run names,
    whose arguments alone are added (the others listed by name and HELP, as `chartfix
    --help` shows them): what parsing that run needs."""
    parser = argparse.ArgumentParser(
        prog="chartfix",
        description="Find label-selector bugs in Helm charts, cdk8s apps, kustomizations "
        "and plain manifests by rendering them; fix them with minimal, verified source edits.",
    )
    parser.add_argument("--version", action="version", version=f"chartfix {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = command(name)
        subparser = commands.add_parser(name, help=module.HELP)
        if only is None or name == only:
            module.add_args(subparser)
    return parser


def named(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word), if it is one of COMMANDS."""
    return argv[0] if argv and argv[0] in COMMANDS else None
