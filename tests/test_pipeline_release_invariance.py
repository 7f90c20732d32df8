"""What fix writes into a target, and the fingerprints of its findings, do not depend on the
release it renders with.

The component value, every edit and every fingerprint come from the source (the names its
author wrote), never from a render: a fullname helper's `trunc 20`, a workload named by the
release alone or a synthesized value would otherwise put a different word into the
template for each `--release`. Only the migration note is per release, by design.

A cdk8s app is synthesized once per input in this module and its output reused for the
three releases: `synthesize` takes no release (the app's output cannot depend on it), and
each run gets its own deep copy, so a run that changed what it was given changes nothing
for the next. Helm charts, kustomize and manifests are rendered anew for every release.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Mapping
from dataclasses import astuple
from pathlib import Path

import pytest

from chartfix.errors import TargetError
from chartfix.model.changes import TargetChange
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.output import fingerprint
from chartfix.recipes.files import RecipeFile, Step
from chartfix.sources.cdk8s import source as cdk8s_source
from chartfix.sources.cdk8s.app import CdkApp
from chartfix.sources.cdk8s.synth import Synthesis, synthesize
from chartfix.sources.targets import find_targets

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RELEASES = ("release-name", "r", "a-much-longer-release-name-for-prod")
TARGETS = sorted(
    str(p.relative_to(FIXTURES)) for p in find_targets([FIXTURES])
    if "linked" not in p.parts  # a symlinked monorepo: its own tests
)


_SYNTHESIZED: dict[tuple[object, ...], Synthesis] = {}


@pytest.fixture(autouse=True)
def _one_synthesis_per_input(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Synthesize each (app, edited files, Python) once for the module (see the docstring)."""
    assert list(inspect.signature(synthesize).parameters) == ["app", "overrides", "python"], (
        "synthesize takes a new input: add it to the key below (or drop this reuse if it "
        "is the release)"
    )

    def once(
        app: CdkApp, overrides: Mapping[str, bytes] | None = None, python: Path | None = None
    ) -> Synthesis:
        key = (astuple(app), tuple(sorted((overrides or {}).items())), python)
        if key not in _SYNTHESIZED:
            _SYNTHESIZED[key] = synthesize(app, overrides, python)
        return copy.deepcopy(_SYNTHESIZED[key])

    monkeypatch.setattr(cdk8s_source, "synthesize", once)
    yield


def _run(target: Path, release: str) -> TargetChange | str:
    try:
        return fix_target(target, FixRequest(release=release, run_apps=True, fix_latent=True))
    except TargetError as err:  # the same error for every release (it may name the object)
        return f"error: {err.reason.replace(f'/{release}-', '/{release}-')}"


def _patch(outcome: TargetChange | str) -> object:
    """The raw bytes fix would write, by file (or the error, the same for every release)."""
    if isinstance(outcome, str):
        return outcome
    return [(f.path, f.after) for f in outcome.files]


def _fingerprints(outcome: TargetChange | str) -> object:
    """The fingerprints JSON and SARIF give the findings fix saw (fixed or left)."""
    if isinstance(outcome, str):
        return outcome
    found = [*outcome.fixed, *(u.finding for u in outcome.unfixed)]
    return sorted(fingerprint(outcome.target_name, f) for f in found)


@pytest.mark.parametrize("name", TARGETS)
def test_the_patch_and_the_fingerprints_are_the_same_for_every_release(name: str) -> None:
    outcomes = [_run(FIXTURES / name, release) for release in RELEASES]
    patches = [_patch(o) for o in outcomes]
    assert patches[1] == patches[0], f"--release {RELEASES[1]}"
    assert patches[2] == patches[0], f"--release {RELEASES[2]}"
    prints = [_fingerprints(o) for o in outcomes]
    assert prints[1] == prints[0], f"--release {RELEASES[1]}"
    assert prints[2] == prints[0], f"--release {RELEASES[2]}"


@pytest.mark.parametrize(
    "name", ["trunc-fullname", "release-named", "one-letter-container", "relay"]
)
def test_a_workload_the_author_gave_no_role_gets_its_kinds_default(name: str) -> None:
    """A truncated fullname, the release name, a one-letter container, the chart's own
    name: none of them is a role; the default for the kind is. On the component route:
    trunc-fullname's and release-named's other pods are hook Jobs Helm recreates, which by
    default get values of their own instead (their snapshots)."""
    component = RecipeFile(
        "component", "the component route", (Step("component-labels", (("prefer", "component"),)),),
        "test", latent=True,
    )
    change = fix_target(
        FIXTURES / name, FixRequest(release="r", fix_latent=True, recipe_file=component)
    )
    added = {
        line.strip()
        for f in change.files
        for line in f.after.decode().splitlines()
        if line not in f.before.decode().splitlines()
    }
    assert {a.split(":", 1)[1].strip() for a in added} == {"server"}, added


def test_the_relay_chart_and_the_relay_app_get_the_same_label() -> None:
    """One bug written twice (a Helm chart `relay`, a cdk8s app whose Chart id is `relay`)
    gets one key and one value: the target's own name is no role."""
    chart = fix_target(FIXTURES / "relay", FixRequest(fix_latent=True))
    app = fix_target(FIXTURES / "relay-cdk8s", FixRequest(run_apps=True, fix_latent=True))

    def controller_selector(change: TargetChange) -> dict[str, str]:
        deployment = next(o for o in change.after[0].objects if o.kind == "Deployment")
        assert deployment.selector is not None
        return dict(deployment.selector.match_labels)

    assert controller_selector(chart) == controller_selector(app) == {
        "app": "relay", "component": "server",
    }
