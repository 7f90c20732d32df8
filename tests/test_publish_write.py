"""--write: a chart's change lands whole or not at all; a killed write is finished by the
next run; owner and mode stay; a file edited meanwhile refuses the chart."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CHARTFIX, snapshot

from chartfix.cli import main
from chartfix.errors import TargetError
from chartfix.model.changes import FileChange, TargetChange
from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.apply import write_change
from chartfix.publish.write import JOURNAL

# shared-selector: the fix edits four files, so a half-done write is visible.
FIXTURE = "shared-selector"


def chart_dir(root: Path) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.2.3\n")
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    return root


def change_of(root: Path, files: dict[str, tuple[bytes, bytes]]) -> TargetChange:
    return TargetChange(
        target_root=root, target_name="app", target_version="1.2.3",
        files=[FileChange(rel, before, after) for rel, (before, after) in files.items()],
    )


def planned(chart: Path) -> TargetChange:
    change = fix_target(chart, FixRequest(fix_latent=True, release="rel"))
    assert len(change.files) >= 2
    return change


def test_write_keeps_mode(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    script = root / "templates" / "cm.yaml"
    script.chmod(0o640)

    write_change(change_of(root, {
        "templates/cm.yaml": (b"kind: ConfigMap\n", b"new\n"),
        "templates/fresh.yaml": (b"", b"f"),
    }))

    assert script.read_bytes() == b"new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o640
    assert (root / "templates" / "fresh.yaml").read_bytes() == b"f"
    assert sorted(os.listdir(root)) == ["Chart.yaml", "templates"]  # no journal left


def test_write_never_goes_through_a_link_even_inside_the_chart(tmp_path: Path) -> None:
    """The file behind a link is shared (another chart's values, a common template): editing
    it through this chart would change the other one too."""
    root = chart_dir(tmp_path / "app")
    (root / "templates" / "link.yaml").symlink_to("cm.yaml")
    (root / "shared").mkdir()
    (root / "templates" / "dir").symlink_to(root / "shared", target_is_directory=True)

    linked = (("templates/link.yaml", b"kind: ConfigMap\n"), ("templates/dir/x.yaml", b""))
    for rel, before in linked:
        with pytest.raises(TargetError, match="does not write through links"):
            write_change(change_of(root, {
                "templates/fresh.yaml": (b"", b"f"), rel: (before, b"new\n"),
            }))
    assert (root / "templates" / "cm.yaml").read_bytes() == b"kind: ConfigMap\n"
    assert not (root / "templates" / "fresh.yaml").exists()
    assert not (root / "shared" / "x.yaml").exists()


def test_write_refuses_escapes_before_writing_anything(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "templates" / "out.yaml").symlink_to(tmp_path / "victim.yaml")

    for bad in ("../victim.yaml", "templates/out.yaml", str(tmp_path / "abs.yaml")):
        with pytest.raises(TargetError):
            write_change(change_of(root, {
                "templates/cm.yaml": (b"kind: ConfigMap\n", b"changed"), bad: (b"", b"x"),
            }))
    assert (root / "templates" / "cm.yaml").read_bytes() == b"kind: ConfigMap\n"
    assert not (tmp_path / "victim.yaml").exists()


def test_a_failure_midway_leaves_every_file_whole(tmp_path: Path) -> None:
    root = chart_dir(tmp_path / "app")
    (root / "blocker").write_text("a file where a folder is needed")
    before = snapshot(root)

    with pytest.raises(TargetError):
        write_change(change_of(root, {
            "templates/cm.yaml": (b"kind: ConfigMap\n", b"changed"), "blocker/x.yaml": (b"", b"x"),
        }))

    assert snapshot(root) == before  # no temp file, no journal left behind


def test_a_file_edited_after_planning_refuses_the_whole_chart(chart_copy) -> None:
    chart = chart_copy(FIXTURE)
    change = planned(chart)
    edited = chart / change.files[-1].path
    edited.write_bytes(edited.read_bytes() + b"# the user's edit\n")
    before = snapshot(chart)

    with pytest.raises(TargetError, match="changed since chartfix read it"):
        write_change(change)

    assert snapshot(chart) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_write_as_root_keeps_each_files_owner_and_mode(chart_copy) -> None:
    chart = chart_copy(FIXTURE)
    change = planned(chart)
    for i, item in enumerate(change.files):
        os.chown(chart / item.path, 1000 + i, 2000 + i)
        os.chmod(chart / item.path, 0o604)

    write_change(change)

    for i, item in enumerate(change.files):
        info = os.stat(chart / item.path)
        assert (info.st_uid, info.st_gid) == (1000 + i, 2000 + i)
        assert stat.S_IMODE(info.st_mode) == 0o604
        assert (chart / item.path).read_bytes() == item.after


# A real kill (os._exit, no cleanup) at the n-th call of a step of the write.
KILLER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from chartfix.publish.apply import write_change
    from chartfix.pipeline import FixRequest, fix_target
    chart, step, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    change = fix_target(chart, FixRequest(fix_latent=True, release="rel"))
    real = getattr(os, step)
    calls = []
    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            os._exit(9)
        return real(*args, **kwargs)
    setattr(os, step, dying)
    write_change(change)
""")


