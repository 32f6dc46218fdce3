"""Refreshing a store: which files to read, which rows go, which columns change.

Everything here computes; nothing writes. :func:`compare_files` and
:func:`merge_columns` decide from the run index and the stored record alone;
:func:`plan_refresh` walks the tree, reads what is new or changed and returns a
:class:`RefreshPlan`, a plain value that :meth:`naklar.Store.refresh` applies.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from .._read.chunks import FileStamp, TreeRead, keep_directory_ctimes
from .._read.tree import (
    LoadedTree,
    LoadOptions,
    LoadReport,
    OnError,
    RefreshCounts,
    describe_target,
    finish_load,
    raise_first_problem,
    read_options_for,
)
from .._read.values import KindTally, infer_column_kind
from .._read.workers import read_files, start_read
from .._table.model import assign_names
from ..errors import NaklarWarning, NoSettingsFilesError
from .catalog import ColumnRecord, IndexedRun, StoreRecord, merged_metrics, ordered_kinds
from .fitting import fit_refresh

__all__ = [
    "FileChanges",
    "compare_files",
    "ColumnChanges",
    "merge_columns",
    "RefreshPlan",
    "plan_refresh",
]


@dataclass
class FileChanges:
    """The run index compared with the files on disk now."""

    to_read: list[FileStamp] = field(default_factory=list)  # new and changed, in tree order
    changed_ids: dict[str, int] = field(default_factory=dict)  # settings path -> its old row
    removed_ids: list[int] = field(default_factory=list)  # rows whose file disappeared
    unchanged: int = 0
    #: Unchanged files whose directory's recorded ctime changes: row -> new stamp.
    restamped: dict[int, FileStamp] = field(default_factory=dict)


def compare_files(indexed: Mapping[str, IndexedRun], on_disk: Sequence[FileStamp]) -> FileChanges:
    """Files are the same when path, size and ``mtime_ns`` are.

    >>> indexed = {'a/conf.json': (0, 10, 5, None)}
    >>> changes = compare_files(indexed, [FileStamp('b/conf.json', 3, 1)])
    >>> [stamp.path for stamp in changes.to_read], changes.removed_ids
    (['b/conf.json'], [0])
    """
    changes = FileChanges()
    for stamp in on_disk:
        known = indexed.get(stamp.path)
        if known is None:
            changes.to_read.append(stamp)
        elif (known[1], known[2]) != (stamp.size, stamp.mtime_ns) or stamp.size < 0:
            changes.to_read.append(stamp)
            changes.changed_ids[stamp.path] = known[0]
        else:
            changes.unchanged += 1
            if known[3] != stamp.dir_ctime_ns:
                changes.restamped[known[0]] = stamp
    # paths on disk are distinct: when each indexed one was seen, none was removed
    if changes.unchanged + len(changes.changed_ids) < len(indexed):
        present = {stamp.path for stamp in on_disk}
        changes.removed_ids = [known[0] for path, known in indexed.items() if path not in present]
    return changes


@dataclass
class ColumnChanges:
    """Stored columns with the new files' kinds merged in."""

    columns: list[ColumnRecord]
    new_keys: list[str]
    #: Stored keys whose kind changed: their column's SQL type no longer fits.
    widened: list[str]


def merge_columns(
    columns: Sequence[ColumnRecord], tally: KindTally, fixed: Collection[str] = ()
) -> ColumnChanges:
    """Widen each stored column by the kinds seen now, exactly as one full load would.

    Keys seen for the first time become new columns (at the end, in the order
    the tally saw them); their names are assigned by the caller. ``fixed`` keys
    have a type a decorator's Column sets, so they never widen.
    """
    merged = []
    widened = []
    known = {column.key for column in columns}
    for column in columns:
        seen = set(column.seen) | tally.kinds.get(column.key, set())
        kind = column.kind if column.key in fixed else infer_column_kind(seen)
        if kind is not column.kind:
            widened.append(column.key)
        merged.append(
            ColumnRecord(column.key, column.name, column.attribute, kind, ordered_kinds(seen))
        )
    new_keys = [key for key in tally.kinds if key not in known]
    return ColumnChanges(merged, new_keys, widened)


