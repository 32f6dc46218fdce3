"""Turning settings values into column values, and inferring column types.

Every value is first *normalised* to a plain Python value of one :class:`Kind`,
then a column's type is inferred from the kinds seen in **all** files, in the
order ``[DateTime, Float, Integer, Boolean, String]`` (plus the kinds naklar
adds: aware DateTime, Date, Bytes):

* ``None`` (missing) does not decide the type;
* ``int`` and ``float`` in one key widen to Float;
* ``bool`` is its own kind, never an int;
* anything else mixed falls back to String, and the values are stored as text
  (the load warns, naming the key and the kinds seen).

How values are stored, and where they change form
-------------------------------------------------

=============================  ==============================================
value                          stored as / read back as
=============================  ==============================================
``bool``, ``numpy.bool_``      Boolean: ``True`` / ``False``
``int``, ``numpy`` integers    Integer (64 bit): the same int
int beyond 64 bits             **text**: ``str(value)`` (the load warns)
``float``, ``numpy`` floats    Float (64-bit double): the same float, to the
                               last bit; ``float32`` reads back as the double
                               of the same value
NaN, ``inf``, ``-inf``         PostgreSQL keeps them; SQLite stores NaN as
                               NULL (inf is kept); MySQL/MariaDB store NaN and
                               ±inf as NULL. The load warns where a backend
                               loses them, naming the key.
``str``                        String, any length (LONGTEXT on MySQL)
naive ``datetime``,            DateTime (microseconds): a naive datetime;
``pandas.Timestamp``,          nanoseconds are cut to microseconds
``numpy.datetime64``
aware ``datetime``             DateTime in UTC: an aware datetime in UTC
                               (the same instant)
aware and naive in one key     text (ISO 8601), with the mixed-types warning
``datetime.date``              Date: the same date
``Decimal``                    **text**: ``str(value)``, so no digit is lost
                               (the load warns); convert in ``load_func``
                               for a Float column
``bytes``, ``bytearray``       Bytes (BLOB / bytea / LONGBLOB): ``bytes``
list, tuple, set, dict         **JSON text** (sets sorted, dict keys as
                               strings, NaN as ``NaN``, dates as ISO text)
numpy array, other objects     no column: the key is left out (warning) or
                               the load stops (``on_unsupported='raise'``)
=============================  ==============================================

A value stored in a text column because its key holds mixed kinds is written
as: ``str()`` for numbers and bools (``repr`` precision for floats), ISO 8601
for dates and datetimes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Kind",
    "Unsupported",
    "normalise_value",
    "changed_form",
    "infer_column_kind",
    "coerce_to_kind",
    "KindTally",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
BIG_INT_NOTE = "integers beyond 64 bits are stored as text"
DECIMAL_NOTE = "Decimal values are stored as text"


class Kind(enum.Enum):
    """The kinds of column naklar infers, in the seed's order of preference."""

    DATETIME = "DateTime"
    AWARE_DATETIME = "DateTime(UTC)"
    DATE = "Date"
    FLOAT = "Float"
    INTEGER = "Integer"
    BOOLEAN = "Boolean"
    BYTES = "Bytes"
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

    ``kind`` is ``None`` for a missing value (``None``, ``NaT``).

    >>> import numpy as np
    >>> normalise_value(np.float64(0.5))
    (<Kind.FLOAT: 'Float'>, 0.5)
    >>> normalise_value([1, 2])
    (<Kind.STRING: 'String'>, '[1, 2]')
    >>> normalise_value(2**64)
    (<Kind.STRING: 'String'>, '18446744073709551616')
    >>> normalise_value(np.zeros(3))
    Unsupported(ndarray)
    """
    value = python_scalar(value)
    if value is None:
        return None, None
    # bool first: bool is a subclass of int, but here it is its own kind.
    if isinstance(value, bool):
        return Kind.BOOLEAN, value
    if isinstance(value, int):
        return _normalise_int(int(value))
    if isinstance(value, float):
        return Kind.FLOAT, float(value)
    if isinstance(value, str):
        return Kind.STRING, str(value)  # str() turns numpy.str_ into str
    if isinstance(value, dt.date):
        return _normalise_temporal(value)
    if isinstance(value, decimal.Decimal):
        return Kind.STRING, str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Kind.BYTES, bytes(value)
    if isinstance(value, _CONTAINERS):
        try:
            return Kind.STRING, json.dumps(_jsonable(value), ensure_ascii=False)
        except TypeError:
            return Unsupported(type(value).__name__)
    return Unsupported(type(value).__name__)


def python_scalar(value: Any) -> Any:
    """A numpy boolean, integer, float or datetime64 as the Python value it holds.

    Anything else comes back as it is (``numpy.str_`` is a ``str`` already).
    ``NaT`` becomes ``None``. numpy is not imported for this: no value can be
    a numpy object before numpy is, and reading JSON needs no numpy at all.
    """
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(value, numpy.generic):
        return value
    if isinstance(value, numpy.bool_):
        return bool(value)
    if isinstance(value, numpy.integer):
        return int(value)
    if isinstance(value, numpy.floating):
        return float(value)
    if isinstance(value, numpy.datetime64):
        return None if numpy.isnat(value) else _datetime64_to_python(value)
    return value


def _normalise_int(value: int) -> tuple[Kind, Any]:
    if INT64_MIN <= value <= INT64_MAX:
        return Kind.INTEGER, value
    return Kind.STRING, str(value)  # no SQL integer type holds it


def _normalise_temporal(value: dt.date) -> tuple[Kind | None, Any]:
    if not isinstance(value, dt.datetime):
        return Kind.DATE, dt.date(value.year, value.month, value.day)
    if value != value:  # pandas.NaT is a datetime that equals nothing
        return None, None
    to_pydatetime = getattr(value, "to_pydatetime", None)  # pandas.Timestamp
    plain: dt.datetime = to_pydatetime() if to_pydatetime else value
    if plain.utcoffset() is None:
        return Kind.DATETIME, plain
    return Kind.AWARE_DATETIME, plain.astimezone(dt.UTC)


def _datetime64_to_python(value: np.datetime64) -> dt.datetime:
    microseconds = value.astype("datetime64[us]").astype("int64")
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(microseconds))


def changed_form(value: Any) -> str | None:
    """Why a value is stored in another form than a column of its own type, if it is.

    >>> changed_form(2**70)
    'integers beyond 64 bits are stored as text'
    >>> changed_form(3) is None
    True
    """
    if isinstance(value, decimal.Decimal):
        return DECIMAL_NOTE
    value = python_scalar(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            return BIG_INT_NOTE
    return None


def _jsonable(value: Any) -> Any:
    """Containers as JSON-ready data; sets sorted so their text is deterministic."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(item) for item in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    value = python_scalar(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
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
    """Convert a normalised value to the Python type its column stores.

    >>> coerce_to_kind(3, Kind.FLOAT)
    3.0
    >>> coerce_to_kind(dt.date(2015, 10, 21), Kind.STRING)
    '2015-10-21'
    """
    if value is None:
        return None
    if kind is Kind.FLOAT:
        return float(value)
    if kind is Kind.STRING and not isinstance(value, str):
        return _as_text(value)
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    return str(value)


