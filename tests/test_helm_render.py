"""Rendering with Helm's real engine (helm-python-sdk): objects, values, dependencies, errors.

Every chart here is written by the test into tmp_path; nothing about Helm is mocked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml
from conftest import FIXTURES

from chartfix.errors import TargetError
from chartfix.sources.helm import render as render_module
from chartfix.sources.helm.chart import Scenario, load_chart, scenarios
from chartfix.sources.helm.render import SdkEngine, render, split_by_source

SDK = SdkEngine()

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-%s
  namespace: {{ .Release.Namespace }}
data:
  greeting: {{ .Values.greeting | quote }}
"""


def make_chart(
    root: Path,
    name: str,
    templates: dict[str, str] | None = None,
    values: str = "greeting: hello\n",
    dependencies: list[dict[str, Any]] | None = None,
    version: str = "1.0.0",
) -> Path:
    """Write a chart; by default one ConfigMap named after the chart."""
    root.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"apiVersion": "v2", "name": name, "version": version}
    if dependencies:
        meta["dependencies"] = dependencies
    (root / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    (root / "values.yaml").write_text(values)
    (root / "templates").mkdir(exist_ok=True)
    for rel, text in (templates or {"configmap.yaml": CONFIGMAP % name}).items():
        (root / "templates" / rel).write_text(text)
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def render_default(root: Path, **kwargs: Any) -> Any:
    chart = load_chart(root)
    return render(chart, scenarios(chart)[0], engine=SDK, **kwargs)


def names(rendering: Any) -> list[str]:
    return sorted(o.name for o in rendering.objects)


# --- objects -------------------------------------------------------------------------------------


def test_documents_become_objects_with_their_source(tmp_path: Path) -> None:
    root = make_chart(
        tmp_path / "app",
        "app",
        {
            "multi.yaml": "# a comment only\n---\n"
            + (CONFIGMAP % "one")
            + "---\n# nothing here\n---\n"
            + (CONFIGMAP % "two"),
            "list.yaml": "apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: Secret, metadata: {name: s1}}\n"
            "- {apiVersion: v1, kind: Secret, metadata: {name: s2}}\n",
            "NOTES.txt": "Thanks for installing {{ .Release.Name }}\n",
            "_helpers.tpl": '{{- define "app.name" -}}app{{- end }}\n',
        },
    )

    rendering = render_default(root, release="rel", namespace="ns")

    got = [
        (o.kind, o.name, o.document.path, o.document.doc_index, o.chart)
        for o in rendering.objects
    ]
    assert got == [
        ("Secret", "s1", "templates/list.yaml", 0, "app"),
        ("Secret", "s2", "templates/list.yaml", 0, "app"),
        ("ConfigMap", "rel-one", "templates/multi.yaml", 0, "app"),
        ("ConfigMap", "rel-two", "templates/multi.yaml", 1, "app"),
    ]
    assert rendering.objects[2].namespace == "ns"
    assert (rendering.scenario, rendering.release, rendering.warnings) == ("default", "rel", [])


def test_objects_no_rule_reads_stay_unparsed_yet_two_of_one_name_are_refused(
    tmp_path: Path,
) -> None:
    """A ConfigMap is kept as text (model.objects.LazyBody): refusing two objects of one
    kind and name reads its name from the text, without parsing it."""
    root = make_chart(tmp_path / "app", "app", {"a.yaml": CONFIGMAP % "one"})
    rendering = render_default(root)
    (configmap,) = rendering.objects
    assert configmap.name == "release-name-one" and configmap.namespace == "default"
    assert not configmap.body.parsed, "a render parses no document the rules do not read"

    (root / "templates" / "b.yaml").write_text(CONFIGMAP % "one")
    with pytest.raises(TargetError, match="both render ConfigMap/release-name-one"):
        render_default(root)


def test_a_clash_only_a_long_release_name_makes_is_a_warning_and_the_rest_renders() -> None:
    """fixtures/release-name-clash: its two ClusterRoles' names, cut to 63 characters, are one
    under `release-name` (Helm refuses to install the chart so) and two under `r`: the render
    says so and keeps both, so the chart's labels are still analysed, every object's."""
    chart = load_chart(FIXTURES / "release-name-clash")
    rendering = render(chart, scenarios(chart)[0], engine=SDK)
    (warning,) = rendering.warnings
    assert warning == (
        "templates/clusterroles.yaml (twice) both render ClusterRole/"
        "release-name-release-name-clash-cluster-monitoring-exporter-met in namespace default "
        "with the release name release-name: Helm refuses to install the chart under that name "
        "(under a short one, `r`, their names differ: they are cut to a fixed length); both "
        "are analysed"
    )
    kinds = sorted(o.kind for o in rendering.objects)
    assert kinds == ["ClusterRole", "ClusterRole", "CronJob", "Deployment", "Service"]
    short = render(chart, scenarios(chart)[0], release="r", engine=SDK)
    assert short.warnings == []
    assert sorted(o.kind for o in short.objects).count("ClusterRole") == 2


PLAIN_OR_NOT = [
    "metadata:\n  name: a\n  namespace: b\n",
    "metadata:\n  labels:\n    name: x\n  annotations: {a: b}\n  name: 'a b'  # c\n",
    'metadata:\n    name: "system:a:b"\nspec:\n  name: c\n',
    "metadata:\n  labels:\n    name: x\n",
    "metadata:\n  name: true\n",
    "metadata:\n  name: 0x1F\n",
    "metadata:\n  name: .inf\n",
    "metadata:\n  name: ~\n",
    "metadata:\n  name: a\n    b\n",
    "metadata:\n  name: a#b\n",
    "metadata:\n  <<: {name: a}\n",
    "metadata: {name: a}\n",
    "metadata:\n  name: a\n  name: b\n",
    "metadata:\n  namespace:\n  name: a\n",
    "metadata:\n  name: &n a\n",
    "metadata:\n  name: !!str 1\n",
    "metadata:\n  name: >-\n    a\n",
]


@pytest.mark.parametrize("text", PLAIN_OR_NOT)
def test_a_name_read_from_the_text_is_the_name_yaml_reads(text: str) -> None:
    """`plain_identity` answers only when sure: what it reads is what PyYAML reads, and it
    answers every plain document (those lines the first four)."""
    from chartfix.sources.helm.render import plain_identity

    document = "apiVersion: v1\nkind: ConfigMap\n" + text + "data:\n  k: v\n"
    meta = yaml.safe_load(document)["metadata"]
    namespace = meta.get("namespace")
    parsed = (str(meta.get("name") or ""), None if namespace is None else str(namespace))
    read = plain_identity(document)
    assert read in (None, parsed)
    assert (read is not None) == (PLAIN_OR_NOT.index(text) < 4)


def test_values_layer_defaults_then_files_then_set(tmp_path: Path) -> None:
    template = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n" + "".join(
        f"  {k}: {{{{ .Values.m.{k} | quote }}}}\n" for k in "abcd"
    )
    root = make_chart(
        tmp_path / "app", "app", {"cm.yaml": template}, values="m: {a: A0, b: B0, c: C0, d: D0}\n"
    )
    first = tmp_path / "first.yaml"
    first.write_text("m: {b: B1, c: C1}\n")
    second = tmp_path / "second.yaml"
    second.write_text("m: {c: C2}\n")
    chart = load_chart(root)

    (scenario,) = scenarios(chart, [first, second], ["m.d=D3"])
    rendering = render(chart, scenario, engine=SDK)

    assert rendering.scenario == "user"
    assert rendering.objects[0].body["data"] == {"a": "A0", "b": "B1", "c": "C2", "d": "D3"}


