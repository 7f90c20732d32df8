"""Findings for a cdk8s app: the Helm rules over its synthesized objects, located in Python.

The rules of chartfix.rules do not care where objects come from. Only the location
changes: a finding points at the Python line that builds the selector (or, failing that,
the line that constructs the object).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from chartfix.errors import ChartError
from chartfix.model.findings import Finding, Location
from chartfix.model.objects import Rendering
from chartfix.rules import analyze
from chartfix.sources.cdk8s.app import load_app
from chartfix.sources.cdk8s.locate import AppSources, NotLocated, locate_labels
from chartfix.sources.cdk8s.synth import Synthesis, synthesize


def check_app(app_dir: Path) -> list[Finding]:
    """Synthesize the app at `app_dir` and report every label-selector finding."""
    return check_synthesis(app_dir)[0]


def check_synthesis(app_dir: Path) -> tuple[list[Finding], Rendering]:
    """The findings and the synthesized objects they are about (annotations included)."""
    app = load_app(app_dir)
    synthesis = synthesize(app)
    return findings_for(synthesis, AppSources(app.root)), synthesis.rendering


def findings_for(synthesis: Synthesis, sources: AppSources) -> list[Finding]:
    findings = analyze(synthesis.app, [synthesis.rendering])
    return [replace(f, location=python_location(f, synthesis, sources)) for f in findings]


def python_location(finding: Finding, synthesis: Synthesis, sources: AppSources) -> Location:
    obj = next((o for o in synthesis.rendering.objects if o.ref == finding.obj), None)
    origin = synthesis.origins.get(finding.obj)
    if obj is None or origin is None or origin.frame is None:
        return Location(obj.source.path if obj else synthesis.app.entry)
    path = obj.selector_path() or obj.pod_labels_path()
    if path is not None:
        try:
            site = locate_labels(sources, origin, path)
            return Location(site.path, site.line)
        except (NotLocated, ChartError):
            pass
    return Location(origin.frame.path, origin.frame.line)
