"""Charts that need deploy-time values: synthesized placeholders, organisation values,
scenarios that do not render, symlinks shared inside a repository, and the coverage line.

The fixtures are under fixtures/deploy-time/: each fails to render with its own defaults in
one way (`required`, `fail` with a message naming no path, a nil pointer on a global, a list
and a map expected) and has one overlap bug, which must be found and fixed as usual.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, git

from chartfix.cli import main
from chartfix.commands.checking import CheckOptions, check_chart, run_check
from chartfix.errors import TargetError
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.migration.text import migration_note
from chartfix.publish.prbody import pr_body
from chartfix.sources.helm.chart import load_chart, scenarios
from chartfix.sources.helm.synthesis import render_scenario

DEPLOY_TIME = FIXTURES / "deploy-time"

SYNTHESIZED = {
    "needs-required": ['image.registry="placeholder-1"'],
    "needs-fail": ['cluster.password="placeholder-1"'],
    "needs-global": ['global.registry.host="placeholder-1"'],
    # a list under `range` (first guessed a string from `if not`, then retyped once Helm
    # said it cannot range over it), a map under `toYaml`, a number compared with `lt`
    # each value distinct: two never compare equal by accident
    "needs-list-map": ['brokers=[{}]', 'tls={"placeholder": "placeholder-2"}', "shards=3"],
}


def repository(tmp_path: Path, *charts: str) -> Path:
    """A git repository holding copies of deploy-time fixtures (links kept as links)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in charts:
        shutil.copytree(DEPLOY_TIME / name, repo / name, symlinks=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


@pytest.mark.parametrize("name", sorted(SYNTHESIZED))
def test_each_shape_is_analysed_with_the_smallest_overlay(name: str) -> None:
    report = check_chart(DEPLOY_TIME / name)

    assert report.error is None
    assert report.synthesized == {"default": SYNTHESIZED[name]}
    assert [f.rule for f in report.findings] == ["overlap"]


@pytest.mark.parametrize("name", sorted(SYNTHESIZED))
def test_each_shape_is_fixed_and_verified_without_writing_the_overlay(
    tmp_path: Path, name: str
) -> None:
    chart = shutil.copytree(DEPLOY_TIME / name, tmp_path / name)
    change = fix_target(chart, FixRequest(fix_latent=True))

    assert [f.rule for f in change.fixed] == ["overlap"] and not change.unfixed
    assert change.synthesized == {"default": SYNTHESIZED[name]}
    assert [f.path for f in change.files] == ["templates/deployment.yaml"], (
        "no values file: what the edit is, test_recipes_component_labels_shapes.py"
    )

    assert main(["fix", "--fix-latent", str(chart), "--write"]) == 0
    again = check_chart(chart)  # verified independently: synthesized again, no finding left
    assert again.synthesized == {"default": SYNTHESIZED[name]} and again.findings == []
    assert not any(b"placeholder" in p.read_bytes() for p in chart.rglob("*") if p.is_file())


def test_a_scenario_that_cannot_render_is_named_once_and_the_others_are_fixed() -> None:
    """ci/sideways-values.yaml sets a mode the chart refuses: no placeholder may override a
    value the scenario gives, so it stays unrendered; default and ci/ha are fixed."""
    out = io.StringIO()
    assert run_check([DEPLOY_TIME / "needs-fail"], CheckOptions(jobs=1, strict=True), out) == 1
    text = out.getvalue()
    assert text.count("ci/sideways-values.yaml") == 1
    assert "scenario ci/sideways-values.yaml could not render and was not analysed" in text
    assert "mode sideways is neither single nor ha" in text

    change = fix_target(DEPLOY_TIME / "needs-fail", FixRequest(fix_latent=True))
    assert not change.unfixed
    assert [r.scenario for r in change.after] == ["default", "ci/ha-values.yaml"]
    assert change.after[1].synthesized == ()  # ci/ha gives the password itself
    assert list(change.unrendered) == ["ci/sideways-values.yaml"]


def test_a_chart_that_still_does_not_render_names_what_was_tried(tmp_path: Path) -> None:
    chart = shutil.copytree(DEPLOY_TIME / "needs-required", tmp_path / "c")
    (chart / "templates" / "mode.yaml").write_text(
        '{{- if ne .Values.mode "blue-green" }}{{ fail "only blue-green is supported" }}'
        "{{ end }}\n"
    )
    loaded = load_chart(chart)

    with pytest.raises(TargetError) as caught:
        render_scenario(loaded, scenarios(loaded)[0])

    assert "only blue-green is supported" in caught.value.reason
    assert "after trying placeholder values for" in caught.value.reason
    assert "mode" in caught.value.reason
    report = check_chart(chart)
    assert report.error is not None and "mode" in report.error.reason


def test_machine_outputs_mark_synthesized_scenarios() -> None:
    out = io.StringIO()
    run_check([DEPLOY_TIME / "needs-global"], CheckOptions(fmt="json", jobs=1), out)
    entry = json.loads(out.getvalue())["charts"][0]
    assert entry["synthesized"] == {"default": SYNTHESIZED["needs-global"]}

    out = io.StringIO()
    run_check([DEPLOY_TIME / "needs-global"], CheckOptions(fmt="sarif", jobs=1), out)
    result = json.loads(out.getvalue())["runs"][0]["results"][0]
    assert result["properties"]["synthesized"] == {"default": SYNTHESIZED["needs-global"]}
    assert "synthesized values" in result["message"]["text"]

    change = fix_target(DEPLOY_TIME / "needs-global", FixRequest(fix_latent=True))
    body = pr_body(change, "", "release-name", "default")
    assert 'global.registry.host="placeholder-1"' in body.split("## Notes", 1)[1]


def test_bulk_report_and_table_show_synthesized_values_and_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(DEPLOY_TIME, tree, symlinks=True)
    broken = shutil.copytree(DEPLOY_TIME / "needs-required", tree / "broken")
    (broken / "templates" / "x.yaml").write_text('{{ include "nowhere" . }}\n')
    git(tree, "init", "-q")  # linked/web reads its values through a link inside the repository
    report = tmp_path / "r.json"

    assert main(["bulk", "--fix-latent", str(tree), "--report", str(report)]) == 2
    err = capsys.readouterr().err

    assert (
        "coverage: 7 charts found, 6 analyzed (86%), 4 of them with synthesized values, "
        "1 with a scenario that could not render; 1 error:" in err
    )
    charts = {Path(c["path"]).name: c for c in json.loads(report.read_text())["charts"]}
    assert charts["needs-global"]["synthesized"] == {"default": SYNTHESIZED["needs-global"]}
    assert charts["needs-fail"]["unrendered"].keys() == {"ci/sideways-values.yaml"}
    assert charts["api"]["synthesized"] == {}


# --- organisation values ---------------------------------------------------------------------


def test_repository_config_values_come_before_synthesis(tmp_path: Path) -> None:
    repo = repository(tmp_path, "needs-global")
    (repo / ".chartfix.yaml").write_text(
        "values:\n  global:\n    registry:\n      host: reg.example\n"
    )

    report = check_chart(repo / "needs-global")

    assert report.error is None and report.synthesized == {}
    images = {
        c["image"]
        for r in report.renderings
        for o in r.objects
        if o.ref.kind == "Deployment"
        for c in o.body["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"reg.example/shop/api:1.4"}


def test_bulk_values_apply_to_every_scenario_of_every_chart(tmp_path: Path) -> None:
    """bulk -f is the organisation's values: under the defaults and each ci/ file, so the
    scenarios keep their names and nothing needs synthesizing."""
    tree = tmp_path / "tree"
    for name in ("needs-fail", "needs-global"):
        shutil.copytree(DEPLOY_TIME / name, tree / name)
    org = tmp_path / "org.yaml"
    org.write_text("global:\n  registry:\n    host: reg.example\ncluster:\n  password: s3cret\n")
    report = tmp_path / "r.json"

    done = subprocess.run(
        [*CHARTFIX, "bulk", "--fix-latent", str(tree), "--values", str(org), "--report",
         str(report)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    charts = {Path(c["path"]).name: c for c in json.loads(report.read_text())["charts"]}
    assert charts["needs-global"]["synthesized"] == {}
    assert charts["needs-fail"]["synthesized"] == {}
    assert charts["needs-fail"]["status"] == "fixed"
    assert "0 of them with synthesized values" in done.stderr


# --- symlinks inside the repository ----------------------------------------------------------


def test_a_values_file_linked_to_a_sibling_chart_is_read_and_never_written(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path, "linked")
    web = repo / "linked" / "web"
    shared = repo / "linked" / "api" / "values.yaml"
    before = shared.read_bytes()

    report = check_chart(web)
    assert report.error is None and report.synthesized == {}
    assert [f.rule for f in report.findings] == ["overlap"]

    assert main(["fix", "--fix-latent", str(web), "--write"]) == 0
    assert (web / "values.yaml").is_symlink() and shared.read_bytes() == before
    assert check_chart(web).findings == []


def test_a_template_reached_through_a_link_is_left_with_its_reason(tmp_path: Path) -> None:
    repo = repository(tmp_path, "linked")
    web = repo / "linked" / "web"
    shared = repo / "shared-deployment.yaml"
    (web / "templates" / "deployment.yaml").rename(shared)
    (web / "templates" / "deployment.yaml").symlink_to("../../../shared-deployment.yaml")

    change = fix_target(web, FixRequest(fix_latent=True))

    assert change.files == [] and not change.fixed
    assert "reached through the symlink templates/deployment.yaml" in change.unfixed[0].reason
    assert "does not write through links" in change.unfixed[0].reason


def test_a_link_out_of_the_repository_is_still_refused(tmp_path: Path) -> None:
    repo = repository(tmp_path, "needs-global")
    outside = tmp_path / "outside.yaml"
    outside.write_text("image: stolen\n")
    (repo / "needs-global" / "values.yaml").unlink()
    (repo / "needs-global" / "values.yaml").symlink_to(outside)

    report = check_chart(repo / "needs-global")

    assert report.error is not None
    assert "symlink points outside the repository" in report.error.reason


def test_values_named_by_haskey_or_only_in_the_message_are_synthesized(tmp_path: Path) -> None:
    chart = shutil.copytree(DEPLOY_TIME / "needs-fail", tmp_path / "c", ignore=lambda *_: ["ci"])
    (chart / "templates" / "mesh.yaml").write_text(
        '{{- if not (hasKey .Values.global "mesh") }}{{ fail "set the mesh flag" }}{{ end }}\n'
        '{{- if not (include "c.zone" .) }}{{ fail "topology.zone is required" }}{{ end }}\n'
        '{{- define "c.zone" }}{{ .Values.topology.zone }}{{ end }}\n'
    )
    (chart / "values.yaml").write_text("image: x\nmode: single\ncluster: {password: p}\n")

    report = check_chart(chart)

    assert report.error is None
    assert report.synthesized == {
        "default": ['global.mesh="placeholder-1"', 'topology.zone="placeholder-2"']
    }


def test_a_fail_inside_an_included_helper_is_traced_to_its_condition(tmp_path: Path) -> None:
    """Helm names the include's line, not the helper's `fail`; an empty default list counts
    as missing; list items get the fields a later message asks for."""
    chart = shutil.copytree(DEPLOY_TIME / "needs-global", tmp_path / "c")
    (chart / "values.yaml").write_text("image: x\nglobal: {registry: {host: r}}\nendpoints: []\n")
    (chart / "templates" / "_args.tpl").write_text(
        '{{- define "c.args" -}}\n'
        "{{- $v := .Values }}\n"
        "{{- if empty $v.endpoints }}\n"
        '  {{- fail "no endpoint configured" }}\n'
        "{{- end }}\n"
        "{{- range $i, $e := $v.endpoints }}\n"
        '{{- if not $e.url }}{{ fail (printf "endpoints[%d].url is not set" $i) }}{{ end }}\n'
        "- --endpoint={{ $e.url }}\n"
        "{{- end }}\n"
        "{{- end }}\n"
    )
    (chart / "templates" / "args.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: args\ndata:\n"
        '  args: {{ include "c.args" . | quote }}\n'
    )

    report = check_chart(chart)

    assert report.error is None
    # `endpoints=[{}]` was tried first, then made unneeded by the item with its field
    assert report.synthesized == {"default": ['endpoints[0].url="placeholder-2"']}


def test_coverage_of_a_resumed_run_counts_the_charts_done_before() -> None:
    from chartfix.commands.coverage import Coverage

    coverage = Coverage()
    coverage.skipped_as_done(8)
    coverage.add(None, synthesized=True)
    coverage.add("c/t.yaml: helm could not render: execution error at (c/t.yaml:1:2): no")

    assert coverage.lines() == [
        "coverage: 10 charts found, 9 analyzed (90%; 8 of them by an earlier run), 1 in this "
        "run with synthesized values; 1 error:",
        "  1 x a required/fail check no placeholder satisfies",
    ]


def test_a_template_rendering_invalid_yaml_for_want_of_values_gets_them(tmp_path: Path) -> None:
    """`toYaml` of a missing map renders `null` where YAML wants a mapping: Helm names no
    value, so the unset values of that template are tried together, then pruned."""
    chart = shutil.copytree(DEPLOY_TIME / "needs-global", tmp_path / "c")
    (chart / "values.yaml").write_text("image: x\nglobal: {registry: {host: r}}\nservice: {}\n")
    (chart / "templates" / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
        "  annotations:\n    a: b\n{{ toYaml .Values.service.annotations | indent 4 }}\n"
        "spec:\n  type: {{ .Values.service.type | default \"ClusterIP\" }}\n"
        "  selector:\n    app: needs-global\n"
    )

    report = check_chart(chart)

    assert report.error is None
    assert report.synthesized == {
        "default": ['service.annotations={"placeholder": "placeholder-1"}']
    }


PLACEHOLDERS = FIXTURES / "placeholders"


def test_a_name_made_of_required_values_is_the_value_to_put_in_the_note(tmp_path: Path) -> None:
    """The Deployment's name and its container's come from required values: the migration
    note names the value to put in, not a made-up name."""
    chart = shutil.copytree(PLACEHOLDERS / "required-role", tmp_path / "required-role")
    change = fix_target(chart, FixRequest(fix_latent=True))  # a Job's pods: a latent match

    assert change.synthesized == {
        "default": ['role="placeholder-1"', 'containerName="placeholder-2"']
    }
    assert [f.rule for f in change.fixed] == ["overlap"] and not change.unfixed
    # what the edit is (component: server): test_recipes_component_labels_shapes.py
    note = migration_note(change, "release-name", "default")
    assert "placeholder" not in note
    assert "kubectl -n default delete deployment release-name-ROLE --cascade=orphan" in note
    assert "ROLE (`role`): the value your release gives" in note


def test_an_overlap_only_equal_placeholders_make_is_marked_and_not_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two required values (web tier, job tier) get distinct placeholders: the Deployment
    no longer "overlaps" the Job by accident; the overlap equal values would make is a
    warning naming them, and fix leaves the immutable selector alone."""
    chart = shutil.copytree(PLACEHOLDERS / "required-tiers", tmp_path / "required-tiers")
    report = check_chart(chart)
    assert report.synthesized == {
        "default": ['webTier="placeholder-1"', 'jobTier="placeholder-2"']
    }
    [finding] = report.findings
    assert (finding.rule, finding.severity, finding.synthesized) == (
        "overlap", "warning", ("jobTier", "webTier")
    )
    assert finding.message.startswith("only if the values chartfix synthesized (jobTier, webTier)")

    assert main(["check", str(chart), "--format", "json"]) == 0
    entry = json.loads(capsys.readouterr().out)["charts"][0]["findings"][0]
    assert entry["synthesized"] == ["jobTier", "webTier"]

    asked = fix_target(chart, FixRequest(recipes=("component-labels",), fix_latent=True))
    assert asked.files == [] and asked.fixed == []
    [left] = asked.unfixed
    assert "only values chartfix synthesized make this finding: not fixed" in left.reason
