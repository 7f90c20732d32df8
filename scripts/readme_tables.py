"""Write README.md's rule and recipe tables from the code: each rule's and recipe's own doc,
summary and declared options (as ruff's docs site comes from its rules).

    python scripts/readme_tables.py           # rewrite the tables in README.md
    python scripts/readme_tables.py --check   # exit 1 when README.md is out of date

A table sits between `<!-- BEGIN GENERATED: NAME -->` and `<!-- END GENERATED: NAME -->`;
everything outside the markers stays as written. tests/test_recipe_cases.py fails when the
README differs from what this script writes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from chartfix.commands.recipes import fixers
from chartfix.recipes import BUILT_IN
from chartfix.recipes.base import options_of, recipe_doc
from chartfix.rules import RULES, doc_sections

README = Path(__file__).resolve().parent.parent / "README.md"


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


TABLES: dict[str, Callable[[], str]] = {"rules": rules_table, "recipes": recipes_table}


def render(text: str) -> str:
    """`text` (README.md) with every generated table written anew."""
    for name, table in TABLES.items():
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {name} [^\n]*-->\n).*?(<!-- END GENERATED: {name} -->)",
            re.DOTALL,
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no markers for the {name} table")
        text = pattern.sub(lambda m, t=table: m.group(1) + t() + "\n" + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            print("README.md is out of date: run python scripts/readme_tables.py",
                  file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
