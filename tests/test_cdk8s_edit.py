"""The cdk8s editor (`sources/cdk8s/edit.py`, following an app's Python with `locate.py`):
each app before and after one recipe, compared byte for byte (`assert_recipe`) and
synthesized again to verify it, as a run does.

One app per shape of Python that carries labels: a dict shared by every object (wrapped at
each use), helper functions (wrapped at the call sites), module constants also imported
from another module, helpers three calls deep, bare `ApiObject`s labelled by JSON patches,
labels passed by keyword, by position or left to a parameter's default, and a headless
Service over several StatefulSets (a member label). Then the own-value path, which the
editor cannot take: refused in one line. Each pair synthesizes its app twice (before and
after the edit); the generated `k8s` bindings come from the fixture, they are not the case.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, snapshot

from chartfix.cli import main
from chartfix.recipes.component_labels import ComponentLabels
from chartfix.sources.cdk8s import source as cdk8s_source
from chartfix.testing import assert_recipe

pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install '.[cdk8s]'")

CDK8S_YAML = "language: python\napp: python main.py\n"
WITH_BINDINGS = CDK8S_YAML + "imports:\n  - k8s\n"


def bindings(fixture: str) -> dict[str, str]:
    """The generated `imports/` of a fixture app (k8s bindings, not the case)."""
    imports = FIXTURES / fixture / "imports"
    return {f"imports/{p.name}": p.read_text() for p in sorted(imports.glob("*.py"))}


def copy_app(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# --- a dict shared by every object -------------------------------------------------------------

SHARED_DICT = '''\
#!/usr/bin/env python
"""A web shop: the server, its database migration and the Service in front of it."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s


