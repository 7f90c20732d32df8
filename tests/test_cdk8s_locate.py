"""Where plain Python carries a cdk8s app's labels, and how chartfix follows them.

The whole apps (module constants, helpers three calls deep, JSON patches, arguments), each
fixed by a recipe, are literal before/after pairs in test_cdk8s_edit.py. Here: smaller shapes
located without running an app, the shapes that cannot be followed, each refused in one line
that names the construct, and a property: an edit changes nothing outside the expression it
edits.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartfix.errors import TargetError
from chartfix.sources.cdk8s.edit import LabelEdit, apply_label_edits
from chartfix.sources.cdk8s.locate import AppFiles, LabelSite, NotLocated, locate_labels
from chartfix.sources.cdk8s.synth import Construction, Frame


def copy_app(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# --- locating without running the app: refusals and smaller shapes ------------------------------


def locate(
    tmp_path: Path, files: dict[str, str], line: int, construct_id: str, path: str
) -> tuple[AppFiles, LabelSite]:
    """The label site of `path` of the object built on `line` of main.py (one frame)."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    sources = AppFiles(tmp_path)
    origin = Construction(construct_id, f"c/{construct_id}", (Frame("main.py", line, "<module>"),))
    return sources, locate_labels(sources, origin, path)


def edited(sources: AppFiles, site: LabelSite) -> str:
    edit = LabelEdit(site, "component", "server")
    return apply_label_edits(sources.file(site.path), [edit]).decode()


def test_a_constant_used_by_two_objects_is_refused_naming_it(tmp_path: Path) -> None:
    main_py = """\
SELECTOR = LabelSelector(match_labels=LABELS)
KubeDeployment(chart, "server", spec=DeploymentSpec(selector=SELECTOR))
KubeDeployment(chart, "worker", spec=DeploymentSpec(selector=SELECTOR))
"""
    with pytest.raises(NotLocated) as caught:
        locate(tmp_path, {"main.py": main_py}, 2, "server", "spec.selector.matchLabels")
    assert str(caught.value) == (
        "main.py:1: cannot edit `matchLabels` of c/server: `SELECTOR` (main.py:1) is used 2 "
        "times; a label added inside it would reach them all"
    )


def test_a_constant_imported_by_two_modules_counts_both_uses(tmp_path: Path) -> None:
    files = {
        "common.py": "META = ObjectMeta(labels=LABELS)\n",
        "other.py": "from common import META\n\nJOB_META = META\n",
        "main.py": (
            "import common\n"
            'KubeDeployment(chart, "server", spec=DeploymentSpec(template=PodTemplateSpec('
            "metadata=common.META)))\n"
        ),
    }
    with pytest.raises(NotLocated, match=r"`META` \(common.py:1\) is used 2 times"):
        locate(tmp_path, files, 2, "server", "spec.template.metadata.labels")


def test_metadata_labels_set_by_a_json_patch(tmp_path: Path) -> None:
    main_py = """\
pod = ApiObject(chart, "smoke", api_version="v1", kind="Pod")
pod.add_json_patch(JsonPatch.add("/metadata/labels", {"app": "relay"}))
"""
    sources, site = locate(tmp_path, {"main.py": main_py}, 1, "smoke", "metadata.labels")
    assert site.how == "insert" and site.line == 2
    assert edited(sources, site) == """\
pod = ApiObject(chart, "smoke", api_version="v1", kind="Pod")
pod.add_json_patch(JsonPatch.add("/metadata/labels", {"app": "relay", "component": "server"}))
"""


def test_a_method_building_the_spec_is_followed_to_its_argument(tmp_path: Path) -> None:
    main_py = """\
class Shop(Chart):
    def spec_for(self, labels, *, replicas=1):
        return DeploymentSpec(replicas=replicas, selector=LabelSelector(match_labels=labels))

    def build(self):
        KubeDeployment(
            self, "server", spec=self.spec_for({'app': 'shop'}, replicas=2)
        )
"""
    sources, site = locate(tmp_path, {"main.py": main_py}, 6, "server", "spec.selector.matchLabels")
    assert edited(sources, site) == """\
class Shop(Chart):
    def spec_for(self, labels, *, replicas=1):
        return DeploymentSpec(replicas=replicas, selector=LabelSelector(match_labels=labels))

    def build(self):
        KubeDeployment(
            self, "server", spec=self.spec_for({'app': 'shop', 'component': 'server'}, replicas=2)
        )
"""


