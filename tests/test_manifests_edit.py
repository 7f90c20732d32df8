"""Plain manifests edited in place (`sources/yamlfiles.py`, `sources/yamledit.py`): each
case is a folder of YAML files before and after one recipe, compared byte for byte
(`assert_recipe`), and verified as a run verifies it (rendered again, the findings gone).

The shapes a GitOps repository writes: quoted keys and comments, flow and block maps, several
documents in a file, CRLF line endings, no final newline, a byte order mark, tabs, `<<` merges.
"""

from __future__ import annotations

import pytest

from chartfix.recipes.component_labels import ComponentLabels
from chartfix.recipes.stable_selectors import StableSelectors
from chartfix.testing import assert_recipe

# --- a labelled app: quoted keys, comments, a flow selector -------------------------------------
# (the manifests-app fixture: the Job shares the Deployment's pod label; a numbered or named
# port decides whether the Service's match is harmful, the fix is the same)

APP = """\
# The shop's web server and its Service, as a GitOps repository keeps them:
# plain YAML, applied by Argo CD as it is.
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    "app.kubernetes.io/name": 'shop'   # quoted on purpose
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      "app.kubernetes.io/name": 'shop'
  template:
    metadata:
      labels:
        # the selector labels, copied by hand
        "app.kubernetes.io/name": 'shop'
        app.kubernetes.io/part-of: shop
    spec:
      containers:
        - name: web
          image: "ghcr.io/example/shop:1.4.2"
          ports:
            - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {"app.kubernetes.io/name": shop}   # flow style, kept as it is
  ports:
    - name: http
      port: 80
      targetPort: http
"""

APP_AFTER = """\
# The shop's web server and its Service, as a GitOps repository keeps them:
# plain YAML, applied by Argo CD as it is.
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    "app.kubernetes.io/name": 'shop'   # quoted on purpose
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      "app.kubernetes.io/name": 'shop'
      app.kubernetes.io/component: web
  template:
    metadata:
      labels:
        # the selector labels, copied by hand
        app.kubernetes.io/component: web
        "app.kubernetes.io/name": 'shop'
        app.kubernetes.io/part-of: shop
    spec:
      containers:
        - name: web
          image: "ghcr.io/example/shop:1.4.2"
          ports:
            - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {"app.kubernetes.io/name": shop, app.kubernetes.io/component: web}   # flow style, kept as it is
  ports:
    - name: http
      port: 80
      targetPort: http
"""

MIGRATE_JOB = """\
# Database migration, run by Argo CD before each sync (a hook, like Helm's pre-upgrade).
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
spec:
  template:
    metadata:
      labels:
        'app.kubernetes.io/name': "shop"
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: "ghcr.io/example/shop:1.4.2"
          args: ["migrate", "--yes"]
"""


def test_the_key_family_quotes_and_comments_of_the_file_are_kept() -> None:
    """The new entry joins a sorted block map in its place (after the comment that heads
    the entries), ends a one-entry map, and goes inside a flow map, before its comment."""
    assert_recipe(
        ComponentLabels(),
        {"app.yaml": APP, "migrate-job.yaml": MIGRATE_JOB},
        {"app.yaml": APP_AFTER},
    )


# --- several documents in one file, and how its bytes are written ------------------------------

SHOP = """\
# shop: the web server, its Service and the nightly report, one file
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels:
      app: shop      # the selector
      tier: web
  template:
    metadata:
      labels:
        app: shop
        tier: web
    spec:
      containers:
        - name: web
          image: shop:2
---
# the Service in front of it
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector:
    app: shop
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            app: shop
            tier: web
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: shop:2
...
"""

SHOP_AFTER = """\
# shop: the web server, its Service and the nightly report, one file
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels:
      app: shop      # the selector
      component: web
      tier: web
  template:
    metadata:
      labels:
        app: shop
        component: web
        tier: web
    spec:
      containers:
        - name: web
          image: shop:2
---
# the Service in front of it
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector:
    app: shop
    component: web
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          labels:
            app: shop
            tier: web
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: shop:2
...
"""

NO_FINAL_NEWLINE = SHOP.removesuffix("\n...\n")
NO_FINAL_NEWLINE_AFTER = SHOP_AFTER.removesuffix("\n...\n")

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop
data:
  greeting: hello
