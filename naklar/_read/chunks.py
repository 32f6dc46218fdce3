"""Reading a results tree's settings files into rows, one chunk at a time.

The tree is cut into *units* in natural order: a settings file, or a subtree
that :func:`naklar._read.walk.find_settings_files` walks (:func:`plan_units`).
:func:`read_chunk` reads a list of units into a :class:`ChunkRead`: each file is
read, filtered by ``restrict_keys``, passed through the decorators' setters and
normalised, so only plain Python values leave the process that read it.
:func:`merge_chunks` puts chunks together in order. Which process reads which
chunk is :mod:`naklar._read.workers`'s business.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import SettingsFileError
from .decorators import Decorator
from .flatten import flatten_settings, merge_settings
from .layouts import NotARun, RunLayout, run_directory
from .loaders import Loader, Parser, parser_for, read_and_stat_settings, read_settings
from .rows import SettingsRows
from .values import KindTally, Unsupported
from .walk import (
    Discovery,
    FileStamp,
    GuidedWalk,
    Target,
    find_settings_files,
    scan_directory,
    stamp_file,
    stamp_of,
)

__all__ = [
    "ReadOptions",
    "TreeRead",
    "ChunkRead",
    "FileStamp",
    "RowView",
    "Unit",
    "plan_units",
    "file_units",
    "read_chunk",
    "merge_chunks",
    "add_findings",
    "run_setters",
    "keep_only",
    "keep_directory_ctimes",
]


#: The planner splits subtrees until it has this many (or the tree ends).
_TARGET_SUBTREES = 256
_MAX_PLAN_DEPTH = 4

_FILE, _TREE = 0, 1
Unit = tuple[int, str]


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
    follow_symlinks: bool = False
    include_hidden: bool = False
    #: Only find and stat the files (a refresh's first pass); read none.
    stat_only: bool = False
    #: With ``stat_only``: the indexed runs' directories and their recorded
    #: ``dir_ctime_ns``, to walk with :class:`naklar._read.walk.GuidedWalk`.
    indexed_dirs: Mapping[str, int | None] | None = None
    #: Stat each directory before listing it, so that quiet leaves get their ctime
    #: in the stamps (a load into a store that outlives this process; not with
    #: ``follow_symlinks``, where a ctime says nothing about what a link points to).
    record_dir_ctimes: bool = False
    #: Runs of several files (a list ``dict_file``, a source): ``dict_file`` is then
    #: the layout's name, and ``load`` is not used.
    layout: RunLayout | None = None
    #: Spread nested dicts into dotted keys (``model.kernel``).
    flatten: bool = True

    @property
    def target(self) -> Target:
        """What the walk looks for: the layout, or else the settings file's name."""
        return self.layout if self.layout is not None else self.dict_file

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
    #: ``(path, files)``: rows read without some of their run's files (NULL there).
    incomplete: list[tuple[str, str]] = field(default_factory=list)
    #: Keys read from a run's files other than its config: its metrics.
    metrics: set[str] = field(default_factory=set)
    #: ``(path, reason)``: runs found that their tool no longer counts (:class:`NotARun`),
    #: neither rows nor skips; ``files_found`` still counts them.
    left_out: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChunkRead(TreeRead):
    """One chunk's share of a :class:`TreeRead`, before merging."""


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
    if options.follow_symlinks or (options.layout is not None and options.layout.list_runs):
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


def file_units(paths: list[str]) -> list[Unit]:
    """Units for settings files given by path (a refresh's new and changed files)."""
    return [(_FILE, path) for path in paths]


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
            options.target,
            follow_symlinks=options.follow_symlinks,
            include_hidden=options.include_hidden,
            found=planning,
        )
    own = [(_FILE, path) for path in planning.paths]
    planning.paths.clear()
    return own + [(_TREE, path) for path in subdirectories or ()]


# -- reading one chunk ---------------------------------------------------------


def read_chunk(units: list[Unit], options: ReadOptions) -> ChunkRead:
    guided = _guided_walk(options)
    found = Discovery()  # one per chunk: most units are single run directories
    listed = options.layout.list_runs if options.layout is not None else None
    for kind, path in units:
        if kind == _FILE:
            found.paths.append(path)
            if guided is not None:
                found.stamps.append(stamp_file(path, options.prefix, None, options.target))
        elif listed is not None:  # the runs are a database's rows: no walk
            runs = listed(path)
            found.paths += runs
            if guided is not None:
                found.stamps += [
                    stamp_file(run, options.prefix, None, options.target) for run in runs
                ]
        elif guided is not None:
            guided.walk(path, found)
        else:
            find_settings_files(
                path,
                options.target,
                follow_symlinks=options.follow_symlinks,
                include_hidden=options.include_hidden,
                found=found,
            )
    chunk = ChunkRead()
    add_findings(chunk, found)
    # A guided walk has stamped the files. Otherwise a built-in loader's files are
    # stamped as they are opened to be read (a stamp of None), others first.
    parse = None
    if guided is None and not options.stat_only and options.layout is None:
        parse = parser_for(options.load)
    if guided is None and parse is None:
        target = options.target
        found.stamps = [stamp_file(path, options.prefix, None, target) for path in found.paths]
    if options.stat_only:
        chunk.stamps = found.stamps
        return chunk
    stamps: Sequence[FileStamp | None] = (
        found.stamps if parse is None else [None] * len(found.paths)
    )
    for path, stamp in zip(found.paths, stamps, strict=True):
        _read_file(path, stamp, options, chunk, parse)
    return chunk


