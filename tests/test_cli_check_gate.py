"""A CI gate that can go green: suppressions (annotations in kube-linter's and Checkov's forms,
`.chartfix.yaml` entries), rule control, helm lint's exit policy, strict input, advice that
works. Real charts rendered by Helm's engine, the real command line."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES

from chartfix.cli import main

RING = FIXTURES / "rules-charts" / "gossip-ring"
MEMBERLIST = "Service/release-name-ring-memberlist"


def ring_copy(tmp_path: Path, name: str = "ring") -> Path:
    target = tmp_path / name
    shutil.copytree(RING, target)
    return target


def annotate(chart: Path, *lines: str) -> None:
    """Add annotation lines to the memberlist Service in its template, as a user would."""
    path = chart / "templates" / "memberlist.yaml"
    text = path.read_text()
    head = "  name: {{ include \"ring.fullname\" . }}-memberlist\n"
    added = "".join(f"    {line}\n" for line in lines)
    path.write_text(text.replace(head, head + "  annotations:\n" + added, 1))


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["check", "-j", "1", *args])
    return status, capsys.readouterr().out


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    status, out = check(capsys, "--format", "json", *args)
    return status, json.loads(out)


def refs(entries: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [f"{e['rule']} {e['object']['kind']}/{e['object']['name']}" for e in entries]


# --- exit policy (helm lint's) --------------------------------------------------------------


def test_warnings_pass_unless_strict_errors_fail(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = check(capsys, str(RING))
    assert status == 0 and "warning[spans]" in out
    assert check(capsys, str(RING), "--strict")[0] == 1
    assert check(capsys, str(FIXTURES / "legacy-server"))[0] == 1
    # matches nothing acts on (no adoption, no consumer) are warnings: the gate passes
    assert check(capsys, str(FIXTURES / "rules-charts" / "overlap"))[0] == 0


def test_a_chart_not_processed_is_two_even_with_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = ring_copy(tmp_path)
    bad = "kind: Pod\nmetadata: {name: {{ include \"nowhere\" . }}}\n"  # a missing define
    (broken / "templates" / "bad.yaml").write_text(bad)
    assert check(capsys, str(broken), str(FIXTURES / "clean"), "--strict")[0] == 2


# --- suppressions ---------------------------------------------------------------------------


def test_kube_linter_style_annotation_suppresses_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = ring_copy(tmp_path)
    annotate(chart, 'ignore-check.chartfix.io/spans: "gossip ring: every member on purpose"')
    status, doc = check_json(capsys, str(chart), "--strict")
    assert status == 0
    (entry,) = doc["charts"]
    assert entry["findings"] == [] and entry["unused_suppressions"] == []
    assert refs(entry["suppressed"]) == [f"spans {MEMBERLIST}"]
    assert entry["suppressed"][0]["suppression"] == {
        "kind": "inSource",
        "justification": "gossip ring: every member on purpose",
        "origin": "annotation ignore-check.chartfix.io/spans",
    }
    status, out = check(capsys, str(chart), "--format", "sarif")
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] == "spans"
    assert result["suppressions"][0]["kind"] == "inSource"
    assert result["suppressions"][0]["justification"] == "gossip ring: every member on purpose"
    status, out = check(capsys, str(chart))
    assert "suppressed[spans] Service/release-name-ring-memberlist: gossip ring" in out
    assert out.rstrip().endswith("no findings; 1 suppressed")


def test_checkov_style_annotation_suppresses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = ring_copy(tmp_path)
    annotate(chart, 'chartfix.io/skip1: "spans=one headless Service for the ring"')
    status, doc = check_json(capsys, str(chart), "--strict")
    suppressed = doc["charts"][0]["suppressed"]
    assert status == 0 and refs(suppressed) == [f"spans {MEMBERLIST}"]
    assert suppressed[0]["suppression"]["justification"] == "one headless Service for the ring"


def test_annotation_set_through_values_is_read_from_the_rendered_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, doc = check_json(
        capsys, str(RING), "--strict",
        "--set", r"memberlist.annotations.ignore-check\.chartfix\.io/spans=ring",
    )
    assert status == 0 and refs(doc["charts"][0]["suppressed"]) == [f"spans {MEMBERLIST}"]


@pytest.mark.parametrize("pattern", ["*-memberlist", "Service/release-name-ring-*"])
def test_config_entry_by_rule_and_object_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    chart = ring_copy(tmp_path)
    (chart / ".chartfix.yaml").write_text(
        f"suppress:\n  - rule: spans\n    object: '{pattern}'\n    reason: gossip ring\n"
    )
    status, doc = check_json(capsys, str(chart), "--strict")
    (suppressed,) = doc["charts"][0]["suppressed"]
    assert status == 0
    assert suppressed["suppression"]["kind"] == "external"
    assert suppressed["suppression"]["origin"].endswith(".chartfix.yaml: suppress[0]")
    out = check(capsys, str(chart), "--format", "sarif")[1]
    assert json.loads(out)["runs"][0]["results"][0]["suppressions"][0]["kind"] == "external"


def test_a_suppression_names_its_file_as_findings_name_theirs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = ring_copy(tmp_path)
    (chart / ".chartfix.yaml").write_text(
        "suppress:\n  - {rule: spans, object: '*-memberlist', reason: gossip ring}\n"
    )
    monkeypatch.chdir(tmp_path)
    out = check(capsys, "ring")[1]
    assert "  ring/templates/memberlist.yaml:13: " not in out  # suppressed: no finding line
    assert f"  suppressed[spans] {MEMBERLIST}: gossip ring (ring/.chartfix.yaml: suppress[0])" \
        in out.splitlines()


def test_a_suppression_that_matches_nothing_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = ring_copy(tmp_path)
    annotate(
        chart,
        'ignore-check.chartfix.io/spans: "gossip ring"',
        'ignore-check.chartfix.io/overlap: "not an overlap at all"',
        'ignore-check.chartfix.io/span: "misspelt"',
    )
    (chart / ".chartfix.yaml").write_text(
        "suppress:\n  - {rule: stray, object: '*-memberlist', reason: stale}\n"
    )
    status, out = check(capsys, str(chart))
    assert status == 0
    warnings = [line.strip() for line in out.splitlines() if line.strip().startswith("warning:")]
    assert warnings == [
        f"warning: templates/memberlist.yaml: annotation ignore-check.chartfix.io/overlap on "
        f"{MEMBERLIST} matches no overlap finding",
        f"warning: templates/memberlist.yaml: annotation ignore-check.chartfix.io/span on "
        f"{MEMBERLIST} names no rule; rules: overlap, stray, spans, volatile, mismatch, "
        "autosharding",
        f"warning: {chart / '.chartfix.yaml'}: suppress[0] (rule stray, object *-memberlist) "
        "matches no finding",
    ]
    assert "3 unused suppressions" in out
    assert check(capsys, str(chart), "--strict")[0] == 1
    doc = check_json(capsys, str(chart))[1]
    assert len(doc["charts"][0]["unused_suppressions"]) == 3
    sarif = json.loads(check(capsys, str(chart), "--format", "sarif")[1])
    notes = sarif["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert [n["level"] for n in notes] == ["warning"] * 3


def test_a_shared_config_entry_is_unused_only_when_no_chart_uses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()  # the repository root: its .chartfix.yaml applies to all
    ring_copy(tmp_path / "charts", "ring")
    shutil.copytree(FIXTURES / "clean", tmp_path / "charts" / "clean")
    (tmp_path / ".chartfix.yaml").write_text(
        "suppress:\n  - {rule: spans, object: '*-memberlist', reason: gossip ring}\n"
    )
    status, out = check(capsys, str(tmp_path / "charts"), "--strict")
    assert status == 0 and "unused" not in out


# --- rule control ---------------------------------------------------------------------------


def test_rule_control_in_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = ring_copy(tmp_path)
    config = chart / ".chartfix.yaml"
    config.write_text("rules:\n  severity: {spans: error}\n")
    status, doc = check_json(capsys, str(chart))
    assert status == 1 and doc["charts"][0]["findings"][0]["severity"] == "error"
    config.write_text("rules:\n  exclude: [spans]\n")
    status, doc = check_json(capsys, str(chart), "--strict")
    assert status == 0 and doc["charts"][0]["findings"] == []
    config.write_text("rules:\n  include: [overlap, stray]\n")
    assert check(capsys, str(chart), "--strict")[0] == 0


def test_rule_control_on_the_command_line_wins_over_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumers = FIXTURES / "rules-charts" / "consumers"
    doc = check_json(capsys, str(consumers), "--include", "spans")[1]
    assert {f["rule"] for f in doc["charts"][0]["findings"]} == {"spans"}
    doc = check_json(capsys, str(consumers), "--exclude", "stray,overlap")[1]
    assert {f["rule"] for f in doc["charts"][0]["findings"]} == {"spans"}
    status, doc = check_json(capsys, str(consumers), "--exclude", "stray,overlap",
                             "--severity", "spans=error")
    assert status == 1 and {f["severity"] for f in doc["charts"][0]["findings"]} == {"error"}
    chart = ring_copy(tmp_path)
    (chart / ".chartfix.yaml").write_text("rules: {exclude: [spans]}\n")
    assert check(capsys, str(chart), "--strict")[0] == 0
    assert check(capsys, str(chart), "--strict", "--include", "spans")[0] == 1


# --- strict input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ("label_jobs: true\n", "unknown key `label_jobs` (did you mean `label-jobs`?); known "
         "keys: components, label-jobs, rules, suppress, run-apps, recipe"),
        ("ignore: [spans]\n", "unknown key `ignore`; known keys: components, label-jobs, "
         "rules, suppress, run-apps, recipe"),
        ("rules: {exclude: [spams]}\n", "`rules.exclude`: unknown rule 'spams'; rules: "
         "overlap, stray, spans, volatile, mismatch"),
        ("rules: {severity: {spans: fatal}}\n", "`rules.severity.spans`: 'fatal' is no "
         "severity; use error or warning"),
        ("suppress: [{rule: spans, object: x}]\n", "`suppress[0]` needs reason"),
        ("suppress: [{rule: spans, object: x, reason: y, until: z}]\n",
         "unknown key `suppress[0].until`; known keys: suppress[0].rule, suppress[0].object, "
         "suppress[0].reason"),
    ],
)
def test_config_mistakes_are_errors_naming_key_and_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, says: str
) -> None:
    chart = ring_copy(tmp_path)
    (chart / ".chartfix.yaml").write_text(config)
    assert main(["check", "-j", "1", str(chart)]) == 2
    assert f"{chart / '.chartfix.yaml'}: {says}" in capsys.readouterr().out
    assert main(["fix", "-j", "1", str(chart)]) == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--exclude", "spams"], "--exclude: unknown rule spams; rules: overlap, stray, spans, "
         "volatile, mismatch"),
        (["--include", "overlap,nope"], "--include: unknown rule nope; rules:"),
        (["--severity", "spans=fatal"], "--severity takes RULE=LEVEL with LEVEL error or "
         "warning, not 'spans=fatal'"),
    ],
)
def test_rule_flag_mistakes_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    assert main(["check", str(RING), *args]) == 2
    assert says in capsys.readouterr().err


def test_a_component_name_matching_no_workload_is_a_warning_naming_the_close_ones(
    chart_copy,  # type: ignore[no-untyped-def]
) -> None:
    """A typo (or a pattern meant for other charts) is said, with the workloads it could
    have meant, and the run goes on with the values it would have given anyway."""
    chart = chart_copy("legacy-server")
    result = subprocess.run(
        [*CHARTFIX, "fix", str(chart), "--component", "cleanupp=batch"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "warning: --component 'cleanupp' matches no workload (by name, name without the "
        "release, or role); its value is not used: did you mean cleanup?"
    ) in result.stderr.splitlines()
    result = subprocess.run(
        [*CHARTFIX, "fix", str(chart), "--component", "cleanup=batch"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "matches no workload" not in result.stderr


# --- check and fix agree ----------------------------------------------------------------------


def test_fix_counts_what_check_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A suppressed error is neither fixed nor left; check passes.
    chart = tmp_path / "legacy"
    shutil.copytree(FIXTURES / "legacy-server", chart)
    (chart / ".chartfix.yaml").write_text(
        "suppress:\n"
        "  - {rule: overlap, object: '*', reason: the Job is a known guest}\n"
        "  - {rule: stray, object: '*', reason: the Job answers too}\n"
    )
    assert check(capsys, str(chart), "--strict")[0] == 0
    assert main(["fix", "-j", "1", str(chart)]) == 0
    out = capsys.readouterr()
    assert out.out == "" and "0 findings fixable, 0 left" in out.err
    # An error no recipe fixes is left by fix as check reports it.
    mismatch = FIXTURES / "rules-charts" / "scenarios"
    assert check(capsys, str(mismatch), "--include", "mismatch")[0] == 1
    assert main(["fix", "-j", "1", str(mismatch), "--include", "mismatch"]) == 1
    assert "left: mismatch Deployment/" in capsys.readouterr().err


# --- advice that works ------------------------------------------------------------------------

ADVISED = [
    "legacy-server", "volatile-legacy", "volatile-helper", "scaffold-helpers",
    "shared-selector", "multi-doc", "rules-charts/volatile", "rules-charts/consumers",
    "rules-charts/subchart", "rules-charts/controllers", "peer-service",
    "test-pod-shared-helper", "shared-component", "range-shards",
]


def printed(*argv: str) -> str:
    """What `chartfix ARGV` prints on stdout, run in this process: the advice tests run dozens
    of commands, and the command line's own start-up is tested in test_cli_startup.py."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(list(argv))
    return out.getvalue()


