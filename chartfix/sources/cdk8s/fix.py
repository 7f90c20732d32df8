"""Fix a cdk8s app: give each overlapping controller a component label, verified by synthesis.

The Helm recipe `component-labels`, for Python sources: for each controller whose selector
catches other pods, add `component: ROLE` (or `app.kubernetes.io/component`, following the
app's keys) to its pod template labels and selector, and to the Services, PDBs and
NetworkPolicies meant for it. ROLE comes from the construct id (`server`, `worker`, ...).
Jobs are left alone: a Job's pod template is immutable.

Every planned change is checked by synthesizing the edited app: the findings it targets must
be gone, no new one may appear, and the objects may differ only by the declared labels.
Units that fail are dropped with their reason (Unfixed); the others are kept.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartfix.config import load_config
from chartfix.errors import ChartError
from chartfix.model.changes import ChartChange, FileChange, Unfixed
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, ObjectRef
from chartfix.rules import Policy, apply_policy
from chartfix.sources.cdk8s.app import CdkApp, load_app
from chartfix.sources.cdk8s.check import findings_for
from chartfix.sources.cdk8s.edit import LabelEdit, apply_label_edits
from chartfix.sources.cdk8s.locate import AppSources, NotLocated, locate_labels
from chartfix.sources.cdk8s.synth import Synthesis, synthesize

RECIPE = "component-labels"
ROLE_WORDS = (
    "server", "worker", "controller", "api", "web", "frontend", "backend", "scheduler",
    "agent", "proxy", "gateway", "collector", "query", "ingester", "exporter", "cache",
)
_GENERIC_WORDS = frozenset(
    {"deployment", "deploy", "statefulset", "sts", "daemonset", "ds", "replicaset", "app"}
)
_DEFAULT_ROLE = {"DaemonSet": "agent"}


@dataclass(frozen=True)
class LabelChange:
    """One label a fix adds to one label map of one object (what verification allows)."""

    obj: ObjectRef
    manifest_path: str
    key: str
    value: str


@dataclass
class FixUnit:
    """Everything that fixes one controller: edits, declared changes, the findings it ends."""

    controller: ObjectRef
    edits: list[LabelEdit] = field(default_factory=list)
    changes: list[LabelChange] = field(default_factory=list)
    targets: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fix_app(app_dir: Path, policy: Policy | None = None) -> ChartChange:
    """Plan, apply in memory and verify the fix of the cdk8s app at `app_dir`.

    The findings are `check`'s: `policy` (the command line's) over the app's
    `.chartfix.yaml`. Raises ChartError when the app cannot be synthesized as it is.
    Nothing is written.
    """
    app = load_app(app_dir)
    sources = AppSources(app.root)
    before = synthesize(app)
    all_findings = findings_for(before, sources)
    effective = load_config(app.root).policy.overridden_by(policy or Policy())
    findings = apply_policy([all_findings], [before.rendering], effective, app.root).findings
    units, refused = plan(before, findings, sources)

    kept: list[FixUnit] = []
    failed: list[tuple[FixUnit, str]] = []
    result = _verify(app, before, all_findings, units, sources) if units else None
    if isinstance(result, Synthesis) or not units:
        kept = list(units)
    else:  # one bad unit must not sink the others: add them one at a time
        result = None
        for unit in units:
            attempt = _verify(app, before, all_findings, [*kept, unit], sources)
            if isinstance(attempt, Synthesis):
                kept.append(unit)
                result = attempt
            else:
                failed.append((unit, attempt))
    after = result if isinstance(result, Synthesis) else before

    files = _new_files(kept, sources) if kept else {}
    fixed = [f for unit in kept for f in unit.targets]
    unfixed = list(refused)
    for unit, why in failed:
        unfixed += [Unfixed(f, f"the fix failed verification: {why}") for f in unit.targets]
    handled = {id(f) for f in fixed} | {id(u.finding) for u in unfixed}
    unfixed += [
        Unfixed(f, f"no cdk8s fix for the {f.rule} rule")
        for f in findings
        if f.severity == "error" and id(f) not in handled
    ]
    notes = [note for unit in kept for note in unit.notes]
    if kept:
        notes.append(
            f"synthesis: {before.seconds:.2f}s before, {after.seconds:.2f}s after the fix"
        )
    return ChartChange(
        chart_root=app.root,
        chart_name=app.name,
        chart_version=app.version,
        files=[
            FileChange(path, sources.file(path).data, data)
            for path, data in sorted(files.items())
            if data != sources.file(path).data
        ],
        fixed=fixed,
        unfixed=unfixed,
        before=[before.rendering],
        after=[after.rendering],
        recipes=[RECIPE],
        unsafe=bool(kept),
        notes=notes,
    )


# --- planning -------------------------------------------------------------------------------


def plan(
    synthesis: Synthesis, findings: Sequence[Finding], sources: AppSources
) -> tuple[list[FixUnit], list[Unfixed]]:
    """One unit per controller to fix; findings that cannot be planned, with the reason."""
    objects = {o.ref: o for o in synthesis.rendering.objects}
    targets: dict[ObjectRef, list[Finding]] = defaultdict(list)
    refused: list[Unfixed] = []
    for finding in findings:
        if finding.rule == "overlap":
            targets[finding.obj].append(finding)
        elif finding.rule == "stray":
            owner = _owner(objects[finding.obj], synthesis) if finding.obj in objects else None
            if owner is None:
                refused.append(Unfixed(finding, "cannot tell which controller it is meant for"))
            else:
                targets[owner.ref].append(finding)

    units: list[FixUnit] = []
    used_values: set[str] = set()
    for ref in sorted(targets, key=str):
        unit = _controller_unit(objects[ref], synthesis, sources, used_values)
        if isinstance(unit, str):
            refused += [Unfixed(f, unit) for f in targets[ref]]
            continue
        unit.targets = targets[ref]
        units.append(unit)
    return units, refused


def _controller_unit(
    controller: K8sObject, synthesis: Synthesis, sources: AppSources, used_values: set[str]
) -> FixUnit | str:
    origin = synthesis.origins.get(controller.ref)
    selector = controller.selector
    if origin is None or selector is None:
        return f"{controller.ref}: no Python construct call or selector found"
    selector_keys = selector.label_keys()
    key = (
        "app.kubernetes.io/component"
        if any(k.startswith("app.kubernetes.io/") for k in selector_keys)
        else "component"
    )
    if key in selector_keys:
        return f"{controller.ref}: its selector already has {key}; choose labels by hand"
    value = role_of(origin.construct_id, controller.kind)
    if value in used_values:
        value = _label_value(origin.construct_id) or f"{value}-{len(used_values)}"
    used_values.add(value)

    unit = FixUnit(controller.ref)
    wanted = [(controller, controller.pod_labels_path()), (controller, controller.selector_path())]
    for consumer in _consumers_of(controller, synthesis):
        wanted.append((consumer, consumer.selector_path()))
    for obj, path in wanted:
        assert path is not None
        obj_origin = synthesis.origins.get(obj.ref)
        if obj_origin is None:
            return f"{obj.ref}: not traced to a line of the app's Python"
        try:
            site = locate_labels(sources, obj_origin, path)
        except NotLocated as err:
            if obj is controller:
                return str(err)
            unit.notes.append(f"{obj.ref} left as it is: {err}")
            continue
        unit.edits.append(LabelEdit(site, key, value))
        unit.changes.append(LabelChange(obj.ref, path, key, value))
    return unit


def role_of(construct_id: str, kind: str) -> str:
    """The component value for a controller, from its construct id (`api-server` -> server)."""
    words = [w for w in re.split(r"[^a-z0-9]+", construct_id.lower()) if w]
    for word in words:
        if word in ROLE_WORDS:
            return word
    meaningful = [w for w in words if w not in _GENERIC_WORDS]
    return _label_value("-".join(meaningful)) or _DEFAULT_ROLE.get(kind, "server")


def _label_value(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.lower())[:63]
    return value.strip("-_.")


def _consumers_of(controller: K8sObject, synthesis: Synthesis) -> list[K8sObject]:
    """Services, PDBs and NetworkPolicies that select the controller's pods and are its own."""
    pods = controller.pod_labels or {}
    found = []
    for obj in synthesis.rendering.objects:
        selector = obj.selector
        if not obj.is_consumer or selector is None or selector.is_empty:
            continue
        if (obj.namespace or "") != (controller.namespace or ""):
            continue
        if selector.matches(pods) and _owner(obj, synthesis) is controller:
            found.append(obj)
    return found


