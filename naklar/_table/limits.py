"""What each backend cannot hold: columns per table, bytes per row, text it refuses.

The numbers are the servers' own (measured on SQLite 3, PostgreSQL 15 and
MariaDB 10.11 with their default settings):

========== ============================== ===================================
backend    columns per table               bytes per row
========== ============================== ===================================
SQLite     2,000 (``SQLITE_MAX_COLUMN``)   no limit that a settings row meets
PostgreSQL 1,600                           8,160 per stored row, after TOAST
                                           moves long text out of the row
MariaDB    1,017 (InnoDB)                  8,126 by the table's definition
                                           (``innodb_strict_mode``)
========== ============================== ===================================

The counts include naklar's own two columns (``naklar_id``, ``naklar_dir``).
PostgreSQL checks each row as it is written, so :func:`postgres_row_bytes`
estimates a row from its values (NULLs take no space); MariaDB checks the
table's definition when it is created or altered, so :func:`mariadb_row_bytes`
adds up what each column type may take. Both follow the servers' layouts
closely enough to agree with them at the limit for numeric columns; text is
counted as the servers store it at worst (PostgreSQL: the value up to 24
bytes, else an 18-byte pointer to the TOAST table; MariaDB: 22 bytes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._read.decorators import RESERVED_COLUMNS
from .._read.values import Kind

__all__ = [
    "BackendLimits",
    "limits_for",
    "postgres_row_bytes",
    "postgres_widest_row_bytes",
    "mariadb_row_bytes",
]


@dataclass(frozen=True)
class BackendLimits:
    """One backend's limits; ``None`` where naklar knows none."""

    backend: str
    max_columns: int | None = None
    max_row_bytes: int | None = None
    #: PostgreSQL refuses NUL (``\x00``) in text.
    refuses_nul: bool = False


_LIMITS = {
    "sqlite": BackendLimits("SQLite", max_columns=2000),
    "postgresql": BackendLimits("PostgreSQL", 1600, 8160, refuses_nul=True),
    "mysql": BackendLimits("MySQL", 1017, 8126),
    "mariadb": BackendLimits("MariaDB", 1017, 8126),
}


def limits_for(dialect_name: str) -> BackendLimits:
    """The limits of the backend SQLAlchemy calls ``dialect_name``.

    >>> limits_for('postgresql').max_columns
    1600
    """
    return _LIMITS.get(dialect_name, BackendLimits(dialect_name))


# -- PostgreSQL: a heap tuple's size --------------------------------------------

#: Kind -> (bytes, alignment) of its fixed-width PostgreSQL type.
_POSTGRES_FIXED = {
    Kind.FLOAT: (8, 8),
    Kind.INTEGER: (8, 8),
    Kind.BOOLEAN: (1, 1),
    Kind.DATETIME: (8, 8),
    Kind.AWARE_DATETIME: (8, 8),
    Kind.DATE: (4, 4),
}
_POSTGRES_HEADER = 23
#: Text of more than this many bytes can move to the TOAST table, leaving a pointer.
_POSTGRES_INLINE_TEXT = 24
_POSTGRES_TOAST_POINTER = 18


def _postgres_cell(kind: Kind | None, value: Any) -> tuple[int, int]:
    """``(bytes, alignment)`` of one non-NULL value stored in a column of ``kind``."""
    fixed = _POSTGRES_FIXED.get(kind) if kind is not None else None
    if fixed is not None:
        return fixed
    size = len(value) if isinstance(value, bytes) else len(str(value).encode("utf-8", "replace"))
    stored = size + 1  # a short value has a one-byte header and no alignment
    return (stored, 1) if stored <= _POSTGRES_INLINE_TEXT else (_POSTGRES_TOAST_POINTER, 1)


def postgres_row_bytes(kinds: Sequence[Kind | None], values: Sequence[Any], directory: str) -> int:
    """The size of one stored row: ``values[i]`` in a column of ``kinds[i]``, ``None`` for NULL.

    ``naklar_id`` (4 bytes) and ``naklar_dir`` come first, as in the table.

    >>> postgres_row_bytes([Kind.FLOAT] * 1016, [0.5] * 1016, '0')
    8160
    """
    offset = 4  # naklar_id
    cells = [_postgres_cell(None, directory)]
    cells += [
        _postgres_cell(kind, value)
        for kind, value in zip(kinds, values, strict=True)
        if value is not None
    ]
    for size, align in cells:
        offset = -(-offset // align) * align + size
    has_null = len(cells) - 1 < len(kinds)
    header = _POSTGRES_HEADER + (
        math.ceil((len(kinds) + len(RESERVED_COLUMNS)) / 8) if has_null else 0
    )
    return -(-header // 8) * 8 + offset


def postgres_widest_row_bytes(kinds: Sequence[Kind | None]) -> int:
    """An upper bound of :func:`postgres_row_bytes` for any row of these columns."""
    widest: list[Any] = ["x" * _POSTGRES_INLINE_TEXT] * len(kinds)
    padded = postgres_row_bytes(kinds, widest, "x" * _POSTGRES_INLINE_TEXT)
    return padded + 7 * len(kinds)  # room for any alignment padding


# -- MariaDB: a table definition's largest record ----------------------------------

#: Kind -> bytes its MariaDB type takes in an InnoDB record; text and blobs take a
#: pointer to off-page storage and its length.
_MARIADB_BYTES = {
    Kind.FLOAT: 8,
    Kind.INTEGER: 8,
    Kind.BOOLEAN: 1,
    Kind.DATETIME: 8,
    Kind.AWARE_DATETIME: 8,
    Kind.DATE: 3,
}
_MARIADB_TEXT = 22
#: The record header, transaction fields, ``naklar_id`` and ``naklar_dir``.
_MARIADB_FIXED = 43


def mariadb_row_bytes(kinds: Iterable[Kind | None]) -> int:
    """The largest record MariaDB counts for a table of columns of these kinds.

    >>> mariadb_row_bytes([Kind.FLOAT] * 994)
    8120
    """
    kinds = list(kinds)
    null_bits = math.ceil((len(kinds) + 1) / 8)  # every column but naklar_id may be NULL
    columns = sum(
        _MARIADB_BYTES.get(kind, _MARIADB_TEXT) if kind is not None else _MARIADB_TEXT
        for kind in kinds
    )
    return _MARIADB_FIXED + null_bits + columns
