"""Reading a tree's chunks in this process and, on more than one core, in workers.

The main process works through the chunks (:mod:`naklar._read.chunks`) in order and,
once the load has run long enough to pay for it, forks one worker per extra
core that takes chunks from the same counter and streams its results back.
Results are put together in chunk order, so a parallel read gives exactly the
rows of a serial one, in the same order. The fork inherits the loader and the
setters as they are; where forking is unsafe, workers come from a fork server
and are sent them by cloudpickle, so lambdas, closures and functions defined in
a notebook or script work there too.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import NaklarError
from .chunks import (
    ChunkRead,
    ReadOptions,
    TreeRead,
    Unit,
    add_findings,
    file_units,
    keep_directory_ctimes,
    merge_chunks,
    plan_units,
    read_chunk,
)
from .progress import Progress
from .walk import Discovery, FileStamp

__all__ = ["read_tree", "start_read", "StartedRead", "read_files", "PARALLEL_AFTER_SECONDS"]

#: Serial work after which an automatic read may start its workers.
PARALLEL_AFTER_SECONDS = 0.08
#: Reading left that pays for a worker that must import naklar's reading modules
#: first (forkserver, spawn).
_SLOW_START_SECONDS = 0.3
#: Chunks per process: enough to balance uneven subtrees, few enough to be cheap.
_CHUNKS_PER_PROCESS = 24


def read_tree(options: ReadOptions, *, workers: int | None, progress: bool | None) -> TreeRead:
    """Walk ``options.root_dir`` and read every settings file under it.

    Parameters
    ----------
    options:
        Where to look and how to read.
    workers:
        Processes to use: ``None`` uses every core once the read has run for
        :data:`PARALLEL_AFTER_SECONDS`; ``1`` reads serially; ``n > 1`` starts
        ``n - 1`` workers at once (where ``fork`` is available).
    progress:
        ``False`` never shows a progress bar; otherwise one appears when the
        read takes more than a second and is not about to finish.
    """
    return start_read(options, workers=workers, progress=progress).finish()


def start_read(
    options: ReadOptions,
    *,
    workers: int | None,
    progress: bool | None,
    start_workers_now: bool = False,
) -> StartedRead:
    """Plan a read of the tree; with ``start_workers_now``, forked workers begin at once.

    The caller can then do other work (import SQLAlchemy and pandas) while the
    workers read, and call :meth:`StartedRead.finish` to join in.
    """
    units, planning = plan_units(options)
    return StartedRead(units, options, workers, progress, start_workers_now, planning)


def read_files(
    paths: list[str], options: ReadOptions, *, workers: int | None, progress: bool | None
) -> TreeRead:
    """Read the given settings files (a refresh's new and changed ones), in that order."""
    return StartedRead(file_units(paths), options, workers, progress).finish()


class StartedRead:
    """A read cut into chunks, whose workers may already be at it."""

    def __init__(
        self,
        units: list[Unit],
        options: ReadOptions,
        workers: int | None,
        progress: bool | None,
        start_workers_now: bool = False,
        planning: Discovery | None = None,
    ) -> None:
        processes = _process_count(workers)
        self._chunks = _chunks(units, processes)
        self._options = options
        self._planning = planning
        self._bar = Progress(
            len(units), f"naklar: reading {options.dict_file}", enabled=progress is not False
        )
        self._pool: _WorkerPool | None = None
        if processes > 1 and len(self._chunks) >= 2:
            method = _start_method()
            # Only a forked worker is cheap enough to start before knowing the read is long.
            start_early = start_workers_now and method == "fork"
            start_now = workers is not None or start_early
            self._pool = _WorkerPool(self._chunks, options, processes - 1, method, start_now)
            if start_early:
                self._pool.start_workers()

    def finish(self) -> TreeRead:
        """Read what the workers have not, and put every chunk's results together."""
        with self._bar:
            read = self._read_serially() if self._pool is None else self._pool.run(self._bar)
        if self._planning is not None:
            add_findings(read, self._planning)
            keep_directory_ctimes(read, self._planning.stamps)
        return read

    def cancel(self) -> None:
        """Stop the workers of a read that will not be finished."""
        if self._pool is not None:
            self._pool.stop_workers()

    def _read_serially(self) -> TreeRead:
        results = []
        for number, chunk in enumerate(self._chunks):
            results.append(read_chunk(chunk, self._options))
            self._bar.advance_to(_units_before(self._chunks, number + 1))
        return merge_chunks(iter(results))


def _process_count(workers: int | None) -> int:
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be None or at least 1, got {workers!r}")
    return workers if workers is not None else _cores_available()


def _cores_available() -> int:
    """The cores this process may run on: those it is bound to where the OS says (Linux).

    macOS and Windows cannot bind a process to cores, so there it is every core.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start_method() -> str:
    """How to start workers.

    ``fork`` is cheap and hands the worker the loader and setters as they are,
    but forking a process that runs other threads (a notebook kernel does) can
    deadlock the child. On macOS the system libraries (Accelerate, under numpy)
    run threads Python does not see, and a forked child that touches them can
    crash: Python itself stopped forking there by default. Otherwise workers
    come from a ``forkserver`` (or ``spawn``), and the options go to them by
    :func:`_options_for_workers`.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1 and sys.platform != "darwin":
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _options_for_workers(options: ReadOptions) -> bytes | None:
    """The options pickled for workers that are not forked; ``None`` if they cannot be.

    cloudpickle copies by value what a worker could not import (lambdas,
    closures, whatever a notebook's cells or the user's script defined, with the
    globals they use), and refers to everything else by its module, as pickle
    does. So no worker needs ``__main__``. A loader that holds what cannot be
    pickled at all (an open file, a lock, a database connection) leaves the
    read to this process.
    """
    import cloudpickle

    try:
        return cloudpickle.dumps(options)
    except Exception:  # pickling raises TypeError, PicklingError, AttributeError...
        return None


@contextlib.contextmanager
def _main_module_left_behind() -> Iterator[None]:
    """Start a worker from a fork server (or spawned) that does not run the user's script.

    Such a child runs the parent's ``__main__`` script again, as ``__mp_main__``,
    before it takes its work: that is how multiprocessing finds what was defined
    there. A script without ``if __name__ == '__main__':`` (the usual analysis
    script) would then load the tree again in every worker, and Python stops
    that with a RuntimeError. naklar's workers need nothing from ``__main__``
    (:func:`_options_for_workers` copies what the options use from it), so while
    they start (a few milliseconds), a bare module stands in for it.
    """
    script = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = script


@contextlib.contextmanager
def _forking_knowingly() -> Iterator[None]:
    """Start a worker without Python's warning about forking a multi-threaded process.

    From Python 3.12, ``os.fork()`` warns when the process runs threads Python
    did not start: OpenBLAS's, once numpy is imported, and Arrow's, once pandas
    is. naklar forks only when Python runs one thread (see :func:`_start_method`);
    those libraries stop or reset their threads around a fork, and the child
    only reads settings files. The warning would name ``multiprocessing``'s
    line, where the user can change nothing.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*is multi-threaded, use of fork\(\)", category=DeprecationWarning
        )
        yield


def _chunks(units: list[Unit], processes: int) -> list[list[Unit]]:
    size = max(1, -(-len(units) // (processes * _CHUNKS_PER_PROCESS)))
    return [units[start : start + size] for start in range(0, len(units), size)]


def _units_before(chunks: list[list[Unit]], count: int) -> int:
    return sum(len(chunk) for chunk in chunks[:count])


class _WorkerPool:
    """This process and its workers taking chunks from one shared counter."""

    def __init__(
        self,
        chunks: list[list[Unit]],
        options: ReadOptions,
        worker_count: int,
        method: str,
        start_now: bool,
    ) -> None:
        self.chunks, self.options, self.worker_count = chunks, options, worker_count
        self.start_now = start_now
        self.context: Any = multiprocessing.get_context(method)
        self.forks = method == "fork"
        # A forked worker starts in milliseconds; one from a fork server or spawned
        # imports naklar first, which pays only when much reading is left.
        self.start_after = PARALLEL_AFTER_SECONDS if self.forks else _SLOW_START_SECONDS
        self.next_chunk = self.context.Value("q", 0)
        self.units_done = self.context.Value("q", 0)
        self.results_queue: Any = self.context.Queue()
        # A worker that is not forked must be sent the chunks (megabytes of paths at
        # 100,000 runs). Sent with the process, they would hold this process until
        # the child has started; a queue's own thread sends them while it reads.
        self.chunks_queue: Any = None if self.forks else self.context.Queue()
        if self.chunks_queue is not None:
            self.chunks_queue.cancel_join_thread()  # exit never waits for a dead worker
        self.workers: list[Any] = []

    @functools.cached_property
    def options_sent(self) -> ReadOptions | bytes | None:
        """The options as each worker gets them; ``None``: they cannot be sent.

        A forked worker inherits them. Others get them pickled, once, when the
        first worker starts (a read that ends before never pickles them).
        """
        return self.options if self.forks else _options_for_workers(self.options)

    def start_workers(self) -> None:
        if self.options_sent is None:
            return  # this process reads alone
        remaining = len(self.chunks) - self.next_chunk.value
        for _ in range(min(self.worker_count, remaining - 1)):
            if self.chunks_queue is not None:
                self.chunks_queue.put(self.chunks)  # one copy for each worker
            worker = self.context.Process(
                target=_worker,
                args=(
                    self.chunks if self.chunks_queue is None else None,
                    self.options_sent,
                    self.next_chunk,
                    self.units_done,
                    self.results_queue,
                    self.chunks_queue,
                ),
                daemon=True,
            )
            with self.starting():
                worker.start()
            self.workers.append(worker)

    def starting(self) -> contextlib.AbstractContextManager[None]:
        """What surrounds a worker's start, by start method."""
        return _forking_knowingly() if self.forks else _main_module_left_behind()

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()

    def run(self, bar: Progress) -> TreeRead:
        """Read chunks here until none is left, then collect the workers' chunks."""
        chunks, options, workers = self.chunks, self.options, self.workers
        results: dict[int, ChunkRead] = {}
        started = time.monotonic()
        try:
            while True:
                if not workers and (
                    self.start_now
                    or _worth_starting(started, self.start_after, chunks, self.next_chunk)
                ):
                    self.start_workers()
                number = _claim(self.next_chunk)
                if number >= len(chunks):
                    break
                results[number] = read_chunk(chunks[number], options)
                _add_done(self.units_done, len(chunks[number]))
                bar.advance_to(self.units_done.value)
            self._collect(results, bar)
        finally:
            self.stop_workers()
        read = merge_chunks(results[number] for number in sorted(results))
        read.workers_used = 1 + len(workers)
        return read

    def _collect(self, results: dict[int, ChunkRead], bar: Progress) -> None:
        finished = 0
        while finished < len(self.workers):
            try:
                message = self.results_queue.get(timeout=1.0)
            except queue.Empty:
                _check_alive(self.workers)
                continue
            if message is None:
                finished += 1
            elif isinstance(message, _WorkerFailure):
                raise message.rebuild()
            else:
                number, packed = message
                results[number] = _unpack(packed)
                bar.advance_to(self.units_done.value)
        for worker in self.workers:
            worker.join()


def _pack(chunk: ChunkRead) -> tuple[ChunkRead, list[tuple[Any, ...]]]:
    """The chunk as it crosses to the main process: stamps as plain tuples."""
    stamps = [tuple(stamp) for stamp in chunk.stamps]
    chunk.stamps = []
    return chunk, stamps


def _unpack(packed: tuple[ChunkRead, list[tuple[Any, ...]]]) -> ChunkRead:
    chunk, stamps = packed
    chunk.stamps = list(map(FileStamp._make, stamps))
    return chunk


def _worth_starting(
    started: float, start_after: float, chunks: list[list[Unit]], next_chunk: Any
) -> bool:
    """Start workers once the reading left is expected to take longer than starting them."""
    elapsed = time.monotonic() - started
    done = int(next_chunk.value)
    if elapsed < PARALLEL_AFTER_SECONDS or done == 0:
        return False
    left = elapsed / done * (len(chunks) - done)
    return left > start_after


def _check_alive(workers: list[Any]) -> None:
    """A worker that died without reporting (killed, out of memory) stops the load."""
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise NaklarError(
                f"a worker process reading settings files died (exit code {worker.exitcode}); "
                "pass workers=1 to read in this process only"
            )


def _add_done(units_done: Any, count: int) -> None:
    """Count a chunk's units as done, for the progress bar (shared across processes)."""
    with units_done.get_lock():
        units_done.value += count


def _claim(counter: Any) -> int:
    with counter.get_lock():
        number = int(counter.value)
        counter.value += 1
    return number


@dataclass
class _WorkerFailure:
    """An unexpected exception in a worker (a setter raising), sent to the main process."""

    error: BaseException | None
    description: str

    def rebuild(self) -> BaseException:
        if self.error is not None:
            return self.error
        return NaklarError(f"reading in a worker process failed: {self.description}")


def _worker(
    chunks: list[list[Unit]] | None,
    options: ReadOptions | bytes,
    next_chunk: Any,
    units_done: Any,
    results_queue: Any,
    chunks_queue: Any,
) -> None:
    """Read chunks until none is left.

    A worker that was not forked gets ``options`` pickled and ``chunks`` as
    ``None``: they come by ``chunks_queue``. One that cannot unpickle the options
    (they refer to a module this process cannot import, such as one loaded from
    a file by path) reads nothing, and leaves every chunk to the main process.
    """
    gc.disable()  # this process only reads, sends and exits: see naklar._read.gc_pause
    if chunks is None:
        chunks = chunks_queue.get()  # taken first: a copy left in the queue would block its thread
    try:
        read_options = pickle.loads(options) if isinstance(options, bytes) else options
    except Exception:
        results_queue.put(None)
        return
    try:
        while (number := _claim(next_chunk)) < len(chunks):
            chunk = read_chunk(chunks[number], read_options)
            _add_done(units_done, len(chunks[number]))
            results_queue.put((number, _pack(chunk)))
    except BaseException as error:  # the main process re-raises it
        results_queue.put(_failure(error))
    results_queue.put(None)


def _failure(error: BaseException) -> _WorkerFailure:
    try:
        pickle.loads(pickle.dumps(error))
        return _WorkerFailure(error, repr(error))
    except Exception:
        return _WorkerFailure(None, f"{type(error).__name__}: {error}")
