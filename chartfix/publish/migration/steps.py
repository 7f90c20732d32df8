"""What upgrading a release over a fix asks, object by object, as data (`MigrationSteps`).

Read from the rendered objects before and after the fix, never from templates: only the
rendered objects hold the real names, selectors and hook annotations. Objects are matched by
kind, name and namespace across all scenarios; the first scenario to render an object (the
default one comes first) gives its names. Steps follow docs/domain.md §2: label what is
running, orphan-delete the controller, upgrade, let the new controller adopt and roll,
check, clean up; `text` writes them as Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from chartfix.model.changes import TargetChange
from chartfix.model.kinds import RELEASE_WORDS, Words
from chartfix.model.objects import K8sObject, ObjectRef, mapping_at
from chartfix.model.selectors import LabelSelector
from chartfix.publish.migration import kubectl
from chartfix.publish.migration.kubectl import OWN_POD_KEY, label_commands, quote, selector_text
from chartfix.rules.ksm import runs_autosharded_ksm
from chartfix.verify import paths_differing

UpgradeKind = Literal["safe", "step", "unsafe"]
"""What upgrading a release over a change asks: `safe`, `helm upgrade` alone; `step`, no
immutable field changes (the upgrade succeeds) but a step must come first or running pods
drop out of a Service; `unsafe`, an immutable field changes (the upgrade fails without the
steps)."""
IMMUTABLE_SELECTOR_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


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


def object_changes(change: TargetChange, *, first_only: bool = False) -> list[ObjectChange]:
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


def changed_refs(change: TargetChange) -> list[str]:
    """`Kind/name` of every object the fix changes (for reports and PR bodies)."""
    return [str(item.ref) for item in object_changes(change)]


@dataclass(frozen=True)
class ObjectStep:
    """What to run for one object before the deploy: its heading (`Kind `name``), why, and
    the commands in order."""

    heading: str
    explain: list[str]
    commands: list[str]


@dataclass
class MigrationSteps:
    """The note's steps, gathered per phase so that there is a single `helm upgrade`."""

    before: list[ObjectStep] = field(default_factory=list)
    """What an immutable field asks before the upgrade (labels, orphaning deletes)."""
    after: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)
    safe: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    recreate: list[str] = field(default_factory=list)
    """`kind/name` of every object that must go before `helm upgrade` or `helm rollback`."""
    rollback: list[str] = field(default_factory=list)
    """Commands that let `helm rollback` to the old chart through the same immutable fields."""
    keep: list[ObjectStep] = field(default_factory=list)
    """What to run before the upgrade although no immutable field asks for it: a consumer (a
    Service) starts to select on a label the running pods of its controllers get only as
    each is replaced; labelled first, they stay selected through the rolling update."""
    kept: list[str] = field(default_factory=list)
    """Commands showing, after the upgrade, that those consumers still select every pod."""
    unkept_back: list[str] = field(default_factory=list)
    """Consumers whose old selector misses pods the new chart starts: `helm rollback` drops
    them the same way (only when the fix took a label out of a pod template)."""
    namespaces: dict[str, str] = field(default_factory=dict)
    """`kind/name` of `recreate` -> the namespace the object lives in."""
    rolled: list[str] = field(default_factory=list)
    """Deployments deleted without their pods whose pod template changes: the new object
    adopts the old ReplicaSets and scales them down as it rolls."""
    unrolled: list[str] = field(default_factory=list)
    """Deployments deleted without their pods whose pod template does not change: the new
    object adopts the old ReplicaSet as its current one, and no rollout happens."""
    back_with_pods: list[str] = field(default_factory=list)
    """`Kind `name`` of the new objects that going back deletes with their pods: an old
    object going back creates would adopt what they leave without owner (`_adopters`)."""

    def recreated(self, kind: str, name: str, namespace: str) -> None:
        """`kind/name` must go before the deploy and before going back."""
        self.recreate.append(f"{kind}/{name}")
        self.namespaces[f"{kind}/{name}"] = namespace


def release_steps(change: TargetChange, namespace: str) -> MigrationSteps:
    """The plan for the release the note is written for: the objects of the first scenario
    (the default values, or the user's -f/--set), never those other values render instead (a
    chart rendering a Deployment or a DaemonSet by value has only one of them)."""
    before = change.before[0].objects if change.before else []
    after = change.after[0].objects if change.after else []
    words = change.kind.words
    return migration_steps(object_changes(change, first_only=True), namespace, before, after, words)


