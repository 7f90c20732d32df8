"""Rendered Kubernetes objects: what a target renders to, and where in it each came from.

Analysis runs on these, never on templates: only the rendered object says which labels a pod
really gets. Each object keeps its `document` (the `FileDocument`: file path and document
position) so that a finding can be traced back to the file a fix must edit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from chartfix.model.selectors import LabelSelector

CONTROLLER_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
BATCH_KINDS = frozenset({"Job", "CronJob"})
CONSUMER_KINDS = frozenset({"Service", "PodDisruptionBudget", "NetworkPolicy"})
POD_MAKING_KINDS = CONTROLLER_KINDS | BATCH_KINDS | {"Pod"}
SELECTING_KINDS = CONTROLLER_KINDS | CONSUMER_KINDS | {"Job"}
ANALYZED_KINDS = POD_MAKING_KINDS | CONSUMER_KINDS
COMPONENT_KEYS = ("app.kubernetes.io/component", "component")


def component_key(label_keys: Iterable[str], convention: str | None, asked: str | None) -> str:
    """The component key: the one asked for, else the target's convention (the key some
    pods already carry), else `app.kubernetes.io/component` beside `app.kubernetes.io/*`
    keys, else `component`."""
    if asked:
        return asked
    if convention:
        return convention
    recommended = any(k.startswith("app.kubernetes.io/") for k in label_keys)
    return "app.kubernetes.io/component" if recommended else "component"


MANAGER_KEYS = frozenset({"heritage", "app.kubernetes.io/managed-by"})
"""Labels naming the release manager (Tiller, then Helm): changed once already, so a
selector holding one is fragile (`volatile` warns)."""
"""Label keys that say which part of an application a workload is."""
DEFAULTED_SELECTORS = frozenset({
    ("extensions/v1beta1", "Deployment"),
    ("extensions/v1beta1", "DaemonSet"),
    ("extensions/v1beta1", "ReplicaSet"),
    ("apps/v1beta1", "Deployment"),
    ("apps/v1beta1", "StatefulSet"),
})
"""(apiVersion, kind) whose missing `spec.selector` the API server fills in from the pod
template labels. apps/v1beta2 and apps/v1 require it instead (kubernetes#50164)."""
"""The kinds the rules read; other objects are kept as text and parsed only on demand."""


class LazyBody(Mapping[str, Any]):
    """A rendered document parsed on first use; its `kind` is known without parsing.

    Most of what a chart renders (CRDs, ConfigMaps, RBAC) is never read by the rules, and
    parsing it would be most of a check's time. Verification compares such documents by
    their text and parses them only when the text differs. It pickles as it is (text and
    parser), so a worker sending a rendering back does not parse it on the way.
    """

    def __init__(
        self,
        text: str,
        kind: str,
        parse: Callable[[str], Mapping[str, Any]],
        identity: tuple[str, str | None] | None = None,
    ) -> None:
        self.text = text
        self._kind = kind
        self._parse: Callable[[str], Mapping[str, Any]] | None = parse
        self._data: Mapping[str, Any] | None = None
        self.identity = identity
        """(metadata.name, metadata.namespace) as the text writes them plainly, read without
        parsing it (an object's name is asked of every object, to refuse two of one name);
        None: parse to know."""

    @property
    def parsed(self) -> bool:
        return self._data is not None

    @property
    def data(self) -> Mapping[str, Any]:
        if self._data is None:
            assert self._parse is not None
            self._data = self._parse(self.text)
            self._parse = None
        return self._data

    def get(self, key: str, default: Any = None) -> Any:
        if key == "kind" and self._data is None:
            return self._kind
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyBody) and self.text == other.text:
            return True
        return isinstance(other, Mapping) and dict(self.data) == dict(other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class FileDocument:
    """Where a rendered object came from.

    `path` is relative to the chart root (`templates/deployment.yaml`, or
    `charts/redis/templates/master.yaml` for a subchart, `deploy.yaml` for a plain manifest).
    `doc_index` counts the non-empty documents that file rendered to (or holds), so two
    objects of one file stay apart.
    """

    path: str
    doc_index: int = 0
    line: int | None = field(default=None, compare=False)
    """1-based line where the document starts, when the file is the object as written
    (plain manifests, kustomize resources); not part of equality: an edit above moves it."""


@dataclass(frozen=True, order=True)
class Origin:
    """What writes an object (`Source.origin`): a template document, a resource file's
    document, a construct. Equal across scenarios even where the object's name differs (a
    release name, `fullnameOverride`), so that recipes plan one fix per origin."""

    path: str
    """The file that writes it (a template, a resource file), or the construct's path in
    a cdk8s app's tree."""
    kinds: tuple[str, ...]
    """The kinds it renders: one, or every kind a template document chooses between by
    values (`Deployment`, `DaemonSet`); empty: any kind (`kind: {{ .Values.kind }}`)."""
    index: int = 0
    """The document in `path` (negative: an object placed by its rendered file only)."""

    def writes(self, kind: str) -> bool:
        """Whether objects of `kind` may come from this origin in some scenario."""
        return not self.kinds or kind in self.kinds

    def __str__(self) -> str:
        """`path:kinds:index`, `*` for any kind: stable text for a finding's identity."""
        return f"{self.path}:{'|'.join(self.kinds) or '*'}:{self.index}"


@dataclass(frozen=True)
class ObjectRef:
    """A short, hashable handle on an object, for findings, reports and migration notes."""

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class K8sObject:
    """One rendered manifest document."""

    body: Mapping[str, Any]
    document: FileDocument
    """The file and document it was rendered from (or read from, as written)."""
    chart: str = ""
    """Name of the (sub)chart whose template rendered this object."""
    text: str | None = field(default=None, compare=False, repr=False)
    """The document as Helm rendered it, when known: equal text means an equal object."""
    stable_name: str | None = field(default=None, compare=False)
    """The name with the parts its template makes up anew on every render (`randAlphaNum`,
    `uuidv4`, `now`) shown as `*`, when it has such parts: what the object is known by."""

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "")

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion") or "")

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def name(self) -> str:
        known = self._identity()
        if known is not None:
            return known[0]
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str | None:
        known = self._identity()
        if known is not None:
            return known[1]
        ns = self.metadata.get("namespace")
        return None if ns is None else str(ns)

    def _identity(self) -> tuple[str, str | None] | None:
        """Name and namespace of a document not parsed yet, when its text says them plainly."""
        body = self.body
        return body.identity if isinstance(body, LazyBody) and not body.parsed else None

    @cached_property
    def ref(self) -> ObjectRef:
        """Kind, name and namespace; a random name as its stable pattern (`x-test-*`)."""
        return ObjectRef(self.kind, self.stable_name or self.name, self.namespace)

    @property
    def labels(self) -> dict[str, str]:
        return string_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return string_map(self.metadata.get("annotations"))

    @property
    def hooks(self) -> tuple[str, ...]:
        """Helm hook events (`pre-install`, `test`, ...) this object runs on, if any."""
        raw = self.annotations.get("helm.sh/hook", "")
        return tuple(h.strip() for h in raw.split(",") if h.strip())

    @property
    def is_test(self) -> bool:
        return any(h in ("test", "test-success", "test-failure") for h in self.hooks)

    @property
    def is_hook(self) -> bool:
        return bool(self.hooks)

    @property
    def recreated_by_helm(self) -> bool:
        """A hook Helm deletes before creating again: its immutable fields may change freely.

        Helm applies `before-hook-creation` to a hook that has no `helm.sh/hook-delete-policy`
        annotation (its chart hooks documentation; `hookSetDeletePolicy` in its source). An
        annotation that is present names the policies alone, even when empty: Helm then sees
        one empty policy, not none, and the default does not apply."""
        if not self.is_hook:
            return False
        policy = self.annotations.get("helm.sh/hook-delete-policy")
        if policy is None:
            return True
        return "before-hook-creation" in (p.strip().lower() for p in policy.split(","))

    @property
    def is_controller(self) -> bool:
        return self.kind in CONTROLLER_KINDS

    @property
    def is_consumer(self) -> bool:
        return self.kind in CONSUMER_KINDS

    @property
    def pod_template(self) -> Mapping[str, Any] | None:
        """The pod template of a workload (CronJob: its job's template)."""
        if self.kind not in POD_MAKING_KINDS:
            return None
        spec = _mapping(self.body.get("spec"))
        if self.kind == "CronJob":
            spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
        template = spec.get("template")
        return template if isinstance(template, Mapping) else None

    @cached_property
    def pod_labels(self) -> dict[str, str] | None:
        """Labels every pod of this object carries; None for objects that make no pods."""
        if self.kind == "Pod":
            return self.labels
        template = self.pod_template
        if template is None:
            return None
        return string_map(_mapping(template.get("metadata")).get("labels"))

    @property
    def makes_pods(self) -> bool:
        return self.pod_labels is not None

    @cached_property
    def selector(self) -> LabelSelector | None:
        """The selector by which this object finds pods, in full label-selector form.

        Controllers and PDBs: `spec.selector`; Services: the `spec.selector` map;
        NetworkPolicies: `spec.podSelector`. None when the object has no such selector
        (a Service without selector selects nothing by label).
        """
        if self.kind not in SELECTING_KINDS:
            return None
        spec = _mapping(self.body.get("spec"))
        if self.kind == "Service":
            raw = spec.get("selector")
            return LabelSelector(string_map(raw)) if isinstance(raw, Mapping) and raw else None
        if self.kind == "NetworkPolicy":
            raw = spec.get("podSelector")
        elif self.kind in CONTROLLER_KINDS or self.kind in ("PodDisruptionBudget", "Job"):
            raw = spec.get("selector")
        else:
            return None
        if self.selector_defaulted:
            return LabelSelector(self.pod_labels or {})
        return LabelSelector.from_spec(raw) if isinstance(raw, Mapping) else None

    @property
    def selector_defaulted(self) -> bool:
        """The manifest has no `spec.selector` and its API version fills one in from the pod
        template labels, chart version and all (extensions/v1beta1, apps/v1beta1)."""
        spec = _mapping(self.body.get("spec"))
        return (
            (self.api_version, self.kind) in DEFAULTED_SELECTORS
            and spec.get("selector") is None
            and bool(self.pod_labels)
        )

    def selector_path(self) -> str | None:
        """Dotted path of the selector's label map in the manifest (for template lookup)."""
        if self.kind == "Service":
            return "spec.selector"
        if self.kind == "NetworkPolicy":
            return "spec.podSelector.matchLabels"
        if self.kind in CONTROLLER_KINDS or self.kind == "PodDisruptionBudget":
            return "spec.selector.matchLabels"
        return None

    def pod_labels_path(self) -> str | None:
        """Dotted path of the pod template's labels in the manifest."""
        if self.kind == "CronJob":
            return "spec.jobTemplate.spec.template.metadata.labels"
        if self.kind == "Pod":
            return "metadata.labels"
        if self.pod_template is not None:
            return "spec.template.metadata.labels"
        return None

    def containers(self) -> list[Mapping[str, Any]]:
        """Containers of the pods this object makes (init containers excluded)."""
        if self.kind == "Pod":
            spec = _mapping(self.body.get("spec"))
        else:
            spec = _mapping(_mapping(self.pod_template).get("spec"))
        found = spec.get("containers")
        return [c for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []


class PodIndex:
    """The objects that make pods, indexed by namespace and pod label: which of them a
    selector matches, found without trying every object (a chart of thousands of workloads
    is analysed in near-linear time, not quadratic).

    A selector with matchLabels can only match objects carrying each of its pairs, so the
    candidates are the shortest list among its pairs'; only those are tried in full.
    Results keep the order of `objects`.
    """

    def __init__(self, objects: Iterable[K8sObject], release_namespace: str) -> None:
        self.release_namespace = release_namespace
        self._in_namespace: dict[str, list[K8sObject]] = defaultdict(list)
        self._by_label: dict[tuple[str, str, str], list[K8sObject]] = defaultdict(list)
        for obj in objects:
            labels = obj.pod_labels
            if labels is None:
                continue
            namespace = self.namespace_of(obj)
            self._in_namespace[namespace].append(obj)
            for pair in labels.items():
                self._by_label[(namespace, pair[0], pair[1])].append(obj)

    def namespace_of(self, obj: K8sObject) -> str:
        return obj.namespace or self.release_namespace

    def matching(self, selector: LabelSelector, namespace: str) -> list[K8sObject]:
        """Pod-making objects in `namespace` whose pod labels `selector` matches."""
        candidates = self._in_namespace.get(namespace, [])
        for pair in selector.match_labels.items():
            bucket = self._by_label.get((namespace, pair[0], pair[1]), [])
            if len(bucket) < len(candidates):
                candidates = bucket
        return [o for o in candidates if selector.matches(o.pod_labels or {})]


class SelectorIndex:
    """The reverse question: which objects' selectors match a given set of pod labels.

    Each selector is filed under one of its matchLabels pairs (a matching label set must
    carry it); selectors without matchLabels are tried every time. Results keep the order
    of `objects`.
    """

    def __init__(self, objects: Sequence[K8sObject], release_namespace: str) -> None:
        self.release_namespace = release_namespace
        self._filed: dict[tuple[str, str, str], list[tuple[int, K8sObject]]] = defaultdict(list)
        self._always: dict[str, list[tuple[int, K8sObject]]] = defaultdict(list)
        for position, obj in enumerate(objects):
            selector = obj.selector
            if selector is None:
                continue
            namespace = obj.namespace or release_namespace
            if selector.match_labels:
                pair = min(selector.match_labels.items())
                self._filed[(namespace, pair[0], pair[1])].append((position, obj))
            else:
                self._always[namespace].append((position, obj))

    def selecting(self, labels: Mapping[str, str], namespace: str) -> list[K8sObject]:
        """Objects in `namespace` whose selector matches `labels` (an empty selector too)."""
        found = list(self._always.get(namespace, []))
        for pair in labels.items():
            found += self._filed.get((namespace, pair[0], pair[1]), [])
        found.sort(key=lambda item: item[0])
        return [o for _, o in found if o.selector is not None and o.selector.matches(labels)]


def _first_by_ref(objects: Sequence[K8sObject], namespace: str) -> dict[ObjectRef, K8sObject]:
    found: dict[ObjectRef, K8sObject] = {}
    for obj in objects:
        found.setdefault(obj.ref, obj)
    return found


def _by_file(objects: Sequence[K8sObject], namespace: str) -> dict[str, list[K8sObject]]:
    found: dict[str, list[K8sObject]] = defaultdict(list)
    for obj in objects:
        found[obj.document.path].append(obj)
    return found


def _by_kind(objects: Sequence[K8sObject], namespace: str) -> dict[str, list[K8sObject]]:
    found: dict[str, list[K8sObject]] = defaultdict(list)
    for obj in objects:
        found[obj.kind].append(obj)
    return found


def _first_component_key(objects: Sequence[K8sObject], namespace: str) -> str | None:
    for obj in objects:
        for key in COMPONENT_KEYS:
            if key in (obj.pod_labels or {}):
                return key
    return None


def mapping_at(body: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """The mapping at dotted `path` in a manifest (`spec.selector.matchLabels`), if any."""
    node: Any = body
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, dict) else None


def string_map(raw: Any) -> dict[str, str]:
    """A label or annotation map as Kubernetes sees it: string keys and values.

    YAML may have typed a value (`version: 1.0`); the API server would store its text, so we
    do too. `null` values become empty strings.
    """
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): "" if v is None else _scalar_text(v) for k, v in raw.items()}


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