@dataclass
class RefreshPlan:
    """What a refresh changes: computed from the store's state and the tree, applied by the store.

    ``revision`` is the stored record's when the plan was made: the store
    applies the plan only while the record still has it.
    """

    revision: str
    #: The record after the change (columns merged, ids handed out).
    record: StoreRecord
    new_columns: list[ColumnRecord]
    #: Rows to delete: those of removed runs and the old rows of changed ones.
    deleted_ids: list[int]
    #: The new and changed runs read, with their ids and settings files, in tree order.
    read: TreeRead
    ids: list[int]
    #: Unchanged runs whose directory's recorded ctime changes: row -> new stamp.
    restamped: dict[int, FileStamp]
    tree: LoadedTree | None
    report: LoadReport
    counts: RefreshCounts
    #: The warnings of reading the new files, for the store to give once it applied the plan.
    warnings: list[warnings.WarningMessage]
    #: A stored column must change type: the store loads everything again instead.
    reload: bool = False
    #: The store already holds the tree as it is: there is nothing to write.
    writes_nothing: bool = False


def plan_refresh(
    record: StoreRecord, indexed: Mapping[str, IndexedRun], options: LoadOptions, dialect: str
) -> RefreshPlan:
    """Walk the tree, read what is new or changed since ``indexed``, and say what to change.

    ``record`` and ``indexed`` are the store's record and run index as read
    from the database; ``options`` are the record's, completed with the code
    (:meth:`StoreRecord.load_options`); runs that would cross a limit of the
    ``dialect``'s database are skipped. Nothing is written.
    """
    root = record.root_dir
    if not record.runs_indexed:
        # an in-memory load whose runs another store object holds: nothing to compare with
        return _reloading(_plan(record, FileChanges(), TreeRead()))
    if not os.path.isdir(root):
        raise NoSettingsFilesError(
            f"the store's root_dir {root!r} is not a directory any more; a store can be "
            f"opened without its tree, but refreshing needs it"
        )
    walk_options = read_options_for(
        root,
        options,
        stat_only=True,
        # following symlinks, a directory's ctime does not tell about what it links to
        indexed_dirs=None if record.follow_symlinks else _run_directories(root, indexed),
    )
    parsed_decorators = walk_options.decorators
    walk = start_read(
        walk_options, workers=options.workers, progress=options.progress, start_workers_now=True
    )
    # The frame that usually follows a refresh needs pandas: import it while workers walk.
    importlib.import_module("naklar._query.frames")
    on_disk = walk.finish()
    changes = compare_files(indexed, on_disk.stamps)
    read = read_files(
        [os.path.join(root, stamp.path) for stamp in changes.to_read],
        dataclasses.replace(walk_options, stat_only=False, indexed_dirs=None),
        workers=options.workers,
        progress=options.progress,
    )
    keep_directory_ctimes(read, changes.to_read)
    # the walk's findings: unreadable entries are skipped too, and skips count out of every file
    read.skipped += on_disk.skipped
    read.walk_problems += on_disk.walk_problems
    # a run left out (deleted in MLflow) has no row, so no index entry: the walk finds it
    # new every time, and the read lists it in read.left_out, which finish_load takes out
    read.files_found = on_disk.files_found
    if options.on_error == "raise":
        raise_first_problem(read)
    for key in record.dropped_keys:  # a key left out once stays out, as in a full load
        read.tally.kinds.pop(key, None)
        read.tally.unsupported.pop(key, None)
    read.rows.drop_keys(record.dropped_keys)
    plan = _plan(record, changes, read)
    stored_keys = {column.key for column in record.columns}
    if stored_keys & set(read.tally.unsupported):
        return _reloading(plan)
    report = plan.report
    with warnings.catch_warnings(record=True) as held:
        # held until it is known that no full load (which warns about the whole tree) follows
        warnings.simplefilter("always", NaklarWarning)
        tree = finish_load(read, report, options.on_error, options.on_unsupported)
        read.skipped += _skipped_to_fit(dialect, record, tree, options.on_error)
    plan.counts = _refresh_counts(changes, read)
    fixed = [key for key, deco in parsed_decorators.items() if deco.column is not None]
    merged = merge_columns(record.columns, tree.tally, fixed)
    if merged.widened:
        return _reloading(plan)

    all_keys = [column.key for column in merged.columns] + merged.new_keys
    names = assign_names(all_keys)
    new_columns = [
        ColumnRecord(
            key,
            *names[key],
            infer_column_kind(tree.tally.kinds[key]),
            ordered_kinds(tree.tally.kinds[key]),
        )
        for key in merged.new_keys
    ]
    next_id = record.next_id
    for stamp in read.stamps:
        if stamp.path in changes.changed_ids:
            plan.ids.append(changes.changed_ids[stamp.path])
        else:
            plan.ids.append(next_id)
            next_id += 1
    plan.record = dataclasses.replace(
        record,
        columns=merged.columns + new_columns,
        next_id=next_id,
        dropped_keys={**record.dropped_keys, **report.dropped_keys},
        renamed_keys={**record.renamed_keys, **report.renamed_keys},
        metrics=merged_metrics(record.metrics, report.metrics),
    )
    plan.new_columns = new_columns
    plan.deleted_ids = changes.removed_ids + list(changes.changed_ids.values())
    plan.restamped = changes.restamped
    plan.tree = tree
    plan.warnings = list(held)
    plan.writes_nothing = not (plan.deleted_ids or plan.ids or plan.restamped) and (
        plan.record == record
    )
    return plan


