"""Migration notes: the exact commands that carry an existing release over a breaking fix.

Written from the rendered objects before and after the fix, never from templates: only the
rendered objects hold the real names, selectors and hook annotations. Objects are matched by
kind, name and namespace across all scenarios; the first scenario to render an object (the
default one comes first) gives its names. Steps follow docs/domain.md §2: label what is running,
orphan-delete the controller, upgrade, let the new controller adopt and roll, check, clean up.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from chartfix.files import repository_root
from chartfix.model.changes import ChartChange
from chartfix.model.kinds import RELEASE_WORDS, Words
from chartfix.model.objects import K8sObject, ObjectRef, mapping_at
from chartfix.model.selectors import LabelSelector
from chartfix.publish.bump import Level, bump_version
from chartfix.publish.markdown import headings, split_lines
from chartfix.publish.releases import Release
from chartfix.rules.ksm import runs_autosharded_ksm
from chartfix.rules.synthesized import placeholders
from chartfix.verify import paths_differing

NoteTarget = Literal["auto", "migration", "readme"]
UpgradeKind = Literal["safe", "step", "unsafe"]
"""What upgrading a release over a change asks: `safe`, `helm upgrade` alone; `step`, no
immutable field changes (the upgrade succeeds) but a step must come first or running pods
drop out of a Service; `unsafe`, an immutable field changes (the upgrade fails without the
steps)."""
IMMUTABLE_SELECTOR_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# A label only the controller's own pods carry, so that Job pods sharing the old selector are
# never relabelled (docs/domain.md §2).
OWN_POD_KEY = {
    "Deployment": "pod-template-hash",
    "StatefulSet": "statefulset.kubernetes.io/pod-name",
    "DaemonSet": "controller-revision-hash",
}
MIGRATION_FILE = "MIGRATION.md"
README_FILE = "README.md"
HELM_DOCS_TEMPLATE = "README.md.gotmpl"


@dataclass(frozen=True)
class ObjectChange:
    """One object as rendered before and after the fix."""

    before: K8sObject
    after: K8sObject

    @property
    def ref(self) -> ObjectRef:
        return self.before.ref

    @property
    def selector_changed(self) -> bool:
        return self.before.selector != self.after.selector

    @property
    def template_changed(self) -> bool:
        return self.before.pod_template != self.after.pod_template

    @property
    def labels_changed(self) -> bool:
        return (
            self.before.labels != self.after.labels
            or self.before.pod_labels != self.after.pod_labels
            or self.selector_changed
        )


def object_changes(change: ChartChange, *, first_only: bool = False) -> list[ObjectChange]:
    """Objects that differ between the renderings, once each, default scenario first;
    `first_only`: those of the first scenario alone (the release a note is written for)."""
    pairs = list(zip(change.before, change.after, strict=True))
    if first_only:
        pairs = pairs[:1]
    pairs.sort(key=lambda pair: pair[0].scenario != "default")
    seen: set[ObjectRef] = set()
    found: list[ObjectChange] = []
    for old, new in pairs:
        after = {obj.ref: obj for obj in new.objects}
        noise = set(change.noise.get(old.scenario, ()))
        for obj in old.objects:
            twin = after.get(obj.ref)
            if obj.ref in seen or twin is None or not _differs(obj, twin, noise):
                continue
            seen.add(obj.ref)
            found.append(ObjectChange(obj, twin))
    return found


def _differs(obj: K8sObject, twin: K8sObject, noise: set[tuple[str, str]]) -> bool:
    """Whether `twin` differs from `obj` other than where a control render of the unchanged
    chart differs too (a checksum of a random password): that is no change of the fix's."""
    if twin.body == obj.body:
        return False
    name = str(obj.ref)
    return any((name, path) not in noise for path in paths_differing(obj.body, twin.body))


@dataclass
class Plan:
    """The note's steps, gathered per phase so that there is a single `helm upgrade`."""

    before: list[tuple[str, list[str], list[str]]]
    """(heading, explanation lines, commands) to run before the upgrade."""
    after: list[str]
    checks: list[str]
    cleanup: list[str]
    safe: list[str]
    warnings: list[str]
    recreate: list[str]
    """`kind/name` of every object that must go before `helm upgrade` or `helm rollback`."""
    rollback: list[str]
    """Commands that let `helm rollback` to the old chart through the same immutable fields."""
    keep: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    """(heading, explanation lines, commands) to run before the upgrade although no
    immutable field asks for them: a consumer (a Service) starts to select on a label the
    running pods of its controllers get only as each is replaced; labelled first, they stay
    selected through the rolling update."""
    kept: list[str] = field(default_factory=list)
    """Commands showing, after the upgrade, that those consumers still select every pod."""
    unkept_back: list[str] = field(default_factory=list)
    """Consumers whose old selector misses pods the new chart starts: `helm rollback` drops
    them the same way (only when the fix took a label out of a pod template)."""
    namespaces: dict[str, str] = field(default_factory=dict)
    """`kind/name` of `recreate` -> the namespace the object lives in."""


def change_plan(change: ChartChange, namespace: str) -> Plan:
    """The plan for the release the note is written for: the objects of the first scenario
    (the default values, or the user's -f/--set), never those other values render instead (a
    chart rendering a Deployment or a DaemonSet by value has only one of them)."""
    before = change.before[0].objects if change.before else []
    after = change.after[0].objects if change.after else []
    words = change.kind.words
    return plan(object_changes(change, first_only=True), namespace, before, after, words)


def upgrade_kind(change: ChartChange) -> UpgradeKind:
    """What upgrading a release over `change` asks (UpgradeKind). `unsafe` stays the
    recipes' word (an immutable field changes); `step` is read from the renderings: a
    consumer's selector asks for a label running pods get only when replaced."""
    if change.unsafe:
        return "unsafe"
    return "step" if change.changed and change_plan(change, "default").keep else "safe"


def default_level(change: ChartChange) -> Level:
    """Major when an immutable field changes (upgrades need the migration); minor when no
    immutable field changes but running pods need a step (a consumer's selector asks for a
    label they get only when replaced); else patch: a bug fix with nothing to do on upgrade
    (a test Pod, a hook Job or a CronJob got labels of their own)."""
    if change.needs_migration:
        return "major"
    return "minor" if upgrade_kind(change) == "step" else "patch"


