"""Run one cdk8s app's entry file and record which line of it built each object.

Executed as `python _runner.py STAGING ENTRY SIDECAR` in a child process: the app is user
code, so it never runs inside chartfix. Before the entry runs, `ApiObject.__init__` is
wrapped to remember the app's own call stack (files under the staging directory, generated
`imports/` excluded), and `App.synth` is wrapped to write that record as JSON after the
manifests are written. This file must import nothing from chartfix.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback
from typing import Any


def _user_stack(staging: str) -> list[list[Any]]:
    """The app's frames that led to this construct, innermost first: [relpath, line, func]."""
    frames: list[list[Any]] = []
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        path = os.path.realpath(name) if os.path.isabs(name) else ""
        if path.startswith(staging + os.sep):
            rel = os.path.relpath(path, staging).replace(os.sep, "/")
            if not rel.startswith("imports/"):
                frames.append([rel, frame.f_lineno, frame.f_code.co_name])
        frame = frame.f_back  # type: ignore[assignment]
    return frames


def main() -> int:
    staging, entry, sidecar = (os.path.realpath(a) for a in sys.argv[1:4])
    try:
        import cdk8s  # the real library, installed with the `cdk8s` extra
    except ImportError as err:
        where = os.path.relpath(entry, staging)
        sys.stderr.write(f"CHARTFIX-APP-ERROR {where}: {type(err).__name__}: {err}\n")
        return 3

    records: list[tuple[Any, list[list[Any]]]] = []
    original_init = cdk8s.ApiObject.__init__
    original_synth = cdk8s.App.synth

    def recording_init(self: Any, scope: Any, id: str, **kwargs: Any) -> None:
        original_init(self, scope, id, **kwargs)
        records.append((self, _user_stack(staging)))

    def recording_synth(self: Any) -> None:
        original_synth(self)
        described = []
        for obj, stack in records:
            meta = obj.metadata
            described.append(
                {
                    "kind": obj.kind,
                    "apiVersion": obj.api_version,
                    "name": obj.name,
                    "namespace": meta.namespace,
                    "id": obj.node.id,
                    "path": obj.node.path,
                    "stack": stack,
                }
            )
        with open(sidecar, "w", encoding="utf-8") as out:
            json.dump(described, out)

    cdk8s.ApiObject.__init__ = recording_init  # type: ignore[method-assign]
    cdk8s.App.synth = recording_synth  # type: ignore[method-assign]
    sys.path.insert(0, os.path.dirname(entry))
    sys.argv = [entry]
    try:
        runpy.run_path(entry, run_name="__main__")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException as err:  # report the app's own failure, one line, innermost app frame
        where = os.path.relpath(entry, staging)
        for frame, line in traceback.walk_tb(err.__traceback__):
            name = frame.f_code.co_filename
            path = os.path.realpath(name) if os.path.isabs(name) else ""
            if path.startswith(staging + os.sep):
                where = f"{os.path.relpath(path, staging)}:{line}"
        sys.stderr.write(f"CHARTFIX-APP-ERROR {where}: {type(err).__name__}: {err}\n")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