class Shop(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

        # one label set for everything (the bug)
        label = {"app": "shop"}

        k8s.KubeDeployment(
            self,
            "server",
            spec=k8s.DeploymentSpec(
                replicas=2,
                selector=k8s.LabelSelector(match_labels=label),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=label),
                    spec=k8s.PodSpec(
                        containers=[
                            k8s.Container(
                                name="web",
                                image="shop:1.0",
                                ports=[k8s.ContainerPort(container_port=8080)],
                            )
                        ]
                    ),
                ),
            ),
        )

        k8s.KubeJob(
            self,
            "migrate",
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=label),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="migrate", image="shop:1.0")],
                    ),
                )
            ),
        )

        k8s.KubeService(
            self,
            "web",
            spec=k8s.ServiceSpec(
                selector=label,
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''

SHARED_DICT_AFTER = '''\
#!/usr/bin/env python
"""A web shop: the server, its database migration and the Service in front of it."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s


class Shop(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

        # one label set for everything (the bug)
        label = {"app": "shop"}

        k8s.KubeDeployment(
            self,
            "server",
            spec=k8s.DeploymentSpec(
                replicas=2,
                selector=k8s.LabelSelector(match_labels={**label, "component": "server"}),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={**label, "component": "server"}),
                    spec=k8s.PodSpec(
                        containers=[
                            k8s.Container(
                                name="web",
                                image="shop:1.0",
                                ports=[k8s.ContainerPort(container_port=8080)],
                            )
                        ]
                    ),
                ),
            ),
        )

        k8s.KubeJob(
            self,
            "migrate",
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=label),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="migrate", image="shop:1.0")],
                    ),
                )
            ),
        )

        k8s.KubeService(
            self,
            "web",
            spec=k8s.ServiceSpec(
                selector={**label, "component": "server"},
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''


def test_a_shared_dict_is_wrapped_at_each_use_in_two_syntheses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`label` is used by the Job too: a label added inside it would reach the Job, so each
    use the fix needs becomes `{**label, "component": "server"}`; the Job keeps `label`.
    The app is synthesized twice, before and after the edit: the verifier's render with a
    long release name is that second synthesis (an app takes no release)."""
    synthesized = []
    real = cdk8s_source.synthesize

    def counted(*args: Any, **kwargs: Any) -> Any:
        synthesized.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(cdk8s_source, "synthesize", counted)
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": WITH_BINDINGS, "main.py": SHARED_DICT, **bindings("cdk8s-shared-dict")},
        {"main.py": SHARED_DICT_AFTER},
    )
    assert len(synthesized) == 2


# --- helper functions and constants ------------------------------------------------------------

HELPER_FN = '''\
"""A job queue built from plain ApiObjects: an API, a worker, a cleanup Job and a Service.

Labels come from a helper function; both Deployments come from one factory function.
"""

from cdk8s import ApiObject, App, Chart, JsonPatch
from constructs import Construct


def selector_labels(name: str) -> dict[str, str]:
    """The labels every object of `name` is selected by."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": "queue",
    }


def deployment(scope: Construct, id: str, labels: dict, image: str, port: int = 0) -> ApiObject:
    ports = [{"containerPort": port}] if port else []
    obj = ApiObject(scope, id, api_version="apps/v1", kind="Deployment")
    obj.add_json_patch(
        JsonPatch.add(
            "/spec",
            {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": id, "image": image, "ports": ports}]},
                },
            },
        )
    )
    return obj


class Queue(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        deployment(
            self,
            "api",
            selector_labels("queue"),
            "queue:2.1",
            port=8080,
        )
        deployment(
            self,
            "worker",
            selector_labels("queue"),  # the bug
            "queue:2.1",
        )

        cleanup = ApiObject(self, "cleanup", api_version="batch/v1", kind="Job")
        cleanup.add_json_patch(
            JsonPatch.add(
                "/spec",
                {
                    "template": {
                        "metadata": {"labels": selector_labels("queue")},
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [{"name": "cleanup", "image": "queue:2.1"}],
                        },
                    }
                },
            )
        )

        http = ApiObject(self, "http", api_version="v1", kind="Service")
        http.add_json_patch(
            JsonPatch.add(
                "/spec",
                {
                    "selector": selector_labels("queue"),
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            )
        )


app = App()
Queue(app, "queue")
app.synth()
'''

HELPER_FN_AFTER = '''\
"""A job queue built from plain ApiObjects: an API, a worker, a cleanup Job and a Service.

Labels come from a helper function; both Deployments come from one factory function.
"""

from cdk8s import ApiObject, App, Chart, JsonPatch
from constructs import Construct


def selector_labels(name: str) -> dict[str, str]:
    """The labels every object of `name` is selected by."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": "queue",
    }


def deployment(scope: Construct, id: str, labels: dict, image: str, port: int = 0) -> ApiObject:
    ports = [{"containerPort": port}] if port else []
    obj = ApiObject(scope, id, api_version="apps/v1", kind="Deployment")
    obj.add_json_patch(
        JsonPatch.add(
            "/spec",
            {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": id, "image": image, "ports": ports}]},
                },
            },
        )
    )
    return obj