def needs_note(change: ChartChange) -> bool:
    """The change needs its migration note written down (a file in the commit, a report's
    `migration`): upgrading a release asks for more than `helm upgrade`."""
    return upgrade_kind(change) != "safe"


def other_scenarios(change: ChartChange) -> dict[str, list[str]]:
    """`Kind/name` -> the scenarios whose values change that object, for objects the first
    scenario does not render changed: what the note does not cover."""
    covered = {item.ref for item in object_changes(change, first_only=True)}
    out: dict[str, list[str]] = {}
    for old, new in list(zip(change.before, change.after, strict=True))[1:]:
        after = {obj.ref: obj for obj in new.objects}
        noise = set(change.noise.get(old.scenario, ()))
        for obj in old.objects:
            twin = after.get(obj.ref)
            if obj.ref in covered or twin is None or not _differs(obj, twin, noise):
                continue
            if twin.selector != obj.selector or twin.pod_template != obj.pod_template:
                names = out.setdefault(str(obj.ref), [])
                if old.scenario not in names:
                    names.append(old.scenario)
    return out


def plan(
    changes: Sequence[ObjectChange], namespace: str, rendered: Sequence[K8sObject] = (),
    rendered_after: Sequence[K8sObject] = (), words: Words = RELEASE_WORDS,
) -> Plan:
    """Steps for `changes`; `rendered` (the objects as they were, and `rendered_after` as
    they become, for the rollback) tells which other controllers' pods carry the same
    labels, so that a label step never reaches them. `words` name the deploy step."""
    steps = Plan([], [], [], [], [], [], [], [])
    for item in sorted(changes, key=lambda c: _kind_rank(c.before.kind)):
        obj, new = item.before, item.after
        ns = obj.namespace or namespace
        if obj.kind in IMMUTABLE_SELECTOR_KINDS and item.selector_changed:
            _controller_steps(steps, item, ns, rendered, rendered_after, words)
        elif obj.kind == "Job" and item.template_changed:
            if obj.recreated_by_helm:
                steps.safe.append(f"Job `{obj.name}`: a Helm hook recreated on each run.")
            elif not obj.is_hook:
                delete = f"kubectl -n {ns} delete job {obj.name} --ignore-not-found"
                steps.before.append((
                    f"Job `{obj.name}`",
                    ["Its pod template changes, which Kubernetes refuses for an existing "
                     f"Job: delete the Job before {words.ing} ({words.the} creates it "
                     "again)."],
                    [delete],
                ))
                steps.recreate.append(f"job/{obj.name}")
                steps.namespaces[f"job/{obj.name}"] = ns
                steps.rollback.append(delete)
        elif obj.kind in ("Service", "PodDisruptionBudget", "NetworkPolicy") and (
            item.selector_changed
        ):
            steps.safe.append(
                f"{obj.kind} `{obj.name}`: selector `{_sel(obj.selector)}` becomes "
                f"`{_sel(new.selector)}` (updated in place by {words.the})."
            )
        elif obj.is_controller and item.template_changed:
            steps.safe.append(
                f"{obj.kind} `{obj.name}`: {_template_change(obj, new)}; a normal rolling update."
            )
        if obj.kind == "StatefulSet" and item.labels_changed:
            affected, image = runs_autosharded_ksm(obj)
            if affected:
                steps.warnings.append(
                    f"StatefulSet `{obj.name}` runs kube-state-metrics with autosharding on "
                    f"`{image}` (older than v2.13.0). After its labels change the running "
                    "pods keep watching with the old selector and stop recomputing shards, "
                    f"silently. Restart it after {words.the}: `kubectl -n {ns} rollout "
                    f"restart statefulset/{obj.name}`"
                )
                restart = f"kubectl -n {ns} rollout restart statefulset/{obj.name}"
                if restart not in steps.after:
                    steps.after.append(restart)
    for item in changes:
        if item.before.kind in CONSUMER_KINDS and item.selector_changed:
            _keep_steps(steps, item, changes, namespace, rendered, rendered_after, words)
    return steps


CONSUMER_KINDS = ("Service", "PodDisruptionBudget", "NetworkPolicy")
"""Objects that select pods and whose selector `helm upgrade` changes in place."""


def _keep_steps(
    steps: Plan, item: ObjectChange, changes: Sequence[ObjectChange], namespace: str,
    rendered: Sequence[K8sObject], rendered_after: Sequence[K8sObject],
    words: Words = RELEASE_WORDS,
) -> None:
    """A consumer whose new selector asks for a label the running pods of a controller it
    keeps selecting lack: `helm upgrade` changes the selector at once, the pods get the label
    only as the rolling update replaces each (a StatefulSet from its last ordinal, one at a
    time). Until then the consumer leaves them out: a headless Service drops them from peer
    discovery, which can cost a clustered database its quorum. The step labels them before
    the upgrade, per controller by its own selector (plus the key only its own pods carry, so
    that a Job's pods are never labelled). A controller whose selector changes is labelled by
    its own step already: only a label that step does not give is given here."""
    obj, new = item.before, item.after
    ns = obj.namespace or namespace
    old_sel, new_sel = obj.selector, new.selector
    if old_sel is None or new_sel is None or new_sel.is_empty:
        return
    after = {o.ref: o for o in rendered_after}
    by_ref = {c.ref: c for c in changes}
    members: list[tuple[K8sObject, dict[str, str]]] = []
    for ctrl in rendered:
        later = after.get(ctrl.ref)
        if (
            ctrl.kind not in OWN_POD_KEY or (ctrl.namespace or namespace) != ns
            or ctrl.pod_labels is None or later is None or later.pod_labels is None
            or ctrl.selector is None or ctrl.selector.is_empty
            or not old_sel.matches(ctrl.pod_labels) or not new_sel.matches(later.pod_labels)
        ):
            continue
        running = ctrl.pod_labels
        missing = {k: v for k, v in new_sel.match_labels.items() if running.get(k) != v}
        own = by_ref.get(ctrl.ref)
        if own is not None and own.selector_changed:  # its own step labels its pods
            given = (own.after.selector or LabelSelector()).match_labels
            missing = {k: v for k, v in missing.items() if given.get(k) != v}
        if missing:
            members.append((ctrl, missing))
    if not members:
        return
    names = ", ".join(f"{m.kind} `{m.name}`" for m, _ in members)
    labels = sorted({f"{k}={v}" for _, missing in members for k, v in missing.items()})
    explain = [
        f"selector `{_sel(old_sel)}` becomes `{_sel(new_sel)}`. {words.deploy} changes it at "
        f"once, while the running pods of {names} get `{', '.join(labels)}` only as the "
        f"rolling update replaces each: until then {obj.kind} `{obj.name}` leaves them out"
        + (" (for a headless Service, out of peer discovery: a cluster can lose its quorum)"
           if obj.kind == "Service" and _headless(obj) else "")
        + ". Label them first (each pod the update starts writes the label itself), then "
        "check that the new selector finds every one of them.",
    ]
    commands: list[str] = []
    for ctrl, missing in members:
        assert ctrl.selector is not None
        labelling, why = _label_commands(
            ctrl, ctrl.selector, missing, ns, rendered, targets=("pods",)
        )
        commands += labelling
        if why:
            explain.append(why)
    commands.append(
        f"kubectl -n {ns} get pods -l {_quote(_sel(new_sel))} -o "
        + _quote("custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name")
        + f"  # every pod of {', '.join(m.name for m, _ in members)}"
    )
    steps.keep.append((f"{obj.kind} `{obj.name}`", explain, commands))
    steps.safe = [line for line in steps.safe if not line.startswith(f"{obj.kind} `{obj.name}`:")]
    if obj.kind == "Service":
        steps.kept.append(
            f"kubectl -n {ns} get endpointslices -l "
            f"{_quote('kubernetes.io/service-name=' + obj.name)} -o "
            + _quote("custom-columns=NAME:.metadata.name,PODS:.endpoints[*].targetRef.name")
        )
    if not all(
        (later := after.get(m.ref)) is not None and old_sel.matches(later.pod_labels or {})
        for m, _ in members
    ):
        steps.unkept_back.append(f"{obj.kind} `{obj.name}`")
    for ctrl, _ in members:
        check = f"kubectl -n {ns} rollout status {ctrl.kind.lower()}/{ctrl.name}"
        if check not in steps.checks:
            steps.checks.append(check)


