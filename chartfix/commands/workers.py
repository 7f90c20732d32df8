"""The worker processes of a run (check, bulk), started before the run needs them: forked
(`runner.prestart`) before this process loads Helm's library, each warming up (`warm_up`)
while this process plans the work.

Started at the first target the cache does not answer, not speculatively at start-up:
measured over the 44 prometheus-community charts, forking them before this process's own
imports gained nothing (three processes then share two cores), and a run the cache answers
whole starts none.
"""

from __future__ import annotations


def start(jobs: int | None, targets: int) -> None:
    """The workers `runner.run_parallel(..., jobs)` over `targets` targets will use, started
    now (unless they were already) and warming up."""
    from chartfix.runner import prestart

    prestart(jobs, targets, warm_up)


def warm_up() -> None:
    """What a worker's first task would load: the pipeline's modules and the engine's
    library (Helm's Go runtime), loaded as the worker starts."""
    import importlib

    from chartfix.runner import ENGINE_MODULE

    importlib.import_module("chartfix.pipeline")
    importlib.import_module(ENGINE_MODULE)
