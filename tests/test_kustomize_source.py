"""A kustomization as a Source (`sources/kustomize/source.py`): what it is built from, and
how its fixes are written.

Everything a kustomization names is built with it, and nothing outside the repository.
chartfix builds each overlay with `kubectl kustomize` on a temporary copy; these check that
the copy holds every local path a kustomization can name (a `transformers:` folder, a patch
beside the group's folder), never what a link points to outside the repository, and that
kubectl's messages never give a real path for a temporary one that is not its copy.

Its edits are literal before/after pairs (`assert_recipe`), at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import CHARTFIX, FIXTURES

from chartfix.recipes.component_labels import ComponentLabels
from chartfix.recipes.stable_selectors import StableSelectors
from chartfix.sources.kustomize.source import _kubectl_error
from chartfix.sources.targets import find_targets
from chartfix.testing import assert_recipe

PREFIX = """\
apiVersion: builtin
kind: PrefixSuffixTransformer
metadata:
  name: prefix
prefix: prod-
fieldSpecs:
  - path: metadata/name
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(
        [*CHARTFIX, *args], capture_output=True, text=True, check=False, cwd=cwd, env=env
    )


def base(repo: Path, folder: str = "base") -> Path:
    """The same-bug kustomization (a Service selecting a Deployment's and a Job's pods)."""
    here = repo / folder
    here.mkdir(parents=True)
    for name in ("web.yaml", "migrate.yaml", "service.yaml"):
        shutil.copyfile(FIXTURES / "same-bug-kustomize" / name, here / name)
    (here / "kustomization.yaml").write_text("resources: [web.yaml, migrate.yaml, service.yaml]\n")
    return here


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_transformers_folder_is_built_with_the_overlay_and_no_target_of_its_own(
    tmp_path: Path,
) -> None:
    base(tmp_path)
    write(tmp_path / "overlay" / "kustomization.yaml",
          "resources: [../base]\ntransformers: [../transformers]\n")
    write(tmp_path / "transformers" / "kustomization.yaml", "resources: [prefix.yaml]\n")
    write(tmp_path / "transformers" / "prefix.yaml", PREFIX)
    done = run("check", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Service/prod-http: selector app=shop,tier=backend" in done.stdout
    assert "1 kustomization, 1 with findings" in done.stdout
    assert find_targets([tmp_path]) == [tmp_path.resolve()]


def test_a_shared_transformer_beside_the_given_folder_is_copied(tmp_path: Path) -> None:
    """`check apps` on an overlay using the repository's shared transformers folder: the
    target grows to hold it (kustomize reads files only below a kustomization, so a
    shared path is a kustomization folder) and the build sees the prefix."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    base(tmp_path / "apps")
    write(tmp_path / "apps" / "prod" / "kustomization.yaml",
          "resources: [../base]\ntransformers: [../../shared/prefix]\n")
    write(tmp_path / "shared" / "prefix" / "kustomization.yaml", "resources: [prefix.yaml]\n")
    write(tmp_path / "shared" / "prefix" / "prefix.yaml", PREFIX)
    done = run("check", "apps", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error[stray] Service/prod-http" in done.stdout
    assert "scenarios: apps/prod" in done.stdout


def test_nothing_outside_the_repository_is_copied_even_through_a_link(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    here = base(repo)
    write(outside / "secret.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
    (here / "notes").symlink_to(outside)  # a link in a copied folder: left out, not named
    done = run("check", ".", cwd=repo)
    assert done.returncode == 1 and "error[stray]" in done.stdout, done.stdout + done.stderr
    (here / "secret.yaml").symlink_to(outside / "secret.yaml")
    (here / "kustomization.yaml").write_text("resources: [web.yaml, secret.yaml]\n")
    done = run("check", ".", cwd=repo)
    assert done.returncode == 2
    assert (
        f"error: {here.relative_to(repo)}: kustomization.yaml names secret.yaml, which is outside "
        f"{repo.resolve()} (the repository): chartfix copies nothing from outside it"
    ) in done.stdout


def test_kubectls_message_names_a_real_path_only_for_a_file_of_the_copy(
    tmp_path: Path,
) -> None:
    copy, real = tmp_path / "copy", tmp_path / "real"
    write(copy / "base" / "kustomization.yaml", "")
    write(real / "base" / "kustomization.yaml", "")
    write(real / "plugins" / "kustomization.yaml", "")  # real, but not in the copy
    stderr = (
        "error: accumulating resources from '../plugins': evalsymlink failure on "
        f"'{copy}/plugins' : lstat {copy}/plugins: no such file or directory; "
        f"in {copy}/base/kustomization.yaml; {copy}/nowhere.yaml not found\n"
    )
    said = _kubectl_error(stderr, (copy, real))
    assert f"{real}/plugins" not in said and f"{copy}" not in said.replace(
        f"temporary copy of {real}", ""
    )
    assert f"'(chartfix's temporary copy of {real})/plugins'" in said
    assert f"in {real}/base/kustomization.yaml" in said  # the copy's file is the same
    assert f"; {real}/nowhere.yaml not found" in said  # missing in both: true of the real


CHART = "apiVersion: v2\nname: shop\nversion: 0.1.0\n"


def test_a_folder_with_chart_yaml_and_a_kustomization_is_ambiguous(tmp_path: Path) -> None:
    """kubectl kustomize builds it (and would find the bug) while Helm renders nothing of
    it: not `no findings`, but one line naming both files, exit 2, the other targets on."""
    both = base(tmp_path, "both")
    (both / "Chart.yaml").write_text(CHART)
    shutil.copytree(FIXTURES / "same-bug-kustomize", tmp_path / "plain")
    done = run("check", ".", cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert (
        f"error: {both.name}: both Chart.yaml and kustomization.yaml, and no templates/ folder: "
        "ambiguous (a Helm chart or a kustomization?); remove the one not in use, or move "
        "the kustomization to a folder of its own\n"
    ) in done.stdout
    assert "error[stray] Service/shop-http" in done.stdout  # the other target went on


def test_with_templates_it_is_a_chart_and_says_the_kustomization_was_not_built(
    tmp_path: Path,
) -> None:
    both = base(tmp_path, "both")
    (both / "Chart.yaml").write_text(CHART)
    (both / "templates").mkdir()
    shutil.copyfile(both / "web.yaml", both / "templates" / "web.yaml")
    done = run("check", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert (
        "note: kustomization.yaml was not built: a folder with Chart.yaml and templates/ is "
        "checked as a Helm chart" in done.stdout
    )


CANARY = "canary-victim-7f3a"


def victim_repo(path: Path) -> Path:
    """A neighbouring repository whose kustomization holds the same bug and a canary."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    here = base(path, "deploy")
    (here / "dep.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {CANARY}}}\n"
    )
    (here / "kustomization.yaml").write_text(
        "resources: [web.yaml, migrate.yaml, service.yaml, dep.yaml]\n"
    )
    return here


def test_a_kustomization_naming_a_neighbouring_repository_is_refused(tmp_path: Path) -> None:
    """The repository boundary: `../../victim/deploy` (a sibling clone) is neither built nor
    written, and the kustomization naming it is one error line."""
    victim = victim_repo(tmp_path / "victim")
    before = {p.name: p.read_bytes() for p in victim.iterdir()}
    evil = tmp_path / "evil"
    subprocess.run(["git", "init", "-q", str(evil)], check=True)
    app = base(evil, "app")
    (app / "kustomization.yaml").write_text(
        "resources: [web.yaml, service.yaml, migrate.yaml, ../../victim/deploy]\n"
    )
    for args in (("check", "."), ("fix", ".", "--write", "--fix-latent")):
        done = run(*args, cwd=evil)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"{app.relative_to(evil)}: kustomization.yaml names ../../victim/deploy, which is " \
            f"outside {evil.resolve()} (the repository)" in done.stdout + done.stderr
        assert CANARY not in done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == before


def test_an_absolute_path_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    victim = victim_repo(tmp_path / "victim")
    evil = tmp_path / "evil"
    subprocess.run(["git", "init", "-q", str(evil)], check=True)
    app = base(evil, "app")
    (app / "kustomization.yaml").write_text(f"resources: [web.yaml, {victim.resolve()}]\n")
    done = run("check", ".", cwd=evil)
    assert done.returncode == 2, done.stdout + done.stderr
    said = f"{app.relative_to(evil)}: kustomization.yaml names {victim.resolve()}, which is outside"
    assert said in (
        done.stdout
    ), done.stdout + done.stderr
    assert CANARY not in done.stdout + done.stderr


def test_a_kustomization_chartfix_cannot_read_is_refused_not_built(tmp_path: Path) -> None:
    """A second document after a remote resource hid it from the refusal and kubectl
    fetched it: what chartfix cannot read is one line naming the repository's file."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    here = base(tmp_path, "app")
    (here / "kustomization.yaml").write_text(
        "resources: [web.yaml, http://127.0.0.1:9/x.yaml]\n---\n{}\n"
    )
    done = run("check", ".", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"error: {(here / 'kustomization.yaml').relative_to(tmp_path)}: " in done.stdout
    assert "chartfix-kustomize-" not in done.stdout + done.stderr
    assert "kubectl" not in done.stdout + done.stderr


# --- its edits: literal before/after pairs (`assert_recipe`) ----------------------------------
# A kustomization's label changes are written into the resource files it names (and into the
# patches that write the same entries), never into the kustomization itself; every overlay is
# rendered again with `kubectl kustomize` to verify them.

API_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api   # shared with the migration Job: the bug
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: registry.example.com/api:2.0.1
        ports:
        - containerPort: 8080
          name: http
"""

API_DEPLOYMENT_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api   # shared with the migration Job: the bug
      component: server
  template:
    metadata:
      labels:
        app: api
        component: server
    spec:
      containers:
      - name: api
        image: registry.example.com/api:2.0.1
        ports:
        - containerPort: 8080
          name: http
"""

API_MIGRATE = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: api-migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  template:
    metadata:
      labels: {app: api}
    spec:
      restartPolicy: OnFailure
      containers:
      - name: migrate
        image: registry.example.com/api:2.0.1
        command: [/api, migrate]
"""

API_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: api
  ports:
  - port: 80
    targetPort: http
"""

API_SERVICE_AFTER = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: api
    component: server
  ports:
  - port: 80
    targetPort: http
"""

OVERLAYS = {
    "base/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - migrate-job.yaml
  - service.yaml
""",
    "base/deployment.yaml": API_DEPLOYMENT,
    "base/migrate-job.yaml": API_MIGRATE,
    "base/service.yaml": API_SERVICE,
    "overlays/production/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../../base
patches:
  # production pods carry a tier label for the network policies
  - path: pod-labels.yaml
""",
    "overlays/production/pod-labels.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    metadata:
      labels:
        tier: backend
""",
    "overlays/staging/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: staging
namePrefix: staging-
resources:
  - ../../base
""",
}


def test_the_base_is_edited_once_for_every_overlay() -> None:
    """The kustomize-overlays fixture: staging renames (`staging-api`), production patches
    the pod labels; one edit of the base fixes both, the overlays stay as they are."""
    assert_recipe(
        ComponentLabels(), OVERLAYS,
        {"base/deployment.yaml": API_DEPLOYMENT_AFTER, "base/service.yaml": API_SERVICE_AFTER},
    )


COMMON_LABELS = {
    "kustomization.yaml": """\
# commonLabels writes app: shop into every object's labels, every selector and every pod
# template: the Deployment, the CronJob and the Service below carry no labels of their own.
commonLabels:
  app: shop
resources:
- deployment.yaml
- cronjob.yaml
- service.yaml
""",
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: registry.example.com/shop:3.1.0
""",
    "cronjob.yaml": """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: registry.example.com/shop:3.1.0
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: shop-web
spec:
  ports:
  - port: 80
    targetPort: 8080
""",
}

COMMON_LABELS_AFTER = {
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
spec:
  selector:
    matchLabels:
      component: web
  replicas: 2
  template:
    metadata:
      labels:
        component: web
    spec:
      containers:
      - name: web
        image: registry.example.com/shop:3.1.0
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: shop-web
spec:
  selector:
    component: web
  ports:
  - port: 80
    targetPort: 8080
""",
}


def test_common_labels_are_left_alone_and_the_resources_get_label_maps_of_their_own() -> None:
    """The kustomize-common-labels fixture: the resources write no label map, kustomize's
    `commonLabels` writes them all; the maps are created in the resources (kustomize merges
    `app: shop` into them), never in the kustomization, which would label every object."""
    assert_recipe(ComponentLabels(), COMMON_LABELS, COMMON_LABELS_AFTER)


TWO_DEPLOYMENTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers: [{name: web, image: "shop:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers: [{name: worker, image: "shop:1"}]
"""

TWO_DEPLOYMENTS_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: shop, component: web}
  template:
    metadata:
      labels: {app: shop, component: web}
    spec:
      containers: [{name: web, image: "shop:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  selector:
    matchLabels: {app: shop, component: worker}
  template:
    metadata:
      labels: {app: shop, component: worker}
    spec:
      containers: [{name: worker, image: "shop:1"}]
"""

PREFIXED = """\
namePrefix: shop-
labels:
  - pairs:
      team: payments
    includeSelectors: false
    includeTemplates: true
resources:
  - all.yaml
"""


def test_each_document_gets_the_name_written_in_it_not_the_prefixed_one() -> None:
    """Two Deployments in one resource file, renamed `shop-web` and `shop-worker` by the
    kustomization and labelled by its `labels:` (not in selectors): each component value
    is the name as written."""
    assert_recipe(
        ComponentLabels(),
        {"kustomization.yaml": PREFIXED, "all.yaml": TWO_DEPLOYMENTS},
        {"all.yaml": TWO_DEPLOYMENTS_AFTER},
    )


VERSIONED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
      version: "2.0"
  template:
    metadata:
      labels:
        app: api
        version: "2.0"
    spec:
      containers:
      - name: api
        image: api:2.0
"""

VERSIONED_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
        version: "2.0"
    spec:
      containers:
      - name: api
        image: api:2.0
"""

VERSION_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
      version: "2.1"   # the release this overlay runs
  template:
    metadata:
      labels:
        version: "2.1"
"""

VERSION_PATCH_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        version: "2.1"
"""


def test_stable_selectors_take_the_version_out_of_the_base_and_the_overlays_patch() -> None:
    """The overlay's strategic-merge patch writes the selector's version too: left there,
    it would put it back; both go, the pods keep theirs."""
    assert_recipe(
        StableSelectors(),
        {
            "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
            "base/deployment.yaml": VERSIONED,
            "overlays/prod/kustomization.yaml": (
                "resources:\n  - ../../base\npatches:\n  - path: version.yaml\n"
            ),
            "overlays/prod/version.yaml": VERSION_PATCH,
        },
        {
            "base/deployment.yaml": VERSIONED_AFTER,
            "overlays/prod/version.yaml": VERSION_PATCH_AFTER,
        },
    )


def test_a_version_common_labels_write_is_left_to_the_kustomization_by_hand() -> None:
    """`commonLabels` label every object and every selector: the version is not taken out
    there (the fix would reach every object); nothing is edited, the finding is left."""
    assert_recipe(
        StableSelectors(),
        {
            "kustomization.yaml": (
                'commonLabels:\n  app: api\n  app.kubernetes.io/version: "2.0"\n'
                "resources:\n  - deployment.yaml\n"
            ),
            "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
      - name: api
        image: api:2.0
""",
        },
        {},
        left=["volatile Deployment/api"],
    )
