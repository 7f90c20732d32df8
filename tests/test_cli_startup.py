"""What a run loads and starts: the pre-commit hook and the Action check one chart per change,
and most of those charts did not change since the last run.

A run the cache answers loads no engine, YAML library, editor or process pool (start-up is
most of its cost); one chart is checked in one worker forked for it (no pool), and a chart
that crashes Helm's engine in it still costs one error line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHARTFIX, recursing_chart

from chartfix import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

ENGINE_AND_POOL = (
    "helm_python", "ruamel.yaml", "libcst", "multiprocessing", "chartfix.runner",
    "chartfix.pipeline", "chartfix.sources.helm.source", "chartfix.sources.kustomize.source",
    "chartfix.sources.manifests.source", "chartfix.sources.cdk8s.synth",
)
"""What only rendering and fixing need: Helm's engine (and Go), the YAML editor, libcst,
the worker pool, the pipeline, every kind's rendering and editing."""

HEAVY = (*ENGINE_AND_POOL, "yaml", "importlib.metadata", "concurrent.futures", "chartfix.recipes")
"""What a warm check does without, besides: any YAML library, the recipes, the scan of the
installed distributions."""

EDITING = (
    "ruamel.yaml", "libcst", "unidiff", "markdown_it", "importlib.metadata", "chartfix.verify",
    "importlib.resources", "concurrent.futures",
)
"""What only fixing needs: the YAML editor (a chart's toggle in values.yaml, plain manifests),
libcst, diffs, Markdown, the verifier, the scan of the installed distributions for their
recipes (the built-in ones plan every fix a check of legacy-server advises) and the shipped
recipe files; and thread pools (CHARTFIX_POOL=thread)."""


LOADED = """
import json, sys
from chartfix.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:  # --version
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
"""Runs chartfix's command line and prints its exit status and every module it loaded."""


def loaded(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, str, list[str]]:
    """A fresh `python -c` process running chartfix: (exit status, output, modules loaded).
    `env`: variables set for it (CHARTFIX_INLINE=1: its work done in that process, its
    modules among those listed)."""
    run = subprocess.run(
        [sys.executable, "-c", LOADED, *argv], cwd=cwd, capture_output=True, text=True,
        check=False, env={**os.environ, **(env or {})},
    )
    *output, last = run.stdout.splitlines()
    result = json.loads(last)
    return result["code"], "\n".join(output), result["modules"]


def among(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m in names]


def test_a_warm_check_loads_no_engine_yaml_library_or_pool(chart_copy, tmp_path) -> None:
    chart = chart_copy("legacy-server")
    cold = subprocess.run(
        [*CHARTFIX, "check", str(chart)], cwd=tmp_path, capture_output=True, text=True,
        check=False,
    )
    assert cold.returncode == 1, cold.stderr

    code, output, modules = loaded("check", str(chart), cwd=tmp_path)

    assert (code, output) == (1, cold.stdout.rstrip("\n"))
    assert among(modules, HEAVY) == []


def test_a_cold_check_plans_its_advice_without_the_editors(chart_copy, tmp_path) -> None:
    chart = chart_copy("legacy-server")

    code, output, modules = loaded(
        "check", str(chart), "--no-cache", cwd=tmp_path, env={"CHARTFIX_INLINE": "1"}
    )

    assert code == 1
    assert output.count("`chartfix fix` does it") == 2, output  # both findings planned
    assert "helm_python" in modules  # rendered in this process: what it loaded is listed
    assert among(modules, EDITING) == []


def test_version_loads_no_command_s_work(tmp_path) -> None:
    code, output, modules = loaded("--version", cwd=tmp_path)
    assert (code, output) == (0, f"chartfix {__version__}")
    work = ("checking", "fixing", "bulking", "explain")
    assert among(modules, tuple(f"chartfix.commands.{m}" for m in work)) == []
    assert among(modules, HEAVY) == []


@pytest.mark.parametrize("argv", [["recipes"], ["rule", "overlap"]])
def test_commands_that_render_nothing_load_no_engine_or_pool(argv, tmp_path) -> None:
    code, output, modules = loaded(*argv, cwd=tmp_path)
    assert code == 0 and output
    assert among(modules, ENGINE_AND_POOL) == []


