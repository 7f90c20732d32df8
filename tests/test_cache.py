"""The render cache: a re-run of an unchanged chart renders nothing, any input that changes
misses, and an entry that is corrupt or not ours is ignored and rewritten.

Counted, never timed: `chartfix.cache.stats` says what the cache did in this process (a miss
is a task the workers rendered and analysed; a hit, one they never saw)."""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import pickle
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CHARTFIX, FIXTURES

from chartfix import cache
from chartfix.commands.checking import CheckOptions, check_all

SUB_CHART = "apiVersion: v2\nname: lib\nversion: 0.1.0\n"
SUB_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-lib
data:
  key: one
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """legacy-server (a selector bug) with a ci/ values file and a `file://` subchart."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "legacy-server", app)
    (app / "ci").mkdir()
    (app / "ci" / "small-values.yaml").write_text("replicaCount: 2\n")
    with (app / "Chart.yaml").open("a") as chart:
        chart.write("dependencies:\n  - name: lib\n    version: 0.1.0\n"
                    "    repository: file://../lib\n")
    lib = tmp_path / "lib"
    (lib / "templates").mkdir(parents=True)
    (lib / "Chart.yaml").write_text(SUB_CHART)
    (lib / "templates" / "configmap.yaml").write_text(SUB_TEMPLATE)
    return app


def counted(charts: list[Path], **options: object) -> tuple[cache.Stats, list[object]]:
    """What the cache did for one check of `charts`, and the findings it reported."""
    before = cache.Stats(**vars(cache.stats))
    reports = check_all(charts, CheckOptions(jobs=1, **options))  # type: ignore[arg-type]
    after = cache.stats
    delta = cache.Stats(**{k: getattr(after, k) - getattr(before, k) for k in vars(after)})
    return delta, [sorted(f.key for f in r.findings) for r in reports]


def test_a_warm_run_renders_nothing_and_reports_the_same(tree: Path) -> None:
    cold, found = counted([tree])
    assert cold.misses == 1 and cold.writes == 1 and cold.hits == 0
    warm, again = counted([tree])
    assert warm.misses == 0 and warm.hits == 1 and warm.writes == 0
    assert again == found and found[0], "legacy-server's findings, cached"


def _template_byte(app: Path) -> None:
    service = app / "templates" / "service.yaml"
    service.write_bytes(service.read_bytes() + b"\n")


def _values_file(app: Path) -> None:
    (app / "ci" / "small-values.yaml").write_text("replicaCount: 3\n")


def _subchart(app: Path) -> None:
    template = app.parent / "lib" / "templates" / "configmap.yaml"
    template.write_text(SUB_TEMPLATE.replace("one", "two"))


def _config(app: Path) -> None:
    (app / ".chartfix.yaml").write_text("rules:\n  exclude: []\n")


def _subchart_new_file(app: Path) -> None:
    (app.parent / "lib" / "templates" / "more.yaml").write_text(
        SUB_TEMPLATE.replace("-lib", "-more")
    )


CHANGES: dict[str, Callable[[Path], None]] = {
    "a template byte": _template_byte,
    "a ci/ values file": _values_file,
    "a subchart outside the chart": _subchart,
    "a file added to a subchart outside the chart": _subchart_new_file,
    ".chartfix.yaml": _config,
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_each_changed_input_misses(tree: Path, change: str) -> None:
    counted([tree])
    CHANGES[change](tree)
    after, _ = counted([tree])
    assert after.misses == 1 and after.hits == 0
    assert counted([tree])[0].hits == 1, "the new result is cached in turn"


def test_organisation_values_files_outside_the_chart_are_checked_on_a_hit(tree: Path) -> None:
    """`values:` of a `.chartfix.yaml` at the repository's top names files outside the chart
    (where its key cannot see them): a change to one misses."""
    repo = tree.parent
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "shared").mkdir()
    org = repo / "shared" / "org.yaml"
    org.write_text("replicaCount: 2\n")
    (repo / ".chartfix.yaml").write_text("values:\n  - shared/org.yaml\n")
    counted([tree])
    assert counted([tree])[0].hits == 1
    org.write_text("replicaCount: 3\n")
    after, _ = counted([tree])
    assert after.misses == 1 and after.stale == 1


def test_a_cache_folder_made_under_a_permissive_umask_is_used_again(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian's default umask 002 would leave the folders group-writable, which the next
    run refuses: chartfix makes them the user's alone."""
    folder = tmp_path / "fresh-cache"
    monkeypatch.setenv("CHARTFIX_CACHE_DIR", str(folder))
    old = os.umask(0o002)
    try:
        counted([tree])
    finally:
        os.umask(old)
    assert all(not p.stat().st_mode & 0o077 for p in [folder, *folder.rglob("*")] if p.is_dir())
    cache._trusted.cache_clear()
    assert counted([tree])[0].hits == 1


