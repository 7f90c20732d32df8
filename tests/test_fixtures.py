"""The fixture charts render with Helm's real engine and show the bug each one is written for.

Every other chartfix test runs on these charts, so this file pins what they are: the objects
each renders to, the overlapping selectors (or their absence in `clean`), the volatile
selector labels, the template shapes they exist to exercise, and the exact bytes of the
CRLF/BOM/no-final-newline templates.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import helm_python
import pytest
import yaml

from chartfix.model.objects import FileDocument, K8sObject

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RELEASE = "rel"
NAMESPACE = "ns"

EXPECTED_KINDS: dict[str, dict[str, int]] = {
    "ksm-autosharding": {"StatefulSet": 1, "Service": 1},
    "ksm-autosharding-new-image": {"StatefulSet": 1, "Service": 1},
    "legacy-server": {"Deployment": 1, "Service": 1, "Job": 1, "CronJob": 1},
    "legacy-named-port": {"Deployment": 1, "Service": 1, "Job": 1, "CronJob": 1},
    "scaffold-helpers": {"Deployment": 1, "Service": 1, "PodDisruptionBudget": 1, "Pod": 1},
    "include-key-line": {"Deployment": 1, "Service": 1, "Job": 1},
    "flow-mapping": {"Deployment": 1, "Service": 1, "CronJob": 1},
    "if-blocks": {"Deployment": 1, "DaemonSet": 1},
    "templated-keys": {"Deployment": 2},
    "multi-doc": {"Deployment": 3, "Service": 1, "Job": 1},
    "crlf-bom": {"Deployment": 1, "Service": 1, "Job": 1},
    "component-helper": {"Deployment": 2, "Service": 1, "CronJob": 1},
    "shared-selector": {"Deployment": 2, "StatefulSet": 1, "Service": 3},
    "overlap-latent": {"Deployment": 2},
    "hook-jobs-scenario": {"Deployment": 1},
    "volatile-legacy": {"Deployment": 1, "Service": 1},
    "volatile-helper": {"Deployment": 1, "Service": 1, "PodDisruptionBudget": 1},
    "volatile-one": {"Deployment": 2},
    "clean": {"Deployment": 1, "Service": 1, "Job": 1},
    "random-names": {"Deployment": 1, "Service": 1, "Job": 1, "Pod": 1},
    "two-kinds": {"Deployment": 3, "Service": 2, "Job": 1},
    "define-objects": {"Deployment": 2, "Service": 1},
    "defaulted-selector": {"Deployment": 1, "StatefulSet": 1, "Service": 1, "Job": 1},
    "shared-component": {"Deployment": 1, "Service": 1, "Job": 2, "Pod": 1},
    "range-shards": {"StatefulSet": 2, "Service": 1},
    "volatile-only-difference": {"Deployment": 2, "Service": 1},
    "test-pod-shared-helper": {"StatefulSet": 1, "Service": 1, "Pod": 2},
    "peer-service": {"StatefulSet": 4, "Service": 1, "Job": 1, "Pod": 1},
    "hook-jobs-helper": {"Deployment": 1, "Service": 1, "PodDisruptionBudget": 1, "Job": 2},
    "release-name-clash": {"Deployment": 1, "Service": 1, "CronJob": 1, "ClusterRole": 2},
}

# (controller, pod-making object) pairs where the controller's selector matches the other
# object's pod labels, as "Kind/name" with release "rel".
EXPECTED_OVERLAPS: dict[str, set[tuple[str, str]]] = {
    "hook-jobs-helper": {
        ("Deployment/rel-hook-jobs-helper", "Job/rel-hook-jobs-helper-create"),
        ("Deployment/rel-hook-jobs-helper", "Job/rel-hook-jobs-helper-patch"),
    },
    "legacy-server": {
        ("Deployment/rel-legacy-server", "Job/rel-legacy-server-migration"),
        ("Deployment/rel-legacy-server", "CronJob/rel-legacy-server-cleanup"),
    },
    "legacy-named-port": {
        ("Deployment/rel-legacy-named-port", "Job/rel-legacy-named-port-migration"),
        ("Deployment/rel-legacy-named-port", "CronJob/rel-legacy-named-port-cleanup"),
    },
    "scaffold-helpers": {
        ("Deployment/rel-scaffold-helpers", "Pod/rel-scaffold-helpers-test-connection"),
    },
    "include-key-line": {
        ("Deployment/rel-include-key-line", "Job/rel-include-key-line-reindex"),
    },
    "flow-mapping": {("Deployment/rel-web", "CronJob/rel-weekly-report")},
    "if-blocks": {
        ("Deployment/rel-collector", "DaemonSet/rel-agent"),
        ("DaemonSet/rel-agent", "Deployment/rel-collector"),
    },
    "templated-keys": {("Deployment/rel-default-backend", "Deployment/rel-controller")},
    "multi-doc": {
        ("Deployment/rel-multi-doc-api", "Job/rel-multi-doc-migrate"),
        ("Deployment/rel-multi-doc-api", "Deployment/rel-multi-doc-worker-email"),
        ("Deployment/rel-multi-doc-api", "Deployment/rel-multi-doc-worker-thumbnails"),
    },
    "crlf-bom": {("Deployment/rel-wiki", "Job/rel-seed")},
    "component-helper": {
        ("Deployment/rel-component-helper-worker", "CronJob/rel-component-helper-digest"),
        ("Deployment/rel-component-helper-worker", "Deployment/rel-component-helper-api"),
    },
    "shared-selector": {
        (a, b)
        for a in (
            "Deployment/rel-shared-selector-web",
            "Deployment/rel-shared-selector-worker",
            "StatefulSet/rel-shared-selector-cache",
        )
        for b in (
            "Deployment/rel-shared-selector-web",
            "Deployment/rel-shared-selector-worker",
            "StatefulSet/rel-shared-selector-cache",
        )
        if a != b
    },
    "overlap-latent": {
        ("Deployment/rel-overlap-latent-collector", "Deployment/rel-overlap-latent-query"),
        ("Deployment/rel-overlap-latent-query", "Deployment/rel-overlap-latent-collector"),
    },
    "volatile-legacy": set(),
    "volatile-helper": set(),
    "volatile-one": set(),
    "clean": set(),
    "two-kinds": {  # default values: all three are Deployments
        (a, b)
        for a in ("Deployment/rel-proxy", "Deployment/rel-store", "Deployment/rel-cache")
        for b in (
            "Deployment/rel-proxy", "Deployment/rel-store", "Deployment/rel-cache", "Job/rel-schema"
        )
        if a != b
    },
    "define-objects": {
        ("Deployment/rel-define-objects-web", "Deployment/rel-define-objects-worker"),
        ("Deployment/rel-define-objects-worker", "Deployment/rel-define-objects-web"),
    },
    "defaulted-selector": {("Deployment/rel-ledger", "Job/rel-backup")},  # defaulted selector
    "shared-component": {
        ("Deployment/rel-shared-component", "Job/rel-shared-component-migrate"),
        ("Deployment/rel-shared-component", "Job/rel-shared-component-reindex"),
        ("Deployment/rel-shared-component", "Pod/rel-shared-component-test-connection"),
    },
    "range-shards": {
        ("StatefulSet/rel-range-shards-shard0", "StatefulSet/rel-range-shards-shard1"),
        ("StatefulSet/rel-range-shards-shard1", "StatefulSet/rel-range-shards-shard0"),
    },
    "volatile-only-difference": set(),
    "test-pod-shared-helper": {
        ("StatefulSet/rel-test-pod-shared-helper", f"Pod/rel-test-pod-shared-helper-test-{t}")
        for t in ("connection", "metrics")
    },
    "peer-service": set(),  # each StatefulSet selects on its component; the Service does not
}

# Selector label that changes with the chart version, per object ("Kind/name" -> key).
EXPECTED_VOLATILE: dict[str, dict[str, str]] = {
    "volatile-legacy": {
        "Deployment/rel-volatile-legacy": "chart",
        "Service/rel-volatile-legacy": "chart",
    },
    "volatile-helper": {
        "Deployment/rel-volatile-helper": "helm.sh/chart",
        "Service/rel-volatile-helper": "helm.sh/chart",
        "PodDisruptionBudget/rel-volatile-helper": "helm.sh/chart",
    },
    "volatile-one": {"Deployment/rel-frontend": "version"},
    "defaulted-selector": {
        "Deployment/rel-ledger": "chart",
        "StatefulSet/rel-journal": "chart",
    },
    "volatile-only-difference": {"Deployment/rel-web": "version", "Service/rel-web": "version"},
}

# Template shapes (docs/domain.md §5) each fixture exists to exercise: a regex that must
# match the named template file, so an edit that loses the shape fails here.
SHAPES: list[tuple[str, str, str]] = [
    ("legacy-server", "templates/deployment.yaml",
     r"\n    matchLabels:\n      app: \{\{ template \"legacy-server.name\" \. \}\}\n"
     r"      release: \{\{ \.Release\.Name \}\}\n"),
    ("legacy-server", "templates/migration-job.yaml",
     r"\"helm.sh/hook\": pre-install,pre-upgrade\n[\s\S]*before-hook-creation"),
    ("scaffold-helpers", "templates/deployment.yaml",
     r"\n    matchLabels:\n"
     r"      \{\{- include \"scaffold-helpers.selectorLabels\" \. \| nindent 6 \}\}\n"),
    ("scaffold-helpers", "templates/deployment.yaml",
     r"\{\{- include \"scaffold-helpers.selectorLabels\" \. \| nindent 8 \}\}\n"
     r"        app.kubernetes.io/version: .*\n"
     r"        \{\{- with \.Values\.podLabels \}\}\n"
     r"        \{\{- toYaml \. \| nindent 8 \}\}\n        \{\{- end \}\}\n"),
    ("scaffold-helpers", "templates/service.yaml",
     r"\n  selector:\n    \{\{- include \"scaffold-helpers.selectorLabels\" \. \| nindent 4 \}\}"),
    ("include-key-line", "templates/deployment.yaml",
     r"\n    matchLabels: "
     r"\{\{- include \"include-key-line.selectorLabels\" \. \| nindent 6 \}\}\n"),
    ("include-key-line", "templates/deployment.yaml",
     r"\n      labels: \{\{- include \"include-key-line.labels\" \. \| nindent 8 \}\}\n"),
    ("include-key-line", "templates/service.yaml",
     r"\n  selector: \{\{- include \"include-key-line.selectorLabels\" \. \| nindent 4 \}\}"),
    ("flow-mapping", "templates/web.yaml",
     r"\n    matchLabels: \{app: web, release: \{\{ \.Release\.Name \| quote \}\}\}\n"),
    ("flow-mapping", "templates/web.yaml", r"\n  annotations: \{\}\n"),
    ("flow-mapping", "templates/service.yaml", r"\n  selector: \{app: web, release: "),
    ("if-blocks", "templates/collector-deployment.yaml",
     r"\n      release: .*\n  \{\{- if \.Values\.tier \}\}\n      tier: .*\n  \{\{- end \}\}\n"),
    ("if-blocks", "templates/collector-deployment.yaml",
     r"\n          \{\{- if \.Values\.team \}\}\n        team: .*\n          \{\{- end \}\}\n"),
    ("templated-keys", "templates/controller-deployment.yaml",
     r"\n        \{\{ \.Values\.componentKey \| default \"app.kubernetes.io/component\" \}\}: "
     r"controller\n"),
    ("templated-keys", "templates/controller-deployment.yaml",
     r"\n    matchLabels:\n.*\n      \{\{ include \"templated-keys.componentKey\" \. \}\}: "
     r"controller\n"),
    ("multi-doc", "templates/api.yaml",
     r"kind: Deployment\n(.|\n)*\n---\n(.|\n)*kind: Service\n(.|\n)*\n---\n(.|\n)*kind: Job\n"),
    ("multi-doc", "templates/workers.yaml",
     r"^\{\{- if \.Values\.enabled \}\}\n\{\{- range \$name, \$w := \.Values\.workers \}\}\n"
     r"(.|\n)*\{\{- end \}\}\n\{\{- end \}\}\n$"),
    ("crlf-bom", "templates/deployment.yaml",
     r"\r\n      # name and instance .*\r\n      app.kubernetes.io/name: .*\r\n"
     r"      \{\{/\* .* \*/\}\}\r\n      app.kubernetes.io/instance: "),
    ("component-helper", "templates/api-deployment.yaml",
     r"\{\{- include \"component-helper.selectorLabels\" "
     r"\(dict \"ctx\" \. \"component\" \"api\"\) \| nindent 6 \}\}"),
    ("component-helper", "templates/worker-deployment.yaml",
     r"\(dict \"ctx\" \. \"component\" \"\"\) \| nindent 6 \}\}"),
    ("volatile-legacy", "templates/deployment.yaml",
     r"\n    matchLabels:\n.*\n      chart: \{\{ \.Chart\.Name \}\}-\{\{ \.Chart\.Version \}\}\n"),
    ("volatile-helper", "templates/_helpers.tpl",
     r"define \"volatile-helper.selectorLabels\" -\}\}\n(.*\n){2}helm.sh/chart: "),
    ("volatile-one", "templates/frontend.yaml",
     r"\n    matchLabels:\n(.*\n){2}      version: \{\{ \.Chart\.Version \}\}\n"),
    ("random-names", "templates/tests/test-stock.yaml",
     r'\n  name: "\{\{ include "random-names.fullname" \. \}\}-test-'
     r'\{\{ randAlphaNum 5 \| lower \}\}"\n'),
    ("random-names", "templates/_helpers.tpl",
     r"-seed-\{\{ randNumeric 6 \}\}\n\{\{- end \}\}"),
    ("two-kinds", "templates/proxy.yaml",
     r"\{\{- if \.Values\.proxy\.daemonset \}\}\nkind: DaemonSet\n\{\{- else \}\}\n"
     r"kind: Deployment\n\{\{- end \}\}\n"),
    ("two-kinds", "templates/store.yaml",
     r"\nkind: \{\{ ternary \"StatefulSet\" \"Deployment\" \.Values\.store\.persistence \}\}\n"),
    ("two-kinds", "templates/cache.yaml", r"\nkind: \{\{ \.Values\.cache\.kind \}\}\n"),
    ("define-objects", "templates/deployments.yaml",
     r'^\{\{ include "define-objects\.deployment\.web" \. \}\}\n---\n'),
    ("define-objects", "templates/_deployments.yaml.tpl",
     r'\n  selector:\n  \{\{- include "lib\.selector" \. \| indent 4 \}\}\n  template:'),
    ("define-objects", "templates/_deployments.yaml.tpl",
     r'\{\{- define "define-objects\.deployment\.worker" -\}\}\napiVersion: apps/v1\n'
     r"kind: Deployment\n"),
    ("defaulted-selector", "templates/deployment.yaml",
     r"^apiVersion: extensions/v1beta1\nkind: Deployment\n(?![\s\S]*selector:)"),
    ("defaulted-selector", "templates/statefulset.yaml",
     r"^apiVersion: apps/v1beta1\nkind: StatefulSet\n(?![\s\S]*selector:)"),
    ("shared-component", "templates/deployment.yaml",
     r"\n    matchLabels:\n(.*\n){2}      component: server\n"),
    ("shared-component", "templates/migrate-job.yaml",
     r"\n        component: server  # copied from the Deployment\n"),
    ("shared-component", "templates/reindex-job.yaml", r"\n        component: \"server\"\n"),
    ("shared-component", "templates/tests/test-connection.yaml",
     r"\"helm.sh/hook\": test\n"),
    ("range-shards", "templates/shards.yaml",
     r"^\{\{- range \$i, \$e := until \(int \.Values\.shards\) \}\}\n"
     r"(.|\n)*\n    matchLabels:\n(.*\n){2}      app.kubernetes.io/component: shard\n  template:"
     r"(.|\n)*\n        shard: \{\{ \$i \| quote \}\}\n"),
    ("volatile-only-difference", "templates/web.yaml",
     r"\n    matchLabels:\n(.*\n){2}      version: \{\{ \.Chart\.Version \}\}\n"),
    ("volatile-only-difference", "templates/worker.yaml",
     r"\n    matchLabels:\n(.*\n){2}      component: worker\n"),
    ("test-pod-shared-helper", "templates/_helpers.tpl",
     r'\n\{\{ include "test-pod-shared-helper\.selectorLabels" \. \}\}\n(.*\n)*'
     r"app\.kubernetes\.io/component: repository\n"),
    ("test-pod-shared-helper", "templates/tests/test-connection.yaml",
     r'\n  labels:\n    \{\{- include "test-pod-shared-helper\.labels" \. \| nindent 4 \}\}\n'
     r'    test-resource: "true"\n'),
    ("test-pod-shared-helper", "templates/tests/test-metrics.yaml",
     r'\n  labels: \{\{- include "test-pod-shared-helper\.labels" \. \| nindent 4 \}\}\n'),
    ("peer-service", "templates/headless-service.yaml",
     r"\n  clusterIP: None\n(.*\n)*"
     r'  selector: \{\{- include "peer-service\.selectorLabels" \. \| nindent 4 \}\}\n'
     r"    app\.kubernetes\.io/part-of: peer-service\n$"),
    ("peer-service", "templates/executors.yaml",
     r"^\{\{- range \$group := \.Values\.executor\.groups \}\}\n(.|\n)*"
     r"\n  serviceName: \{\{ include \"peer-service\.fullname\" \$ \}\}-headless\n"),
    ("peer-service", "templates/bootstrap-job.yaml",
     r"\n        app\.kubernetes\.io/part-of: peer-service\n"
     r"        app\.kubernetes\.io/component: bootstrap\n"),
]


def render(chart_dir: Path, values: dict[str, object] | None = None) -> list[K8sObject]:
    """Render a fixture with Helm's engine and split the output into objects."""
    out = helm_python.Chart.load(str(chart_dir)).render(
        values=values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True
    )
    objects: list[K8sObject] = []
    for key, text in sorted(out.items()):
        if not key.endswith((".yaml", ".yml")):
            continue
        path = key.split("/", 1)[1]
        docs = [doc for doc in yaml.safe_load_all(text) if doc]
        objects.extend(
            K8sObject(doc, FileDocument(path, i), chart_dir.name) for i, doc in enumerate(docs)
        )
    return objects


