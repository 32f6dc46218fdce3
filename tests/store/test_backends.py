"""The same sweep loads and selects alike on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import naklar


@pytest.fixture
def iris_store(any_engine: sa.Engine, table_name: str, iris_tree: Path) -> Iterator[naklar.Store]:
    store = naklar.Store(any_engine, table_name=table_name)
    store.load(iris_tree, dict_file="conf.json")
    yield store
    assert store.table is not None
    store.table.drop(any_engine)


def test_backend_select_matches_the_files(iris_store: naklar.Store, iris_tree: Path) -> None:
    runs = [json.loads((iris_tree / str(i) / "conf.json").read_text()) for i in range(12)]

    assert iris_store.select("i", "kernel", "C", "f1") == [
        (run["i"], run["kernel"], float(run["C"]), run["f1"]) for run in runs
    ]


def test_backend_filters(iris_store: naklar.Store) -> None:
    E = iris_store.E

    assert [row.i for row in iris_store.select("i", C=[1, 2], kernel="rbf")] == [6, 7]
    assert iris_store.select("i", E.C > 1, E.kernel.in_(["poly"])) == [(11,)]
    assert len(iris_store.select(E.f1 >= 0)) == 12


def test_backend_reload_replaces_the_table(iris_store: naklar.Store, iris_tree: Path) -> None:
    iris_store.load(iris_tree, dict_file="conf.json", restrict_keys={"i"})

    assert iris_store.columns == ["naklar_dir", "i"]
    assert len(iris_store.select("i")) == 12


def test_fetch_rows_converts_like_fetch_columns(any_engine: sa.Engine, table_name: str) -> None:
    import datetime

    from naklar._store.bulk import fetch_columns, fetch_rows

    table = sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime),
    )
    moments = [datetime.datetime(2024, 5, day, 12, 30) for day in (1, 2)]
    statement = sa.select(table.c.n, table.c.at).order_by(table.c.n)
    types = [table.c.n.type, table.c.at.type]
    with any_engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [{"n": 1, "at": moments[0]}, {"n": 2, "at": None}])
        try:
            rows = fetch_rows(connection, statement, types)
            columns = fetch_columns(connection, statement, types)
        finally:
            table.drop(connection)

    assert [tuple(row) for row in rows] == [(1, moments[0]), (2, None)]
    assert [tuple(row) for row in rows] == list(zip(*columns, strict=True))
