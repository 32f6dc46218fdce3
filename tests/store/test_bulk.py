"""bulk_insert: rows given column by column reach every backend as they were given."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from naklar._store import bulk
from naklar._store.bulk import bulk_insert, fetch_columns


@pytest.fixture
def sample_table(any_engine: sa.Engine, table_name: str) -> Iterator[tuple[sa.Engine, sa.Table]]:
    table = sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("x", sa.Double),
        sa.Column("flag", sa.Boolean),
        sa.Column("at", sa.DateTime),
    )
    table.create(any_engine)
    try:
        yield any_engine, table
    finally:
        table.drop(any_engine)


def _insert_and_read(
    engine: sa.Engine, table: sa.Table, columns: Sequence[Sequence[Any]], **options: Any
) -> list[tuple[Any, ...]]:
    names = [column.name for column in table.c]
    with engine.begin() as connection:
        inserted = bulk_insert(connection, table, names, columns, **options)
        assert inserted == len(columns[0])
        statement = sa.select(*table.c).order_by(table.c.n)
        read = fetch_columns(connection, statement, [column.type for column in table.c])
    return list(zip(*read, strict=True))


def test_bulk_insert_stores_each_column_under_its_name(
    sample_table: tuple[sa.Engine, sa.Table],
) -> None:
    engine, table = sample_table
    moment = datetime.datetime(2024, 5, 1, 12, 30)
    columns = [[1, 2], [0.5, None], [True, False], [moment, None]]

    assert _insert_and_read(engine, table, columns) == [
        (1, 0.5, True, moment),
        (2, None, False, None),
    ]


def test_bulk_insert_splits_columns_longer_than_a_batch(
    sample_table: tuple[sa.Engine, sa.Table], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH_ROWS", 3)
    engine, table = sample_table
    count = 10
    columns = [
        list(range(count)),
        [n / 4 for n in range(count)],
        [n % 2 == 0 for n in range(count)],
        [None] * count,
    ]

    assert _insert_and_read(engine, table, columns) == list(zip(*columns, strict=True))


def test_bulk_insert_applies_converters_before_the_types_processing(
    sample_table: tuple[sa.Engine, sa.Table],
) -> None:
    engine, table = sample_table
    columns = [[1, 2], [3, None], [1, 0], [None, None]]
    converters = [None, float, bool, None]

    rows = _insert_and_read(engine, table, columns, converters=converters)

    assert rows == [(1, 3.0, True, None), (2, None, False, None)]
    assert type(rows[0][1]) is float


class _Negated(sa.TypeDecorator[float]):
    """A float column whose bind processing does more than call float()."""

    impl = sa.Double
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: sa.Dialect) -> float | None:
        return None if value is None else -value


def test_bulk_insert_skips_only_the_plain_float_processing(
    any_engine: sa.Engine, table_name: str
) -> None:
    table = sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("x", _Negated),
    )
    table.create(any_engine)
    try:
        rows = _insert_and_read(any_engine, table, [[1, 2], [0.5, None]], exact_floats={"x"})
    finally:
        table.drop(any_engine)

    assert rows == [(1, -0.5), (2, None)]


def test_bulk_insert_of_no_rows_inserts_nothing(sample_table: tuple[sa.Engine, sa.Table]) -> None:
    engine, table = sample_table

    assert _insert_and_read(engine, table, [[], [], [], []]) == []


def test_bulk_insert_refuses_columns_of_different_lengths(
    sample_table: tuple[sa.Engine, sa.Table],
) -> None:
    engine, table = sample_table

    with pytest.raises(ValueError, match="zip"), engine.begin() as connection:
        bulk_insert(connection, table, ["n", "x"], [[1, 2], [0.5]])


_floats = st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(values=_floats)
def test_skipping_float_processing_stores_exact_floats_unchanged(
    values: list[float | None],
) -> None:
    """On SQLite the type's processing only calls float(): skipping it changes nothing."""
    engine = sa.create_engine("sqlite://")
    table = sa.Table(
        "t", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True), sa.Column("x", sa.Double)
    )
    ids = list(range(len(values)))
    try:
        table.create(engine)
        processed = _insert_and_read(engine, table, [ids, values])
        table.drop(engine)
        table.create(engine)
        skipped = _insert_and_read(engine, table, [ids, values], exact_floats={"x"})
    finally:
        engine.dispose()  # one engine per example: left to the collector, 3.13 warns

    assert skipped == processed == list(zip(ids, values, strict=True))
