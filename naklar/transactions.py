"""Write transactions that take their schema changes with them when they fail.

``sqlite3`` (SQLAlchemy's ``pysqlite`` driver) begins a transaction only before
an INSERT, UPDATE or DELETE, so a DROP, CREATE or ALTER TABLE before them is
committed at once. A reload interrupted in its inserts would leave the old
table dropped; an interrupted refresh would leave a column the store's record
does not know, and every later refresh would fail on it (``duplicate column
name``). :func:`write_transaction` begins the transaction itself, so SQLite
rolls back the schema changes with the rest. PostgreSQL's DDL is transactional
anyway. MySQL and MariaDB commit at each DDL statement, whatever the client
does; :mod:`naklar.refreshing` reuses a column that a failed refresh left behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

__all__ = ["write_transaction"]


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """``engine.begin()``, in which SQLite's schema changes are part of the transaction."""
    with engine.begin() as connection:
        if connection.dialect.driver == "pysqlite":
            dbapi_connection = connection.connection.dbapi_connection
            # an engine set up to begin transactions itself already has one open
            if dbapi_connection is not None and not dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN")
        yield connection
