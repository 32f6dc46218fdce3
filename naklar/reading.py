"""Walking a results tree and reading its settings files, on more than one core.

The tree is cut into *units* in natural order: a settings file, or a subtree
that :func:`naklar.discover.find_settings_files` walks. Units are grouped in
chunks; the main process works through the chunks in order and, once the load
has run long enough to pay for it, forks one worker per extra core that takes
chunks from the same counter and streams its results back. Results are put
together in chunk order, so a parallel read gives exactly the rows of a serial
one, in the same order.

Each file is read, filtered by ``restrict_keys``, passed through the decorators'
setters and normalised in the process that read it: only plain Python values
cross the process boundary. The fork inherits the loader and the setters, so
lambdas and closures work; where ``fork`` is not available the read is serial.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import operator
import os
import pickle
import queue
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .decorator import Decorator
from .discover import (
    Discovery,
    FileStamp,
    GuidedWalk,
    find_settings_files,
    scan_directory,
    stamp_file,
    stamp_of,
)
from .errors import NaklarError, SettingsFileError
from .loaders import Loader, Parser, parser_for, read_and_stat_settings, read_settings
from .progress import Progress
from .rows import SettingsRows
from .schema import INT64_MAX, INT64_MIN, Kind, KindTally, Unsupported, unsupported_class

__all__ = [
    "ReadOptions",
    "TreeRead",
    "FileStamp",
    "RowView",
    "read_tree",
    "start_read",
    "StartedRead",
    "read_files",
    "plan_units",
    "run_setters",
    "keep_only",
    "keep_directory_ctimes",
]

#: Serial work after which an automatic read may start its workers.
PARALLEL_AFTER_SECONDS = 0.08
#: Reading left that pays for a worker that must import naklar (forkserver, spawn).
_SLOW_START_SECONDS = 1.5
#: Chunks per process: enough to balance uneven subtrees, few enough to be cheap.
_CHUNKS_PER_PROCESS = 24
#: The planner splits subtrees until it has this many (or the tree ends).
_TARGET_SUBTREES = 256
_MAX_PLAN_DEPTH = 4

_FILE, _TREE = 0, 1
Unit = tuple[int, str]
#: A row's keys and the classes of its values.
Shape = tuple[tuple[str, ...], tuple[type, ...]]
#: For one shape: the values to convert (and how), the keys normalised one by one,
#: the keys left out (with their values' class name), and getters of the integer
#: and float values whose range is checked.
ShapePlan = tuple[
    list[tuple[str, Callable[[Any], Any]]],
    list[str],
    list[tuple[str, str]],
    Callable[[dict[str, Any]], tuple[Any, ...]] | None,
    Callable[[dict[str, Any]], tuple[Any, ...]] | None,
]

# Values of these classes are stored as they come (after ``convert``), their kind
# known from the class alone: the per-value work of the common case is one
# dictionary lookup. Anything else goes through ``schema.normalise_value``;
# tests/test_parallel.py checks both paths agree.
ClassRule = tuple[Kind | None, Callable[[Any], Any] | None]
_IDENTITY: Callable[[Any], Any] | None = None
_BY_CLASS: dict[type, ClassRule] = {
    type(None): (None, _IDENTITY),
    bool: (Kind.BOOLEAN, _IDENTITY),
    int: (Kind.INTEGER, _IDENTITY),
    float: (Kind.FLOAT, _IDENTITY),
    str: (Kind.STRING, _IDENTITY),
}


def _class_rule(cls: type) -> ClassRule | None:
    """How values of ``cls`` are stored, if the class alone says so.

    numpy's scalar classes join the table once numpy is imported: nothing here
    imports it, so reading JSON never does.
    """
    rule = _BY_CLASS.get(cls)
    numpy = sys.modules.get("numpy")
    if rule is None and numpy is not None and numpy.bool_ not in _BY_CLASS:
        integers = (numpy.int8, numpy.int16, numpy.int32, numpy.int64)
        unsigned = (numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64)
        floats = (numpy.float16, numpy.float32, numpy.float64)
        _BY_CLASS[numpy.bool_] = (Kind.BOOLEAN, bool)
        _BY_CLASS.update({number: (Kind.INTEGER, int) for number in integers + unsigned})
        _BY_CLASS.update({number: (Kind.FLOAT, float) for number in floats})
        rule = _BY_CLASS.get(cls)
    return rule


class RowView(dict[str, Any]):
    """A settings dict whose keys also read as attributes: ``self.output``.

    Setters run before any object exists, so they get one of these as ``self``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class ReadOptions:
    """Everything a process needs to turn a settings file into a row."""

    root_dir: str
    dict_file: str
    load: Loader
    decorators: Mapping[str, Decorator]
    restrict_keys: frozenset[str] | None = None
    raise_on_error: bool = False
    follow_symlinks: bool = False
    include_hidden: bool = False
    #: Only find and stat the files (a refresh's first pass); read none.
    stat_only: bool = False
    #: With ``stat_only``: the indexed runs' directories and their recorded
    #: ``dir_ctime_ns``, to walk with :class:`naklar.discover.GuidedWalk`.
    indexed_dirs: Mapping[str, int | None] | None = None
    #: Stat each directory before listing it, so that quiet leaves get their ctime
    #: in the stamps (a load into a store that outlives this process; not with
    #: ``follow_symlinks``, where a ctime says nothing about what a link points to).
    record_dir_ctimes: bool = False

    @functools.cached_property
    def prefix(self) -> int:
        """Length of the root's path with its separator: cut it off to get relative paths."""
        return len(os.path.join(self.root_dir, ""))


