"""Engines naklar makes itself, whose connections it closes once nobody uses the engine.

A store made from a URL (or the default in-memory database) owns its engine,
and nothing else would close that engine's pooled DBAPI connections: they are
garbage collected open. Python 3.13 warns about each such ``sqlite3``
connection (``ResourceWarning: unclosed database``), in the user's test runs
and at exit. The engine cannot simply be disposed of when its store goes, as
``naklar.load(root).engine`` outlives the store, and for an in-memory database
the data lives in the connection. So the connections are closed when the
*engine* is garbage collected.

A finalizer on the engine must not refer to the engine's pool: the pool's event
listeners refer to the engine, so the engine would never be collected. Instead
the pool's events keep a list of its open DBAPI connections, and the finalizer
holds only that list.

:func:`opening` turns a database that cannot be opened (no such directory,
not a SQLite file, no server there) into a :class:`NaklarError` that names the
URL and what to check, where naklar first reads from it.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from ..errors import NaklarError

__all__ = ["create_owned_engine", "opening", "driver_reason"]


def create_owned_engine(*args: Any, **kwargs: Any) -> sa.Engine:
    """``sqlalchemy.create_engine(*args, **kwargs)``, its connections closed when it is collected.

    An engine a user makes and passes in stays theirs: naklar never closes it.
    """
    engine = sa.create_engine(*args, **kwargs)
    open_connections: list[Any] = []

    def opened(dbapi_connection: Any, record: Any) -> None:
        open_connections.append(dbapi_connection)

    def closed(dbapi_connection: Any, *record: Any) -> None:
        # by identity: a DBAPI connection need not define equality
        for index, known in enumerate(open_connections):
            if known is dbapi_connection:
                del open_connections[index]
                return

    sa.event.listen(engine.pool, "connect", opened)
    sa.event.listen(engine.pool, "close", closed)
    sa.event.listen(engine.pool, "close_detached", closed)
    weakref.finalize(engine, _close_all, open_connections)
    return engine


def _close_all(connections: list[Any]) -> None:
    while connections:
        connection = connections.pop()
        try:
            connection.close()
        except Exception:  # a connection the server has dropped already
            pass


@contextlib.contextmanager
def opening(engine: sa.Engine) -> Iterator[None]:
    """Around naklar's first read from ``engine``: a database it cannot open is a NaklarError."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        # no statement: the driver failed to connect (no server, no such directory);
        # SQLite only finds a file is not a database at its first statement
        if error.statement is not None and not _not_a_database(error):
            raise
        raise NaklarError(_cannot_open_message(engine.url, error)) from error


def _not_a_database(error: sa.exc.DBAPIError) -> bool:
    return getattr(error.orig, "sqlite_errorname", "") == "SQLITE_NOTADB"


def driver_reason(error: sa.exc.DBAPIError) -> str:
    """The driver's own message, first line only (SQLAlchemy's adds the SQL and a link)."""
    if error.orig is None:
        return str(error)
    lines = str(error.orig).strip().splitlines()
    return lines[0] if lines else type(error.orig).__name__


def _cannot_open_message(url: sa.URL, error: sa.exc.DBAPIError) -> str:
    # a URL's repr hides its password, as in naklar's other messages
    return f"cannot use the database {url!r}: {driver_reason(error)}; {_what_to_check(url, error)}"


def _what_to_check(url: sa.URL, error: sa.exc.DBAPIError) -> str:
    if url.get_backend_name() != "sqlite":
        return (
            "check that its server is running and the URL's user, password, host, port and database"
        )
    path = url.database or ""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"the directory {directory!r} does not exist: create it, or name a file in another"
    if _not_a_database(error):
        return (
            f"{path!r} is not a SQLite database: name a new file, or one naklar stored a sweep in"
        )
    return f"check that {path!r} can be read and written"