def _template_change(obj: K8sObject, new: K8sObject) -> str:
    """What changes in a controller's pod template: its labels, else its annotations."""
    if obj.pod_labels != new.pod_labels:
        return "pod labels change"
    annotations = "spec.template.metadata.annotations"
    if mapping_at(obj.body, annotations) != mapping_at(new.body, annotations):
        return "pod annotations change"
    return "its pod template changes"


def _headless(obj: K8sObject) -> bool:
    return (mapping_at(obj.body, "spec") or {}).get("clusterIP") == "None"


# Controllers whose pods carry each kind's own-pod key (OWN_POD_KEY): a label step selecting
# by that key reaches their pods too when they match the old selector.
_SAME_KEY_KINDS = {
    "Deployment": ("Deployment",),
    "StatefulSet": ("StatefulSet",),
    "DaemonSet": ("DaemonSet", "StatefulSet"),
}
_STATEFULSET_POD = OWN_POD_KEY["StatefulSet"]


def _label_commands(
    obj: K8sObject, selector: LabelSelector, labels: Mapping[str, str], ns: str,
    rendered: Sequence[K8sObject], targets: Sequence[str] = (),
) -> tuple[list[str], str]:
    """kubectl lines giving `labels` to the pods (and ReplicaSets) of `obj` that `selector`
    selects, and a sentence for the reader when other controllers share those labels.

    Selected with `-l` (never a pipe into xargs: kubectl wants the resources before the
    labels, and a step that selects nothing must do nothing). When another controller's
    pods match too, a label they lack (or hold with another value) tells them apart; when no
    label does, the step lists the objects with their owner and labels by owner. `targets`:
    what to label (default: a Deployment's ReplicaSets and pods, another's pods).
    """
    label_args = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(labels.items()))
    own_key = OWN_POD_KEY[obj.kind]
    mine = obj.pod_labels or {}
    extra: list[str] = []
    tangled: list[str] = []
    for other in rendered:
        if (
            other.ref == obj.ref or other.kind not in _SAME_KEY_KINDS[obj.kind]
            or other.pod_labels is None or not selector.matches(other.pod_labels)
        ):
            continue
        if obj.kind == "DaemonSet" and other.kind == "StatefulSet":
            requirement: str | None = f"!{_STATEFULSET_POD}"
        else:
            requirement = _distinguishing(mine, other.pod_labels)
        if requirement is None:
            tangled.append(str(other.ref))
        elif requirement not in extra:
            extra.append(requirement)
    base = ",".join([str(selector), *extra])
    if tangled:
        who = ", ".join(tangled)
        if obj.kind == "Deployment":
            listing = (
                f"kubectl -n {ns} get rs -l {_quote(base)} -o custom-columns="
                "NAME:.metadata.name,HASH:.metadata.labels.pod-template-hash,"
                "OWNER:.metadata.ownerReferences[0].name"
            )
            step = (
                f"kubectl -n {ns} label rs,pods -l {_quote(base + ',pod-template-hash=HASH')}"
                f" --overwrite {label_args}  # once per HASH whose OWNER is {obj.name}"
            )
        else:
            listing = (
                f"kubectl -n {ns} get pods -l {_quote(base + ',' + own_key)} -o custom-columns="
                "NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name"
            )
            step = (
                f"kubectl -n {ns} label pods POD --overwrite {label_args}"
                f"  # once per POD whose OWNER is {obj.name}"
            )
        why = (
            f"The pods of {who} carry the same labels, so no label selects only those of "
            f"{obj.kind} `{obj.name}`: list them with their owner and label those it owns."
        )
        return [listing, step], why
    own = _quote(f"{base},{own_key}")
    targets = targets or (["rs", "pods"] if obj.kind == "Deployment" else ["pods"])
    return [
        f"kubectl -n {ns} label {target} -l {own} --overwrite {label_args}"
        for target in targets
    ], ""


def _distinguishing(mine: Mapping[str, str], theirs: Mapping[str, str]) -> str | None:
    """A selector requirement our pods meet and theirs do not, or None: our own value of a
    key both carry (one requirement then sets us apart from every other), else a key only
    they carry, else a key only we carry."""
    for key in sorted(mine):
        if key in theirs and mine[key] != theirs[key]:
            return f"{key}={mine[key]}"
    for key in sorted(theirs):
        if key not in mine:
            return f"!{key}"
    for key in sorted(mine):
        if key not in theirs:
            return key
    return None