"""


def crlf(text: str) -> str:
    """`text` with Windows line endings."""
    return text.replace("\n", "\r\n")


def test_the_documents_of_one_file_are_edited_where_they_are() -> None:
    """The Deployment and the Service of the first two documents; the CronJob whose pods
    its selector matched keeps its labels (its jobTemplate is not the fix's business)."""
    assert_recipe(ComponentLabels(), {"shop.yaml": SHOP}, {"shop.yaml": SHOP_AFTER})


def test_crlf_files_get_crlf_lines_and_a_file_not_edited_keeps_its_bytes() -> None:
    assert_recipe(
        ComponentLabels(),
        {"shop.yaml": crlf(SHOP), "config.yaml": crlf(CONFIG)},
        {"shop.yaml": crlf(SHOP_AFTER)},
    )


def test_a_file_without_a_final_newline_gets_none() -> None:
    assert_recipe(
        ComponentLabels(), {"shop.yaml": NO_FINAL_NEWLINE}, {"shop.yaml": NO_FINAL_NEWLINE_AFTER}
    )


SERVICE_LAST = SHOP.replace("""\
---
# the Service in front of it
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector:
    app: shop
  ports:
    - port: 80
      targetPort: 8080
""", "").replace("...\n", """\
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  ports:
    - port: 80
      targetPort: 8080
  selector:
    app: shop
""").removesuffix("\n")
"""SHOP with its Service last, its selector the file's last line, with no newline after it."""

SERVICE_LAST_AFTER = (
    SERVICE_LAST.replace("      tier: web\n  template:", "      component: web\n      tier: web\n"
                         "  template:")
    .replace("        app: shop\n        tier: web\n    spec:\n      containers:\n        - name: web",
             "        app: shop\n        component: web\n        tier: web\n    spec:\n"
             "      containers:\n        - name: web")
    + "\n    component: web"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_an_edit_at_the_last_line_of_a_file_without_final_newline(newline: str) -> None:
    """The Service's selector ends the file, with no newline: the new entry follows the last
    line after a line break (appended, or in its sorted place before that line), in the
    file's line breaks, and the file still ends without one."""
    sorted_before = SERVICE_LAST + "\n    tier: web"
    sorted_after = SERVICE_LAST_AFTER.removesuffix("\n    component: web") + (
        "\n    component: web\n    tier: web"
    )
    for before, after in [(SERVICE_LAST, SERVICE_LAST_AFTER), (sorted_before, sorted_after)]:
        assert_recipe(
            ComponentLabels(),
            {"shop.yaml": before.replace("\n", newline)},
            {"shop.yaml": after.replace("\n", newline)},
        )


def test_a_byte_order_mark_stays_first() -> None:
    assert_recipe(
        ComponentLabels(), {"shop.yaml": "\ufeff" + SHOP}, {"shop.yaml": "\ufeff" + SHOP_AFTER}
    )


# --- YAML kubectl reads that the editor must take as it is -------------------------------------

TABS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels:
      app:\tshop\t# the selector
  template:
    metadata:
      labels: {app: shop,\tteam: a}
    spec:
      containers: [{name: web, image: shop:1}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
spec:
  template:
    metadata:
      labels:
        app:\tshop
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: shop:1}]
"""

TABS_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels:
      app:\tshop\t# the selector
      component: web
  template:
    metadata:
      labels: {app: shop,\tcomponent: web, team: a}
    spec:
      containers: [{name: web, image: shop:1}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
spec:
  template:
    metadata:
      labels:
        app:\tshop
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: shop:1}]
"""


def test_tabs_kubectl_reads_stay_where_they_are() -> None:
    """A tab between a key and its value, or before a comment: libyaml and kubectl read
    it, ruamel.yaml does not; the splice lands in the original bytes, tabs and all."""
    assert_recipe(ComponentLabels(), {"app.yaml": TABS}, {"app.yaml": TABS_AFTER})


MERGED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels: &sel {app: shop}
  template:
    metadata:
      labels: {<<: *sel, tier: web}
    spec:
      containers: [{name: web, image: shop:1}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
spec:
  template:
    metadata:
      labels: {app: shop}
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: shop:1}]
"""

MERGED_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels: &sel {app: shop, component: web}
  template:
    metadata:
      labels: {<<: *sel, tier: web}
    spec:
      containers: [{name: web, image: shop:1}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
spec:
  template:
    metadata:
      labels: {app: shop}
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: shop:1}]
"""


def test_a_label_the_pods_get_through_a_merge_is_written_once_at_the_anchor() -> None:
    assert_recipe(ComponentLabels(), {"app.yaml": MERGED}, {"app.yaml": MERGED_AFTER})


# --- what the recipes decide, written in plain YAML ---------------------------------------------

