"""docs/security.md, line by line: what a repository's own files may make chartfix read,
fetch, run, write and print, each checked with a canary that fails loudly.

- an outside file (`outside/secret.txt`, beside the repository) whose content must never
  appear in chartfix's output, its report or its HTML page;
- a loopback HTTP server (127.0.0.1, stops by itself) that must receive no request;
- secret environment variables (GITHUB_TOKEN, SSH_AUTH_SOCK, AWS_*, KUBECONFIG) that must be
  absent from a child process's /proc/PID/environ.
"""

from __future__ import annotations

import http.server
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, git

from chartfix.cli import main
from chartfix.errors import UsageError
from chartfix.publish.report import file as report_file

SECRET = "CANARY-d41d8cd9-OUTSIDE"
SECRET_ENV = {
    "GITHUB_TOKEN": "ghs_" + SECRET, "SSH_AUTH_SOCK": "/run/agent-" + SECRET,
    "AWS_SECRET_ACCESS_KEY": "aws-" + SECRET, "KUBECONFIG": "/kube-" + SECRET,
}
CHART = "apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers: [{{name: c, image: x}}]
"""
WORKER = DEPLOY.format(name="worker")
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
"""A second Deployment on the web Deployment's selector, and a Service over both: an
overlap error, which chartfix fixes."""


# --- canaries -----------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository, holding the secret no output may show."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"{SECRET}: leaked\n")
    (folder / "kubeconfig").write_text(f"users:\n  - name: admin\n    token: {SECRET}\n")
    return folder


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text, f"the outside canary leaked: ...{_around(text)}..."


def _around(text: str) -> str:
    at = text.index(SECRET)
    return text[max(0, at - 120): at + 60]


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def loopback_server(seconds: float = 60) -> Iterator[tuple[str, list[str]]]:
    """(base URL, requests received) of an HTTP server on 127.0.0.1 that stops by itself
    after `seconds` (and when the block ends)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    server.hits = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    timer = threading.Timer(seconds, server.shutdown)
    timer.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()


def environ_of(path: Path) -> dict[str, str]:
    """An environment a spy recorded from /proc/PID/environ."""
    raw = path.read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRET_ENV.items():
        monkeypatch.setenv(key, value)
    from chartfix.runner import shutdown

    shutdown()  # workers kept from earlier tests were started with another environment


# --- repositories ---------------------------------------------------------------------------


