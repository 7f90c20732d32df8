"""check's `fix:` advice is what fix does: it names `chartfix fix` only where fix's own
planner plans an edit for the finding, and says "by hand", with fix's reason, otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartfix.cli import main
from chartfix.commands.checking import check_chart
from chartfix.model.findings import by_hand
from chartfix.pipeline import FixRequest, fix_target

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_a_selector_fix_cannot_edit_is_advised_as_a_hand_edit_with_fixs_reason(
    tmp_path: Path,
) -> None:
    """The NetworkPolicy's podSelector comes whole from a library chart's helper: fix
    labels the Deployment and leaves the NetworkPolicy; check says the same beforehand."""
    chart = shutil.copytree(FIXTURES / "advice" / "library-netpol", tmp_path / "chart")
    advice = {f.rule: f.remediation for f in check_chart(chart).findings}
    change = fix_target(chart, FixRequest(fix_latent=True))

    assert [f.rule for f in change.fixed] == ["overlap"]
    [left] = change.unfixed
    assert left.finding.rule == "stray"
    assert "`chartfix fix --fix-latent` does it" in advice["overlap"]
    assert "`chartfix fix" not in advice["stray"].replace("`chartfix fix` does not", "")
    assert advice["stray"].endswith(
        f"by hand: `chartfix fix` does not do it here ({left.reason})."
    )


def test_every_fixture_fix_fixes_keeps_the_promise() -> None:
    """Where check promises `chartfix fix`, fix plans it: the same-bug chart's advice."""
    report = check_chart(FIXTURES / "same-bug-helm")
    assert report.findings
    assert all("does it" in f.remediation and "by hand" not in f.remediation
               for f in report.findings)


def test_by_hand_replaces_only_the_promising_clause() -> None:
    advice = (
        "Add the label to its selector so that it matches only those pods (Deployment/x); "
        "`chartfix fix` does it (safe). Then upgrade."
    )
    assert by_hand(advice, "not written in the template") == (
        "Add the label to its selector so that it matches only those pods (Deployment/x); "
        "by hand: `chartfix fix` does not do it here (not written in the template). Then "
        "upgrade."
    )


def test_two_templates_rendering_one_object_are_one_error_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a failed verification or "1 controllers": the cause, once, and nothing written."""
    chart = shutil.copytree(FIXTURES / "broken" / "duplicate-object", tmp_path / "chart")
    before = {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()}
    assert main(["fix", "--write", str(chart)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert (
        "templates/a.yaml and templates/b.yaml both render Deployment/release-name-web in "
        "namespace default" in lines[0]
    )
    assert {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()} == before
    assert main(["check", str(chart)]) == 2


def test_a_label_key_repeated_with_its_value_is_a_warning_and_the_chart_is_analysed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`app: rep` after an include that writes `app: rep`: Helm renders it, the entries
    agree; the template line is named and the overlap is still found. Two values stay an
    error: which one a cluster keeps is a guess."""
    report = check_chart(FIXTURES / "repeated-key" / "same")
    assert report.error is None
    assert [f.rule for f in report.findings] == ["overlap"]
    assert [w.split(": ", 1)[0] for w in report.warnings] == ["templates/deployment.yaml:13"]
    assert "app is written twice in spec.template.metadata.labels" in report.warnings[0]

    assert main(["check", str(FIXTURES / "repeated-key" / "different")]) == 2
    said = "".join(capsys.readouterr())
    assert "renders the key 'app' twice in labels, with different values" in said


@pytest.mark.parametrize("name", ["scaffold-helpers", "test-pod-numeric-port", "random-names"])
def test_a_finding_fix_answers_with_the_safe_route_is_advised_as_it(name: str) -> None:
    """Only a helm test Pod (random-names: and a hook Job Helm recreates) shares the
    Deployment's labels: fix gives them values of their own and changes no selector. check's
    advice says that, not the overlap rule's selector change with a migration step (the new
    user's prometheus-druid-exporter), latent findings too (`--fix-latent`)."""
    report = check_chart(FIXTURES / name)
    latent = all(f.impact == "latent" for f in report.findings)
    change = fix_target(FIXTURES / name, FixRequest(fix_latent=latent))

    assert change.files and not change.unsafe
    assert report.findings
    for finding in report.findings:
        assert "immutable, follow the migration" not in finding.remediation
        assert ": the other pods get values of their own; `chartfix fix" in finding.remediation
        assert finding.remediation.endswith(
            "does it (safe: no immutable field changes, no migration step).")