FEATURE_PREFIX = "feature: "
"""How a feature scenario's name starts: `feature: podDisruptionBudget.enabled=true` (the
defaults with an off-by-default switch on; see sources/helm/features.py)."""
ALL_FEATURES = "features: every switch on"
"""The scenario with every chosen switch on together: rendered only to verify a fix."""


def is_feature(scenario: str) -> bool:
    """Whether a scenario was rendered only because of a feature switch (or all of them)."""
    return scenario.startswith(FEATURE_PREFIX) or scenario == ALL_FEATURES


def object_ids(rendering: Rendering) -> frozenset[str]:
    """Every object of a rendering as `Kind/namespace/name`: what a feature scenario adds
    is what its ids hold beyond the first scenario's."""
    return frozenset(f"{o.kind}/{o.namespace or ''}/{o.ref.name}" for o in rendering.objects)


def features_added(ids: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """Feature scenario -> how many objects it renders that the first scenario (the
    defaults, or the user's values) does not; `ids` in scenario order (see object_ids)."""
    first = next((v for k, v in ids.items() if not is_feature(k)), frozenset())
    return {
        name: len(found - first) for name, found in ids.items()
        if name.startswith(FEATURE_PREFIX)
    }


@dataclass
class Rendering:
    """All objects one chart rendered to under one scenario."""

    scenario: str
    objects: list[K8sObject] = field(default_factory=list)
    release: str = "release-name"
    namespace: str = "default"
    warnings: list[str] = field(default_factory=list)
    """Things the user should know about this render (a dependency rendered without...)."""
    borrowed: dict[str, str] = field(default_factory=dict)
    """Staged folder of a dependency rendered from a chart elsewhere on disk (a monorepo
    sibling, a `file://` path): "charts/sub" -> that chart's folder, relative to this chart's
    root ("../sub"). That chart reports its own findings."""
    packed: dict[str, str] = field(default_factory=dict)
    """Rendered folder of a packaged dependency ("charts/sub") -> its archive, the file
    that exists ("charts/sub-1.0.0.tgz")."""
    synthesized: tuple[str, ...] = ()
    """Placeholder values chartfix made up for this scenario to render (`a.b="placeholder"`),
    empty when the chart's own values sufficed."""
    engine_log: tuple[str, ...] = ()
    """What the engine logged while rendering (Helm's own warnings), each line naming its
    engine ("helm: warning: ..."): shown with the chart it is about, never on its own."""
    values: tuple[str, ...] = ()
    """The scenario's values as a user gives them (`-f NAME`, file names only; `--set K=V`),
    for a migration note to say which values it was written for."""
    _indexes: dict[str, tuple[int, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def pod_index(self) -> PodIndex:
        """Its pod-making objects by label (built once per rendering)."""
        index: PodIndex = self.memo("pods", PodIndex)
        return index

    def selector_index(self) -> SelectorIndex:
        """Its selecting objects by selector (built once per rendering)."""
        index: SelectorIndex = self.memo("selectors", SelectorIndex)
        return index

    def in_file(self, path: str) -> list[K8sObject]:
        """The objects one template file rendered, in order."""
        index: dict[str, list[K8sObject]] = self.memo("files", _by_file)
        return index.get(path, [])

    def find(self, ref: ObjectRef) -> K8sObject | None:
        """The first object with this reference (looked up, not searched)."""
        index: dict[ObjectRef, K8sObject] = self.memo("refs", _first_by_ref)
        return index.get(ref)

    def of_kind(self, kind: str) -> list[K8sObject]:
        """Its objects of one kind, in order (looked up, not searched: a rule asking for
        each of N workloads would otherwise scan N x N objects)."""
        index: dict[str, list[K8sObject]] = self.memo("kinds", _by_kind)
        return index.get(kind, [])

    def component_key(self) -> str | None:
        """The component key the chart already puts on some pods, if any: its own
        convention (the first object whose pods carry one decides)."""
        key: str | None = self.memo("component-key", _first_component_key)
        return key

    def memo(self, name: str, make: Callable[[list[K8sObject], str], Any]) -> Any:
        """`make(objects, namespace)`, computed once per rendering (again when objects were
        added since: a rendering's objects are only ever appended to, while it is made)."""
        held = self._indexes.get(name)
        if held is None or held[0] != len(self.objects):
            held = self._indexes[name] = (len(self.objects), make(self.objects, self.namespace))
        return held[1]

    def __getstate__(self) -> dict[str, Any]:
        """Indexes stay behind when a rendering crosses to another process."""
        return {**self.__dict__, "_indexes": {}}
