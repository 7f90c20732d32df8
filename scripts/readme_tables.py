"""Write the generated tables of README.md and docs/*.md from the code: each rule's and
recipe's own doc, summary and declared options (as ruff's docs site comes from its rules),
and every command's flags from the argument parser itself, so no page can fall behind.

    python scripts/readme_tables.py           # rewrite the tables in README.md and docs/
    python scripts/readme_tables.py --check   # exit 1 when a page is out of date

A table sits between `<!-- BEGIN GENERATED: NAME -->` and `<!-- END GENERATED: NAME -->`;
everything outside the markers stays as written. tests/test_recipe_cases.py fails when a
page differs from what this script writes.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from chartfix.cli import build_parser
from chartfix.commands.explain import fixers
from chartfix.recipes import BUILT_IN
from chartfix.recipes.base import options_of, recipe_doc
from chartfix.rules import RULES, doc_sections

ROOT = Path(__file__).resolve().parent.parent
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))


def _cell(text: str) -> str:
    """One table cell: the paragraph on one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def rules_table() -> str:
    rows = ["| code | severity | what | fixed by |", "|---|---|---|---|"]
    for rule in RULES.values():
        severity = rule.severity + (f" ({rule.severity_note})" if rule.severity_note else "")
        fixed_by = ", ".join(f"`{name}`" for name in fixers(rule.code)) or "by hand"
        rows.append(f"| `{rule.code}` | {severity} | {_cell(rule.summary)} | {fixed_by} |")
    return "\n".join(rows)


def recipes_table() -> str:
    """The built-in recipes (entry-point recipes belong to their own package's docs)."""
    rows = ["| recipe | fixes | what it does | options | fix safety |", "|---|---|---|---|---|"]
    for recipe in BUILT_IN:
        sections = doc_sections(recipe_doc(recipe))
        rules = ", ".join(f"`{code}`" for code in sorted(recipe.rules))
        options = ", ".join(f"`{o.name}`" for o in options_of(recipe)) or "none"
        rows.append(
            f"| `{recipe.name}` | {rules} | {_cell(recipe.summary)} | {options} | "
            f"{_cell(sections['Fix safety'])} |"
        )
    return "\n".join(rows)


def _commands(
    parser: argparse.ArgumentParser, prefix: str
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(`chartfix fix`, its one-line help, its parser) for every command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, command in action.choices.items():
                yield f"{prefix} {name}", helps.get(name, ""), command
                yield from _commands(command, f"{prefix} {name}")


def _flag(action: argparse.Action) -> str:
    """`-f, --values VALUES` (or `PATH...` for a positional), as `--help` shows it."""
    metavar = action.metavar if isinstance(action.metavar, str) else None
    if not action.option_strings:
        name = metavar or action.dest.upper()
        if action.nargs in ("+", "*"):
            return f"{name}..."
        return f"[{name}]" if action.nargs == "?" else name
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    if action.choices is not None and metavar is None:
        argument = "|".join(str(choice) for choice in action.choices)
    else:
        argument = metavar or action.dest.upper()
    if action.nargs == "?":
        argument = f"[{argument}]"
    return ", ".join(f"{option} {argument}" for option in action.option_strings)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help text with argparse's own %(...)s expanded, as `--help` prints it."""
    text = parser._get_formatter()._expand_help(action) if action.help else ""
    if getattr(action, "required", False) and action.option_strings:
        text = f"(required) {text}"
    return text


def commands_reference() -> str:
    """Every command: its synopsis and a table of its arguments, from `build_parser()`."""
    parts = []
    for name, summary, command in _commands(build_parser(), "chartfix"):
        actions = [
            a for a in command._actions
            if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
        ]
        positionals = " ".join(_flag(a) for a in actions if not a.option_strings)
        if any(isinstance(a, argparse._SubParsersAction) for a in command._actions):
            positionals = "COMMAND ..."
        options = " [options]" if any(a.option_strings for a in actions) else ""
        parts.append(f"### `{name}`\n\n{summary[:1].upper()}{summary[1:]}.\n\n"
                     f"```\n{name}{options} {positionals}\n```\n")
        rows = ["| argument | what it does |", "|---|---|"]
        rows += [f"| `{_cell(_flag(a))}` | {_cell(_help(command, a))} |" for a in actions]
        if len(rows) > 2:
            parts.append("\n".join(rows) + "\n")
    return "\n".join(parts).rstrip("\n")


def synopsis() -> str:
    """One line per command: how it is called and what it does (README's Usage)."""
    lines = []
    for name, summary, command in _commands(build_parser(), "chartfix"):
        if any(isinstance(a, argparse._SubParsersAction) for a in command._actions):
            continue
        actions = [a for a in command._actions if not isinstance(a, argparse._HelpAction)]
        positionals = " ".join(_flag(a) for a in actions if not a.option_strings)
        options = " [options]" if any(a.option_strings for a in actions) else ""
        lines.append((f"{name}{options} {positionals}".rstrip(), summary))
    width = max(len(call) for call, _ in lines)
    return "```text\n" + "\n".join(f"{call:<{width}}  # {what}" for call, what in lines) + "\n```"


def action_inputs() -> str:
    """The GitHub Action's inputs and outputs, from action.yml."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    rows = ["| input | what it sets | default |", "|---|---|---|"]
    for name, spec in action["inputs"].items():
        default = f"`{spec['default']}`" if spec.get("default") else ""
        rows.append(f"| `{name}` | {_cell(spec['description'])} | {_cell(default)} |")
    rows += ["", "| output | what it is |", "|---|---|"]
    rows += [f"| `{name}` | {_cell(spec['description'])} |"
             for name, spec in action.get("outputs", {}).items()]
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "rules": rules_table, "recipes": recipes_table, "commands": commands_reference,
    "synopsis": synopsis, "action": action_inputs,
}


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {name} [^\n]*-->\n).*?(<!-- END GENERATED: {name} -->)",
        re.DOTALL,
    )


def render(text: str) -> str:
    """`text` (a page) with every generated table it holds written anew."""
    for name, table in TABLES.items():
        text = _markers(name).sub(lambda m, t=table: m.group(1) + t() + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    texts = {page: page.read_text(encoding="utf-8") for page in PAGES}
    for name in TABLES:
        if not any(_markers(name).search(text) for text in texts.values()):
            raise SystemExit(f"no page has markers for the {name} table")
    stale = [page for page, text in texts.items() if render(text) != text]
    if "--check" in argv:
        for page in stale:
            print(f"{page.relative_to(ROOT)} is out of date: run python scripts/readme_tables.py",
                  file=sys.stderr)
        return 1 if stale else 0
    for page in stale:
        page.write_text(render(texts[page]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