def _controller_steps(
    steps: Plan, item: ObjectChange, ns: str, rendered: Sequence[K8sObject],
    rendered_after: Sequence[K8sObject], words: Words = RELEASE_WORDS,
) -> None:
    obj, new = item.before, item.after
    old_sel, new_sel = obj.selector or LabelSelector(), new.selector or LabelSelector()
    running = obj.pod_labels or {}
    added = {k: v for k, v in new_sel.match_labels.items() if running.get(k) != v}
    kind = obj.kind.lower()
    explain = [f"selector `{_sel(old_sel)}` becomes `{_sel(new_sel)}`."]
    commands: list[str] = []
    if added:
        labelling, why = _label_commands(obj, old_sel, added, ns, rendered)
        commands += labelling
        what = "ReplicaSet(s) and their pods" if obj.kind == "Deployment" else "pods"
        if _recreates(obj):
            explain.append(
                f"Give the running {what} the new label, so that the new {obj.kind} adopts "
                "them; then delete the old object but not its pods. Its strategy is "
                "`Recreate`: the new Deployment stops every old pod before it starts a new "
                f"one, so nothing serves from {words.the} until the new pods are ready (no "
                f"old and new pod ever run together, as the {words.source} wants). Without "
                "the label the old pods would keep running beside the new ones."
            )
        else:
            explain.append(
                f"Give the running {what} the new label, so that the new {obj.kind} adopts "
                "them and replaces them without downtime; then delete the old object but not "
                "its pods."
            )
        if why:
            explain.append(why)
    else:
        explain.append(
            "The running pods already match the new selector; delete the old object but not "
            "its pods, and the new one adopts them."
        )
    if obj.kind == "DaemonSet" and _host_ports(obj):
        ports = ", ".join(str(p) for p in _host_ports(obj))
        steps.warnings.append(
            f"DaemonSet `{obj.name}` uses hostPort {ports}: old and new pods cannot run on "
            "one node together. Make sure the label step below found the old pods (they "
            "must be adopted); an old pod left unadopted holds the port and its node's new "
            f"pod stays Pending until you delete the old one (`kubectl -n {ns} get pods -l "
            f"{_quote(_sel(old_sel))}`)."
        )
    orphan = f"kubectl -n {ns} delete {kind} {obj.name} --cascade=orphan"
    commands.append(orphan)
    steps.before.append((f"{obj.kind} `{obj.name}`", explain, commands))
    steps.recreate.append(f"{kind}/{obj.name}")
    steps.namespaces[f"{kind}/{obj.name}"] = ns
    if obj.kind == "StatefulSet":
        steps.after.append(f"kubectl -n {ns} rollout restart statefulset/{obj.name}")
    steps.checks.append(f"kubectl -n {ns} rollout status {kind}/{obj.name}")
    if obj.kind == "Deployment":
        listing = (
            f"kubectl -n {ns} get rs -l {_quote(_sel(old_sel))} -o custom-columns="
            "NAME:.metadata.name,READY:.status.readyReplicas,OWNER:.metadata.ownerReferences[0].name"
        )
    else:  # its revision history, orphaned with it and never matched by the new selector
        listing = (
            f"kubectl -n {ns} get controllerrevisions -l {_quote(_sel(old_sel))} -o "
            "custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name"
        )
    if listing not in steps.cleanup:  # controllers sharing one old selector list it once
        steps.cleanup.append(listing)
    # Back to the old chart: what runs then must match the old selector again. A label the
    # fix took out of the selector may have another value on the new pods (a chart version
    # in it changes with the bump), so every such label is given back; the new selector
    # does not hold it, so the new object keeps its pods until it is deleted.
    back = {k: v for k, v in old_sel.match_labels.items() if new_sel.match_labels.get(k) != v}
    if back:
        steps.rollback += _label_commands(new, new_sel, back, ns, rendered_after)[0]
    steps.rollback.append(orphan)


def _recreates(obj: K8sObject) -> bool:
    """A Deployment whose strategy is Recreate: its rollouts stop every old pod first."""
    strategy = mapping_at(obj.body, "spec.strategy") or {}
    return obj.kind == "Deployment" and strategy.get("type") == "Recreate"


def _host_ports(obj: K8sObject) -> list[int]:
    ports: list[int] = []
    for container in obj.containers():
        for port in container.get("ports") or []:
            if isinstance(port, Mapping) and port.get("hostPort"):
                ports.append(int(port["hostPort"]))
    return ports


def _quote(text: str) -> str:
    """Single quotes always: a selector is easier to read, and to edit, when it looks alike
    in every command."""
    return "'" + text.replace("'", "'\\''") + "'"


def _sel(selector: LabelSelector | None) -> str:
    return str(selector) if selector is not None else "<none>"


def migration_note(
    change: ChartChange,
    release: str,
    namespace: str,
    *,
    version: str | None = None,
    chart_ref: str | None = None,
    heading_level: int = 2,
    title: str | None = None,
    manager: Release | None = None,
) -> str:
    """The Markdown note for upgrading release `release` in `namespace` over this change
    (`manager`: what deploys it, when not the Helm CLI: Argo CD, Flux, helmfile).

    `version` is the chart's new version (for `helm upgrade --version`; default: the version
    the default bump gives), `chart_ref` how the user installs the chart (default: `CHART`,
    a placeholder to replace). Targets applied as YAML (plain manifests, kustomize) get a
    note in their own words (`applied_note`): there is no release.
    """
    h = "#" * heading_level
    sub = "#" * min(heading_level + 1, 6)
    if not change.released:
        return applied_note(change, namespace, heading_level=heading_level, title=title)
    version = version or default_version(change)
    target = version or change.chart_version
    steps = change_plan(change, namespace)
    ref = chart_ref or "CHART"
    upgrade = f"helm upgrade {release} {ref}" + (f" --version {version}" if version else "")
    upgrade += f" -n {namespace}  # plus your usual -f/--set values"
    if target == change.chart_version:  # --bump none: both charts carry one version
        title = title or f"Upgrading to this change (chart version {target} unchanged)"
    out = [f"{h} {title or f'Upgrading to {target}'}", ""]
    out += _written_for(change, release, namespace)
    if manager is not None and manager.manager != "helm":
        first, upgrade = _managed_by(manager, upgrade)
        out += first
    rollback = _rollback(change, steps, release, namespace, sub, version)
    words = change.kind.words
    if manager is not None and manager.manager in GITOPS:
        tool = GITOPS[manager.manager]
        words = replace(words, deploy=f"the {tool} sync", step=f"Turn the {tool} sync on "
                        "again: it upgrades the release")
    out += _steps_text(change, steps, upgrade, namespace, sub, words, rollback)
    return _without_placeholders("\n".join(out).rstrip("\n") + "\n", change)


