"""Find, in a cdk8s app's Python, the expression that builds one label map of one object.

Synthesis tells us which line constructed an object (and the app frames that led there). From
that construct call we walk the manifest path (`spec.selector.matchLabels`) through the
shapes cdk8s apps use to build specs:

- dict literals (`{"selector": {"matchLabels": label}}`), also behind `**` spreads;
- struct calls of generated `imports/k8s.py` (`LabelSelector(match_labels=label)`);
- names bound to either in the same function or module (the last binding before the use);
- function parameters, followed to the argument at the calling frame (factory functions);
- `ApiObject` + `obj.add_json_patch(JsonPatch.add("/spec", {...}))`.

The result is the *use site*: the expression whose value is the label map there. A dict
literal written right there can take a new entry; anything else (a shared name, a helper
call) is wrapped as `{**expr, "component": "server"}` so that nothing shared changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from chartfix.errors import ChartError
from chartfix.sources.cdk8s.synth import Frame, Origin

How = Literal["insert", "wrap"]


class NotLocated(Exception):
    """The label map is built in a way we cannot follow; the message says how."""


@dataclass(frozen=True)
class LabelSite:
    path: str
    """Python file relative to the app root."""
    node: cst.BaseExpression
    """The expression at the use site (identity matters: edits replace this node)."""
    how: How
    line: int


class ParsedFile:
    """One Python file parsed once, with positions and parents for every node."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        try:
            wrapper = MetadataWrapper(cst.parse_module(data))
        except cst.ParserSyntaxError as err:
            raise ChartError(path, f"cannot parse: {err.message} (line {err.raw_line})") from err
        self.module = wrapper.module
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self._nodes: dict[type[cst.CSTNode], list[cst.CSTNode]] = {}

    def span(self, node: cst.CSTNode) -> CodeRange:
        return self.positions[node]

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def nodes(self, kind: type[cst.CSTNode]) -> list[cst.CSTNode]:
        if kind in self._nodes:
            return self._nodes[kind]
        found: list[cst.CSTNode] = []

        class Collect(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                if isinstance(node, kind):
                    found.append(node)
                return True

        self.module.visit(Collect())
        self._nodes[kind] = found
        return found

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        current = self.parent(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self.parent(current)
        return current


class AppSources:
    """The app's Python files, read and parsed on demand, never outside the app root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[str, ParsedFile] = {}

    def file(self, path: str) -> ParsedFile:
        if path not in self._files:
            full = (self.root / path).resolve()
            if not full.is_relative_to(self.root):
                raise ChartError(self.root / path, "lies outside the app")
            try:
                data = full.read_bytes()
            except OSError as err:
                raise ChartError(full, f"cannot read: {err.strerror or err}") from err
            self._files[path] = ParsedFile(path, data)
        return self._files[path]


@dataclass(frozen=True)
class _Context:
    """Where an expression is evaluated: its file and how many app frames lie outside it."""

    file: ParsedFile
    frame_index: int


def locate_labels(
    sources: AppSources, origin: Origin, manifest_path: str
) -> LabelSite:
    """The use site of the label map at `manifest_path` of the object built at `origin`."""
    frame = origin.frame
    if frame is None:
        raise NotLocated(f"no line of the app's Python constructs {origin.construct_path}")
    context = _Context(sources.file(frame.path), 0)
    call = _construct_call(context.file, frame, origin.construct_id)
    keys = manifest_path.split(".")
    root = _root_expression(context.file, call, keys[0])
    if root is None:
        raise NotLocated(
            f"{frame.path}:{frame.line}: {keys[0]} of {origin.construct_path} is not passed "
            f"as `{keys[0]}=` or through JsonPatch.add('/{keys[0]}', ...)"
        )
    expr, context = root, context
    for key in keys[1:]:
        value, value_context = _value_of(expr, context, sources, origin.stack)
        child = _child(value, key, value_context, sources, origin.stack)
        if child is None:
            where = f"{value_context.file.path}:{value_context.file.line(value)}"
            raise NotLocated(f"{where}: cannot follow `{key}` of {origin.construct_path} here")
        expr, context = child
    expr, context = _through_parameters(expr, context, sources, origin.stack)
    how: How = "insert" if isinstance(expr, cst.Dict) else "wrap"
    return LabelSite(context.file.path, expr, how, context.file.line(expr))


def _through_parameters(
    expr: cst.BaseExpression, context: _Context, sources: AppSources, stack: tuple[Frame, ...]
) -> tuple[cst.BaseExpression, _Context]:
    """A parameter used as labels in a factory function: the use site is the caller's argument.

    Wrapping inside the factory would change every object it builds; at the call site only
    this one changes.
    """
    while isinstance(expr, cst.Name):
        function = context.file.enclosing_function(expr)
        if function is None or not _is_parameter(function, expr.value):
            break
        if _last_assignment(context.file, function, expr.value, context.file.line(expr)):
            break
        found = _argument(function, expr.value, context, sources, stack)
        if found is None or found[1] is context:
            break
        expr, context = found
    return expr, context


# --- the construct call -----------------------------------------------------------------------


def _construct_call(file: ParsedFile, frame: Frame, construct_id: str) -> cst.Call:
    """The call on `frame.line` that constructed the object (its id argument if literal)."""
    candidates = []
    for node in file.nodes(cst.Call):
        assert isinstance(node, cst.Call)
        span = file.span(node)
        if not span.start.line <= frame.line <= span.end.line:
            continue
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if len(positional) < 2:
            continue
        candidates.append((node, span))
    if not candidates:
        raise NotLocated(f"{file.path}:{frame.line}: no construct call found on this line")
    named = [(n, s) for n, s in candidates if _string(n.args[1].value) == construct_id]
    pool = named or candidates
    # The outermost call: nested calls on the line are its arguments.
    node, _ = min(pool, key=lambda ns: (ns[1].start.line, ns[1].start.column))
    return node


def _root_expression(file: ParsedFile, call: cst.Call, key: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == key:
            return arg.value
    return _json_patch_value(file, call, key)


def _json_patch_value(file: ParsedFile, call: cst.Call, key: str) -> cst.BaseExpression | None:
    """`x = ApiObject(...)` then `x.add_json_patch(JsonPatch.add("/spec", VALUE))`."""
    bound = _bound_name(file, call)
    if bound is None:
        return None
    scope = file.enclosing_function(call) or file.module
    found: cst.BaseExpression | None = None
    for node in file.nodes(cst.Call):
        assert isinstance(node, cst.Call)
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value == "add_json_patch"
            and _dotted(func.value) == bound
            and (file.enclosing_function(node) or file.module) is scope
        ):
            continue
        for arg in node.args:
            patch = arg.value
            if (
                isinstance(patch, cst.Call)
                and _dotted(patch.func).endswith("JsonPatch.add")
                and len(patch.args) == 2
                and _string(patch.args[0].value) == "/" + key
            ):
                found = patch.args[1].value
    return found


def _bound_name(file: ParsedFile, call: cst.Call) -> str | None:
    parent = file.parent(call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        return _dotted(parent.targets[0].target) or None
    if isinstance(parent, cst.AnnAssign):
        return _dotted(parent.target) or None
    return None


# --- walking values ---------------------------------------------------------------------------


def _value_of(
    expr: cst.BaseExpression,
    context: _Context,
    sources: AppSources,
    stack: tuple[Frame, ...],
) -> tuple[cst.BaseExpression, _Context]:
    """Follow names to the expression they are bound to (assignments, then parameters)."""
    seen = 0
    while isinstance(expr, cst.Name) and seen < 20:
        seen += 1
        bound = _binding(expr, context, sources, stack)
        if bound is None:
            break
        expr, context = bound
    return expr, context


def _child(
    value: cst.BaseExpression,
    key: str,
    context: _Context,
    sources: AppSources,
    stack: tuple[Frame, ...],
) -> tuple[cst.BaseExpression, _Context] | None:
    """The expression for `key` inside a dict literal or a struct call."""
    if isinstance(value, cst.Dict):
        for element in reversed(value.elements):
            if isinstance(element, cst.DictElement) and _string(element.key) == key:
                return element.value, context
        for element in reversed(value.elements):
            if isinstance(element, cst.StarredDictElement):
                inner, inner_context = _value_of(element.value, context, sources, stack)
                found = _child(inner, key, inner_context, sources, stack)
                if found is not None:
                    return found
        return None
    if isinstance(value, cst.Call):
        names = {key, _snake(key)}
        for arg in value.args:
            if arg.keyword is not None and arg.keyword.value in names:
                return arg.value, context
    return None


def _binding(
    name: cst.Name, context: _Context, sources: AppSources, stack: tuple[Frame, ...]
) -> tuple[cst.BaseExpression, _Context] | None:
    file = context.file
    function = file.enclosing_function(name)
    use_line = file.line(name)
    assigned = _last_assignment(file, function, name.value, use_line)
    if assigned is not None:
        return assigned, context
    if function is not None and _is_parameter(function, name.value):
        return _argument(function, name.value, context, sources, stack)
    if function is not None:
        module_level = _last_assignment(file, None, name.value, use_line)
        if module_level is not None:
            return module_level, context
    return None


def _last_assignment(
    file: ParsedFile, function: cst.FunctionDef | None, name: str, before_line: int
) -> cst.BaseExpression | None:
    best: tuple[int, cst.BaseExpression] | None = None
    for node in file.nodes(cst.Assign) + file.nodes(cst.AnnAssign):
        if file.enclosing_function(node) is not function:
            continue
        line = file.line(node)
        if function is not None and line >= before_line:
            continue
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
            value: cst.BaseExpression | None = node.value
        else:
            assert isinstance(node, cst.AnnAssign)
            targets, value = [node.target], node.value
        if value is None or not any(isinstance(t, cst.Name) and t.value == name for t in targets):
            continue
        if best is None or line > best[0]:
            best = (line, value)
    return best[1] if best else None


def _is_parameter(function: cst.FunctionDef, name: str) -> bool:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return any(p.name.value == name for p in every)


def _argument(
    function: cst.FunctionDef,
    name: str,
    context: _Context,
    sources: AppSources,
    stack: tuple[Frame, ...],
) -> tuple[cst.BaseExpression, _Context] | None:
    """The argument passed for parameter `name`, at the call in the next frame outward."""
    outer_index = context.frame_index + 1
    if outer_index >= len(stack):
        return None
    outer = stack[outer_index]
    outer_file = sources.file(outer.path)
    callee = function.name.value
    class_name = _class_of(context.file, function)
    for call in outer_file.nodes(cst.Call):
        assert isinstance(call, cst.Call)
        span = outer_file.span(call)
        if not span.start.line <= outer.line <= span.end.line:
            continue
        called = _dotted(call.func).rsplit(".", 1)[-1]
        if called != callee and not (callee == "__init__" and called == class_name):
            continue
        value = _bind_argument(function, call, name)
        if value is not None:
            return value, _Context(outer_file, outer_index)
    for param in [*function.params.params, *function.params.kwonly_params]:
        if param.name.value == name and param.default is not None:
            return param.default, context
    return None


def _bind_argument(
    function: cst.FunctionDef, call: cst.Call, name: str
) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    positional_params = [*function.params.posonly_params, *function.params.params]
    names = [p.name.value for p in positional_params]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if name in names and names.index(name) < len(positional):
        return positional[names.index(name)]
    return None


def _class_of(file: ParsedFile, function: cst.FunctionDef) -> str:
    parent = file.parent(function)
    while parent is not None and not isinstance(parent, cst.ClassDef):
        parent = file.parent(parent)
    return parent.name.value if isinstance(parent, cst.ClassDef) else ""


# --- small helpers ----------------------------------------------------------------------------


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    return ""


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
