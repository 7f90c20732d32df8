"""Verification: render the edited target again (through its source kind, any kind) and
accept only the changes that were promised.

A set of fix units passes when every scenario that rendered before still renders, the findings
the units target are gone, no new finding appears, and the rendered objects differ from the
old ones only by the label changes the units declared, and every label they write is one
Kubernetes accepts, also when rendered with the longest release name Helm allows. Units that
fail are dropped (or replaced by their smaller fallback), so one bad edit never sinks the
fixes around it.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from chartfix.errors import TargetError
from chartfix.model.changes import Refused
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef, Rendering, is_feature, mapping_at
from chartfix.model.releases import ReleaseDiff
from chartfix.model.selectors import valid_label_key, valid_label_value
from chartfix.recipes.base import FixUnit, LabelChange
from chartfix.rules import analyze
from chartfix.sources.base import Source


@dataclass
class Verified:
    """The units that passed, the chart they produce, and why the others were dropped."""

    kept: list[FixUnit] = field(default_factory=list)
    failed: list[tuple[FixUnit, str]] = field(default_factory=list)
    """Units dropped, or kept only as their fallback, with the reason verification gave."""
    files: dict[str, bytes] = field(default_factory=dict)
    """New bytes of every file the kept units edit (chart-relative paths)."""
    after: list[Rendering] = field(default_factory=list)
    after_findings: list[Finding] = field(default_factory=list)


@dataclass
class Verifier:
    source: Source
    """The target, whose source kind renders it again and splices the edits in."""
    before: Sequence[Rendering]
    before_findings: Sequence[Finding]
    releases: ReleaseDiff = field(
        default_factory=lambda: ReleaseDiff.by_keys("the next release was not rendered")
    )
    """How labels changed with the next release before the edit: rendered again after it."""
    _noise_cache: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    _long_cache: list[Rendering | None] = field(default_factory=list)
    """The unedited chart rendered with LONG_RELEASE, once tried (None: it did not render)."""

    def run(self, units: Sequence[FixUnit]) -> Verified:
        unchanged = Verified(after=list(self.before), after_findings=list(self.before_findings))
        if not units:
            return unchanged
        with suppress(Refused):
            return self.attempt(units)
        # Something failed: add units one at a time, each falling back to its smaller self.
        best = unchanged
        failed: list[tuple[FixUnit, str]] = []
        shrunk: list[tuple[FixUnit, str]] = []  # passed only as their smaller fallback
        for unit in units:
            candidate: FixUnit | None = unit
            reason = ""
            while candidate is not None:
                try:
                    best = self.attempt([*best.kept, candidate])
                except Refused as why:
                    reason = reason or why.reason
                    candidate = candidate.fallback
                    continue
                if candidate is not unit:
                    shrunk.append((unit, reason))
                break
            else:
                failed.append((unit, reason))
        best.failed = failed + shrunk
        return best

    def attempt(self, units: Sequence[FixUnit]) -> Verified:
        """Verify these units together: a Verified on success; Refused: why they fail."""
        try:
            files = self._apply(units)
        except ValueError as err:  # NotEditable: two edits overlap
            raise Refused(f"edits collide: {err}") from err
        problem = self.source.problem(files)
        if problem:
            raise Refused(problem)
        after: list[Rendering] = []
        for old in self.before:
            try:
                after.append(self.source.render(old.scenario, files))
            except TargetError as err:
                raise Refused(f"scenario {old.scenario} no longer renders: {err}") from err
        findings = analyze(self.source, after, self._releases(units, after, files))
        reason = (
            self._findings_problem(units, findings) or self._objects_problem(units, after)
            or self._labels_problem(units, after, files)
        )
        if reason:
            raise Refused(reason)
        return Verified(list(units), [], files, after, findings)

    def _releases(
        self, units: Sequence[FixUnit], after: Sequence[Rendering], files: Mapping[str, bytes]
    ) -> ReleaseDiff:
        """The edited target's next release, rendered again as the first was when the units
        change metadata labels or pod annotations (a pod annotation carrying the labels);
        a selector or pod label edit leaves the first one true (keys it removes are gone,
        keys it adds were not seen changing)."""
        touched = any(
            change.path == "metadata.labels" or change.path.endswith(ANNOTATIONS)
            for unit in units for changes in unit.changes.values() for change in changes
        )
        if not self.releases.rendered or not touched:
            return self.releases
        rendering = next((r for r in after if r.scenario == self.releases.scenario), None)
        if rendering is None:
            return self.releases
        return self.source.releases(rendering, files)

    def _apply(self, units: Sequence[FixUnit]) -> dict[str, bytes]:
        by_file = defaultdict(list)
        for unit in units:
            for planned in unit.edits:
                by_file[planned.path].append(planned.edit)
        return {
            path: self.source.apply(path, edits) for path, edits in sorted(by_file.items())
        }

    def _findings_problem(self, units: Sequence[FixUnit], after: Sequence[Finding]) -> str:
        remaining: dict[tuple[str, ObjectRef], set[str]] = defaultdict(set)
        for finding in after:
            remaining[(finding.rule, finding.obj)].update(finding.scenarios)
        for unit in units:
            stuck = [t for t in unit.targets if _still_there(t, remaining)]
            # A target seen only with a feature switch on that stays is left (counted so),
            # not held against the unit's other fixes; a unit fixing none of them fails.
            held = [t for t in stuck if not all(is_feature(s) for s in t.scenarios)]
            if held or (stuck and len(stuck) == len(unit.targets)):
                target = (held or stuck)[0]
                return f"{target.rule} on {target.obj} is still there after the edit"
        known = {(f.rule, f.obj) for f in self.before_findings}
        for finding in after:
            if (finding.rule, finding.obj) not in known:
                return (
                    f"the edit causes a new finding: {finding.rule} on {finding.obj}: "
                    f"{finding.message}"
                )
        return ""

    def _objects_problem(self, units: Sequence[FixUnit], after: Sequence[Rendering]) -> str:
        allowed: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
        for unit in units:
            for key, changes in unit.changes.items():
                allowed[key].extend(changes)
        for index, (old, new) in enumerate(zip(self.before, after, strict=True)):
            problems = unplanned_differences(old, new, allowed)
            if problems:
                problems -= self.noise(index)
            if problems:
                return f"scenario {old.scenario}: {_describe(sorted(problems))}"
        return ""

    def _labels_problem(
        self, units: Sequence[FixUnit], after: Sequence[Rendering], files: Mapping[str, bytes]
    ) -> str:
        """A label the units write that Kubernetes would refuse, in any scenario or with the
        longest release name Helm allows (a value templated from the release name grows
        with it); labels refused before the edit too are not the units' doing."""
        changes = _label_changes(units)
        if not any(changes.values()):
            return ""
        bad = _bad_labels(after, changes)
        if bad:
            return _bad_label_reason(bad)
        scenario = self.before[0].scenario
        try:
            long = self.source.render(scenario, files, LONG_RELEASE)
        except TargetError:
            return ""  # the edited chart refuses such a name: `helm install` says so itself
        bad = _bad_labels([long], changes) - self._long_before(changes)
        if not bad:
            return ""
        return f"with the release name {LONG_RELEASE} (53 characters): {_bad_label_reason(bad)}"

    def _long_before(
        self, changes: Mapping[tuple[str, str], Sequence[LabelChange]]
    ) -> set[BadLabel]:
        """The refused labels at the changed keys of the unedited chart rendered with the
        long release name (rendered once)."""
        if not self._long_cache:
            try:
                self._long_cache.append(
                    self.source.render(self.before[0].scenario, None, LONG_RELEASE)
                )
            except TargetError:
                self._long_cache.append(None)
        rendering = self._long_cache[0]
        return _bad_labels([rendering], changes) if rendering is not None else set()

    def noise(self, index: int) -> set[Difference]:
        """What differs between two renders of the unedited chart (generated certificates,
        random passwords, checksums of them) in scenario `index` of `before`: not the fix's
        doing (the control render; the migration note leaves it out too)."""
        if index not in self._noise_cache:
            try:
                again = self.source.render(self.before[index].scenario)
            except TargetError:
                again = self.before[index]
            self._noise_cache[index] = unplanned_differences(self.before[index], again, {})
        return self._noise_cache[index]