def selector_keys(obj: K8sObject) -> set[str]:
    """Keys of an object's selector (empty when it has none)."""
    selector = obj.selector
    return set() if selector is None else selector.label_keys()


def overlaps(objects: list[K8sObject]) -> set[tuple[str, str]]:
    """Pairs (controller, other pod maker) where the controller's selector matches the pods."""
    found = set()
    for controller in objects:
        selector = controller.selector
        if not controller.is_controller or selector is None:
            continue
        for other in objects:
            pods = other.pod_labels
            if other is not controller and pods is not None and selector.matches(pods):
                found.add((str(controller.ref), str(other.ref)))
    return found


def test_every_fixture_exists() -> None:
    """Other fixtures may sit beside these (other helpers add theirs); these must be there."""
    missing = [n for n in EXPECTED_KINDS if not (FIXTURES / n / "Chart.yaml").is_file()]
    assert not missing


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_chart_metadata(name: str) -> None:
    meta = yaml.safe_load((FIXTURES / name / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == name
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])
    assert meta["appVersion"]
    assert len(meta["description"]) > 40
    assert (FIXTURES / name / "values.yaml").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_renders_expected_kinds(name: str) -> None:
    objects = render(FIXTURES / name)
    assert Counter(o.kind for o in objects) == Counter(EXPECTED_KINDS[name])
    assert len({o.ref for o in objects}) == len(objects), "object names must be distinct"


