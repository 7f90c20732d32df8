"""The analysis rules: label-selector bugs found in rendered objects.

Each rule is one module (`overlap`, `stray`, `spans`, `volatile`, `mismatch`,
`autosharding`) with a stable `CODE`, a `SEVERITY`, a one-line `SUMMARY`, a docstring in fixed
sections (What it does / Why it matters / Example / How to fix / Fix safety) and
`check(objects, context)` over the objects of ONE scenario. `analyze` runs every rule over
every scenario and merges what the scenarios agree on, so a bug present under default values
and under `ci/x.yaml` is reported once, listing both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Protocol

from chartfix.errors import TargetError
from chartfix.model.findings import Finding, Severity, scenario_messages
from chartfix.model.objects import K8sObject, Rendering
from chartfix.model.releases import ReleaseDiff
from chartfix.rules import autosharding, mismatch, overlap, spans, stray, volatile
from chartfix.rules.context import RuleContext, ref_order
from chartfix.rules.policy import Analysis, Policy, judge
from chartfix.rules.synthesized import only_with_placeholders

RULE_SECTIONS = ("What it does", "Why it matters", "Example", "How to fix", "Fix safety")
"""The `##` sections of every rule's doc, in order."""

CheckFn = Callable[[Sequence[K8sObject], RuleContext], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    """PascalCase, for people (SARIF's `name`, which must differ from the id)."""
    severity: Severity
    """The usual severity; a rule may lower it for some findings (volatile: heritage)."""
    summary: str
    doc: str
    check: CheckFn
    severity_note: str = ""
    """When some findings get another severity, which (volatile: `heritage` is a warning)."""

    def section(self, title: str) -> str:
        """One `## Title` section of the rule's docstring (for SARIF help and docs)."""
        return doc_sections(self.doc).get(title, "")


def _rule(module: ModuleType) -> Rule:
    return Rule(
        module.CODE, module.NAME, module.SEVERITY, module.SUMMARY, module.__doc__ or "",
        module.check, getattr(module, "SEVERITY_NOTE", ""),
    )


RULES: dict[str, Rule] = {
    r.code: r for r in map(_rule, (overlap, stray, spans, volatile, mismatch, autosharding))
}
"""The registry: rule code -> rule, in the order rules run and are documented."""


class ChartInfo(Protocol):
    """What analysis needs of a target (any source kind's `Source`)."""

    @property
    def root(self) -> Path: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def app_version(self) -> str | None: ...


def doc_sections(doc: str) -> dict[str, str]:
    """`## Title` sections of a rule docstring -> their text ("" key: the first line)."""
    sections: dict[str, str] = {}
    title = ""
    lines: list[str] = []
    for line in doc.strip().splitlines():
        heading = re.match(r"^## (.+)$", line)
        if heading:
            sections[title] = "\n".join(lines).strip()
            title, lines = heading.group(1).strip(), []
        else:
            lines.append(line)
    sections[title] = "\n".join(lines).strip()
    return sections


def latent(finding: Finding) -> bool:
    """A warning only because nothing acts on its match yet: a finding of a rule whose usual
    severity is error (overlap, stray), graded latent. `fix` takes it on only when asked
    (`--fix-latent`, `latent: true` in a recipe file); `spans` is a warning by nature."""
    rule = RULES.get(finding.rule)
    return (
        finding.impact == "latent" and finding.severity == "warning"
        and rule is not None and rule.severity == "error"
    )


def analyze(
    chart: ChartInfo, renderings: Sequence[Rendering], releases: ReleaseDiff | None = None
) -> list[Finding]:
    """Every rule over every scenario; findings with equal `key` merged, sorted stably.

    A merged finding keeps the first scenario's message and location and lists every
    scenario it appears in, in rendering order.
    """
    return merge_findings(analyze_each(chart, renderings, releases))


def analyze_each(
    chart: ChartInfo, renderings: Sequence[Rendering], releases: ReleaseDiff | None = None
) -> list[list[Finding]]:
    """Every rule over each scenario: one list of findings per rendering, unmerged, each
    pointing at its object's rendered file (the pipeline locates them in the source).
    `releases`: how labels change with the chart's next release (`Source.releases` of its
    first scenario); without it the rules judge by their key lists."""
    releases = releases or ReleaseDiff.by_keys("the next release was not rendered")
    per_scenario: list[list[Finding]] = []
    for rendering in renderings:
        context = RuleContext(
            target_name=chart.name,
            target_version=chart.version or "",
            app_version=chart.app_version,
            release=rendering.release,
            namespace=rendering.namespace,
            releases=releases,
        )
        found = _every_rule(chart, rendering.objects, context, rendering.scenario)
        check = partial(_every_rule, chart, context=context, scenario=rendering.scenario)
        found += only_with_placeholders(rendering, found, check)
        per_scenario.append(_own_findings(found, rendering))
    return per_scenario


def _every_rule(
    chart: ChartInfo, objects: Sequence[K8sObject], context: RuleContext, scenario: str
) -> list[Finding]:
    found: list[Finding] = []
    for rule in RULES.values():
        try:
            found.extend(
                replace(f, scenarios=(scenario,)) for f in rule.check(objects, context)
            )
        except ValueError as err:  # an unknown selector operator: the API would refuse it
            raise TargetError(chart.root, f"rule {rule.code}: {err}") from err
    return found


def apply_policy(
    per_scenario: Sequence[Sequence[Finding]],
    renderings: Sequence[Rendering],
    policy: Policy,
    target_root: Path,
) -> Analysis:
    """Each scenario's findings judged against the objects it rendered, then merged."""
    parts = [
        judge(found, rendering.objects, policy, list(RULES), str(target_root))
        for found, rendering in zip(per_scenario, renderings, strict=True)
    ]
    return Analysis.combine(parts, merge_findings)


def analyze_with_policy(
    chart: ChartInfo, renderings: Sequence[Rendering], policy: Policy
) -> Analysis:
    return apply_policy(analyze_each(chart, renderings), renderings, policy, chart.root)


def _own_findings(found: Sequence[Finding], rendering: Rendering) -> list[Finding]:
    """The findings that are this chart's to report.

    A finding among the objects of a dependency rendered from another chart on disk (a
    monorepo sibling, a `file://` path) is that chart's own: it reports it (the rendering's
    warnings say so, for a user who checks the umbrella alone). A finding that involves
    this chart too stays (the pipeline points it at the dependency's real file, or at the
    archive of a packaged one: `pipeline.located`).
    """
    if not rendering.borrowed:
        return list(found)
    paths = {o.ref: o.document.path for o in rendering.objects}

    def folder(path: str, folders: Mapping[str, str]) -> str | None:
        return next((f for f in folders if path.startswith(f + "/")), None)

    kept = []
    for finding in found:
        refs = (finding.obj, *finding.related)
        if all(folder(paths.get(r, ""), rendering.borrowed) for r in refs):
            home = folder(paths.get(finding.obj, ""), rendering.borrowed) or ""
            note = (
                f"findings among the objects of dependency {home.rsplit('/', 1)[-1]} are "
                f"reported with its chart, {rendering.borrowed[home]}"
            )
            if note not in rendering.warnings:
                rendering.warnings.append(note)
            continue
        kept.append(finding)
    return kept


def merge_findings(per_scenario: Sequence[Sequence[Finding]]) -> list[Finding]:
    """One finding per key (rule and object) across scenarios, given in rendering order:
    the first scenario's location, the related objects of every scenario as a sorted set,
    every scenario it appears in; its message the one they share, else each scenario's
    (`Finding.variants`); sorted stably. Merging merged findings again gives the same."""
    merged: dict[tuple[object, ...], Finding] = {}
    for found in per_scenario:
        for finding in found:
            earlier = merged.get(finding.key)
            if earlier is None:
                merged[finding.key] = replace(
                    finding, related=tuple(sorted(set(finding.related), key=ref_order))
                )
                continue
            new = [s for s in finding.scenarios if s not in earlier.scenarios]
            related = set(earlier.related) | set(finding.related)
            earlier = _graver(earlier, finding)
            merged[finding.key] = earlier
            if new or len(related) > len(earlier.related):
                variants = _variants(earlier, finding, new)
                merged[finding.key] = replace(
                    earlier,
                    identities={**finding.identities, **earlier.identities},
                    scenarios=(*earlier.scenarios, *new),
                    related=tuple(sorted(related, key=ref_order)),
                    message=variants[0][0] if len(variants) == 1 else scenario_messages(variants),
                    variants=variants if len(variants) > 1 else (),
                )
    return sorted(merged.values(), key=finding_order)


def _graver(earlier: Finding, finding: Finding) -> Finding:
    """`earlier` as grave as the gravest of the two scenarios' findings: an error (an effect)
    in either is the merged finding's severity, impact and sentences; equals share theirs."""
    def rank(f: Finding) -> tuple[bool, bool]:
        return f.severity == "error", f.impact == "effect"

    if rank(finding) > rank(earlier):
        return replace(
            earlier, severity=finding.severity, impact=finding.impact, effects=finding.effects
        )
    if rank(finding) == rank(earlier):
        return replace(earlier, effects=_union(earlier.effects, finding.effects))
    return earlier


def _union(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*a, *b)))


def _variants(
    earlier: Finding, finding: Finding, new: Sequence[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(message, scenarios) of `earlier` with what `finding` adds in its `new` scenarios."""
    out = dict(earlier.variants or [(earlier.message, earlier.scenarios)])
    for message, scenarios in finding.variants or [(finding.message, finding.scenarios)]:
        added = tuple(s for s in scenarios if s in new)
        if added:
            out[message] = (*out.get(message, ()), *added)
    return tuple(out.items())


def finding_order(finding: Finding) -> tuple[object, ...]:
    """File, line, rule, object, related: the order a reader of the chart expects."""
    return (
        finding.location.path,
        finding.location.line or 0,
        list(RULES).index(finding.rule) if finding.rule in RULES else len(RULES),
        finding.rule,
        ref_order(finding.obj),
        [ref_order(r) for r in finding.related],
    )


__all__ = [
    "RULES", "RULE_SECTIONS", "Analysis", "ChartInfo", "Policy", "Rule", "RuleContext", "analyze",
    "analyze_with_policy", "apply_policy", "doc_sections", "latent", "merge_findings",
]
