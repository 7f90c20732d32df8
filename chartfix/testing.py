"""Test one recipe alone on a chart written before and after (libcst's `assertCodemod`).

    assert_recipe(ComponentLabels(), {"templates/app.yaml": BEFORE},
                  {"templates/app.yaml": AFTER}, options={"component-key": "component"})

The files are written to a scratch directory: a chart's (they hold `templates/`; a
`Chart.yaml` is added when they have none), a kustomization, a cdk8s app (`cdk8s.yaml`) or
plain manifests, each found as `chartfix` finds it. The target is rendered in every scenario
(a chart with Helm's engine), analysed by every rule, and planned by
`recipe` alone, with the options given as a recipe file writes them. Its units go through
the verifier, as in a real run: they render again, and a unit that fails verification fails
the assertion (a recipe whose edit the verifier drops does not do what its test says). The
fixed files must be `after` (a file `after` leaves out must be unchanged), and no finding of
the recipe's rules may be left, unless `left` names it.

`assert_documented(recipe)` checks a recipe's doc the same way: its `##` sections are
there, and its `## Example` (files written `Before, `path`:` and `After, `path`:`, each
followed by a fenced block) is what the recipe does. `rule_example` renders a rule's example.

Third-party recipes use it too: nothing here is private to chartfix's own tests.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartfix.model.findings import Finding
from chartfix.pipeline import analyze, located_findings
from chartfix.recipes.base import (
    RECIPE_SECTIONS,
    Recipe,
    RecipeContext,
    RecipeOptions,
    options_class,
    recipe_doc,
)
from chartfix.rules import Policy, Rule, doc_sections, merge_findings
from chartfix.sources.base import RenderSettings
from chartfix.sources.targets import kind_of
from chartfix.verify import Verified, Verifier

DEFAULT_CHART_YAML = "apiVersion: v2\nname: example\nversion: 0.1.0\nappVersion: 1.0.0\n"
"""The `Chart.yaml` a chart given without one gets: chart `example`, version 0.1.0."""

Files = Mapping[str, str]


@dataclass(frozen=True)
class RecipeRun:
    """What one recipe did to a chart: the verified result, the findings before it."""

    files: dict[str, str]
    """Every file of the chart after the fix (chart-relative path -> text)."""
    verified: Verified
    before: list[Finding]


def run_recipe(
    recipe: Recipe,
    before: Files | Path,
    options: Mapping[str, Any] | RecipeOptions | None = None,
    release: str = "release-name",
    namespace: str = "default",
) -> RecipeRun:
    """Run `recipe` alone on the chart `before` (files, or a chart directory, left as it is)."""
    with tempfile.TemporaryDirectory(prefix="chartfix-recipe-") as scratch:
        root = Path(scratch) / "chart"
        if isinstance(before, Path):
            shutil.copytree(before, root, symlinks=True)
        else:
            _write(root, before)
        return _run(recipe, root, _options(recipe, options), release, namespace)


def assert_recipe(
    recipe: Recipe,
    before: Files | Path,
    after: Files,
    options: Mapping[str, Any] | RecipeOptions | None = None,
    release: str = "release-name",
    namespace: str = "default",
    left: Sequence[str] = (),
) -> RecipeRun:
    """Fail unless `recipe` alone turns `before` into `after` and fixes its rules' findings
    (all but those `left` names, as "rule Kind/name"). Returns the run for further checks."""
    run = run_recipe(recipe, before, options, release, namespace)
    failed = [f"{unit.title}: {why}" for unit, why in run.verified.failed]
    assert not failed, "units failed verification:\n" + "\n".join(failed)
    original = _files(before)
    expected = {**original, **after}
    wrong = sorted(p for p in set(expected) | set(run.files) if expected.get(p) != run.files.get(p))
    assert not wrong, "\n".join(_difference(p, expected.get(p), run.files.get(p)) for p in wrong)
    remaining = sorted(
        f"{f.rule} {f.obj}" for f in run.verified.after_findings if f.rule in recipe.rules
    )
    assert remaining == sorted(left), f"findings left: {remaining}, expected {sorted(left)}"
    return run


def _options(
    recipe: Recipe, options: Mapping[str, Any] | RecipeOptions | None
) -> RecipeOptions:
    declared = options_class(recipe)
    if isinstance(options, RecipeOptions):
        return options
    given = dict(options or {})
    unknown = sorted(set(given) - {o.name for o in declared.declared()})
    if unknown:
        raise ValueError(f"{recipe.name} declares no option {', '.join(unknown)}")
    return declared.of(given)


def _run(
    recipe: Recipe, root: Path, options: RecipeOptions, release: str, namespace: str
) -> RecipeRun:
    source = kind_of(root).load(root)
    settings = RenderSettings(release=release, namespace=namespace)
    analysis = analyze(source, settings, Policy())
    findings = merge_findings(analysis.per_scenario)
    context = RecipeContext(
        source, analysis.renderings, [f for f in findings if f.rule in recipe.rules],
        options=options, release=release, namespace=namespace,
    )
    plan = recipe.plan(context)
    verifier = Verifier(source, analysis.renderings, findings, analysis.releases)
    verified = verifier.run(plan.units)
    files = _files(root)
    files.update({path: data.decode("utf-8") for path, data in verified.files.items()})
    return RecipeRun(files, verified, findings)


def _write(root: Path, files: Files) -> None:
    files = _with_chart_yaml(files)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def _with_chart_yaml(files: Files) -> dict[str, str]:
    """`files`, with the default `Chart.yaml` when they are a chart's (they hold templates/)
    and have none; a kustomization, a cdk8s app or plain manifests as they are."""
    chart = any(path.startswith("templates/") for path in files)
    return {"Chart.yaml": DEFAULT_CHART_YAML, **files} if chart else dict(files)


def _files(chart: Files | Path) -> dict[str, str]:
    if not isinstance(chart, Path):
        return _with_chart_yaml(chart)
    return {
        p.relative_to(chart).as_posix(): p.read_bytes().decode("utf-8")
        for p in sorted(chart.rglob("*"))
        if p.is_file()
    }


def _difference(path: str, expected: str | None, actual: str | None) -> str:
    if expected is None:
        return f"{path}: not expected, but the recipe wrote it"
    if actual is None:
        return f"{path}: expected, but missing"
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        f"{path} (expected)", f"{path} (recipe)",
    )
    return "".join(diff)


# --- documented examples --------------------------------------------------------------------

_EXAMPLE_FILE = re.compile(
    r"^(?P<side>Before|After), `(?P<path>[^`]+)`:[^\n]*\n```[a-z]*\n(?P<text>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
_FENCE = re.compile(r"^```[a-z]*\n(?P<text>.*?)^```$", re.MULTILINE | re.DOTALL)


def example_files(section: str) -> tuple[dict[str, str], dict[str, str]]:
    """The chart files an `## Example` section shows: (before, after), by chart path. A
    section with bare fenced blocks (a rule's: rendered objects) is one template file."""
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for match in _EXAMPLE_FILE.finditer(section):
        side = before if match["side"] == "Before" else after
        side[match["path"]] = match["text"]
    if not before:
        blocks = [m["text"] for m in _FENCE.finditer(section)]
        if blocks:
            before["templates/example.yaml"] = "---\n".join(blocks)
    return before, after


def assert_documented(recipe: Recipe) -> RecipeRun:
    """Fail unless the recipe's doc has every section of RECIPE_SECTIONS, and its example is
    what the recipe does (run with its default options, rendered with Helm)."""
    sections = doc_sections(recipe_doc(recipe))
    missing = [title for title in RECIPE_SECTIONS if not sections.get(title)]
    assert not missing, f"{recipe.name}: doc sections missing: {', '.join(missing)}"
    before, after = example_files(sections["Example"])
    assert before and after, f"{recipe.name}: the example shows no Before and After files"
    return assert_recipe(recipe, before, after)


def rule_example(rule: Rule) -> list[Finding]:
    """The findings the rule's `## Example`, rendered as a chart's template, gets."""
    before, _ = example_files(rule.section("Example"))
    assert before, f"{rule.code}: the example has no yaml block"
    with tempfile.TemporaryDirectory(prefix="chartfix-rule-") as scratch:
        root = Path(scratch) / "chart"
        _write(root, before)
        source = kind_of(root).load(root)
        rendered = source.render_all(RenderSettings())
        releases = source.releases(rendered.renderings[0])
        found = merge_findings(located_findings(source, rendered.renderings, releases))
        return [f for f in found if f.rule == rule.code]