SHARED_VALUE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-server}
spec:
  selector:
    matchLabels: {app: shop, component: server}
  template:
    metadata:
      labels: {app: shop, component: server}
    spec: {containers: [{name: server, image: nginx}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  template:
    metadata:
      labels:
        app: shop
        component: "server"   # copied from the Deployment: the bug
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox}]
"""

SHARED_VALUE_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-server}
spec:
  selector:
    matchLabels: {app: shop, component: server}
  template:
    metadata:
      labels: {app: shop, component: server}
    spec: {containers: [{name: server, image: nginx}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: shop-migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  template:
    metadata:
      labels:
        app: shop
        component: "migrate"   # copied from the Deployment: the bug
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox}]
"""


def test_a_hook_job_sharing_the_controllers_component_gets_its_own_value_in_place() -> None:
    """The recipe asks to replace the Job's value (not to add a second key): plain YAML
    replaces it where it is, quoting and comment kept, and the Deployment stays as it is."""
    assert_recipe(ComponentLabels(), {"all.yaml": SHARED_VALUE}, {"all.yaml": SHARED_VALUE_AFTER})


MINIO = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: minio-deployment, labels: {app: minio}}
spec:
  selector: {matchLabels: {app: minio}}
  template:
    metadata: {labels: {app: minio}}
    spec: {containers: [{name: minio, image: minio:1}]}
"""

MINIO_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: minio-deployment, labels: {app: minio}}
spec:
  selector: {matchLabels: {app: minio, component: minio}}
  template:
    metadata: {labels: {app: minio, component: minio}}
    spec: {containers: [{name: minio, image: minio:1}]}
"""

MINIO_INIT = """\
apiVersion: batch/v1
kind: Job
metadata: {name: minio-init, labels: {app: minio}}
spec:
  template:
    metadata: {labels: {app: minio}}
    spec: {containers: [{name: init, image: minio:1}]}
"""


def test_a_kind_word_in_a_workloads_name_is_no_component_value() -> None:
    """`minio-deployment` (app `minio`) says it is a Deployment, not what it does: its value
    comes from its container. The Job is no hook: its pod template is immutable, left as is."""
    assert_recipe(
        ComponentLabels(),
        {"minio-deployment.yaml": MINIO, "minio-init-job.yaml": MINIO_INIT},
        {"minio-deployment.yaml": MINIO_AFTER},
    )


QUEUE_API = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: queue-api
spec:
  selector:
    matchLabels: {app: queue}
  template:
    metadata:
      labels: {app: queue}
    spec:
      containers: [{name: api, image: queue:1}]
"""

QUEUE_API_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: queue-api
spec:
  selector:
    matchLabels: {app: queue, app.kubernetes.io/component: api}
  template:
    metadata:
      labels: {app: queue, app.kubernetes.io/component: api}
    spec:
      containers: [{name: api, image: queue:1}]
"""

QUEUE_WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: queue-worker
spec:
  selector:
    matchLabels: {app: queue}
  template:
    metadata:
      labels: {app: queue}
    spec:
      containers: [{name: worker, image: queue:1}]
"""

QUEUE_WORKER_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: queue-worker
spec:
  selector:
    matchLabels: {app: queue, app.kubernetes.io/component: worker}
  template:
    metadata:
      labels: {app: queue, app.kubernetes.io/component: worker}
    spec:
      containers: [{name: worker, image: queue:1}]
"""


def test_two_deployments_sharing_their_pods_each_get_the_key_the_options_name() -> None:
    assert_recipe(
        ComponentLabels(),
        {"api.yaml": QUEUE_API, "worker.yaml": QUEUE_WORKER},
        {"api.yaml": QUEUE_API_AFTER, "worker.yaml": QUEUE_WORKER_AFTER},
        options={"component-key": "app.kubernetes.io/component"},
    )


VERSIONED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: api, app.kubernetes.io/version: "1.4.2"}
spec:
  selector:
    matchLabels:
      app: api
      app.kubernetes.io/version: "1.4.2"   # changes with every release
  template:
    metadata:
      labels:
        app: api
        app.kubernetes.io/version: "1.4.2"
    spec:
      containers: [{name: api, image: "api:1.4.2"}]
"""

VERSIONED_AFTER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: api, app.kubernetes.io/version: "1.4.2"}
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
        app.kubernetes.io/version: "1.4.2"
    spec:
      containers: [{name: api, image: "api:1.4.2"}]
"""


def test_stable_selectors_take_the_version_out_of_the_selector_line_and_comment() -> None:
    """Only the selector's line goes, with its comment; the pods keep the label."""
    assert_recipe(StableSelectors(), {"api.yaml": VERSIONED}, {"api.yaml": VERSIONED_AFTER})
