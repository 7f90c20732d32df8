"""`chartfix completion SHELL`: the bash script, sourced in a real bash, completes what the
parser knows (commands, flags, choices, paths, rule codes and recipe names), as a TAB would
(COMP_WORDS through the completion function `complete -F` registered)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASH = shutil.which("bash")


def script(shell: str) -> str:
    done = subprocess.run([sys.executable, "-m", "chartfix", "completion", shell],
                          capture_output=True, text=True, check=True)
    assert done.stderr == ""
    return done.stdout


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "chartfix.bash"
    path.write_text(script("bash"))
    return path


def complete(bash_script: Path, line: str, cwd: Path | None = None) -> list[str]:
    """What bash offers for the last word of `line` (empty when it ends with a space)."""
    assert BASH is not None
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    probe = (
        f"source {shlex.quote(str(bash_script))}\n"
        "fn=$(complete -p chartfix | sed -E 's/.* -F ([^ ]+) .*/\\1/')\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={shlex.quote(line)}\n"
        "COMP_POINT=${#COMP_LINE}\n"
        '"$fn" chartfix "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run([BASH, "--norc", "-c", probe], capture_output=True, text=True,
                          check=True, cwd=cwd)
    return [w for w in done.stdout.splitlines() if w]


@pytest.mark.skipif(BASH is None, reason="no bash")
def test_bash_completes_commands_flags_choices_and_paths(
    bash_script: Path, tmp_path: Path
) -> None:
    assert complete(bash_script, "chartfix ch") == ["check"]
    assert complete(bash_script, "chartfix re") == ["recipes", "report"]
    assert complete(bash_script, "chartfix check --for") == ["--format"]
    assert complete(bash_script, "chartfix check --format ") == ["text", "json", "sarif",
                                                                  "github"]
    assert complete(bash_script, "chartfix fix --col") == ["--color"]
    assert complete(bash_script, "chartfix bulk --shard 0/2 --pr-body-") == ["--pr-body-dir"]
    assert complete(bash_script, "chartfix report m") == ["merge"]
    assert complete(bash_script, "chartfix rule ov") == ["overlap"]
    assert sorted(complete(bash_script, "chartfix check --exclude s")) == ["spans", "stray"]
    assert "component-labels" in complete(bash_script, "chartfix fix --recipe ")
    (tmp_path / "charts").mkdir()
    (tmp_path / "chart.yaml.txt").write_text("")
    found = complete(bash_script, "chartfix check char", cwd=tmp_path)
    assert sorted(found) == ["chart.yaml.txt", "charts"]


@pytest.mark.parametrize(("shell", "mark"), [
    ("zsh", "#compdef chartfix"),
    ("fish", "complete -c chartfix"),
])
def test_zsh_and_fish_scripts_know_every_command(shell: str, mark: str) -> None:
    """No zsh or fish here to run them: the scripts are generated from the same parser and
    name every command and its help line."""
    from chartfix.commands import COMMANDS, command

    text = script(shell)
    assert mark in text
    for name in COMMANDS:
        assert name in text and command(name).HELP.split("'")[0] in text  # quoting differs