def repository(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def chart(path: Path, name: str = "app", deploy: str = "web") -> Path:
    (path / "templates").mkdir(parents=True, exist_ok=True)
    (path / "Chart.yaml").write_text(CHART.format(name=name))
    (path / "templates" / "deploy.yaml").write_text(DEPLOY.format(name=deploy))
    (path / "templates" / "worker.yaml").write_text(WORKER)
    (path / "templates" / "service.yaml").write_text(SERVICE)
    return path


def chartfix(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """chartfix as a user's terminal runs it: stdout and stderr, together."""
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([*CHARTFIX, *args], cwd=cwd, capture_output=True, text=True,
                          env={**environment, **(env or {})}, check=False, timeout=600)
    return done.returncode, done.stdout + done.stderr


def bulk_outputs(capsys: pytest.CaptureFixture[str], tree: Path, tmp_path: Path,
                 *extra: str) -> tuple[int, str, str, str]:
    """(status, terminal output, report, HTML page) of `bulk TREE --report --html`."""
    report, page = tmp_path / "report.json", tmp_path / "page.html"
    status = main(["bulk", str(tree), "-j", "1", "--report", str(report), "--html", str(page),
                   *extra])
    captured = capsys.readouterr()
    return (status, captured.out + captured.err, report.read_text(),
            page.read_text() if page.exists() else "")


# --- docs/security.md ------------------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"


def test_every_line_of_the_threat_model_names_tests_that_exist() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ")][1:]
    assert len(rows) >= 10
    here = Path(__file__).resolve().parent
    for row in rows:
        tests = row.rstrip(" |").rsplit("|", 1)[1]
        named = [t.strip("` ") for t in tests.split(",") if t.strip()]
        assert named, f"a threat-model line without a test: {row[:60]}"
        for name in named:
            file, _, function = name.rpartition("::")
            source = (here.parent / file if file else Path(__file__)).read_text()
            assert f"def {function}(" in source, f"{name} is named in docs/security.md only"


# --- chart files: Helm renders with no network ---------------------------------------------


def test_helm_renders_without_dns_or_a_cluster(tmp_path: Path) -> None:
    from chartfix.sources.helm.chart import load_chart, scenarios
    from chartfix.sources.helm.render import render

    app = chart(tmp_path / "app")
    (app / "templates" / "cm.yaml").write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n'
        '  ip: "{{ getHostByName "localhost" }}"\n'
        '  secret: "{{ lookup "v1" "Secret" "default" "x" }}"\n'
    )
    loaded = load_chart(app)
    rendered = render(loaded, scenarios(loaded)[0])
    (cm,) = [o for o in rendered.objects if o.kind == "ConfigMap"]
    assert cm.body["data"] == {"ip": "", "secret": "map[]"}


# --- .chartfix.yaml: recipe and values stay inside the repository --------------------------


def test_a_recipe_outside_the_repository_is_refused_unread(tmp_path, outside, capsys) -> None:
    app = chart(repository(tmp_path / "repo") / "app")
    (app / ".chartfix.yaml").write_text(f"recipe: {outside / 'secret.txt'}\n")

    assert main(["fix", str(app)]) == 2
    err = capsys.readouterr().err
    assert_no_secret(err)
    assert "`recipe`: recipe file" in err and "is outside the repository" in err
    (app / ".chartfix.yaml").write_text("recipe: ../../outside/secret.txt\n")
    assert main(["fix", str(app)]) == 2
    assert_no_secret(capsys.readouterr().err)


def test_values_files_outside_the_repository_are_refused_unread(
    tmp_path, outside, capsys
) -> None:
    """The kubeconfig case: a template printing `.Values.users` into a name would show it in
    check's output, 8 times in the bulk report and in its page."""
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app", deploy="web-{{ toJson .Values.users }}")
    for written in (str(outside / "kubeconfig"), "../../outside/kubeconfig"):
        (app / ".chartfix.yaml").write_text(f"values: [{written}]\n")
        assert main(["check", str(app)]) == 2
        out = capsys.readouterr().out
        assert_no_secret(out)
        assert f"{app / '.chartfix.yaml'}: `values`: {written} is outside the repository" in out
        status, said, report, page = bulk_outputs(capsys, repo, tmp_path)
        assert status == 2 and "is outside the repository" in report
        assert_no_secret(said, report, page)
    link = repo / "shared.yaml"
    link.symlink_to(outside / "kubeconfig")
    (app / ".chartfix.yaml").write_text("values: [../shared.yaml]\n")
    assert main(["check", str(app)]) == 2, "a link out of the repository is outside it"
    assert_no_secret(capsys.readouterr().out)


def test_values_files_inside_the_repository_are_read(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    (repo / "org-values.yaml").write_text("users: [alice]\n")
    app = chart(repo / "app", deploy="web-{{ index .Values.users 0 }}")
    (app / ".chartfix.yaml").write_text("values: [../org-values.yaml]\n")
    assert main(["check", str(app)]) == 1
    assert "Deployment/web-alice" in capsys.readouterr().out


# --- chart dependencies stay inside the repository -----------------------------------------


def test_a_file_dependency_outside_the_repository_is_refused(tmp_path, outside, capsys) -> None:
    chart(outside / "secretchart", name="secretchart", deploy=SECRET.lower())
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app")
    for written in (f"file://{outside / 'secretchart'}", "file://../../outside/secretchart"):
        (app / "Chart.yaml").write_text(CHART.format(name="app") + (
            f"dependencies:\n  - name: secretchart\n    version: 1.0.0\n"
            f"    repository: {written}\n"
        ))
        assert main(["check", str(app)]) == 2
        out = capsys.readouterr().out
        assert SECRET.lower() not in out
        assert f"dependency secretchart: {written} is outside the repository" in out


def test_the_sibling_search_stops_at_the_repository_root(tmp_path, capsys) -> None:
    """In bulk --repos, the folder above a repository holds the other clones."""
    clones = tmp_path / "clones"
    chart(clones / "neighbour", name="nb", deploy=SECRET.lower())
    repo = repository(clones / "victim")
    chart(repo, name="victim")
    (repo / "Chart.yaml").write_text(CHART.format(name="victim") + (
        "dependencies:\n  - name: nb\n    version: 1.0.0\n    repository: oci://x/y\n"
    ))
    assert main(["check", str(repo)]) == 1
    out = capsys.readouterr().out
    assert SECRET.lower() not in out
    assert "dependency nb" in out, "the dependency is missing, and said so"


def test_siblings_inside_the_repository_are_still_found(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    common = chart(repo / "charts" / "common", name="common", deploy="from-common")
    for name in ("worker.yaml", "service.yaml"):  # the app's own: no object twice
        (common / "templates" / name).unlink()
    app = chart(repo / "charts" / "app")
    (app / "Chart.yaml").write_text(CHART.format(name="app") + (
        "dependencies:\n  - name: common\n    version: 1.0.0\n    repository: oci://x/y\n"
    ))
    assert main(["check", str(app), "--format", "json"]) == 1
    assert "from-common" in capsys.readouterr().out


# --- symlinks in a chart (as before: the same boundary) ------------------------------------


def test_a_template_linked_outside_the_repository_is_refused_unread(
    tmp_path, outside, capsys
) -> None:
    app = chart(repository(tmp_path / "repo") / "app")
    (app / "templates" / "cm.yaml").symlink_to(outside / "secret.txt")
    assert main(["check", str(app)]) == 2
    out = capsys.readouterr().out
    assert_no_secret(out)
    assert "symlink points outside" in out


# --- kustomizations: no network, no local path outside, no credentials ---------------------

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")


def kustomization(repo: Path, resources: str) -> Path:
    app = repo / "app"
    app.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "same-bug-kustomize" / "web.yaml", app / "web.yaml")
    (app / "kustomization.yaml").write_text(f"resources:\n  - web.yaml\n{resources}")
    return app


@needs_kubectl
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_remote_resource_is_refused_and_never_fetched(tmp_path, capsys, command) -> None:
    with loopback_server() as (url, hits):
        app = kustomization(repository(tmp_path / "repo"), f"  - {url}/remote.yaml\n")
        assert main([command, str(app)]) == 2
        captured = capsys.readouterr()
        assert hits == [], "a repository's kustomization reached the network"
    line = f"{app / 'kustomization.yaml'}: `resources` names {url}/remote.yaml, a remote resource"
    assert line in captured.out + captured.err


@needs_kubectl
def test_bulk_repos_refuses_remote_resources_too(tmp_path, capsys) -> None:
    with loopback_server() as (url, hits):
        repo = repository(tmp_path / "theirs")
        kustomization(repo, f"  - {url}/remote.yaml\n")
        git(repo, "add", "-A")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
        (tmp_path / "repos.txt").write_text(f"{repo}\n")
        main(["bulk", "--repos", str(tmp_path / "repos.txt"), "--no-run-apps", "-j", "1",
              "--workdir", str(tmp_path / "clones")])
        err = capsys.readouterr().err
        assert hits == [], "a cloned repository's kustomization reached the network"
    assert "a remote resource" in err


@needs_kubectl
def test_allow_remote_fetches_with_no_credential_in_kubectl_or_its_git(
    tmp_path, capsys, secret_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--allow-remote (a trusted tree): kubectl fetches, and the git it starts for a remote
    base sees none of the job's tokens, neither in its environment nor in kubectl's."""
    repo = repository(tmp_path / "repo")  # with the real git, before the spy's
    spy = tmp_path / "bin"
    spy.mkdir()
    (spy / "git").write_text(
        f"#!{sys.executable}\nimport os, pathlib, sys\n"
        f"out = pathlib.Path({str(tmp_path)!r})\n"
        "(out / 'git.environ').write_bytes(open('/proc/self/environ', 'rb').read())\n"
        "(out / 'kubectl.environ').write_bytes(open(f'/proc/{os.getppid()}/environ', 'rb')"
        ".read())\nsys.exit(1)\n"
    )
    (spy / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{spy}{os.pathsep}{os.environ['PATH']}")
    with loopback_server() as (url, hits):
        app = kustomization(repo, f"  - {url}/remote.yaml\n")
        assert main(["check", str(app), "--allow-remote"]) == 2
        assert hits == ["/remote.yaml"], "--allow-remote lets kubectl fetch"
    (app / "kustomization.yaml").write_text(
        "resources:\n  - web.yaml\n  - ssh://git@127.0.0.1:9/org/repo//base?ref=main\n"
    )
    assert main(["check", str(app), "--allow-remote"]) == 2
    capsys.readouterr()
    for child in ("git", "kubectl"):
        seen = environ_of(tmp_path / f"{child}.environ")
        assert not set(SECRET_ENV) & set(seen), f"{child} saw the job's credentials"
        assert SECRET not in json.dumps(seen)
        assert seen["PATH"].startswith(str(spy))


@needs_kubectl
def test_a_local_resource_outside_the_repository_is_refused_unread(
    tmp_path, outside, capsys
) -> None:
    (outside / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {SECRET.lower()}\n"
    )
    app = kustomization(repository(tmp_path / "repo"), "  - ../../outside/cm.yaml\n")
    assert main(["check", str(app)]) == 2
    out = capsys.readouterr().out
    assert SECRET.lower() not in out and "outside" in out


@needs_kubectl
def test_a_generator_file_outside_the_repository_is_refused_unread(
    tmp_path, outside, capsys
) -> None:
    app = kustomization(repository(tmp_path / "repo"), "")
    with (app / "kustomization.yaml").open("a") as file:
        file.write("configMapGenerator:\n  - name: leak\n    files: [../../outside/secret.txt]\n")
    assert main(["check", str(app)]) == 2
    out = capsys.readouterr().out
    assert_no_secret(out)
    assert "names ../../outside/secret.txt, which is outside" in out


# --- cdk8s apps: only the command line runs them; nothing they start outlives them ----------

needs_cdk8s = pytest.mark.skipif(
    importlib.util.find_spec("cdk8s") is None, reason="cdk8s is not installed"
)
SPY_APP = """\
import os, pathlib
pathlib.Path({out!r}).write_bytes(open("/proc/self/environ", "rb").read())
"""
DAEMON = """\
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        pathlib.Path({pid!r}).write_text(str(os.getpid()))
        time.sleep({delay})
        pathlib.Path({mark!r}).write_text("outlived chartfix")
        os._exit(0)
    os._exit(0)
"""


def cdk8s_app(repo: Path, prelude: str) -> Path:
    app = repo / "app"
    shutil.copytree(FIXTURES / "cdk8s-shared-dict", app,
                    ignore=shutil.ignore_patterns("__pycache__"))
    main_py = app / "main.py"
    main_py.write_text("import pathlib\n" + prelude + main_py.read_text())
    return app


@needs_cdk8s
def test_a_repositorys_run_apps_setting_runs_nothing(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    app = cdk8s_app(repo, SPY_APP.format(out=str(tmp_path / "ran")))
    (repo / ".chartfix.yaml").write_text("run-apps: true\n")
    assert main(["check", str(app)]) == 0
    assert "`run-apps: true` in its .chartfix.yaml was ignored" in capsys.readouterr().out
    assert main(["fix", str(app), "--write"]) == 0
    capsys.readouterr()
    assert not (tmp_path / "ran").exists(), "the repository switched on running its code"


@needs_cdk8s
def test_a_run_app_has_no_credential_in_its_environ(tmp_path, capsys, secret_env) -> None:
    app = cdk8s_app(repository(tmp_path / "repo"), SPY_APP.format(out=str(tmp_path / "env")))
    assert main(["check", str(app), "--run-apps"]) == 1
    capsys.readouterr()
    seen = environ_of(tmp_path / "env")
    assert not set(SECRET_ENV) & set(seen) and SECRET not in json.dumps(seen)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@needs_cdk8s
def test_a_daemon_the_app_starts_ends_with_it(tmp_path, capsys) -> None:
    """Double fork and setsid: the grandchild leaves the app's process group and session,
    so only a subreaper catches it."""
    pid, mark = tmp_path / "daemon.pid", tmp_path / "daemon.mark"
    prelude = DAEMON.format(pid=str(pid), mark=str(mark), delay=3)
    app = cdk8s_app(repository(tmp_path / "repo"), prelude)
    assert main(["check", str(app), "--run-apps"]) == 1
    capsys.readouterr()
    started = int(pid.read_text())
    assert not alive(started), "the app's daemon outlived the app"
    time.sleep(4)
    assert not mark.exists()


@needs_cdk8s
def test_the_time_limit_ends_a_daemon_too(tmp_path, monkeypatch) -> None:
    from chartfix.errors import TargetError

    synth = importlib.import_module("chartfix.sources.cdk8s.synth")
    monkeypatch.setattr(synth, "TIMEOUT_SECONDS", 4)
    pid, mark = tmp_path / "daemon.pid", tmp_path / "daemon.mark"
    prelude = DAEMON.format(pid=str(pid), mark=str(mark), delay=6) + "time.sleep(30)\n"
    app = cdk8s_app(repository(tmp_path / "repo"), prelude)
    with pytest.raises(TargetError, match="synthesis took over 4s"):
        synth.synth(app)
    assert not alive(int(pid.read_text())), "the app's daemon outlived the time limit"
    time.sleep(3)
    assert not mark.exists()


# --- the Action: a pull request never switches on running code -----------------------------


@needs_cdk8s
def test_the_action_passes_no_run_apps(tmp_path) -> None:
    import yaml
    from test_entry_points import run_step

    spec = yaml.safe_load((Path(__file__).resolve().parent.parent / "action.yml").read_text())
    repo = repository(tmp_path / "pr")
    app = cdk8s_app(repo, SPY_APP.format(out=str(tmp_path / "ran")))
    (repo / ".chartfix.yaml").write_text("run-apps: true\n")
    inputs = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
    inputs.update(paths=str(app), args="--trusted")
    steps = {s.get("id") or s.get("name"): s for s in spec["runs"]["steps"]}
    outputs: dict[str, str] = {}
    run_step(steps["check"], inputs, tmp_path, outputs)
    assert outputs["exit-code"] == "0"
    assert not (tmp_path / "ran").exists(), "the pull request's code ran in the gate"


# --- text from a repository is shown as text -----------------------------------------------

FORGED = "error[overlap] FAKE"
SUPPRESS = f"""\
suppress:
  - rule: overlap
    object: "web"
    reason: "ok\\n\\u001b[2J\\u001b[H{FORGED} REASON"
  - rule: overlap
    object: "nothing\\u001b[2J\\n{FORGED} PATTERN"
    reason: unused
"""


def assert_shown_as_text(output: str) -> None:
    assert "\x1b" not in output, "an escape sequence from the repository reached the terminal"
    assert "\u202e" not in output
    forged = [line for line in output.splitlines() if line.lstrip().startswith(FORGED)]
    assert forged == [], f"a line forged by the repository: {forged}"


def test_suppression_reasons_and_patterns_cannot_forge_lines(tmp_path) -> None:
    app = chart(repository(tmp_path / "repo") / "app")
    (app / ".chartfix.yaml").write_text(SUPPRESS)
    status, output = chartfix("check", str(app), "--strict", cwd=tmp_path)
    assert status == 1
    assert_shown_as_text(output)
    assert f"ok\\n\\u001b[2J\\u001b[H{FORGED} REASON" in output, "shown, escaped"
    assert f"nothing\\u001b[2J\\n{FORGED} PATTERN" in output


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_carry_control_characters_as_json_escapes(tmp_path, fmt) -> None:
    app = chart(repository(tmp_path / "repo") / "app")
    (app / ".chartfix.yaml").write_text(SUPPRESS)
    status, output = chartfix("check", str(app), "--strict", "--format", fmt, cwd=tmp_path)
    assert status == 1
    assert "\x1b" not in output and "\\u001b" in output
    json.loads(output[: output.rindex("}") + 1])  # still a document


def test_a_fail_message_cannot_forge_lines(tmp_path) -> None:
    app = chart(repository(tmp_path / "repo") / "app")
    (app / "templates" / "fail.yaml").write_text(
        f'{{{{ fail "bad\\n\\u001b[2J{FORGED} FAIL\\r{FORGED} CR" }}}}\n'
    )
    status, output = chartfix("check", str(app), cwd=tmp_path)
    assert status == 2
    assert_shown_as_text(output)
    assert f"\\u001b[2J{FORGED} FAIL {FORGED} CR" in output, "one line, escapes shown"


def test_a_directory_name_cannot_forge_lines(tmp_path) -> None:
    repo = repository(tmp_path / "repo")
    broken = chart(repo / f"x\x1b[2J\n{FORGED} DIR\u202e")
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: [broken\n")
    for command in (["check"], ["fix"], ["bulk", "-j", "1"]):
        status, output = chartfix(*command, str(repo), cwd=tmp_path)
        assert status == 2
        assert_shown_as_text(output)
        assert f"x\\u001b[2J\\n{FORGED} DIR\\u202e" in output


def test_the_html_page_shows_bidi_overrides(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    chart(repo / "app", deploy="web-\u202egnp.exe")
    status, said, report, page = bulk_outputs(capsys, repo, tmp_path)
    assert status == 0
    assert "\u202e" not in page and "web-\\u202egnp.exe" in page, "made visible in the page"
    assert "\u202e" not in said
    kept = json.dumps(json.loads(report), ensure_ascii=False)
    assert "web-\u202egnp.exe" in kept, "the report keeps the name as it is (JSON-escaped)"


# --- reports ---------------------------------------------------------------------------------


def test_a_partial_report_that_is_a_link_stops_the_run_before_any_work(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app")
    before = (app / "templates" / "deploy.yaml").read_bytes()
    report = tmp_path / "r.json"
    (tmp_path / "elsewhere").write_text("")
    (tmp_path / "r.json.partial").symlink_to(tmp_path / "elsewhere")
    assert main(["bulk", str(repo), "--write", "-j", "1", "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"chartfix: --report {tmp_path / 'r.json.partial'}: is a symlink; "
                           "chartfix writes no report through one: remove it")
    assert (app / "templates" / "deploy.yaml").read_bytes() == before, "no chart touched"


def test_a_second_run_on_one_report_is_refused(tmp_path) -> None:
    repo = repository(tmp_path / "repo")
    for index in range(3):
        chart(repo / f"c{index}", name=f"c{index}")
    report = tmp_path / "r.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         str(tmp_path / "r.json.lock")], stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        status, output = chartfix("bulk", str(repo), "--write", "-j", "1", "--report",
                                  str(report), cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert status == 2
    assert output.strip().splitlines() == [
        f"chartfix: --report {report}: another chartfix run is using this report (it holds "
        f"{tmp_path / 'r.json.lock'}); wait for it to end, or give this run a report of its own"
    ]
    assert not report.exists()
    status, _ = chartfix("bulk", str(repo), "-j", "1", "--report", str(report), cwd=tmp_path)
    assert status == 0 and len(json.loads(report.read_text())["charts"]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "repo"]  # no lock left


def test_a_run_that_opened_the_lock_as_the_last_run_removed_it_locks_the_new_one(
    tmp_path, monkeypatch,
) -> None:
    """The run that ends removes FILE.lock while holding it. A run that had opened that
    file just before gets the removed file's lock: it must see that and lock the new
    FILE.lock, or two runs would hold locks on two files at once."""
    report = tmp_path / "r.json"
    real_flock, calls = report_file.fcntl.flock, []

    def flock_after_removal(fd: int, operation: int) -> None:
        if not calls:  # the previous run ends between this run's open and its flock
            (tmp_path / "r.json.lock").unlink()
        calls.append(fd)
        real_flock(fd, operation)

    monkeypatch.setattr(report_file.fcntl, "flock", flock_after_removal)
    starting = report_file.ReportFile(report)
    monkeypatch.setattr(report_file.fcntl, "flock", real_flock)
    assert len(calls) == 2  # the removed file, then the new one
    with pytest.raises(UsageError, match="another chartfix run is using this report"):
        report_file.ReportFile(report)  # a third run sees the lock the second holds
    starting.close()
    assert not (tmp_path / "r.json.lock").exists()


def half_written(app: Path) -> None:
    """`fix --write` killed after staging its first file (the journal says `staging`)."""
    subprocess.run(
        [sys.executable, "-c",
         "import os, sys\nimport chartfix.publish.write as w\nreal = w._stage\n"
         "def stage(item, data):\n    real(item, data)\n    os._exit(9)\n"
         "w._stage = stage\nfrom chartfix.cli import main\n"
         "main(['fix', sys.argv[1], '--write', '-j', '1'])\n", str(app)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        check=False, capture_output=True,
    )
    assert (app / ".chartfix-write.json").exists()


def test_check_names_a_pending_write_and_does_not_check_the_chart(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app")
    chart(repo / "other", name="other")
    half_written(app)
    assert main(["check", str(repo)]) == 2
    out = capsys.readouterr().out
    assert f"error: {app / '.chartfix-write.json'}: an interrupted --write is pending" in out
    assert f"`chartfix fix {app} --write` rolls it back" in out
    assert "other" in out and "error[overlap]" in out, "the other chart is checked"


def test_staged_files_without_their_journal_go_with_one_command(tmp_path, capsys) -> None:
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app")
    half_written(app)
    (app / ".chartfix-write.json").unlink()
    assert main(["check", str(app)]) == 2
    out = capsys.readouterr().out
    assert "1 staged file(s) of an interrupted --write are left without its journal" in out
    command = out.split("`")[1]
    assert command == f"find {app} -name '.*.chartfix.tmp' -type f -delete"
    assert main(["fix", str(app), "--write"]) == 2
    assert command in capsys.readouterr().err
    subprocess.run(command, shell=True, check=True)
    assert main(["fix", str(app), "--write"]) == 0
    assert main(["check", str(app)]) == 0


# --- values nested too deep ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["values.yaml", ".chartfix.yaml"])
def test_deep_values_are_one_line_naming_the_file(tmp_path, capsys, where) -> None:
    app = chart(repository(tmp_path / "repo") / "app")
    text = "".join("  " * i + f"k{i}:\n" for i in range(1200)) + "  " * 1200 + "v\n"
    (app / where).write_text(text if where == "values.yaml" else "values:\n" + "".join(
        "  " + line + "\n" for line in text.splitlines()))
    assert main(["check", str(app)]) == 2
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"error: {app / where}: values nested more than 100 levels deep; chartfix reads "
        "values up to 100 levels"
    )


def test_a_config_file_linked_out_of_the_repository_is_refused_unread(
    tmp_path, outside, capsys
) -> None:
    """`.chartfix.yaml` itself a link out of the repository: its content (here an unknown
    key, which the config error would quote) is never read."""
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app")
    (repo / ".chartfix.yaml").symlink_to(outside / "secret.txt")
    assert main(["check", str(app)]) == 2
    out = capsys.readouterr().out
    assert_no_secret(out)
    assert f"{repo / '.chartfix.yaml'}: symlink points outside the repository" in out


def test_a_repository_recipe_linked_out_of_the_repository_is_refused_unread(
    tmp_path, outside, capsys
) -> None:
    """`--recipe leak` finds `recipes/leak.yaml` in the chart's repository: when that file,
    or the `recipes/` folder, is a link out of the repository, it is never read."""
    repo = repository(tmp_path / "repo")
    app = chart(repo / "app")
    (repo / "recipes").mkdir()
    (repo / "recipes" / "leak.yaml").symlink_to(outside / "secret.txt")
    assert main(["fix", str(app), "--recipe", "leak"]) == 2
    said = capsys.readouterr()
    assert_no_secret(said.out, said.err)
    assert f"recipe file {repo / 'recipes' / 'leak.yaml'}: symlink points outside" in said.err
    shutil.rmtree(repo / "recipes")
    (outside / "leak.yaml").symlink_to(outside / "secret.txt")
    (repo / "recipes").symlink_to(outside)
    assert main(["fix", str(app), "--recipe", "leak"]) == 2
    said = capsys.readouterr()
    assert_no_secret(said.out, said.err)
    assert f"recipe file {repo / 'recipes' / 'leak.yaml'}: symlink points outside" in said.err