LONG_RELEASE = "chartfix-checks-label-values-with-a-long-release-name"
"""53 characters, the longest release name Helm allows: a label value the template derives
from the release name (a fullname, cut at 63) is checked with it too."""

BadLabel = tuple[str, str, str, str]
"""A label Kubernetes refuses: (template path, kind, key, value)."""


def _label_changes(units: Sequence[FixUnit]) -> dict[tuple[str, str], list[LabelChange]]:
    """The labels the units write (not removed, not pod annotations), by (file, kind)."""
    out: dict[tuple[str, str], list[LabelChange]] = defaultdict(list)
    for unit in units:
        for where, changes in unit.changes.items():
            out[where].extend(
                c for c in changes if not c.removed and not c.path.endswith(ANNOTATIONS)
            )
    return out


def _bad_labels(
    renderings: Sequence[Rendering], changes: Mapping[tuple[str, str], Sequence[LabelChange]]
) -> set[BadLabel]:
    """The labels at the changed keys that Kubernetes refuses: a key not `[prefix/]name`, a
    value over 63 characters or not `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`."""
    bad: set[BadLabel] = set()
    for rendering in renderings:
        for obj in rendering.objects:
            for change in changes.get((obj.document.path, obj.kind), ()):
                labels = mapping_at(obj.body, change.path) or {}
                if change.key not in labels:
                    continue
                value = str(labels[change.key])
                if not (valid_label_key(change.key) and valid_label_value(value)):
                    bad.add((obj.document.path, obj.kind, change.key, value))
    return bad


