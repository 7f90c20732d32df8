"""Labels that change with a chart's next release, found by rendering it (docs/domain.md §3).

A label whose value differs between this release and the next is volatile whatever its key:
`helm.sh/chart`, `chart: NAME-VERSION`, an image tag, a value the release pipeline bumps. The
source renders one scenario three times: as it is, as its next release would render (the same
release name and values, the target's version and app version bumped) and once more unchanged,
the control: what differs in the control (random values, timestamps) is noise, not volatility.
The control is rendered only when the next release changes a label otherwise than by the
bumped version strings written in it (`unexplained`) and the source may render differently
twice (a random function): the usual chart needs one extra render.
`ReleaseDiff.of` compares the three; rules ask it about one entry of one label map.

Where no second release can be rendered (a kind without versions, a chart whose bumped render
fails), `ReleaseDiff.by_keys` stands in: the rules then fall back to their list of keys, and
say so (`ReleaseDiff.method`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from chartfix.model.objects import (
    ANALYZED_KINDS,
    K8sObject,
    ObjectRef,
    Rendering,
    mapping_at,
    string_map,
)

Drift = dict[str, tuple[str, str]]
"""Label key -> (its value in this release, in the next)."""

NEXT_RELEASE = "next-release"
"""The name of the extra render of a scenario as the next release (version bumped)."""
CONTROL = "control"
"""The name of the extra render of a scenario unchanged, to tell noise from volatility."""


@dataclass(frozen=True)
class ReleasePair:
    """One scenario rendered as this release, as the next one, and again as this one (the
    control; None when every change the next release makes is the version bump itself:
    then there is no noise to tell apart, see `unexplained`)."""

    this: Rendering
    next: Rendering
    control: Rendering | None
    versions: tuple[str, ...] = ()
    """What was bumped (`version 1.0.0 -> 1.0.1`, `appVersion ...`), for messages."""


def unexplained(this: Rendering, later: Rendering, bumps: Mapping[str, str]) -> bool:
    """Whether some label of `later` differs from `this` otherwise than by the version
    strings `bumps` (old -> new) written in it: a random value, a time, a checksum, which
    only a control render can tell from a value that follows the release."""
    old = sorted(bumps, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(v) for v in old)) if old else None

    def bumped(value: str) -> str:
        return pattern.sub(lambda m: bumps[m.group(0)], value) if pattern else value

    later_maps = _maps(later)
    for place, entries in _maps(this).items():
        after = later_maps.get(place)
        if after is None:
            continue
        for key, value in entries.items():
            if after.get(key) != value and after.get(key) != bumped(value):
                return True
    return False


def label_maps(obj: K8sObject) -> Iterator[tuple[str, dict[str, str]]]:
    """(dotted path, entries) of every label map of `obj` a release may change: its labels,
    its selector (`matchExpressions` as `key -> sorted values`), its pods' labels and
    annotations."""
    yield "metadata.labels", obj.labels
    selector, path = obj.selector, obj.selector_path()
    if selector is not None and path is not None:
        yield path, dict(selector.match_labels)
        if selector.match_expressions:
            expressions = path.rsplit(".", 1)[0] + ".matchExpressions"
            yield expressions, {
                r.key: ",".join(sorted(r.values)) for r in selector.match_expressions
            }
    pods = obj.pod_labels_path()
    if pods is not None and obj.kind != "Pod":
        yield pods, obj.pod_labels or {}
        annotations = pods.rsplit(".", 1)[0] + ".annotations"
        yield annotations, string_map(mapping_at(obj.body, annotations))


def _maps(rendering: Rendering) -> dict[tuple[ObjectRef, str], dict[str, str]]:
    """The label maps of the objects the rules read (others, parsed lazily, stay unparsed)."""
    return {
        (o.ref, path): entries
        for o in rendering.objects if o.kind in ANALYZED_KINDS
        for path, entries in label_maps(o)
    }


@dataclass(frozen=True)
class ReleaseDiff:
    """How one scenario's label maps change with the next release, or why it is not known."""

    method: str
    """`rendering the next release`, or `the key list` when no second render was possible."""
    reason: str = ""
    """Why the next release was not rendered (the key list stands in)."""
    scenario: str = ""
    versions: tuple[str, ...] = ()
    changes: Mapping[tuple[ObjectRef, str], Drift] = field(default_factory=dict)
    """(object, label map path) -> the entries whose value changes (noise left out)."""
    seen: frozenset[tuple[ObjectRef, str]] = frozenset()
    """Every label map both releases render: an entry not in `changes` there is stable."""
    values: frozenset[tuple[str, str]] = frozenset()
    """(key, value of this release) of every entry that changes, for objects of other
    scenarios the pair did not render."""

    @property
    def rendered(self) -> bool:
        return not self.reason

    @classmethod
    def by_keys(cls, reason: str) -> ReleaseDiff:
        return cls("the key list", reason=reason)

    @classmethod
    def of(cls, pair: ReleasePair) -> ReleaseDiff:
        this, later = _maps(pair.this), _maps(pair.next)
        again = this if pair.control is None else _maps(pair.control)
        changes: dict[tuple[ObjectRef, str], Drift] = {}
        for place, entries in this.items():
            if place not in later:
                continue
            noise = again.get(place, {})
            drift = {
                key: (value, later[place].get(key, ""))
                for key, value in entries.items()
                if later[place].get(key) != value and noise.get(key) == value
            }
            if drift:
                changes[place] = drift
        return cls(
            "rendering the next release",
            scenario=pair.this.scenario,
            versions=pair.versions,
            changes=changes,
            seen=frozenset(p for p in this if p in later),
            values=frozenset((k, v[0]) for drift in changes.values() for k, v in drift.items()),
        )

    def drift(self, obj: K8sObject, path: str) -> Drift:
        """The entries of `obj`'s label map at `path` that change with the next release:
        from the rendered pair where it rendered `obj`, else by their value (an entry
        whose key and value change on some object of the pair)."""
        place = (obj.ref, path)
        if place in self.seen:
            return dict(self.changes.get(place, {}))
        entries = dict(label_maps(obj)).get(path, {})
        return {k: (v, "") for k, v in entries.items() if (k, v) in self.values}

    def describe(self) -> str:
        """How volatility was found, for a finding's detail."""
        if not self.rendered:
            return f"{self.method} ({self.reason})"
        bumped = ", ".join(v for v in self.versions if v)
        return f"{self.method} of scenario {self.scenario}" + (f" ({bumped})" if bumped else "")