@pytest.mark.parametrize("name", sorted(EXPECTED_OVERLAPS))
def test_selector_overlap(name: str) -> None:
    assert overlaps(render(FIXTURES / name)) == EXPECTED_OVERLAPS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_VOLATILE))
def test_volatile_label_in_selector(name: str) -> None:
    objects = {str(o.ref): o for o in render(FIXTURES / name)}
    for ref, key in EXPECTED_VOLATILE[name].items():
        assert key in selector_keys(objects[ref]), ref
    for ref, obj in objects.items():
        if obj.selector is not None and ref not in EXPECTED_VOLATILE[name]:
            assert not selector_keys(obj) & {"chart", "helm.sh/chart", "version"}, ref


def test_clean_selectors_hold_only_stable_labels() -> None:
    volatile = {"chart", "helm.sh/chart", "version", "app.kubernetes.io/version", "heritage"}
    for obj in render(FIXTURES / "clean"):
        if obj.selector is not None:
            assert not selector_keys(obj) & volatile, obj.ref
            assert "app.kubernetes.io/component" in selector_keys(obj), obj.ref


@pytest.mark.parametrize(("name", "path", "pattern"), SHAPES)
def test_template_shape_present(name: str, path: str, pattern: str) -> None:
    text = (FIXTURES / name / path).read_bytes().decode("utf-8-sig")
    assert re.search(pattern, text), f"{name}/{path} lost its shape"