def _owner(consumer: K8sObject, synthesis: Synthesis) -> K8sObject | None:
    """The one controller a consumer selects; among several, the one its ports point at."""
    selector = consumer.selector
    if selector is None:
        return None
    candidates = [
        o
        for o in synthesis.rendering.objects
        if o.is_controller
        and (o.namespace or "") == (consumer.namespace or "")
        and selector.matches(o.pod_labels or {})
    ]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    scored = sorted(((_port_score(consumer, c), i) for i, c in enumerate(candidates)), reverse=True)
    if scored[0][0] > scored[1][0]:
        return candidates[scored[0][1]]
    return None


def _port_score(consumer: K8sObject, controller: K8sObject) -> int:
    ports: set[str] = set()
    for container in controller.containers():
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                ports |= {str(port[k]) for k in ("name", "containerPort") if port.get(k)}
    spec = consumer.body.get("spec") or {}
    targets = [
        str(p.get("targetPort", p.get("port", "")))
        for p in spec.get("ports") or []
        if isinstance(p, dict)
    ]
    return sum(1 for t in targets if t in ports)


# --- applying and verifying -----------------------------------------------------------------


def _new_files(units: Sequence[FixUnit], sources: AppSources) -> dict[str, bytes]:
    by_file: dict[str, list[LabelEdit]] = defaultdict(list)
    for unit in units:
        for edit in unit.edits:
            by_file[edit.site.path].append(edit)
    return {path: apply_label_edits(sources.file(path), edits) for path, edits in by_file.items()}


