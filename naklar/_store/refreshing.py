"""Refreshing a store: which files to read, which rows go, which columns change.

:func:`compare_files` and :func:`merge_columns` decide, from the run index and
the stored record alone; :func:`refresh_store` applies the result to the
database for :meth:`naklar.Store.refresh`.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

from .._read.chunks import (
    FileStamp,
    TreeRead,
    keep_directory_ctimes,
)
from .._read.loaders import Loader
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
    warn_about_lost_floats,
)
from .._read.values import KindTally, infer_column_kind
from .._read.workers import read_files, start_read
from .._table.model import assign_names, build_model
from ..errors import NaklarWarning, NoSettingsFilesError
from .bulk import insert_settings_rows
from .catalog import (
    ColumnRecord,
    IndexedRun,
    StoreRecord,
    delete_ids,
    merged_metrics,
    ordered_kinds,
    specs_from_record,
)
from .fitting import fit_refresh
from .transactions import write_transaction

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "FileChanges",
    "compare_files",
    "ColumnChanges",
    "merge_columns",
    "refresh_store",
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


def refresh_store(
    store: Store,
    record: StoreRecord,
    load_func: Loader | None,
    decorators: Mapping[str, Any] | None,
    workers: int | None,
    progress: bool | None,
) -> LoadReport:
    """Apply the tree's changes since the last load or refresh to ``store``'s table."""
    root = record.root_dir
    if not os.path.isdir(root):
        raise NoSettingsFilesError(
            f"the store's root_dir {root!r} is not a directory any more; a store can be "
            f"opened without its tree, but refreshing needs it"
        )
    store._catalog.index_deferred_runs(store.engine)
    with store.engine.connect() as connection:
        indexed = store._catalog.read_runs(connection)
    load_options = record.load_options(load_func, decorators, workers, progress)
    walk_options = read_options_for(
        root,
        load_options,
        stat_only=True,
        # following symlinks, a directory's ctime does not tell about what it links to
        indexed_dirs=None if record.follow_symlinks else _run_directories(root, indexed),
    )
    parsed_decorators = walk_options.decorators
    walk = start_read(walk_options, workers=workers, progress=progress, start_workers_now=True)
    # The frame that usually follows a refresh needs pandas: import it while workers walk.
    importlib.import_module("naklar._query.frames")
    on_disk = walk.finish()
    changes = compare_files(indexed, on_disk.stamps)
    read = read_files(
        [os.path.join(root, stamp.path) for stamp in changes.to_read],
        dataclasses.replace(walk_options, stat_only=False, indexed_dirs=None),
        workers=workers,
        progress=progress,
    )
    keep_directory_ctimes(read, changes.to_read)
    # the walk's findings: unreadable entries are skipped too, and skips count out of every file
    read.skipped += on_disk.skipped
    read.walk_problems += on_disk.walk_problems
    read.files_found = on_disk.files_found
    if load_options.on_error == "raise":
        raise_first_problem(read)
    for key in record.dropped_keys:  # a key left out once stays out, as in a full load
        read.tally.kinds.pop(key, None)
        read.tally.unsupported.pop(key, None)
    read.rows.drop_keys(record.dropped_keys)
    stored_keys = {column.key for column in record.columns}
    if stored_keys & set(read.tally.unsupported):
        return _reload(store, record, load_options, changes, read)
    report = LoadReport(store.root_dir or root, describe_target(record.dict_file, record.source))
    with warnings.catch_warnings(record=True) as held:
        # held until it is known that no full load (which warns about the whole tree) follows
        warnings.simplefilter("always", NaklarWarning)
        tree = finish_load(read, report, load_options.on_error, load_options.on_unsupported)
        read.skipped += _skipped_to_fit(store, record, tree, load_options.on_error)
    fixed = [key for key, deco in parsed_decorators.items() if deco.column is not None]
    merged = merge_columns(record.columns, tree.tally, fixed)
    if merged.widened:
        return _reload(store, record, load_options, changes, read)
    for message in held:
        warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)

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
    columns = merged.columns + new_columns
    updated_record = dataclasses.replace(
        record,
        columns=columns,
        dropped_keys={**record.dropped_keys, **report.dropped_keys},
        renamed_keys={**record.renamed_keys, **report.renamed_keys},
        metrics=merged_metrics(record.metrics, report.metrics),
    )
    ids = []
    for stamp in read.stamps:
        if stamp.path in changes.changed_ids:
            ids.append(changes.changed_ids[stamp.path])
        else:
            ids.append(updated_record.next_id)
            updated_record.next_id += 1
    deleted = changes.removed_ids + list(changes.changed_ids.values())
    specs = specs_from_record(updated_record, parsed_decorators)
    table, model = build_model(
        store.table_name, specs, sa.MetaData(), dialect=store.engine.dialect.name
    )
    kinds = {column.key: column.kind for column in columns}
    with write_transaction(store.engine, "refresh the store") as connection:
        if new_columns:
            _add_columns(connection, table, [table.c[column.name] for column in new_columns])
        delete_ids(connection, table, deleted)
        store._catalog.delete_runs(connection, deleted)
        insert_settings_rows(connection, table, specs, read.rows, ids, kinds, tree.tally)
        store._catalog.add_runs(connection, ids, read.stamps)
        restamped = changes.restamped
        store._catalog.restamp_runs(connection, list(restamped), list(restamped.values()))
        store._catalog.write_record(connection, updated_record)
        count = store._catalog.count_runs(connection)

    warn_about_lost_floats(report, store.engine.dialect.name)
    report.loaded = count
    report.changes = _refresh_counts(changes, read)
    store.table, store._model, store.report, store._record = table, model, report, updated_record
    return report


def _skipped_to_fit(
    store: Store, record: StoreRecord, tree: LoadedTree, on_error: OnError
) -> list[tuple[str, str]]:
    """Runs the backend cannot store, taken out of ``tree`` (:func:`.fitting.fit_refresh`)."""
    stored = [(column.key, column.kind) for column in record.columns]
    skipped = fit_refresh(tree, stored, store.engine.dialect.name, on_error)
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


def _reload(
    store: Store,
    record: StoreRecord,
    options: LoadOptions,
    changes: FileChanges,
    read: TreeRead,
) -> LoadReport:
    """A column must change type: load everything again, but report what changed."""
    report = store.load_with(store.root_dir or record.root_dir, options)
    report.changes = _refresh_counts(changes, read, reloaded=True)
    return report


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


def _add_columns(connection: sa.Connection, table: sa.Table, columns: list[sa.Column[Any]]) -> None:
    """ALTER TABLE ... ADD COLUMN, with the dialect's quoting and type, for each column not there.

    MySQL and MariaDB commit each ALTER at once: a refresh that failed after one
    left its column behind, empty, with the store's record unaware of it.
    """
    dialect = connection.dialect
    table_name = dialect.identifier_preparer.format_table(table)
    present = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
    for column in columns:
        if column.name not in present:
            definition = CreateColumn(column).compile(dialect=dialect)
            connection.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {definition}")