def upgrade_kind(change: TargetChange) -> UpgradeKind:
    """What upgrading a release over `change` asks (UpgradeKind). `unsafe` stays the
    recipes' word (an immutable field changes); `step` is read from the renderings: a
    consumer's selector asks for a label running pods get only when replaced."""
    if change.unsafe:
        return "unsafe"
    return "step" if change.changed and release_steps(change, "default").keep else "safe"


def needs_note(change: TargetChange) -> bool:
    """The change needs its migration note written down (a file in the commit, a report's
    `migration`): upgrading a release asks for more than `helm upgrade`."""
    return upgrade_kind(change) != "safe"


def other_scenarios(change: TargetChange) -> dict[str, list[str]]:
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


def migration_steps(
    changes: Sequence[ObjectChange], namespace: str, rendered: Sequence[K8sObject] = (),
    rendered_after: Sequence[K8sObject] = (), words: Words = RELEASE_WORDS,
) -> MigrationSteps:
    """Steps for `changes`; `rendered` (the objects as they were, and `rendered_after` as
    they become, for the rollback) tells which other controllers' pods carry the same
    labels, so that a label step never reaches them. `words` name the deploy step."""
    steps = MigrationSteps()
    ranked = sorted(changes, key=lambda c: _kind_rank(c.before.kind))
    with_pods = _upgrade_order(ranked, rendered, rendered_after)
    order = list(with_pods)
    for item in sorted(ranked, key=lambda c: (_kind_rank(c.before.kind), _at(order, c.ref))):
        ns = item.before.namespace or namespace
        _object_steps(steps, item, ns, rendered, rendered_after, words, with_pods.get(item.ref))
        _ksm_restart(steps, item, ns, words)
    for item in changes:
        if item.before.kind in CONSUMER_KINDS and item.selector_changed:
            _keep_steps(steps, item, changes, namespace, rendered, rendered_after, words)
    return steps


_KIND_ORDER = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def _at(order: Sequence[ObjectRef], ref: ObjectRef) -> int:
    return order.index(ref) if ref in order else len(order)


def _kind_rank(kind: str) -> int:
    """Deployments first, Jobs last: the order in which a reader meets the risk."""
    return _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)


CONSUMER_KINDS = ("Service", "PodDisruptionBudget", "NetworkPolicy")
"""Objects that select pods and whose selector `helm upgrade` changes in place."""


def _object_steps(
    steps: MigrationSteps, item: ObjectChange, ns: str, rendered: Sequence[K8sObject],
    rendered_after: Sequence[K8sObject], words: Words, adopters: list[K8sObject] | None = None,
) -> None:
    """What one changed object asks: a controller's new selector and a Job's new pod
    template cannot be applied to the running object; the rest changes in place.
    `adopters`: for a controller whose selector changes, the old controllers that would
    adopt what it leaves without owner (it goes with its pods then)."""
    obj, new = item.before, item.after
    if obj.kind in IMMUTABLE_SELECTOR_KINDS and item.selector_changed:
        _controller_steps(steps, item, ns, rendered, rendered_after, words, adopters or [])
    elif obj.kind == "Job" and item.template_changed:
        _job_steps(steps, obj, ns, words)
    elif obj.kind in CONSUMER_KINDS and item.selector_changed:
        steps.safe.append(
            f"{obj.kind} `{obj.name}`: selector `{selector_text(obj.selector)}` becomes "
            f"`{selector_text(new.selector)}` (updated in place by {words.the})."
        )
    elif obj.is_controller and item.template_changed:
        steps.safe.append(
            f"{obj.kind} `{obj.name}`: {_template_change(obj, new)}; {_rolling(new)}."
        )


def _job_steps(steps: MigrationSteps, obj: K8sObject, ns: str, words: Words) -> None:
    """A Job's pod template is immutable: a Helm hook is recreated anyway (one that names no
    `helm.sh/hook-delete-policy` too: Helm's default is `before-hook-creation`), another
    Job is deleted before the deploy creates it again. A hook named anew by every render is
    shown by its stable pattern (`x-seed-*`), not by one render's random name."""
    if obj.recreated_by_helm:
        steps.safe.append(f"Job `{obj.ref.name}`: a Helm hook recreated on each run.")
        return
    if obj.is_hook:
        return
    delete = kubectl.delete_job(ns, obj.name)
    steps.before.append(ObjectStep(
        f"Job `{obj.name}`",
        ["Its pod template changes, which Kubernetes refuses for an existing Job: delete the "
         f"Job before {words.ing} ({words.the} creates it again)."],
        [delete],
    ))
    steps.recreated("job", obj.name, ns)
    steps.rollback.append(delete)


