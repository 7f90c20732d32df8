"""Properties of the plain-YAML label editor over generated manifests.

Manifests are built from the pieces real ones are made of: block and flow label maps,
quoted keys and values, comments between entries and after values, anchors and aliases,
several documents (`---`, `...`), CRLF or LF, a BOM, a final newline or not. For every
generated file and requested label the properties are: the edit is one splice, every byte
outside it is unchanged, the file still parses, and the parsed documents differ from the old
ones by exactly the requested label (or the editor refused, with a reason, an aliased map
that another place shares).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chartfix.sources.helm.template.edit import NotEditable, apply_edits
from chartfix.sources.yamledit import (
    LabelRequest,
    YamlText,
    label_edits,
    remove_entry,
    set_plain,
)

NEW_KEY = "app.kubernetes.io/component"

UNICODE = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufeff\ufffe\uffff\u2028\u2029\x85",
    ),
    max_size=8,
)
PLAIN = st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True)


def dq(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sq(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def scalar(draw: st.DrawFn) -> str:
    style = draw(st.sampled_from(["plain", "double", "single"]))
    if style == "plain":
        return draw(PLAIN)
    text = draw(UNICODE)
    return dq(text) if style == "double" else sq(text)


@st.composite
def label_map(draw: st.DrawFn, indent: int, anchor: str | None) -> tuple[str, list[str]]:
    """(the text after `labels:` up to and including its last line's end, written keys)."""
    keys = draw(st.lists(PLAIN, min_size=1, max_size=4, unique=True))
    assume(NEW_KEY not in keys)
    keys = sorted(keys) if draw(st.booleans()) else keys
    quote_keys = draw(st.booleans())
    written = [dq(k) if quote_keys and draw(st.booleans()) else k for k in keys]
    values = [draw(scalar()) for _ in keys]
    tag = f" &{anchor}" if anchor else ""
    if draw(st.booleans()):
        items = ", ".join(f"{k}: {v}" for k, v in zip(written, values, strict=True))
        comment = "  # flow" if draw(st.booleans()) else ""
        return f"{tag} {{{items}}}{comment}\n", keys
    lines = [f"{tag}" + (" # labels" if draw(st.booleans()) else "")]
    for k, v in zip(written, values, strict=True):
        if draw(st.booleans()):
            lines.append(" " * indent + "# " + draw(UNICODE).replace("\n", " "))
        trailing = ("  # " + draw(UNICODE)) if draw(st.booleans()) else ""
        lines.append(" " * indent + f"{k}: {v}{trailing}")
    if draw(st.booleans()):
        lines.append("")  # a blank line after the map
    if draw(st.booleans()):
        lines.append(" " * max(0, indent - 2) + "# after the labels")
    return "\n".join(lines) + "\n", keys


@st.composite
def manifest(draw: st.DrawFn) -> tuple[str, int, str, bool]:
    """(file text with LF, document index of the Deployment, the label path, shared)."""
    step = draw(st.sampled_from([2, 4]))
    share = draw(st.booleans())
    docs = []
    if draw(st.booleans()):
        docs.append("# a config\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                    "data:\n  k: v\n")
    lab, _ = draw(label_map(3 * step, "sel" if share else None))
    pad1, pad2, pad3 = " " * step, " " * 2 * step, " " * 3 * step
    pod_labels = (" *sel\n" if share else draw(label_map(4 * step, None))[0])
    selector = f"{pad1}selector:\n{pad2}matchLabels:{lab}"
    template = (
        f"{pad1}template:\n{pad2}metadata:\n{pad3}labels:{pod_labels}"
        f"{pad2}spec:\n{pad3}containers:\n{pad3}- name: c\n{pad3}  image: \"nginx:1\"\n"
    )
    # the selector last (its anchor must come before the alias): its labels may end the file,
    # which may have no final newline
    spec = template + selector if not share and draw(st.booleans()) else selector + template
    deployment = f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n{pad1}name: web\nspec:\n{spec}"
    index = len(docs)
    docs.append(deployment)
    if draw(st.booleans()):
        docs.append("kind: Service\napiVersion: v1\nmetadata: {name: web}\n"
                    "spec:\n  selector: {app: x}\n")
    separator = draw(st.sampled_from(["---\n", "--- # next\n", "...\n---\n"]))
    text = separator.join(docs)
    if draw(st.booleans()):
        text = "---\n" + text
    path = draw(st.sampled_from(
        ["spec.selector.matchLabels", "spec.template.metadata.labels"]
    ))
    return text, index, path, share


@st.composite
def encoded(draw: st.DrawFn) -> tuple[str, int, str, bool]:
    text, index, path, share = draw(manifest())
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text, index, path, share


def parsed(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text.lstrip("\ufeff")) if d is not None]


def at(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc[part]
    return doc


def spans(old: str, new: str) -> tuple[int, int]:
    """Length of the common prefix and suffix of two texts."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    return prefix, suffix


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encoded(), st.sampled_from(["server", "true", "1.0", "a b"]))
def test_one_label_changes_and_nothing_else(case: tuple[str, int, str, bool], value: str) -> None:
    text, index, path, share = case
    source = YamlText(text, "deploy.yaml")
    try:
        edits = label_edits(source, [LabelRequest(index, path, NEW_KEY, value)])
    except NotEditable as err:
        assert share, f"refused without sharing: {err}"
        assert "alias" in str(err)
        return
    assert not share, "a shared map was edited for one of its two places"
    assert len(edits) == 1
    new = apply_edits(text, edits)
    edit = edits[0]
    assert new[: edit.start] == text[: edit.start]
    assert new[edit.start + len(edit.text):] == text[edit.end:]
    assert edit.end - edit.start == 0  # an insertion: no byte of the old text is lost
    before, after = parsed(text), parsed(new)
    expected = copy.deepcopy(before)
    at(expected[index], path)[NEW_KEY] = value
    assert after == expected
    # the new line keeps the file's line endings and its final newline (or lack of it)
    if "\r\n" in text:
        assert new.count("\n") == new.count("\r\n")
    else:
        assert "\r" not in new
    assert new.endswith("\n") == text.endswith("\n")
    assert new.startswith("\ufeff") == text.startswith("\ufeff")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encoded())
def test_shared_map_takes_one_edit_for_both_places(case: tuple[str, int, str, bool]) -> None:
    text, index, _, share = case
    assume(share)
    source = YamlText(text, "deploy.yaml")
    paths = ["spec.selector.matchLabels", "spec.template.metadata.labels"]
    edits = label_edits(source, [LabelRequest(index, p, NEW_KEY, "server") for p in paths])
    assert len(edits) == 1
    after = parsed(apply_edits(text, edits))[index]
    for path in paths:
        assert at(after, path)[NEW_KEY] == "server"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encoded())
def test_removing_an_entry_keeps_the_rest(case: tuple[str, int, str, bool]) -> None:
    text, index, path, _ = case
    source = YamlText(text, "deploy.yaml")
    site = source.site(index, path)
    assert site is not None
    assume(len(site.entries) > 1)
    key = site.entries[-1].key
    new = apply_edits(text, [remove_entry(source, site, key)])
    before, after = parsed(text), parsed(new)
    del at(before[index], path)[key]
    assert after == before
    prefix, suffix = spans(text, new)
    assert prefix + suffix >= len(new)  # one contiguous cut


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec: {}\n",
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  selector:\n    matchLabels:\n"
            "      component: server\n  template:\n    spec: {}\n",
        ),
        (
            "kind: Service\nspec: {ports: [{port: 80}]}\n",
            "kind: Service\nspec: {ports: [{port: 80}], selector: {matchLabels: "
            "{component: server}}}\n",
        ),
    ],
)
def test_a_missing_mapping_is_written_in_its_parents_style(text: str, expected: str) -> None:
    source = YamlText(text)
    edits = label_edits(source, [LabelRequest(0, "spec.selector.matchLabels", "component",
                                              "server")])
    assert apply_edits(text, edits) == expected


def test_an_existing_value_is_replaced_in_its_own_quoting() -> None:
    text = "metadata:\n  labels:\n    app: 'x'   # keep\n    tier: web\n"
    source = YamlText(text)
    edits = label_edits(source, [LabelRequest(0, "metadata.labels", "app", "y")])
    assert apply_edits(text, edits) == (
        "metadata:\n  labels:\n    app: 'y'   # keep\n    tier: web\n"
    )
    assert label_edits(source, [LabelRequest(0, "metadata.labels", "tier", "web")]) == []


def test_an_alias_shared_with_a_place_not_asked_is_refused() -> None:
    text = (
        "kind: Deployment\nmetadata:\n  labels: &l {app: x}\nspec:\n  selector:\n"
        "    matchLabels: *l\n"
    )
    with pytest.raises(NotEditable, match=r"shared through an alias with metadata\.labels"):
        label_edits(YamlText(text), [LabelRequest(0, "spec.selector.matchLabels", "c", "s")])


def test_a_merged_key_is_refused_not_doubled() -> None:
    text = "base: &b {app: x}\nlabels:\n  <<: *b\n  tier: web\n"
    with pytest.raises(NotEditable, match="merge"):
        label_edits(YamlText(text), [LabelRequest(0, "labels", "app", "y")])
    edits = label_edits(YamlText(text), [LabelRequest(0, "labels", "c", "s")])
    assert apply_edits(text, edits) == "base: &b {app: x}\nlabels:\n  <<: *b\n  tier: web\n  c: s\n"


# --- one value set (a chart's toggle turned on in values.yaml) ---------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a:\n  use: false  # off: selectors are immutable\n  b: 1\n",
         "a:\n  use: true  # off: selectors are immutable\n  b: 1\n"),
        ("a:\r\n  b: 1\r\n  use:\r\n", "a:\r\n  b: 1\r\n  use: true\r\n"),  # null, CRLF
        ("a:\n  use: ~\n", "a:\n  use: true\n"),
        ("a: {b: 1, use: false}", "a: {b: 1, use: true}"),  # flow, no final newline
        ("a:\n  b: 1\n  c: 2\n", "a:\n  b: 1\n  c: 2\n  use: true\n"),  # absent
    ],
)
def test_set_plain_changes_one_value_and_no_other_byte(before: str, after: str) -> None:
    edit = set_plain(YamlText(before), 0, "a.use", "true")
    assert edit is not None
    assert apply_edits(before, [edit]) == after
    assert yaml.safe_load(after)["a"]["use"] is True


@pytest.mark.parametrize(
    "before", ["a:\n  use: 'false'\n", "a:\n  use:\n    b: 1\n", "a: 1\n", "b:\n  c: 1\n"]
)
def test_set_plain_refuses_what_is_no_plain_value_under_a_mapping(before: str) -> None:
    with pytest.raises(NotEditable):
        set_plain(YamlText(before), 0, "a.use", "true")