PROGRAM = """
import gc, sys
from chartfix.cli import program
sys.argv = ["chartfix", *sys.argv[1:]]
status = program()
print(status, gc.get_freeze_count() > 0)
"""


def test_the_program_leaves_what_it_made_to_the_exit(tmp_path) -> None:
    """`chartfix` (the console script and `python -m chartfix`) freezes what its run made out
    of the garbage collector's sight before the process exits: Python's collections at
    exit walked all of it; `main`, which tests and scripts call, freezes nothing."""
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM, "rule", "overlap"], cwd=tmp_path, capture_output=True,
        text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "0 True"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"chartfix": "chartfix.cli:program"}
    assert "program()" in (ROOT / "chartfix" / "__main__.py").read_text(encoding="utf-8")


def test_one_chart_is_checked_in_a_forked_worker_and_a_crash_is_its_error_line(
    chart_copy, tmp_path
) -> None:
    chart = recursing_chart(chart_copy("legacy-server"))

    code, output, modules = loaded("check", str(chart), cwd=tmp_path)

    assert code == 2
    assert output.splitlines()[0] == (
        "error: legacy-server: helm crashed while rendering (exit signal 6, SIGABRT): likely "
        "endless recursion in a template (a `tpl` or `include` that calls itself)"
    )
    assert "helm_python" not in modules, "the chart was rendered in this process"


def test_an_engine_that_does_not_load_is_the_chart_s_one_error_line(
    chart_copy, tmp_path
) -> None:
    """Helm's library that does not load is said once, in the chart's error line: what the
    worker could not send back as it was (its exception's class is in the engine's package,
    which does not import) is sent as text."""
    chart = chart_copy("legacy-server")
    broken = tmp_path / "libhelm_c.so"
    broken.write_text("not a library\n", encoding="utf-8")

    run = subprocess.run(
        [*CHARTFIX, "check", "--no-cache", chart.name], cwd=chart.parent, capture_output=True,
        text=True, check=False, env={**os.environ, "HELM_C_LIB": str(broken)},
    )

    assert run.returncode == 2
    [error, summary] = run.stdout.splitlines()
    assert error.startswith(
        f"error: {chart.name}: chartfix failed (RuntimeError: HelmLibraryError: found the helm-c "
        f"library at {broken} but could not load it: "
    )
    assert summary == "1 chart, none checked; 1 chart could not be processed"
    assert run.stderr == ""


FORKED = """
import os, sys, time
from chartfix import runner

def work(n):
    if n == 1:
        time.sleep(600)  # as a Go render that never returns: only a kill ends it
    if n == 2:
        os.abort()  # as Go's runtime does on an endless template recursion
    return n * n

print(runner.fork_safe())
for n in (1, 2, 3):
    # `work` lives in this -c script's __main__: only a worker forked from it can run it
    print(*runner.run_parallel(work, [n], 2, lambda item, error: str(error), timeout=2))
"""


def test_a_single_item_runs_in_a_forked_worker_stopped_at_its_timeout_or_death(
    tmp_path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", FORKED], cwd=tmp_path, capture_output=True, text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    safe, timed_out, died, squared = run.stdout.splitlines()
    assert safe == "True"
    assert timed_out == "took longer than --timeout 2s; skipped"
    assert died.startswith("helm crashed while rendering (exit signal 6, SIGABRT)")
    assert squared == "9"


PRESTARTED = """
from chartfix import runner

def work(n):
    return n * n

runner.prestart(2, 3)  # before Helm's library is loaded: forked, sharing these imports
import helm_python._native  # the parent loads Go after: its forked workers do not have it
# `work` lives in this -c script's __main__: only workers forked from it can run it
print(*runner.run_parallel(work, [1, 2, 3], 2, lambda item, error: repr(error)))
runner.shutdown()  # each idle worker ends at its closed pipe (none holds another's)
print("done")
"""


def test_a_trees_workers_are_forked_before_helm_is_loaded_and_end_with_their_pipes(
    tmp_path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", PRESTARTED], cwd=tmp_path, capture_output=True, text=True,
        check=False, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["1 4 9", "done"]
