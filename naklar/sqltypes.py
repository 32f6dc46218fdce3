"""The SQL column type of each :class:`~naklar.schema.Kind`, lossless on every backend.

Kept apart from :mod:`naklar.schema` (values and kinds), which file reading
needs: reading can start before SQLAlchemy is imported.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from .schema import Kind

__all__ = ["sql_type", "UTCDateTime", "FiniteDouble"]


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC and read back as aware UTC datetimes.

    SQLite and MySQL keep no offset, so the UTC wall time is stored naive;
    PostgreSQL's ``timestamptz`` keeps the instant but answers in the session's
    time zone, so results are converted back to UTC everywhere.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        utc = value.astimezone(dt.UTC) if value.utcoffset() is not None else value
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class FiniteDouble(sa.TypeDecorator[float]):
    """MySQL/MariaDB's DOUBLE, which rejects NaN and ±inf: those are stored as NULL."""

    impl = mysql.DOUBLE
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(asdecimal=False)  # MySQL's DOUBLE would return Decimal

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None or not math.isfinite(value):
            return None
        return value


_MYSQL = ("mysql", "mariadb")


def sql_type(kind: Kind) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type that stores a kind without loss on every backend.

    The generic type (``DateTime``, ``Double``, ...) stays what callers see;
    backend quirks are handled by variants.
    """
    if kind is Kind.DATETIME:
        # MySQL's DATETIME keeps whole seconds unless asked for microseconds.
        return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
    if kind is Kind.AWARE_DATETIME:
        return sa.DateTime(timezone=True).with_variant(
            UTCDateTime(), "sqlite", "postgresql", *_MYSQL
        )
    if kind is Kind.DATE:
        return sa.Date()
    if kind is Kind.FLOAT:
        # sa.Float is single precision on MySQL; DOUBLE there rejects NaN/inf.
        return sa.Double().with_variant(FiniteDouble(), *_MYSQL)
    if kind is Kind.INTEGER:
        return sa.BigInteger()
    if kind is Kind.BOOLEAN:
        return sa.Boolean()
    if kind is Kind.BYTES:
        return sa.LargeBinary().with_variant(mysql.LONGBLOB(), *_MYSQL)
    # Text has no length limit; MySQL's TEXT stops at 64 KiB, LONGTEXT does not.
    return sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL)
