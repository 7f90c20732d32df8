"""cdk8s apps as their owners keep them: checked from their committed output when
they are not run, and synthesized in an environment of their own declared dependencies
when they are (--run-apps), installed from the wheels `.ci/run` downloads (offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, git, snapshot

from chartfix.cli import main
from chartfix.errors import TargetError
from chartfix.sources.cdk8s.app import entry_of
from chartfix.sources.cdk8s.environment import declared, index_options

pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install 'cdk8s>=2.68'")

WHEELS = Path(__file__).resolve().parent.parent / ".wheels"


@pytest.fixture(scope="session")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the session: apps declaring the same share an environment."""
    return tmp_path_factory.mktemp("cache")


@dataclass
class OwnPip:
    """chartfix run as a command whose user's pip installs from the wheelhouse only (as a
    user's PIP_* variables would say), with a scratch cache folder. A process of its own:
    chartfix's kept workers would not see variables set in this one."""

    cache: Path
    links: tuple[Path, ...] = (WHEELS,)

    @property
    def envs(self) -> Path:
        return self.cache / "chartfix" / "app-envs"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ, "XDG_CACHE_HOME": str(self.cache), "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": " ".join(map(str, self.links)),
        }
        return subprocess.run(
            [*CHARTFIX, *args], env=env, capture_output=True, text=True, check=False
        )


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """The wheels the fixture apps declare: `.ci/run` downloads them first; a checkout
    without them gets them here once, as .ci/run does (then every run is offline)."""
    if not any(WHEELS.glob("cdk8s_plus_30-*.whl")):
        fetched = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:",
             "-d", str(WHEELS), "-r", str(WHEELS.parent / "tests" / "app-wheels.txt")],
            capture_output=True, text=True, check=False,
        )
        if fetched.returncode != 0:
            pytest.fail(f"no wheelhouse in {WHEELS}, and pip download failed (.ci/run "
                        f"fetches it): {fetched.stderr.strip()[-500:]}")
    return WHEELS


@pytest.fixture
def own_pip(env_cache: Path, wheelhouse: Path) -> OwnPip:
    return OwnPip(env_cache, (wheelhouse,))


def app_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# --- the entry and the declared dependencies -----------------------------------------------


@pytest.mark.parametrize(("command", "entry"), [
    ("pipenv install && pipenv run python ./main.py", "./main.py"),
    ("python3 main.py", "main.py"),
    ("python main.py", "main.py"),
    ("poetry run python -u -W ignore src/app.py --verbose", "src/app.py"),
    ("env A=1 .venv/bin/python3.11 main.py > /dev/null", "main.py"),
    ("./main.py", "./main.py"),
    ("python -m app", None),
    ("npx ts-node main.ts", None),
])
def test_the_entry_is_the_script_the_app_line_gives_python(command: str, entry: str | None):
    assert entry_of(command) == entry


