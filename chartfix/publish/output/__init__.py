"""Report formats for `chartfix check`: text for people, JSON for scripts, SARIF for CI.

All three read the same `ChartReport`s and agree on paths: a file below the current
directory is shown relative to it, anything else absolute.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from chartfix.errors import display_path
from chartfix.files import git_repository
from chartfix.model.findings import RECIPE_MARK, Finding
from chartfix.model.objects import ObjectRef


def finding_path(target_root: Path, finding: Finding) -> str:
    """The finding's template file as the user should see it (relative to cwd when below)."""
    return display_path(Path(os.path.normpath(target_root / finding.location.path)))


def in_repository(path: Path) -> tuple[Path, str] | None:
    """The git repository holding `path` and the path's POSIX form relative to its top, as
    code scanning and GitHub's annotations name files (whatever the current folder); None
    outside any repository."""
    absolute = Path(os.path.abspath(path))
    top = git_repository(absolute)
    if top is None:
        return None
    try:
        return top, absolute.resolve().relative_to(top).as_posix()
    except ValueError:  # a link out of the repository: not a file of it
        return None


def repository_path(target_root: Path, finding: Finding) -> str:
    """The finding's file relative to its repository's top (else as `finding_path`)."""
    found = in_repository(target_root / finding.location.path)
    return found[1] if found else finding_path(target_root, finding)


def remediation(finding: Finding) -> str:
    """The finding's advice as printed: the recipe that fixes its rule named where the rule
    wrote RECIPE_MARK."""
    if RECIPE_MARK not in finding.remediation:
        return finding.remediation
    return finding.remediation.replace(RECIPE_MARK, _fixer(finding.rule))


@cache
def _fixer(rule: str) -> str:
    """The first recipe, in the order recipes run, whose `rules` hold `rule`."""
    from chartfix.recipes import registry

    names = [name for name, recipe in registry().items() if rule in recipe.rules]
    return names[0] if names else RECIPE_MARK


def fingerprint(target_name: str, finding: Finding) -> str:
    """What identifies a finding from run to run and from release to release: chart, rule,
    and what writes its object and related objects in the source (`Finding.identities`;
    else their names, random parts in their stable form, `x-test-*`), never a line number,
    a message or a release name."""
    def known(ref: ObjectRef) -> str:
        return finding.identities.get(ref, str(ref))

    related = sorted(set(map(known, finding.related)))
    return "|".join([target_name, finding.rule, known(finding.obj), *related])


def said_once(notes: Sequence[Sequence[str]], names: Sequence[str]) -> list[list[str]]:
    """Each target's notes for a person to read, a note several targets share (a sibling
    dependency of the wrong version that every chart of a monorepo stages) said once, at
    the first of them, naming the others: `notes[i]` and `names[i]` are target i's."""
    holders: dict[str, list[int]] = {}
    for index, own in enumerate(notes):
        for note in dict.fromkeys(own):
            holders.setdefault(note, []).append(index)
    said = []
    for index, own in enumerate(notes):
        lines = []
        for note in dict.fromkeys(own):
            first, *others = holders[note]
            if first == index:
                also = ", ".join(names[o] for o in others)
                lines.append(f"{note} (also for {also})" if others else note)
        said.append(lines)
    return said


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def features_said(switches: int, added: int) -> str:
    """What feature scenarios covered: "3 feature switches explored, 5 objects added"."""
    noun = "feature switch" if switches == 1 else "feature switches"
    return f"{switches} {noun} explored, {plural(added, 'object')} added"


__all__ = ["display_path", "features_said", "finding_path", "fingerprint", "plural", "said_once"]