def test_each_ci_file_is_its_own_scenario_over_the_defaults(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app")
    (root / "ci").mkdir()
    (root / "ci" / "french-values.yaml").write_text("greeting: bonjour\n")
    chart = load_chart(root)

    greetings = {
        s.name: render(chart, s, engine=SDK).objects[0].body["data"]["greeting"]
        for s in scenarios(chart)
    }
    assert greetings == {"default": "hello", "ci/french-values.yaml": "bonjour"}


def test_hooks_and_tests_are_rendered_like_any_object(tmp_path: Path) -> None:
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
        '    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: "-5"\n'
        "spec:\n  template:\n    metadata: {labels: {app: x}}\n    spec: {containers: []}\n"
    )
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n"
    pod += "  annotations:\n    helm.sh/hook: test\n"
    root = make_chart(tmp_path / "app", "app", {"job.yaml": job, "test-pod.yaml": pod})

    rendering = render_default(root)

    hooks = {o.name: o.hooks for o in rendering.objects if o.is_hook}
    assert hooks == {"migrate": ("pre-install", "pre-upgrade"), "smoke": ("test",)}


# --- overrides -----------------------------------------------------------------------------------


def test_overrides_render_the_new_text_and_leave_the_chart_untouched(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app")
    before = tree_bytes(root)
    edited = (CONFIGMAP % "app").replace("greeting:", "salutation:").encode()

    changed = render_default(root, overrides={"templates/configmap.yaml": edited})
    again = render_default(root)

    assert changed.objects[0].body["data"] == {"salutation": "hello"}
    assert again.objects[0].body["data"] == {"greeting": "hello"}
    assert tree_bytes(root) == before


def test_a_changed_template_on_disk_is_seen_by_the_next_render(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app")
    assert names(render_default(root)) == ["release-name-app"]

    (root / "templates" / "configmap.yaml").write_text(CONFIGMAP % "renamed-after-edit")

    assert names(render_default(root)) == ["release-name-renamed-after-edit"]


# --- dependencies --------------------------------------------------------------------------------


def test_subchart_folder_renders_under_its_folder_path(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app", dependencies=[{"name": "db", "version": "1.x"}])
    make_chart(root / "charts" / "db-folder", "db")

    rendering = render_default(root)

    db = next(o for o in rendering.objects if o.chart == "db")
    assert db.name == "release-name-db"
    assert db.document.path == "charts/db-folder/templates/configmap.yaml"
    assert rendering.warnings == []


def test_packaged_subchart_renders(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app", dependencies=[{"name": "db", "version": "1.x"}])
    (root / "charts").mkdir()
    helm_python.package(make_chart(tmp_path / "src" / "db", "db"), destination=root / "charts")
    assert [p.name for p in (root / "charts").iterdir()] == ["db-1.0.0.tgz"]

    rendering = render_default(root)

    assert names(rendering) == ["release-name-app", "release-name-db"]
    db = next(o for o in rendering.objects if o.chart == "db")
    assert db.document.path == "charts/db/templates/configmap.yaml"


def test_file_repository_dependency_is_staged(tmp_path: Path) -> None:
    make_chart(tmp_path / "libs" / "database", "db")
    root = make_chart(
        tmp_path / "apps" / "app",
        "app",
        dependencies=[
            {"name": "db", "version": "1.0.0", "repository": "file://../../libs/database"}
        ],
    )
    before = tree_bytes(root)

    rendering = render_default(root)

    assert names(rendering) == ["release-name-app", "release-name-db"]
    assert tree_bytes(root) == before  # nothing vendored into the chart


def test_monorepo_sibling_dependency_is_staged_even_from_an_oci_repository(tmp_path: Path) -> None:
    make_chart(tmp_path / "common", "common", version="2.3.0")
    make_chart(tmp_path / "differently-named-dir", "cache")
    root = make_chart(
        tmp_path / "app",
        "app",
        dependencies=[
            {"name": "common", "version": "2.x.x", "repository": "oci://registry.example/charts"},
            {"name": "cache", "version": "1.x.x", "repository": "https://charts.example"},
        ],
    )

    rendering = render_default(root)

    assert names(rendering) == ["release-name-app", "release-name-cache", "release-name-common"]
    assert rendering.warnings == []


def test_sibling_with_another_major_version_is_used_and_noted(tmp_path: Path) -> None:
    make_chart(tmp_path / "common", "common", version="3.0.0")
    root = make_chart(
        tmp_path / "app",
        "app",
        dependencies=[{"name": "common", "version": "2.x.x", "repository": "oci://r/c"}],
    )

    rendering = render_default(root)

    assert "release-name-common" in names(rendering)
    assert rendering.warnings == [
        f"dependency common 2.x.x: the chart found offline at {tmp_path / 'common'} is version "
        "3.0.0, which does not satisfy 2.x.x; rendered with it instead"
    ]


@pytest.mark.parametrize(
    ("pinned", "sibling", "noted"),
    [
        ("^2.1.0", "2.0.5", True),  # caret ranges were not judged before: used silently
        ("~1.4.0", "1.5.0", True),
        (">=1.2.0, <1.5.0", "1.5.0", True),
        ("1.2.3", "1.2.4", True),
        ("^2.1.0", "2.9.0", False),
        ("~1.4.0", "1.4.7", False),
        ("1.x || >=3.0.0", "3.1.0", False),
    ],
)
def test_a_sibling_is_noted_exactly_when_it_misses_the_pinned_range(
    tmp_path: Path, pinned: str, sibling: str, noted: bool
) -> None:
    make_chart(tmp_path / "common", "common", version=sibling)
    root = make_chart(
        tmp_path / "app",
        "app",
        dependencies=[{"name": "common", "version": pinned, "repository": "oci://r/c"}],
    )

    warnings = render_default(root).warnings

    assert bool(warnings) == noted
    if noted:
        assert f"is version {sibling}, which does not satisfy {pinned}" in warnings[0]


def test_a_wrapper_of_an_upstream_chart_of_its_own_name_is_no_cycle(tmp_path: Path) -> None:
    root = make_chart(
        tmp_path / "trust-manager",
        "trust-manager",
        dependencies=[{"name": "trust-manager", "version": ">=0", "repository": "oci://r/c"}],
    )

    rendering = render_default(root)

    assert names(rendering) == ["release-name-trust-manager"]
    assert "trust-manager >=0 (oci://r/c)" in rendering.warnings[0]
    assert "not available offline" in rendering.warnings[0]


def test_a_library_chart_elsewhere_in_the_repository_is_staged(tmp_path: Path) -> None:
    """Monorepos keep shared charts in a folder of their own (common/) and publish them to
    their registry; offline, the repository's copy is the one to render with."""
    make_chart(tmp_path / "common" / "helpers", "helpers", version="0.3.0")
    root = make_chart(
        tmp_path / "system" / "dns",
        "dns",
        dependencies=[{"name": "helpers", "version": "0.3.0", "repository": "oci://r/c"}],
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    rendering = render_default(root)

    assert names(rendering) == ["release-name-dns", "release-name-helpers"]
    assert rendering.warnings == []


def test_helm2_chart_finds_requirements_yaml_dependencies_and_judges_their_version(
    tmp_path: Path,
) -> None:
    """apiVersion v1: dependencies live in requirements.yaml; a sibling of the wrong version
    is still staged (the best analysis offline) and named."""
    make_chart(tmp_path / "redis", "redis", version="10.5.0")
    root = make_chart(tmp_path / "app", "app")
    meta = yaml.safe_load((root / "Chart.yaml").read_text())
    (root / "Chart.yaml").write_text(yaml.safe_dump({**meta, "apiVersion": "v1"}))
    (root / "requirements.yaml").write_text(
        "dependencies:\n- name: redis\n  version: ~9.1.0\n"
        "  repository: https://kubernetes-charts.storage.googleapis.com\n"
    )

    rendering = render_default(root)

    assert names(rendering) == ["release-name-app", "release-name-redis"]
    assert rendering.warnings == [
        f"dependency redis ~9.1.0: the chart found offline at {tmp_path / 'redis'} is version "
        "10.5.0, which does not satisfy ~9.1.0; rendered with it instead"
    ]


def test_missing_dependency_is_a_warning_and_the_chart_renders_without_it(tmp_path: Path) -> None:
    root = make_chart(
        tmp_path / "app",
        "app",
        values="greeting: hi\nmonitoring:\n  enabled: false\n",
        dependencies=[
            {"name": "grafana", "version": "9.x", "repository": "https://grafana.example"},
            {
                "name": "prom",
                "version": "1.x",
                "repository": "https://p",
                "condition": "monitoring.enabled",
            },
        ],
    )

    rendering = render_default(root)

    assert names(rendering) == ["release-name-app"]
    assert len(rendering.warnings) == 1  # the disabled one is not worth a warning
    assert "grafana 9.x (https://grafana.example)" in rendering.warnings[0]
    assert "rendered without it" in rendering.warnings[0]


def test_a_disabled_subchart_does_not_render_and_later_scenarios_still_get_it(
    tmp_path: Path,
) -> None:
    root = make_chart(
        tmp_path / "app",
        "app",
        values="greeting: hi\ndb:\n  enabled: true\n",
        dependencies=[
            {"name": "db", "version": "1.x", "condition": "db.enabled"},
            {"name": "extra", "version": "1.x", "tags": ["optional"]},
        ],
    )
    make_chart(root / "charts" / "db", "db")
    make_chart(root / "charts" / "extra", "extra")
    chart = load_chart(root)

    def rendered(*sets: str) -> list[str]:
        return names(render(chart, Scenario("user", (), sets), engine=SDK))

    everything = ["release-name-app", "release-name-db", "release-name-extra"]
    assert rendered() == everything
    assert rendered("db.enabled=false") == ["release-name-app", "release-name-extra"]
    assert rendered("tags.optional=false") == ["release-name-app", "release-name-db"]
    assert rendered() == everything  # Helm prunes its loaded chart: we must not reuse it


def test_a_loaded_chart_renders_again_each_scenario_that_switches_on_the_same_subcharts(
    tmp_path: Path,
) -> None:
    """Helm drops a switched-off subchart from the loaded chart and folds the defaults of
    those left into the chart's values: a kept chart renders only scenarios with the same
    subcharts on, every other scenario renders from a fresh load (and gives what it gives)."""
    root = make_chart(
        tmp_path / "app", "app", values="greeting: hi\ndb:\n  enabled: true\nextra: {}\n",
        templates={"seen.yaml": SEEN, "configmap.yaml": CONFIGMAP % "app"},
        dependencies=[
            {"name": "common", "version": "1.x"},
            {"name": "db", "version": "1.x", "condition": "db.enabled"},
            {"name": "extra", "version": "1.x", "tags": ["optional"]},
        ],
    )
    make_chart(root / "charts" / "common", "common")
    make_chart(root / "charts" / "db", "db", values="greeting: hi\nport: 5432\n")
    make_chart(root / "charts" / "extra", "extra", values="greeting: hello\nport: 80\n")
    chart = load_chart(root)
    engine = SdkEngine()

    def loads(*sets: str) -> tuple[int, list[str], dict[str, str]]:
        before = render_module.stats.loads
        rendering = render(chart, Scenario("user", (), sets), engine=engine)
        (seen,) = [o.body["data"] for o in rendering.objects if o.name.endswith("seen")]
        return render_module.stats.loads - before, names(rendering), seen

    every = ["release-name-app", "release-name-common", "release-name-db",
             "release-name-extra", "release-name-seen"]
    no_db = [n for n in every if n != "release-name-db"]
    no_extra = [n for n in every if n != "release-name-extra"]
    both = {"db": "5432", "extra": "80"}
    assert loads() == (1, every, both)
    assert loads("greeting=hey") == (0, every, both), "the loaded chart again"
    assert loads("db.enabled=false") == (1, no_db, {**both, "db": "none"}), "db's defaults too"
    assert loads("db.enabled=false,greeting=x") == (0, no_db, {**both, "db": "none"})
    assert loads("greeting=hey") == (0, every, both), "the first one, still kept"
    # a switch the values do not show (a tag): seen as Helm renders, and rendered again
    assert loads("tags.optional=false") == (1, no_extra, {**both, "extra": "none"})
    assert loads() == (1, every, both)


SEEN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-seen
data:
  db: {{ .Values.db.port | default "none" | quote }}
  extra: {{ .Values.extra.port | default "none" | quote }}
"""


def test_a_subchart_switching_off_its_own_subchart_gets_the_chart_loaded_afresh(
    tmp_path: Path,
) -> None:
    """Helm drops a subchart's own switched-off subchart from the loaded chart without a
    trace in what it reports, so such a chart is loaded for every render."""
    root = make_chart(
        tmp_path / "app", "app",
        dependencies=[{"name": "db", "version": "1.x"}],
    )
    db = make_chart(
        root / "charts" / "db", "db", values="greeting: hi\nmetrics:\n  enabled: true\n",
        dependencies=[{"name": "metrics", "version": "1.x", "condition": "metrics.enabled"}],
    )
    make_chart(db / "charts" / "metrics", "metrics")
    chart = load_chart(root)
    engine = SdkEngine()

    def rendered(*sets: str) -> list[str]:
        return names(render(chart, Scenario("user", (), sets), engine=engine))

    everything = ["release-name-app", "release-name-db", "release-name-metrics"]
    assert rendered() == everything
    assert rendered("db.metrics.enabled=false") == everything[:2]
    assert rendered() == everything


# --- a kept chart renders as a fresh load --------------------------------------------------------


def kept_and_fresh(chart: Any, *runs: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """Each scenario (its --set strings) rendered in turn by one engine that keeps loaded
    charts, and by a fresh engine: (kept, fresh) per scenario, as object names or the error."""

    def outcome(sets: tuple[str, ...], engine: SdkEngine) -> Any:
        try:
            rendering = render(chart, Scenario("user", (), sets), engine=engine)
        except TargetError as err:
            return err.reason
        return sorted((o.name, str(dict(o.body).get("data"))) for o in rendering.objects)

    kept = SdkEngine()
    return [(outcome(sets, kept), outcome(sets, SdkEngine())) for sets in runs]


def test_a_kept_chart_does_not_choose_subcharts_by_the_values_it_imported(
    tmp_path: Path,
) -> None:
    """Helm folds `import-values` into the loaded chart's values after choosing its
    subcharts, so a kept chart would choose by values a fresh load does not have yet: a
    subchart the user switched off (its condition's second path, a tag) rendered anyway,
    and what `.Chart.Dependencies` says of the imports changed."""
    root = make_chart(
        tmp_path / "app", "app",
        templates={"deps.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deps\n"
                                "data:\n  d: {{ toJson .Chart.Dependencies | quote }}\n"},
        dependencies=[
            {"name": "exp", "version": "1.x", "import-values": ["data"]},
            {"name": "x", "version": "1.x", "condition": "feat.use,x.enabled"},
            {"name": "y", "version": "1.x", "tags": ["t1", "t2"]},
        ],
    )
    make_chart(root / "charts" / "exp", "exp",
               values="exports:\n  data:\n    feat:\n      use: true\n    tags:\n      t2: true\n")
    make_chart(root / "charts" / "x", "x")
    make_chart(root / "charts" / "y", "y")

    runs = kept_and_fresh(
        load_chart(root), ("x.enabled=true",), ("x.enabled=false", "tags.t1=false")
    )

    assert [kept == fresh for kept, fresh in runs] == [True, True]
    assert "release-name-x" not in {name for name, _ in runs[1][1]}


def test_a_kept_chart_that_dropped_a_subchart_does_not_choose_by_that_subchart_s_defaults(
    tmp_path: Path,
) -> None:
    """A condition may read another subchart's values: a fresh load reads that subchart's
    defaults, a kept chart that dropped it no longer holds them. y (condition
    `x.feature`, false in x's defaults) must not render when x is switched off."""
    root = make_chart(
        tmp_path / "app", "app",
        dependencies=[
            {"name": "x", "version": "1.x", "condition": "x.enabled"},
            {"name": "y", "version": "1.x", "condition": "x.feature"},
        ],
    )
    make_chart(root / "charts" / "x", "x", values="greeting: hi\nfeature: false\n")
    make_chart(root / "charts" / "y", "y")

    runs = kept_and_fresh(
        load_chart(root), ("x.enabled=false", "x.feature=true"), ("x.enabled=false",)
    )

    assert [kept == fresh for kept, fresh in runs] == [True, True]
    assert [name for name, _ in runs[1][0]] == ["release-name-app"]


def test_a_render_failing_on_a_kept_chart_is_done_again_from_a_fresh_load(
    tmp_path: Path,
) -> None:
    """A kept chart holds the defaults of a subchart Helm drops during the render (a tag):
    a template reading them fails on the kept chart where a fresh load renders. The user
    must see the fresh load's outcome, not a failure of chartfix's making."""
    root = make_chart(
        tmp_path / "app", "app",
        templates={
            "configmap.yaml": CONFIGMAP % "app",
            "port.yaml": '{{- if .Values.x.port }}{{ include "x.port" . }}{{ end }}\n',
        },
        values="greeting: hi\nx: {}\n",
        dependencies=[{"name": "x", "version": "1.x", "tags": ["t"]}],
    )
    make_chart(
        root / "charts" / "x", "x", values="greeting: hi\nport: 80\n",
        templates={
            "_port.tpl": '{{ define "x.port" }}{{ end }}', "configmap.yaml": CONFIGMAP % "x"
        },
    )

    runs = kept_and_fresh(load_chart(root), (), ("tags.t=false",))

    assert [kept == fresh for kept, fresh in runs] == [True, True]
    assert [name for name, _ in runs[1][0]] == ["release-name-app"]


def app_x_s(tmp_path: Path, condition: str) -> Path:
    """Chart app with a subchart x switched by `condition`, x with a subchart s of its own."""
    root = make_chart(
        tmp_path / "app", "app",
        dependencies=[{"name": "x", "version": "1.x", "condition": condition}],
    )
    x = make_chart(root / "charts" / "x", "x", dependencies=[{"name": "s", "version": "1.x"}])
    make_chart(x / "charts" / "s", "s")
    return root


def test_a_null_for_a_subchart_s_values_fails_on_a_kept_chart_as_on_a_fresh_load(
    tmp_path: Path,
) -> None:
    """`--set x=null` (or `x.s=null` for x's own subchart s) makes Helm refuse the chart
    ("type mismatch on x"); a kept chart holds x's defaults in its values and rendered it,
    so the user saw a rendering `helm template` refuses."""
    root = app_x_s(tmp_path, "x.enabled")

    runs = kept_and_fresh(load_chart(root), (), ("x=null",), ("x.s=null",), ())

    assert [kept == fresh for kept, fresh in runs] == [True] * 4
    assert "type mismatch on x" in runs[1][0]
    assert "type mismatch on s" in runs[2][0]


def test_a_value_that_is_no_map_for_a_switched_off_subchart_fails_on_a_kept_chart_too(
    tmp_path: Path,
) -> None:
    """Helm checks the values of every subchart before dropping those switched off:
    `x: 5` (or `x.s: 5`, s being x's subchart) with x switched off is refused ("type
    mismatch on x"); a kept chart that had already dropped x rendered it."""
    root = app_x_s(tmp_path, "use.x")

    runs = kept_and_fresh(
        load_chart(root), ("use.x=false",), ("use.x=false", "x=5"), ("use.x=false", "x.s=5")
    )

    assert [kept == fresh for kept, fresh in runs] == [True] * 3
    assert "type mismatch on x" in runs[1][0]
    assert "type mismatch on s" in runs[2][0]


def test_a_kept_chart_shows_helm_s_warnings_about_a_switched_off_subchart_s_values(
    tmp_path: Path,
) -> None:
    """Helm checks the values given for a subchart against its defaults before dropping it
    switched off, and warns of a conflict ("skipped value for app.x.p: Not a table."); a
    kept chart that had already dropped x did not, and the user lost the warning."""
    root = make_chart(
        tmp_path / "app", "app",
        dependencies=[{"name": "x", "version": "1.x", "condition": "x.enabled"}],
    )
    make_chart(root / "charts" / "x", "x", values="p: 5\nglobal:\n  q: 5\n")
    chart = load_chart(root)
    engine = SdkEngine()

    def logged(sets: tuple[str, ...], engine: SdkEngine) -> tuple[str, ...]:
        return render(chart, Scenario("user", (), sets), engine=engine).engine_log

    for sets in [("x.enabled=false",), ("x.enabled=false", "x.p.a=1"),
                 ("x.enabled=false", "global.q.a=1")]:
        assert logged(sets, engine) == logged(sets, SdkEngine()), sets
    assert logged(("x.enabled=false", "x.p.a=1"), engine) == (
        "helm: warning: skipped value for app.x.p: Not a table.",
    )


def test_a_kept_chart_reads_a_condition_as_helm_does(tmp_path: Path) -> None:
    """Helm trims a condition as a whole, not each path (`x.enabled ,y.use` reads `y.use`
    only), and takes a v2 chart's dependencies from requirements.yaml when it has them: a
    kept chart that dropped x must not render a scenario that switches x on that way."""
    spaced = make_chart(
        tmp_path / "spaced", "spaced",
        dependencies=[{"name": "x", "version": "1.x", "condition": "x.enabled ,y.use"}],
    )
    make_chart(spaced / "charts" / "x", "x")
    required = make_chart(
        tmp_path / "required", "required",
        dependencies=[{"name": "x", "version": "1.x", "condition": "x.enabled"}],
    )
    (required / "requirements.yaml").write_text(
        "dependencies:\n- name: x\n  version: 1.x\n  condition: y.use\n"
    )
    make_chart(required / "charts" / "x", "x")

    for root in (spaced, required):
        runs = kept_and_fresh(
            load_chart(root), ("y.use=false",), ("x.enabled=false", "y.use=true")
        )

        assert [kept == fresh for kept, fresh in runs] == [True, True]
        assert "release-name-x" in {name for name, _ in runs[1][0]}


def test_a_kept_chart_takes_a_subchart_as_switched_off_only_by_values_helm_reads(
    tmp_path: Path,
) -> None:
    """Helm reads `x.global.use` after copying the chart's globals over x's (the chart's
    `global.use` wins), and never reads a values.yaml that .helmignore leaves out: x is not
    switched off by `x.global.use=false`, nor by that values.yaml, and must render."""
    globals_ = make_chart(
        tmp_path / "globals", "globals", values="global:\n  use: true\n",
        dependencies=[{"name": "x", "version": "1.x", "condition": "x.global.use"}],
    )
    make_chart(globals_ / "charts" / "x", "x")
    ignored = make_chart(
        tmp_path / "ignored", "ignored", values="x:\n  enabled: false\n",
        dependencies=[{"name": "x", "version": "1.x", "condition": "x.enabled"}],
    )
    (ignored / ".helmignore").write_text("values.yaml\n")
    make_chart(ignored / "charts" / "x", "x")

    for root, first, then in (
        (globals_, ("global.use=false",), ("x.global.use=false",)),
        (ignored, ("x.enabled=false",), ()),
    ):
        runs = kept_and_fresh(load_chart(root), first, then)

        assert [kept == fresh for kept, fresh in runs] == [True, True]
        assert "release-name-x" in {name for name, _ in runs[1][0]}


def test_a_kept_chart_renders_aliased_subcharts_it_dropped_when_switched_on_again(
    tmp_path: Path,
) -> None:
    """Helm names an aliased subchart by its alias only when it renders, so the subcharts a
    loaded chart holds before its first render do not show which aliased one it dropped: a
    chart using `common` as a, as b and as itself lost `a` for every later scenario."""
    root = make_chart(
        tmp_path / "app", "app", values="greeting: hi\na:\n  enabled: true\n",
        dependencies=[
            {"name": "common", "version": "1.x", "alias": "a", "condition": "a.enabled"},
            {"name": "common", "version": "1.x", "alias": "b"},
            {"name": "common", "version": "1.x"},
        ],
    )
    make_chart(
        root / "charts" / "common", "common",
        templates={"configmap.yaml": CONFIGMAP.replace("%s", "{{ .Chart.Name }}")},
    )

    runs = kept_and_fresh(load_chart(root), (), ("a.enabled=false",), ())

    assert [kept == fresh for kept, fresh in runs] == [True] * 3
    assert [name for name, _ in runs[2][0]] == [
        "release-name-a", "release-name-app", "release-name-b", "release-name-common"
    ]


# --- errors --------------------------------------------------------------------------------------


def test_render_failure_names_the_template_in_one_line(tmp_path: Path) -> None:
    root = make_chart(
        tmp_path / "app",
        "app",
        {"ok.yaml": CONFIGMAP % "ok", "broken.yaml": "a: {{ .Values.missing.deeper }}\n"},
    )

    with pytest.raises(TargetError) as caught:
        render_default(root)

    assert caught.value.path == str(root / "templates" / "broken.yaml")
    assert "nil pointer" in caught.value.reason
    assert "\n" not in str(caught.value)


def test_failure_in_a_subchart_names_its_folder(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app", dependencies=[{"name": "db", "version": "1.x"}])
    make_chart(root / "charts" / "db-folder", "db", {"bad.yaml": '{{ fail "no db password" }}\n'})

    with pytest.raises(TargetError) as caught:
        render_default(root)

    assert caught.value.path == str(root / "charts" / "db-folder" / "templates" / "bad.yaml")
    assert "no db password" in caught.value.reason


def test_invalid_rendered_yaml_names_the_template(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "app", "app", {"bad.yaml": "a: b\n  c: d: e\n"})

    with pytest.raises(TargetError) as caught:
        render_default(root)

    assert caught.value.path == str(root / "templates" / "bad.yaml")
    assert "invalid YAML" in caught.value.reason


def test_bad_set_string_and_values_file_are_chart_errors(tmp_path: Path) -> None:
    chart = load_chart(make_chart(tmp_path / "app", "app"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1\n")

    with pytest.raises(TargetError) as caught:
        render(chart, Scenario("user", (broken,)), engine=SDK)
    assert caught.value.path == str(broken)


# --- the helm binary's output --------------------------------------------------------------------


def test_helm_template_output_splits_by_source_comment() -> None:
    stream = (
        "---\n# Source: app/templates/a.yaml\nkind: A\n"
        "---\n# Source: app/charts/db/templates/b.yaml\nkind: B\n"
        "---\n# Source: app/templates/a.yaml\nkind: A2\n"
    )

    assert split_by_source(stream) == {
        "app/templates/a.yaml": "kind: A\n---\nkind: A2\n",
        "app/charts/db/templates/b.yaml": "kind: B\n",
    }


def test_of_two_charts_of_the_name_in_the_repository_the_fitting_version_is_staged(
    tmp_path: Path,
) -> None:
    make_chart(tmp_path / "archive" / "helpers", "helpers", version="0.1.0")
    make_chart(tmp_path / "common" / "helpers", "helpers", version="2.4.0")
    root = make_chart(
        tmp_path / "system" / "dns",
        "dns",
        dependencies=[{"name": "helpers", "version": "^2.0.0", "repository": "oci://r/c"}],
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    rendering = render_default(root)

    assert "release-name-helpers" in names(rendering)
    assert rendering.warnings == []  # common/helpers 2.4.0, not archive/helpers 0.1.0


NOTES_OF_MISSING = 'Visit {{ template "search.fullname" . }} to start.\n'


def test_notes_naming_a_dependency_missing_offline_do_not_stop_the_chart(
    tmp_path: Path,
) -> None:
    root = make_chart(
        tmp_path / "stack",
        "stack",
        dependencies=[{"name": "search", "version": "1.x", "repository": "https://example.invalid"}],
    )
    (root / "templates" / "NOTES.txt").write_text(NOTES_OF_MISSING)
    sub = make_chart(root / "charts" / "ui", "ui")
    (sub / "templates" / "NOTES.txt").write_text(NOTES_OF_MISSING)

    rendering = render_default(root)

    assert names(rendering) == ["release-name-stack", "release-name-ui"]
    assert "dependency search 1.x" in rendering.warnings[0]


def test_a_packaged_subcharts_notes_are_left_out_too(tmp_path: Path) -> None:
    root = make_chart(tmp_path / "stack", "stack")
    sub = make_chart(tmp_path / "ui", "ui")
    (sub / "templates" / "NOTES.txt").write_text(NOTES_OF_MISSING)
    (root / "charts").mkdir()
    subprocess.run(
        ["tar", "czf", str(root / "charts" / "ui-1.0.0.tgz"), "-C", str(tmp_path), "ui"],
        check=True,
    )

    assert names(render_default(root)) == ["release-name-stack", "release-name-ui"]


def test_a_chart_that_errors_carries_its_offline_notes(tmp_path: Path) -> None:
    root = make_chart(
        tmp_path / "stack",
        "stack",
        templates={
            "uses.yaml": 'kind: ConfigMap\nmetadata: {name: {{ template "search.fullname" . }}}\n'
        },
        dependencies=[{"name": "search", "version": "1.x", "repository": "https://example.invalid"}],
    )

    with pytest.raises(TargetError) as caught:
        render_default(root)

    assert 'template "search.fullname" not defined' in caught.value.reason
    assert len(caught.value.notes) == 1
    assert "dependency search 1.x" in caught.value.notes[0]
    assert "not available offline" in caught.value.notes[0]


def test_a_dependency_missing_under_several_aliases_is_one_note_naming_them(
    tmp_path: Path,
) -> None:
    cache = {"name": "cache", "version": "7.x.x", "repository": "oci://r/c"}
    root = make_chart(
        tmp_path / "mimir",
        "mimir",
        dependencies=[
            {**cache, "alias": "cacheindex"},
            {**cache, "alias": "cachechunks", "condition": "cachechunks.enabled"},
            {**cache, "alias": "cachefrontend"},
            {"name": "store", "version": "1.x", "repository": "oci://r/c"},
        ],
        values="greeting: hello\ncachechunks:\n  enabled: false\n",
    )

    warnings = render_default(root).warnings

    assert len(warnings) == 2
    assert warnings[0].startswith(
        "dependency cache 7.x.x (oci://r/c) (as cacheindex, cachefrontend) of "
    )
    assert "is not available offline; rendered without it (to render with it: put it in " \
        "the chart's charts/ as a folder or .tgz (`helm dependency build`), or keep chart " \
        "cache as a folder in the same git repository" in warnings[0]
    assert warnings[1].startswith("dependency store 1.x (oci://r/c) of ")
