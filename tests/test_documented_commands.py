"""Every command README.md and docs/*.md show runs, and prints what the page shows.

How a page is read:
- A fenced `sh` or `console` block holds commands. In `sh`, every line is one (a `\\` at
  the end joins the next). In `console`, a line starting `$ ` is one, and the lines up to
  the next `$ ` are what it prints: each shown line must be a line of the real output
  (stdout and stderr), `...` inside a line standing for any text; a line `...` alone only
  says lines were left out.
- A `# ... exit N` comment on a command is the exit status the page promises; without one,
  the command must exit 0.
- Any other fenced block whose first line is `# PATH` alone (a workflow, a `.chartfix.yaml`,
  a values file, a recipe) is a file the reader writes: it is written there, in the folder
  the commands run in, before the commands that follow it.
- `<!-- doc-test: in chartfix -->` and `<!-- doc-test: in yours -->` say where the blocks
  after them run: in a copy of this repository (where `fixtures/` is), or in a reader's chart
  repository: `charts/legacy-server` and `charts/gossip-ring` (copies of our fixtures of
  those names), committed, with a local bare repository as its `origin` remote. A page
  starts in `chartfix`.

Each page gets its own sandboxes, and its commands run in order in them, as a reader
follows the page; `chartfix` on PATH runs this checkout. A command that needs what no
machine here has is in NOT_RUNNABLE, with the reason and the local stand-in run in its
place (its output is checked as the command's would be); every entry must still be on a
page, so the list cannot outlive the docs.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chartfix.config import KEYS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SHELL_BLOCKS = ("sh", "shell", "bash", "console")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
DIRECTIVE = re.compile(r"<!-- doc-test: in (chartfix|yours) -->")
FILE_HEADER = re.compile(r"# (?P<path>[\w.][\w./-]*)")
EXIT = re.compile(r"#.*\bexit (\d+)")

# The venv the reader makes, without PyPI: the running interpreter's packages (every
# dependency chartfix declares) seen through a .pth file, then this checkout installed
# the way the page says, without dependencies and with the build backend already here.
_VENV = (
    "{python} -m venv --without-pip .venv"
    " && {python} -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])'"
    " \"$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))')"
    "/_shared.pth\" {site}"
    " && {python} -m pip --python .venv/bin/python install -q --no-deps"
    " --no-build-isolation -e {extras}"
)

NOT_RUNNABLE: dict[str, tuple[str, str | None]] = {
    "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/chartfix fix "
    "fixtures/legacy-server": (
        "pip installs chartfix's dependencies from PyPI (no network here)",
        _VENV.format(python="{python}", site="{site}", extras=".")
        + " && .venv/bin/chartfix fix fixtures/legacy-server",
    ),
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test,cdk8s]'": (
        "pip installs the test and cdk8s dependencies from PyPI (no network here)",
        _VENV.format(python="{python}", site="{site}", extras="'.[test,cdk8s]'"),
    ),
    ".venv/bin/pip download -q --only-binary :all: -d .wheels -r tests/app-wheels.txt": (
        "downloads wheels from PyPI (no network here)",
        "test ! -d {root}/.wheels || .venv/bin/python -m pip download -q --only-binary :all:"
        " --no-index --find-links {root}/.wheels -d .wheels -r tests/app-wheels.txt",
    ),
    ".venv/bin/python -m pytest -n auto --dist loadfile": (
        "it is the whole suite, this test included (.ci/run runs it)",
        ".venv/bin/python -m pytest -n auto --dist loadfile --collect-only -q"
        " -p no:cacheprovider tests/test_layers.py",
    ),
    "chartfix fix charts/ --branch 'chartfix/{chart}' --push origin --open-pr --label "
    "chartfix": (
        "opens pull requests on GitHub with a token (tests/test_publish_forge.py runs --open-pr "
        "against local stand-ins of each forge's API)",
        "chartfix fix charts/ --branch 'chartfix/{{chart}}' --push origin",
    ),
    "chartfix bulk --repos repos.txt --branch fix/selectors --push origin": (
        "repos.txt names repositories on GitHub (no network here)",
        "git clone -q --bare . ../shop.git && printf 'file://%s\\n' \"$(cd ../shop.git && pwd)\""
        " > repos.txt"
        " && chartfix bulk --repos repos.txt --workdir ../clones --branch fix/selectors"
        " --push origin",
    ),
    'pip install "git+URL@TAG"': (
        "URL stands for this repository on its forge (no network here)",
        "{python} -m pip install -q --no-deps --no-build-isolation --target site"
        " \"git+file://{root}@$(git -C {root} rev-parse HEAD)\""
        " && test -f site/chartfix/__init__.py",
    ),
    "helm plugin install URL": (
        "no helm binary here, and URL needs the network (tests/test_entry_points.py checks "
        "plugin.yaml as Helm reads it)",
        None,
    ),
    "helm chartfix check charts/": (
        "no helm binary here: the plugin's command is run as Helm runs it",
        "HELM_PLUGIN_DIR={root} HELM_PLUGIN_NAME=chartfix {root}/scripts/helm-chartfix.sh"
        " check charts/",
    ),
    "docker build -t chartfix .": (
        "no Docker daemon here (tests/test_deploy.py installs and runs chartfix from the "
        "image's exact build context)",
        None,
    ),
    "kubectl create secret generic chartfix-git "
    "--from-file=git-credentials=$HOME/.git-credentials": (
        "needs a Kubernetes cluster (and your git credentials)",
        "printf 'https://x:y@example.org\\n' > credentials && kubectl create secret generic"
        " chartfix-git --from-file=git-credentials=credentials --dry-run=client -o name",
    ),
    "kubectl apply -f deploy/kubernetes/job.yaml": (
        "needs a Kubernetes cluster (tests/test_deploy.py checks the manifest against the "
        "Kubernetes schemas)",
        None,
    ),
    "kubectl wait --for=condition=complete job/chartfix-bulk --timeout=6h": (
        "needs a Kubernetes cluster",
        None,
    ),
    "kubectl apply -f deploy/kubernetes/merge-job.yaml": (
        "needs a Kubernetes cluster (tests/test_deploy.py checks the manifest against the "
        "Kubernetes schemas)",
        None,
    ),
}


@dataclass
class Command:
    page: str
    line: int
    text: str
    where: str
    status: int
    shown: list[str] = field(default_factory=list)


@dataclass
class WrittenFile:
    page: str
    line: int
    path: str
    body: str
    where: str


def read_page(page: Path) -> list[Command | WrittenFile]:
    """The commands and files of `page`, in order."""
    steps: list[Command | WrittenFile] = []
    where = "chartfix"
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        directive = DIRECTIVE.search(lines[index])
        if directive:
            where = directive.group(1)
        fence = FENCE.match(lines[index])
        if not fence or not fence.group("lang"):
            index += 1
            continue
        indent, lang, start = fence.group("indent"), fence.group("lang"), index + 1
        end = start
        while not lines[end].startswith(f"{indent}```"):
            end += 1
        body = [line[len(indent):] for line in lines[start:end]]
        if lang in SHELL_BLOCKS:
            steps += _commands(page.name, start, body, where, console=lang == "console")
        elif body and (header := FILE_HEADER.fullmatch(body[0])):
            steps.append(WrittenFile(page.name, start + 1, header.group("path"),
                                     "\n".join(body) + "\n", where))
        index = end + 1
    return steps


def _commands(
    page: str, start: int, body: list[str], where: str, *, console: bool
) -> list[Command]:
    commands: list[Command] = []
    joined = ""
    for offset, line in enumerate(body):
        if console and not line.startswith("$ ") and not joined:
            if commands:
                commands[-1].shown.append(line)
            continue
        text = line[2:] if console and not joined else line
        if not text.strip() or (text.lstrip().startswith("#") and not joined):
            continue
        if text.endswith("\\"):
            joined += text[:-1] + " "
            continue
        text, joined = joined + text, ""
        status = EXIT.search(text)
        commands.append(Command(page, start + offset + 1, text.strip(), where,
                                int(status.group(1)) if status else 0))
    return commands


def _bare(command: str) -> str:
    """The command without its trailing comment and extra spaces: NOT_RUNNABLE's key."""
    return " ".join(re.sub(r"\s+#[^'\"]*$", "", command).split())