def _verify(
    app: CdkApp,
    before: Synthesis,
    findings: Sequence[Finding],
    units: Sequence[FixUnit],
    sources: AppSources,
) -> Synthesis | str:
    """The synthesis of the edited app, or why the edits must not be kept."""
    try:
        after = synthesize(app, _new_files(units, sources))
    except ChartError as err:
        return f"the edited app does not synthesize: {err}"
    old = {o.ref: o for o in before.rendering.objects}
    new = {o.ref: o for o in after.rendering.objects}
    if set(old) != set(new):
        changed = sorted(str(r) for r in set(old) ^ set(new))
        return f"objects appeared or disappeared: {', '.join(changed)}"
    declared: dict[ObjectRef, list[LabelChange]] = defaultdict(list)
    for unit in units:
        for change in unit.changes:
            declared[change.obj].append(change)
    for ref, obj in old.items():
        expected = _with_changes(obj.body, declared.get(ref, []))
        if expected != new[ref].body:
            return f"{ref} differs by more than the added labels"
    after_findings = findings_for(after, AppSources(app.root))
    remaining = {f.key for f in after_findings}
    targeted = {f.key for unit in units for f in unit.targets}
    if targeted & remaining:
        return "the findings it targets remain: " + ", ".join(
            sorted(str(k[1]) for k in targeted & remaining)
        )
    new_keys = remaining - {f.key for f in findings}
    if new_keys:
        return "new findings: " + ", ".join(sorted(f"{k[0]} {k[1]}" for k in new_keys))
    return after


def _with_changes(body: Any, changes: Sequence[LabelChange]) -> Any:
    result = copy.deepcopy(body)
    for change in changes:
        node = result
        for key in change.manifest_path.split("."):
            node = node.setdefault(key, {})
        node[change.key] = change.value
    return result
