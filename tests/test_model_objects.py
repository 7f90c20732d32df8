"""The label indexes answer exactly what trying every object would (they only go faster)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chartfix.model.objects import FileDocument, K8sObject, PodIndex, Rendering, SelectorIndex
from chartfix.model.selectors import LabelSelector, Requirement

KEYS = st.sampled_from(["app", "release", "component", "tier"])
VALUES = st.sampled_from(["a", "b", "c"])
LABELS = st.dictionaries(KEYS, VALUES, max_size=4)
NAMESPACES = st.sampled_from([None, "default", "other"])
REQUIREMENT = st.builds(
    Requirement, KEYS, st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
    st.frozensets(VALUES, max_size=2),
)
SELECTOR = st.builds(LabelSelector, LABELS, st.tuples(REQUIREMENT) | st.just(()))


def workload(i: int, kind: str, labels: dict[str, str], namespace: str | None) -> K8sObject:
    meta: dict[str, object] = {"name": f"w{i}"}
    if namespace:
        meta["namespace"] = namespace
    body = {"kind": kind, "metadata": meta,
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}}}}
    return K8sObject(body, FileDocument("templates/x.yaml", i))


OBJECTS = st.lists(
    st.tuples(st.sampled_from(["Deployment", "Job", "ConfigMap"]), LABELS, NAMESPACES),
    max_size=12,
).map(lambda items: [workload(i, *item) for i, item in enumerate(items)])


@given(OBJECTS, SELECTOR, NAMESPACES)
def test_pod_index_matches_like_a_scan(objects, selector, namespace) -> None:
    ns = namespace or "default"
    expected = [
        o for o in objects
        if o.pod_labels is not None and (o.namespace or "default") == ns
        and selector.matches(o.pod_labels)
    ]
    assert PodIndex(objects, "default").matching(selector, ns) == expected


@given(OBJECTS, LABELS, NAMESPACES)
def test_selector_index_selects_like_a_scan(objects, labels, namespace) -> None:
    ns = namespace or "default"
    expected = [
        o for o in objects
        if o.selector is not None and (o.namespace or "default") == ns
        and o.selector.matches(labels)
    ]
    assert SelectorIndex(objects, "default").selecting(labels, ns) == expected


def test_a_rendering_rebuilds_its_index_when_its_objects_change() -> None:
    rendering = Rendering("default", [workload(0, "Deployment", {"app": "a"}, None)])
    selector = LabelSelector({"app": "a"})
    assert len(rendering.pod_index().matching(selector, "default")) == 1
    rendering.objects.append(workload(1, "Job", {"app": "a"}, None))
    assert len(rendering.pod_index().matching(selector, "default")) == 2


def _job(annotations: dict[str, object]) -> K8sObject:
    body = {"kind": "Job", "metadata": {"name": "migrate", "annotations": annotations}}
    return K8sObject(body, FileDocument("templates/job.yaml"))


def test_a_hook_is_recreated_by_helm_as_helms_delete_policies_say() -> None:
    """Helm applies before-hook-creation to a hook with no helm.sh/hook-delete-policy (its
    Chart Hooks documentation; `hookSetDeletePolicy` when the hook has no policy). A policy
    that is present counts as written, each comma-separated entry trimmed and lowercased;
    an empty one is one empty entry to Helm, not none, so the default does not apply."""
    hook = {"helm.sh/hook": "pre-install,pre-upgrade"}
    policy = "helm.sh/hook-delete-policy"
    assert _job(hook).recreated_by_helm
    assert _job({**hook, policy: "before-hook-creation"}).recreated_by_helm
    assert _job({**hook, policy: "hook-succeeded, Before-Hook-Creation"}).recreated_by_helm
    assert not _job({**hook, policy: "hook-succeeded"}).recreated_by_helm
    assert not _job({**hook, policy: "hook-succeeded,hook-failed"}).recreated_by_helm
    assert not _job({**hook, policy: ""}).recreated_by_helm
    assert not _job({**hook, policy: None}).recreated_by_helm
    assert not _job({}).recreated_by_helm
    assert not _job({policy: "before-hook-creation"}).recreated_by_helm  # not a hook