@pytest.mark.parametrize(
    ("main_py", "message"),
    [
        (
            "def make_spec(labels):\n"
            "    if labels:\n"
            "        return {'selector': {'matchLabels': labels}}\n"
            "    return {}\n"
            "KubeDeployment(chart, 'server', spec=make_spec(LABELS))\n",
            "main.py:1: cannot follow `selector` of c/server: `make_spec` returns from 2 "
            "places, not one",
        ),
        (
            "def make_spec(name, labels):\n"
            "    return {'selector': {'matchLabels': labels}}\n"
            "KubeDeployment(chart, 'server', spec=make_spec(*ARGS))\n",
            "main.py:3: cannot edit `matchLabels` of c/server: `labels` may come from the `*` "
            "argument",
        ),
    ],
)
def test_a_shape_that_cannot_be_followed_says_why_in_one_line(
    tmp_path: Path, main_py: str, message: str
) -> None:
    with pytest.raises(NotLocated) as caught:
        locate(tmp_path, {"main.py": main_py}, main_py.count("\n"), "server",
               "spec.selector.matchLabels")
    assert str(caught.value) == message


def test_a_default_the_call_cannot_name_is_refused(tmp_path: Path) -> None:
    files = {
        "lib.py": (
            "BASE = {'app': 'mail'}\n"
            "def deployment(scope, id, labels=BASE):\n"
            "    ApiObject(scope, id, spec={'selector': {'matchLabels': labels}})\n"
        ),
        "main.py": "from lib import deployment\ndeployment(chart, 'server')\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    stack = (Frame("lib.py", 3, "deployment"), Frame("main.py", 2, "<module>"))
    with pytest.raises(NotLocated) as caught:
        locate_labels(AppFiles(tmp_path), Construction("server", "c/server", stack),
                      "spec.selector.matchLabels")
    assert str(caught.value) == (
        "main.py:2: cannot edit `matchLabels` of c/server: `labels` takes its default `BASE`, "
        "which cannot be named at the call; pass `labels=` there by hand"
    )


def test_a_default_literal_is_passed_at_a_multi_line_call_in_its_layout(tmp_path: Path) -> None:
    main_py = """\
def deployment(scope, id, labels={'app': 'mail', 'tier': 'web'}):
    ApiObject(scope, id, spec={'selector': {'matchLabels': labels}})
deployment(
    chart,
    'server',  # the front
)
"""
    (tmp_path / "main.py").write_text(main_py)
    sources = AppFiles(tmp_path)
    stack = (Frame("main.py", 2, "deployment"), Frame("main.py", 3, "<module>"))
    construction = Construction("server", "c/server", stack)
    site = locate_labels(sources, construction, "spec.selector.matchLabels")
    assert site.how == "pass"
    assert edited(sources, site) == """\
def deployment(scope, id, labels={'app': 'mail', 'tier': 'web'}):
    ApiObject(scope, id, spec={'selector': {'matchLabels': labels}})
deployment(
    chart,
    'server',  # the front
    labels={'app': 'mail', 'component': 'server', 'tier': 'web'},
)
"""


def test_synthesized_yaml_is_read_with_the_bounded_loader(tmp_path: Path) -> None:
    """An app is user code: what it writes is read like rendered Helm output, aliases bounded."""
    from chartfix.sources.cdk8s.synth import synth

    app = copy_app(tmp_path, "cdk8s-json-patch")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    main_py = app / "main.py"
    main_py.write_text(
        main_py.read_text()
        + f"import os, pathlib\npathlib.Path(os.environ['CDK8S_OUTDIR'], 'z.yaml')"
        f".write_text({bomb!r})\n"
    )
    with pytest.raises(TargetError) as caught:
        synth(app)
    assert re.search(r"main.py: synthesized z.yaml: .*alias", str(caught.value)), caught.value


# --- property: an edit changes only the expression it edits ------------------------------------

KEYS = st.sampled_from(["app", "release", "tier", "app.kubernetes.io/name", "x-y"])
VALUES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)
COMMENTS = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12
).map(lambda t: "# " + t.replace("\r", "").replace("\n", ""))


