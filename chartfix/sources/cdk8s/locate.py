"""Find, in a cdk8s app's Python, the expression that builds one label map of one object.

Synthesis tells us which line constructed an object (and the app frames that led there). From
that construct call we walk the manifest path (`spec.selector.matchLabels`) through the
shapes cdk8s apps use to build specs:

- dict literals (`{"selector": {"matchLabels": label}}`), also behind `**` spreads;
- struct calls of generated `imports/k8s.py` (`LabelSelector(match_labels=label)`);
- names bound to either in the same function or module (the last binding before the use),
  or imported from another module of the app (`from common import LABELS`, `common.LABELS`);
- function parameters, followed to the argument at the calling frame (factory functions),
  by keyword or by position, or to the default when the call passes none;
- calls of the app's own functions that build a spec or pod template from their parameters,
  followed to what they return, at any depth (`spec=make_spec(labels)`);
- `ApiObject` + `obj.add_json_patch(JsonPatch.add(PATH, {...}))`, PATH any prefix of the
  manifest path (`/spec`, `/spec/selector/matchLabels`, `/metadata/labels`).

The result is the *use site*: the expression whose value is the label map there. A dict
literal written right there can take a new entry; anything else (a shared name, a helper
call) is wrapped as `{**expr, "component": "server"}` so that nothing shared changes. A call
that leaves the labels parameter to its default gets the parameter passed (`pass`). A site
inside a module-level constant that the app uses more than once is refused (NotLocated):
editing it would change the other users too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import libcst as cst
from libcst.metadata import (
    CodeRange,
    GlobalScope,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ScopeProvider,
)

from chartfix.errors import TargetError
from chartfix.sources.cdk8s.app import _SKIPPED_DIRS
from chartfix.sources.cdk8s.synth import Construction, Frame

How = Literal["insert", "wrap", "pass"]


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
    keyword: str = ""
    """`pass`: the parameter to pass at the call `node`."""
    default: cst.BaseExpression | None = None
    """`pass`: the parameter's default (a string literal dict, or a module-level name)."""


class ParsedFile:
    """One Python file parsed once, with positions and parents for every node."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        try:
            wrapper = MetadataWrapper(cst.parse_module(data))
        except cst.ParserSyntaxError as err:
            raise TargetError(path, f"cannot parse: {err.message} (line {err.raw_line})") from err
        self.module = wrapper.module
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self._wrapper = wrapper
        self._global_scope: GlobalScope | None = None
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

    def global_uses(self, name: str) -> int:
        """How often the module-level `name` is read in this file (nested functions included)."""
        if self._global_scope is None:
            scopes = self._wrapper.resolve(ScopeProvider)
            scope = scopes.get(self.module)
            assert isinstance(scope, GlobalScope)
            self._global_scope = scope
        return sum(len(a.references) for a in self._global_scope.assignments[name])

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        current = self.parent(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self.parent(current)
        return current


class AppFiles:
    """The app's Python files, read and parsed on demand, never outside the app root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[str, ParsedFile] = {}

    def file(self, path: str) -> ParsedFile:
        if path not in self._files:
            full = (self.root / path).resolve()
            if not full.is_relative_to(self.root):
                raise TargetError(self.root / path, "lies outside the app")
            try:
                data = full.read_bytes()
            except OSError as err:
                raise TargetError(full, f"cannot read: {err.strerror or err}") from err
            self._files[path] = ParsedFile(path, data)
        return self._files[path]

    def module(self, importer: str, dotted: str, level: int) -> ParsedFile | None:
        """The app file `import dotted` (with `level` leading dots) means in file `importer`:
        beside it or at the app root, as the app runs with both on its path. The generated
        `imports/` package is a library here, never followed."""
        parts = [p for p in dotted.split(".") if p]
        if parts[:1] == ["imports"]:
            return None
        here = Path(importer).parent
        if level:
            ups = [here, *here.parents]
            bases = ups[level - 1 : level]
        else:
            bases = [here, Path(".")]
        for base in bases:
            folder = base.joinpath(*parts)
            candidates = [folder / "__init__.py"]
            if parts:
                candidates.insert(0, folder.with_name(parts[-1] + ".py"))
            for candidate in candidates:
                if (self.root / candidate).is_file():
                    return self.file(candidate.as_posix())
        return None

    def modules(self) -> list[ParsedFile]:
        """Every Python file of the app (outside the generated `imports/` and build output)."""
        found = []
        for path in sorted(self.root.rglob("*.py")):
            relative = path.relative_to(self.root)
            if relative.parts[0] == "imports" or set(relative.parts) & _SKIPPED_DIRS:
                continue
            try:
                found.append(self.file(relative.as_posix()))
            except TargetError:  # a stray script the app never imports: it reads nothing
                continue
        return found