class Queue(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        deployment(
            self,
            "api",
            {**selector_labels("queue"), "app.kubernetes.io/component": "api"},
            "queue:2.1",
            port=8080,
        )
        deployment(
            self,
            "worker",
            {**selector_labels("queue"), "app.kubernetes.io/component": "worker"},  # the bug
            "queue:2.1",
        )

        cleanup = ApiObject(self, "cleanup", api_version="batch/v1", kind="Job")
        cleanup.add_json_patch(
            JsonPatch.add(
                "/spec",
                {
                    "template": {
                        "metadata": {"labels": selector_labels("queue")},
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [{"name": "cleanup", "image": "queue:2.1"}],
                        },
                    }
                },
            )
        )

        http = ApiObject(self, "http", api_version="v1", kind="Service")
        http.add_json_patch(
            JsonPatch.add(
                "/spec",
                {
                    "selector": {**selector_labels("queue"), "app.kubernetes.io/component": "api"},
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            )
        )


app = App()
Queue(app, "queue")
app.synth()
'''


def test_labels_from_a_helper_function_are_wrapped_at_the_factory_call_sites() -> None:
    """Both Deployments come from one factory, their labels from `selector_labels`: each
    call site gets its own component (the key family the app writes: app.kubernetes.io/);
    the cleanup Job's call stays."""
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": "language: python\napp: python3 main.py\n", "main.py": HELPER_FN},
        {"main.py": HELPER_FN_AFTER},
    )


CONSTANTS_COMMON = '''\
"""What every object of the shop shares."""

from imports import k8s

LABELS = {"app": "shop", "release": "main"}

# Only the worker uses this selector.
WORKER_SELECTOR = k8s.LabelSelector(match_labels=LABELS)
'''

CONSTANTS_COMMON_AFTER = '''\
"""What every object of the shop shares."""

from imports import k8s

LABELS = {"app": "shop", "release": "main"}

# Only the worker uses this selector.
WORKER_SELECTOR = k8s.LabelSelector(match_labels={**LABELS, "component": "worker"})
'''

CONSTANTS = '''\
"""A web shop whose labels are module-level constants, used by every construct.

The server's spec is a constant of its own; the worker's selector comes from `common`; the
migration Job and the Service use the shared labels directly.
"""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s

import common
from common import LABELS

SERVER_SPEC = k8s.DeploymentSpec(
    replicas=2,
    selector=k8s.LabelSelector(match_labels=LABELS),
    template=k8s.PodTemplateSpec(
        metadata=k8s.ObjectMeta(labels=LABELS),
        spec=k8s.PodSpec(
            containers=[
                k8s.Container(
                    name="web",
                    image="shop:1.0",
                    ports=[k8s.ContainerPort(container_port=8080)],
                )
            ]
        ),
    ),
)


class Shop(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        k8s.KubeDeployment(self, "server", spec=SERVER_SPEC)
        k8s.KubeDeployment(
            self,
            "worker",
            spec=k8s.DeploymentSpec(
                selector=common.WORKER_SELECTOR,
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=common.LABELS),
                    spec=k8s.PodSpec(containers=[k8s.Container(name="work", image="shop:1.0")]),
                ),
            ),
        )
        k8s.KubeJob(
            self,
            "migrate",
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=LABELS),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="migrate", image="shop:1.0")],
                    ),
                )
            ),
        )
        k8s.KubeService(
            self,
            "web",
            spec=k8s.ServiceSpec(
                selector=LABELS,
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''

CONSTANTS_AFTER = '''\
"""A web shop whose labels are module-level constants, used by every construct.

The server's spec is a constant of its own; the worker's selector comes from `common`; the
migration Job and the Service use the shared labels directly.
"""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s

import common
from common import LABELS

SERVER_SPEC = k8s.DeploymentSpec(
    replicas=2,
    selector=k8s.LabelSelector(match_labels={**LABELS, "component": "server"}),
    template=k8s.PodTemplateSpec(
        metadata=k8s.ObjectMeta(labels={**LABELS, "component": "server"}),
        spec=k8s.PodSpec(
            containers=[
                k8s.Container(
                    name="web",
                    image="shop:1.0",
                    ports=[k8s.ContainerPort(container_port=8080)],
                )
            ]
        ),
    ),
)


class Shop(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        k8s.KubeDeployment(self, "server", spec=SERVER_SPEC)
        k8s.KubeDeployment(
            self,
            "worker",
            spec=k8s.DeploymentSpec(
                selector=common.WORKER_SELECTOR,
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={**common.LABELS, "component": "worker"}),
                    spec=k8s.PodSpec(containers=[k8s.Container(name="work", image="shop:1.0")]),
                ),
            ),
        )
        k8s.KubeJob(
            self,
            "migrate",
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=LABELS),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="migrate", image="shop:1.0")],
                    ),
                )
            ),
        )
        k8s.KubeService(
            self,
            "web",
            spec=k8s.ServiceSpec(
                selector={**LABELS, "component": "server"},
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''


def test_module_constants_are_wrapped_where_each_object_uses_them_in_either_module() -> None:
    """`LABELS` (common.py) is used by every object, `WORKER_SELECTOR` by the worker alone:
    that one is edited where it is written, in common.py; the others at their uses."""
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": WITH_BINDINGS, "common.py": CONSTANTS_COMMON, "main.py": CONSTANTS,
         **bindings("cdk8s-module-constants")},
        {"common.py": CONSTANTS_COMMON_AFTER, "main.py": CONSTANTS_AFTER},
    )


HELPER_DEPTH = '''\
"""A job queue whose Deployments come out of three levels of helpers, each passing `labels`
down: make_deployment -> make_spec -> pods.make_template. The API, the worker and the
cleanup Job all get the same labels (the bug)."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s

from pods import make_template


def make_spec(labels: dict, image: str, replicas: int = 1) -> k8s.DeploymentSpec:
    return k8s.DeploymentSpec(
        replicas=replicas,
        selector=k8s.LabelSelector(match_labels=labels),
        template=make_template(labels, image),
    )


def make_deployment(scope: Construct, name: str, labels: dict, image: str) -> None:
    k8s.KubeDeployment(scope, name, spec=make_spec(labels, image))


class Queue(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        make_deployment(self, "api", {"app": "queue"}, "queue:2.1")
        make_deployment(self, "worker", {"app": "queue"}, "queue:2.1")
        k8s.KubeJob(
            self,
            "cleanup",
            spec=k8s.JobSpec(template=make_template({"app": "queue"}, "queue:2.1")),
        )


app = App()
Queue(app, "queue")
app.synth()
'''

HELPER_DEPTH_AFTER = '''\
"""A job queue whose Deployments come out of three levels of helpers, each passing `labels`
down: make_deployment -> make_spec -> pods.make_template. The API, the worker and the
cleanup Job all get the same labels (the bug)."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s

from pods import make_template


def make_spec(labels: dict, image: str, replicas: int = 1) -> k8s.DeploymentSpec:
    return k8s.DeploymentSpec(
        replicas=replicas,
        selector=k8s.LabelSelector(match_labels=labels),
        template=make_template(labels, image),
    )


def make_deployment(scope: Construct, name: str, labels: dict, image: str) -> None:
    k8s.KubeDeployment(scope, name, spec=make_spec(labels, image))


class Queue(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        make_deployment(self, "api", {"app": "queue", "component": "api"}, "queue:2.1")
        make_deployment(self, "worker", {"app": "queue", "component": "worker"}, "queue:2.1")
        k8s.KubeJob(
            self,
            "cleanup",
            spec=k8s.JobSpec(template=make_template({"app": "queue"}, "queue:2.1")),
        )


app = App()
Queue(app, "queue")
app.synth()
'''

HELPER_DEPTH_PODS = '''\
"""Pod templates, the innermost helper of the queue's workloads."""

from imports import k8s


def make_template(labels: dict, image: str) -> k8s.PodTemplateSpec:
    meta = k8s.ObjectMeta(labels=labels)
    return k8s.PodTemplateSpec(
        metadata=meta,
        spec=k8s.PodSpec(containers=[k8s.Container(name="main", image=image)]),
    )
'''


def test_labels_passed_down_three_helpers_are_written_at_the_first_call() -> None:
    """make_deployment -> make_spec -> pods.make_template: the literal each Deployment's
    call passes is where its labels are written; pods.py and the Job's call stay."""
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": WITH_BINDINGS, "main.py": HELPER_DEPTH, "pods.py": HELPER_DEPTH_PODS,
         **bindings("cdk8s-helper-depth")},
        {"main.py": HELPER_DEPTH_AFTER},
    )


# --- JSON patches and arguments ----------------------------------------------------------------

JSON_PATCH = '''\
"""A relay built from bare ApiObjects, labels added by JSON patches at three depths.

The server gets its whole spec in one patch; the worker's spec is patched first, then its
selector and pod labels one path each; a smoke-test Pod gets `/metadata/labels`. All carry
the same labels, so the server's selector catches the worker's and the test's pods.
"""

from cdk8s import ApiObject, App, Chart, JsonPatch
from constructs import Construct

CONTAINERS = [{"name": "relay", "image": "relay:3", "ports": [{"containerPort": 7000}]}]


class Relay(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

        server = ApiObject(self, "server", api_version="apps/v1", kind="Deployment")
        server.add_json_patch(JsonPatch.add("/spec", {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "relay"}},
            "template": {
                "metadata": {"labels": {"app": "relay"}},
                "spec": {"containers": CONTAINERS},
            },
        }))

        worker = ApiObject(self, "worker", api_version="apps/v1", kind="Deployment")
        worker.add_json_patch(
            JsonPatch.add("/spec", {"selector": {}, "template": {"spec": {"containers": []}}}),
            JsonPatch.add("/spec/selector/matchLabels", {"app": "relay"}),
            JsonPatch.add("/spec/template/metadata", {"labels": {"app": "relay"}}),
        )

        smoke = ApiObject(self, "smoke-test", api_version="v1", kind="Pod")
        smoke.add_json_patch(JsonPatch.add("/metadata/labels", {"app": "relay"}))
        smoke.add_json_patch(JsonPatch.add("/spec", {"containers": CONTAINERS}))

        front = ApiObject(self, "front", api_version="v1", kind="Service")
        front.add_json_patch(JsonPatch.add("/spec", {"ports": [{"port": 80, "targetPort": 7000}]}))
        front.add_json_patch(JsonPatch.add("/spec/selector", {"app": "relay"}))


app = App()
Relay(app, "relay")
app.synth()
'''

JSON_PATCH_AFTER = '''\
"""A relay built from bare ApiObjects, labels added by JSON patches at three depths.

The server gets its whole spec in one patch; the worker's spec is patched first, then its
selector and pod labels one path each; a smoke-test Pod gets `/metadata/labels`. All carry
the same labels, so the server's selector catches the worker's and the test's pods.
"""

from cdk8s import ApiObject, App, Chart, JsonPatch
from constructs import Construct

CONTAINERS = [{"name": "relay", "image": "relay:3", "ports": [{"containerPort": 7000}]}]


class Relay(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

        server = ApiObject(self, "server", api_version="apps/v1", kind="Deployment")
        server.add_json_patch(JsonPatch.add("/spec", {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "relay", "component": "server"}},
            "template": {
                "metadata": {"labels": {"app": "relay", "component": "server"}},
                "spec": {"containers": CONTAINERS},
            },
        }))

        worker = ApiObject(self, "worker", api_version="apps/v1", kind="Deployment")
        worker.add_json_patch(
            JsonPatch.add("/spec", {"selector": {}, "template": {"spec": {"containers": []}}}),
            JsonPatch.add("/spec/selector/matchLabels", {"app": "relay", "component": "worker"}),
            JsonPatch.add("/spec/template/metadata", {"labels": {"app": "relay", "component": "worker"}}),
        )

        smoke = ApiObject(self, "smoke-test", api_version="v1", kind="Pod")
        smoke.add_json_patch(JsonPatch.add("/metadata/labels", {"app": "relay"}))
        smoke.add_json_patch(JsonPatch.add("/spec", {"containers": CONTAINERS}))

        front = ApiObject(self, "front", api_version="v1", kind="Service")
        front.add_json_patch(JsonPatch.add("/spec", {"ports": [{"port": 80, "targetPort": 7000}]}))
        front.add_json_patch(JsonPatch.add("/spec/selector", {"app": "relay", "component": "server"}))


app = App()
Relay(app, "relay")
app.synth()
'''


def test_json_patches_at_spec_selector_and_pod_template_paths() -> None:
    """The value a patch adds at `/spec`, at `/spec/selector/matchLabels`, at
    `/spec/template/metadata` or at a Service's `/spec/selector` is the literal edited; the
    smoke-test Pod's `/metadata/labels` stays."""
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": CDK8S_YAML, "main.py": JSON_PATCH},
        {"main.py": JSON_PATCH_AFTER},
    )


ARGUMENTS = '''\
"""A mail service whose Deployments come from one factory, labels passed three ways: by
keyword (the server), by position (the worker) and not at all, so the parameter's default
applies (the sender). All three get the same labels (the bug)."""

from cdk8s import ApiObject, App, Chart, JsonPatch
from constructs import Construct

DEFAULT_LABELS = {"app": "mail"}


def deployment(
    scope: Construct, id: str, image: str, labels: dict = DEFAULT_LABELS, *, replicas: int = 1
) -> ApiObject:
    obj = ApiObject(scope, id, api_version="apps/v1", kind="Deployment")
    obj.add_json_patch(JsonPatch.add("/spec", {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": id, "image": image}]},
        },
    }))
    return obj


