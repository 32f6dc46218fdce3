"""Filter values as users hold them: Python, numpy and pandas scalars alike.

A value taken from a frame (``df.loc[i, 'C']`` is an ``np.float64``,
``df.kernel.iloc[0]`` may be an ``np.str_``, a missing one ``pd.NA``) means
what the Python value means. :func:`plain_value` turns any such scalar into
the Python value database drivers and comparisons expect, and every missing
marker (``None``, ``pd.NA``, ``pd.NaT``, ``float('nan')``, ``np.datetime64('NaT')``)
into ``None``, which filters read as ``IS NULL``.

:func:`is_collection` decides "any of these" (``IN``) versus one value: lists,
tuples, sets, ranges, numpy arrays and pandas Series/Index are collections;
strings (``np.str_`` too), bytes and numpy scalars are single values.

pandas is never imported here: a value can only be a pandas object when the
user's process has imported pandas already.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from typing import Any

import numpy as np

__all__ = ["is_missing", "plain_value", "is_collection", "plain_list"]


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing marker: ``None``, NaN, ``pd.NA``, ``pd.NaT``, NaT.

    >>> is_missing(None), is_missing(float('nan')), is_missing(np.float64('nan')), is_missing(0)
    (True, True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, float):  # np.float64 is a float too
        return math.isnan(value)
    if isinstance(value, (np.floating, np.datetime64, np.timedelta64)):
        return bool(np.isnan(value))
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def plain_value(value: Any) -> Any:
    """One filter value as a plain Python value; a missing marker as ``None``.

    >>> plain_value(np.int64(3)), plain_value(np.str_('rbf')), plain_value(np.bool_(True))
    (3, 'rbf', True)
    >>> plain_value(np.datetime64('2015-10-21T12:00'))
    datetime.datetime(2015, 10, 21, 12, 0)
    >>> plain_value(float('nan')) is None
    True
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        return str(value)  # np.str_ is a str subclass drivers may not know
    if isinstance(value, np.datetime64):
        return _datetime(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime) and type(value) is not dt.datetime:
        return _datetime(value)  # pd.Timestamp
    return value


def _datetime(value: Any) -> dt.datetime:
    """A numpy or pandas timestamp as a ``datetime`` (to the microsecond)."""
    if isinstance(value, np.datetime64):
        microseconds = value.astype("datetime64[us]").astype(np.int64)
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(microseconds))
    converted: dt.datetime = value.to_pydatetime(warn=False)
    return converted


def is_collection(value: Any) -> bool:
    """Whether a filter value means "any of these" (``IN``) rather than one value.

    >>> is_collection([1, 2]), is_collection(range(3)), is_collection('rbf')
    (True, True, False)
    >>> is_collection(np.array([1, 2])), is_collection(np.float64(1)), is_collection(b'ab')
    (True, False, False)
    """
    if isinstance(value, (list, tuple, set, frozenset, range)):
        return True
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(
        value, (pandas.Series, pandas.Index, pandas.api.extensions.ExtensionArray)
    )


def plain_list(values: Any) -> list[Any]:
    """The items of a collection as plain values (:func:`plain_value`).

    >>> plain_list(np.array([1, 2])), plain_list((np.str_('a'), float('nan')))
    ([1, 2], ['a', None])
    """
    return [plain_value(value) for value in values]