def _ksm_restart(steps: MigrationSteps, item: ObjectChange, ns: str, words: Words) -> None:
    """An autosharded kube-state-metrics whose labels change must be restarted after."""
    obj = item.before
    if obj.kind != "StatefulSet" or not item.labels_changed:
        return
    affected, image = runs_autosharded_ksm(obj)
    if not affected:
        return
    restart = kubectl.rollout_restart(ns, "statefulset", obj.name)
    steps.warnings.append(
        f"StatefulSet `{obj.name}` runs kube-state-metrics with autosharding on `{image}` "
        "(older than v2.13.0). After its labels change the running pods keep watching with "
        "the old selector and stop recomputing shards, silently. Restart it after "
        f"{words.the}: `{restart}`"
    )
    if restart not in steps.after:
        steps.after.append(restart)


def _controller_steps(
    steps: MigrationSteps, item: ObjectChange, ns: str, rendered: Sequence[K8sObject],
    rendered_after: Sequence[K8sObject], words: Words = RELEASE_WORDS,
    adopters: Sequence[K8sObject] = (),
) -> None:
    """A controller whose selector changes (immutable): its running pods labelled for the new
    selector and the old object deleted without them before the deploy (with them when
    `adopters` would take them over); restarted, checked and cleaned up after; and the
    mirror of it for going back."""
    obj, new = item.before, item.after
    old_sel, new_sel = obj.selector or LabelSelector(), new.selector or LabelSelector()
    kind = obj.kind.lower()
    heading = f"{obj.kind} `{obj.name}`"
    if adopters:
        steps.before.append(ObjectStep(
            heading, _with_pods_why(obj, old_sel, new_sel, adopters, words),
            [kubectl.delete_with_pods(ns, kind, obj.name)],
        ))
    else:
        explain, commands = _adoption(item, old_sel, new_sel, ns, rendered, words)
        if obj.kind == "DaemonSet" and _host_ports(obj):
            steps.warnings.append(_host_port_warning(obj, old_sel, ns))
        orphan = kubectl.orphan_delete(ns, kind, obj.name)
        steps.before.append(ObjectStep(heading, explain, [*commands, orphan]))
        listing = kubectl.orphans_listing(ns, obj.kind, old_sel)
        if listing not in steps.cleanup:  # controllers sharing one old selector list it once
            steps.cleanup.append(listing)
        if obj.kind == "Deployment":
            (steps.rolled if item.template_changed else steps.unrolled).append(obj.name)
    steps.recreated(kind, obj.name, ns)
    if obj.kind == "StatefulSet":
        steps.after.append(kubectl.rollout_restart(ns, "statefulset", obj.name))
    steps.checks.append(kubectl.rollout_status(ns, kind, obj.name))
    _back_steps(steps, item, ns, rendered, rendered_after)


def _back_steps(
    steps: MigrationSteps, item: ObjectChange, ns: str, rendered: Sequence[K8sObject],
    rendered_after: Sequence[K8sObject],
) -> None:
    """Back to the old chart: what runs then must match the old selector again. A label the
    fix took out of the selector may have another value on the new pods (a chart version in
    it changes with the bump), so every such label is given back; the new selector does not
    hold it, so the new object keeps its pods until it is deleted. When an old controller
    `helm rollback` creates would adopt what the new one leaves (their old selectors
    overlap, as they do whenever the fix was for that overlap), the new one goes with its
    pods instead: `helm rollback` creates every old object at once, so no order helps."""
    obj, new = item.before, item.after
    old_sel, new_sel = obj.selector or LabelSelector(), new.selector or LabelSelector()
    kind = obj.kind.lower()
    back = {k: v for k, v in old_sel.match_labels.items() if new_sel.match_labels.get(k) != v}
    labels = {**(new.pod_labels or {}), **back}
    others = [o for o in rendered_after if o.ref != new.ref]
    if _adopters(new, labels, [*rendered, *others]):
        steps.back_with_pods.append(f"{obj.kind} `{obj.name}`")
        steps.rollback.append(kubectl.delete_with_pods(ns, kind, obj.name))
        return
    if back:
        steps.rollback += label_commands(new, new_sel, back, ns, rendered_after)[0]
    steps.rollback.append(kubectl.orphan_delete(ns, kind, obj.name))


ADOPTED_BY = {"Deployment": "Deployment", "DaemonSet": "DaemonSet"}
"""A controller kind -> the kind that adopts what it leaves without owner: a Deployment's
ReplicaSets are adopted by any Deployment whose selector matches them (and scaled to 0 when
its pod template differs), a DaemonSet's pods by any DaemonSet (and deleted as surplus). A
StatefulSet adopts only pods named after it."""