@pytest.mark.parametrize(
    ("step", "n", "expect"),
    [
        ("fsync", 4, "old"),  # while staging: the next run rolls back
        ("replace", 3, "new"),  # after the journal said `replacing`, between two files
        ("replace", 4, "new"),
        ("replace", 6, "new"),
    ],
)
def test_a_kill_during_write_is_finished_by_the_next_run(
    chart_copy, capsys, step: str, n: int, expect: str
) -> None:
    chart = chart_copy(FIXTURE)
    old = snapshot(chart)
    new = {**old, **{f.path: f.after for f in planned(chart).files}}

    killed = subprocess.run([sys.executable, "-c", KILLER, str(chart), step, str(n)])
    assert killed.returncode == 9
    assert (chart / JOURNAL).exists()

    killed_state = snapshot(chart)
    capsys.readouterr()
    assert main(["fix", "--fix-latent", str(chart), "--release",
                 "rel"]) == 2  # a dry run changes nothing
    assert snapshot(chart) == killed_state
    assert "an interrupted --write is pending" in capsys.readouterr().err

    assert main(["fix", "--fix-latent", str(chart), "--release", "rel", "--write"]) in (0, 1)
    assert "an interrupted --write" in capsys.readouterr().err
    # the chart as the kill left it was completed or rolled back, then fixed: the new chart
    assert {k: v for k, v in snapshot(chart).items() if k in new} == new
    assert not (chart / JOURNAL).exists()


def killed_while_replacing(chart: Path) -> tuple[str, bytes]:
    """A --write killed after its first replace: the journal says `replacing`, a staged
    file waits; (that file's path, its bytes before the fix)."""
    killed = subprocess.run([sys.executable, "-c", KILLER, str(chart), "replace", "3"])
    assert killed.returncode == 9
    waiting = sorted(chart.rglob(f"*{'.chartfix.tmp'}"))
    assert waiting
    tmp = waiting[0]
    target = tmp.with_name(tmp.name.removeprefix(".").removesuffix(".chartfix.tmp"))
    return str(target.relative_to(chart)), target.read_bytes()


def test_recovery_never_overwrites_an_edit_made_after_the_kill(chart_copy, capsys) -> None:
    chart = chart_copy(FIXTURE)
    path, _ = killed_while_replacing(chart)
    (chart / path).write_bytes(b"# my edit after the kill\n")
    left = snapshot(chart)

    for mode in ([], ["--write"]):
        assert main(["fix", "--fix-latent", str(chart), "--release", "rel", *mode]) == 2
        assert snapshot(chart) == left
    err = capsys.readouterr().err
    assert f"{chart / path}: changed since an interrupted --write staged it" in err


def test_a_branch_run_never_touches_a_pending_write(chart_copy, capsys) -> None:
    chart = chart_copy(FIXTURE)
    killed_while_replacing(chart)
    left = snapshot(chart)
    assert main(["fix", "--fix-latent", str(chart), "--release", "rel", "--branch", "fix-it"]) == 2
    assert snapshot(chart) == left
    err = capsys.readouterr().err
    assert f"{chart / JOURNAL}: an interrupted --write is pending (replacing)" in err
    assert "--write` completes it" in err


def test_a_killed_write_does_not_block_a_branch_run_with_temp_files(chart_copy) -> None:
    chart = chart_copy(FIXTURE)
    subprocess.run([sys.executable, "-c", KILLER, str(chart), "fsync", "4"])
    assert any(p.name.endswith(".tmp") for p in chart.rglob("*"))

    done = subprocess.run([*CHARTFIX, "fix", "--fix-latent", str(chart), "--release", "rel",
                           "--write"])

    assert done.returncode == 0
    assert not any(p.name.endswith(".tmp") or p.name == JOURNAL for p in chart.rglob("*"))
    assert subprocess.run([*CHARTFIX, "check", str(chart), "--release", "rel"]).returncode == 0


def test_a_values_file_edited_after_planning_refuses_the_chart_naming_it(chart_copy) -> None:
    """Not only the files a fix edits: every file the renders read was the plan's input."""
    chart = chart_copy("legacy-server")
    change = fix_target(chart, FixRequest(fix_latent=True))
    assert change.files and "values.yaml" not in {f.path for f in change.files}
    values = chart / "values.yaml"
    values.write_bytes(values.read_bytes() + b"migration: {enabled: false}\n")
    before = snapshot(chart)

    with pytest.raises(TargetError) as refused:
        write_change(change)

    assert str(refused.value) == f"{values}: changed since chartfix read it; nothing written " \
        "(run chartfix again)"
    assert snapshot(chart) == before