def _guided_walk(options: ReadOptions) -> GuidedWalk | None:
    """The walk that stats run directories: a refresh's, or a load's that records ctimes."""
    dict_file, hidden, prefix = options.target, options.include_hidden, options.prefix
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


def add_findings(chunk: ChunkRead | TreeRead, found: Discovery) -> None:
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
    chunk: ChunkRead,
    parse: Parser | None = None,
) -> None:
    """Add one file's row (or its skip) to ``chunk``.

    ``stamp`` was taken before reading, or is ``None`` for ``parse`` (a built-in
    loader's) to read the file and stamp it once it is open: either way a file
    rewritten meanwhile looks changed to the next refresh.
    """
    layout = options.layout
    try:
        if layout is not None:
            assert stamp is not None
            settings = _read_run(path, layout, options, chunk)
        elif stamp is None:
            assert parse is not None
            settings, status = read_and_stat_settings(path, parse)
            stamp = stamp_of(path, options.prefix, status)
        else:
            settings = read_settings(path, options.load)
        if options.flatten and layout is None:
            settings = flatten_settings(settings, path)
    except NotARun as error:
        chunk.left_out.append((path, error.reason))
        return
    except SettingsFileError as error:
        # a run's other file names itself in the reason: the skip is the run's
        reason = error.reason if error.path == path else f"{error.path}: {error.reason}"
        chunk.skipped.append((path, reason))
        return
    if options.restrict_keys is not None:
        settings = {key: value for key, value in settings.items() if key in options.restrict_keys}
    settings = run_setters(settings, options.decorators)
    values = _normalise_row(settings, path, chunk)
    if layout is None:
        directory = stamp.path.rpartition("/")[0] or "."
    else:
        directory = stamp.path[: len(stamp.path) - len(layout.anchor)].rstrip("/") or "."
    chunk.rows.append(directory, values)
    chunk.stamps.append(stamp)


def _read_run(
    path: str, layout: RunLayout, options: ReadOptions, chunk: ChunkRead
) -> dict[str, Any]:
    """The row of the run whose anchor is ``path``: its files' settings, flattened and merged."""
    parts, missing = layout.read(run_directory(path, layout))
    if options.flatten:
        parts = [(name, flatten_settings(settings, path)) for name, settings in parts]
    if missing:
        chunk.incomplete.append((run_directory(path, layout), ", ".join(missing)))
    for _, settings in parts[1:]:  # what the run produced; a source's facts and tags are not
        chunk.metrics.update(key for key in settings if not key.startswith(_NOT_METRICS))
    return merge_settings(parts, path)


#: Keys of a source's other files that are facts about the run, not its results.
_NOT_METRICS = ("run.", "tags.")


def run_setters(settings: dict[str, Any], decorators: Mapping[str, Decorator]) -> dict[str, Any]:
    """Run every decorator's setter on the settings, in the decorators' order."""
    setters = [(key, deco.setter) for key, deco in decorators.items() if deco.setter]
    if not setters:
        return settings
    view = RowView(settings)
    for key, setter in setters:
        view[key] = setter(view, view.get(key))
    return dict(view)


def _normalise_row(settings: dict[str, Any], path: str, chunk: ChunkRead) -> dict[str, Any]:
    """The row's values as stored, their kinds tallied; unsupported values left out."""
    values = {}
    for key, value in settings.items():
        key = str(key)
        normalised = chunk.tally.add(key, value)
        if isinstance(normalised, Unsupported):
            chunk.first_unsupported.setdefault(key, path)
        else:
            values[key] = normalised[1]
    return values


def merge_chunks(chunks: Iterator[ChunkRead]) -> TreeRead:
    read = TreeRead()
    kinds = read.tally.kinds
    for chunk in chunks:
        read.rows.extend(chunk.rows)
        read.stamps += chunk.stamps
        read.files_found += chunk.files_found
        read.skipped += chunk.skipped
        read.walk_problems += chunk.walk_problems
        read.hidden += chunk.hidden
        read.symlinked += chunk.symlinked
        read.incomplete += chunk.incomplete
        read.metrics |= chunk.metrics
        read.left_out += chunk.left_out
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


def keep_only(restrict_keys: Collection[str] | None) -> frozenset[str] | None:
    """``restrict_keys`` as the frozen set :class:`ReadOptions` wants."""
    return frozenset(restrict_keys) if restrict_keys is not None else None
