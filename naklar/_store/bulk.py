"""Moving many rows through the DB-API, both ways, portably.

Reading: :func:`fetch_columns` takes the driver's row tuples straight from the
cursor and maps each column type's result processor over its column, skipping
SQLAlchemy's per-row processing (a third of a full frame's time at 100,000 runs).

Writing: :func:`bulk_insert` goes through the driver's ``executemany``.

SQLAlchemy Core's ``executemany`` spends most of its time building a parameter
dict per row and running type processors in Python; for SQLite the driver's own
``executemany`` underneath is about five times faster. Here the insert is
compiled once for the connection's dialect (so the placeholders are right for
SQLite, PostgreSQL and MariaDB alike), the column types' bind processors are
looked up once and run column by column on the columns that have one, and rows
go to the driver as tuples (or dicts for named placeholder styles) in batches.
Rows arrive column by column, so each row's tuple is built once, by ``zip``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.processors import to_float

from .._read.rows import SettingsRows
from .._read.values import Kind, KindTally, coerce_to_kind
from .._table.model import DIR_COLUMN, ID_COLUMN, ColumnSpec

__all__ = ["bulk_insert", "insert_settings_rows", "fetch_columns", "fetch_rows", "BATCH_ROWS"]

#: Rows per ``executemany`` call: bounds the memory of the parameter lists.
BATCH_ROWS = 20_000

Converter = Callable[[Any], Any]


def bulk_insert(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    columns: Sequence[Sequence[Any]],
    converters: Sequence[Converter | None] | None = None,
    exact_floats: Collection[str] = (),
) -> int:
    """Insert rows given column by column (``columns[i]`` holds ``names[i]``'s values).

    Parameters
    ----------
    connection:
        An open connection; the caller owns the transaction.
    table:
        The table to insert into.
    names:
        Column names, in the order of ``columns``.
    columns:
        Each column's values, all of the same length.
    converters:
        Per column, a function applied to every non-``None`` value before the
        column type's own bind processing, or ``None`` for none.
    exact_floats:
        Columns holding only ``float`` values (after their converter) or
        ``None``: a type processor that only calls ``float()`` is skipped there,
        as it would return each value unchanged.

    Returns
    -------
    int
        The number of rows inserted.
    """
    dialect = connection.dialect
    statement = table.insert().values(
        {name: sa.bindparam(f"p{index}") for index, name in enumerate(names)}
    )
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    processors = []
    for index, name in enumerate(names):
        type_processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if type_processor is to_float and name in exact_floats:
            type_processor = None
        processors.append(_compose(converters[index] if converters else None, type_processor))
    if compiled.positional:
        positions = [int(bind[1:]) for bind in compiled.positiontup or ()]
    else:
        positions = list(range(len(names)))
    bind_names = [f"p{position}" for position in positions]

    count = len(columns[0]) if columns else 0
    for start in range(0, count, BATCH_ROWS):
        batch = []
        for position in positions:
            values = columns[position]
            if count > BATCH_ROWS:
                values = values[start : start + BATCH_ROWS]
            process = processors[position]
            if process is not None:
                values = [None if value is None else process(value) for value in values]
            batch.append(values)
        ordered = zip(*batch, strict=True)
        parameters: list[Any] = (
            list(ordered)
            if compiled.positional
            else [dict(zip(bind_names, row, strict=True)) for row in ordered]
        )
        connection.exec_driver_sql(sql, parameters)
    return count


def _compose(first: Converter | None, second: Converter | None) -> Converter | None:
    if first is None:
        return second
    if second is None:
        return first
    return lambda value: second(first(value))


def insert_settings_rows(
    connection: sa.Connection,
    table: sa.Table,
    specs: list[ColumnSpec],
    rows: SettingsRows,
    ids: Sequence[int],
    kinds: Mapping[str, Kind],
    tally: KindTally,
) -> None:
    """Bulk insert through the DB-API: no ORM object, no parameter dict per row.

    ``kinds`` are the columns' kinds, ``tally`` the kinds these rows hold.
    """
    names = [ID_COLUMN, DIR_COLUMN, *(spec.name for spec in specs)]
    converters = [None, None, *(_converter(spec, kinds, tally) for spec in specs)]
    columns = [ids, rows.directories, *rows.columns([spec.key for spec in specs])]
    exact_floats = [
        spec.name for spec in specs if kinds.get(spec.key) == Kind.FLOAT and not spec.has_own_column
    ]
    bulk_insert(connection, table, names, columns, converters, exact_floats)


def _converter(
    spec: ColumnSpec, kinds: Mapping[str, Kind], tally: KindTally
) -> Callable[[Any], Any] | None:
    """Values of the column's kind are stored as they are; others are coerced to it."""
    seen = tally.kinds.get(spec.key)
    kind = kinds.get(spec.key)
    if seen is None or kind is None:
        return None
    if spec.has_own_column:
        return None
    if seen <= {kind}:
        return None
    return lambda value: coerce_to_kind(value, kind)


def fetch_columns(
    connection: sa.Connection,
    statement: sa.Select[Any],
    types: Sequence[sa.types.TypeEngine[Any]],
) -> list[Sequence[Any]]:
    """Run ``statement`` and return its values column by column, converted by ``types``.

    SQLAlchemy executes the statement (so bound values are processed as usual);
    the rows are then read from the DB-API cursor directly, and each column
    type's result processor maps over its column once.
    """
    rows, processors = _fetch(connection, statement, types)
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(types)
    for index, processor in enumerate(processors):
        if processor is not None:
            columns[index] = list(map(processor, columns[index]))
    return columns


def fetch_rows(
    connection: sa.Connection,
    statement: sa.Select[Any],
    types: Sequence[sa.types.TypeEngine[Any]],
) -> Sequence[Sequence[Any]]:
    """Like :func:`fetch_columns`, row by row: the driver's tuples when no type converts."""
    rows, processors = _fetch(connection, statement, types)
    if all(processor is None for processor in processors):
        return rows
    return [
        tuple(
            value if processor is None else processor(value)
            for processor, value in zip(processors, row, strict=True)
        )
        for row in rows
    ]


def _fetch(
    connection: sa.Connection,
    statement: sa.Select[Any],
    types: Sequence[sa.types.TypeEngine[Any]],
) -> tuple[Sequence[Sequence[Any]], list[Converter | None]]:
    """The driver's rows and, per column, its type's result processor (if it has one)."""
    dialect = connection.dialect
    result = connection.execute(statement)
    try:
        rows = result.cursor.fetchall()
        # some processors depend on the type the driver reports (numerics on PostgreSQL)
        type_codes = [column[1] for column in result.cursor.description]
    finally:
        result.close()
    processors: list[Converter | None] = [
        column_type.dialect_impl(dialect).result_processor(dialect, type_code)
        for column_type, type_code in zip(types, type_codes, strict=True)
    ]
    return rows, processors
