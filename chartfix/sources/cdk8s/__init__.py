"""cdk8s apps written in Python: synthesized, checked and fixed like Helm charts.

Needs the optional `cdk8s` extra (`pip install '.[cdk8s]'` in a checkout of chartfix) and
Node.js, because the cdk8s library runs on jsii. Apps are user code: they run only when the
user asks (`skip_reason`), in a child process with a scrubbed environment and a time limit
(`synth`). The source kind (`kind.Cdk8sKind`, `source.CdkSource`) is what the pipeline talks
to; its libcst editing is imported on first use (a Helm-only run must not pay for libcst), and
the package imports nothing: finding apps (`kind`, `app`) is cheap.
"""
