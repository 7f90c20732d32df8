"""cdk8s apps are programs: they run only when the user asks (--run-apps, or `run-apps: true`
in a .chartfix.yaml of their own repository, never a cloned one's), and then in their staged
folder, without the credentials of chartfix's environment, and within a time limit."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, git

from chartfix.cli import main
from chartfix.errors import TargetError

pytest.importorskip("cdk8s", reason="cdk8s is not installed: pip install '.[cdk8s]'")

SPY = """\
import json, os, pathlib
pathlib.Path({seen!r}).write_text(json.dumps({{
    "env": dict(os.environ), "cwd": os.getcwd(), "files": sorted(os.listdir(".")),
}}))
"""


def spy_app(tmp_path: Path, name: str = "spy") -> tuple[Path, Path]:
    """A copy of the shared-dict app whose main.py first records what it sees."""
    app = tmp_path / name
    shutil.copytree(FIXTURES / "cdk8s-shared-dict", app,
                    ignore=shutil.ignore_patterns("__pycache__"))
    seen = tmp_path / f"{name}-seen.json"
    main_py = app / "main.py"
    main_py.write_text(SPY.format(seen=str(seen)) + main_py.read_text())
    return app, seen


def test_check_fix_and_bulk_name_and_skip_an_app_without_leave(tmp_path, capsys) -> None:
    app, seen = spy_app(tmp_path)
    assert main(["check", str(app)]) == 0
    out = capsys.readouterr().out
    assert "skipped: " in out and "cdk8s app not run" in out and "--run-apps" in out
    assert out.splitlines()[-1] == "1 cdk8s app, none checked; 1 cdk8s app not run"
    assert main(["fix", str(app)]) == 0
    err = capsys.readouterr().err
    assert f"skipped: {app}: cdk8s app not run" in err
    assert main(["bulk", str(tmp_path), "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "1 not run" in err.splitlines()[-1]
    assert not seen.exists(), "the app's code never ran"


def test_no_run_apps_wins_over_the_config_file(tmp_path, capsys) -> None:
    app, seen = spy_app(tmp_path)
    (app / ".chartfix.yaml").write_text("run-apps: true\n")
    assert main(["check", str(app), "--no-run-apps"]) == 0
    assert "not run (--no-run-apps)" in capsys.readouterr().out
    assert not seen.exists()


def test_a_repositorys_own_setting_counts_only_when_the_command_line_trusts_it(
    tmp_path, capsys
) -> None:
    """`run-apps: true` in a repository's .chartfix.yaml is the repository's author speaking
    (a pull request's, in a gate): ignored, and said so, unless the command line says the
    tree is the user's own (--trusted); a bulk --repos clone's never counts."""
    repo = tmp_path / "theirs"
    repo.mkdir()
    _, seen = spy_app(repo)
    (repo / ".chartfix.yaml").write_text("run-apps: true\n")
    git(repo, "init", "-q", "-b", "main")
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{repo}\n")
    assert main(["bulk", "--repos", str(repos), "-j", "1", "--trusted"]) == 0
    assert "never a bulk --repos clone" in capsys.readouterr().err
    assert main(["check", str(repo)]) == 0
    assert "`run-apps: true` in its .chartfix.yaml was ignored" in capsys.readouterr().out
    assert main(["bulk", str(repo), "-j", "1"]) == 0
    capsys.readouterr()
    assert not seen.exists()
    assert main(["bulk", str(repo), "-j", "1", "--trusted"]) == 0, "trusted: the file counts"
    capsys.readouterr()
    assert seen.exists()


def test_a_run_app_sees_no_credentials_and_runs_in_its_folder(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "GITHUB_TOKEN": "ghs_x", "GH_TOKEN": "gho_x", "AWS_SECRET_ACCESS_KEY": "aws",
        "AWS_ACCESS_KEY_ID": "AKIA", "GOOGLE_APPLICATION_CREDENTIALS": "/k.json",
        "AZURE_CLIENT_SECRET": "az", "NPM_TOKEN": "npm", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc",
        "MY_DATABASE_PASSWORD": "pw",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    from chartfix.runner import shutdown

    shutdown()  # workers kept from earlier tests were started with another environment
    app, seen = spy_app(tmp_path)
    assert main(["check", str(app), "--run-apps"]) == 1, "the app ran and has findings"
    capsys.readouterr()
    record = json.loads(seen.read_text())
    assert not set(secrets) & set(record["env"]), "no credential reaches the app"
    assert record["env"]["PATH"] == os.environ["PATH"]
    assert record["env"]["LC_ALL"] == "C.UTF-8"
    assert record["env"]["HOME"] != os.environ.get("HOME")
    assert {"cdk8s.yaml", "main.py", "imports"} <= set(record["files"]), "cwd: the app's folder"
    assert not Path(record["cwd"]).is_relative_to(tmp_path), "a staged copy, not the user's"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_the_time_limit_ends_the_app_and_what_it_started(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chartfix.sources.cdk8s.synth import synth

    synth_module = importlib.import_module("chartfix.sources.cdk8s.synth")
    monkeypatch.setattr(synth_module, "TIMEOUT_SECONDS", 5)
    app = tmp_path / "slow"
    app.mkdir()
    (app / "cdk8s.yaml").write_text("language: python\napp: python main.py\n")
    pid_file = tmp_path / "child.pid"
    (app / "main.py").write_text(
        "import pathlib, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\n"
        "time.sleep(300)\n"
    )
    with pytest.raises(TargetError, match=r"main.py: synthesis took over 5s"):
        synth(app)
    pid = int(pid_file.read_text())
    for _ in range(50):  # init reaps the orphan soon after the kill
        if not alive(pid):
            break
        time.sleep(0.1)
    assert not alive(pid), "a process the app started does not outlive the time limit"
