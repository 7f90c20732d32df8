"""Edits every source kind speaks: label changes on rendered objects, splices of files.

A recipe plans `LabelChange`s on rendered objects; a source kind turns them into `Edit`s of
its files (a splice of the decoded text: template lines, Python expressions, YAML entries)
wrapped in `PlannedEdit`s that say which file and why. Verification applies the splices and
renders again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chartfix.model.objects import ObjectRef


@dataclass(frozen=True, order=True)
class Edit:
    """Replace `text[start:end]` by `text`; every byte outside stays."""

    start: int
    end: int
    text: str

    @property
    def is_insertion(self) -> bool:
        return self.start == self.end


class NotEditable(ValueError):
    """The text cannot take this edit without risking the rest of the file (the reason)."""


@dataclass(frozen=True)
class LabelChange:
    """A change a plan may make to rendered objects at `path` (`spec.selector.matchLabels`...):
    `key` given `value` (any value when None: a templated value), or removed. Verification
    allows exactly these (`path`, `key`, `value`, `removed`).

    Asked of a source kind (`Source.label_edits`), it reads as the state wanted after:
    - `key` absent at `path`: add it; present with another value: replace that value where
      the source writes it (a Job's pods get a component value of their own);
    - `removed`: delete it; at the `spec.selector.matchLabels` of an object whose selector
      the API server defaults (`K8sObject.selector_defaulted`) every change there means
      "write the selector out, of the pod labels but the removed keys, plus the added ones"
      (the edit reports the keys it copies in `PlannedEdit.changes`).
    The two hints below say how the value is written where a source writes text; a kind
    that writes plain data may ignore them (it never gets `named` without `written_name`).
    """

    path: str
    key: str
    value: str | None
    removed: bool = False
    like: ObjectRef | None = field(default=None, compare=False)
    """Write the entry as the pod template of this object (same rendering) writes it: a
    templated key or value (`{{ .Values.k }}: controller`) is copied as written, so that a
    selector asks for what those pods carry under any values. With `value` None the pods'
    entry must be written that way (`shard: {{ $i | quote }}`), else the source says why."""
    named: bool = field(default=False, compare=False)
    """The value is the name as the source writes it (`Source.written_name` of `like`, else
    of the object): one piece of source writing several objects gives each its own."""


@dataclass(frozen=True)
class PlannedEdit:
    path: str
    """Target-relative file the edit applies to."""
    edit: Edit
    why: str
    changes: tuple[LabelChange, ...] = field(default=(), compare=False)
    """What the edit changes in rendered objects besides the `LabelChange`s it was asked
    for: a defaulted selector written out holds copies of the pod labels (value None)."""
    overridden: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """(scenario, why): scenarios where the edit changes nothing because their own values
    decide otherwise (a default in values.yaml that a ci/ file sets): the findings it fixes
    stay there, for that reason."""
    instead: str = field(default="", compare=False)
    """The reason the change is refused without this edit (a chart's toggle turned on
    instead of a second entry): what the user is told when verification drops it."""


def unique_edits(edits: Sequence[PlannedEdit]) -> list[PlannedEdit]:
    """One edit per place, in the order first planned: the same consumer seen in several
    scenarios, or an edit two units share, is applied once."""
    seen: set[tuple[str, Edit]] = set()
    out: list[PlannedEdit] = []
    for planned in edits:
        if (planned.path, planned.edit) not in seen:
            seen.add((planned.path, planned.edit))
            out.append(planned)
    return out