def test_a_values_file_given_with_f_is_keyed_by_its_bytes(tree: Path, tmp_path: Path) -> None:
    values = tmp_path / "mine.yaml"
    values.write_text("replicaCount: 4\n")
    counted([tree], values_files=[values])
    assert counted([tree], values_files=[values])[0].hits == 1
    values.write_text("replicaCount: 5\n")
    assert counted([tree], values_files=[values])[0].misses == 1
    assert counted([tree])[0].misses == 1, "without -f: another key"


@pytest.mark.parametrize("version", ["chartfix_version", "engine_version"])
def test_another_chartfix_or_engine_version_misses(
    tree: Path, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted([tree])
    monkeypatch.setattr(cache, version, lambda: "9.9.9-other")
    assert counted([tree])[0].misses == 1


def test_a_chart_helm_refuses_is_cached_until_it_changes(tree: Path) -> None:
    """A chart whose every scenario Helm's engine refuses is refused the same way again
    while its files stay: a warm run reports the same error and renders nothing."""
    fail = tree / "templates" / "fail.yaml"
    fail.write_text('{{ fail "replicaCount must be set" }}\n')
    cold = check_all([tree], CheckOptions(jobs=1))
    assert cold[0].error is not None and "replicaCount must be set" in cold[0].error.reason
    warm, _ = counted([tree])
    again = check_all([tree], CheckOptions(jobs=1))
    assert warm.misses == 0 and warm.hits == 1
    assert again[0].error is not None and again[0].error.reason == cold[0].error.reason
    fail.write_text("")
    after, found = counted([tree])
    assert after.misses == 1 and found[0], "fixed: rendered again, legacy-server's findings"


def test_a_dependency_added_anywhere_in_the_repository_misses(tmp_path: Path) -> None:
    """The new user's path: a chart whose dependency is not available offline renders
    without it, and the note says to keep that chart anywhere in the repository. Once one
    is added there (not beside the chart), the cached verdict is stale: the run renders
    again and uses it."""
    repo = tmp_path / "repo"
    app = repo / "charts" / "app"
    shutil.copytree(FIXTURES / "legacy-server", app)
    with (app / "Chart.yaml").open("a") as chart:
        chart.write("dependencies:\n  - name: lib\n    version: 0.1.0\n"
                    "    repository: https://charts.example.com\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    cold = check_all([app], CheckOptions(jobs=1))
    assert any("dependency lib 0.1.0" in note for note in cold[0].warnings), cold[0].warnings
    assert counted([app])[0].hits == 1
    lib = repo / "deps" / "lib"
    (lib / "templates").mkdir(parents=True)
    (lib / "Chart.yaml").write_text(SUB_CHART)
    (lib / "templates" / "configmap.yaml").write_text(SUB_TEMPLATE)
    after, _ = counted([app])
    assert after.misses == 1 and after.hits == 0
    again = check_all([app], CheckOptions(jobs=1))
    assert not any("dependency lib" in note for note in again[0].warnings), again[0].warnings


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.pickle"))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign"])
def test_a_corrupt_or_foreign_entry_is_ignored_and_rewritten(
    tree: Path, private_cache: Path, damage: str
) -> None:
    _, found = counted([tree])
    [entry] = _entries(private_cache / "check")
    good = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"not a cache entry at all")
    elif damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    else:  # a well-formed entry written for another key: its checksum holds, its key not
        other = tree.parent / "other"
        shutil.copytree(tree, other)
        (other / "values.yaml").write_text((other / "values.yaml").read_text() + "\n")
        counted([other])
        foreign = next(p for p in _entries(private_cache / "check") if p != entry)
        entry.write_bytes(foreign.read_bytes())
    damaged = entry.read_bytes()
    after, again = counted([tree])
    assert after.corrupt == 1 and after.misses == 1 and after.writes == 1
    assert again == found
    assert entry.read_bytes() != damaged
    assert counted([tree])[0].hits == 1, "rewritten: trusted again"


