"""Writing a load or a refresh into the database, inside the caller's write transaction.

The store decides what to write (:mod:`naklar._store.refreshing` plans a
refresh, :mod:`naklar._read.tree` reads a full load); these functions write
it: the experiment table's rows, the run index and the record, together, so
that a reader sees all of a change or none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

from .._read.tree import LoadedTree
from .._table.model import ColumnSpec
from .bulk import insert_settings_rows
from .catalog import Catalog, StoreRecord, delete_ids
from .refreshing import RefreshPlan
from .snapshot import FrameSnapshot

__all__ = ["write_load", "write_refresh"]


def write_load(
    connection: sa.Connection,
    catalog: Catalog,
    snapshot: FrameSnapshot | None,
    table: sa.Table,
    specs: Sequence[ColumnSpec],
    tree: LoadedTree,
    record: StoreRecord,
    *,
    insert: bool,
    index_runs: bool,
) -> None:
    """Replace the store's tables with ``tree`` (its rows only if ``insert``) and ``record``."""
    table.drop(connection, checkfirst=True)
    table.create(connection)
    catalog.recreate(connection)
    if snapshot is not None:
        snapshot.drop(connection)
    if insert:
        ids = range(len(tree.rows))
        insert_settings_rows(connection, table, list(specs), tree.rows, ids, tree.kinds, tree.tally)
        if index_runs:
            catalog.add_runs(connection, ids, tree.stamps)
    catalog.write_record(connection, record)


def write_refresh(
    connection: sa.Connection,
    catalog: Catalog,
    table: sa.Table,
    specs: Sequence[ColumnSpec],
    plan: RefreshPlan,
) -> None:
    """Add the plan's new columns, replace its changed rows, index its runs, store its record."""
    assert plan.tree is not None, "a plan that reloads is written by write_load"
    if plan.new_columns:
        _add_columns(connection, table, [table.c[column.name] for column in plan.new_columns])
    delete_ids(connection, table, plan.deleted_ids)
    catalog.delete_runs(connection, plan.deleted_ids)
    kinds = {column.key: column.kind for column in plan.record.columns}
    rows = plan.read.rows
    insert_settings_rows(connection, table, list(specs), rows, plan.ids, kinds, plan.tree.tally)
    catalog.add_runs(connection, plan.ids, plan.read.stamps)
    restamped = plan.restamped
    catalog.restamp_runs(connection, list(restamped), list(restamped.values()))
    catalog.write_record(connection, plan.record)


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
