"""Label changes made in Helm templates, shaped the way the chart writes its labels.

`HelmSource.label_edits` lands here. A `LabelChange` becomes a splice of the template
document that renders the object (`Templates.place_for`), in the mapping that document
writes at the change's path. What only templates have is handled here, not in the recipes
that ask for the change:
- an entry the pods write with a templated key or value is copied as written into a
  selector (`LabelChange.like`); where the mapping already writes that key under a
  condition (adding it always would render the key twice when the condition holds), the
  chart's own toggle is turned on in values.yaml when it is a plain boolean there, off
  (toggle.py; verification tells whether it makes the change and nothing else), else the
  change is refused;
- a component label goes into a label helper's empty component argument (`"component" ""`)
  where the mapping includes one, instead of a literal line beside the include;
- a value the pods share with other pods is replaced where their template writes it: the
  literal line, else the component argument of the helper they include, else that helper's
  output without the key (`omit`) and the key on the line after it, the helper itself
  unchanged; a value that is the shared one with the pods' role after it is written as the
  helper writes the shared one (`{{ include "x.name" . }}-test-connection`: it follows
  `nameOverride`);
- a selector the API server defaults is written out of the pod template's literal lines;
- a `define` several includes render is refused, unless every added value is the name as
  the define writes it (`LabelChange.named`: each object gets its own).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from chartfix.model.changes import Refused
from chartfix.model.edits import Edit, LabelChange, PlannedEdit
from chartfix.model.objects import K8sObject, Rendering, mapping_at, string_map
from chartfix.sources.helm.chart import Scenario
from chartfix.sources.helm.template.edit import (
    NotEditable,
    append_to_value,
    entry_after,
    explicit_selector,
    include_argument,
    insert_entry,
    omit_included_key,
    remove_entry,
    replace_action,
    replace_value,
    selector_entry_insertion,
)
from chartfix.sources.helm.template.helpers import (
    Helper,
    included_helper,
    writes_key,
    written_value,
)
from chartfix.sources.helm.template.labels import (
    component_argument_edit,
    conditional_twin,
    insert_written,
    literal_text,
    written_as,
)
from chartfix.sources.helm.template.locate import Place, Templates, editable_place, peers_of
from chartfix.sources.helm.template.outline import MappingSite
from chartfix.sources.helm.toggle import turn_on

SELECTOR = "spec.selector.matchLabels"

WrittenName = Callable[[K8sObject, Rendering], "str | None"]


def label_edits(
    templates: Templates,
    obj: K8sObject,
    rendering: Rendering,
    changes: Sequence[LabelChange],
    written_name: WrittenName,
    scenarios: Mapping[str, Scenario],
) -> list[PlannedEdit]:
    """The splices making `changes` to `obj`; Refused: why they cannot be made (one line).
    `scenarios`: every scenario rendered (whose values may keep a toggle off)."""
    ref = obj.ref
    place = editable_place(templates, obj, rendering)
    written_out = [c for c in changes if obj.selector_defaulted and c.path == SELECTOR]
    added = [c for c in changes if c not in written_out or not c.removed]
    if place.shared and not all(c.named for c in added):
        raise Refused(place.shared_reason(ref))  # one edit would reach every include's objects
    edits: list[PlannedEdit] = []
    if written_out:
        edits += _written_out(templates, place, obj, rendering, written_out, written_name)
    for change in changes:
        if change in written_out:
            continue
        site = templates.site(place.doc, change.path)
        if site is None:
            raise Refused(
                f"{obj.document.path}: {change.path} of {ref} is not written in the template"
            )
        current = string_map(mapping_at(obj.body, change.path)).get(change.key)
        try:
            if change.removed:
                edit: Edit | tuple[Edit, ...] | PlannedEdit = remove_entry(site, change.key)
            elif current is not None and change.value is not None and current != change.value:
                edit = _replaced(templates, place, site, obj, change, current)
            else:
                edit = _added(
                    templates, place, site, obj, rendering, change, written_name, scenarios
                )
        except NotEditable as err:
            raise Refused(f"{place.path}:{site.line}: {ref} left as it is: {err}") from err
        if isinstance(edit, PlannedEdit):
            edits.append(edit)  # the chart's toggle, in values.yaml
            continue
        for splice in edit if isinstance(edit, tuple) else (edit,):
            edits.append(PlannedEdit(place.path, splice, f"{change.path} of {ref}"))
    return edits


def writes_literally(
    templates: Templates, obj: K8sObject, rendering: Rendering, path: str, key: str
) -> bool:
    """Whether the template writes `key` at `path` of `obj` as one literal, unconditional
    entry (block or flow) whose value is the rendered one: the same under any values."""
    value = string_map(mapping_at(obj.body, path)).get(key)
    place = templates.place_for(obj, peers_of(rendering))
    site = templates.site(place.doc, path) if place is not None else None
    if value is None or place is None or site is None or place.shared:
        return False
    written = literal_text(templates.outline(place.path).text, site, key)
    return written is not None and "{{" not in written and written.strip("'\"") == value


# --- adding ------------------------------------------------------------------------------


def _added(
    templates: Templates,
    place: Place,
    site: MappingSite,
    obj: K8sObject,
    rendering: Rendering,
    change: LabelChange,
    written_name: WrittenName,
    scenarios: Mapping[str, Scenario],
) -> Edit | PlannedEdit:
    """The entry inserted into `site`: copied as the pods of `change.like` write it, else a
    helper's empty component argument filled in, else a new line. Where `site` writes the
    key under a toggle already, the toggle turned on in values.yaml (see toggle.py)."""
    outline = templates.outline(place.path)
    value = _value_text(obj, rendering, change, written_name)
    copied = _as_written(templates, obj, rendering, change, value)
    twin = conditional_twin(outline.text, site, change.key, copied)
    if twin is not None:
        refused = f"{place.path}:{site.line}: {obj.ref} left as it is: {twin.reason()}"
        toggled = turn_on(
            templates, twin.condition, scenarios, f"{change.path} of {obj.ref}", refused
        )
        if toggled is None:
            raise Refused(refused)
        return toggled
    if copied is not None:
        return insert_written(site, copied, outline.newline())
    if value is None:
        raise Refused(
            f"{place.path}:{site.line}: {obj.ref}: the pods' {change.key} is not written on "
            "one line of the template, to copy"
        )
    argument = component_argument_edit(site, value) if _is_component(change.key) else None
    return argument or insert_entry(site, change.key, value, outline.newline())


def _value_text(
    obj: K8sObject, rendering: Rendering, change: LabelChange, written_name: WrittenName
) -> str | None:
    """The value as the template is to write it: the name as written when `named`."""
    if not change.named:
        return change.value
    named = rendering.find(change.like) if change.like is not None else obj
    return written_name(named or obj, rendering)


def _as_written(
    templates: Templates,
    obj: K8sObject,
    rendering: Rendering,
    change: LabelChange,
    value: str | None,
) -> tuple[str, str] | None:
    """How the pod template of `change.like` writes the entry when its key or value is
    templated (to copy); None when it writes it literally, by a helper or not at all;
    Refused when it writes it under a condition, or which line writes it is unclear."""
    pods = rendering.find(change.like) if change.like is not None else None
    path = pods.pod_labels_path() if pods is not None else None
    place = templates.place_for(pods, peers_of(rendering)) if pods is not None else None
    site = templates.site(place.doc, path) if place is not None and path else None
    if place is None or site is None:
        return None
    text = templates.outline(place.path).text
    try:
        return written_as(text, site, change.key, value or "")
    except NotEditable as err:
        raise Refused(f"{place.path}:{site.line}: {obj.ref}: {err}") from err


def _is_component(key: str) -> bool:
    """A component label's key (`component`, `app.kubernetes.io/component`): what a label
    helper's component argument writes."""
    return key == "component" or key.endswith("/component")


