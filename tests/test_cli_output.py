"""The habits linters taught: `-q` prints findings and errors only, `--format github`
annotates each finding's line the way GitHub's runner reads it (escaped, named from the
repository's top whatever folder the step runs in), `--color` beside NO_COLOR, help texts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES, git

from chartfix.publish.output.github import command


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CHARTFIX, *args], cwd=cwd, capture_output=True, text=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with the legacy chart in deploy/charts/ under an awkward name."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "legacy-server", root / "deploy" / "charts" / "web,api:v1")
    git(root, "init", "-q")
    return root


def test_github_annotations_name_files_from_the_repository_top_escaped(repo: Path) -> None:
    done = run("check", "--format", "github", "charts", cwd=repo / "deploy")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2  # one a finding, nothing else on stdout
    chart = "deploy/charts/web%2Capi%3Av1/templates"
    assert lines[0].startswith(
        f"::error file={chart}/deployment.yaml,line=13,title=chartfix (overlap)::"
        "Deployment/release-name-legacy-server: selector"
    )
    stray = f"::error file={chart}/service.yaml,line=17,title=chartfix (stray)::"
    assert lines[1].startswith(stray)
    assert "Job/release-name-legacy-server-migration" in lines[0]
    assert "%0AAdd a distinguishing label" in lines[0]  # the advice on the annotation's 2nd line


def test_workflow_command_escaping_is_githubs() -> None:
    line = command("warning", "100% done\r\nnext: a,b", file="a:b,c%.yaml", title="x")
    assert line == "::warning file=a%3Ab%2Cc%25.yaml,title=x::100%25 done%0D%0Anext: a,b"


def test_quiet_prints_findings_and_errors_only(repo: Path, tmp_path: Path) -> None:
    charts = repo / "deploy" / "charts"
    shutil.copytree(FIXTURES / "clean", charts / "clean")
    done = run("check", "-q", "charts", cwd=repo / "deploy")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "charts/web,api:v1 (legacy-server)"
    assert [line.split(": ")[1] for line in lines[1:]] == [
        "error[overlap] Deployment/release-name-legacy-server",
        "error[stray] Service/release-name-legacy-server",
    ]
    assert done.stderr == ""
    assert run("check", "--quiet", "charts/clean", cwd=repo / "deploy").stdout == ""

    fixed = run("fix", "-q", "charts", cwd=repo / "deploy")
    assert fixed.returncode == 0
    assert fixed.stdout.startswith("--- a/charts/web,api:v1/templates/deployment.yaml")
    unsafe = (  # what a plain `helm upgrade` of the fix would fail on: quiet keeps it
        "charts/web,api:v1: unsafe: an immutable field changes (a controller's spec.selector "
        "or a Job's pod template): upgrading a release needs the migration steps (--branch "
        "or --pr-body FILE writes a migration note)\n"
    )
    assert fixed.stderr == unsafe

    bulk = run("bulk", "-q", "-j", "1", "charts", cwd=repo / "deploy")
    assert bulk.returncode == 0, bulk.stderr
    assert "[1/2]" not in bulk.stderr and "processed" not in bulk.stderr
    assert "web,api:v1" in bulk.stderr  # its row of the table

    written = run("fix", "--write", "-q", "charts", cwd=repo / "deploy")
    assert (written.returncode, written.stdout, written.stderr) == (0, "", unsafe)


@pytest.mark.parametrize(
    ("flag", "coloured"), [("always", True), ("never", False), ("auto", False)]
)
def test_color_flag(repo: Path, flag: str, coloured: bool) -> None:
    done = run("check", "--color", flag, "charts", cwd=repo / "deploy")
    assert ("\x1b[1;31merror[overlap]" in done.stdout) is coloured
    assert "\\u001b" not in done.stdout  # a colour passes whole or not at all
    fixed = run("fix", "--color", flag, "charts", cwd=repo / "deploy")
    assert ("\x1b[" in fixed.stdout) is coloured  # the patch, coloured or plain
    assert fixed.returncode == 0


@pytest.mark.parametrize("verb", ["check", "fix"])
def test_a_reader_that_stops_early_ends_the_run_quietly(repo: Path, verb: str) -> None:
    """`chartfix check | head -1`: the reader closes the pipe before chartfix writes; chartfix
    stops without a traceback and with the status a shell reports for SIGPIPE, as other
    command-line tools do."""
    process = subprocess.Popen([*CHARTFIX, verb, "charts"], cwd=repo / "deploy",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line
    err = process.stderr.read()
    assert process.wait() == 141
    for noise in ("Traceback", "BrokenPipeError", "Exception ignored"):
        assert noise not in err


def test_help_says_what_format_and_root_are(tmp_path: Path) -> None:
    check = run("check", "--help", cwd=tmp_path).stdout
    assert "github: workflow annotations" in " ".join(check.split())
    bulk = run("bulk", "--help", cwd=tmp_path).stdout
    assert "a folder searched for targets" in " ".join(bulk.split())


def test_bulk_keeps_warnings(tmp_path: Path) -> None:
    """A chart with only warnings no fix takes on (a latent overlap) is "warnings N" in bulk's
    lines, table, report and page, as `check` lists them, never "clean"."""
    root = tmp_path / "charts"
    shutil.copytree(FIXTURES / "rules-charts" / "controllers", root / "controllers")
    shutil.copytree(FIXTURES / "clean", root / "clean")
    done = run("bulk", "-j", "1", "charts", "--report", "r.json", "--html", "r.html",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "charts/controllers: warnings 1" in done.stderr
    assert "controllers  warnings 1  0" in done.stderr
    assert "(1 clean, 1 with warnings only)" in done.stderr
    charts = {Path(c["path"]).name: c for c in json.loads((tmp_path / "r.json").read_text())[
        "charts"]}
    assert (charts["controllers"]["status"], charts["controllers"]["warnings"]) == ("warnings", 1)
    assert [d["state"] for d in charts["controllers"]["finding_details"]] == ["warning"]
    assert charts["clean"]["status"] == "clean"
    page = (tmp_path / "r.html").read_text()
    assert '<span class="st s-warnings">warnings 1</span>' in page
    merged = run("report", "merge", "r.json", cwd=tmp_path)
    assert merged.returncode == 0 and "warnings  1" in merged.stderr


@pytest.mark.parametrize(
    ("fixture", "key"), [("legacy-server", "component"),
                         ("include-key-line", "app.kubernetes.io/component")]
)
def test_the_fix_hint_names_the_key_fix_adds(tmp_path: Path, fixture: str, key: str) -> None:
    chart = FIXTURES / fixture
    hint = run("check", str(chart), cwd=tmp_path).stdout
    assert f"(e.g. {key}: <role>)" in hint
    patch = run("fix", "--fix-latent", str(chart), cwd=tmp_path).stdout
    assert f"+      {key}: " in patch or f"+        {key}: " in patch


def test_helm2_release_time_is_not_called_a_nil_pointer_off_values(tmp_path: Path) -> None:
    """A chart written for Helm 2 (`.Release.Time.Seconds`) fails Helm 3's render; bulk's
    coverage says so, not "nil pointer off values"."""
    chart = tmp_path / "old" / "helm2"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v1\nname: helm2\nversion: 1.0.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
        "data:\n  at: {{ .Release.Time.Seconds | quote }}\n"
    )
    done = run("bulk", "-j", "1", "old", cwd=tmp_path)
    assert "a Helm 2 built-in Helm 3 lacks (.Release.Time)" in done.stderr, done.stderr
    assert "nil pointer off values" not in done.stderr


def test_a_note_several_charts_share_is_said_once(tmp_path: Path) -> None:
    """Two charts of a monorepo stage its `common` chart, of another version than they pin:
    the note is said once in the run, naming both (each chart's JSON keeps its own)."""
    shutil.copytree(FIXTURES / "sibling-version", tmp_path / "charts")
    for verb in ("check", "fix"):
        done = run(verb, "charts", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        said = done.stdout + done.stderr
        assert said.count("which does not satisfy 2.x.x") == 1, said
        assert "rendered with it instead (also for charts/web)" in said
    report = json.loads(run("check", "--format", "json", "charts", cwd=tmp_path).stdout)
    noted = {c["name"]: [w for w in c["warnings"] if "does not satisfy" in w]
             for c in report["charts"]}
    assert [len(noted[name]) for name in ("app", "web", "common")] == [1, 1, 0]


def small_files(limit: int):  # type: ignore[no-untyped-def]
    """For a child process: files larger than `limit` bytes cannot be written (EFBIG; Python
    ignores SIGXFSZ), a disk that fills up after chartfix checked the output paths."""
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_an_output_file_that_cannot_be_written_is_one_line_exit_2(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "legacy-server", tmp_path / "ch")
    # the report (about 10 kB) fits, the page (about 20 kB) does not
    process = subprocess.run(
        [*CHARTFIX, "bulk", "ch", "--report", "r.json", "--html", "r.html"], cwd=tmp_path,
        capture_output=True, text=True, preexec_fn=small_files(15_000),
    )
    assert process.returncode == 2, process.stderr
    assert process.stderr.splitlines()[-1] == "chartfix: r.html: cannot write: File too large"
    assert "Traceback" not in process.stderr
    assert json.loads((tmp_path / "r.json").read_text())["charts"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ch", "r.json"], "no temp file left"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_standard_output_is_one_line_exit_2(repo: Path) -> None:
    with open("/dev/full", "w") as full:
        process = subprocess.run([*CHARTFIX, "check", "charts", "--format", "json"],
                                 cwd=repo / "deploy", stdout=full, stderr=subprocess.PIPE,
                                 text=True)
    assert process.returncode == 2
    assert process.stderr == (
        "chartfix: cannot write to standard output: No space left on device\n"
    )
