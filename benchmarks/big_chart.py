"""A chart of many workloads, written on the fly, for the benchmarks that need size.

    make_chart(root, workloads) -> root

Each workload is a template file `templates/wNNNN.yaml` holding a Deployment, its Service and
a pre-install migration Job whose pods carry the Deployment's selector labels (literal
legacy lines) and serve the port the Service targets by name: one overlap and one stray
finding per workload, both errors (the Service routes traffic to the Job's pods; without the
port they would be latent warnings, which `fix` leaves), which `chartfix fix` fixes by
editing every one of those files. Helpers sit in `templates/zz-helpers.tpl`, sorted last.
"""

from __future__ import annotations

from pathlib import Path

WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "big.fullname" . }}}}-w{i}
spec:
  selector:
    matchLabels:
      app: {{{{ include "big.name" . }}}}-w{i}
      release: {{{{ .Release.Name }}}}
  template:
    metadata:
      labels:
        app: {{{{ include "big.name" . }}}}-w{i}
        release: {{{{ .Release.Name }}}}
    spec:
      containers:
        - name: app
          image: example.org/app:1.0
          ports:
            - name: http
              containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {{{{ include "big.fullname" . }}}}-w{i}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
    app: {{{{ include "big.name" . }}}}-w{i}
    release: {{{{ .Release.Name }}}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{{{ include "big.fullname" . }}}}-w{i}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
spec:
  template:
    metadata:
      labels:
        app: {{{{ include "big.name" . }}}}-w{i}
        release: {{{{ .Release.Name }}}}
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: example.org/app:1.0
          ports:
            - name: http
              containerPort: 8080
"""

HELPERS = """\
{{- define "big.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "big.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "big.name" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}
"""


def make_chart(root: Path, workloads: int) -> Path:
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: big\nversion: 1.0.0\n")
    (root / "values.yaml").write_text("nameOverride: \"\"\n")
    (root / "templates" / "zz-helpers.tpl").write_text(HELPERS)
    for i in range(workloads):
        (root / "templates" / f"w{i:04}.yaml").write_text(WORKLOAD.format(i=i))
    return root