Checked = Callable[[str], tuple[Path, list[dict]]]  # type: ignore[type-arg]


@pytest.fixture(scope="module")
def advised_check(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """`advised_check(name)` -> a copy of the fixture and the findings `chartfix check
    --format json` prints for it, run once per fixture for the two tests below."""
    done: dict[str, tuple[Path, list[dict]]] = {}  # type: ignore[type-arg]

    def run(name: str) -> tuple[Path, list[dict]]:  # type: ignore[type-arg]
        if name not in done:
            chart = tmp_path_factory.mktemp("advised") / "chart"
            shutil.copytree(FIXTURES / name, chart)
            found = json.loads(printed("check", str(chart), "--format", "json"))[
                "charts"][0]["findings"]
            done[name] = (chart, found)
        chart, found = done[name]
        return chart, copy.deepcopy(found)

    return run


@pytest.mark.parametrize("name", ADVISED)
def test_every_command_a_fix_line_names_does_it(
    tmp_path: Path, name: str, advised_check: Checked
) -> None:
    chart, before = advised_check(name)
    commands: dict[str, list[tuple[str, str]]] = {}
    for finding in before:
        for command in re.findall(r"`(chartfix fix[^`]*)`", finding["remediation"]):
            obj = finding["object"]
            commands.setdefault(command, []).append(
                (finding["rule"], f"{obj['kind']}/{obj['name']}")
            )
    assert commands or name == "rules-charts/subchart"
    for command, targets in commands.items():
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(chart, work)
        args = shlex.split(command)[2:]
        printed("fix", str(work), *args, "--write")
        after = json.loads(printed("check", str(work), "--format", "json"))[
            "charts"][0]["findings"]
        left = {(f["rule"], f"{f['object']['kind']}/{f['object']['name']}") for f in after}
        assert not left & set(targets), f"`{command}` left {sorted(left & set(targets))}"


@pytest.mark.parametrize("name", ADVISED)
def test_a_finding_fix_does_is_not_left_to_the_hand(name: str, advised_check: Checked) -> None:
    """The other way round: every finding `chartfix fix` fixes with its defaults names it in
    its fix: line (a test Pod or Job sharing the controller's component value, in a block
    or a flow mapping or through a helper, among them), instead of "by hand"."""
    from chartfix.pipeline import FixRequest, fix_target

    _, found = advised_check(name)
    advice = {(f["rule"], f"{f['object']['kind']}/{f['object']['name']}"): f["remediation"]
              for f in found}
    fixed = {(f.rule, str(f.obj)) for f in fix_target(FIXTURES / name, FixRequest()).fixed}
    assert fixed <= set(advice)
    for key in sorted(fixed):
        assert "`chartfix fix" in advice[key], f"{key}: {advice[key]}"


def test_cdk8s_apps_take_the_same_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("cdk8s")
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "cdk8s-shared-dict", app,
                    ignore=shutil.ignore_patterns("__pycache__"))
    status, doc = check_json(capsys, str(app), "--run-apps")
    assert status == 1 and doc["charts"][0]["findings"]
    (app / ".chartfix.yaml").write_text("rules: {include: [spans]}\nrun-apps: true\n")
    assert check(capsys, str(app), "--strict", "--trusted")[0] == 0  # the file runs it
    assert main(["fix", "-j", "1", str(app), "--trusted"]) == 0
    assert "0 findings fixable, 0 left" in capsys.readouterr().err