def test_legacy_server_uses_literal_legacy_keys_everywhere() -> None:
    for template in (FIXTURES / "legacy-server" / "templates").glob("*.yaml"):
        text = template.read_text()
        for key in ("app", "release", "chart", "heritage"):
            assert re.search(rf"\n +{key}: ", text), f"{template.name} lacks literal {key}"
        assert "include" not in text


def test_multi_doc_range_and_whole_file_if() -> None:
    objects = render(FIXTURES / "multi-doc")
    api = [o for o in objects if o.document.path == "templates/api.yaml"]
    assert [(o.kind, o.document.doc_index) for o in api] == [
        ("Deployment", 0), ("Service", 1), ("Job", 2)
    ]
    workers = [o for o in objects if o.document.path == "templates/workers.yaml"]
    assert sorted(o.name for o in workers) == [
        "rel-multi-doc-worker-email", "rel-multi-doc-worker-thumbnails"
    ]
    disabled = render(FIXTURES / "multi-doc", {"enabled": False})
    assert not [o for o in disabled if o.document.path == "templates/workers.yaml"]


def test_if_blocks_follow_their_values() -> None:
    objects = {str(o.ref): o for o in render(FIXTURES / "if-blocks", {"tier": "", "team": ""})}
    collector = objects["Deployment/rel-collector"]
    assert selector_keys(collector) == {"app", "release"}
    assert collector.pod_labels == {"app": "if-blocks", "release": RELEASE}


