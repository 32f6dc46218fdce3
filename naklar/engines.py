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
"""

from __future__ import annotations

import weakref
from typing import Any

import sqlalchemy as sa

__all__ = ["create_owned_engine"]


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