def _without_placeholders(note: str, change: ChartChange) -> str:
    """`note` with each value chartfix synthesized shown as a word to replace, named after
    the value it stands for (`release-name-ROLE`, not `release-name-placeholder-1`; as
    `CHART` in `helm upgrade`), and a line saying so: a made-up name in a kubectl line
    would be a wrong one."""
    made_up: dict[str, str] = {}
    for rendering in change.before:
        made_up.update(placeholders(rendering))
    used = [p for p in sorted(made_up, key=len, reverse=True) if p in note]
    if not used:
        return note
    words = {p: re.sub(r"[^A-Za-z0-9]+", "_", made_up[p]).strip("_").upper() for p in used}
    for value in used:
        note = note.replace(value, words[value])
    named = ", ".join(f"{words[v]} (`{made_up[v]}`)" for v in sorted(used))
    return note + (
        f"\n{named}: the value your release gives; chartfix rendered without it. Put it "
        "in the names above before running these lines.\n"
    )


def _steps_text(
    change: ChartChange, steps: Plan, deploy_line: str, namespace: str, sub: str,
    words: Words, back: list[str],
) -> list[str]:
    """The steps of a note, in `words`: before, deploy (`deploy_line`), after, the simple
    variant, going back (`back`: the section for a breaking change) and what changes safely."""
    deploy = words.deploy
    out: list[str] = []
    breaking = bool(steps.before)
    if breaking:
        out += [
            f"{words.this} changes fields Kubernetes does not let {deploy} change: until "
            f"the steps below are done {words.the} fails with `field is immutable`. Run them "
            "in this order.",
            "",
        ]
    elif steps.keep:
        out += [
            f"{words.this} changes no field Kubernetes keeps immutable, and {deploy} "
            "alone succeeds; but without the step below, running pods drop out of a Service "
            "(or another selector) until the rolling update replaces them. Run it first.",
            "",
        ]
    else:
        out += [f"No manual step is needed: {deploy} applies every change in place.", ""]
    for warning in steps.warnings + _ksm_notes(change, steps):
        out += [f"> **Warning:** {warning}", ""]
    if breaking or steps.keep:
        out += [f"{sub} 1. Before {deploy}", ""]
        for heading, explain, commands in steps.before + steps.keep:
            out += [f"{heading}: " + " ".join(explain), "", "```sh", *commands, "```", ""]
        out += [f"{sub} 2. {words.step}", "", "```sh", deploy_line, "```", ""]
        out += [f"{sub} 3. {words.after}", ""]
        if steps.after:
            out += ["Restart the StatefulSets, so that every pod runs the new template:", "",
                    "```sh", *steps.after, "```", ""]
        if steps.checks:
            out += ["Wait until the new pods are ready:", "", "```sh", *steps.checks, "```", ""]
        if steps.kept:
            out += ["Check, while the pods roll and after, that each Service still has every "
                    "pod as an endpoint (PODS lists them by name):", "",
                    "```sh", *steps.kept, "```", ""]
        if steps.cleanup:
            out += [_cleanup_text(steps, namespace), "", "```sh", *steps.cleanup, "```", ""]
    if breaking:
        out += _simple_variant(steps, deploy_line, namespace, sub, not change.released)
        out += back
    elif steps.keep:
        undo = words.back
        again = (
            f"{undo} needs no step: the old selectors ask for no label that the pods "
            "the new version started lack." if not steps.unkept_back else
            f"{undo} changes the selector of {', '.join(steps.unkept_back)} back at "
            "once as well, and the pods the new version started lack a label the old selector "
            "asks for until each is replaced: give them that label first, as above."
        )
        out += [f"{sub} Rolling back", "", again, ""]
    if steps.safe:
        out += [f"{sub} Changed in place by {words.the} (safe)", ""]
        out += [f"- {line}" for line in steps.safe] + [""]
    return out


_APPLY = "\0apply\0"
"""Where a section's apply line goes, before sections of alike overlays are merged."""