def test_templated_key_follows_value() -> None:
    objects = render(FIXTURES / "templated-keys", {"componentKey": "example.org/role"})
    controller = next(o for o in objects if o.name == "rel-controller")
    assert controller.pod_labels is not None
    assert controller.pod_labels["example.org/role"] == "controller"
    assert "example.org/role" in selector_keys(controller)


def test_shared_selector_services_attributable_by_port() -> None:
    """Each Service's target port names or numbers a port of exactly one workload."""
    objects = render(FIXTURES / "shared-selector")
    workloads = [o for o in objects if o.is_controller]
    expected = {
        "rel-shared-selector-web": "rel-shared-selector-web",
        "rel-shared-selector-worker-metrics": "rel-shared-selector-worker",
        "rel-shared-selector-cache": "rel-shared-selector-cache",
    }
    for service in (o for o in objects if o.kind == "Service"):
        (port,) = service.body["spec"]["ports"]
        target = port.get("targetPort", port["port"])
        owners = [
            w.name
            for w in workloads
            if any(
                target in (p.get("name"), p.get("containerPort"))
                for c in w.containers()
                for p in c.get("ports", [])
            )
        ]
        assert owners == [expected[service.name]], service.name


CRLF_BOM = FIXTURES / "crlf-bom" / "templates"


