"""Synthesis: run a cdk8s app (user code) in a child process, read back its manifests.

The app runs on a staged copy of its directory, so edited sources (`overrides`) can be
synthesized for verification without touching the user's files, with the Python of its own
environment (environment.py) or chartfix's. Each object is traced to the Python file and
line that constructed it (see `_runner.py`); the manifests are read from the output folder
its cdk8s.yaml declares, as `cdk8s synth` would write them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartfix import yamlfile
from chartfix.environment import child_environment
from chartfix.errors import TargetError
from chartfix.model.objects import FileDocument, K8sObject, ObjectRef, Rendering
from chartfix.sources.cdk8s.app import _SKIPPED_DIRS, CdkApp, load_app

SCENARIO = "synth"
TIMEOUT_SECONDS = 120
_RUNNER = Path(__file__).with_name("_runner.py")
_REAPER = Path(__file__).with_name("_reaper.py")
STOP_SECONDS = 5
"""How long the reaper has to end what the app started once told to stop."""
_ERROR_MARK = "CHARTFIX-APP-ERROR "
# jsii prints a large banner on Node versions it no longer supports; the app still works.
_QUIET_JSII = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": ",".join(str(v) for v in range(10, 40)),
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_KNOWN_BROKEN_NODE_VERSION": "1",
}


@dataclass(frozen=True)
class Frame:
    path: str
    line: int
    function: str


@dataclass(frozen=True)
class Construction:
    """Where in the app's Python an object was constructed."""

    construct_id: str
    construct_path: str
    stack: tuple[Frame, ...]
    """The app's own frames, innermost first (generated `imports/` left out)."""

    @property
    def frame(self) -> Frame | None:
        return self.stack[0] if self.stack else None


@dataclass
class Synthesis:
    app: CdkApp
    rendering: Rendering
    origins: dict[ObjectRef, Construction] = field(default_factory=dict)
    seconds: float = 0.0


def synth(app_dir: Path, overrides: Mapping[str, bytes] | None = None) -> Rendering:
    """The objects the app at `app_dir` synthesizes (with `overrides` replacing its files)."""
    return synthesize(load_app(app_dir), overrides).rendering


def synthesize(
    app: CdkApp, overrides: Mapping[str, bytes] | None = None, python: Path | None = None
) -> Synthesis:
    """Run the app (with `overrides` replacing its files) with `python` (default:
    chartfix's own) and read what it synthesized."""
    started = time.perf_counter()
    missing = missing_bundle(app)
    if missing is not None:
        raise missing
    with tempfile.TemporaryDirectory(prefix="chartfix-cdk8s-") as tmp:
        staging = Path(tmp) / "app"
        outdir = staging / app.output
        sidecar = Path(tmp) / "origins.json"
        _stage(app, staging, overrides or {})
        _run(app, staging, outdir, sidecar, python or Path(sys.executable))
        documents = _read_manifests(app, outdir)
        records = _read_sidecar(app, sidecar)
    synthesis = _objects(app, documents, records)
    synthesis.seconds = time.perf_counter() - started
    return synthesis


def _stage(app: CdkApp, staging: Path, overrides: Mapping[str, bytes]) -> None:
    """Copy the app without following symlinks out of it, nor its committed output (the
    run writes it anew), then apply `overrides`."""
    root = app.root
    output = root / app.output
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [
            d for d in dirnames if d not in _SKIPPED_DIRS and here / d != output
        ]
        target_dir = staging / here.relative_to(root)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in list(dirnames):
            if (here / name).is_symlink():
                _inside(root, here / name)
        for name in filenames:
            source = here / name
            if source.is_symlink():
                _inside(root, source)
            shutil.copyfile(source, target_dir / name)
    for relative, data in overrides.items():
        target = (staging / relative).resolve()
        if not target.is_relative_to(staging.resolve()):
            raise TargetError(root / relative, "override lies outside the app")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _inside(root: Path, link: Path) -> None:
    if not link.resolve().is_relative_to(root.resolve()):
        raise TargetError(link, "symlink points outside the app")


def _run(app: CdkApp, staging: Path, outdir: Path, sidecar: Path, python: Path) -> None:
    """Run the app's entry on the staged copy with `python`, in its folder, with a scrubbed
    environment, under the reaper (`_reaper.py`, run by chartfix's own Python): every
    process the app starts, one that double-forks and leaves its session too, ends when it
    does or at the time limit; the process group is killed after, as a last resort."""
    env = {**app_environment(os.environ, staging.parent / "home"), "CDK8S_OUTDIR": str(outdir)}
    command = [
        sys.executable, str(_REAPER),
        str(python), str(_RUNNER), str(staging), str(staging / app.entry), str(sidecar),
    ]
    with subprocess.Popen(
        command, cwd=staging, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    ) as child:
        try:
            _, stderr = child.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as err:
            _stop(child)
            child.communicate()
            raise TargetError(app.entry_path, f"synthesis took over {TIMEOUT_SECONDS}s") from err
        finally:
            _kill_group(child.pid)
    if child.returncode == 0:
        return
    for line in stderr.splitlines():
        if line.startswith(_ERROR_MARK):
            where, _, reason = line[len(_ERROR_MARK):].partition(": ")
            raise TargetError(app.root / where, _explained(reason, python))
    raise TargetError(app.entry_path, f"synthesis failed: {_last_line(stderr)}")


