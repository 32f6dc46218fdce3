"""Engines naklar makes close their connections once garbage collected; others stay open."""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import textwrap
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment
from naklar._store.engines import create_owned_engine


def driver_connection(engine: sa.Engine) -> Any:
    """The DBAPI connection the engine's pool holds (checked out and back in)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("select 1")
        return connection.connection.driver_connection


def is_closed(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("select 1")
    except sqlite3.ProgrammingError:
        return True
    return False


@pytest.fixture
def tree(make_tree: Callable[..., Path]) -> Path:
    return make_tree({str(run): {"C": run} for run in range(3)}, fmt="json")


def test_an_owned_engine_closes_its_connections_once_collected() -> None:
    engine = create_owned_engine("sqlite://")
    collected = weakref.ref(engine)
    raw = driver_connection(engine)

    del engine
    gc.collect()

    assert collected() is None
    assert is_closed(raw)


def test_an_owned_engine_in_use_keeps_its_connections_open() -> None:
    engine = create_owned_engine("sqlite://")
    raw = driver_connection(engine)
    gc.collect()

    assert not is_closed(raw)
    assert driver_connection(engine) is raw  # the same in-memory database


def test_a_disposed_owned_engine_closes_the_connections_it_opens_later(tmp_path: Path) -> None:
    engine = create_owned_engine(f"sqlite:///{tmp_path / 'sweep.db'}")
    first = driver_connection(engine)
    engine.dispose()
    second = driver_connection(engine)

    del engine
    gc.collect()

    assert is_closed(first) and is_closed(second)


def test_a_dropped_store_closes_the_connection_of_its_own_engine(tree: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json")
    raw = driver_connection(store.engine)

    del store
    gc.collect()

    assert is_closed(raw)


def test_a_store_leaves_an_engine_it_was_given_open(tree: Path) -> None:
    engine = sa.create_engine("sqlite://")
    store = naklar.Store(engine)
    store.load(tree, dict_file="conf.json")
    raw = driver_connection(engine)

    del store
    gc.collect()

    assert not is_closed(raw)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from experiment").scalar() == 3
    engine.dispose()


def test_the_engine_of_a_dropped_store_still_holds_the_table(tree: Path) -> None:
    engine = naklar.load(tree, dict_file="conf.json").engine
    gc.collect()

    with engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from experiment").scalar() == 3


def test_replacing_the_default_store_closes_the_old_one(tree: Path) -> None:
    experiment.initialise(tree, dict_file="conf.json")
    raw = driver_connection(experiment._engine)

    experiment.reset()
    experiment.initialise(tree, dict_file="conf.json")
    gc.collect()

    assert is_closed(raw)


def test_a_session_of_loads_leaves_no_unclosed_database(tree: Path, tmp_path: Path) -> None:
    # Python 3.13 and later warn about every sqlite3 connection collected open
    script = f"""
        import gc
        import naklar
        from naklar import experiment
        experiment.initialise({str(tree)!r}, dict_file='conf.json')
        experiment.reset()
        experiment.connect('sqlite:///{tmp_path / "sweep.db"}')
        experiment.initialise({str(tree)!r}, dict_file='conf.json')
        naklar.load({str(tree)!r}, dict_file='conf.json').select('C')
        naklar.open('sqlite:///{tmp_path / "sweep.db"}').frame()
        gc.collect()
        print('done')
    """
    done = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "done", "")


# -- a database naklar cannot use at all ------------------------------------------


def test_a_store_in_a_directory_that_does_not_exist_names_the_directory(
    tree: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no such dir"
    url = f"sqlite:///{missing / 'sweep.db'}"

    with pytest.raises(naklar.NaklarError, match="does not exist: create it") as raised:
        naklar.load(tree, dict_file="conf.json", url=url)

    assert repr(str(missing)) in str(raised.value)
    assert not missing.exists()


def test_opening_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database, just notes\n" * 100)

    with pytest.raises(naklar.NaklarError, match="is not a SQLite database") as raised:
        naklar.open(f"sqlite:///{notes}")

    assert str(notes) in str(raised.value)


def test_initialise_into_a_file_that_is_not_a_database_says_so(tree: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("not a database, just notes\n" * 100)
    experiment.connect(f"sqlite:///{notes}")

    with pytest.raises(naklar.NaklarError, match="file is not a database"):
        experiment.initialise(tree, dict_file="conf.json")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/test",
        "mysql+pymysql://root:s3cret-pw@127.0.0.1:1/test",
    ],
)
def test_a_server_that_is_not_there_names_the_url_but_not_its_password(url: str) -> None:
    pytest.importorskip(url.split("+")[1].split(":")[0], reason="needs the driver (test extra)")

    with pytest.raises(naklar.NaklarError, match="check that its server is running") as raised:
        naklar.open(url)

    message = str(raised.value)
    assert "127.0.0.1:1/test" in message
    assert "s3cret-pw" not in message


def test_an_sql_error_that_is_not_about_the_database_is_not_relabelled() -> None:
    from naklar._store.engines import opening

    engine = sa.create_engine("sqlite://")
    try:
        with (
            pytest.raises(sa.exc.OperationalError, match="no such table"),
            opening(engine),
            engine.connect() as connection,
        ):
            connection.exec_driver_sql("SELECT * FROM nowhere")
    finally:
        engine.dispose()


def test_a_driver_error_without_a_message_is_named_by_its_class() -> None:
    from naklar._store.engines import driver_reason

    assert driver_reason(sa.exc.OperationalError(None, {}, ConnectionError())) == (
        "ConnectionError"
    )