def _adopters(
    obj: K8sObject, labels: Mapping[str, str], candidates: Sequence[K8sObject]
) -> list[K8sObject]:
    """The controllers among `candidates`, other than `obj`, that would adopt what `obj`
    leaves without owner (its ReplicaSets or pods, carrying `labels`)."""
    kind = ADOPTED_BY.get(obj.kind)
    found: list[K8sObject] = []
    for other in candidates:
        if (
            other.kind == kind and other.ref != obj.ref and other.namespace == obj.namespace
            and other.selector is not None and not other.selector.is_empty
            and other.selector.matches(labels) and other.ref not in {f.ref for f in found}
        ):
            found.append(other)
    return found


def _upgrade_order(
    ranked: Sequence[ObjectChange], rendered: Sequence[K8sObject],
    rendered_after: Sequence[K8sObject],
) -> dict[ObjectRef, list[K8sObject]]:
    """The controllers whose selector changes, in the order their old objects go, each with
    the controllers that would adopt what it leaves without owner if it went without its
    pods (empty: it can). While it waits for the deploy, an orphaned ReplicaSet is adopted
    by any other old Deployment still there whose selector matches it, or by a new one the
    deploy creates: when the old selectors overlap, the first to go is deleted with its
    pods, and the others, no longer matched by anything left, go without theirs."""
    waiting = [
        c for c in ranked if c.before.kind in IMMUTABLE_SELECTOR_KINDS and c.selector_changed
    ]
    order: dict[ObjectRef, list[K8sObject]] = {}
    while waiting:
        free = next((c for c in waiting if not _threats(c, order, rendered, rendered_after)), None)
        chosen = free or waiting[0]
        order[chosen.ref] = _threats(chosen, order, rendered, rendered_after)
        waiting.remove(chosen)
    return order


def _threats(
    item: ObjectChange, gone: Mapping[ObjectRef, object], rendered: Sequence[K8sObject],
    rendered_after: Sequence[K8sObject],
) -> list[K8sObject]:
    """What would adopt `item`'s ReplicaSets or pods left without owner while it waits for
    the deploy: the old controllers not `gone` yet, and the new ones the deploy creates."""
    staying = [o for o in rendered if o.ref not in gone]
    created = [o for o in rendered_after if o.ref != item.ref]
    return _adopters(item.before, item.before.pod_labels or {}, [*staying, *created])


def _with_pods_why(
    obj: K8sObject, old_sel: LabelSelector, new_sel: LabelSelector,
    adopters: Sequence[K8sObject], words: Words,
) -> list[str]:
    names = ", ".join(f"{o.kind} `{o.name}`" for o in adopters)
    what = ("this one's ReplicaSet as soon as it is left without owner, and scale it to 0"
            if obj.kind == "Deployment"
            else "this one's pods as soon as they are left without owner, and delete them")
    return [
        f"selector `{selector_text(old_sel)}` becomes `{selector_text(new_sel)}`.",
        f"The selector of {names} matches this one's pods too (the overlap this change "
        f"fixes): it would adopt {what}. Delete it with its pods instead: it serves nothing "
        f"until {words.the} starts its new pods, so run the next steps and {words.deploy} "
        "without a pause.",
    ]


def _adoption(
    item: ObjectChange, old_sel: LabelSelector, new_sel: LabelSelector, ns: str,
    rendered: Sequence[K8sObject], words: Words,
) -> tuple[list[str], list[str]]:
    """(why, the label commands) for the new controller to adopt the running pods."""
    obj = item.before
    running = obj.pod_labels or {}
    added = {k: v for k, v in new_sel.match_labels.items() if running.get(k) != v}
    explain = [f"selector `{selector_text(old_sel)}` becomes `{selector_text(new_sel)}`."]
    if not added:
        explain.append(
            "The running pods already match the new selector; delete the old object but not "
            "its pods, and the new one adopts them"
            + ("" if item.template_changed else
               " (its pod template is unchanged: they keep running, no rollout)")
            + "."
        )
        return explain, []
    labelling, why = label_commands(obj, old_sel, added, ns, rendered)
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
    return explain, labelling


def _host_port_warning(obj: K8sObject, old_sel: LabelSelector, ns: str) -> str:
    ports = ", ".join(str(p) for p in _host_ports(obj))
    return (
        f"DaemonSet `{obj.name}` uses hostPort {ports}: old and new pods cannot run on "
        "one node together. Make sure the label step below found the old pods (they "
        "must be adopted); an old pod left unadopted holds the port and its node's new "
        f"pod stays Pending until you delete the old one (`kubectl -n {ns} get pods -l "
        f"{quote(selector_text(old_sel))}`)."
    )


