"""A columnar copy of a file-SQLite store's table, so that its frames come back fast.

sqlite3 hands every value over as a Python object, so building a frame of a
large table from it is most of what reopening a store and looking at it costs.
So a load into a file, and after a change the first frame of the whole table,
keeps that frame beside the table as Arrow IPC, in the table
``<t>_naklar_frame``. Later frames, in this process or any later one, are read
back from it. The copy is uncompressed so that its buffers are used in place
(zstd would halve it, and cost each read its decompression). Filtered frames
are evaluated on the copy too, where the frame side answers as SQLite does (see
:meth:`naklar._store.store.Store.frame`). What the copy buys is measured in
``benchmarks/README.md`` ("Store-side machinery"); without it (``snapshot_for``
returns ``None``) frames come from the table, as on every other backend.

The copy must never be stale. Triggers on the experiment table bump a
``generation`` counter on every INSERT, UPDATE and DELETE, whoever makes them
(a refresh, another naklar process, a user's own SQL), in the same transaction
as the change. The copy records the generation and SQLite's ``schema_version``
(which any ALTER or DROP changes) that it was taken at, and is used only while
both are unchanged. The values are read between two readings of the
generation and are kept only if both readings agree, so a write committed
meanwhile cannot slip into a copy labelled with the older generation.

Only SQLite databases in a file are covered: an in-memory database lives as
long as the process, and other servers would need their own triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["FrameSnapshot", "snapshot_for"]

#: Bumped when the stored layout changes; a copy in another layout is ignored.
SNAPSHOT_FORMAT = 1
#: SQLite refuses values beyond 1e9 bytes by default; stay well below.
MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024
#: The fewest bytes a value takes in the copy (a number: 8, and most columns are).
_MIN_BYTES_PER_VALUE = 8
_GENERATION = "generation"
_EVENTS = ("INSERT", "UPDATE", "DELETE")


class FrameSnapshot:
    """The Arrow copy of one experiment table, with the triggers that keep it honest."""

    def __init__(self, table_name: str, meta_table: str) -> None:
        self.table_name = table_name
        self.meta_table = meta_table
        self.snapshot_table = f"{table_name}_naklar_frame"

    def read(self, engine: sa.Engine, names: Sequence[str]) -> pd.DataFrame | None:
        """The copy's columns ``names`` (SQL names), or ``None`` if there is no current copy."""
        with engine.connect() as connection:
            if not self._installed(connection):
                return None
            columns = "format, generation, schema_version, data"
            row = connection.exec_driver_sql(
                f"SELECT {columns} FROM {_quote(self.snapshot_table)}"
            ).first()
            if (
                row is None
                or row[0] != SNAPSHOT_FORMAT
                or tuple(row[1:3]) != _state(connection, self.meta_table)
            ):
                return None
            import pyarrow as pa  # with pandas, only once a frame is asked for

            table = pa.ipc.open_stream(row[3]).read_all()
        if not set(names) <= set(table.column_names):
            return None
        return table.select(list(names)).to_pandas()

    def take(self, engine: sa.Engine, read_frame: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``read_frame()`` (every stored column, named by SQL name), kept as the copy.

        The copy is kept only if the table did not change while the frame was
        read, if it is not too large, and if the database can be written now
        (not read-only, not locked by another writer); otherwise a later frame
        tries again.
        """
        try:
            with engine.begin() as connection:
                self._install(connection)
        except sa.exc.OperationalError:
            return read_frame()
        with engine.connect() as connection:
            taken_at = _state(connection, self.meta_table)
        frame = read_frame()
        if taken_at[0] is None:  # no counter (a record written without one): no copy
            return frame
        data = _to_ipc(frame)
        if data.size > MAX_SNAPSHOT_BYTES:
            return frame
        try:
            with engine.begin() as connection:
                if _state(connection, self.meta_table) == taken_at:
                    connection.exec_driver_sql(f"DELETE FROM {_quote(self.snapshot_table)}")
                    connection.exec_driver_sql(
                        f"INSERT INTO {_quote(self.snapshot_table)} "
                        "(format, generation, schema_version, data) VALUES (?, ?, ?, ?)",
                        (SNAPSHOT_FORMAT, *taken_at, memoryview(data)),
                    )
        except sa.exc.OperationalError:
            pass
        return frame

    def may_fit(self, rows: int, columns: int) -> bool:
        """Whether a copy of this many values could be kept (if not, no frame need be read)."""
        return rows * columns * _MIN_BYTES_PER_VALUE <= MAX_SNAPSHOT_BYTES

    def _installed(self, connection: sa.Connection) -> bool:
        """The copy's table and all three triggers exist (a re-created table loses its triggers)."""
        names = [self.snapshot_table, *self._triggers]
        found = connection.exec_driver_sql(
            f"SELECT count(*) FROM sqlite_master WHERE name IN ({', '.join('?' * len(names))})",
            tuple(names),
        ).scalar()
        return found == len(names)

    @property
    def _triggers(self) -> list[str]:
        return [f"{self.table_name}_naklar_{event.lower()}" for event in _EVENTS]

    def _install(self, connection: sa.Connection) -> None:
        """The copy's table (emptied), a generation counter at 0 and the triggers that bump it."""
        if self._installed(connection):
            return
        table, meta = _quote(self.table_name), _quote(self.meta_table)
        connection.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {_quote(self.snapshot_table)} (format INTEGER NOT NULL, "
            "generation INTEGER NOT NULL, schema_version INTEGER NOT NULL, data BLOB NOT NULL)"
        )
        connection.exec_driver_sql(f"DELETE FROM {_quote(self.snapshot_table)}")
        connection.exec_driver_sql(f"DELETE FROM {meta} WHERE name = ?", (_GENERATION,))
        connection.exec_driver_sql(
            f"INSERT INTO {meta} (name, value) VALUES (?, '0')", (_GENERATION,)
        )
        bump = f"UPDATE {meta} SET value = CAST(value AS INTEGER) + 1 WHERE name = '{_GENERATION}';"
        for event, trigger in zip(_EVENTS, self._triggers, strict=True):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_quote(trigger)}")
            connection.exec_driver_sql(
                f"CREATE TRIGGER {_quote(trigger)} AFTER {event} ON {table} BEGIN {bump} END"
            )

    def drop(self, connection: sa.Connection) -> None:
        """Remove the copy; the triggers go with the experiment table."""
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_quote(self.snapshot_table)}")


def _state(connection: sa.Connection, meta_table: str) -> tuple[int | None, int]:
    """The table's generation (``None`` before a copy was first taken) and schema version."""
    generation = connection.exec_driver_sql(
        f"SELECT value FROM {_quote(meta_table)} WHERE name = ?", (_GENERATION,)
    ).scalar()
    schema_version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    return (int(generation) if generation is not None else None), int(schema_version or 0)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _to_ipc(frame: pd.DataFrame) -> pa.Buffer:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def snapshot_for(engine: sa.Engine, table_name: str, meta_table: str) -> FrameSnapshot | None:
    """A snapshot for a store in a SQLite file; ``None`` for other databases."""
    if engine.dialect.name != "sqlite" or not outlives_process(engine):
        return None
    return FrameSnapshot(table_name, meta_table)


def outlives_process(engine: sa.Engine) -> bool:
    """Whether the database stays when this process ends (anything but in-memory SQLite)."""
    url = engine.url
    if engine.dialect.name != "sqlite":
        return True
    return url.database not in (None, "", ":memory:") and url.query.get("mode") != "memory"
