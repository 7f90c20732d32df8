"""One pipeline for every source kind: the same bug, written as a Helm chart and as a cdk8s
app, gets the same fix decisions (key, value, consumers); value naming is one set of rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartfix.model.changes import TargetChange
from chartfix.model.objects import FileDocument, K8sObject
from chartfix.pipeline import FixRequest, fix_target
from chartfix.recipes.naming import component_value, name_suffix, workload_names
from chartfix.sources.targets import KINDS, find_targets, kind_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def decisions(change: TargetChange) -> dict[str, object]:
    """What the recipes decided, in terms every source kind shares: the label each kind of
    object gained in the rendered result, the findings fixed, the findings left."""
    before = {o.ref: o for o in change.before[0].objects}
    gained: dict[str, dict[str, dict[str, str]]] = {}
    for obj in change.after[0].objects:
        old = before[obj.ref]
        for path in filter(None, (obj.pod_labels_path(), obj.selector_path())):
            new = {k: v for k, v in _at(obj, path).items() if _at(old, path).get(k) != v}
            if new:
                gained.setdefault(obj.kind, {})[path] = new
    return {
        "gained": gained,
        "fixed": sorted((f.rule, f.obj.kind) for f in change.fixed),
        "unfixed": sorted((u.finding.rule, u.finding.obj.kind) for u in change.unfixed),
        "recipes": change.recipes,
        "unsafe": change.unsafe,
    }


def _at(obj: K8sObject, path: str) -> dict[str, str]:
    node: object = obj.body
    for key in path.split("."):
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return dict(node) if isinstance(node, dict) else {}


def test_the_same_bug_gets_the_same_fix_as_a_helm_chart_and_as_a_cdk8s_app(
    tmp_path: Path,
) -> None:
    pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install '.[cdk8s]'")
    helm = fix_target(copy(tmp_path, "same-bug-helm"), FixRequest())
    cdk8s = fix_target(copy(tmp_path, "same-bug-cdk8s"), FixRequest(run_apps=True))
    expected = {
        "gained": {
            "Deployment": {
                "spec.template.metadata.labels": {"component": "web"},
                "spec.selector.matchLabels": {"component": "web"},
            },
            "Service": {"spec.selector": {"component": "web"}},
        },
        "fixed": [("overlap", "Deployment"), ("stray", "Service")],
        "unfixed": [],
        "recipes": ["component-labels"],
        "unsafe": True,
    }
    assert decisions(helm) == expected
    assert decisions(cdk8s) == expected
    # each in its own language, every other byte kept: the app's whole fix is the literal
    # pair of test_recipe_cases.py (the recipe alone), and the pipeline's is the same
    from test_recipe_cases import SHOP_APP, SHOP_APP_AFTER

    assert [f.path for f in helm.files] == ["templates/service.yaml", "templates/web.yaml"]
    assert [(f.path, f.before.decode(), f.after.decode()) for f in cdk8s.files] == [
        ("main.py", SHOP_APP, SHOP_APP_AFTER)
    ]


def test_component_and_label_jobs_reach_a_cdk8s_app(tmp_path: Path) -> None:
    pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install '.[cdk8s]'")
    for name, run_apps in (("same-bug-helm", None), ("same-bug-cdk8s", True)):
        request = FixRequest(components=(("web", "frontend"),), label_jobs=True, run_apps=run_apps)
        change = fix_target(copy(tmp_path, name), request)
        gained = decisions(change)["gained"]
        assert isinstance(gained, dict)
        assert gained["Deployment"]["spec.selector.matchLabels"] == {"component": "frontend"}
        assert gained["Job"] == {"spec.template.metadata.labels": {"component": "migrate"}}, name
        # --recipe reaches it too: a recipe that fixes nothing here leaves the overlap
    only = fix_target(
        copy(tmp_path / "again", "same-bug-cdk8s"),
        FixRequest(recipes=("stable-selectors",), run_apps=True),
    )
    assert only.files == [] and only.fixed == []


def test_the_release_fullname_is_stripped_only_as_a_whole_word() -> None:
    assert name_suffix("shop-web", "shop", "shop") == "web"
    assert name_suffix("shoplike", "shop", "shop") == ""
    assert name_suffix("rel-chart-worker", "rel", "chart") == "worker"

    def deployment(name: str) -> K8sObject:
        return K8sObject({"kind": "Deployment", "metadata": {"name": name}}, FileDocument("t.yaml"))

    assert workload_names(deployment("shoplike"), "shop", "shop") == ("shoplike",)
    assert workload_names(deployment("shop-like"), "shop", "shop") == ("shop-like", "like")
    # the value comes from the names the author wrote (a cdk8s construct id), never the
    # rendered one: `--component` may still name the rendered one
    assert component_value(deployment("shop-web-c8a1b2c3"), "x", {}, ("web",)) == "web"
    assert component_value(deployment("shop-like"), "shop", {}, ()) == "server"
    assert component_value(
        deployment("shop-like"), "shop", {"shop-like": "x"}, (), ("shop-like",)
    ) == "x"


def test_targets_is_the_registry_of_source_kinds(tmp_path: Path) -> None:
    assert [k.name for k in KINDS] == ["helm", "cdk8s", "kustomize", "manifests"]
    helm, app = copy(tmp_path, "same-bug-helm"), copy(tmp_path, "same-bug-cdk8s")
    assert find_targets([tmp_path]) == sorted([helm.resolve(), app.resolve()])
    assert kind_of(helm).name == "helm" and kind_of(app).name == "cdk8s"