def _bad_label_reason(bad: set[BadLabel]) -> str:
    path, kind, key, value = min(bad)
    return (
        f"{kind} in {path}: {key}={value!r} is not a valid label "
        f"({len(value)} characters; a value is at most 63, of [-A-Za-z0-9_.], alphanumeric "
        "at both ends)"
    )


def _still_there(target: Finding, remaining: Mapping[tuple[str, ObjectRef], set[str]]) -> bool:
    """Whether `target` is found after the edit, in the scenarios it was to be fixed in (a
    ci/ file may keep a toggle the fix turns on off: the finding stays there, on purpose)."""
    where = remaining.get((target.rule, target.obj))
    return where is not None and (
        not (target.scenarios and where) or bool(where & set(target.scenarios))
    )


Difference = tuple[str, str]
"""(object, dotted path) of a difference between two renderings."""


def unplanned_differences(
    old: Rendering, new: Rendering, allowed: Mapping[tuple[str, str], Sequence[LabelChange]]
) -> set[Difference]:
    """Where `new` differs from `old` plus the allowed label changes."""
    pairs = _pairs_by_position(old, new)
    if pairs is None:
        by_identity = _pairs_by_identity(old, new)
        if isinstance(by_identity, set):
            return by_identity
        pairs = by_identity
    found: set[Difference] = set()
    for before, after in pairs:
        found |= _pair_differences(before, after, allowed)
    return found


def _pairs_by_position(old: Rendering, new: Rendering) -> list[tuple[K8sObject, K8sObject]] | None:
    """The pairs whose text differs, when both renderings hold the same documents in the same
    order (the usual case: a fix adds labels). Equal text needs no parsing at all."""
    if len(old.objects) != len(new.objects):
        return None
    pairs = []
    for before, after in zip(old.objects, new.objects, strict=True):
        if before.document != after.document or before.kind != after.kind:
            return None
        if before.text is not None and before.text == after.text:
            continue
        if before.ref != after.ref and before.kind not in POD_KINDS:
            # A test Pod whose random name is not in a template we can read (a packed
            # subchart's) is still the same document; a renamed workload is not.
            return None
        pairs.append((before, after))
    return pairs


POD_KINDS = frozenset({"Pod", "Job"})


