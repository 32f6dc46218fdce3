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

Given a ``lock`` name (a store passes its table's), the transaction also holds
the database's own lock for that name, so that writers to one store take
turns and each finds the store as the one before it left it: on PostgreSQL a
transaction-scoped advisory lock (``pg_advisory_xact_lock``), taken before
any statement, so before a first load's CREATE TABLE; on MySQL and MariaDB a
named lock (``GET_LOCK``), taken before the transaction begins and released
after it ends, as it belongs to the connection, not to the transaction;
SQLite's write lock is the database's, taken by BEGIN IMMEDIATE.

PostgreSQL's DDL is transactional anyway. MySQL and MariaDB commit at each DDL
statement, whatever the client does; :mod:`naklar._store.refreshing` reuses a column
that a failed refresh left behind.

A database that takes no writes (a read-only SQLite file or server, a user
without the right) makes such a transaction fail with a :class:`NaklarError`
that says so, instead of the driver's error.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import sqlalchemy as sa

from .._table.sqltypes import MYSQL_DIALECTS
from ..errors import NaklarError
from .engines import driver_reason

__all__ = ["write_transaction", "lock_key", "LOCK_WAIT_SECONDS"]

#: SQLite's SQLITE_READONLY (its extended codes share the low byte).
_SQLITE_READONLY = 8
#: PostgreSQL: read-only transaction, insufficient privilege.
_POSTGRES_REFUSALS = frozenset({"25006", "42501"})
#: MySQL/MariaDB: --read-only, READ ONLY transaction, command or database denied.
_MYSQL_REFUSALS = frozenset({1290, 1792, 1142, 1044})
#: How long a MySQL or MariaDB writer waits for another one's named lock.
LOCK_WAIT_SECONDS = 3600
#: SQLite's wait for another writer, in milliseconds, where the engine sets a shorter one.
_SQLITE_BUSY_MS = LOCK_WAIT_SECONDS * 1000


@contextlib.contextmanager
def write_transaction(
    engine: sa.Engine, doing: str, lock: str | None = None
) -> Iterator[sa.Connection]:
    """``engine.begin()``, in which SQLite's schema changes are part of the transaction.

    ``doing`` completes "cannot ..." in the error for a database that takes no writes;
    ``lock`` names the lock that writers to one store share.
    """
    try:
        with engine.connect() as connection, _named_lock(connection, lock, doing):
            with connection.begin():
                if connection.dialect.driver == "pysqlite":
                    _begin_immediate(connection)
                elif connection.dialect.name == "postgresql" and lock is not None:
                    connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock)}
                    )
                yield connection
    except sa.exc.DBAPIError as error:
        if not _refuses_writes(error):
            raise
        raise NaklarError(
            f"cannot {doing} in the database {engine.url!r}: it takes no writes "
            f"({driver_reason(error)}); "
            "use a copy you can write to, or open it with naklar.open(url) to select only"
        ) from error


def _begin_immediate(connection: sa.Connection) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    # an engine set up to begin transactions itself already has one open
    if dbapi_connection is None or dbapi_connection.in_transaction:
        return
    # wait for another process's write as long as on a server, not sqlite3's 5 s
    waits = connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0
    if waits < _SQLITE_BUSY_MS:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        if waits < _SQLITE_BUSY_MS:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waits)}")


@contextlib.contextmanager
def _named_lock(connection: sa.Connection, lock: str | None, doing: str) -> Iterator[None]:
    """MySQL's and MariaDB's ``GET_LOCK`` around what follows; nothing elsewhere."""
    if lock is None or connection.dialect.name not in MYSQL_DIALECTS:
        yield
        return
    # named locks are the server's, not the database's: the name says which database
    name = f"naklar:{lock_key(f'{connection.engine.url.database}.{lock}')}"
    got = connection.execute(
        sa.text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": LOCK_WAIT_SECONDS}
    ).scalar()
    connection.commit()
    if got != 1:
        raise NaklarError(
            f"cannot {doing}: another process has held the store's lock {name!r} for "
            f"{LOCK_WAIT_SECONDS} s; wait for it to finish, or end it"
        )
    try:
        yield
    finally:
        try:
            connection.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": name})
            connection.commit()
        except sa.exc.DBAPIError:
            connection.invalidate()  # the server releases the locks of a closed connection


def lock_key(name: str) -> int:
    """A signed 64-bit number for ``name``, as PostgreSQL's advisory locks take."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _refuses_writes(error: sa.exc.DBAPIError) -> bool:
    driver_error = error.orig
    if getattr(driver_error, "sqlite_errorcode", 0) & 0xFF == _SQLITE_READONLY:
        return True
    if getattr(driver_error, "sqlstate", None) in _POSTGRES_REFUSALS:
        return True
    args: tuple[object, ...] = getattr(driver_error, "args", ())  # pymysql: (code, message)
    return bool(args) and isinstance(args[0], int) and args[0] in _MYSQL_REFUSALS