STEPS = {page.name: read_page(page) for page in PAGES}


def _sandbox_chartfix(target: Path) -> Path:
    """A copy of this checkout's files (tracked, and new ones not ignored), as a git
    repository of its own."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() or source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name, follow_symlinks=False)
    _commit(target)
    return target


def _sandbox_yours(target: Path) -> Path:
    """A reader's chart repository: two of our fixtures under charts/, an origin remote."""
    shutil.copytree(ROOT / "fixtures" / "legacy-server", target / "charts" / "legacy-server")
    shutil.copytree(ROOT / "fixtures" / "rules-charts" / "gossip-ring",
                    target / "charts" / "gossip-ring")
    _commit(target)
    origin = target.parent / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=target, check=True)
    return target


def _commit(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "Reader"],
                 ["config", "user.email", "reader@example.org"], ["add", "-A"],
                 ["commit", "-q", "--no-gpg-sign", "-m", "charts"]):
        subprocess.run(["git", *args], cwd=folder, check=True)


def _environment(tmp_path: Path) -> dict[str, str]:
    """`chartfix` on PATH runs this checkout with the tests' interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "chartfix"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m chartfix "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("CI", None)
    for role in ("AUTHOR", "COMMITTER"):  # the reader's git identity, as their machine has
        env.setdefault(f"GIT_{role}_NAME", "Reader")
        env.setdefault(f"GIT_{role}_EMAIL", "reader@example.org")
    return env


def _shown_line_matches(shown: str, output: list[str]) -> bool:
    pattern = ".*".join(re.escape(part) for part in shown.rstrip().split("..."))
    return any(re.fullmatch(pattern, line.rstrip()) for line in output)


def _run(command: Command, cwd: Path, env: dict[str, str]) -> None:
    text = command.text
    key = _bare(text)
    if key in NOT_RUNNABLE:
        _, stand_in = NOT_RUNNABLE[key]
        if stand_in is None:
            return
        text = stand_in.format(python=sys.executable, site=site.getsitepackages()[0],
                               root=ROOT)
    run = subprocess.run(["bash", "-c", text], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=600)
    place = f"{command.page}:{command.line}: `{command.text}`"
    output = run.stdout.splitlines() + run.stderr.splitlines()
    assert run.returncode == command.status, (
        f"{place} exited {run.returncode}, the page says {command.status}"
        f"\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
    )
    missing = [line for line in command.shown
               if line.strip() not in ("", "...") and not _shown_line_matches(line, output)]
    assert not missing, (
        f"{place} does not print what the page shows:\n" + "\n".join(missing)
        + f"\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
    )


@pytest.mark.parametrize(
    "page", [name for name, steps in STEPS.items() if any(isinstance(s, Command) for s in steps)]
)
def test_every_command_of_the_page_runs_and_prints_what_it_shows(
    page: str, tmp_path: Path
) -> None:
    env = _environment(tmp_path)
    makers = {"chartfix": lambda: _sandbox_chartfix(tmp_path / "chartfix"),
              "yours": lambda: _sandbox_yours(tmp_path / "yours" / "shop")}
    folders: dict[str, Path] = {}
    for step in STEPS[page]:
        if step.where not in folders:
            folders[step.where] = makers[step.where]()
        cwd = folders[step.where]
        if isinstance(step, WrittenFile):
            (cwd / step.path).parent.mkdir(parents=True, exist_ok=True)
            (cwd / step.path).write_text(step.body, encoding="utf-8")
        else:
            _run(step, cwd, env)


def test_the_readme_sets_up_the_repository_its_walk_through_runs_in(tmp_path: Path) -> None:
    """The README's set-up lines (those that make `../shop`) make the repository the
    `yours` blocks run in: the same charts, committed."""
    env = _environment(tmp_path)
    clone = _sandbox_chartfix(tmp_path / "chartfix")
    setup = [s for s in STEPS["README.md"] if isinstance(s, Command) and "../shop" in s.text]
    assert setup
    for command in setup:
        _run(command, clone, env)
    made, expected = tmp_path / "shop", _sandbox_yours(tmp_path / "yours" / "shop")

    def charts(repository: Path) -> list[str]:
        return subprocess.run(["git", "ls-files"], cwd=repository, capture_output=True,
                              text=True, check=True).stdout.splitlines()

    assert charts(made) == charts(expected) and charts(made)


def test_every_command_listed_as_not_runnable_is_on_a_page() -> None:
    documented = {_bare(s.text) for steps in STEPS.values() for s in steps
                  if isinstance(s, Command)}
    assert set(NOT_RUNNABLE) <= documented, set(NOT_RUNNABLE) - documented


def test_the_readme_test_commands_are_what_ci_runs() -> None:
    """.ci/run runs "the README's test command": the README's lines, as written."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    readme = STEPS["README.md"]
    tests = [s for s in readme if isinstance(s, Command) and "-m pytest" in s.text]
    assert len(tests) == 1, "the README shows one test command"
    block = [s.text for s in readme if isinstance(s, Command)
             and abs(s.line - tests[0].line) <= 2]
    for command in block:
        assert any(line.startswith(command) for line in ci), f".ci/run does not run `{command}`"


