"""Run one function over many charts in parallel, surviving a worker that dies.

Processes, not threads (measured on 2 cores over the 44 prometheus-community charts: serial
check 3.2 s of CPU; 2 threads 2.2-2.4 s wall; 2 processes 1.7-1.85 s wall). Helm's Go render
is a ctypes call that releases the GIL, but YAML parsing (libyaml scans, Python builds the
objects), archive staging and the rules hold it. Each worker's Go runtime gets GOMAXPROCS=1
(N workers on N cores; CHARTFIX_WORKER_GOMAXPROCS=inherit keeps Go's default) and a lazier
garbage collector (`WORKER_GOGC`).

Processes are started with `spawn`: a child forked from a parent whose Go runtime is
running (any render done before the pool started, any values file Helm's library read)
deadlocks in its first render. Spawning costs a fresh interpreter and imports per worker
(~0.3 s), so the pool is kept for the life of the process and reused by every call (bulk
runs, benchmarks, tests). One item (`check` of one chart: what the pre-commit hook and the
Action run per change) starts no pool: its one worker is forked when that is safe (Linux,
Helm's library not loaded in this process, no other thread), which costs next to nothing
(the parent's imports are shared); else spawned like the others.

Results come back in INPUT order (deterministic output; callers that sort need not care).
Each worker process runs one item at a time, sent down its own pipe, so the parent always
knows which item a worker holds: when a worker dies (a Go runtime abort on an endless `tpl`
recursion, a segfault, the OOM killer) that item becomes `on_crash(item, WorkerDied)` and a
fresh worker takes the next one; when an item runs past `timeout` the parent kills its worker
(a Go render is one call that no signal in the worker interrupts) and the item becomes
`on_crash(item, TimedOut)`. Workers die with the parent (PR_SET_PDEATHSIG on Linux), and a
run that stops early (Ctrl-C, an exception) kills the workers that were busy for it.

`jobs=1` and a single item run in one such worker too, so that a chart that crashes Helm's
engine or never finishes costs one error line, not the whole run (the pre-commit hook and the
Action check one chart). CHARTFIX_INLINE=1 runs it in this process instead (debugging, tests
that capture what the work prints); the limit is then a SIGALRM timer, which strikes only
between calls into Go.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")
R = TypeVar("R")

PoolKind = Literal["process", "thread"]

DEFAULT_KIND: PoolKind = "process"
"""Override with CHARTFIX_POOL=thread|process (benchmarks, debugging)."""


class Stopped(Exception):
    """The item's worker was stopped or died: `str()` is the reason, fit for an error line."""


class TimedOut(Stopped):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"took longer than --timeout {seconds:g}s; skipped")
        self.seconds = seconds


class WorkerDied(Stopped):
    def __init__(self, exitcode: int | None) -> None:
        super().__init__(_death(exitcode))
        self.exitcode = exitcode


def crash_reason(error: BaseException) -> str:
    """The error line's reason for an item that failed outside its own error handling."""
    if isinstance(error, Stopped):
        return str(error)
    return f"chartfix failed ({type(error).__name__}: {error})"


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        signum = -exitcode
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        how = f"exit signal {signum}, {name}"
        if signum == signal.SIGABRT:
            return (
                f"helm crashed while rendering ({how}): likely endless recursion in a "
                "template (a `tpl` or `include` that calls itself)"
            )
        if signum == signal.SIGKILL:
            return f"the process rendering it was killed ({how}): out of memory?"
        return f"the process rendering it died ({how})"
    return f"the process rendering it exited unexpectedly (exit status {exitcode})"


WORKER_GOGC = "400"
"""Go's garbage collector in a worker runs when its heap has grown 400% since the last
collection, not Go's default 100%: measured over the prometheus-community charts, a fifth
less CPU in Helm's renders for about 60 MB more memory per worker (a GOGC in the
environment wins)."""

_SLICE = 0.2
"""Seconds the parent waits for its workers before it looks at signals again."""

_threads: dict[int, ThreadPoolExecutor] = {}
_idle: list[_Worker] = []
"""Process workers kept for the life of the process and reused by every call (spawning one
costs a fresh interpreter and imports, ~0.3 s)."""
_hired: set[_Worker] = set()
_lock = threading.Lock()


def default_jobs() -> int:
    return os.cpu_count() or 1


