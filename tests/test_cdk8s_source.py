"""cdk8s apps in Python: synthesis with the real cdk8s library, findings, libcst fixes (each
fixture's fix as a literal before/after pair: test_cdk8s_edit.py).

Every app here runs for real (a child Python with cdk8s on Node.js); fixtures are copied to a
temporary directory first so that no test can change them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install '.[cdk8s]'")

from chartfix.commands.checking import CheckOptions, check_chart
from chartfix.errors import TargetError
from chartfix.model.changes import TargetChange
from chartfix.model.findings import Finding
from chartfix.model.objects import K8sObject, Rendering
from chartfix.model.selectors import LabelSelector
from chartfix.pipeline import FixRequest, fix_target
from chartfix.sources.cdk8s.app import find_apps
from chartfix.sources.cdk8s.edit import LabelEdit, apply_label_edits
from chartfix.sources.cdk8s.locate import AppFiles, NotLocated, locate_labels
from chartfix.sources.cdk8s.synth import Construction, Frame, synth

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

def fix_app(app: Path, request: FixRequest | None = None) -> TargetChange:
    """The one pipeline's fix of a cdk8s app (any source kind goes through fix_target)."""
    return fix_target(app, request or FixRequest(fix_latent=True, run_apps=True))


def check_app(app: Path) -> list[Finding]:
    report = check_chart(app, CheckOptions(run_apps=True))
    assert report.error is None, report.error
    return report.findings