def string(text: str, quote: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return quote + escaped + quote


@st.composite
def label_maps(draw: st.DrawFn) -> tuple[str, dict[str, str] | None]:
    """Python text of a label map at a use site, and its value when it is a literal."""
    shape = draw(st.sampled_from(["literal", "stacked", "name", "call"]))
    if shape == "name":
        return draw(st.sampled_from(["LABELS", "common.LABELS"])), None
    if shape == "call":
        return 'labels_for("shop")', None
    entries = draw(st.dictionaries(KEYS, VALUES, min_size=1, max_size=4))
    quote = draw(st.sampled_from(["'", '"']))
    items = [f"{string(k, quote)}: {string(v, quote)}" for k, v in entries.items()]
    if shape == "literal":
        trailing = draw(st.booleans())
        return "{" + ", ".join(items) + ("," if trailing else "") + "}", entries
    lines = []
    for item in items:
        comment = draw(st.one_of(st.just(""), COMMENTS))
        lines.append(f"        {item},{'  ' + comment if comment else ''}\n")
    return "{\n" + "".join(lines) + "    }", entries


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    label_maps(),
    st.lists(COMMENTS, max_size=3),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_an_edit_keeps_every_byte_outside_the_edited_expression(
    tmp_path: Path,
    label_map: tuple[str, dict[str, str] | None],
    comments: list[str],
    newline: str,
    final_newline: bool,
) -> None:
    text, value = label_map
    source = (
        "\n".join(comments) + ("\n" if comments else "")
        + "def build(chart):\n"
        + f"    KubeService(chart, 'web', spec=ServiceSpec(selector={text}))  # front\n"
        + "    return chart\n"
    )
    if not final_newline:
        source = source[:-1]
    data = source.replace("\n", newline).encode()
    (tmp_path / "main.py").write_bytes(data)
    sources = AppFiles(tmp_path)
    line = len(comments) + 2
    site = locate_labels(
        sources, Construction("web", "c/web", (Frame("main.py", line, "build"),)), "spec.selector"
    )
    after = apply_label_edits(sources.file("main.py"), [LabelEdit(site, "component", "server")])

    start = data.index(b"selector=") + len(b"selector=")
    end = start + len(text.replace("\n", newline).encode())
    assert after[:start] == data[:start]
    tail = data[end:]
    assert after.endswith(tail)
    middle = after[start : len(after) - len(tail)].decode()
    compile(after, "main.py", "exec")
    if value is not None:
        assert ast.literal_eval(middle.replace(newline, "\n")) == {**value, "component": "server"}
    else:
        assert re.fullmatch(
            r"\{\s*\*\*" + re.escape(text) + r",\s*[\"']component[\"']: [\"']server[\"'],?\s*\}",
            middle,
        ), middle


def test_a_stray_unparseable_script_does_not_stop_the_use_count(tmp_path: Path) -> None:
    main_py = """\
LABELS = {"app": "shop"}
SPEC = {"selector": LABELS}
KubeService(chart, "web", spec=SPEC)
"""
    (tmp_path / "old_script.py").write_text("print 'python 2'\n")
    sources, site = locate(tmp_path, {"main.py": main_py}, 3, "web", "spec.selector")
    assert edited(sources, site) == """\
LABELS = {"app": "shop"}
SPEC = {"selector": {**LABELS, "component": "server"}}
KubeService(chart, "web", spec=SPEC)
"""