def applied_note(
    change: ChartChange, namespace: str, *, heading_level: int = 2, title: str | None = None
) -> str:
    """The note for a target whose YAML is applied (`kubectl apply -f DIR`, `kubectl apply
    -k OVERLAY`, or an Argo CD / Flux sync of it): no release, no values. Each scenario (a
    kustomize overlay) builds its own objects in its own namespace, so each gets its steps;
    overlays whose steps read alike share one section. An object that names no namespace
    lands in `namespace` (what `kubectl -n NAMESPACE apply` does)."""
    h = "#" * heading_level
    root = change.chart_root.name
    sections: dict[str, tuple[list[str], list[str]]] = {}
    unnamed = False
    for old, new in zip(change.before, change.after, strict=True):
        changes = _changed(old.objects, new.objects)
        if not changes:
            continue
        unnamed |= any(not c.before.namespace for c in changes)
        steps = plan(changes, namespace, old.objects, new.objects, change.kind.words)
        sub = "#" * min(heading_level + (2 if len(change.before) > 1 else 1), 6)
        body = _steps_text(
            change, steps, _APPLY, namespace, sub, change.kind.words, _revert(steps, _APPLY, sub)
        )
        scenarios, lines = sections.setdefault("\n".join(body), ([], []))
        scenarios.append(old.scenario)
        lines.append(_apply_line(change, old.objects, old.scenario, namespace))
    top = _from_top(change.chart_root)
    output = f"{top}/{change.kind.output}" if change.kind.output else top
    out = [f"{h} {title or 'Applying this change'}", ""]
    out.append(change.kind.applied_as.format(root=root, path=output))
    out[-1] += (
        " Paths are from the top of the repository." if _from_top(change.chart_root) != "."
        else f" Paths are from `{root}` itself."
    )
    if unnamed:
        out[-1] += (
            f" Objects that name no namespace are taken to land in `{namespace}` (regenerate "
            "with `--namespace NS` for another)."
        )
    out += [
        "",
        "With Argo CD or Flux, suspend automated sync first (Argo CD: turn off auto-sync and "
        "self-heal; Flux: `flux suspend kustomization NAME`): a sync would put back an object "
        "a step deletes from the YAML still in git. At the apply step, merge this change and "
        "sync (or resume), instead of running `kubectl apply`.",
        "",
    ]
    for text, (scenarios, lines) in sections.items():
        if len(change.before) > 1:
            names = ", ".join(f"`{name}`" for name in scenarios)
            out += [f"{h}# {'Overlays' if len(scenarios) > 1 else 'Overlay'} {names}", ""]
        out += text.replace(_APPLY, "\n".join(lines)).split("\n")
    if not sections:
        out += ["No manual step is needed: `kubectl apply` applies every change in place.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _changed(before: Sequence[K8sObject], after: Sequence[K8sObject]) -> list[ObjectChange]:
    """The objects of one scenario that the change makes differ."""
    new = {obj.ref: obj for obj in after}
    return [
        ObjectChange(obj, twin) for obj in before
        if (twin := new.get(obj.ref)) is not None and twin.body != obj.body
    ]


def _apply_line(
    change: ChartChange, objects: Sequence[K8sObject], scenario: str, namespace: str
) -> str:
    """How one scenario is applied, in the kind's words (`KindFacts.apply`: `kubectl apply -k`
    of a kustomize overlay, `kubectl apply -f` of the folder of plain manifests or of a cdk8s
    app's output); `-n` only when some object names no namespace (an object naming another
    one than `-n` is refused by kubectl)."""
    kind = change.kind
    path = _from_top(change.chart_root)
    if kind.output:
        path = posixpath.normpath(f"{path}/{kind.output}")
    if kind.overlays and scenario != "default":
        path = posixpath.normpath(f"{path}/{scenario}")
    ns = f"-n {namespace} " if any(not o.namespace for o in objects) else ""
    return kind.apply.format(ns=ns, path=_quote(path))


def _from_top(root: Path) -> str:
    """The target's folder as a path from the top of its git repository (where a note's
    reader runs commands from), or `.` outside a repository (from the target itself)."""
    top = repository_root(root)
    return Path(root).resolve().relative_to(top).as_posix() or "."


def _revert(steps: Plan, apply: str, sub: str) -> list[str]:
    """Back to the YAML before this change: applying it meets the same immutable fields."""
    return [
        f"{sub} Going back to the YAML before this change", "",
        "Applying the old YAML changes the same immutable fields back and fails the same "
        "way. The steps mirror the apply: give the running pods the labels the old selectors "
        "need, delete the new objects but not their pods, then revert this commit and apply.",
        "", "```sh", *steps.rollback, "git revert --no-edit COMMIT  # COMMIT: this change",
        apply, *steps.after, *steps.checks, "```", "",
    ]


_KIND_ORDER = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def _kind_rank(kind: str) -> int:
    """Deployments first, Jobs last: the order in which a reader meets the risk."""
    return _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)


def default_version(change: ChartChange) -> str | None:
    """The chart version after the default bump, or None when the version is not SemVer."""
    try:
        return bump_version(change.chart_version, default_level(change))
    except ValueError:
        return None


GITOPS = {"argocd": "Argo CD", "flux": "Flux"}
ARGO_SUSPEND = '{"spec":{"syncPolicy":{"automated":null}}}'
ARGO_RESUME = '{"spec":{"syncPolicy":{"automated":{}}}}'
FLUX_SUSPEND = '{"spec":{"suspend":true}}'
FLUX_RESUME = '{"spec":{"suspend":false}}'


def _managed_by(release: Release, upgrade: str) -> tuple[list[str], str]:
    """(what to do first, the line that deploys the new chart) for a release Argo CD, Flux or
    helmfile deploys. A GitOps controller would apply the merged change before the steps
    below: its sync is suspended first (`kubectl patch`, as their CLIs do), and resuming it
    is the upgrade."""
    if release.manager == "helmfile":
        return [
            "helmfile deploys this release: run the steps below, with `helmfile apply "
            f"--selector name={release.name}` where the note says `helm upgrade` (helmfile "
            "runs that upgrade with your helmfile's values).", "",
        ], upgrade
    if release.manager == "argocd":
        patch = _patch(release, "application")
        return [
            f"The Argo CD Application `{release.owner}` deploys this release: before this "
            "change is merged, stop its automated sync, or Argo CD applies the new chart "
            "before the steps below (and fails on the immutable fields):", "",
            "```sh", f"{patch} '{ARGO_SUSPEND}'", "```", "",
            "Then merge, and run the steps; turning the automated sync on again is the "
            "upgrade (put back `prune`/`selfHeal` if the Application had them).", "",
        ], f"{patch} '{ARGO_RESUME}'"
    patch = _patch(release, "helmrelease")
    return [
        f"The Flux HelmRelease `{release.owner}` deploys this release: before this change "
        "is merged, suspend it, or Flux upgrades the release before the steps below:", "",
        "```sh", f"{patch} '{FLUX_SUSPEND}'", "```", "",
        "Then merge, and run the steps; resuming the HelmRelease is the upgrade.", "",
    ], f"{patch} '{FLUX_RESUME}'"


def _patch(release: Release, kind: str) -> str:
    return f"kubectl -n {release.owner_namespace} patch {kind} {release.owner} --type merge -p"


def releases_note(
    changes: Sequence[tuple[Release, ChartChange]],
    *,
    version: str | None = None,
    heading_level: int = 2,
    title: str | None = None,
) -> str:
    """The note for a chart run as several releases (or one a GitOps controller deploys):
    one block of steps per release, each from the change rendered for that release."""
    (first, change), *_ = changes
    if len(changes) == 1 and first.manager == "helm":
        return migration_note(change, first.name, first.namespace, version=version,
                              heading_level=heading_level, title=title)
    h = "#" * heading_level
    target = version or default_version(change) or change.chart_version
    out = [f"{h} {title or f'Upgrading to {target}'}", "",
           f"This chart runs as {len(changes)} release{'s' if len(changes) != 1 else ''}: "
           "one block of steps for each, with the names that release renders (the change to "
           "the chart is the same for all).", ""]
    for release, own in changes:
        out.append(migration_note(own, release.name, release.namespace, version=version,
                                  heading_level=min(heading_level + 1, 6),
                                  title=release.describe(), manager=release))
    return "\n".join(out).rstrip("\n") + "\n"