def test_a_pipfile_declares_plain_requirements(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text(
        '[[source]]\nurl = "https://pypi.org/simple"\n\n[packages]\ncdk8s = "~=2.66.2"\n'
        'constructs = "*"\nrequests = {version = ">=2", extras = ["socks"]}\n\n'
        '[dev-packages]\npytest = {git = "https://example.com/pytest.git"}\n'
    )
    found = declared(tmp_path)
    assert found is not None and found.file == "Pipfile"
    assert found.requirements == ("cdk8s~=2.66.2", "constructs", "requests[socks]>=2")


@pytest.mark.parametrize(("name", "text", "said"), [
    ("Pipfile", '[packages]\nlib = {git = "https://example.com/lib.git", ref = "main"}\n',
     "`git, ref` chosen by the repository"),
    ("Pipfile", '[packages]\nlib = {version = "*", index = "mirror"}\n', "`index` chosen"),
    ("Pipfile", '[[source]]\nurl = "https://mirror.example.com/simple"\n[packages]\nlib = "*"\n',
     "an index chosen by the repository"),
    ("requirements.txt", "--index-url https://mirror.example.com/simple\nlib\n",
     "an index chosen by the repository"),
    ("requirements.txt", "lib @ https://example.com/lib-1.0.tar.gz\n", "chosen by the repository"),
    ("requirements.txt", "git+https://example.com/lib.git\n", "is no plain requirement"),
    ("requirements.txt", "-e .\n", "only plain requirements"),
    ("pyproject.toml", '[project]\nname = "app"\ndependencies = ["lib @ file:///tmp/lib"]\n',
     "chosen by the repository"),
])
def test_what_the_repository_would_choose_is_refused(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(TargetError) as refused:
        declared(tmp_path)
    assert refused.value.path == str(tmp_path / name)
    assert said in refused.value.reason and "\n" not in str(refused.value)


def test_the_users_pip_configuration_becomes_explicit_options() -> None:
    listed = (
        "global.index-url='https://pypi.example.com/simple'\n"
        "global.extra-index-url='file:///a file:///b'\n"
        "install.timeout='30'\n"
        ":env:.index-url='https://mirror.example.com/simple'\n"
        ":env:.no-index='1'\n"
        ":env:.config-file='/dev/null'\n"
    )
    assert index_options(listed) == [
        "--index-url", "https://mirror.example.com/simple",
        "--extra-index-url", "file:///a", "--extra-index-url", "file:///b",
        "--timeout", "30", "--no-index",
    ]


# --- synthesized in the app's own environment ----------------------------------------------

FIXED = """\
                selector=k8s.LabelSelector(match_labels={**WEB, "component": "web"}),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={**WEB, "component": "web"}),
"""


def test_an_app_runs_in_its_own_environment_and_its_fix_is_verified_there(
    tmp_path: Path, own_pip: OwnPip
) -> None:
    app = app_copy(tmp_path, "cdk8s-plus-pipfile")
    checked = own_pip.run("check", str(app), "--run-apps")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"{app}/main.py:30: error[overlap] Deployment/shop-web-" in checked.stdout
    assert f"{app}/main.py:64: error[stray] Service/shop-http-" in checked.stdout
    assert "Deployment/shop-cache-" not in checked.stdout, "cdk8s-plus gives it its own selector"
    envs = [p for p in own_pip.envs.iterdir() if p.is_dir()]
    assert len(envs) == 1 and (envs[0] / "bin" / "python").exists()

    fixed = own_pip.run("fix", str(app), "--run-apps", "--write")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "2 findings fixed, 0 left" in fixed.stderr
    assert "3 requirements of its Pipfile (cached" in fixed.stderr, "the check's, reused"
    text = (app / "main.py").read_text()
    assert FIXED in text and 'selector={**WEB, "component": "web"},' in text
    assert own_pip.run("check", str(app), "--run-apps").returncode == 0


def test_without_its_own_environment_the_app_says_which_module_it_lacks(
    tmp_path: Path, own_pip: OwnPip
) -> None:
    app = app_copy(tmp_path, "cdk8s-plus-pipfile")
    (app / "Pipfile").unlink()
    checked = own_pip.run("check", str(app), "--run-apps")
    assert checked.returncode == 2
    assert f"error: {app}/main.py:" in checked.stdout
    assert "No module named 'cdk8s_plus_30'" in checked.stdout
    assert "the app declares no dependencies (Pipfile" in checked.stdout


def test_a_refused_requirement_is_one_line_and_nothing_installs(
    tmp_path: Path, own_pip: OwnPip
) -> None:
    app = app_copy(tmp_path, "cdk8s-plus-pipfile")
    pipfile = app / "Pipfile"
    pipfile.write_text(pipfile.read_text().replace(
        'cdk8s-plus-30 = "==2.4.10"', 'cdk8s-plus-30 = {git = "https://example.com/plus.git"}'
    ))
    before = snapshot(app)
    envs = set(own_pip.envs.iterdir()) if own_pip.envs.exists() else set()
    checked = own_pip.run("check", str(app), "--run-apps")
    assert checked.returncode == 2
    assert checked.stdout.splitlines()[0] == (
        f"error: {pipfile}: cdk8s-plus-30: `git` chosen by the repository (a URL, VCS link, "
        "path or index); chartfix installs plain requirement names only, from your pip's "
        "own index"
    )
    assert snapshot(app) == before
    assert (set(own_pip.envs.iterdir()) if own_pip.envs.exists() else set()) == envs


def test_wheels_only_unless_source_builds_are_allowed(tmp_path: Path, own_pip: OwnPip) -> None:
    """A requirement published as a source distribution only is not built by default;
    --allow-source-builds lets pip try (here it goes on to need setuptools, offline)."""
    links = tmp_path / "links"
    package = links / "build" / "nowheel-9.9"
    package.mkdir(parents=True)
    (package / "setup.py").write_text("from setuptools import setup\nsetup(name='nowheel')\n")
    (package / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: nowheel\nVersion: 9.9\n")
    shutil.make_archive(str(links / "nowheel-9.9"), "gztar", package.parent, package.name)
    own_pip.links = (WHEELS, links)
    app = app_copy(tmp_path, "cdk8s-plus-pipfile")
    pipfile = app / "Pipfile"
    pipfile.write_text(pipfile.read_text().replace(
        'cdk8s-plus-30 = "==2.4.10"', 'cdk8s-plus-30 = "==2.4.10"\nnowheel = "==9.9"'
    ))
    checked = own_pip.run("check", str(app), "--run-apps")
    assert checked.returncode == 2
    assert f"error: {pipfile}: its dependencies do not install: ERROR: " in checked.stdout
    assert "nowheel==9.9" in checked.stdout and "setuptools" not in checked.stdout
    assert "(wheels only: --allow-source-builds lets pip build source distributions)" in (
        checked.stdout
    )
    built = own_pip.run("check", str(app), "--run-apps", "--allow-source-builds")
    assert built.returncode == 2
    assert "setuptools" in built.stdout, "pip took the source distribution to build it"


def test_generated_bindings_without_their_bundle_name_the_import_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path, "same-bug-cdk8s")
    (app / "cdk8s.yaml").write_text(
        "language: python\napp: pipenv run python main.py\nimports:\n  - k8s@1.26.0\n"
    )
    loader = app / "imports" / "k8s" / "_jsii" / "__init__.py"
    loader.parent.mkdir(parents=True)
    loader.write_text(
        'import jsii\n__jsii_assembly__ = jsii.JSIIAssembly.load(\n'
        '    "k8s", "0.0.0", __name__[0:-6], "k8s@0.0.0.jsii.tgz"\n)\n'
    )
    assert main(["check", str(app), "--run-apps"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"error: {loader.parent}/k8s@0.0.0.jsii.tgz: missing: ")
    assert f"run `cdk8s import k8s@1.26.0` in {app} first" in lines[0]


# --- checked from the committed output, not run --------------------------------------------

SPY = "import pathlib; pathlib.Path({seen!r}).write_text('ran')\n"


def spied(app: Path, tmp_path: Path) -> Path:
    seen = tmp_path / "seen"
    main_py = app / "main.py"
    main_py.write_text(SPY.format(seen=str(seen)) + main_py.read_text())
    return seen


def test_an_app_not_run_is_checked_from_its_committed_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path, "cdk8s-committed-dist")
    seen = spied(app, tmp_path)
    assert main(["check", str(app)]) == 1
    out = capsys.readouterr().out
    assert f"{app}/dist/shop.k8s.yaml:9: error[overlap] Deployment/shop-web-c80b2a96" in out
    assert f"{app}/dist/shop.k8s.yaml:47: error[stray] Service/shop-http-c8f99359" in out
    assert "checked its committed synthesized output dist/" in out
    assert out.count(
        "dist/ is the app's synthesized output, not its source: the Python source is fixed by "
        "running the app (chartfix fix --run-apps)."
    ) == 2, "each finding says where its fix belongs"
    assert "the Python source is fixed by running the app (--run-apps)" in out
    assert out.splitlines()[-1] == (
        "1 cdk8s app, 1 with findings: 2 errors, 0 warnings; "
        "1 cdk8s app not run, checked from committed output"
    )
    assert main(["check", str(app), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["charts"][0]["stand_in"] == "dist/"
    assert not seen.exists(), "the app's code never ran"


def test_fix_leaves_the_committed_output_as_it_is_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path, "cdk8s-committed-dist")
    seen = spied(app, tmp_path)
    before = snapshot(app)
    assert main(["fix", str(app), "--write"]) == 1
    err = capsys.readouterr().err
    assert "0 findings fixed, 2 left" in err
    assert (
        "left: overlap Deployment/shop-web-c80b2a96: Deployment/shop-web-c80b2a96 is read from "
        "dist/shop.k8s.yaml, what `cdk8s synth` wrote (the next synth overwrites an edit "
        "there): the Python source is fixed by running the app (--run-apps)"
    ) in err
    assert snapshot(app) == before and not seen.exists()


def test_the_output_folder_is_the_one_cdk8s_yaml_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path, "cdk8s-committed-dist")
    (app / "dist").rename(app / "manifests")
    (app / "cdk8s.yaml").write_text((app / "cdk8s.yaml").read_text() + "output: manifests\n")
    assert main(["check", str(app)]) == 1
    assert f"{app}/manifests/shop.k8s.yaml:9: error[overlap]" in capsys.readouterr().out
    assert main(["check", str(app), "--run-apps"]) == 1, "synthesized there, read from there"
    assert f"{app}/main.py:" in capsys.readouterr().out


def committed(repo: Path, paths: list[str], day: str) -> None:
    """Commit `paths` as of that day of January 2024 (git's times are what staleness reads)."""
    git(repo, "add", *paths)
    stamp = f"2024-01-{day}T12:00:00"
    subprocess.run(
        ["git", "commit", "-q", "-m", f"day {day}"], cwd=repo, check=True,
        env={**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )


def new_repo(path: Path) -> None:
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")


def test_output_committed_before_the_sources_is_said_to_be_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fixture's sources carry the fix; its dist/ is the output from before it."""
    app = app_copy(tmp_path, "cdk8s-stale-dist")
    new_repo(app)
    committed(app, ["dist", "cdk8s.yaml"], "01")
    committed(app, ["main.py", "imports"], "02")
    assert main(["check", str(app)]) == 1
    out = capsys.readouterr().out
    assert "note: the committed output dist/ is older than the app's sources" in out
    assert "it may not be what the app synthesizes now" in out
    assert main(["check", str(app), "--run-apps"]) == 0, "the sources themselves are fixed"
    capsys.readouterr()

    fresh = app_copy(tmp_path / "fresh", "cdk8s-committed-dist")
    new_repo(fresh)
    committed(fresh, ["."], "01")
    assert main(["check", str(fresh)]) == 1
    assert "older than" not in capsys.readouterr().out


def test_a_skipped_app_is_counted_and_fails_a_strict_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path, "cdk8s-shared-dict")
    assert main(["check", str(app)]) == 0
    out = capsys.readouterr().out
    assert "it commits no synthesized output (dist/) to check instead" in out
    assert out.splitlines()[-1] == "1 cdk8s app, none checked; 1 cdk8s app not run"
    assert main(["check", str(app), "--strict"]) == 1


def test_an_app_that_includes_a_url_says_it_needs_the_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "remote"
    app.mkdir()
    (app / "cdk8s.yaml").write_text("language: python\napp: python main.py\n")
    (app / "main.py").write_text(
        "from cdk8s import App, Chart, Include\n\napp = App()\nchart = Chart(app, 'remote')\n"
        "Include(chart, 'dashboard', url='http://127.0.0.1:9/recommended.yaml')\napp.synth()\n"
    )
    assert main(["check", str(app), "--run-apps"]) == 2
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"error: {app}/main.py:5: RuntimeError: Command failed: ")
    assert line.endswith(
        "http://127.0.0.1:9/recommended.yaml: the app includes a URL, and fetching it failed "
        "(it needs the network)"
    )


def test_an_app_that_fails_to_run_points_at_its_committed_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = app_copy(tmp_path, "cdk8s-committed-dist")
    (app / "main.py").write_text("raise RuntimeError('no cluster here')\n")
    assert main(["check", str(app), "--run-apps"]) == 2
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"error: {app}/main.py:1: RuntimeError: no cluster here",
        "  note: without --run-apps, chartfix checks the app's committed output dist/",
    ]


def test_a_cache_folder_that_cannot_be_written_is_one_line(
    tmp_path: Path, own_pip: OwnPip
) -> None:
    app = app_copy(tmp_path, "cdk8s-plus-pipfile")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    checked = OwnPip(blocked).run("check", str(app), "--run-apps")
    assert checked.returncode == 2
    assert checked.stdout.splitlines()[0].startswith(
        f"error: {app}/Pipfile: cannot prepare its environment in {blocked}/chartfix/app-envs: "
    )
