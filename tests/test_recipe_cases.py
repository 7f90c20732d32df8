"""Each recipe alone on small charts written before and after (`assert_recipe`), and the
docs: every recipe's and rule's `##` sections, their examples rendered with Helm's engine.

The pipeline's tests (test_pipeline_fixtures.py) run every recipe together on the fixture charts; here
one recipe runs at a time, so a case says what that recipe does, with which options. The Helm
cases of each recipe: test_recipes_component_labels.py, test_recipes_stable_selectors.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from test_recipes_component_labels import SHOP
from test_recipes_stable_selectors import VERSIONED

from chartfix.recipes import registry
from chartfix.recipes.component_labels import ComponentLabels
from chartfix.recipes.stable_selectors import StableSelectors
from chartfix.rules import RULE_SECTIONS, RULES, doc_sections
from chartfix.testing import assert_documented, assert_recipe, rule_example, run_recipe

# --- the docs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(registry()))
def test_recipe_doc_has_its_sections_and_its_example_is_what_it_does(name: str) -> None:
    assert_documented(registry()[name])


@pytest.mark.parametrize("code", list(RULES))
def test_rule_doc_has_its_sections_and_its_example_is_reported(code: str) -> None:
    rule = RULES[code]
    sections = doc_sections(rule.doc)
    missing = [title for title in RULE_SECTIONS if not sections.get(title)]
    assert not missing, f"{code}: doc sections missing: {missing}"
    assert rule_example(rule), f"the {code} example, rendered, gets no {code} finding"


# --- the harness itself ------------------------------------------------------------------------


def test_assert_recipe_fails_on_a_wrong_after() -> None:
    with pytest.raises(AssertionError, match="app: shop-migrate"):
        assert_recipe(ComponentLabels(), SHOP, {})  # "nothing changes": wrong


def test_assert_recipe_fails_when_findings_are_left_unless_named() -> None:
    """A version in `matchExpressions` is a hand edit: the recipe leaves that finding, and
    the harness says so until the case names it as left."""
    expression = VERSIONED.replace(
        "    matchLabels:\n      app: web\n"
        "      app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}\n",
        "    matchLabels:\n      app: web\n    matchExpressions:\n"
        "      - {key: app.kubernetes.io/version, operator: In, values: [{{ .Chart.AppVersion "
        "| quote }}]}\n",
    )
    assert expression != VERSIONED
    chart = {"templates/web.yaml": expression}
    with pytest.raises(AssertionError, match="findings left"):
        assert_recipe(StableSelectors(), chart, {})
    assert_recipe(StableSelectors(), chart, {}, left=["volatile Deployment/release-name-web"])


def test_example_chart_path_is_left_as_it_is(tmp_path: Path) -> None:
    chart = FIXTURES / "legacy-server"
    before = {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()}
    run_recipe(ComponentLabels(), chart)
    assert before == {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()}


# --- `chartfix recipes NAME`, `chartfix rule CODE`, the README's tables -----------------------


def test_recipes_name_prints_the_doc_and_every_declared_option(capsys) -> None:
    from chartfix.cli import main
    from chartfix.recipes.base import RECIPE_SECTIONS, options_of

    for name, recipe in registry().items():
        assert main(["recipes", name]) == 0
        out = capsys.readouterr().out
        for title in (*RECIPE_SECTIONS, "Options"):
            assert f"## {title}\n" in out, (name, title)
        for option in options_of(recipe):
            assert f"- `{option.name}` " in out and option.example in out


def test_rule_code_prints_the_doc_and_the_recipe_that_fixes_it(capsys) -> None:
    from chartfix.cli import main

    assert main(["rule", "volatile"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("severity: error (warning for `heritage`/`managed-by`)\n")
    assert "## Fixed by\n`stable-selectors`" in out, "named from Recipe.rules, the registry"
    assert main(["rule", "spans"]) == 0
    assert "## Fixed by\nno recipe: a hand edit" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "known"), [
    (["rule", "overlaps"], "known: overlap, stray, spans, volatile, mismatch"),
    (["recipes", "component-label"], "known: stable-selectors, component-labels"),
])
def test_an_unknown_name_is_a_usage_error_listing_the_known_ones(capsys, argv, known) -> None:
    from chartfix.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and known in err


def test_readme_tables_are_what_the_code_says() -> None:
    """The rule, recipe and flag tables of README.md and docs/ are generated: run
    scripts/readme_tables.py."""
    import runpy

    script = runpy.run_path(str(Path(__file__).parent.parent / "scripts" / "readme_tables.py"))
    for page in script["PAGES"]:
        text = page.read_text(encoding="utf-8")
        assert script["render"](text) == text, f"{page.name} is out of date: run " \
            "python scripts/readme_tables.py"
    rules = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "| `volatile` | error (warning for `heritage`/`managed-by`) |" in rules


# --- the same bug in every source kind -----------------------------------------------------------
# One bug (web's selector also matches the migration Job's pods, and the Service meant for web
# selects them too) written as plain manifests, a kustomization and a cdk8s app: the recipe
# decides once, and each kind writes the same label changes in its own source.

SHOP_WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: shop
      tier: backend
  template:
    metadata:
      labels:
        app: shop
        tier: backend
    spec:
      containers:
        - name: web
          image: shop:1.0
          ports:
            - containerPort: 8080
"""