def _plan(record: StoreRecord, changes: FileChanges, read: TreeRead) -> RefreshPlan:
    """A plan that changes nothing yet, counting what ``changes`` and ``read`` found."""
    return RefreshPlan(
        revision=record.revision,
        record=record,
        new_columns=[],
        deleted_ids=[],
        read=read,
        ids=[],
        restamped={},
        tree=None,
        report=LoadReport(record.root_dir, describe_target(record.dict_file, record.source)),
        counts=_refresh_counts(changes, read),
        warnings=[],
    )


def _reloading(plan: RefreshPlan) -> RefreshPlan:
    """A column must change type: the store loads everything again, but reports what changed."""
    plan.reload = True
    plan.counts.reloaded = True
    return plan


def _skipped_to_fit(
    dialect: str, record: StoreRecord, tree: LoadedTree, on_error: OnError
) -> list[tuple[str, str]]:
    """Runs the backend cannot store, taken out of ``tree`` (:func:`.fitting.fit_refresh`)."""
    stored = [(column.key, column.kind) for column in record.columns]
    skipped = fit_refresh(tree, stored, dialect, on_error)
    return [(entry.path, entry.reason) for entry in skipped]


def _run_directories(root: str, indexed: Mapping[str, IndexedRun]) -> dict[str, int | None]:
    """Each indexed run's directory, spelled as the walk spells it, with its ``dir_ctime_ns``.

    A settings file in the root is left out: the root is always listed.
    """
    prefix = os.path.join(root, "")
    directories = {}
    for path, run in indexed.items():
        directory = path.rpartition("/")[0]
        if directory:
            directories[prefix + directory.replace("/", os.sep)] = run[3]
    return directories


def _refresh_counts(changes: FileChanges, read: TreeRead, reloaded: bool = False) -> RefreshCounts:
    """What a refresh did: a changed file that now fails to read counts as removed."""
    replaced = sum(stamp.path in changes.changed_ids for stamp in read.stamps)
    return RefreshCounts(
        added=len(read.rows) - replaced,
        updated=replaced,
        removed=len(changes.removed_ids) + len(changes.changed_ids) - replaced,
        unchanged=changes.unchanged,
        skipped=len(read.skipped),
        reloaded=reloaded,
    )