@dataclass(frozen=True, eq=False)
class _Call:
    """A call of one of the app's functions followed without a runtime frame of its own (it
    returned before the construct call ran): its parameters are bound to this call's arguments."""

    node: cst.Call
    function: cst.FunctionDef
    caller: _Context


@dataclass(frozen=True, eq=False)
class _Context:
    """Where an expression is evaluated: its file, how many runtime app frames lie outside it,
    the helper call it was reached through, and why it must not change (a shared constant)."""

    file: ParsedFile
    frame_index: int
    call: _Call | None = None
    shared: str | None = None


@dataclass(frozen=True, eq=False)
class _Argument:
    """What a parameter is bound to: the argument, or the default when the call passes none."""

    value: cst.BaseExpression
    context: _Context
    call: cst.Call
    call_context: _Context
    defaulted: bool


class _Unfollowable(Exception):
    """One step that cannot be followed: where (`file:line`) and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def locate_labels(
    sources: AppFiles, origin: Construction, manifest_path: str
) -> LabelSite:
    """The use site of the label map at `manifest_path` of the object built at `origin`."""
    frame = origin.frame
    if frame is None:
        raise NotLocated(f"no line of the app's Python constructs {origin.construct_path}")
    context = _Context(sources.file(frame.path), 0)
    call = _construct_call(context.file, frame, origin.construct_id)
    keys = manifest_path.split(".")
    root = _root_expression(context.file, call, keys)
    if root is None:
        raise NotLocated(
            f"{frame.path}:{frame.line}: {keys[0]} of {origin.construct_path} is not passed "
            f"as `{keys[0]}=` or through JsonPatch.add('/{keys[0]}...', ...)"
        )
    walker = _Walker(sources, origin.stack)
    expr, consumed = root
    for key in keys[consumed:]:
        try:
            value, value_context = walker.value_of(expr, context)
            child = walker.child(value, key, value_context)
        except _Unfollowable as err:
            raise NotLocated(
                f"{err.where}: cannot follow `{key}` of {origin.construct_path}: {err.reason}"
            ) from None
        if child is None:
            where = f"{value_context.file.path}:{value_context.file.line(value)}"
            raise NotLocated(f"{where}: cannot follow `{key}` of {origin.construct_path} here")
        expr, context = child
    try:
        return walker.use_site(expr, context)
    except _Unfollowable as err:
        raise NotLocated(
            f"{err.where}: cannot edit `{keys[-1]}` of {origin.construct_path}: {err.reason}"
        ) from None


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


def _root_expression(
    file: ParsedFile, call: cst.Call, keys: list[str]
) -> tuple[cst.BaseExpression, int] | None:
    """Where the walk down `keys` starts, and how many keys that start already covers.

    A JSON patch is applied after the construct's own properties, so the last patch whose
    path leads to `keys` wins over a keyword argument."""
    patched = _json_patch_value(file, call, keys)
    if patched is not None:
        return patched
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keys[0]:
            return arg.value, 1
    return None


def _json_patch_value(
    file: ParsedFile, call: cst.Call, keys: list[str]
) -> tuple[cst.BaseExpression, int] | None:
    """`x = ApiObject(...)` then `x.add_json_patch(JsonPatch.add("/spec", VALUE))`, at any
    depth of `keys` (`/spec/selector/matchLabels`, `/metadata/labels`)."""
    bound = _bound_name(file, call)
    if bound is None:
        return None
    scope = file.enclosing_function(call) or file.module
    found: tuple[cst.BaseExpression, int] | None = None
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
            if not (
                isinstance(patch, cst.Call)
                and _dotted(patch.func).endswith("JsonPatch.add")
                and len(patch.args) == 2
            ):
                continue
            pointer = _string(patch.args[0].value)
            if pointer is None or not pointer.startswith("/"):
                continue
            steps = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
            if steps == keys[: len(steps)]:
                found = (patch.args[1].value, len(steps))
    return found


def _bound_name(file: ParsedFile, call: cst.Call) -> str | None:
    parent = file.parent(call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        return _dotted(parent.targets[0].target) or None
    if isinstance(parent, cst.AnnAssign):
        return _dotted(parent.target) or None
    return None


# --- walking values ---------------------------------------------------------------------------


class _Walker:
    """Follows expressions of one object's construct call through the app's Python: names to
    their bindings (local, module-level, imported from another app module), parameters to
    the argument at the call (a runtime frame, or a helper call whose result is used), and
    calls of the app's own functions to what they return."""

    def __init__(self, sources: AppFiles, stack: tuple[Frame, ...]) -> None:
        self.sources = sources
        self.stack = stack

    def value_of(
        self, expr: cst.BaseExpression, context: _Context
    ) -> tuple[cst.BaseExpression, _Context]:
        """The expression `expr` evaluates to, as far as plain Python lets us tell."""
        for _ in range(50):
            found: tuple[cst.BaseExpression, _Context] | None = None
            if isinstance(expr, cst.Name):
                found = self.binding(expr, context)
            elif isinstance(expr, cst.Attribute):
                module = self.module_of(context.file, expr.value)
                if module is not None:
                    found = self.module_binding(module, expr.attr.value, context, None)
            elif isinstance(expr, cst.Call):
                found = self.returned(expr, context)
            if found is None:
                break
            expr, context = found
        return expr, context

    def child(
        self, value: cst.BaseExpression, key: str, context: _Context
    ) -> tuple[cst.BaseExpression, _Context] | None:
        """The expression for `key` inside a dict literal or a struct call."""
        if isinstance(value, cst.Dict):
            for element in reversed(value.elements):
                if isinstance(element, cst.DictElement) and _string(element.key) == key:
                    return element.value, context
            for element in reversed(value.elements):
                if isinstance(element, cst.StarredDictElement):
                    inner, inner_context = self.value_of(element.value, context)
                    found = self.child(inner, key, inner_context)
                    if found is not None:
                        return found
            return None
        if isinstance(value, cst.Call):
            names = {key, _snake(key)}
            for arg in value.args:
                if arg.keyword is not None and arg.keyword.value in names:
                    return arg.value, context
        return None

    def use_site(self, expr: cst.BaseExpression, context: _Context) -> LabelSite:
        """The site to edit for the label map `expr`: a parameter is followed to the argument
        at its call (wrapping inside a factory would change every object it builds)."""
        while isinstance(expr, cst.Name):
            file = context.file
            function = file.enclosing_function(expr)
            if function is None or not _is_parameter(function, expr.value):
                break
            if _last_assignment(file, function, expr.value, file.line(expr)):
                break
            argument = self.argument(function, expr.value, context)
            if argument is None:
                break
            if argument.defaulted:
                return self.passed_default(function, expr.value, argument)
            expr, context = argument.value, argument.context
        if context.shared:
            raise _Unfollowable(f"{context.file.path}:{context.file.line(expr)}", context.shared)
        how: How = "insert" if isinstance(expr, cst.Dict) else "wrap"
        return LabelSite(context.file.path, expr, how, context.file.line(expr))

    def passed_default(
        self, function: cst.FunctionDef, name: str, argument: _Argument
    ) -> LabelSite:
        """A call that leaves `name` to its default: pass it there (`name={**DEFAULT, ...}`),
        so the default itself, and every other call relying on it, stays as it is."""
        call_file = argument.call_context.file
        call_line = call_file.line(argument.call)
        where = f"{call_file.path}:{call_line}"
        if argument.call_context.shared:
            raise _Unfollowable(where, argument.call_context.shared)
        if name in {p.name.value for p in function.params.posonly_params}:
            raise _Unfollowable(where, f"`{name}` takes its default and is positional-only")
        if any(arg.star == "**" for arg in argument.call.args):
            raise _Unfollowable(where, f"`{name}` may come from the `**` argument")
        default = argument.value
        if not self.nameable_at(default, argument.context, argument.call, argument.call_context):
            raise _Unfollowable(
                where,
                f"`{name}` takes its default `{_code(default)}`, which cannot be named at the "
                f"call; pass `{name}=` there by hand",
            )
        return LabelSite(call_file.path, argument.call, "pass", call_line, name, default)

    def nameable_at(
        self,
        default: cst.BaseExpression,
        def_context: _Context,
        call: cst.Call,
        call_context: _Context,
    ) -> bool:
        """Whether `default` means the same thing written at `call`: a literal of strings, or a
        module-level name of the same file that the calling function does not shadow."""
        if isinstance(default, cst.Dict):
            return all(
                isinstance(e, cst.DictElement)
                and _string(e.key) is not None
                and _string(e.value) is not None
                for e in default.elements
            )
        if not isinstance(default, cst.Name) or call_context.file is not def_context.file:
            return False
        file = call_context.file
        caller = file.enclosing_function(call)
        if caller is not None and (
            _is_parameter(caller, default.value)
            or _last_assignment(file, caller, default.value, file.line(call)) is not None
        ):
            return False
        return _last_assignment(file, None, default.value, None) is not None

    # --- names

    def binding(
        self, name: cst.Name, context: _Context
    ) -> tuple[cst.BaseExpression, _Context] | None:
        file = context.file
        function = file.enclosing_function(name)
        use_line = file.line(name)
        if function is not None:
            assigned = _last_assignment(file, function, name.value, use_line)
            if assigned is not None:
                return assigned, context
            if _is_parameter(function, name.value):
                argument = self.argument(function, name.value, context)
                return (argument.value, argument.context) if argument else None
        return self.module_binding(
            file, name.value, context, use_line if function is None else None
        )

    def module_binding(
        self, file: ParsedFile, name: str, context: _Context, before_line: int | None
    ) -> tuple[cst.BaseExpression, _Context] | None:
        """A module-level name of `file` (assigned there, or imported from another app module).

        A constant used more than once must not change for one object: walking into it marks
        the context as shared, and a site inside it is refused."""
        assigned = _last_assignment(file, None, name, before_line)
        if assigned is not None:
            shared = context.shared
            uses = self.uses(file, name)
            if shared is None and uses > 1:
                shared = (
                    f"`{name}` ({file.path}:{file.line(assigned)}) is used {uses} times; "
                    "a label added inside it would reach them all"
                )
            return assigned, _Context(file, context.frame_index, context.call, shared)
        imported = self.imported(file, name)
        if imported is not None:
            module, original = imported
            return self.module_binding(module, original, context, None)
        return None

    def uses(self, file: ParsedFile, name: str) -> int:
        """How often the app reads the module-level `name` of `file`, in any of its modules."""
        total = file.global_uses(name)
        for other in self.sources.modules():
            if other is file:
                continue
            for node in other.nodes(cst.ImportFrom):
                assert isinstance(node, cst.ImportFrom)
                if isinstance(node.names, cst.ImportStar):
                    continue
                if self.module_file(other, node) is not file:
                    continue
                for alias in node.names:
                    if alias.name.value == name:
                        total += other.global_uses(_local_name(alias))
            for attribute in other.nodes(cst.Attribute):
                assert isinstance(attribute, cst.Attribute)
                if attribute.attr.value == name and self.module_of(other, attribute.value) is file:
                    total += 1
        return total

    def imported(self, file: ParsedFile, name: str) -> tuple[ParsedFile, str] | None:
        """`from module import original as name`, where module is one of the app's files."""
        for node in file.nodes(cst.ImportFrom):
            assert isinstance(node, cst.ImportFrom)
            if isinstance(node.names, cst.ImportStar) or file.enclosing_function(node):
                continue
            for alias in node.names:
                if _local_name(alias) == name:
                    module = self.module_file(file, node)
                    if module is not None:
                        assert isinstance(alias.name, cst.Name)
                        return module, alias.name.value
        return None

    def module_of(self, file: ParsedFile, expr: cst.BaseExpression) -> ParsedFile | None:
        """The app module `expr` names in `file` (`import common`, `import pkg.mod as m`)."""
        dotted = _dotted(expr)
        if not dotted:
            return None
        for node in file.nodes(cst.Import):
            assert isinstance(node, cst.Import)
            if file.enclosing_function(node):
                continue
            for alias in node.names:
                full = _dotted(alias.name)
                local = _local_name(alias) if alias.asname else full
                if local == dotted:
                    return self.sources.module(file.path, full, 0)
        return None

    def module_file(self, file: ParsedFile, node: cst.ImportFrom) -> ParsedFile | None:
        dotted = _dotted(node.module) if node.module is not None else ""
        return self.sources.module(file.path, dotted, len(node.relative))

    # --- functions

    def returned(
        self, call: cst.Call, context: _Context
    ) -> tuple[cst.BaseExpression, _Context] | None:
        """What a call of one of the app's own functions returns, its parameters bound to
        this call's arguments; None for anything else (a generated struct, a library call)."""
        found = self.function_of(call.func, context)
        if found is None:
            return None
        function, file = found
        returns = [
            node for node in file.nodes(cst.Return)
            if file.enclosing_function(node) is function
        ]
        values = [r.value for r in returns if isinstance(r, cst.Return) and r.value is not None]
        if len(returns) != 1 or len(values) != 1:
            raise _Unfollowable(
                f"{file.path}:{file.line(function)}",
                f"`{function.name.value}` returns from {len(returns)} places, not one",
            )
        inner = _Context(file, context.frame_index, _Call(call, function, context), context.shared)
        return values[0], inner

    def function_of(
        self, func: cst.BaseExpression, context: _Context
    ) -> tuple[cst.FunctionDef, ParsedFile] | None:
        file = context.file
        if isinstance(func, cst.Name):
            own = _module_function(file, func.value)
            if own is not None:
                return own, file
            imported = self.imported(file, func.value)
            if imported is not None:
                module, original = imported
                found = _module_function(module, original)
                return (found, module) if found is not None else None
            return None
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
                method = _method(file, func, func.attr.value)
                return (method, file) if method is not None else None
            named = self.module_of(file, func.value)
            if named is not None:
                defined = _module_function(named, func.attr.value)
                return (defined, named) if defined is not None else None
        return None

    def argument(
        self, function: cst.FunctionDef, name: str, context: _Context
    ) -> _Argument | None:
        """What parameter `name` of `function` is bound to: at the helper call the walk came
        through, or at the call in the next runtime frame outward."""
        if context.call is not None:
            if context.call.function is not function:
                return None
            return self.bind(function, name, context.call.node, context.call.caller, context)
        outer_index = context.frame_index + 1
        if outer_index >= len(self.stack):
            return None
        outer = self.stack[outer_index]
        outer_file = self.sources.file(outer.path)
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
            bound = self.bind(function, name, call, _Context(outer_file, outer_index), context)
            if bound is not None:
                return bound
        return None

    def bind(
        self,
        function: cst.FunctionDef,
        name: str,
        call: cst.Call,
        call_context: _Context,
        def_context: _Context,
    ) -> _Argument | None:
        """Python's own binding of `call`'s arguments to `function`'s parameter `name`:
        by keyword, by position, else the default."""
        where = f"{call_context.file.path}:{call_context.file.line(call)}"
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return _Argument(arg.value, call_context, call, call_context, False)
        params = function.params
        names = [p.name.value for p in [*params.posonly_params, *params.params]]
        if names and names[0] in ("self", "cls") and not _is_static(function):
            names = names[1:]
        positional: list[cst.BaseExpression] = []
        for arg in call.args:
            if arg.keyword is not None or arg.star == "**":
                break
            if arg.star == "*":
                if name in names[len(positional):]:
                    raise _Unfollowable(where, f"`{name}` may come from the `*` argument")
                break
            positional.append(arg.value)
        if name in names and names.index(name) < len(positional):
            return _Argument(positional[names.index(name)], call_context, call, call_context, False)
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if param.name.value == name and param.default is not None:
                if any(arg.star == "**" for arg in call.args):
                    raise _Unfollowable(where, f"`{name}` may come from the `**` argument")
                return _Argument(param.default, def_context, call, call_context, True)
        return None