class Mail(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        deployment(self, "server", "mail:5", replicas=2, labels={"app": "mail"})
        deployment(self, "worker", "mail:5", {"app": "mail"})
        deployment(self, "sender", image="mail:5")


app = App()
Mail(app, "mail")
app.synth()
'''

ARGUMENTS_AFTER = '''\
"""A mail service whose Deployments come from one factory, labels passed three ways: by
keyword (the server), by position (the worker) and not at all, so the parameter's default
applies (the sender). All three get the same labels (the bug)."""

from cdk8s import ApiObject, App, Chart, JsonPatch
from constructs import Construct

DEFAULT_LABELS = {"app": "mail"}


def deployment(
    scope: Construct, id: str, image: str, labels: dict = DEFAULT_LABELS, *, replicas: int = 1
) -> ApiObject:
    obj = ApiObject(scope, id, api_version="apps/v1", kind="Deployment")
    obj.add_json_patch(JsonPatch.add("/spec", {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": id, "image": image}]},
        },
    }))
    return obj


class Mail(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        deployment(self, "server", "mail:5", replicas=2, labels={"app": "mail", "component": "server"})
        deployment(self, "worker", "mail:5", {"app": "mail", "component": "worker"})
        deployment(self, "sender", image="mail:5", labels={**DEFAULT_LABELS, "component": "sender"})


app = App()
Mail(app, "mail")
app.synth()
'''


def test_labels_by_keyword_by_position_or_by_default_are_written_in_the_call() -> None:
    """The keyword's and the positional argument's literals get the entry in place; the
    call that left `labels` to its default passes it by keyword, wrapping the default."""
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": CDK8S_YAML, "main.py": ARGUMENTS},
        {"main.py": ARGUMENTS_AFTER},
    )


# --- options: the component named, the Job labelled ---------------------------------------------
# The same-bug app of test_recipe_cases.py (SHOP_APP), with the options a recipe file gives.

SHOP_APP_NAMED_AFTER = '''\
"""One bug written as a cdk8s app (its twin: same-bug-helm): the web Deployment's selector
also matches the pods of the migration Job, and the Service meant for web selects them too."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s


class Shop(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

        k8s.KubeDeployment(
            self,
            "web",
            spec=k8s.DeploymentSpec(
                replicas=2,
                selector=k8s.LabelSelector(match_labels={"app": "shop", "component": "frontend", "tier": "backend"}),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": "shop", "component": "frontend", "tier": "backend"}),
                    spec=k8s.PodSpec(
                        containers=[
                            k8s.Container(
                                name="web",
                                image="shop:1.0",
                                ports=[k8s.ContainerPort(container_port=8080)],
                            )
                        ]
                    ),
                ),
            ),
        )

        k8s.KubeJob(
            self,
            "migrate",
            metadata=k8s.ObjectMeta(
                annotations={
                    "helm.sh/hook": "pre-upgrade",
                    "helm.sh/hook-delete-policy": "hook-succeeded",
                }
            ),
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": "shop", "component": "migrate", "tier": "backend"}),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="migrate", image="shop:1.0")],
                    ),
                )
            ),
        )

        k8s.KubeService(
            self,
            "http",
            spec=k8s.ServiceSpec(
                selector={"app": "shop", "component": "frontend", "tier": "backend"},
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''


def test_options_name_the_component_and_label_the_job_in_the_apps_dicts() -> None:
    """`components: {web: frontend}` names web's value; `label-jobs` gives the migration
    Job's pods a value of their own, in its literal too."""
    from test_recipe_cases import CDK8S_YAML, SHOP_APP

    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": CDK8S_YAML, "main.py": SHOP_APP, **bindings("same-bug-cdk8s")},
        {"main.py": SHOP_APP_NAMED_AFTER},
        options={"components": {"web": "frontend"}, "label-jobs": True},
    )


