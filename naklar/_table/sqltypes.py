"""The SQL column type of each :class:`~naklar._read.values.Kind`, lossless on every backend.

Kept apart from :mod:`naklar._read.values` (values and kinds), which file reading
needs: reading can start before SQLAlchemy is imported.

MySQL and MariaDB need their own types (``LONGTEXT``, ``DATETIME(6)``, ...).
Those are variants made by SQLAlchemy's mysql dialect, which is imported only
when such a database first compiles or binds one, so that a SQLite load does
not pay for importing it and tearing it down at exit.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa

from .._read.values import Kind

__all__ = ["sql_type", "long_text", "path_text", "MYSQL_DIALECTS", "UTCDateTime", "FiniteDouble"]

#: The dialect names that need MySQL's own types and table options.
MYSQL_DIALECTS = ("mysql", "mariadb")


def _mysql_types() -> Any:
    from sqlalchemy.dialects import mysql

    return mysql


def _microsecond_datetime(dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
    """MySQL's ``DATETIME(6)``: its plain DATETIME keeps whole seconds only."""
    return dialect.type_descriptor(_mysql_types().DATETIME(fsp=6))


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC and read back as aware UTC datetimes.

    SQLite and MySQL keep no offset, so the UTC wall time is stored naive;
    PostgreSQL's ``timestamptz`` keeps the instant but answers in the session's
    time zone, so results are converted back to UTC everywhere.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in MYSQL_DIALECTS:
            return _microsecond_datetime(dialect)
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

    impl = sa.Double
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        # asdecimal=False: MySQL's DOUBLE would return Decimal
        return dialect.type_descriptor(_mysql_types().DOUBLE(asdecimal=False))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None or not math.isfinite(value):
            return None
        return value


class _MySQLDateTime(sa.TypeDecorator[dt.datetime]):
    """MySQL's ``DATETIME(6)``, made when a MySQL dialect first needs it."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return _microsecond_datetime(dialect)


class _LongText(sa.TypeDecorator[str]):
    """MySQL's ``LONGTEXT``: its TEXT stops at 64 KiB."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(_mysql_types().LONGTEXT())


class _LongBlob(sa.TypeDecorator[bytes]):
    """MySQL's ``LONGBLOB``: its BLOB stops at 64 KiB."""

    impl = sa.LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(_mysql_types().LONGBLOB())


def long_text() -> sa.types.TypeEngine[str]:
    """Text without a length limit on every backend."""
    return sa.Text().with_variant(_LongText(), *MYSQL_DIALECTS)


class _BinaryLongText(sa.TypeDecorator[str]):
    """MySQL's ``LONGTEXT`` compared byte for byte, for a key that must tell ``A`` from ``a``."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(_mysql_types().LONGTEXT(collation="utf8mb4_bin"))


def path_text() -> sa.types.TypeEngine[str]:
    """Text for a unique path: on MySQL and MariaDB compared by bytes, not by their collation.

    A unique key on it needs MariaDB 10.4 or later (it keys long text by a hash).
    """
    return sa.Text().with_variant(_BinaryLongText(), *MYSQL_DIALECTS)


def sql_type(kind: Kind) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type that stores a kind without loss on every backend.

    The generic type (``DateTime``, ``Double``, ...) stays what callers see;
    backend quirks are handled by variants.
    """
    if kind is Kind.DATETIME:
        # MySQL's DATETIME keeps whole seconds unless asked for microseconds.
        return sa.DateTime().with_variant(_MySQLDateTime(), *MYSQL_DIALECTS)
    if kind is Kind.AWARE_DATETIME:
        return sa.DateTime(timezone=True).with_variant(
            UTCDateTime(), "sqlite", "postgresql", *MYSQL_DIALECTS
        )
    if kind is Kind.DATE:
        return sa.Date()
    if kind is Kind.FLOAT:
        # sa.Float is single precision on MySQL; DOUBLE there rejects NaN/inf.
        return sa.Double().with_variant(FiniteDouble(), *MYSQL_DIALECTS)
    if kind is Kind.INTEGER:
        return sa.BigInteger()
    if kind is Kind.BOOLEAN:
        return sa.Boolean()
    if kind is Kind.BYTES:
        return sa.LargeBinary().with_variant(_LongBlob(), *MYSQL_DIALECTS)
    return long_text()
