"""A chart's own toggle turned on in values.yaml, where it writes exactly the label to add.

Charts that learned of the selector bug late often fixed it behind a toggle, off by default
because changing a selector breaks the upgrade of a running release (stable/nginx-ingress:
`{{- if .Values.controller.useComponentLabel }}` around the component entry of its
selectors). Adding the entry again beside it would render the key twice when the toggle is
on; turning the toggle on by default is the smallest edit that fixes the chart, and the
one its authors meant. chartfix's own fix breaks upgrades the same way (it writes the
migration note), so the reason the toggle was off does not hold against it.

The edit is one value of values.yaml (`false` -> `true`, every other byte kept), made only
for a plain boolean (`if .Values.a.b` or `with`, the value `false`, null or absent under an
existing mapping). Whether it makes exactly the planned label change, and nothing else, is
for verification to tell: it renders every scenario again. A scenario whose own values set
the toggle (a ci/ file, the user's -f or --set) is their choice: the edit changes nothing
there, and says so (`PlannedEdit.overridden`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from chartfix.errors import TargetError
from chartfix.files import decode
from chartfix.model.edits import Edit, NotEditable, PlannedEdit
from chartfix.sources.helm.chart import ABSENT, Scenario, value_at
from chartfix.sources.helm.render import scenario_values
from chartfix.sources.helm.template.locate import Templates

VALUES = "values.yaml"
_TOGGLE = re.compile(r"^\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$")
_OFF_TAGS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool")


def toggle_path(condition: str | None) -> str | None:
    """`a.b` for the condition `.Values.a.b` (or `$.Values.a.b`); None for anything else
    (`not`, `and`, a comparison, a pipeline, a variable)."""
    found = _TOGGLE.match((condition or "").strip())
    return found.group(1)[1:] if found else None


def turn_on(
    templates: Templates,
    condition: str | None,
    scenarios: Mapping[str, Scenario],
    why: str,
    instead: str,
) -> PlannedEdit | None:
    """The edit of values.yaml that turns the toggle `condition` on, with the scenarios
    whose values keep it off, and `instead`, the reason the change is refused if
    verification drops it; None when `condition` is no toggle values.yaml has off."""
    path = toggle_path(condition)
    if path is None:
        return None
    edit = _switched_on(templates, path)
    if edit is None:
        return None
    kept = tuple(
        (name, f"{_whose(name)} {path} to {json.dumps(value, default=str)}")
        for name, scenario in scenarios.items()
        if (value := value_at(_values(scenario), path)) is not ABSENT and not value
    )
    return PlannedEdit(VALUES, edit, f"{why}: turn on {path}", overridden=kept, instead=instead)


def _switched_on(templates: Templates, path: str) -> Edit | None:
    """The edit of values.yaml setting `path` to true, when it is a plain boolean off there
    (false, null, or absent under an existing mapping)."""
    # here, not at the top: ruamel.yaml is loaded only for a chart with such a toggle (a
    # check plans fixes for its advice, and most charts have none)
    from ruamel.yaml.nodes import ScalarNode

    from chartfix.sources.yamledit import YamlText, set_plain

    try:
        text = YamlText(decode(templates.read(VALUES)), VALUES)
        if len(text.documents) != 1:
            return None
        node = text.node_at(0, path)
        if node is not None and not (
            isinstance(node, ScalarNode) and not node.style and node.tag in _OFF_TAGS
            and str(node.value).lower() in ("", "null", "~", "false")
        ):
            return None  # a string, a number, a map: not a plain boolean switched off
        return set_plain(text, 0, path, "true")
    except (NotEditable, OSError):
        return None


def _values(scenario: Scenario) -> dict[str, Any]:
    try:
        return scenario_values(scenario)
    except TargetError:
        return {}



def _whose(scenario: str) -> str:
    """Who sets a value in `scenario`, as the start of a sentence."""
    if scenario == "user":
        return "the -f/--set values set"
    if scenario.startswith("ci/"):
        return f"{scenario} sets"
    return f"the organisation values of scenario {scenario} set"