@dataclass
class TreeRead:
    """What reading found: rows in natural order, their files, and what went wrong."""

    rows: SettingsRows = field(default_factory=SettingsRows)
    stamps: list[FileStamp] = field(default_factory=list)
    tally: KindTally = field(default_factory=KindTally)
    files_found: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    walk_problems: list[tuple[str, str]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    symlinked: list[str] = field(default_factory=list)
    first_unsupported: dict[str, str] = field(default_factory=dict)
    workers_used: int = 1


@dataclass
class _ChunkRead(TreeRead):
    """One chunk's share of a :class:`TreeRead`, before merging."""

    shapes: dict[Shape, ShapePlan | None] = field(default_factory=dict)
    fast_shapes: set[Shape] = field(default_factory=set)  # shapes of rows that took no detour
    error: tuple[str, str] | None = None  # on_error='raise': the file that stopped it


# -- planning ----------------------------------------------------------------


def plan_units(options: ReadOptions) -> tuple[list[Unit], Discovery]:
    """Cut the tree into units in natural (pre-)order, splitting subtrees a few levels deep.

    Returns the units and what listing the split directories found besides
    settings files (unreadable entries, problems, directories not entered).
    With ``follow_symlinks`` the tree stays one unit, so symlink-loop detection
    sees every directory. An indexed run directory is not split: the guided walk
    of its unit may spare it the listing.
    """
    planning = Discovery()
    units: list[Unit] = [(_TREE, options.root_dir)]
    if options.follow_symlinks:
        return units, planning
    for _ in range(_MAX_PLAN_DEPTH):
        if sum(kind == _TREE for kind, _ in units) >= _TARGET_SUBTREES:
            break
        expanded: list[Unit] = []
        for unit in units:
            expanded += _split(unit[1], options, planning) if _splits(unit, options) else [unit]
        if expanded == units:
            break
        units = expanded
    return units, planning


def _splits(unit: Unit, options: ReadOptions) -> bool:
    kind, path = unit
    return kind == _TREE and (options.indexed_dirs is None or path not in options.indexed_dirs)


def _split(directory: str, options: ReadOptions, planning: Discovery) -> list[Unit]:
    """A subtree as its own settings file, then its subdirectories (discover's rules).

    A load that records directory ctimes keeps those of the directories it
    splits in ``planning.stamps``.
    """
    # a refresh's splits stay plain listings: they hold no indexed run to spare
    guided = _guided_walk(options) if options.record_dir_ctimes else None
    if guided is not None:
        subdirectories = guided.visit(directory, planning)
    else:
        subdirectories = scan_directory(
            directory,
            options.dict_file,
            follow_symlinks=options.follow_symlinks,
            include_hidden=options.include_hidden,
            found=planning,
        )
    own = [(_FILE, path) for path in planning.paths]
    planning.paths.clear()
    return own + [(_TREE, path) for path in subdirectories or ()]


def _chunks(units: list[Unit], processes: int) -> list[list[Unit]]:
    size = max(1, -(-len(units) // (processes * _CHUNKS_PER_PROCESS)))
    return [units[start : start + size] for start in range(0, len(units), size)]


# -- reading one chunk ---------------------------------------------------------


def _read_chunk(units: list[Unit], options: ReadOptions) -> _ChunkRead:
    guided = _guided_walk(options)
    found = Discovery()  # one per chunk: most units are single run directories
    for kind, path in units:
        if kind == _FILE:
            found.paths.append(path)
            if guided is not None:
                found.stamps.append(stamp_file(path, options.prefix))
        elif guided is not None:
            guided.walk(path, found)
        else:
            find_settings_files(
                path,
                options.dict_file,
                follow_symlinks=options.follow_symlinks,
                include_hidden=options.include_hidden,
                found=found,
            )
    chunk = _ChunkRead()
    _add_findings(chunk, found)
    # A guided walk has stamped the files. Otherwise a built-in loader's files are
    # stamped as they are opened to be read (a stamp of None), others first.
    parse = None if guided is not None or options.stat_only else parser_for(options.load)
    if guided is None and parse is None:
        found.stamps = [stamp_file(path, options.prefix) for path in found.paths]
    if options.stat_only:
        chunk.stamps = found.stamps
        return chunk
    stamps: Sequence[FileStamp | None] = (
        found.stamps if parse is None else [None] * len(found.paths)
    )
    for path, stamp in zip(found.paths, stamps, strict=True):
        if not _read_file(path, stamp, options, chunk, parse):
            break
    return chunk


def _guided_walk(options: ReadOptions) -> GuidedWalk | None:
    """The walk that stats run directories: a refresh's, or a load's that records ctimes."""
    dict_file, hidden, prefix = options.dict_file, options.include_hidden, options.prefix
    if options.stat_only and options.indexed_dirs is not None:
        return GuidedWalk(dict_file, hidden, options.indexed_dirs, prefix)
    if options.record_dir_ctimes and not options.follow_symlinks:
        return GuidedWalk(dict_file, hidden, {}, prefix, stat_new=True)
    return None


def keep_directory_ctimes(read: TreeRead, walked: Sequence[FileStamp]) -> None:
    """Files read after a walk keep the directory ctimes it recorded (reading stats files only)."""
    if not walked:
        return
    dir_ctimes = {stamp.path: stamp.dir_ctime_ns for stamp in walked}
    read.stamps = [
        stamp._replace(dir_ctime_ns=dir_ctimes.get(stamp.path, stamp.dir_ctime_ns))
        for stamp in read.stamps
    ]


def _add_findings(chunk: _ChunkRead | TreeRead, found: Discovery) -> None:
    """What a walk found besides readable settings files."""
    chunk.files_found += found.files_found
    chunk.skipped += found.unreadable
    chunk.walk_problems += found.problems
    chunk.hidden += found.hidden
    chunk.symlinked += found.symlinked


def _read_file(
    path: str,
    stamp: FileStamp | None,
    options: ReadOptions,
    chunk: _ChunkRead,
    parse: Parser | None = None,
) -> bool:
    """Add one file's row (or its skip) to ``chunk``; ``False`` stops the chunk.

    ``stamp`` was taken before reading, or is ``None`` for ``parse`` (a built-in
    loader's) to read the file and stamp it once it is open: either way a file
    rewritten meanwhile looks changed to the next refresh.
    """
    try:
        if stamp is None:
            assert parse is not None
            settings, status = read_and_stat_settings(path, parse)
            stamp = stamp_of(path, options.prefix, status)
        else:
            settings = read_settings(path, options.load)
    except SettingsFileError as error:
        if options.raise_on_error:
            chunk.error = (error.path, error.reason)
            return False
        chunk.skipped.append((path, error.reason))
        return True
    if options.restrict_keys is not None:
        settings = {key: value for key, value in settings.items() if key in options.restrict_keys}
    settings = run_setters(settings, options.decorators)
    values = _normalise_row(settings, path, chunk)
    chunk.rows.append(stamp.path.rpartition("/")[0] or ".", values)
    chunk.stamps.append(stamp)
    return True


def run_setters(settings: dict[str, Any], decorators: Mapping[str, Decorator]) -> dict[str, Any]:
    """Run every decorator's setter on the settings, in the decorators' order."""
    setters = [(key, deco.setter) for key, deco in decorators.items() if deco.setter]
    if not setters:
        return settings
    view = RowView(settings)
    for key, setter in setters:
        view[key] = setter(view, view.get(key))
    return dict(view)


def _normalise_row(settings: dict[str, Any], path: str, chunk: _ChunkRead) -> dict[str, Any]:
    """Normalise in place, by what the row's *shape* (keys and value classes) needs.

    Sweeps repeat a handful of shapes, so the per-row work is building the shape,
    one dictionary lookup, converting only the values that need it (numpy
    scalars) and two range checks (integers beyond 64 bits, NaN and inf take
    the general path, which records them). Values of other classes (arrays,
    dates, lists) go through ``schema.normalise_value`` one by one.
    """
    shape = (tuple(settings), tuple(map(type, settings.values())))
    plan = chunk.shapes.get(shape, _UNSEEN)
    if plan is _UNSEEN:
        plan = chunk.shapes[shape] = _plan_for(shape)
    if plan is None:
        return _normalise_row_slowly(settings, path, chunk)
    conversions, slow_keys, unsupported, integers, floats = plan
    for key, convert in conversions:
        settings[key] = convert(settings[key])
    if integers is not None:
        values = integers(settings)
        if min(values) < INT64_MIN or max(values) > INT64_MAX:
            return _normalise_row_slowly(settings, path, chunk)
    if floats is not None:
        total = sum(floats(settings))
        if total - total != 0.0:  # NaN or inf somewhere (or an overflowing sum)
            return _normalise_row_slowly(settings, path, chunk)
    chunk.fast_shapes.add(shape)
    for key, type_name in unsupported:
        del settings[key]
        chunk.tally.count_unsupported(key, type_name)
        chunk.first_unsupported.setdefault(key, path)
    for key in slow_keys:
        normalised = chunk.tally.add(key, settings[key])
        if isinstance(normalised, Unsupported):
            chunk.first_unsupported.setdefault(key, path)
            del settings[key]
        else:
            settings[key] = normalised[1]
    return settings


_UNSEEN: Any = object()


def _plan_for(shape: Shape) -> ShapePlan | None:
    """What a row of this shape needs; ``None`` if it has keys that are not strings."""
    conversions = []
    slow_keys = []
    unsupported = []
    integers = []
    floats = []
    for key, cls in zip(*shape, strict=True):
        if key.__class__ is not str:
            return None
        known = _class_rule(cls)
        if known is None and unsupported_class(cls):
            unsupported.append((key, cls.__name__))
            continue
        if known is None:
            slow_keys.append(key)
            continue
        if known[1] is not None:
            conversions.append((key, known[1]))
        if known[0] is Kind.INTEGER:
            integers.append(key)
        elif known[0] is Kind.FLOAT:
            floats.append(key)
    return conversions, slow_keys, unsupported, _getter(integers), _getter(floats)


def _getter(keys: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]] | None:
    # itemgetter of one key returns the value, not a 1-tuple: repeat it (min, max
    # and the finiteness of a sum do not mind).
    return operator.itemgetter(*keys, keys[0]) if keys else None


def _normalise_row_slowly(settings: dict[str, Any], path: str, chunk: _ChunkRead) -> dict[str, Any]:
    values = {}
    for key, value in settings.items():
        key = str(key)
        normalised = chunk.tally.add(key, value)
        if isinstance(normalised, Unsupported):
            chunk.first_unsupported.setdefault(key, path)
        else:
            values[key] = normalised[1]
    return values


def _merge(chunks: Iterator[_ChunkRead]) -> TreeRead:
    read = TreeRead()
    kinds = read.tally.kinds
    for chunk in chunks:
        if chunk.error is not None:
            raise SettingsFileError(*chunk.error)
        read.rows.extend(chunk.rows)
        read.stamps += chunk.stamps
        read.files_found += chunk.files_found
        read.skipped += chunk.skipped
        read.walk_problems += chunk.walk_problems
        read.hidden += chunk.hidden
        read.symlinked += chunk.symlinked
        for keys, classes in chunk.fast_shapes:  # the other rows went through the tally
            for key, cls in zip(keys, classes, strict=True):
                known = _class_rule(cls)
                if known is None:
                    continue  # normalised one by one: the tally has its kind
                seen = kinds.setdefault(key, set())
                if known[0] is not None:
                    seen.add(known[0])
        for key, seen_kinds in chunk.tally.kinds.items():
            kinds.setdefault(key, set()).update(seen_kinds)
        for key, notes in chunk.tally.notes.items():
            read.tally.notes.setdefault(key, set()).update(notes)
        _add_counts(read.tally.unsupported, chunk.tally.unsupported)
        _add_counts(read.tally.non_finite, chunk.tally.non_finite)
        for key, path in chunk.first_unsupported.items():
            read.first_unsupported.setdefault(key, path)
    return read


def _add_counts(totals: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]) -> None:
    for key, by_name in counts.items():
        total = totals.setdefault(key, {})
        for name, count in by_name.items():
            total[name] = total.get(name, 0) + count


# -- serial and parallel driving -----------------------------------------------


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
    return StartedRead([(_FILE, path) for path in paths], options, workers, progress).finish()


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
        method = _start_method(options) if processes > 1 else None
        self._chunks = _chunks(units, processes)
        self._options = options
        self._planning = planning
        self._bar = Progress(
            len(units), f"naklar: reading {options.dict_file}", enabled=progress is not False
        )
        self._pool: _WorkerPool | None = None
        if method is not None and len(self._chunks) >= 2:
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
            _add_findings(read, self._planning)
            keep_directory_ctimes(read, self._planning.stamps)
        return read

    def cancel(self) -> None:
        """Stop the workers of a read that will not be finished."""
        if self._pool is not None:
            self._pool.stop_workers()

    def _read_serially(self) -> TreeRead:
        results = []
        for number, chunk in enumerate(self._chunks):
            results.append(_read_chunk(chunk, self._options))
            self._bar.advance_to(_units_before(self._chunks, number + 1))
            if results[-1].error is not None:
                break
        return _merge(iter(results))


def _process_count(workers: int | None) -> int:
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be None or at least 1, got {workers!r}")
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return workers if workers is not None else available


def _start_method(options: ReadOptions) -> str | None:
    """How to start workers, or ``None`` to read serially.

    ``fork`` is cheap and hands the worker the loader and setters as they are
    (lambdas included), but forking a process that runs other threads (a
    notebook kernel does) can deadlock the child. Then workers come from a
    ``forkserver`` (or ``spawn``), which must be sent the loader and setters by
    pickle: a lambda or closure cannot be, so those reads stay serial.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    try:
        pickle.dumps(options)
    except Exception:  # lambdas, closures, local classes: anything pickle refuses
        return None
    return "forkserver" if "forkserver" in methods else "spawn"


def _units_before(chunks: list[list[Unit]], count: int) -> int:
    return sum(len(chunk) for chunk in chunks[:count])


class _WorkerPool:
    """This process and forked workers taking chunks from one shared counter."""

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
        # A forked worker starts in milliseconds; one from a fork server or spawned
        # imports naklar first, which pays only when much reading is left.
        self.start_after = PARALLEL_AFTER_SECONDS if method == "fork" else _SLOW_START_SECONDS
        self.next_chunk = self.context.Value("q", 0)
        self.units_done = self.context.Value("q", 0)
        self.results_queue: Any = self.context.Queue()
        self.workers: list[Any] = []

    def start_workers(self) -> None:
        remaining = len(self.chunks) - self.next_chunk.value
        for _ in range(min(self.worker_count, remaining - 1)):
            worker = self.context.Process(
                target=_worker,
                args=(
                    self.chunks,
                    self.options,
                    self.next_chunk,
                    self.units_done,
                    self.results_queue,
                ),
                daemon=True,
            )
            worker.start()
            self.workers.append(worker)

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()

    def run(self, bar: Progress) -> TreeRead:
        """Read chunks here until none is left, then collect the workers' chunks."""
        chunks, options, workers = self.chunks, self.options, self.workers
        results: dict[int, _ChunkRead] = {}
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
                results[number] = _read_chunk(chunks[number], options)
                _add_done(self.units_done, len(chunks[number]))
                bar.advance_to(self.units_done.value)
                if results[number].error is not None:
                    break
            self._collect(results, bar)
        finally:
            self.stop_workers()
        read = _merge(results[number] for number in sorted(results))
        read.workers_used = 1 + len(workers)
        return read

    def _collect(self, results: dict[int, _ChunkRead], bar: Progress) -> None:
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


def _pack(chunk: _ChunkRead) -> tuple[_ChunkRead, list[tuple[Any, ...]]]:
    """The chunk as it crosses to the main process: stamps as plain tuples, no plans."""
    stamps = [tuple(stamp) for stamp in chunk.stamps]
    chunk.stamps, chunk.shapes = [], {}
    return chunk, stamps


def _unpack(packed: tuple[_ChunkRead, list[tuple[Any, ...]]]) -> _ChunkRead:
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
    chunks: list[list[Unit]],
    options: ReadOptions,
    next_chunk: Any,
    units_done: Any,
    results_queue: Any,
) -> None:
    gc.disable()  # this process only reads, sends and exits: see naklar.gc_pause
    try:
        while (number := _claim(next_chunk)) < len(chunks):
            chunk = _read_chunk(chunks[number], options)
            _add_done(units_done, len(chunks[number]))
            results_queue.put((number, _pack(chunk)))
            if chunk.error is not None:
                break
    except BaseException as error:  # the main process re-raises it
        results_queue.put(_failure(error))
    results_queue.put(None)


def _failure(error: BaseException) -> _WorkerFailure:
    try:
        pickle.loads(pickle.dumps(error))
        return _WorkerFailure(error, repr(error))
    except Exception:
        return _WorkerFailure(None, f"{type(error).__name__}: {error}")


def keep_only(restrict_keys: Collection[str] | None) -> frozenset[str] | None:
    """``restrict_keys`` as the frozen set :class:`ReadOptions` wants."""
    return frozenset(restrict_keys) if restrict_keys is not None else None