def _explained(reason: str, python: Path) -> str:
    """The app's own error, with what it means where cdk8s' words do not say it."""
    if "/_loadurl." in reason:  # cdk8s' Include of a URL, fetched by Node
        return f"{reason}: the app includes a URL, and fetching it failed (it needs the network)"
    return _missing_module(reason, python) or reason


def _missing_module(reason: str, python: Path) -> str | None:
    """What to do about a module the app imports that its Python lacks."""
    missing = re.search(r"No module named '([^'.]+)", reason)
    if missing is None:
        return None
    own = Path(python) != Path(sys.executable)
    if missing[1] in ("cdk8s", "constructs") and not own:
        return "cdk8s is not installed (pip install 'cdk8s>=2.68' beside chartfix)"
    where = "its declared dependencies" if own else (
        "chartfix's environment, and the app declares no dependencies (Pipfile, "
        "requirements.txt or pyproject.toml beside cdk8s.yaml)"
    )
    return f"{reason}: the module is not in {where}"


_BUNDLE = re.compile(r"""["']([^"']+\.jsii\.tgz)["']""")


def missing_bundle(app: CdkApp) -> TargetError | None:
    """Generated bindings (`imports/k8s/`) whose jsii bundle is not there: `cdk8s import`
    writes it, and repositories often ignore it. The error says which import to run."""
    imports = app.root / "imports"
    if not imports.is_dir():
        return None
    for loader in sorted(imports.rglob("_jsii/__init__.py")):
        try:
            named = _BUNDLE.findall(loader.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        for bundle in named:
            if not (loader.parent / bundle).is_file():
                module = loader.parent.parent.relative_to(imports).as_posix()
                specs = [s for s in app.imports if re.split(r"[@:]", s)[0] == module]
                run = f"cdk8s import {specs[0]}" if specs else "cdk8s import"
                return TargetError(
                    loader.parent / bundle,
                    f"missing: the generated bindings imports/{module} need the jsii bundle "
                    f"`cdk8s import` writes; run `{run}` in {app.root} first",
                )
    return None


def _stop(child: subprocess.Popen[str]) -> None:
    """Ask the reaper to end the app and all it started, then kill its group."""
    with contextlib.suppress(ProcessLookupError):
        child.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(STOP_SECONDS)
    _kill_group(child.pid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, signal.SIGKILL)


def app_environment(environ: Mapping[str, str], home: Path) -> dict[str, str]:
    """What an app sees of chartfix's environment: the allowlist of chartfix.environment (PATH,
    locale, temp dirs, Python and Node search paths) and JSII_*, with HOME an empty folder
    of its own. Everything else, tokens and cloud keys above all (GITHUB_TOKEN, AWS_*,
    SSH_AUTH_SOCK, KUBECONFIG...), stays out."""
    kept = child_environment(environ, home, prefixes=("JSII_",))
    return {**kept, **_QUIET_JSII, "PYTHONDONTWRITEBYTECODE": "1"}


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and "!!" not in line]
    return lines[-1] if lines else "no output"


def _read_manifests(app: CdkApp, outdir: Path) -> list[dict[str, Any]]:
    files = sorted(outdir.glob("*.yaml")) if outdir.is_dir() else []
    if not files:
        raise TargetError(
            app.entry_path,
            f"the app wrote no manifests to {app.output}/, the output folder of its "
            "cdk8s.yaml (does it call app.synth()?)",
        )
    documents: list[dict[str, Any]] = []
    for path in files:
        # As Helm's rendered output: any size, but aliases bounded (the app is user code).
        try:
            loaded = list(yamlfile.load_all(path.read_bytes(), path.name, max_bytes=None))
        except TargetError as err:
            raise TargetError(app.entry_path, f"synthesized {err}") from err
        documents.extend(doc for doc in loaded if isinstance(doc, dict))
    return documents


def _read_sidecar(app: CdkApp, sidecar: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return records if isinstance(records, list) else []


def _objects(
    app: CdkApp, documents: list[dict[str, Any]], records: list[dict[str, Any]]
) -> Synthesis:
    by_ref: dict[ObjectRef, Construction] = {}
    for record in records:
        ref = ObjectRef(str(record["kind"]), str(record["name"]), record.get("namespace"))
        frames = tuple(Frame(str(p), int(n), str(f)) for p, n, f in record.get("stack") or [])
        by_ref.setdefault(ref, Construction(str(record["id"]), str(record["path"]), frames))
    rendering = Rendering(scenario=SCENARIO)
    per_file: dict[str, int] = {}
    origins: dict[ObjectRef, Construction] = {}
    for body in documents:
        obj = K8sObject(body, FileDocument(""), chart=app.name)
        origin = by_ref.get(obj.ref)
        path = origin.frame.path if origin and origin.frame else app.entry
        index = per_file.get(path, 0)
        per_file[path] = index + 1
        obj = K8sObject(body, FileDocument(path, index), chart=app.name)
        rendering.objects.append(obj)
        if origin is not None:
            origins[obj.ref] = origin
    return Synthesis(app, rendering, origins)