def _written_out(
    templates: Templates,
    place: Place,
    obj: K8sObject,
    rendering: Rendering,
    changes: Sequence[LabelChange],
    written_name: WrittenName,
) -> list[PlannedEdit]:
    """A defaulted selector written before `template:`: copies of the pod template's literal
    lines but the removed keys, then the added entries."""
    outline = templates.outline(place.path)
    newline = outline.newline()
    removed = [c.key for c in changes if c.removed]
    try:
        edit, keys = explicit_selector(outline, place.doc, removed, newline)
    except NotEditable as err:
        raise Refused(
            f"{place.path}: {obj.ref} has no spec.selector ({obj.api_version} fills it in from "
            f"the pod labels) and it cannot be written out: {err}"
        ) from err
    copies = tuple(LabelChange(SELECTOR, key, None) for key in keys)
    edits = [PlannedEdit(place.path, edit, f"explicit selector of {obj.ref}", copies)]
    for change in changes:
        value = _value_text(obj, rendering, change, written_name)
        if change.removed or value is None:
            continue
        insertion = selector_entry_insertion(place.doc, change.key, value, newline)
        edits.append(PlannedEdit(place.path, insertion, f"selector of {obj.ref}"))
    return edits


# --- replacing ---------------------------------------------------------------------------


def _replaced(
    templates: Templates,
    place: Place,
    site: MappingSite,
    obj: K8sObject,
    change: LabelChange,
    current: str,
) -> Edit | tuple[Edit, ...]:
    """`change.value` written where the template writes the value `current` the pods share
    with the controller's: the literal line, else the helper they include."""
    assert change.value is not None
    key, value = change.key, change.value
    if key not in site.literal_keys():
        overridden, helpers = _helper_override(templates, place, site, key, current, value)
        if overridden is not None:
            return overridden
        source = f"the helper {helpers}" if helpers else "a templated line"
        raise Refused(
            f"{obj.ref} gets {key}={current} from {source} ({place.path}:{site.line}), like "
            "the controller's pods: give it a value of its own there by hand"
        )
    text = templates.outline(place.path).text
    try:
        return replace_value(text, site, key, value)
    except NotEditable as err:
        if value.startswith(f"{current}-"):  # the chart's own value, the pods' role after it
            try:
                return append_to_value(text, site, key, value[len(current):])
            except NotEditable:
                pass
        else:  # a value of its own, not the chart's (the role alone)
            try:
                return replace_action(text, site, key, value)
            except NotEditable:
                pass
        raise Refused(
            f"{obj.ref} shares {key}={current} with the controller, and "
            f"{place.path}:{site.line} cannot give it another: {err}"
        ) from err


