"""What a team decided about the findings: which rules run, at which severity, and which
findings are accepted (suppressed), with the reason.

Suppressions follow the conventions users know from kube-linter and Checkov, as an
annotation on the object in its template (read from the rendered object, so values may set
it too):

    metadata:
      annotations:
        ignore-check.chartfix.io/spans: "gossip ring: one Service over every member"
        chartfix.io/skip1: "spans=gossip ring"        # Checkov's form: RULE=REASON

or as an entry in `.chartfix.yaml`, by rule and object name pattern (`*` and `?`, on the
name or on `Kind/name`):

    suppress:
      - {rule: spans, object: "*-memberlist", reason: "gossip ring"}

A suppressed finding is still reported (JSON `suppression`, SARIF `suppressions`) and counts
for no exit status. A suppression that matches nothing is a warning: it has outlived the
finding it was written for, or it is misspelt.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from chartfix.errors import UsageError, display_path
from chartfix.model.findings import SEVERITIES, Analysis, Finding, Severity, Suppression
from chartfix.model.objects import K8sObject, ObjectRef

IGNORE_PREFIX = "ignore-check.chartfix.io/"
"""kube-linter's convention (`ignore-check.kube-linter.io/<check>: reason`)."""
SKIP_KEY = re.compile(r"^chartfix\.io/skip\d*$")
"""Checkov's convention for Kubernetes (`checkov.io/skip1: CHECK=reason`)."""
_MARK = "chartfix.io/"
"""In every suppression key above."""


@dataclass(frozen=True)
class SuppressEntry:
    """One `suppress:` entry of a `.chartfix.yaml`."""

    rule: str
    pattern: str
    reason: str
    path: Path
    """The `.chartfix.yaml` it is in."""
    where: str
    """`suppress[0]`: the entry in that file."""

    @property
    def origin(self) -> str:
        """`path/.chartfix.yaml: suppress[0]`: names the entry in messages and reports, the
        path shown as findings' paths are (relative to the current folder when below it)."""
        return f"{display_path(self.path)}: {self.where}"

    def matches(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        name = f"{finding.obj.kind}/{finding.obj.name}" if "/" in self.pattern else finding.obj.name
        return fnmatch.fnmatchcase(name, self.pattern)


@dataclass(frozen=True)
class Policy:
    """Rule control and suppressions: from `.chartfix.yaml`, overridden by the command line."""

    include: frozenset[str] | None = None
    """Run only these rules (None: every rule)."""
    exclude: frozenset[str] = frozenset()
    severity: tuple[tuple[str, Severity], ...] = ()
    """(rule, severity) overrides, later ones winning."""
    suppress: tuple[SuppressEntry, ...] = ()

    def enabled(self, rule: str) -> bool:
        return (self.include is None or rule in self.include) and rule not in self.exclude

    def overridden_by(self, other: Policy) -> Policy:
        """This policy (a config file's) with `other` (nearer, or the command line) on top: its
        include list replaces ours and takes its rules out of our exclude list."""
        include = other.include if other.include is not None else self.include
        exclude = (self.exclude - (other.include or frozenset())) | other.exclude
        return Policy(
            include, exclude, self.severity + other.severity, self.suppress + other.suppress
        )


def command_line_policy(
    include: Sequence[str], exclude: Sequence[str], severity: Sequence[str], rules: Sequence[str]
) -> Policy:
    """`--include`/`--exclude` RULE[,RULE] and `--severity RULE=LEVEL`, each repeatable;
    an unknown rule or level is a usage error naming the choices."""

    def names(values: Sequence[str], flag: str) -> list[str]:
        found = [n.strip() for v in values for n in v.split(",") if n.strip()]
        unknown = [n for n in found if n not in rules]
        if unknown:
            raise UsageError(
                f"{flag}: unknown rule {', '.join(unknown)}; rules: {', '.join(rules)}"
            )
        return found

    overrides: list[tuple[str, Severity]] = []
    for item in severity:
        rule, sep, level = item.partition("=")
        names([rule], "--severity")
        chosen = next((s for s in SEVERITIES if s == level.strip()), None)
        if not sep or chosen is None:
            raise UsageError(
                f"--severity takes RULE=LEVEL with LEVEL {' or '.join(SEVERITIES)}, not {item!r}"
            )
        overrides.append((rule.strip(), chosen))
    return Policy(
        frozenset(names(include, "--include")) if include else None,
        frozenset(names(exclude, "--exclude")),
        tuple(overrides),
    )


def judge(
    findings: Sequence[Finding],
    objects: Sequence[K8sObject],
    policy: Policy,
    rules: Sequence[str],
    chart_key: str,
) -> Analysis:
    """Apply `policy` to one scenario's `findings` over its rendered `objects`.

    `chart_key` (the chart's path) makes annotation ids unique in a run over many charts;
    config entries keep one id wherever they apply, so a shared `.chartfix.yaml` entry is
    unused only when no chart used it.
    """
    result = Analysis()
    annotated: dict[tuple[ObjectRef, str], tuple[str, str, str]] = {}
    for obj in objects:
        for key, (rule, reason) in annotation_suppressions(obj).items():
            ident = f"{chart_key}: {obj.document.path}: {obj.ref}: {key}"
            if rule not in rules:
                result.declared[ident] = (
                    f"{obj.document.path}: annotation {key} on {obj.ref} names no rule; rules: "
                    f"{', '.join(rules)}"
                )
                continue
            if not policy.enabled(rule):
                continue
            result.declared[ident] = (
                f"{obj.document.path}: annotation {key} on {obj.ref} matches no {rule} finding"
            )
            annotated.setdefault((obj.ref, rule), (ident, key, reason))
    for entry in policy.suppress:
        if policy.enabled(entry.rule):
            result.declared[entry.origin] = (
                f"{entry.origin} (rule {entry.rule}, object {entry.pattern}) matches no finding"
            )
    overrides = dict(policy.severity)
    for finding in findings:
        if not policy.enabled(finding.rule):
            continue
        if finding.rule in overrides:
            finding = replace(finding, severity=overrides[finding.rule])
        suppression = None
        hit = annotated.get((finding.obj, finding.rule))
        if hit is not None:
            ident, key, reason = hit
            suppression = Suppression("inSource", reason, f"annotation {key}")
            result.used.add(ident)
        else:
            matched = next((e for e in policy.suppress if e.matches(finding)), None)
            if matched is not None:
                suppression = Suppression("external", matched.reason, matched.origin)
                result.used.add(matched.origin)
        if suppression is None:
            result.findings.append(finding)
        else:
            result.suppressed.append(replace(finding, suppression=suppression))
    return result


def annotation_suppressions(obj: K8sObject) -> dict[str, tuple[str, str]]:
    """Annotation key -> (rule, reason) for the suppressions written on `obj`. An object
    whose rendered text never says `chartfix.io/` has none: it is not parsed to know (most
    objects no rule reads are kept unparsed, model.objects.LazyBody)."""
    found: dict[str, tuple[str, str]] = {}
    if obj.text is not None and _MARK not in obj.text:
        return found
    for key, value in obj.annotations.items():
        if key.startswith(IGNORE_PREFIX):
            found[key] = (key[len(IGNORE_PREFIX):], value.strip())
        elif SKIP_KEY.match(key):
            rule, _, reason = value.partition("=")
            found[key] = (rule.strip(), reason.strip())
    return found
