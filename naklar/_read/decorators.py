"""Decorators in the seed's ``{key: (getter, setter, Column)}`` form, checked.

A getter changes what a selected object's attribute returns; a setter changes a
value as its file is read; a Column adds a computed column. naklar fills its own
columns (:data:`RESERVED_COLUMNS`) itself, so no decorator may name them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import NaklarError

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["ID_COLUMN", "DIR_COLUMN", "RESERVED_COLUMNS", "Decorator", "parse_decorators"]

#: Primary key: the order rows were loaded in (natural directory order).
ID_COLUMN = "naklar_id"
#: The run's directory, relative to the root directory, in POSIX form.
DIR_COLUMN = "naklar_dir"
RESERVED_COLUMNS = (ID_COLUMN, DIR_COLUMN)

Getter = Callable[[Any, Any], Any]
Setter = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Decorator:
    """A user's getter/setter pair for a key, and a column for computed keys."""

    getter: Getter | None = None
    setter: Setter | None = None
    column: sa.Column[Any] | None = None


def parse_decorators(decorators: Mapping[str, Any] | None) -> dict[str, Decorator]:
    """Check the seed's ``{'key': (getter, setter, Column)}`` form.

    A slot that is not callable means "the default" (return the stored value).
    """
    parsed: dict[str, Decorator] = {}
    for key, spec in (decorators or {}).items():
        if key in RESERVED_COLUMNS:
            # naklar fills these columns itself: a getter or setter would never run
            raise NaklarError(
                f"a decorator cannot be named {key!r}: naklar fills that column itself "
                f"(a settings key of that name is stored as {key + '_1'!r}); name the "
                f"decorator after a settings key or a new column"
            )
        if callable(spec):
            spec = (spec,)
        if not isinstance(spec, (tuple, list)) or not 1 <= len(spec) <= 3:
            raise NaklarError(
                f"decorator for {key!r} must be a tuple (getter,), (getter, setter) or "
                f"(getter, setter, sqlalchemy.Column), got {spec!r}"
            )
        getter, setter, column = (*spec, None, None)[:3]
        if column is not None and not _is_column(column):
            raise NaklarError(
                f"the third item of the decorator for {key!r} must be a sqlalchemy.Column "
                f"giving the computed column's type, got {type(column).__name__}"
            )
        parsed[key] = Decorator(
            getter if callable(getter) else None,
            setter if callable(setter) else None,
            column,
        )
    return parsed


def _is_column(value: Any) -> bool:
    # Only a computed column needs SQLAlchemy; reading files can start without it.
    import sqlalchemy as sa

    return isinstance(value, sa.Column)
