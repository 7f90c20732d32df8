"""What a rule may know besides the objects: the target and the release it was rendered for.

Rules stay pure functions of (objects, context); the context answers the few questions that
need more than one object: which namespace an object really lands in. Where a finding's
field is written is not theirs to know: a finding names its object and field (`Finding.at`)
and the pipeline asks the source (`Source.locate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chartfix.model.objects import COMPONENT_KEYS, K8sObject, ObjectRef, PodIndex, Rendering
from chartfix.model.releases import ReleaseDiff


@dataclass
class RuleContext:
    """The chart and release one scenario was rendered for."""

    target_name: str
    target_version: str = ""
    app_version: str | None = None
    release: str = "release-name"
    namespace: str = "default"
    """The release namespace: where objects without `metadata.namespace` go."""
    releases: ReleaseDiff = field(
        default_factory=lambda: ReleaseDiff.by_keys("the next release was not rendered"),
        repr=False,
    )
    """How labels change with the chart's next release (the rules' key lists stand in where
    it was not rendered)."""
    _pods: tuple[Sequence[K8sObject], PodIndex] | None = field(default=None, repr=False)
    _rendering: tuple[Sequence[K8sObject], Rendering] | None = field(default=None, repr=False)

    def pods(self, objects: Sequence[K8sObject]) -> PodIndex:
        """The pod index of this scenario's objects, built once and shared by the rules."""
        if self._pods is None or self._pods[0] is not objects:
            self._pods = (objects, PodIndex(objects, self.namespace))
        return self._pods[1]

    def rendering(self, objects: Sequence[K8sObject]) -> Rendering:
        """This scenario's objects as a `Rendering` (its indexes built once, shared by the
        rules): what attribution (`meant_for`) reads."""
        if self._rendering is None or self._rendering[0] is not objects:
            made = Rendering("", list(objects), self.release, self.namespace)
            self._rendering = (objects, made)
        return self._rendering[1]

    def namespace_of(self, obj: K8sObject) -> str:
        return obj.namespace or self.namespace

    def same_scope(self, a: K8sObject, b: K8sObject) -> bool:
        """Selectors only ever see pods of their own namespace."""
        return self.namespace_of(a) == self.namespace_of(b)


def chart_of(obj: K8sObject, context: RuleContext) -> str:
    """The (sub)chart whose template rendered `obj`."""
    return obj.chart or context.target_name


def shared_component(controller: K8sObject) -> str | None:
    """`key=value` when the controller already selects on a component label (so adding one,
    what `chartfix fix` does, cannot tell its pods apart: the value itself is shared)."""
    selector = controller.selector
    labels = selector.match_labels if selector else {}
    for key in COMPONENT_KEYS:
        if key in (selector.label_keys() if selector else ()):
            return f"{key}={labels[key]}" if key in labels else key
    return None


def own_value_advice(controller: K8sObject, sharing: Sequence[K8sObject]) -> str | None:
    """What `chartfix fix` does when `controller` already selects on its component value and
    the pods of `sharing` carry that value too, as a clause for a fix: line; None where it
    does nothing (another controller shares every selector label: by hand).

    As the component-labels recipe decides: controllers one template renders (a `range`)
    select also on the pod label their template writes to tell them apart; Jobs, CronJobs
    and Pods get a component value of their own where their template writes the shared
    one, literally or through a helper they include with the controller."""
    controllers = [o for o in sharing if o.is_controller]
    if controllers:
        if len(controllers) < len(sharing) or any(
            o.kind != controller.kind or o.document.path != controller.document.path
            for o in controllers
        ):
            return None
        return (
            "`chartfix fix` makes the controllers that template renders select also on a pod "
            "label it writes to tell them apart, where it writes one (unsafe: the selector "
            "is immutable, follow the migration note to upgrade)"
        )
    refs = sorted({str(o.ref) for o in sharing})
    names, own = ", ".join(refs), ("their own" if len(refs) > 1 else "its own")
    immutable = sorted(
        str(o.ref) for o in sharing if o.kind == "Job" and not o.recreated_by_helm
    )
    safety = (
        f"unsafe for {', '.join(immutable)}: a Job's pod template is immutable, the "
        "migration note deletes it before the upgrade" if immutable
        else f"safe: the selector of {controller.ref} stays"
    )
    return (
        f"`chartfix fix` gives {names} a component value of {own} where the template writes "
        f"the shared one, literally or through a helper it includes like {controller.ref} "
        f"({safety})"
    )


def subchart_dir(obj: K8sObject) -> str | None:
    """`charts/NAME` when a subchart's template rendered `obj` (fixed there, not here)."""
    parts = obj.document.path.split("/")
    return "/".join(parts[:2]) if parts[0] == "charts" and len(parts) > 2 else None


def sorted_refs(objects: Sequence[K8sObject]) -> tuple[ObjectRef, ...]:
    return tuple(sorted({o.ref for o in objects}, key=ref_order))


def ref_order(ref: ObjectRef) -> tuple[str, str, str]:
    return (ref.kind, ref.name, ref.namespace or "")


def describe(obj: K8sObject) -> str:
    """`Job/migrate (hook pre-install,pre-upgrade)`: a reference plus what makes it special."""
    if obj.is_test:
        return f"{obj.ref} (helm test)"
    if obj.is_hook:
        return f"{obj.ref} (hook {','.join(obj.hooks)})"
    return str(obj.ref)


def special_detail(objects: Sequence[K8sObject]) -> dict[str, str]:
    """`detail` entries naming which related objects are helm tests and which are hooks."""
    detail: dict[str, str] = {}
    tests = sorted(str(o.ref) for o in objects if o.is_test)
    hooks = sorted(
        f"{o.ref} ({','.join(o.hooks)})" for o in objects if o.is_hook and not o.is_test
    )
    if tests:
        detail["tests"] = ", ".join(tests)
    if hooks:
        detail["hooks"] = ", ".join(hooks)
    return detail