# --- the member-label path, and the own-value path ---------------------------------------------

PEERS = '''\
"""A headless Service over the two StatefulSets of one database cluster, on purpose: peer
discovery finds the primary and the replicas through it. It selects `app: db` only, so the
bootstrap Job's pods (`app: db` too) show up as peers. Each StatefulSet selects on its role."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s


def database(scope: Construct, id: str, role: str) -> None:
    k8s.KubeStatefulSet(
        scope,
        id,
        spec=k8s.StatefulSetSpec(
            service_name="db-peers",
            selector=k8s.LabelSelector(match_labels={"app": "db", "role": role}),
            template=k8s.PodTemplateSpec(
                metadata=k8s.ObjectMeta(labels={"app": "db", "role": role}),
                spec=k8s.PodSpec(
                    containers=[
                        k8s.Container(
                            name="db", image="db:16",
                            ports=[k8s.ContainerPort(name="peer", container_port=7000)],
                        )
                    ]
                ),
            ),
        ),
    )


class Db(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        database(self, "primary", "primary")
        database(self, "replica", "replica")

        k8s.KubeJob(
            self,
            "bootstrap",
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": "db"}),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="bootstrap", image="db:16")],
                    ),
                )
            ),
        )

        k8s.KubeService(
            self,
            "peers",
            metadata=k8s.ObjectMeta(name="db-peers"),
            spec=k8s.ServiceSpec(
                cluster_ip="None",
                selector={"app": "db"},
                ports=[k8s.ServicePort(name="peer", port=7000, target_port="peer")],
            ),
        )


app = App()
Db(app, "db")
app.synth()
'''