def test_crlf_template_keeps_crlf_bytes() -> None:
    data = (CRLF_BOM / "deployment.yaml").read_bytes()
    assert data.count(b"\r\n") > 20
    assert data.count(b"\n") == data.count(b"\r\n"), "every line must end in CRLF"
    assert data.endswith(b"\r\n")


def test_bom_template_starts_with_bom() -> None:
    data = (CRLF_BOM / "seed-job.yaml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf{{- if .Values.seed.enabled }}\n")
    assert b"\r" not in data


def test_template_without_final_newline() -> None:
    data = (CRLF_BOM / "service.yaml").read_bytes()
    assert not data.endswith(b"\n")
    assert data.endswith(b"# no final newline after the next line")


def test_crlf_bom_fixture_is_never_normalised_by_git() -> None:
    assert (FIXTURES / "crlf-bom" / ".gitattributes").read_bytes() == b"* -text\n"
    result = subprocess.run(
        ["git", "check-attr", "text", "--", "templates/deployment.yaml"],
        cwd=FIXTURES / "crlf-bom", capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        pytest.skip("not inside a git work tree")
    assert result.stdout.strip().endswith("text: unset")


def test_readme_lists_every_fixture() -> None:
    readme = (FIXTURES / "README.md").read_text()
    for name in EXPECTED_KINDS:
        assert re.search(rf"^- `{re.escape(name)}`", readme, re.M), name


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_no_symlinks(name: str) -> None:
    assert not [p for p in (FIXTURES / name).rglob("*") if p.is_symlink()]
