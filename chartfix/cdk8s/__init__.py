"""cdk8s apps written in Python: synthesize, check and fix them like Helm charts.

Needs the optional `cdk8s` extra (`pip install 'chartfix[cdk8s]'`) and Node.js, because the
cdk8s library runs on jsii. Apps run in a child process (they are user code).
"""

from __future__ import annotations

from chartfix.cdk8s.app import CdkApp, find_apps, load_app
from chartfix.cdk8s.check import check_app
from chartfix.cdk8s.fix import fix_app
from chartfix.cdk8s.synth import Synthesis, synth, synthesize

__all__ = [
    "CdkApp",
    "Synthesis",
    "check_app",
    "find_apps",
    "fix_app",
    "load_app",
    "synth",
    "synthesize",
]
