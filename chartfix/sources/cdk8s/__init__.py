"""cdk8s apps written in Python: synthesize, check and fix them like Helm charts.

Needs the optional `cdk8s` extra (`pip install 'chartfix[cdk8s]'`) and Node.js, because the
cdk8s library runs on jsii. Apps are user code: they run only when the user asks
(`skip_reason`), in a child process with a scrubbed environment and a time limit (`synth`).

`check_app` and `fix_app` are imported on first use: they need libcst, and finding apps
must not cost a Helm-only run that import (a third of a worker's start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

from chartfix.sources.cdk8s.app import CdkApp, find_apps, load_app, skip_reason
from chartfix.sources.cdk8s.synth import Synthesis, synth, synthesize

_LAZY = {"check_app": "chartfix.sources.cdk8s.check", "fix_app": "chartfix.sources.cdk8s.fix"}

__all__ = [
    "CdkApp",
    "Synthesis",
    "check_app",
    "find_apps",
    "fix_app",
    "load_app",
    "skip_reason",
    "synth",
    "synthesize",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
