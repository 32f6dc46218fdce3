"""The columns naklar adds to every experiment table; a settings key with their name is renamed."""

from __future__ import annotations

__all__ = ["ID_COLUMN", "DIR_COLUMN", "RESERVED_COLUMNS"]

#: Primary key: the order rows were loaded in (natural directory order).
ID_COLUMN = "naklar_id"
#: The run's directory, relative to the root directory, in POSIX form.
DIR_COLUMN = "naklar_dir"
RESERVED_COLUMNS = (ID_COLUMN, DIR_COLUMN)