def _last_assignment(
    file: ParsedFile, function: cst.FunctionDef | None, name: str, before_line: int | None
) -> cst.BaseExpression | None:
    """The value last bound to `name` in `function` (None: at module level) before
    `before_line` (None: anywhere, for a module-level name read from a function)."""
    best: tuple[int, cst.BaseExpression] | None = None
    for node in file.nodes(cst.Assign) + file.nodes(cst.AnnAssign):
        if file.enclosing_function(node) is not function:
            continue
        line = file.line(node)
        if before_line is not None and line >= before_line:
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


def _is_static(function: cst.FunctionDef) -> bool:
    return any(_dotted(d.decorator) == "staticmethod" for d in function.decorators)


def _module_function(file: ParsedFile, name: str) -> cst.FunctionDef | None:
    """The module-level `def name` of `file` (the last one, as Python binds it)."""
    found = None
    for node in file.module.body:
        if isinstance(node, cst.FunctionDef) and node.name.value == name:
            found = node
    return found


def _method(file: ParsedFile, use: cst.CSTNode, name: str) -> cst.FunctionDef | None:
    """`def name` of the class whose method contains `use` (for `self.name(...)`)."""
    parent = file.parent(use)
    while parent is not None and not isinstance(parent, cst.ClassDef):
        parent = file.parent(parent)
    if not isinstance(parent, cst.ClassDef):
        return None
    found = None
    for statement in parent.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            found = statement
    return found


def _class_of(file: ParsedFile, function: cst.FunctionDef) -> str:
    parent = file.parent(function)
    while parent is not None and not isinstance(parent, cst.ClassDef):
        parent = file.parent(parent)
    return parent.name.value if isinstance(parent, cst.ClassDef) else ""


def _local_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _dotted(alias.name)


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


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
