"""Write transactions that take their schema changes with them when they fail.

``sqlite3`` (SQLAlchemy's ``pysqlite`` driver) begins a transaction only before
an INSERT, UPDATE or DELETE, so a DROP, CREATE or ALTER TABLE before them is
committed at once. A reload interrupted in its inserts would leave the old
table dropped; an interrupted refresh would leave a column the store's record
does not know, and every later refresh would fail on it (``duplicate column
name``). :func:`write_transaction` begins the transaction itself, so SQLite
rolls back the schema changes with the rest.

It begins it IMMEDIATE, taking the write lock at once. Such a transaction reads
first (does the table exist?); two that had both read could not both go on to
write, and one would fail with "database is locked" where now it waits its turn.

PostgreSQL's DDL is transactional anyway. MySQL and MariaDB commit at each DDL
statement, whatever the client does; :mod:`naklar._store.refreshing` reuses a column
that a failed refresh left behind.

A database that takes no writes (a read-only SQLite file or server, a user
without the right) makes such a transaction fail with a :class:`NaklarError`
that says so, instead of the driver's error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from ..errors import NaklarError
from .engines import driver_reason

__all__ = ["write_transaction"]

#: SQLite's SQLITE_READONLY (its extended codes share the low byte).
_SQLITE_READONLY = 8
#: PostgreSQL: read-only transaction, insufficient privilege.
_POSTGRES_REFUSALS = frozenset({"25006", "42501"})
#: MySQL/MariaDB: --read-only, READ ONLY transaction, command or database denied.
_MYSQL_REFUSALS = frozenset({1290, 1792, 1142, 1044})


@contextlib.contextmanager
def write_transaction(engine: sa.Engine, doing: str) -> Iterator[sa.Connection]:
    """``engine.begin()``, in which SQLite's schema changes are part of the transaction.

    ``doing`` completes "cannot ..." in the error for a database that takes no writes.
    """
    try:
        with engine.begin() as connection:
            if connection.dialect.driver == "pysqlite":
                dbapi_connection = connection.connection.dbapi_connection
                # an engine set up to begin transactions itself already has one open
                if dbapi_connection is not None and not dbapi_connection.in_transaction:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection
    except sa.exc.DBAPIError as error:
        if not _refuses_writes(error):
            raise
        raise NaklarError(
            f"cannot {doing} in the database {engine.url!r}: it takes no writes "
            f"({driver_reason(error)}); "
            "use a copy you can write to, or open it with naklar.open(url) to select only"
        ) from error


def _refuses_writes(error: sa.exc.DBAPIError) -> bool:
    driver_error = error.orig
    if getattr(driver_error, "sqlite_errorcode", 0) & 0xFF == _SQLITE_READONLY:
        return True
    if getattr(driver_error, "sqlstate", None) in _POSTGRES_REFUSALS:
        return True
    args: tuple[object, ...] = getattr(driver_error, "args", ())  # pymysql: (code, message)
    return bool(args) and isinstance(args[0], int) and args[0] in _MYSQL_REFUSALS
