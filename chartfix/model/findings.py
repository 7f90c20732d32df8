"""Findings: what a rule reports, in a form every output (text, JSON, SARIF) can carry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from chartfix.model.objects import ObjectRef

Severity = Literal["error", "warning"]
Impact = Literal["effect", "latent"]
"""What a match does in a cluster: `effect` (traffic, evictions, policies, adoption,
autoscaling act on the wrong pods today: an error), or `latent` (nothing acts on it yet: a
warning). See chartfix/rules/impact.py."""
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
SuppressionKind = Literal["inSource", "external"]


@dataclass(frozen=True)
class Location:
    """A place in the chart's source: path relative to the chart root, 1-based line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Suppression:
    """Why a finding is accepted, and who said so (SARIF `suppressions`: kind, justification).

    `inSource`: an annotation on the object in its template; `external`: an entry of a
    `.chartfix.yaml`. `origin` names the annotation or the config entry.
    """

    kind: SuppressionKind
    justification: str
    origin: str


FIX_PROMISE = "`chartfix fix"
"""How a rule's advice names the fix command where it expects it to do the fix: `check`
keeps that clause only where fix's planner plans a fix for the finding (`by_hand`)."""


def by_hand(remediation: str, reason: str) -> str:
    """`remediation` with its clause promising `chartfix fix` (up to the next `;` or
    sentence end outside parentheses) saying instead that it is a hand edit, and why."""
    start = remediation.find(FIX_PROMISE)
    if start < 0:
        return remediation
    begin = max(remediation.rfind(sep, 0, start) for sep in ("; ", ": ", ". ", ", "))
    begin = 0 if begin < 0 else begin + 2
    end, depth = start, 0
    while end < len(remediation):
        char = remediation[end]
        depth += char == "("
        depth -= char == ")"
        if depth <= 0 and char in ";." and remediation[end + 1 : end + 2] in ("", " "):
            break
        end += 1
    said = f"by hand: `chartfix fix` does not do it here ({reason.rstrip('.')})"
    return remediation[:begin] + said + remediation[end:]


RECIPE_MARK = "<recipe>"
"""Written by a rule where its advice needs the name of the recipe that fixes its finding
(`chartfix fix --recipe <recipe>`): the layer that prints the finding fills it in from the
recipe registry (`Recipe.rules`), since rules sit below recipes and do not know them."""


@dataclass(frozen=True)
class Finding:
    """One problem with one object.

    `key` identifies the problem across scenarios (same rule and object), so that renders of
    several scenarios merge into one finding listing them all, with the related objects of
    every scenario: totals count problems, not scenario groups.
    """

    rule: str
    severity: Severity
    obj: ObjectRef
    message: str
    remediation: str
    location: Location
    related: tuple[ObjectRef, ...] = ()
    chart: str = ""
    scenarios: tuple[str, ...] = ()
    detail: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    suppression: Suppression | None = field(default=None, compare=False, hash=False)
    """Set on an accepted finding: it is reported as suppressed and counts for no exit
    status."""
    impact: Impact | None = field(default=None, compare=False, hash=False)
    """Graded findings (overlap, stray, spans): whether the match acts on pods today; None
    for rules about the selector itself (volatile, mismatch)."""
    effects: tuple[str, ...] = field(default=(), compare=False, hash=False)
    """The sentences behind `impact`: what acts on which pods, or why nothing does yet and
    what would make it real."""
    variants: tuple[tuple[str, tuple[str, ...]], ...] = field(
        default=(), compare=False, hash=False
    )
    identities: Mapping[ObjectRef, str] = field(default_factory=dict, compare=False, hash=False)
    """What writes the finding's object and related objects, by reference, as the source
    tells it (`Source.origin`: a template document, a construct): the same under every
    release name, for fingerprints. Empty where not known (the rendered names stand in)."""
    synthesized: tuple[str, ...] = field(default=(), compare=False, hash=False)
    """Set on a finding only values chartfix made up make (rules/synthesized.py): the value
    paths whose placeholders, taken as equal, make it. Reported as such; never fixed."""
    at: str | None = field(default=None, compare=False, hash=False)
    """The field of `obj` the finding is about (`spec.selector.matchLabels`; None: the object
    itself). A rule reports it with `location` the object's rendered file; the pipeline
    asks the source where that field is written (`Source.locate`)."""
    """A merged finding whose scenarios gave different messages (other objects matched):
    each message with the scenarios that gave it, in scenario order; `message` then says
    them all ("in default: ...; in ci/x.yaml: ..."). Empty when one message serves all."""

    @property
    def key(self) -> tuple[str, ObjectRef]:
        return (self.rule, self.obj)


def scenario_messages(variants: Sequence[tuple[str, Sequence[str]]]) -> str:
    """One message for a finding whose scenarios said different things, each part naming
    its scenarios, so that the message names every object its `related` holds."""
    return "; ".join(f"in {', '.join(scenarios)}: {message}" for message, scenarios in variants)


@dataclass
class Analysis:
    """Findings after the policy: what counts, what was accepted (with its `suppression`),
    and the suppressions declared and used, by id (to warn about those matching nothing)."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    declared: dict[str, str] = field(default_factory=dict)
    """Suppression id -> the warning to give when it matches nothing in the whole run."""
    used: set[str] = field(default_factory=set)

    @staticmethod
    def combine(
        parts: Sequence[Analysis], merge: Callable[[Sequence[Sequence[Finding]]], list[Finding]]
    ) -> Analysis:
        """Parts in scenario order -> one (findings merged by `merge`); a finding that counts
        in some scenario counts."""
        findings = merge([p.findings for p in parts])
        counted = {f.key for f in findings}
        suppressed = [f for f in merge([p.suppressed for p in parts]) if f.key not in counted]
        result = Analysis(findings, suppressed)
        for part in parts:
            for ident, message in part.declared.items():
                result.declared.setdefault(ident, message)
            result.used |= part.used
        return result