PEERS_AFTER = '''\
"""A headless Service over the two StatefulSets of one database cluster, on purpose: peer
discovery finds the primary and the replicas through it. It selects `app: db` only, so the
bootstrap Job's pods (`app: db` too) show up as peers. Each StatefulSet selects on its role."""

from cdk8s import App, Chart
from constructs import Construct
from imports import k8s


def database(scope: Construct, id: str, role: str) -> None:
    k8s.KubeStatefulSet(
        scope,
        id,
        spec=k8s.StatefulSetSpec(
            service_name="db-peers",
            selector=k8s.LabelSelector(match_labels={"app": "db", "role": role}),
            template=k8s.PodTemplateSpec(
                metadata=k8s.ObjectMeta(labels={"app": "db", "member-of": "peers", "role": role}),
                spec=k8s.PodSpec(
                    containers=[
                        k8s.Container(
                            name="db", image="db:16",
                            ports=[k8s.ContainerPort(name="peer", container_port=7000)],
                        )
                    ]
                ),
            ),
        ),
    )


class Db(Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        database(self, "primary", "primary")
        database(self, "replica", "replica")

        k8s.KubeJob(
            self,
            "bootstrap",
            spec=k8s.JobSpec(
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": "db"}),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        containers=[k8s.Container(name="bootstrap", image="db:16")],
                    ),
                )
            ),
        )

        k8s.KubeService(
            self,
            "peers",
            metadata=k8s.ObjectMeta(name="db-peers"),
            spec=k8s.ServiceSpec(
                cluster_ip="None",
                selector={"app": "db", "member-of": "peers"},
                ports=[k8s.ServicePort(name="peer", port=7000, target_port="peer")],
            ),
        )


app = App()
Db(app, "db")
app.synth()
'''


