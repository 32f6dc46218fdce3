"""A load or refresh that fails midway leaves a store that still loads and refreshes; a store
that takes no writes says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._store import applying
from naklar._store.transactions import write_transaction


class Interrupted(Exception):
    """Stands in for a Ctrl-C or a lost connection in the middle of the inserts."""


def interrupt(*args: Any, **kwargs: Any) -> None:
    raise Interrupted


def write_run(root: Path, name: str, settings: dict[str, Any]) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "conf.json").write_text(json.dumps(settings))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for i in range(3):
        write_run(root, f"run{i}", {"i": i})
    return root


@pytest.fixture
def store(any_engine: sa.Engine, table_name: str) -> Iterator[naklar.Store]:
    yield naklar.Store(any_engine, table_name=table_name)
    naklar.Store(any_engine, table_name=table_name).drop()


def test_a_refresh_that_fails_after_adding_a_column_can_be_refreshed_again(
    store: naklar.Store, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load(tree, dict_file="conf.json")
    write_run(tree, "run3", {"i": 3, "optimizer": "adam"})  # a new key: a new column
    with monkeypatch.context() as patch:
        patch.setattr(applying, "insert_settings_rows", interrupt)
        with pytest.raises(Interrupted):
            store.refresh()

    report = store.refresh()

    assert report.changes is not None and report.changes.added == 1
    frame = store.frame().sort_values("i")
    assert frame["i"].tolist() == [0, 1, 2, 3]
    assert frame["optimizer"].tolist()[-1] == "adam"


@pytest.mark.parametrize("any_engine", ["sqlite", "sqlite_file", "postgres"], indirect=True)
def test_a_reload_that_fails_midway_keeps_the_stored_rows(
    store: naklar.Store, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MySQL and MariaDB commit each DROP and CREATE at once: no client can undo them
    store.load(tree, dict_file="conf.json")
    other = tmp_path / "other"
    write_run(other, "run0", {"f1": 0.5})
    with monkeypatch.context() as patch:
        patch.setattr(applying, "insert_settings_rows", interrupt)
        with pytest.raises(Interrupted):
            store.load(other, dict_file="conf.json")

    assert sorted(store.frame()["i"]) == [0, 1, 2]
    assert store.refresh().changes.unchanged == 3  # type: ignore[union-attr]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///{tmp}/db.sqlite"])
def test_write_transaction_rolls_back_a_create_table_on_sqlite(url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(url.format(tmp=tmp_path))
    try:
        with pytest.raises(Interrupted), write_transaction(engine, "test") as connection:
            connection.exec_driver_sql("CREATE TABLE made (x INTEGER)")
            raise Interrupted

        assert not sa.inspect(engine).has_table("made")
    finally:
        engine.dispose()


def test_write_transaction_on_an_engine_that_begins_transactions_itself() -> None:
    # the recipe SQLAlchemy documents for pysqlite: the driver's own handling off
    engine = sa.create_engine("sqlite://")
    sa.event.listen(
        engine,
        "connect",
        lambda dbapi_connection, _: setattr(dbapi_connection, "isolation_level", None),
    )
    sa.event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    try:
        with pytest.raises(Interrupted), write_transaction(engine, "test") as connection:
            connection.exec_driver_sql("CREATE TABLE made (x INTEGER)")
            raise Interrupted
        with write_transaction(engine, "test") as connection:
            connection.exec_driver_sql("CREATE TABLE kept (x INTEGER)")

        assert not sa.inspect(engine).has_table("made")
        assert sa.inspect(engine).has_table("kept")
    finally:
        engine.dispose()


# -- a database that takes no writes ----------------------------------------------


def read_only_twin(engine: sa.Engine) -> sa.Engine:
    """An engine on the same database that may only read it."""
    if engine.dialect.name == "sqlite":
        return sa.create_engine(f"sqlite:///file:{engine.url.database}?mode=ro&uri=true")
    if engine.dialect.name == "postgresql":
        options = {"options": "-c default_transaction_read_only=on"}
        return sa.create_engine(engine.url, connect_args=options)
    twin = sa.create_engine(engine.url)

    def read_only_session(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.cursor().execute("SET SESSION TRANSACTION READ ONLY")

    sa.event.listen(twin, "connect", read_only_session)
    return twin


@pytest.mark.parametrize("any_engine", ["sqlite_file", "postgres", "mysql"], indirect=True)
def test_writing_to_a_store_that_takes_no_writes_says_so(
    store: naklar.Store, tree: Path, table_name: str
) -> None:
    store.load(tree, dict_file="conf.json")
    read_only = read_only_twin(store.engine)
    try:
        reader = naklar.open(read_only, table_name=table_name)
        assert len(reader.frame()) == 3  # reading works
        write_run(tree, "run3", {"i": 3})  # a refresh now has something to write

        with pytest.raises(naklar.NaklarError, match="cannot refresh the store in the database"):
            reader.refresh()
        with pytest.raises(naklar.NaklarError, match="it takes no writes"):
            reader.drop()
        with pytest.raises(naklar.NaklarError, match="cannot load the tree in the database"):
            reader.load(tree, dict_file="conf.json", restrict_keys=["i"])
    finally:
        read_only.dispose()


def test_two_writers_to_one_sqlite_file_take_turns(tmp_path: Path) -> None:
    import threading

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = sa.create_engine(url), sa.create_engine(url)
    with first.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE runs (i INTEGER)")
    first_has_written, second_has_read = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write_first() -> None:
        with write_transaction(first, "test") as connection:
            connection.exec_driver_sql("INSERT INTO runs VALUES (1)")
            first_has_written.set()
            # a second writer that began by reading would now hold a read lock that
            # this commit must wait for, while it waits for this one's write lock
            second_has_read.wait(1.0)

    def write_second() -> None:
        first_has_written.wait(5)
        try:
            with write_transaction(second, "test") as connection:
                # read, then write, as a load does (does the table exist? then DROP)
                connection.exec_driver_sql("SELECT count(*) FROM runs").scalar()
                second_has_read.set()
                connection.exec_driver_sql("INSERT INTO runs VALUES (2)")
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=write_first), threading.Thread(target=write_second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert failures == []
        with first.connect() as connection:
            assert sorted(connection.exec_driver_sql("SELECT i FROM runs").scalars()) == [1, 2]
    finally:
        first.dispose()
        second.dispose()


def test_a_driver_error_without_arguments_or_message_is_passed_on_as_it_is() -> None:
    engine = sa.create_engine("sqlite://")
    bare = sa.exc.OperationalError("INSERT INTO runs VALUES (1)", {}, Exception())
    try:
        with pytest.raises(sa.exc.OperationalError) as raised, write_transaction(engine, "test"):
            raise bare

        assert raised.value is bare
    finally:
        engine.dispose()