def _written_for(change: ChartChange, release: str, namespace: str) -> list[str]:
    first = change.before[0] if change.before else None
    values = (
        "the chart's default values (values.yaml)" if first is None or first.scenario == "default"
        else f"the values `{' '.join(first.values)}`" if first.values
        else f"the values of `{first.scenario}`"
    )
    lines = [
        f"Written for release `{release}` in namespace `{namespace}`, installed with {values}: "
        "the steps name the objects those values render. For another release, regenerate "
        "it with `chartfix fix CHART --release NAME --namespace NS [-f VALUES] --pr-body "
        "FILE` or replace the names below.",
        "",
    ]
    others = other_scenarios(change)
    if others:
        lines += [
            "> **Note:** other values render other objects, which these steps do not cover: "
            + "; ".join(f"{ref} (with {_some(names)})" for ref, names in others.items())
            + ". For a release installed with such values, regenerate the note with them "
            "(`-f VALUES`).",
            "",
        ]
    rendered = {r.release for r in change.before}
    if rendered and rendered != {release}:
        lines += [
            f"> **Warning:** object names below were rendered for release "
            f"`{', '.join(sorted(rendered))}`, not `{release}`: check them before running.",
            "",
        ]
    return lines


def _some(names: Sequence[str], shown: int = 3) -> str:
    listed = ", ".join(f"`{name}`" for name in names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _ksm_notes(change: ChartChange, steps: Plan) -> list[str]:
    """kube-state-metrics warnings the fix pipeline raised and this note did not repeat."""
    said = " ".join(steps.warnings)
    return [
        note for note in change.notes
        if "kube-state-metrics" in note and not _same_object(note, said)
    ]


def _same_object(note: str, said: str) -> bool:
    names = re.findall(r"statefulset/([\w.-]+)", note)
    return bool(names) and all(f"statefulset/{name}" in said for name in names)


def _cleanup_text(steps: Plan, namespace: str) -> str:
    """What the cleanup listings show and how to delete what is left, in the namespace the
    listings name (the objects', which a kustomize overlay sets), else NS."""
    said, deletes = [], []
    listed = {m.group(1) for line in steps.cleanup if (m := re.match(r"kubectl -n (\S+) ", line))}
    ns = listed.pop() if len(listed) == 1 else "NS" if listed else namespace
    if any(" get rs " in line for line in steps.cleanup):
        said.append("Old ReplicaSets were adopted (OWNER set) and are scaled down by the rollout.")
        deletes.append(f"`kubectl -n {ns} delete rs NAME`")
    if any(" get controllerrevisions " in line for line in steps.cleanup):
        said.append(
            "The old StatefulSets' and DaemonSets' ControllerRevisions (their rollout history) "
            "stay without OWNER."
        )
        deletes.append(f"`kubectl -n {ns} delete controllerrevision NAME`")
    return " ".join(said) + (
        f" Once the new pods are ready, delete what is left without OWNER ({', '.join(deletes)}):"
    )


def _simple_variant(
    steps: Plan, upgrade: str, namespace: str, sub: str, applied: bool = False
) -> list[str]:
    """Delete, then upgrade: the pods stop until the new ones are ready.

    Helm's own force does not replace this step: Helm 3's `--force` and Helm 4's
    `--force-replace` (its new name; `--force` stays as a deprecated alias) update each
    object by replacement, an HTTP PUT (`replaceResource` in helm/helm pkg/kube/client.go),
    which the API refuses for an immutable field just as it refuses a patch (helm/helm#7173).
    """
    by_namespace: dict[str, list[str]] = {}
    for name in steps.recreate:
        by_namespace.setdefault(steps.namespaces.get(name, namespace), []).append(name)
    deletes = [f"kubectl -n {ns} delete {' '.join(names)}" for ns, names in by_namespace.items()]
    if applied:
        said = (
            "Delete the objects with their pods, then apply; nothing serves until the new pods "
            "are ready (with Argo CD or Flux: delete, then sync)."
        )
    else:
        said = (
            "Delete the objects with their pods, then upgrade; nothing serves until the new "
            "pods are ready. `helm upgrade --force` (Helm 3) or `--force-replace` (Helm 4) "
            "does not do this: it replaces each object in place, which the API refuses for "
            "immutable fields."
        )
    return [
        f"{sub} Simple variant, with downtime", "", said, "", "```sh", *deletes, upgrade,
        "```", "",
    ]


def _rollback(
    change: ChartChange, steps: Plan, release: str, namespace: str, sub: str,
    version: str | None,
) -> list[str]:
    """Back to the old chart: `helm rollback` meets the same immutable fields, in reverse."""
    old = f"{change.chart_name}-{change.chart_version}"
    heading, last = f"Rolling back to {change.chart_version}", f"the last one of chart {old}"
    if (version or default_version(change) or change.chart_version) == change.chart_version:
        heading = "Rolling back to the chart before this change"
        last = (f"the last one before this change (both are chart {old}: tell them apart by "
                "their date)")
    return [
        f"{sub} {heading}", "",
        "`helm rollback` to the old chart changes the same immutable fields back and fails "
        "the same way. The steps mirror the upgrade: give the running pods the labels the old "
        "selectors need (when the fix removed or changed one), delete the new objects but not "
        "their pods, then roll back; the old objects adopt the pods and roll them.",
        "", "```sh", *steps.rollback,
        f"helm history {release} -n {namespace}",
        f"helm rollback {release} REVISION -n {namespace}  # REVISION: {last}",
        *steps.after, *steps.checks, "```", "",
    ]


NOTHING_TO_MIGRATE = (
    "Nothing to migrate: no immutable field changes and no running pod is left out, so "
    "`helm upgrade` applies it in place."
)
"""What a commit or PR says instead of a migration note when upgrading asks for nothing."""


def commit_message(
    change: ChartChange, *, version: str | None = None, note_file: str | None = None
) -> str:
    """Subject line, blank line, a short body: what was fixed, the new chart version
    (`version`), and the file holding the upgrade steps (`note_file`, repository-relative):
    the note itself is in that file and in the pull request, not repeated here. A
    declarative recipe's `commit-message` template makes the subject; the recipe, with its
    options, ends the message so a reviewer can re-run it."""
    subject = summary_line(change)
    recipe = change.recipe_file
    if recipe is not None:
        subject = recipe.subject(change.chart_name, subject.split(": ", 1)[1])
    count = len(change.fixed)
    rules = sorted({finding.rule for finding in change.fixed})
    body = [f"Fixes {count} label-selector finding{'s' if count != 1 else ''}"
            + (f" ({', '.join(rules)})" if rules else "") + f" in {change.chart_name}."]
    if version is not None:
        body.append(f"Chart version {change.chart_version} -> {version}.")
    if note_file is not None:
        body.append(f"Upgrade steps: {note_file}.")
    else:
        body.append("No step is needed before " + (
            "`helm upgrade`." if change.released else "applying."))
    message = subject + "\n\n" + "\n".join(body) + "\n"
    if recipe is not None:
        message += f"\nchartfix recipe: {recipe.describe()}\n"
    return message


def summary_line(change: ChartChange) -> str:
    """One line saying what the fix does to this chart (a commit subject)."""
    count = len(change.fixed)
    rules = sorted({finding.rule for finding in change.fixed})
    what = f"fix {count} label-selector finding{'s' if count != 1 else ''}"
    if rules:
        what += f" ({', '.join(rules)})"
    kind = upgrade_kind(change)
    deploy = "apply" if not change.released else "upgrade"
    if kind == "unsafe":
        what += f"; {deploy} needs migration"
    elif kind == "step":
        what += f"; {deploy} needs a step first"
    return f"{change.chart_name}: {what}"


def change_summary(change: ChartChange) -> str:
    """One sentence for CHANGELOG.md and Artifact Hub: what was fixed, on which objects."""
    objects = sorted({str(finding.obj) for finding in change.fixed})
    shown = ", ".join(objects[:3]) + (f" and {len(objects) - 3} more" if len(objects) > 3 else "")
    text = "Fix label selectors that also select other workloads' pods"
    if change.recipes:
        text += f" ({', '.join(change.recipes)})"
    if shown:
        text += f" on {shown}"
    kind = upgrade_kind(change)
    before = "applying" if not change.released else "upgrading a release"
    if kind == "unsafe":
        text += f"; selectors change, see the upgrade notes before {before}"
    elif kind == "step":
        text += f"; running pods need a label before {before}, see the upgrade notes"
    return text + "."


def note_files(
    chart_root: str | Path, note: str, target: NoteTarget, version: str
) -> dict[str, bytes]:
    """Where the note goes, as {chart-relative path: new bytes}.

    `readme` (or `auto` when the chart has a README.md): under the README's "Upgrading"
    heading, newest first, or in a new "## Upgrading" section at its end. `migration` (or a
    chart without README): on top of MIGRATION.md under a top-level heading of its own,
    newest first; the file is created when missing.
    """
    root = Path(chart_root)
    path = note_path(root, target)
    if path == HELM_DOCS_TEMPLATE:  # a Go template: `{{` must come out as text
        note = note.replace("{{", '{{ "{{" }}')
    if path != MIGRATION_FILE:
        return {path: _into_readme((root / path).read_bytes(), note, version)}
    migration = root / MIGRATION_FILE
    old = migration.read_bytes() if migration.is_file() and not migration.is_symlink() else b""
    return {MIGRATION_FILE: _into_migration(old, note)}


def note_path(chart_root: str | Path, target: NoteTarget) -> str:
    """The chart-relative file the note goes to: for `readme`, and for `auto` when the chart
    has one, the README; MIGRATION.md otherwise. A README that helm-docs generates from
    README.md.gotmpl gets the note in the template: the next helm-docs run would drop it
    from the generated file."""
    for name in (HELM_DOCS_TEMPLATE, README_FILE):
        candidate = Path(chart_root) / name
        if target != "migration" and candidate.is_file() and not candidate.is_symlink():
            return name
    return MIGRATION_FILE


def _into_readme(raw: bytes, note: str, version: str) -> bytes:
    """The README with the note under its "Upgrading" heading (the first top-level heading
    whose words start so, as the Markdown parser reads headings), newest first, or in a new
    "## Upgrading" section at its end; every other byte as it was (a BOM, CRLF)."""
    text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    text = text.removeprefix("\ufeff")
    nl = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    lines = split_lines(text)
    heading = next((h for h in headings(text) if h.text.lower().startswith("upgrad")), None)
    if heading is None:
        section = _retitle(note, 3, _readme_title(note, version))
        body = f"## Upgrading{nl}{nl}" + _with_newlines(section, nl)
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += nl
        sep = nl if lines and lines[-1].strip() else ""
        return (bom + "".join(lines) + sep + body).encode("utf-8")
    at = heading.end
    while at < len(lines) and not lines[at].strip():
        at += 1
    block = _with_newlines(_retitle(note, heading.level + 1, _readme_title(note, version)), nl)
    block += nl
    if at == len(lines):
        block = nl + block
    lines[at:at] = [block] if at > heading.end else [nl + block]
    return (bom + "".join(lines)).encode("utf-8")


def _readme_title(note: str, version: str) -> str | None:
    """"To VERSION" under the README's Upgrading heading, for a note upgrading to that
    version; another note (the version unchanged) keeps its own title."""
    return f"To {version}" if note.split("\n", 1)[0].endswith(f" Upgrading to {version}") else None


def _into_migration(old: bytes, note: str) -> bytes:
    """The note on top of MIGRATION.md as a section of its own (a top-level heading, newest
    first), never under the file's old title, where it would read as part of what follows."""
    bom = b"\xef\xbb\xbf" if old.startswith(b"\xef\xbb\xbf") else b""
    text = old[len(bom):].decode("utf-8")
    nl = "\r\n" if "\r\n" in text else "\n"
    section = _with_newlines(_retitle(note, 1), nl)
    if not text.strip():
        return bom + section.encode("utf-8")
    return bom + (section + nl + text).encode("utf-8")


def _retitle(note: str, level: int, title: str | None = None) -> str:
    """The note with its headings moved to start at `level` and its first heading renamed
    (when `title` is given). The note is chartfix's own: ATX headings, the first on top."""
    lines = split_lines(note)
    found = headings(note)
    shift = level - found[0].level if found else 0
    for heading in found:
        line = lines[heading.start]
        hashes = len(line) - len(line.lstrip("#"))
        lines[heading.start] = "#" * max(1, min(6, heading.level + shift)) + line[hashes:]
    if title is not None and lines:
        ending = lines[0][len(lines[0].rstrip("\r\n")):]
        lines[0] = "#" * level + " " + title + ending
    return "".join(lines)


def _with_newlines(text: str, nl: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", nl)


def changed_refs(change: ChartChange) -> list[str]:
    """`Kind/name` of every object the fix changes (for reports and PR bodies)."""
    return [str(item.ref) for item in object_changes(change)]