#: Which backends lose which non-finite floats (NaN or inf) in a Float column.
NON_FINITE_LOST_BY: dict[str, frozenset[str]] = {
    "sqlite": frozenset({"NaN"}),
    "mysql": frozenset({"NaN", "inf", "-inf"}),
    "mariadb": frozenset({"NaN", "inf", "-inf"}),
}


def non_finite_name(value: float) -> str:
    """``'NaN'``, ``'inf'`` or ``'-inf'``."""
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


@dataclass
class KindTally:
    """Kinds seen per key across files, and what the load must report about values.

    ``unsupported``: key -> type name -> files; ``notes``: key -> why values
    changed form; ``non_finite``: key -> ``'NaN'``/``'inf'``/``'-inf'`` -> count.
    """

    kinds: dict[str, set[Kind]] = field(default_factory=dict)
    unsupported: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: dict[str, set[str]] = field(default_factory=dict)
    non_finite: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, key: str, value: Any) -> tuple[Kind | None, Any] | Unsupported:
        """Normalise ``value`` and record its kind under ``key``."""
        normalised = normalise_value(value)
        if isinstance(normalised, Unsupported):
            self.count_unsupported(key, normalised.type_name)
            return normalised
        kind, plain = normalised
        seen = self.kinds.setdefault(key, set())
        if kind is None:
            return normalised
        seen.add(kind)
        if kind is Kind.FLOAT and not math.isfinite(plain):
            counts = self.non_finite.setdefault(key, {})
            name = non_finite_name(plain)
            counts[name] = counts.get(name, 0) + 1
        elif kind is Kind.STRING:
            note = changed_form(value)
            if note is not None:
                self.notes.setdefault(key, set()).add(note)
        return normalised

    def count_unsupported(self, key: str, type_name: str) -> None:
        """Record one value of ``key`` that maps onto no column type."""
        counts = self.unsupported.setdefault(key, {})
        counts[type_name] = counts.get(type_name, 0) + 1

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

    def rename(self, key: str, new_key: str) -> None:
        """Record everything seen under ``key`` as seen under ``new_key``."""
        _move(self.kinds, key, new_key)
        _move(self.unsupported, key, new_key)
        _move(self.notes, key, new_key)
        _move(self.non_finite, key, new_key)


def _move(mapping: dict[str, Any], key: str, new_key: str) -> None:
    if key in mapping:
        mapping[new_key] = mapping.pop(key)