SHOP_WEB_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: shop
      component: web
      tier: backend
  template:
    metadata:
      labels:
        app: shop
        component: web
        tier: backend
    spec:
      containers:
        - name: web
          image: shop:1.0
          ports:
            - containerPort: 8080
"""

SHOP_MIGRATE = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  template:
    metadata:
      labels:
        app: shop
        tier: backend
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: shop:1.0
"""

SHOP_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: http
spec:
  selector:
    app: shop
    tier: backend
  ports:
    - port: 80
      targetPort: 8080
"""

SHOP_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: http
spec:
  selector:
    app: shop
    component: web
    tier: backend
  ports:
    - port: 80
      targetPort: 8080
"""

SHOP_KUSTOMIZATION = """\
namePrefix: shop-
resources:
  - web.yaml
  - migrate.yaml
  - service.yaml
"""


def test_component_labels_on_plain_manifests() -> None:
    assert_recipe(
        ComponentLabels(),
        {"web.yaml": SHOP_WEB, "migrate.yaml": SHOP_MIGRATE, "service.yaml": SHOP_SERVICE},
        {"web.yaml": SHOP_WEB_AFTER, "service.yaml": SHOP_SERVICE_AFTER},
    )


def test_component_labels_on_a_kustomization() -> None:
    assert_recipe(
        ComponentLabels(),
        {"kustomization.yaml": SHOP_KUSTOMIZATION, "web.yaml": SHOP_WEB, "migrate.yaml": SHOP_MIGRATE,
         "service.yaml": SHOP_SERVICE},
        {"web.yaml": SHOP_WEB_AFTER, "service.yaml": SHOP_SERVICE_AFTER},
    )


CDK8S_YAML = "language: python\napp: python main.py\nimports:\n  - k8s\n"

SHOP_APP = '''\
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
                selector=k8s.LabelSelector(match_labels={"app": "shop", "tier": "backend"}),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": "shop", "tier": "backend"}),
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
                    metadata=k8s.ObjectMeta(labels={"app": "shop", "tier": "backend"}),
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
                selector={"app": "shop", "tier": "backend"},
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''

SHOP_APP_AFTER = '''\
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
                selector=k8s.LabelSelector(match_labels={"app": "shop", "component": "web", "tier": "backend"}),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": "shop", "component": "web", "tier": "backend"}),
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
                    metadata=k8s.ObjectMeta(labels={"app": "shop", "tier": "backend"}),
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
                selector={"app": "shop", "component": "web", "tier": "backend"},
                ports=[k8s.ServicePort(port=80, target_port=8080)],
            ),
        )


app = App()
Shop(app, "shop")
app.synth()
'''


def test_component_labels_on_a_cdk8s_app() -> None:
    imports = FIXTURES / "same-bug-cdk8s" / "imports"  # the generated k8s bindings, not the case
    bindings = {f"imports/{p.name}": p.read_text() for p in sorted(imports.glob("*.py"))}
    assert_recipe(
        ComponentLabels(),
        {"cdk8s.yaml": CDK8S_YAML, "main.py": SHOP_APP, **bindings},
        {"main.py": SHOP_APP_AFTER},
    )
