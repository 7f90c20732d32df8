"""The container image and the deploy/ files, checked offline with real parsers.

- Dockerfile: parsed with `dockerfile` (Docker's own Go parser, from PyPI); no daemon here.
- deploy/kubernetes/: validated against the Kubernetes OpenAPI schemas that
  `kubernetes-validate` ships (strict: an unknown field is an error), and checked to set the
  environment `chartfix bulk --shard auto` reads, for every completion index.
- deploy/github/: the shard matrix is 0..N-1 and each command line parses with chartfix's own
  argument parser.
"""

from __future__ import annotations

import copy
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import kubernetes_validate
import pytest
import yaml
from docker.utils.build import exclude_paths

from chartfix.cli import build_parser
from chartfix.publish.report.file import SHARD_COUNT_ENV, SHARD_INDEX_ENV, Shard

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
WORKFLOW = ROOT / "deploy" / "github" / "chartfix-bulk.yaml"
INDEX_ANNOTATION = "metadata.annotations['batch.kubernetes.io/job-completion-index']"


# --- Dockerfile ----------------------------------------------------------------------------


def instructions() -> list[Any]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def test_the_image_is_slim_python_with_git_and_chartfix_as_a_non_root_user() -> None:
    commands = instructions()
    assert commands[0].cmd == "FROM"
    assert re.fullmatch(r"python:3\.\d+-slim", commands[0].value[0]), commands[0].value
    runs = [" ".join(c.value) for c in commands if c.cmd == "RUN"]
    installs = [r for r in runs if "apt-get install" in r]
    assert installs and "git" in installs[0].split(), "git clones, commits and pushes"
    copied = {src for c in commands if c.cmd == "COPY" for src in c.value[:-1]}
    assert {"pyproject.toml", "chartfix"} <= copied
    assert all((ROOT / src).exists() for src in copied), copied
    assert any(re.search(r"pip install .*/src\b", r) for r in runs), "chartfix from the source"
    dependencies = tomllib_dependencies()
    assert any(d.startswith("helm-python-sdk") for d in dependencies), "Helm's engine"

    users = [i for i, c in enumerate(commands) if c.cmd == "USER"]
    assert users, "no USER: the container would run as root"
    user = commands[users[-1]].value[0]
    assert user.isdigit() and int(user) != 0, "numeric, so that runAsNonRoot can check it"
    assert all(c.cmd != "RUN" for c in commands[users[-1]:]), "nothing runs as root after"
    entry = next(c for c in commands if c.cmd == "ENTRYPOINT")
    assert entry.json and entry.value == ("chartfix",)


def build_context(tmp: Path) -> Path:
    """The build context Docker sends: the repository's files that `.dockerignore` lets
    through, with Docker's own matching rules (the `docker` package's `exclude_paths`, which
    `docker build` through docker-py uses)."""
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    context = tmp / "context"
    for name in sorted(exclude_paths(str(ROOT), patterns, dockerfile="Dockerfile")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / name)
    return context


def copy_into_image(context: Path, image: Path) -> None:
    """Every COPY of the Dockerfile, as Docker runs it: sources read from the context only
    (a missing one fails the build), a directory's contents copied into the destination, a
    destination ending in `/` (or several sources) a directory."""
    for command in instructions():
        if command.cmd != "COPY":
            continue
        assert not command.flags, f"COPY {command.flags}: not reproduced here"
        *sources, destination = command.value
        into_dir = destination.endswith("/") or len(sources) > 1
        target = image / destination.lstrip("/")
        for source in sources:
            found = context / source
            assert found.exists(), f"COPY {source}: not in the build context"
            if found.is_dir():
                shutil.copytree(found, target, dirs_exist_ok=True)
            else:
                place = target / found.name if into_dir else target
                place.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(found, place)