Member = tuple[K8sObject, dict[str, str]]
"""A controller a consumer keeps selecting, and the labels its running pods lack."""


def _keep_steps(
    steps: MigrationSteps, item: ObjectChange, changes: Sequence[ObjectChange], namespace: str,
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
    members = _left_out(old_sel, new_sel, ns, namespace, changes, rendered, after)
    if not members:
        return
    steps.keep.append(_keep_step(obj, old_sel, new_sel, members, ns, rendered, words))
    steps.safe = [line for line in steps.safe if not line.startswith(f"{obj.kind} `{obj.name}`:")]
    if obj.kind == "Service":
        steps.kept.append(kubectl.endpoints_listing(ns, obj.name))
    if not all(
        (later := after.get(m.ref)) is not None and old_sel.matches(later.pod_labels or {})
        for m, _ in members
    ):
        steps.unkept_back.append(f"{obj.kind} `{obj.name}`")
    for ctrl, _ in members:
        check = kubectl.rollout_status(ns, ctrl.kind.lower(), ctrl.name)
        if check not in steps.checks:
            steps.checks.append(check)


def _left_out(
    old_sel: LabelSelector, new_sel: LabelSelector, ns: str, namespace: str,
    changes: Sequence[ObjectChange], rendered: Sequence[K8sObject],
    after: Mapping[ObjectRef, K8sObject],
) -> list[Member]:
    """The controllers in `ns` both selectors select (before and after the fix) whose running
    pods lack a label of the new one that their own step, if any, does not give."""
    by_ref = {c.ref: c for c in changes}
    members: list[Member] = []
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
    return members


def _keep_step(
    obj: K8sObject, old_sel: LabelSelector, new_sel: LabelSelector, members: list[Member],
    ns: str, rendered: Sequence[K8sObject], words: Words,
) -> ObjectStep:
    """The consumer's step: label each member's running pods, then list what the new
    selector finds."""
    names = ", ".join(f"{m.kind} `{m.name}`" for m, _ in members)
    labels = sorted({f"{k}={v}" for _, missing in members for k, v in missing.items()})
    explain = [
        f"selector `{selector_text(old_sel)}` becomes `{selector_text(new_sel)}`. "
        f"{words.deploy} changes it at once, while the running pods of {names} get "
        f"`{', '.join(labels)}` only as the rolling update replaces each: until then "
        f"{obj.kind} `{obj.name}` leaves them out"
        + (" (for a headless Service, out of peer discovery: a cluster can lose its quorum)"
           if obj.kind == "Service" and _headless(obj) else "")
        + ". Label them first (each pod the update starts writes the label itself), then "
        "check that the new selector finds every one of them.",
    ]
    commands: list[str] = []
    for ctrl, missing in members:
        assert ctrl.selector is not None
        labelling, why = label_commands(
            ctrl, ctrl.selector, missing, ns, rendered, targets=("pods",)
        )
        commands += labelling
        if why:
            explain.append(why)
    commands.append(kubectl.members_listing(ns, new_sel, [m.name for m, _ in members]))
    return ObjectStep(f"{obj.kind} `{obj.name}`", explain, commands)


def _template_change(obj: K8sObject, new: K8sObject) -> str:
    """What changes in a controller's pod template: its labels, else its annotations."""
    if obj.pod_labels != new.pod_labels:
        return "pod labels change"
    annotations = "spec.template.metadata.annotations"
    if mapping_at(obj.body, annotations) != mapping_at(new.body, annotations):
        return "pod annotations change"
    return "its pod template changes"


def _rolling(obj: K8sObject) -> str:
    """What the rollout of a new pod template costs: nothing, but for a single-replica
    StatefulSet (its one pod is stopped before it starts again) or a Recreate Deployment."""
    replicas = (mapping_at(obj.body, "spec") or {}).get("replicas", 1)
    if obj.kind == "StatefulSet" and replicas == 1:
        return ("a rolling update, with downtime: its single replica is stopped before the new "
                "one starts")
    if _recreates(obj):
        return "a rollout with downtime (strategy `Recreate`: every old pod stops first)"
    return "a normal rolling update"


def _headless(obj: K8sObject) -> bool:
    return (mapping_at(obj.body, "spec") or {}).get("clusterIP") == "None"


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


def scenario_changes(before: Sequence[K8sObject], after: Sequence[K8sObject]) -> list[ObjectChange]:
    """The objects of one scenario that the change makes differ."""
    new = {obj.ref: obj for obj in after}
    return [
        ObjectChange(obj, twin) for obj in before
        if (twin := new.get(obj.ref)) is not None and twin.body != obj.body
    ]