def _helper_override(
    templates: Templates, place: Place, site: MappingSite, key: str, current: str, value: str
) -> tuple[Edit | tuple[Edit, ...] | None, str]:
    """Edits giving the pods `value` for `key` where the helper they share with the
    controller writes it (a test Pod's `{{- include "x.labels" . | nindent 4 }}`), the helper
    itself unchanged: the helper's own component argument when it takes one, else its output
    without that key and the key written on the line after it (None: neither), and the
    helpers that write the label, for the reason."""
    lines = [e.line for e in site.entries if e.generated and not e.conditional]
    if site.inline_generator:
        lines.append(site.key_line)
    includes = [
        (line, action, name) for line in lines for action in line.output_actions
        if (name := included_helper(action))
    ]
    helpers = templates.helpers()
    writers = [(ln, a, n) for ln, a, n in includes if writes_key(helpers, n, key)]
    if not writers and len(includes) == 1:
        writers = includes  # the key may come from values the helper renders
    names = ", ".join(dict.fromkeys(n for _, _, n in writers or includes))
    if len(writers) != 1:
        return None, names
    line, action, name = writers[0]
    argument = re.search(
        rf'"component"\s+("{re.escape(current)}"|`{re.escape(current)}`)', action.inner
    )
    if argument is not None:  # a helper that takes the component: give it another
        start = action.inner_start + argument.start(1)
        return Edit(start, start + len(argument.group(1)), f'"{value}"'), names
    text = _value_as_the_helper_writes_it(
        helpers, name, include_argument(action), key, current, value
    )
    try:
        omitted = omit_included_key(action, key)
        entry = entry_after(
            line, site.entry_indent, key, text, templates.outline(place.path).newline()
        )
    except NotEditable:
        return None, names
    return (omitted, entry), names


_ONE_ACTION = re.compile(
    r'^\{\{-?\s*(?:(?P<how>include|template)\s+"(?P<name>[^"]+)"\s+\.|(?P<field>(?:\.\w+)+))'
    r"\s*-?\}\}$"
)
"""A value written as one include of a helper with `.` (`{{ include "x.name" . }}`) or one
field of `.` (`{{ .Chart.Name }}`)."""


def _value_as_the_helper_writes_it(
    helpers: dict[str, Helper], name: str, argument: str | None, key: str, current: str,
    value: str,
) -> str:
    """`value` as the template is to write it: where it is the shared value `current` with
    the pods' role after it and the helper `name` writes `current` with one include or field
    of the chart's own (`{{ include "x.name" . }}`), that action with the role after it, so
    that the value follows `nameOverride` as the shared one does; else `value` itself.
    `argument`: what the pods' template passes the helper (`.` or `$`), which the action
    is written with."""
    written = written_value(helpers, name, key)
    one = _ONE_ACTION.match(written) if written is not None else None
    if one is None or argument not in (".", "$") or not value.startswith(f"{current}-"):
        return value
    suffix = value[len(current):]
    if one["field"]:
        field = one["field"] if argument == "." else f"$.{one['field'][1:]}"
        return f"{{{{ {field} }}}}{suffix}"
    return f'{{{{ {one["how"]} "{one["name"]}" {argument} }}}}{suffix}'