def test_a_headless_service_over_several_statefulsets_selects_on_a_member_label() -> None:
    """The Service spans both StatefulSets on purpose (peer discovery): it keeps doing so,
    and stops selecting the bootstrap Job, through a `member-of` label named after its
    construct id (not the folder the app sits in) on both pod templates; their selectors
    stay. It still spans them (a warning no recipe fixes: the purpose)."""
    run = assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": WITH_BINDINGS, "main.py": PEERS, **bindings("cdk8s-peer-service")},
        {"main.py": PEERS_AFTER},
    )
    assert [f"{f.rule} {f.obj}" for f in run.verified.after_findings] == [
        "spans Service/db-peers"
    ]
    notes = [note for unit in run.verified.kept for note in unit.notes]
    assert any("no longer Job/db-bootstrap" in note for note in notes), notes


def test_a_job_sharing_the_component_value_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = copy_app(tmp_path, "cdk8s-own-value")
    before = snapshot(app)
    assert main(["fix", "--fix-latent", str(app), "--run-apps",
                 "--write"]) == 1, "a finding is left"
    err = capsys.readouterr().err
    left = [line for line in err.splitlines() if line.strip().startswith("left:")]
    assert len(left) == 1
    assert "Job/shop-reindex" in left[0] and "component (server)" in left[0]
    assert "by hand" in left[0]
    assert snapshot(app) == before, "nothing written"