def _pairs_by_identity(
    old: Rendering, new: Rendering
) -> list[tuple[K8sObject, K8sObject]] | set[Difference]:
    """Pairs by kind, namespace and (stable) name; objects gone or new are differences
    already."""
    old_objects = _by_identity(old.objects)
    new_objects = _by_identity(new.objects)
    unmatched = old_objects.keys() ^ new_objects.keys()
    if unmatched:
        return {
            (f"{i[0]}/{i[2]}", "<gone>" if i in old_objects else "<new>") for i in unmatched
        }
    return [(old_objects[i], new_objects[i]) for i in old_objects]


def _pair_differences(
    before: K8sObject, after: K8sObject, allowed: Mapping[tuple[str, str], Sequence[LabelChange]]
) -> set[Difference]:
    name = str(before.ref)
    try:
        expected = _expected_body(
            before.body, after.body, allowed.get((before.document.path, before.kind), ())
        )
    except Refused as why:
        return {(name, why.reason)}
    if before.name != after.name and before.ref == after.ref:
        # A name made up anew on every render (a helm test Pod's random suffix).
        expected["metadata"] = {**expected.get("metadata", {}), "name": after.name}
    return {(name, path) for path in paths_differing(expected, after.body, "")}


def paths_differing(a: Any, b: Any, prefix: str = "") -> list[str]:
    """The dotted paths where two manifests (or parts of them) differ."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        paths = []
        for key in a.keys() | b.keys():
            sub = f"{prefix}.{key}" if prefix else str(key)
            if key not in a or key not in b:
                paths.append(sub)
            else:
                paths.extend(paths_differing(a[key], b[key], sub))
        return paths
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            path
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for path in paths_differing(x, y, f"{prefix}[{i}]")
        ]
    return [] if a == b else [prefix]


def _describe(differences: Sequence[Difference]) -> str:
    shown = ", ".join(f"{obj} {path}" for obj, path in differences[:3])
    more = f" and {len(differences) - 3} more" if len(differences) > 3 else ""
    return f"objects changed beyond the planned labels: {shown}{more}"


def _by_identity(objects: Sequence[K8sObject]) -> dict[tuple[str, str, str], K8sObject]:
    return {(o.kind, o.namespace or "", o.ref.name): o for o in objects}


def _expected_body(
    before: Mapping[str, Any], after: Mapping[str, Any], changes: Sequence[LabelChange]
) -> dict[str, Any]:
    """`before` with the planned changes applied (templated values taken from `after`);
    Refused: a change that cannot be what the edit made (its value not rendered, or no
    label value)."""
    body = copy.deepcopy(dict(before))
    for change in changes:
        target = mapping_at(body, change.path)
        if target is None and not change.removed and mapping_at(after, change.path) is not None:
            target = _new_mapping(body, change.path)  # written where there was none
        if target is None:
            continue  # the change does not apply to this object (another doc of the file)
        if change.removed:
            target.pop(change.key, None)
            continue
        rendered = mapping_at(after, change.path)
        value = change.value
        if value is None:
            value = None if rendered is None else rendered.get(change.key)
            if value is None:
                raise Refused(f"{change.key} was not rendered at {change.path}")
        if rendered is not None and str(rendered.get(change.key)) != value:
            continue  # not this object's change (same file and kind, another document)
        if not change.path.endswith(ANNOTATIONS) and not valid_label_value(str(value)):
            raise Refused(f"{change.key}={value!r} is not a valid label value")
        target[change.key] = rendered.get(change.key) if rendered is not None else value
    return body



ANNOTATIONS = ".metadata.annotations"
"""Pod-template annotations: a change there may be any text (a checksum), not a label."""


def _new_mapping(body: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The empty mapping at `path`, created in `body`: pod-template annotations a fix writes
    where there were none, or the `spec.selector.matchLabels` of a manifest that had no
    `spec.selector` (its API version defaulted it); None for any other missing mapping."""
    if path.endswith(ANNOTATIONS):
        parent = mapping_at(body, path.rsplit(".", 1)[0])
        if parent is None:
            return None
        annotations: dict[str, Any] = {}
        parent["annotations"] = annotations
        return annotations
    spec = body.get("spec")
    if path != "spec.selector.matchLabels" or not isinstance(spec, dict) or "selector" in spec:
        return None
    labels: dict[str, Any] = {}
    spec["selector"] = {"matchLabels": labels}
    return labels