def test_no_cache_and_cache_dir_from_the_command_line(tree: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHARTFIX_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    moved = tmp_path / "moved"
    run = subprocess.run([*CHARTFIX, "check", str(tree), "--no-cache"], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    assert not (tmp_path / "xdg").exists(), "--no-cache writes nothing"
    subprocess.run([*CHARTFIX, "check", str(tree), "--cache-dir", str(moved)], env=env,
                   capture_output=True, text=True)
    assert _entries(moved) and not (tmp_path / "xdg").exists()
    subprocess.run([*CHARTFIX, "check", str(tree)], env=env, capture_output=True, text=True)
    assert _entries(tmp_path / "xdg" / "chartfix"), "XDG_CACHE_HOME/chartfix by default"


def test_fix_reads_its_renders_before_the_edit_from_the_cache(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second fix renders nothing before its edit (the scenarios and the next-release pair
    come from the cache) and plans the same patch; its verification renders still run."""
    from chartfix.pipeline import FixRequest, fix_target
    from chartfix.sources.helm import source

    first = fix_target(tree, FixRequest())
    assert first.files, "legacy-server has a fix"

    def must_not_render(*args: object, **kwargs: object) -> object:
        raise AssertionError("rendered before the edit on a warm run")

    verified = []
    real_render = source.render

    def counting_render(*args: object, **kwargs: object) -> object:
        verified.append(args)
        return real_render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(source, "render_scenarios", must_not_render)
    monkeypatch.setattr(source, "release_diff", must_not_render)
    monkeypatch.setattr(source, "render", counting_render)
    second = fix_target(tree, FixRequest())
    assert [(f.path, f.after) for f in second.files] == [(f.path, f.after) for f in first.files]
    assert verified, "the edited files were rendered to verify them"


def test_fix_renders_again_when_a_template_changed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chartfix.pipeline import FixRequest, fix_target

    fix_target(tree, FixRequest())
    _template_byte(tree)
    before = cache.stats.misses
    fix_target(tree, FixRequest())
    assert cache.stats.misses > before


def test_a_values_file_linked_from_elsewhere_in_the_repository_is_keyed_by_its_bytes(
    tree: Path,
) -> None:
    """`app/values.yaml -> ../shared/values.yaml`: the renderer reads through the link, so
    the linked file's bytes are in the key; a broken shared file is not a cached pass."""
    subprocess.run(["git", "init", "-q", str(tree.parent)], check=True)
    shared = tree.parent / "shared"
    shared.mkdir()
    (tree / "values.yaml").rename(shared / "values.yaml")
    (tree / "values.yaml").symlink_to(Path("..", "shared", "values.yaml"))
    cold = check_all([tree], CheckOptions(jobs=1))
    assert cold[0].error is None and cold[0].findings
    (shared / "values.yaml").write_text("service: [unclosed\n")
    before = cache.Stats(**vars(cache.stats))
    [after] = check_all([tree], CheckOptions(jobs=1))
    assert cache.stats.hits == before.hits and cache.stats.misses == before.misses + 1
    assert after.error is not None and "values.yaml" in str(after.error)


class _Planted:
    """A pickle that runs a shell command when loaded: what a hostile entry holds."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def test_a_forged_entry_that_runs_code_is_a_miss_and_runs_nothing(
    tree: Path, private_cache: Path
) -> None:
    """A well-formed entry (header, checksum, key) whose pickle calls `os.system`, as a
    `--run-apps` app or a shared CI cache could plant: loaded, it would run."""
    _, found = counted([tree])
    [entry] = _entries(private_cache / "check")
    canary = tree.parent / "canary"
    payload = pickle.dumps(_Planted(f"touch {shlex.quote(str(canary))}"))
    entry.write_bytes(cache.FORMAT + hashlib.sha256(payload).hexdigest().encode() + b"\n"
                      + payload)
    after, again = counted([tree])
    assert not canary.exists(), "the planted pickle ran"
    assert after.corrupt == 1 and after.misses == 1 and after.hits == 0 and after.writes == 1
    assert again == found
    assert counted([tree])[0].hits == 1, "rewritten: trusted again"


def test_every_allowed_name_is_a_data_class_a_path_or_the_lazy_parser() -> None:
    for module, names in cache.ALLOWED.items():
        for name in names:
            found = getattr(importlib.import_module(module), name)
            if (module, name) != ("chartfix.sources.helm.render", "_parse_one"):
                assert isinstance(found, type), f"{module}.{name} is not a class"


def test_a_document_not_parsed_yet_is_read_back_and_parses(
    tmp_path: Path, private_cache: Path
) -> None:
    from chartfix.model.objects import LazyBody
    from chartfix.sources.helm.chart import Chart, Dependency
    from chartfix.sources.helm.render import _parse_one

    chart = Chart(tmp_path, "app", "0.1.0", None, "v2", (Dependency("lib"),))
    text = "kind: ConfigMap\ndata:\n  key: one\n"
    body = LazyBody(text, "ConfigMap", functools.partial(_parse_one, chart, "templates/c.yaml"))
    cache.put("render", "0" * 64, body)
    back = cache.get("render", "0" * 64, tmp_path)
    assert isinstance(back, LazyBody) and back["data"] == {"key": "one"}


def test_a_cache_folder_others_can_write_is_not_used(
    tree: Path, private_cache: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    private_cache.chmod(0o777)
    cache._trusted.cache_clear()
    try:
        run, _ = counted([tree])
    finally:
        private_cache.chmod(0o700)
        cache._trusted.cache_clear()
    assert run.writes == 0 and run.hits == 0 and not _entries(private_cache)
    [line] = [t for t in capfd.readouterr().err.splitlines() if "cache folder" in t]
    assert "writable by group or others" in line and "without the cache" in line
