"""Moving a store to where its tree is now: ``open(url, root=...)`` or ``path_map=``.

A store built on a cluster (root ``/cluster/sweep``) and copied to a laptop
that mounts the tree at ``~/mnt/sweep`` is opened with
``naklar.open(url, root='~/mnt/sweep')`` or, for a whole prefix,
``path_map={'/cluster': '~/mnt'}``. Run paths are stored relative to the root,
so moving the root moves them. *Path-valued columns* are the text columns:
each value equal to an old prefix, or starting with it followed by ``/``, gets
the new prefix instead (``/cluster/sweep/3/model.pt`` becomes
``/home/me/mnt/sweep/3/model.pt``), in the database, in the same transaction
as the store's record, so that filters see the new paths too. ``~`` in a new
prefix is expanded; trailing ``/`` do not matter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from .._read.values import Kind
from .._table.model import ID_COLUMN, build_table
from ..errors import NaklarError
from .catalog import Catalog, StoreRecord, specs_from_record
from .transactions import write_transaction

__all__ = ["prefix_moves", "moved_path", "move_path_values", "move_store"]


def prefix_moves(
    root_dir: str, root: str | os.PathLike[str] | None, path_map: Mapping[str, str] | None
) -> list[tuple[str, str]]:
    """``(old prefix, new prefix)`` pairs, longest old prefix first; none that change nothing.

    >>> prefix_moves('/cluster/sweep', None, {'/cluster/': '/mnt'})
    [('/cluster', '/mnt')]
    >>> prefix_moves('/cluster/sweep', '/data/sweep', None)
    [('/cluster/sweep', '/data/sweep')]
    """
    moves = {}
    for old, new in (path_map or {}).items():
        if not isinstance(old, str) or not isinstance(new, str) or not old.strip("/"):
            raise NaklarError(
                f"path_map maps {old!r} to {new!r}: pass {{'/old/prefix': '/new/prefix'}} with "
                "text paths, the old one not the file system's root"
            )
        moves[_trimmed(old)] = _trimmed(os.path.expanduser(new))
    if root is not None:
        moves[_trimmed(root_dir)] = _trimmed(os.path.expanduser(os.fspath(root)))
    pairs = [(old, new) for old, new in moves.items() if old != new]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def _trimmed(path: str) -> str:
    return path.rstrip("/") or "/"


def moved_path(path: str, moves: Sequence[tuple[str, str]]) -> str:
    """``path`` under the first old prefix it lies under, moved to the new one.

    >>> moved_path('/cluster/sweep/3', [('/cluster', '/mnt')])
    '/mnt/sweep/3'
    >>> moved_path('/clusters/x', [('/cluster', '/mnt')])
    '/clusters/x'
    """
    for old, new in moves:
        if path == old or path.startswith(old + "/"):
            return new + path[len(old) :]
    return path


def move_path_values(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[sa.Column[str]],
    moves: Sequence[tuple[str, str]],
) -> int:
    """Rewrite the values of ``columns`` that lie under an old prefix; return how many changed.

    Each value moves once, by the longest old prefix it lies under, and rows
    are updated by id, so that a new path equal to another row's old one
    cannot move twice.
    """
    row_id = table.c[ID_COLUMN]
    changed = 0
    for column in columns:
        under = sa.or_(
            *(
                sa.or_(column == old, sa.func.substr(column, 1, len(old) + 1) == old + "/")
                for old, _ in moves
            )
        )
        found = connection.execute(sa.select(row_id, column).where(under)).all()
        updates = [
            {"row": identifier, "value": moved_path(value, moves)} for identifier, value in found
        ]
        if updates:
            statement = (
                table.update()
                .where(row_id == sa.bindparam("row"))
                .values({column.name: sa.bindparam("value", type_=column.type)})
            )
            connection.execute(statement, updates)
            changed += len(updates)
    return changed


def move_store(
    engine: sa.Engine,
    table_name: str,
    catalog: Catalog,
    record: StoreRecord,
    moves: Sequence[tuple[str, str]],
) -> StoreRecord:
    """Move the store's root and path values by ``moves``, in one write; the moved record."""
    moved = record.revised(root_dir=moved_path(record.root_dir, moves))
    table, _ = build_table(
        table_name,
        specs_from_record(record, {}),
        sa.MetaData(),
        dialect=engine.dialect.name,
    )
    text_columns = [table.c[column.name] for column in record.columns if column.kind is Kind.STRING]
    doing = "move the store to its tree's new place"
    with write_transaction(engine, doing, lock=table_name) as connection:
        move_path_values(connection, table, text_columns, moves)
        catalog.write_record(connection, moved)
    return moved