def copy_app(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def write_app(root: Path, main: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cdk8s.yaml").write_text("language: python\napp: python main.py\n")
    (root / "main.py").write_text(main)
    return root


def overlaps(rendering: Rendering) -> list[tuple[str, str]]:
    """A tiny independent overlap check: (controller, other) pairs sharing pods."""
    found = []
    makers = [o for o in rendering.objects if o.pod_labels is not None]
    for obj in rendering.objects:
        selector = obj.selector
        if not obj.is_controller or selector is None:
            continue
        for other in makers:
            if other is not obj and selector.matches(other.pod_labels or {}):
                found.append((str(obj.ref), str(other.ref)))
    return found


def without(body: object, key: str) -> object:
    """`body` with every map entry named `key` dropped (to compare objects but one label)."""
    if isinstance(body, dict):
        return {k: without(v, key) for k, v in body.items() if k != key}
    if isinstance(body, list):
        return [without(v, key) for v in body]
    return body


def service_targets(rendering: Rendering, service: K8sObject) -> list[str]:
    selector = service.selector
    assert isinstance(selector, LabelSelector)
    return sorted(
        o.kind for o in rendering.objects if o.pod_labels and selector.matches(o.pod_labels)
    )


# --- finding apps and synthesizing them -------------------------------------------------------


def test_find_apps_skips_build_output_and_symlinks(tmp_path: Path) -> None:
    shop = copy_app(tmp_path, "cdk8s-shared-dict")
    queue = copy_app(tmp_path / "nested", "cdk8s-helper-fn")
    write_app(shop / "dist" / "old", "")  # build output, not an app
    (tmp_path / "link").symlink_to(shop, target_is_directory=True)
    assert find_apps([tmp_path]) == sorted([shop.resolve(), queue.resolve()])
    assert find_apps([queue]) == [queue.resolve()]


def test_synth_traces_each_object_to_its_python_file(tmp_path: Path) -> None:
    rendering = synth(copy_app(tmp_path, "cdk8s-shared-dict"))
    assert [(o.kind, o.document.path, o.document.doc_index) for o in rendering.objects] == [
        ("Deployment", "main.py", 0),
        ("Job", "main.py", 1),
        ("Service", "main.py", 2),
    ]
    deployment = rendering.objects[0]
    assert deployment.selector == LabelSelector({"app": "shop"})
    assert deployment.pod_labels == {"app": "shop"}


def test_synth_applies_overrides_without_touching_the_app(tmp_path: Path) -> None:
    app = copy_app(tmp_path, "cdk8s-shared-dict")
    source = (app / "main.py").read_bytes()
    edited = source.replace(b'{"app": "shop"}', b'{"app": "store"}')
    rendering = synth(app, {"main.py": edited})
    assert {o.pod_labels["app"] for o in rendering.objects if o.pod_labels} == {"store"}
    assert (app / "main.py").read_bytes() == source
    assert not (app / "dist").exists()


def test_an_app_that_raises_is_a_chart_error_naming_file_and_line(tmp_path: Path) -> None:
    app = write_app(
        tmp_path / "broken",
        "from cdk8s import App\n\napp = App()\nraise RuntimeError('no database URL')\n",
    )
    with pytest.raises(TargetError) as caught:
        synth(app)
    message = str(caught.value)
    assert message.endswith("main.py:4: RuntimeError: no database URL")
    assert "\n" not in message and "Node" not in message


def test_an_app_that_never_synthesizes_is_a_chart_error(tmp_path: Path) -> None:
    app = write_app(tmp_path / "lazy", "from cdk8s import App\n\napp = App()\n")
    with pytest.raises(TargetError, match=r"main.py: the app wrote no manifests"):
        synth(app)


def test_a_symlink_out_of_the_app_is_refused(tmp_path: Path) -> None:
    app = copy_app(tmp_path, "cdk8s-shared-dict")
    (tmp_path / "secret.py").write_text("TOKEN = 1\n")
    (app / "secret.py").symlink_to(tmp_path / "secret.py")
    with pytest.raises(TargetError, match="symlink points outside the app"):
        synth(app)


def test_a_bad_config_is_a_chart_error(tmp_path: Path) -> None:
    app = tmp_path / "noentry"
    app.mkdir()
    (app / "cdk8s.yaml").write_text("app: node main.js\n")
    with pytest.raises(TargetError, match=r"cdk8s.yaml: `app: node main.js` runs no Python file"):
        synth(app)


# --- findings ---------------------------------------------------------------------------------


def test_check_reports_the_shared_dict_at_its_python_lines(tmp_path: Path) -> None:
    findings = check_app(copy_app(tmp_path, "cdk8s-shared-dict"))
    assert [(f.rule, f.obj.kind, str(f.location)) for f in findings] == [
        ("overlap", "Deployment", "main.py:21"),  # selector=k8s.LabelSelector(match_labels=...)
        ("stray", "Service", "main.py:55"),  # selector=label
    ]
    assert findings[0].related[0].kind == "Job"


# --- fixing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cdk8s-shared-dict", "cdk8s-helper-fn"])
def test_after_the_fix_no_overlap_and_only_the_added_labels_differ(
    tmp_path: Path, name: str
) -> None:
    app = copy_app(tmp_path, name)
    before = synth(app)
    assert overlaps(before)
    change = fix_app(app)
    for file in change.files:
        (app / file.path).write_bytes(file.after)
    after = synth(app)
    assert overlaps(after) == []
    key = "component" if name == "cdk8s-shared-dict" else "app.kubernetes.io/component"
    assert [o.ref for o in after.objects] == [o.ref for o in before.objects]
    for old, new in zip(before.objects, after.objects, strict=True):
        assert without(new.body, key) == old.body
        if old.kind == "Job":
            assert new.body == old.body  # a Job's pod template is immutable: left alone
    service = next(o for o in after.objects if o.kind == "Service")
    assert service_targets(after, service) == ["Deployment"]


@pytest.mark.parametrize("name", ["cdk8s-shared-dict", "cdk8s-helper-fn"])
def test_a_second_fix_does_nothing(tmp_path: Path, name: str) -> None:
    app = copy_app(tmp_path, name)
    for file in fix_app(app).files:
        (app / file.path).write_bytes(file.after)
    again = fix_app(app)
    assert again.files == [] and again.fixed == [] and again.unfixed == []
    assert not again.changed


def test_a_fix_that_fails_verification_is_not_returned_as_fixed(tmp_path: Path) -> None:
    # Both Deployments get their labels from ONE literal inside the factory: a label added
    # there would reach the other Deployment too, so verification must refuse it.
    app = write_app(
        tmp_path / "factory",
        '''from cdk8s import ApiObject, App, Chart, JsonPatch


def deployment(scope, id):
    labels = {"app": "same"}
    obj = ApiObject(scope, id, api_version="apps/v1", kind="Deployment")
    obj.add_json_patch(JsonPatch.add("/spec", {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": []}},
    }))


app = App()
chart = Chart(app, "twins")
deployment(chart, "server")
deployment(chart, "worker")
app.synth()
''',
    )
    change = fix_app(app)
    assert change.files == [] and change.fixed == []
    assert len(change.unfixed) == 2
    assert all("failed verification" in u.reason for u in change.unfixed)
    # The label reaches both Deployments, so neither overlap goes (the one verifier's words).
    assert all("is still there after the edit" in u.reason for u in change.unfixed)


# --- locating and editing (libcst), before/after ----------------------------------------------


def codemod(tmp_path: Path, before: str, line: int, construct_id: str, path: str) -> str:
    """Locate `path` of the object built on `line`, add component=server, return the source."""
    (tmp_path / "main.py").write_text(before)
    sources = AppFiles(tmp_path)
    origin = Construction(construct_id, f"c/{construct_id}", (Frame("main.py", line, "<module>"),))
    site = locate_labels(sources, origin, path)
    edit = LabelEdit(site, "component", "server")
    return apply_label_edits(sources.file("main.py"), [edit]).decode()


def test_codemod_inserts_into_a_one_line_literal(tmp_path: Path) -> None:
    before = (
        "KubeService(self, 'web', spec=ServiceSpec(selector={'app': 'shop'}))  # front\n"
    )
    after = (
        "KubeService(self, 'web', spec=ServiceSpec(selector={'app': 'shop', "
        "'component': 'server'}))  # front\n"
    )
    assert codemod(tmp_path, before, 1, "web", "spec.selector") == after


def test_codemod_inserts_into_a_multi_line_literal_keeping_its_layout(tmp_path: Path) -> None:
    before = """\
KubeDeployment(
    self,
    "server",
    spec={
        "selector": {
            "matchLabels": {
                "app": "shop",  # the name
                "tier": "web",
            },
        },
    },
)
"""
    after = """\
KubeDeployment(
    self,
    "server",
    spec={
        "selector": {
            "matchLabels": {
                "app": "shop",  # the name
                "component": "server",
                "tier": "web",
            },
        },
    },
)
"""
    assert codemod(tmp_path, before, 1, "server", "spec.selector.matchLabels") == after


def test_codemod_appends_when_the_keys_are_not_sorted(tmp_path: Path) -> None:
    before = "KubeService(self, 'web', spec=ServiceSpec(selector={'tier': 'web', 'app': 'a'}))\n"
    after = (
        "KubeService(self, 'web', spec=ServiceSpec(selector={'tier': 'web', 'app': 'a', "
        "'component': 'server'}))\n"
    )
    assert codemod(tmp_path, before, 1, "web", "spec.selector") == after


def test_codemod_inserts_first_in_a_sorted_one_line_literal(tmp_path: Path) -> None:
    before = "KubeService(self, 'web', spec=ServiceSpec(selector={'tier': 'web', 'zone': 'a'}))\n"
    after = (
        "KubeService(self, 'web', spec=ServiceSpec(selector={'component': 'server', "
        "'tier': 'web', 'zone': 'a'}))\n"
    )
    assert codemod(tmp_path, before, 1, "web", "spec.selector") == after


def test_codemod_wraps_a_name_at_its_use_and_follows_spreads(tmp_path: Path) -> None:
    before = """\
label = {"app": "shop"}
base = {"replicas": 1}
spec = {**base, "selector": LabelSelector(match_labels=label)}
KubeDeployment(self, "server", spec=spec)
"""
    after = """\
label = {"app": "shop"}
base = {"replicas": 1}
spec = {**base, "selector": LabelSelector(match_labels={**label, "component": "server"})}
KubeDeployment(self, "server", spec=spec)
"""
    assert codemod(tmp_path, before, 4, "server", "spec.selector.matchLabels") == after


def test_codemod_stacks_a_wrap_that_would_make_its_line_too_long(tmp_path: Path) -> None:
    before = """\
def build(self, labels_for):
    KubeService(self, "web", spec=ServiceSpec(selector=labels_for("shop", "production-eu-west")))
"""
    after = """\
def build(self, labels_for):
    KubeService(self, "web", spec=ServiceSpec(selector={
        **labels_for("shop", "production-eu-west"),
        "component": "server",
    }))
"""
    assert codemod(tmp_path, before, 2, "web", "spec.selector") == after


def test_codemod_says_why_it_cannot_follow_a_helper_built_spec(tmp_path: Path) -> None:
    before = 'KubeDeployment(self, "server", spec=make_spec("shop"))\n'
    with pytest.raises(NotLocated, match=r"main.py:1: cannot follow `selector`"):
        codemod(tmp_path, before, 1, "server", "spec.selector.matchLabels")


def test_a_cdk8s_apps_migration_note_applies_its_synthesized_output(tmp_path: Path) -> None:
    """A cdk8s app is deployed by synthesizing it and applying the output (or a GitOps
    sync of it): its note says so, names no Helm release, values or `helm upgrade`, and
    applies the output folder from the repository's top."""
    from chartfix.publish.migration.text import migration_note

    (tmp_path / ".git").mkdir()
    app = copy_app(tmp_path / "apps", "cdk8s-shared-dict")
    note = migration_note(fix_app(app), "shop", "default")
    assert "helm" not in note.lower() and "release" not in note and "values" not in note
    assert "`cdk8s synth` in its folder" in note
    assert "kubectl -n default apply -f 'apps/cdk8s-shared-dict/dist'" in note


def test_a_cdk8s_apps_note_applies_the_output_folder_its_cdk8s_yaml_names(
    tmp_path: Path,
) -> None:
    """`output:` of cdk8s.yaml is where `cdk8s synth` writes the manifests: the note applies
    that folder, not `dist`."""
    from chartfix.publish.migration.text import migration_note

    (tmp_path / ".git").mkdir()
    app = copy_app(tmp_path / "apps", "cdk8s-shared-dict")
    config = app / "cdk8s.yaml"
    config.write_text(config.read_text() + "output: manifests\n")
    note = migration_note(fix_app(app), "shop", "default")
    assert "kubectl -n default apply -f 'apps/cdk8s-shared-dict/manifests'" in note
    assert "kubectl apply -f apps/cdk8s-shared-dict/manifests` or let Argo CD" in note
    assert "/dist" not in note
