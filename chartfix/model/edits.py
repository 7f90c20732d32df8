"""Edits every source kind speaks: label changes on rendered objects, splices of files.

A recipe plans `LabelChange`s on rendered objects; a source kind turns them into `Edit`s of
its files (a splice of the decoded text: template lines, Python expressions, YAML entries)
wrapped in `PlannedEdit`s that say which file and why. Verification applies the splices and
renders again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Edit:
    """Replace `text[start:end]` by `text`; every byte outside stays."""

    start: int
    end: int
    text: str

    @property
    def is_insertion(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True)
class LabelChange:
    """A change a plan may make to rendered objects at `path` (`spec.selector.matchLabels`...):
    `key` added with `value` (any value when None: a templated value), or removed.
    Verification allows exactly these."""

    path: str
    key: str
    value: str | None
    removed: bool = False


@dataclass(frozen=True)
class PlannedEdit:
    path: str
    """Target-relative file the edit applies to."""
    edit: Edit
    why: str