def test_the_pages_were_read() -> None:
    """A guard for the reader above: the pages hold commands, output to compare, files."""
    commands = [s for steps in STEPS.values() for s in steps if isinstance(s, Command)]
    assert len(commands) >= 30
    assert sum(bool(c.shown) for c in commands) >= 6
    assert any(isinstance(s, WrittenFile) and s.path == "charts/gossip-ring/.chartfix.yaml"
               for s in STEPS["README.md"])


def test_relative_links_lead_to_files() -> None:
    for page in PAGES:
        text = page.read_text("utf-8")
        links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
        images = re.findall(r"\b(?:src|srcset)=\"([^\"]+)\"", text)
        for target in links + images:
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.name}: link to {target}"


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"(?ms)^ *```.*?^ *```", "",
                                               page.read_text("utf-8")), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_links_to_a_heading_find_it() -> None:
    for page in PAGES:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)",
                                         page.read_text("utf-8")):
            linked = page.parent / target if target else page
            assert anchor in _anchors(linked), f"{page.name}: no heading #{anchor} in {linked}"


def test_every_chartfix_yaml_key_is_documented() -> None:
    table = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for key in KEYS:
        assert f"\n| `{key}` |" in table, f"docs/config.md has no row for `{key}`"


def test_the_readme_links_every_page_of_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f"](docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


def test_every_chartfix_environment_variable_is_documented() -> None:
    names = {name for path in (ROOT / "chartfix").rglob("*.py")
             for name in re.findall(r"\bCHARTFIX_[A-Z_]+\b", path.read_text("utf-8"))}
    page = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    missing = {name for name in names if f"`{name}" not in page}
    assert names and not missing, f"docs/commands.md does not name {sorted(missing)}"