def run_parallel(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int | None,
    on_crash: Callable[[T, BaseException], R] | None = None,
    kind: PoolKind | None = None,
    timeout: float | None = None,
) -> Iterator[R]:
    """`fn(item)` for every item, yielded in input order.

    jobs=None (or 0) uses every core. `fn` must be picklable for process workers (a
    module-level function or a `functools.partial` of one). An exception raised by `fn`,
    the death of the worker running it, or `timeout` seconds passing becomes
    `on_crash(item, error)` when given (a `Stopped` for the last two); without `on_crash`
    it is raised. `items` is read as the work goes (`_Feed`): an iterator may work out its
    next item while the workers are busy with the ones before.
    """
    feed = _Feed(items)
    workers = sum(feed.has(index) for index in range(jobs or default_jobs()))
    chosen: PoolKind = kind or _env_kind() or DEFAULT_KIND
    if not workers:
        return
    if workers == 1 and (chosen == "thread" or os.environ.get("CHARTFIX_INLINE") == "1"):
        yield from _inline(fn, feed, on_crash, timeout)
    elif chosen == "thread":
        yield from _threaded(fn, feed, workers, on_crash)
    else:
        yield from _processes(fn, feed, workers, on_crash, timeout)


class _Feed(Generic[T]):
    """The items of a run, taken from their iterable only when the run needs the next one."""

    def __init__(self, items: Iterable[T]) -> None:
        self._source = iter(items)
        self.items: list[T] = []

    def has(self, index: int) -> bool:
        """Whether there is an item at `index` (taking those up to it from the iterable)."""
        while len(self.items) <= index:
            try:
                self.items.append(next(self._source))
            except StopIteration:
                return False
        return True

    def __iter__(self) -> Iterator[T]:
        index = 0
        while self.has(index):
            yield self.items[index]
            index += 1


def prestart(jobs: int | None, items: int, warm: Callable[[], object] | None = None) -> None:
    """Start the process workers a `run_parallel(..., jobs)` over `items` items will use, now,
    forked when `fork_safe` (the caller has not loaded Helm's library yet; it may later): they
    then share this process's imports, and their start-up overlaps what the caller does
    before that call. Each new one calls `warm()` first (what every item will need: imports,
    an engine's library loaded; picklable when spawned), then waits idle, kept for it (and
    any later call). A single item's worker is left to `run_parallel` (forked for it then)."""
    if items <= 1 or (_env_kind() or DEFAULT_KIND) == "thread":
        return
    _release(_hire(max(1, min(jobs or default_jobs(), items)), fork=fork_safe(), warm=warm))


def _env_kind() -> PoolKind | None:
    value = os.environ.get("CHARTFIX_POOL", "")
    return value if value in ("process", "thread") else None  # type: ignore[return-value]


def _inline(
    fn: Callable[[T], R],
    feed: _Feed[T],
    on_crash: Callable[[T, BaseException], R] | None,
    timeout: float | None,
) -> Iterator[R]:
    for item in feed:
        try:
            with time_limit(timeout):
                result = fn(item)
        except Exception as err:
            result = _crashed(item, err, on_crash)
        yield result


