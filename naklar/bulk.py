"""Inserting many rows through the DB-API's ``executemany``, portably.

SQLAlchemy Core's ``executemany`` spends most of its time building a parameter
dict per row and running type processors in Python; for SQLite the driver's own
``executemany`` underneath is about five times faster. Here the insert is
compiled once for the connection's dialect (so the placeholders are right for
SQLite, PostgreSQL and MariaDB alike), the column types' bind processors are
looked up once, and rows go to the driver as tuples (or dicts for named
placeholder styles) in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["bulk_insert", "BATCH_ROWS"]

#: Rows per ``executemany`` call: bounds the memory of the parameter lists.
BATCH_ROWS = 20_000

Converter = Callable[[Any], Any]


def bulk_insert(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    converters: Sequence[Converter | None] | None = None,
) -> int:
    """Insert ``rows`` (values in the order of ``names``) into ``table``.

    Parameters
    ----------
    connection:
        An open connection; the caller owns the transaction.
    table:
        The table to insert into.
    names:
        Column names, in the order of each row's values.
    rows:
        The rows, consumed once.
    converters:
        Per column, a function applied to every non-``None`` value before the
        column type's own bind processing, or ``None`` for none.

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
    processors = [
        _compose(
            converters[index] if converters else None,
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect),
        )
        for index, name in enumerate(names)
    ]
    if compiled.positional:
        positions = [int(bind[1:]) for bind in compiled.positiontup or ()]
    else:
        positions = list(range(len(names)))
    bind_names = [f"p{position}" for position in positions]
    processed = [(position, processors[position]) for position in positions]
    needs_processing = any(processor is not None for _, processor in processed)

    inserted = 0
    batch: list[Any] = []
    for row in rows:
        if needs_processing:
            values: Sequence[Any] = [
                processor(row[position])
                if processor is not None and row[position] is not None
                else row[position]
                for position, processor in processed
            ]
        elif compiled.positional and positions != list(range(len(names))):
            values = [row[position] for position in positions]
        else:
            values = row
        batch.append(
            tuple(values) if compiled.positional else dict(zip(bind_names, values, strict=True))
        )
        if len(batch) >= BATCH_ROWS:
            connection.exec_driver_sql(sql, batch)
            inserted += len(batch)
            batch = []
    if batch:
        connection.exec_driver_sql(sql, batch)
        inserted += len(batch)
    return inserted


def _compose(first: Converter | None, second: Converter | None) -> Converter | None:
    if first is None:
        return second
    if second is None:
        return first
    return lambda value: second(first(value))
