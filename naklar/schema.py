"""Turning settings values into column values, and inferring column types.

Every value is first *normalised* to a plain Python value of one :class:`Kind`:
numpy scalars become their Python counterpart, pandas/numpy timestamps become
``datetime``, and lists, tuples, sets and dicts become JSON text. A column's
type is then inferred from the kinds seen in **all** files, in the order
``[DateTime, Float, Integer, Boolean, String]``:

* ``None`` (missing) does not decide the type;
* ``int`` and ``float`` in one key widen to Float;
* ``bool`` is its own kind, never an int;
* anything else mixed falls back to String, and the values are stored as text.

Values that map onto no kind (numpy arrays, arbitrary objects) are reported as
unsupported; the caller decides to drop the key or raise.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

__all__ = [
    "Kind",
    "Unsupported",
    "normalise_value",
    "infer_column_kind",
    "coerce_to_kind",
    "sql_type",
    "KindTally",
]


class Kind(enum.Enum):
    """The kinds of column naklar infers, in the seed's order of preference."""

    DATETIME = "DateTime"
    FLOAT = "Float"
    INTEGER = "Integer"
    BOOLEAN = "Boolean"
    STRING = "String"


class Unsupported:
    """Marker returned by :func:`normalise_value` for a value with no column kind."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"Unsupported({self.type_name})"


_CONTAINERS = (list, tuple, set, frozenset, dict)


def normalise_value(value: Any) -> tuple[Kind | None, Any] | Unsupported:
    """Return ``(kind, plain_value)`` for a settings value, or :class:`Unsupported`.

    ``kind`` is ``None`` for a missing value (``None``).

    >>> normalise_value(np.float64(0.5))
    (<Kind.FLOAT: 'Float'>, 0.5)
    >>> normalise_value([1, 2])
    (<Kind.STRING: 'String'>, '[1, 2]')
    >>> normalise_value(np.zeros(3))
    Unsupported(ndarray)
    """
    if value is None:
        return None, None
    # bool first: bool is a subclass of int, but here it is its own kind.
    if isinstance(value, (bool, np.bool_)):
        return Kind.BOOLEAN, bool(value)
    if isinstance(value, (int, np.integer)):
        return Kind.INTEGER, int(value)
    if isinstance(value, (float, np.floating)):
        return Kind.FLOAT, float(value)
    if isinstance(value, str):
        return Kind.STRING, value
    if isinstance(value, dt.datetime):  # includes pandas.Timestamp
        to_pydatetime = getattr(value, "to_pydatetime", None)
        return Kind.DATETIME, to_pydatetime() if to_pydatetime else value
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None, None
        return Kind.DATETIME, _datetime64_to_python(value)
    if isinstance(value, _CONTAINERS):
        try:
            return Kind.STRING, json.dumps(_jsonable(value), ensure_ascii=False)
        except TypeError:
            return Unsupported(type(value).__name__)
    return Unsupported(type(value).__name__)


def _datetime64_to_python(value: np.datetime64) -> dt.datetime:
    microseconds = value.astype("datetime64[us]").astype(np.int64)
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(microseconds))


def _jsonable(value: Any) -> Any:
    """Containers as JSON-ready data; sets sorted so their text is deterministic."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(item) for item in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(type(value).__name__)


def infer_column_kind(kinds: Iterable[Kind]) -> Kind:
    """The column kind for a key given the kinds of its values in all files.

    >>> infer_column_kind({Kind.INTEGER, Kind.FLOAT})
    <Kind.FLOAT: 'Float'>
    >>> infer_column_kind({Kind.BOOLEAN, Kind.INTEGER})
    <Kind.STRING: 'String'>
    >>> infer_column_kind(set())
    <Kind.STRING: 'String'>
    """
    seen = set(kinds)
    if len(seen) == 1:
        return next(iter(seen))
    if seen == {Kind.INTEGER, Kind.FLOAT}:
        return Kind.FLOAT
    return Kind.STRING


def coerce_to_kind(value: Any, kind: Kind) -> Any:
    """Convert a normalised value to the Python type its column stores."""
    if value is None:
        return None
    if kind is Kind.FLOAT:
        return float(value)
    if kind is Kind.STRING and not isinstance(value, str):
        return _as_text(value)
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return str(value)


def sql_type(kind: Kind) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type that stores a kind without loss on every backend."""
    if kind is Kind.DATETIME:
        return sa.DateTime()
    if kind is Kind.FLOAT:
        return sa.Double()  # FLOAT is single precision on MySQL
    if kind is Kind.INTEGER:
        return sa.BigInteger()
    if kind is Kind.BOOLEAN:
        return sa.Boolean()
    # Text has no length limit; MySQL's TEXT stops at 64 KiB, LONGTEXT does not.
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


@dataclass
class KindTally:
    """Kinds seen per key across files, and the keys whose values are unsupported."""

    kinds: dict[str, set[Kind]] = field(default_factory=dict)
    unsupported: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, key: str, value: Any) -> tuple[Kind | None, Any] | Unsupported:
        """Normalise ``value`` and record its kind under ``key``."""
        normalised = normalise_value(value)
        if isinstance(normalised, Unsupported):
            counts = self.unsupported.setdefault(key, {})
            counts[normalised.type_name] = counts.get(normalised.type_name, 0) + 1
            return normalised
        kind = normalised[0]
        seen = self.kinds.setdefault(key, set())
        if kind is not None:
            seen.add(kind)
        return normalised

    def column_kinds(self, keys: Mapping[str, Any] | Iterable[str]) -> dict[str, Kind]:
        """Resolved kind per key, for the given keys in their order."""
        return {key: infer_column_kind(self.kinds.get(key, ())) for key in keys}

    def conflicts(self) -> dict[str, set[Kind]]:
        """Keys whose kinds could not be widened and fell back to String."""
        return {
            key: seen
            for key, seen in self.kinds.items()
            if len(seen) > 1 and infer_column_kind(seen) is Kind.STRING
        }
