"""Values as Helm reads and merges them: values files (-f, ci/*.yaml, values.yaml, the
organisation's `.chartfix.yaml` `values`), merged map by map, and -f files made safe to
read many times (a pipe is read once)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chartfix.errors import TargetError, UsageError


def parse_values_file(path: Path) -> dict[str, Any]:
    """A values file (-f, ci/*.yaml, values.yaml) as Helm reads it; TargetError when it can't."""
    import helm_python

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise TargetError(path, f"cannot read values: {err}") from err
    try:
        values = helm_python.values_from_yaml(text) or {}
    except helm_python.HelmError as err:
        raise TargetError(path, f"invalid values YAML: {err}") from err
    except RecursionError as err:
        raise too_deep(path) from err
    if depth(values) > MAX_VALUES_DEPTH:
        raise too_deep(path)
    return values


MAX_VALUES_DEPTH = 100
"""How deeply values may nest (real charts stay below 15 levels): chartfix merges and walks
them recursively, and a deeper file would fail somewhere inside the run instead."""


def too_deep(path: Path) -> TargetError:
    return TargetError(
        path, f"values nested more than {MAX_VALUES_DEPTH} levels deep; chartfix reads "
        f"values up to {MAX_VALUES_DEPTH} levels"
    )


def depth(data: Any) -> int:
    """How many mappings and lists deep `data` nests (counted without recursion)."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        node, level = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(
            node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= MAX_VALUES_DEPTH:
            pending += [(child, level + 1) for child in children]
    return deepest


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def values_once(paths: Sequence[Path]) -> tuple[Path, ...]:
    """The user's -f files, made safe to read many times and in worker processes.

    A regular file stays as it is. A pipe (`-f <(sops -d secrets.yaml)`, `-f -` as
    /dev/stdin) can be read only once and only by this process: its bytes are read now and
    kept in a private file for the run. A missing file is a usage error before any work.
    """
    kept = []
    for path in paths:
        path = Path(path)
        try:
            if path.is_file():
                kept.append(path)
                continue
            data = path.read_bytes()
        except OSError as err:
            raise UsageError(f"-f {path}: {err.strerror or err}") from err
        kept.append(_private_copy(path, data))
    return tuple(kept)


def _private_copy(path: Path, data: bytes) -> Path:
    global _values_dir
    if _values_dir is None:
        _values_dir = tempfile.mkdtemp(prefix="chartfix-values-")
        atexit.register(shutil.rmtree, _values_dir, True)
    fd, name = tempfile.mkstemp(dir=_values_dir, prefix=f"{path.name}-", suffix=".yaml")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return Path(name)


_values_dir: str | None = None