def pip_install_source(image: Path) -> Path:
    """The directory the Dockerfile's `pip install` installs, inside the image."""
    runs = [" ".join(c.value) for c in instructions() if c.cmd == "RUN"]
    [install] = [r for r in runs if "pip install" in r]
    words = shlex.split(install.split("&&")[0])
    [spec] = [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return image / spec.lstrip("/")


def test_chartfix_installs_and_runs_from_the_images_exact_build_context(tmp_path: Path) -> None:
    """No Docker daemon runs here: the build context is rebuilt as Docker makes it, the COPY
    lines are played into an image root, and chartfix is built and installed from what they
    copied into a fresh virtualenv (its dependencies come from the test environment:
    --no-deps, --no-build-isolation, no network), then run as the ENTRYPOINT runs it."""
    image = tmp_path / "image"
    copy_into_image(build_context(tmp_path), image)
    source = pip_install_source(image)
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "--no-cache-dir", "-w", str(wheels), str(source)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    dependencies = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    [wheel] = wheels.glob("chartfix-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, check=True, timeout=600,
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = subprocess.run(
        [str(python), "-c", "import chartfix, chartfix_recipes; print(chartfix.__file__)"],
        capture_output=True, text=True, check=True, env=env, cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), "chartfix came from the image"
    entry = next(c for c in instructions() if c.cmd == "ENTRYPOINT").value
    for args in (["--version"], ["recipes"]):
        ran = subprocess.run([*entry, *args], capture_output=True, text=True, check=False,
                             env=env, cwd=tmp_path, timeout=300)
        assert ran.returncode == 0, ran.stderr[-2000:]
        assert ran.stdout.strip()
    listed = subprocess.run([*entry, "recipes"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, check=True).stdout
    shipped = [p.stem for p in (ROOT / "recipes").glob("*.yaml")]
    assert shipped and all(name in listed for name in shipped), "the declarative recipes ship"


def tomllib_dependencies() -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(data["project"]["dependencies"])


# --- Kubernetes ----------------------------------------------------------------------------


def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def the_job(docs: list[dict[str, Any]], name: str = "chartfix-bulk") -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == name)


@pytest.mark.parametrize("version", ["1.27.0", kubernetes_validate.latest_version()])
def test_the_manifests_validate_against_the_kubernetes_schemas(version: str) -> None:
    docs = manifests()
    assert {d["kind"] for d in docs} == {"ConfigMap", "PersistentVolumeClaim", "Job"}
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    job = copy.deepcopy(the_job(manifests()))
    job["spec"]["completionsMode"] = job["spec"].pop("completionMode")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)


def container_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def test_the_indexed_job_sets_what_shard_auto_reads() -> None:
    docs = manifests()
    job = the_job(docs)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    env = container_env(container)
    assert int(env[SHARD_COUNT_ENV]["value"]) == spec["completions"]
    assert env[SHARD_INDEX_ENV]["valueFrom"]["fieldRef"]["fieldPath"] == INDEX_ANNOTATION

    args = build_parser().parse_args(
        [a.replace(f"$({SHARD_INDEX_ENV})", "0") for a in container["args"]]
    )
    assert args.command == "bulk" and args.shard == "auto"
    for index in range(spec["completions"]):  # what each pod's chartfix makes of its env
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(SHARD_INDEX_ENV, str(index))
            patch.setenv(SHARD_COUNT_ENV, env[SHARD_COUNT_ENV]["value"])
            assert Shard.parse(args.shard) == Shard(index, spec["completions"])

    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts.values()) <= set(volumes), "every mount has its volume"

    def volume_of(path: Path) -> dict[str, Any]:
        mount = next(m for m in mounts if path.is_relative_to(m))
        return volumes[mounts[mount]]

    report = volume_of(Path(args.report))
    assert "persistentVolumeClaim" in report, "reports outlive the pods"
    raw = container["args"]
    assert f"$({SHARD_INDEX_ENV})" in raw[raw.index("--report") + 1], "one report per shard"
    assert "configMap" in volume_of(args.repos)
    helper = env["GIT_CONFIG_VALUE_0"]["value"]
    credentials = volume_of(Path(helper.split("--file=")[1]))
    assert env["GIT_CONFIG_KEY_0"]["value"] == "credential.helper"
    assert credentials["secret"]["secretName"], "git credentials come from a Secret"

    merge = the_job(docs, "chartfix-merge")["spec"]["template"]["spec"]
    claims = {
        v["persistentVolumeClaim"]["claimName"] for v in merge["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {report["persistentVolumeClaim"]["claimName"]}, "merge reads the shards"
    assert "report merge" in " ".join(merge["containers"][0]["args"])


def test_the_pods_run_as_the_images_user() -> None:
    user = next(c for c in reversed(instructions()) if c.cmd == "USER").value[0]
    for name in ("chartfix-bulk", "chartfix-merge"):
        security = the_job(manifests(), name)["spec"]["template"]["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True
        assert str(security["runAsUser"]) == user


# --- GitHub Actions --------------------------------------------------------------------------


def test_the_workflow_runs_one_job_per_shard_then_merges() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    count = int(workflow["env"][SHARD_COUNT_ENV])
    shard = workflow["jobs"]["shard"]
    assert shard["strategy"]["matrix"]["shard"] == list(range(count))
    assert shard["strategy"]["fail-fast"] is False, "one failing shard must not cancel others"
    [bulk_step] = [s for s in shard["steps"] if "chartfix bulk" in s.get("run", "")]
    line = bulk_step["run"].split("||")[0]
    words = shlex.split(
        line.replace("${{ matrix.shard }}", "2").replace(f"${SHARD_COUNT_ENV}", str(count))
        .replace("$RUNNER_TEMP", "/tmp")
    )
    args = build_parser().parse_args(words[1:])
    assert Shard.parse(args.shard) == Shard(2, count)
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload"))
    assert upload["with"]["path"] == str(args.report).replace("2", "${{ matrix.shard }}")

    merge = workflow["jobs"]["merge"]
    assert merge["needs"] == "shard" and merge["if"] == "always()"
    [merge_step] = [s for s in merge["steps"] if "report merge" in s.get("run", "")]
    for command in re.findall(r"chartfix (report (?:merge|html) [^;|]*)", merge_step["run"]):
        build_parser().parse_args(shlex.split(command))


@pytest.mark.parametrize(("code", "succeeds"), [(0, True), (1, True), (2, False)])
def test_a_shard_with_findings_left_completes_and_a_failure_fails(
    code: int, succeeds: bool, tmp_path: Path
) -> None:
    """The pod's command as Kubernetes runs it (command + args, `$(VAR)` expanded), with a
    test double `chartfix` on PATH that records its arguments and exits `code`: exit 1
    (findings left) is a completed shard, as in the GitHub workflow; 2 fails the pod. The
    real chartfix gets the manifest's args unchanged."""
    container = the_job(manifests())["spec"]["template"]["spec"]["containers"][0]
    argv = [
        a.replace(f"$({SHARD_INDEX_ENV})", "3")
        for a in container.get("command", []) + container["args"]
    ]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "chartfix"
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/argv"\nexit {code}\n')
    stub.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is succeeds, result
    if not succeeds:
        assert result.returncode == code
    passed = (tmp_path / "argv").read_text().splitlines()
    assert passed == [a.replace(f"$({SHARD_INDEX_ENV})", "3") for a in container["args"]]
