"""cdk8s apps written in Python: synthesize, check and fix them like Helm charts.

Needs the optional `cdk8s` extra (`pip install 'chartfix[cdk8s]'`) and Node.js, because the
cdk8s library runs on jsii. Apps run in a child process (they are user code).

The names below are imported on first use: finding apps must not cost a Helm-only run the
import of libcst (a third of a worker's start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CdkApp": "chartfix.cdk8s.app",
    "find_apps": "chartfix.cdk8s.app",
    "load_app": "chartfix.cdk8s.app",
    "check_app": "chartfix.cdk8s.check",
    "fix_app": "chartfix.cdk8s.fix",
    "Synthesis": "chartfix.cdk8s.synth",
    "synth": "chartfix.cdk8s.synth",
    "synthesize": "chartfix.cdk8s.synth",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