class _TimeUp(BaseException):
    """Raised by SIGALRM; a BaseException, so no `except Exception` on the way swallows it."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """`TimedOut` when the block runs longer than `seconds`, in this process.

    A timer signal, so it works only in the main thread, and only between calls into Go (a
    Helm render is one call): the process workers are stopped from outside instead.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TimeUp:
        raise TimedOut(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _threaded(
    fn: Callable[[T], R],
    feed: _Feed[T],
    workers: int,
    on_crash: Callable[[T, BaseException], R] | None,
) -> Iterator[R]:
    # here, not at the top: thread pools are for benchmarks and debugging (CHARTFIX_POOL)
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    window = workers + 1  # one queued item per pool keeps every worker busy
    done: dict[int, R] = {}
    next_index = 0  # next item to submit
    emit = 0  # next result to yield
    running: dict[Future[R], int] = {}
    with _lock:
        pool = _threads.get(workers)
        if pool is None:
            pool = _threads[workers] = ThreadPoolExecutor(workers, thread_name_prefix="chartfix")
    while running or feed.has(next_index):
        while len(running) < window and feed.has(next_index):
            running[pool.submit(fn, feed.items[next_index])] = next_index
            next_index += 1
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            index = running.pop(future)
            error = future.exception()
            if error is not None:
                done[index] = _crashed(feed.items[index], error, on_crash)
            else:
                done[index] = future.result()
        emit += yield from _ready(done, emit)


# --- process workers -------------------------------------------------------------------------


class _Worker:
    """One process serving one item at a time over its pipe: spawned, or forked from this
    one when `fork_safe` (a single item, or `prestart`)."""

    def __init__(self, forked: bool = False, warm: Callable[[], object] | None = None) -> None:
        context = (
            multiprocessing.get_context("fork") if forked else multiprocessing.get_context("spawn")
        )
        ours, theirs = context.Pipe()
        target, args = (_serve_forked, (theirs, ours)) if forked else (_serve, (theirs,))
        self.process = context.Process(
            target=target, args=(*args, os.getpid(), warm), daemon=True, name="chartfix-worker"
        )
        with _sigint_ignored():  # inherited: a Ctrl-C while it imports prints nothing
            self.process.start()
        theirs.close()
        self.conn: Connection = ours
        self.deadline = math.inf

    def give(self, fn: Callable[[Any], Any], item: Any) -> bool:
        try:
            self.conn.send((os.getcwd(), fn, item))  # relative paths mean the same there
        except (OSError, ValueError):  # died while idle (its parent thread ended, a kill)
            return False
        return True

    def stop(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join()
        self.conn.close()


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored for the block (main thread only: elsewhere signals cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _processes(
    fn: Callable[[T], R],
    feed: _Feed[T],
    workers: int,
    on_crash: Callable[[T, BaseException], R] | None,
    timeout: float | None,
) -> Iterator[R]:
    crew = _hire(workers, fork=not feed.has(1) and fork_safe())
    next_index = 0  # next item to give
    busy: dict[_Worker, int] = {}
    done: dict[int, R] = {}
    emit = 0
    try:
        while busy or feed.has(next_index):
            for slot, worker in enumerate(crew):
                if worker not in busy and feed.has(next_index):
                    worker = crew[slot] = _assigned(worker, fn, feed.items[next_index])
                    worker.deadline = math.inf  # the clock starts when the work does
                    busy[worker] = next_index
                    next_index += 1
            left = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            # in slices: a Ctrl-C caught by one of Go's threads (the parent may have loaded
            # the engine) is only acted on when this thread returns to Python
            waited = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = wait_any(waited, min(left, _SLICE))
            now = time.monotonic()
            for worker, index in list(busy.items()):
                if worker.conn in ready or worker.process.sentinel in ready:
                    ok, value = _result(worker)
                    if ok is None:  # it has its item (and has imported what it needs)
                        worker.deadline = now + timeout if timeout else math.inf
                        continue
                elif now >= worker.deadline:
                    worker.stop()
                    ok, value = False, TimedOut(timeout or 0)
                else:
                    continue
                del busy[worker]
                done[index] = value if ok else _crashed(feed.items[index], value, on_crash)
            emit += yield from _ready(done, emit)
    finally:  # a run stopped early: what its busy workers hold is of no use to anyone
        for worker in busy:
            worker.stop()
        _release(crew)


def _assigned(worker: _Worker, fn: Callable[[Any], Any], item: Any) -> _Worker:
    """`worker`, or a fresh one when it has died, now working on `item`."""
    if worker.process.exitcode is None and worker.give(fn, item):
        return worker
    worker.stop()
    with _lock:
        _hired.discard(worker)
        fresh = _Worker()
        _hired.add(fresh)
    if not fresh.give(fn, item):
        raise RuntimeError("a freshly started worker process died at once")
    return fresh


def _result(worker: _Worker) -> tuple[bool | None, Any]:
    """What the worker sent (None: that it has started on its item), or why it died
    without sending anything."""
    try:
        if worker.conn.poll():
            ok, value = worker.conn.recv()
            return ok, value
    except (EOFError, OSError):
        pass
    except Exception as err:  # a result or an exception that does not unpickle
        return False, err
    worker.process.join()
    exitcode = worker.process.exitcode
    worker.stop()
    return False, WorkerDied(exitcode)


def fork_safe() -> bool:
    """Whether a worker may be forked from this process: on Linux (elsewhere libraries may
    not survive a fork), before Helm's library is loaded (Go's runtime does not survive
    one: the child deadlocks in its first render), with no other thread running (its locks
    would be copied held)."""
    return (
        sys.platform == "linux"
        and ENGINE_MODULE not in sys.modules
        and threading.active_count() == 1
    )


ENGINE_MODULE = "helm_python._native"
"""The module whose import loads Helm's Go library (helm-python-sdk) into the process."""


def _serve_forked(
    conn: Connection, ours: Connection, parent: int, warm: Callable[[], object] | None = None
) -> None:
    """A forked worker's life: first close the parent's pipe ends it was born holding (its
    own, and those of the pool's workers), so that each of them still ends when the parent
    closes its end."""
    ours.close()
    for worker in [*_idle, *_hired]:
        worker.conn.close()
    _serve(conn, parent, warm)


def _serve(conn: Connection, parent: int, warm: Callable[[], object] | None = None) -> None:
    """A worker's life: `warm()` (see `prestart`), then items in, results out, until the pipe
    closes or the parent dies."""
    _worker_start()
    _die_with_parent(parent)
    if warm is not None:
        with suppress(Exception):  # the items that need what failed say why
            warm()
    while True:
        try:
            cwd, fn, item = conn.recv()
        except (EOFError, OSError):
            return
        if _folder() != cwd:  # workers outlive a call; the caller may have moved since
            os.chdir(cwd)
        conn.send((None, None))  # started: --timeout counts from here, not the spawn
        try:
            answer: tuple[bool, Any] = (True, fn(item))
        except Exception as err:
            answer = (False, err)
        try:
            conn.send(answer)
        except Exception as err:  # an unpicklable result or exception: said as text
            failed = answer[1] if not answer[0] else err
            conn.send((False, RuntimeError(f"{type(failed).__name__}: {failed}")))


def _folder() -> str | None:
    """The worker's current folder; None when it is gone (removed since the last call)."""
    try:
        return os.getcwd()
    except FileNotFoundError:
        return None


def _worker_start() -> None:
    """One Go thread per worker: N workers on N cores, each Go runtime sized to its share.

    Ctrl-C reaches every process of the terminal's group: the main process handles it (see
    `abandon`); a worker ignores it, so no worker prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.get("CHARTFIX_WORKER_GOMAXPROCS", "1") != "inherit":
        os.environ.setdefault("GOMAXPROCS", os.environ.get("CHARTFIX_WORKER_GOMAXPROCS", "1"))
    os.environ.setdefault("GOGC", WORKER_GOGC)


def _die_with_parent(parent: int) -> None:
    """SIGKILL this worker when its parent dies, even by SIGKILL (Linux; elsewhere an idle
    worker ends when its pipe closes)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _hire(
    count: int, fork: bool = False, warm: Callable[[], object] | None = None
) -> list[_Worker]:
    """`count` workers: idle ones first, then new ones (forked when `fork`, calling `warm`
    first). Each is among the hired before the next is forked: a forked one closes their
    pipe ends."""
    with _lock:
        crew = [_idle.pop() for _ in range(min(count, len(_idle)))]
        _hired.update(crew)
        while len(crew) < count:
            worker = _Worker(forked=fork, warm=warm)
            _hired.add(worker)
            crew.append(worker)
        return crew


def _release(crew: list[_Worker]) -> None:
    with _lock:
        for worker in crew:
            if worker in _hired:
                _hired.discard(worker)
                if worker.process.exitcode is None and not worker.conn.closed:
                    _idle.append(worker)


def _ready(done: dict[int, R], emit: int) -> Generator[R, None, int]:
    """Yield the results from index `emit` on without a gap, taking them out of `done`;
    returns how many went."""
    count = 0
    while emit + count in done:
        yield done.pop(emit + count)
        count += 1
    return count


def _crashed(
    item: T, error: BaseException, on_crash: Callable[[T, BaseException], R] | None
) -> R:
    if on_crash is None:
        raise error
    return on_crash(item, error)


def abandon() -> None:
    """Ctrl-C: stop every worker now (their items are dropped) and forget the pools."""
    with _lock:
        workers = list(_idle) + list(_hired)
        _idle.clear()
        _hired.clear()
        threads = list(_threads.values())
        _threads.clear()
    for worker in workers:
        worker.stop()
    for pool in threads:
        pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop every idle worker and thread pool (tests that count processes; otherwise left
    to exit, which ends the daemon workers)."""
    with _lock:
        workers = list(_idle)
        _idle.clear()
        threads = list(_threads.values())
        _threads.clear()
    for worker in workers:
        worker.conn.close()  # its loop ends at the closed pipe
        worker.process.join()
    for pool in threads:
        pool.shutdown(wait=True)
