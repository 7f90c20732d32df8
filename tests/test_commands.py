"""The command modules: each owns its arguments and its run (`chartfix.commands`), the top
parser is built from them alone and cheaply, and the command line reaches publishing only as
frozen options, never as the argparse namespace."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartfix.cli import build_parser
from chartfix.commands import COMMANDS, command, named

PACKAGE = Path(__file__).resolve().parent.parent / "chartfix"
HEAVY = ("ruamel.yaml", "git", "rich", "helm_python", "chartfix.pipeline", "chartfix.rules",
         "chartfix.sources.targets", "chartfix.publish.branch", "chartfix.commands.checking",
         "chartfix.commands.fixing", "chartfix.commands.bulking")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def test_every_command_is_a_module_with_help_arguments_and_run() -> None:
    parsers = subparsers(build_parser())
    assert list(parsers) == list(COMMANDS)
    for name in COMMANDS:
        module = command(name)
        assert module.HELP and callable(module.add_args) and callable(module.run), name


def test_building_the_parser_imports_nothing_heavy() -> None:
    """`chartfix --help`, a usage error and shell completion cost only the parser: the
    command modules import their work inside `run`."""
    probe = (
        "import sys\nfrom chartfix.cli import build_parser\nbuild_parser()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [
    ["check", "c", "-f", "v.yaml", "--set", "a=1", "--format", "json", "--strict", "-j", "2"],
    ["fix", "c", "--branch", "fix/{recipe}", "--release", "web", "--label", "x"],
    ["bulk", "a", "b", "-j", "1", "--report", "r.json"],
    ["rule", "overlap"],
    ["recipes"],
])
def test_a_run_parses_with_its_own_command_s_arguments_alone(argv: list[str]) -> None:
    """A run builds only the arguments of the command it names (the others are listed by
    name, as `chartfix --help` shows them): parsed the same as with every command's."""
    alone = build_parser(only=named(argv))
    assert alone.parse_args(argv) == build_parser().parse_args(argv)
    others = {n: p for n, p in subparsers(alone).items() if n != argv[0]}
    assert list(subparsers(alone)) == list(COMMANDS)
    assert all([a.dest for a in p._actions] == ["help"] for p in others.values())


def test_publish_never_sees_the_argparse_namespace() -> None:
    for path in (PACKAGE / "publish").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree)
                 if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names}
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "argparse" not in names | modules, path.relative_to(PACKAGE)


def every_parser(
    parser: argparse.ArgumentParser, prefix: str = "chartfix"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield prefix, parser
    for name, sub in subparsers(parser).items():
        yield from every_parser(sub, f"{prefix} {name}")


def test_every_flag_and_positional_has_a_help_text() -> None:
    """The reference pages are generated from the parser: nothing may be left unexplained."""
    missing = [
        f"{where} {action.option_strings or action.dest}"
        for where, parser in every_parser(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize("name", ["fix", "bulk"])
def test_fix_options_are_built_once_and_leave_the_command_line_as_given(
    name: str, tmp_path: Path
) -> None:
    from chartfix.commands.fixing import fix_options

    args = build_parser().parse_args(
        [name, str(tmp_path), "--branch", "fix/{recipe}", "--release", "web", "--label", "x"]
    )
    given = dict(vars(args))
    chosen = fix_options(args, [tmp_path])
    assert vars(args) == given
    assert chosen.publish.branch == "fix/selectors"
    assert (chosen.publish.bump, chosen.publish.note_target) == ("auto", "auto")
    assert (chosen.request.release, chosen.publish.labels) == ("web", ("x",))
    assert chosen.request.mode == "--branch"
    with pytest.raises(dataclasses.FrozenInstanceError):
        chosen.publish.branch = "other"  # type: ignore[misc]
