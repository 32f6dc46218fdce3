"""DataFrames from selected rows, with dtypes that follow the column types.

==========  =====================  ====================  =====================
column      no value missing       some values missing   ``dtype_backend=
                                                         'pyarrow'``
==========  =====================  ====================  =====================
Float       ``float64``            ``float64`` (NaN)     ``double[pyarrow]``
Integer     ``int64``              ``Int64``             ``int64[pyarrow]``
Boolean     ``bool``               ``boolean``           ``bool[pyarrow]``
DateTime    ``datetime64[us]``     ``datetime64[us]``    ``timestamp[us]``
  (UTC)     ``datetime64[us, UTC]``                      ``timestamp[us, UTC]``
Date        ``object`` (dates)     ``object`` (dates)    ``date32[day]``
Bytes       ``object`` (bytes)     ``object`` (bytes)    ``binary``
Text        ``string``             ``string``            ``string`` (Arrow)
==========  =====================  ====================  =====================

Values computed by a decorator's getter keep their column's dtype when they fit
it (a translated path is still text) and are left to pandas otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

__all__ = [
    "DtypeBackend",
    "frame_from_columns",
    "dtype_for",
    "sql_type_for",
    "check_dtype_backend",
    "narrow_nullable",
]

DtypeBackend = Literal["numpy_nullable", "pyarrow"] | None


def check_dtype_backend(dtype_backend: Any) -> None:
    """Raise ``ValueError`` unless ``dtype_backend`` is ``None``, 'numpy_nullable' or 'pyarrow'."""
    if dtype_backend not in (None, "numpy_nullable", "pyarrow"):
        raise ValueError(
            f"dtype_backend must be None, 'numpy_nullable' or 'pyarrow', got {dtype_backend!r}"
        )


def dtype_for(
    sql_type: sa.types.TypeEngine[Any], has_missing: bool, dtype_backend: DtypeBackend = None
) -> Any:
    """The pandas dtype for a column type.

    Nullable dtypes only where values are missing, unless a backend is asked for.
    ``NullType`` (values of unknown type) lets pandas infer.

    >>> dtype_for(sa.Integer(), has_missing=False), dtype_for(sa.Integer(), has_missing=True)
    ('int64', 'Int64')
    >>> dtype_for(sa.Float(), has_missing=False, dtype_backend='pyarrow')
    double[pyarrow]
    """
    if isinstance(sql_type, sa.types.NullType):
        return None
    if dtype_backend == "pyarrow":
        if not isinstance(sql_type, _ARROW_TYPED):
            # pandas' Arrow-backed string dtype survives a Parquet round trip;
            # ArrowDtype(pa.string()) comes back as this one
            return pd.StringDtype("pyarrow")
        return pd.ArrowDtype(_arrow_type(sql_type))
    nullable = has_missing or dtype_backend == "numpy_nullable"
    if isinstance(sql_type, sa.Boolean):
        return "boolean" if nullable else "bool"
    if isinstance(sql_type, sa.Integer):
        return "Int64" if nullable else "int64"
    if isinstance(sql_type, sa.Float):
        return "Float64" if dtype_backend == "numpy_nullable" else "float64"
    if isinstance(sql_type, sa.DateTime):
        return "datetime64[us, UTC]" if sql_type.timezone else "datetime64[us]"
    if isinstance(sql_type, (sa.Date, sa.LargeBinary)):
        return np.dtype(object)  # numpy has no date or bytes dtype that keeps the values
    return pd.StringDtype()


_ARROW_TYPED = (sa.Boolean, sa.Integer, sa.Float, sa.DateTime, sa.Date, sa.LargeBinary)


def _arrow_type(sql_type: sa.types.TypeEngine[Any]) -> pa.DataType:
    """The Arrow type of a Boolean, Integer, Float or DateTime column."""
    if isinstance(sql_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sa.Integer):
        return pa.int64()
    if isinstance(sql_type, sa.Float):
        return pa.float64()
    if isinstance(sql_type, sa.Date):
        return pa.date32()
    if isinstance(sql_type, sa.LargeBinary):
        return pa.binary()
    return pa.timestamp("us", tz="UTC" if sql_type.timezone else None)  # type: ignore[attr-defined]


def narrow_nullable(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer and boolean columns without missing values become ``int64`` and ``bool``.

    The dtypes :func:`frame_from_columns` gives these rows: after rows are
    selected from a larger frame, a column may have no missing value left.

    >>> narrow_nullable(pd.DataFrame({'i': pd.array([1, 2], dtype='Int64')})).dtypes.tolist()
    [dtype('int64')]
    """
    narrowed = {
        name: _NARROWER[str(series.dtype)]
        for name, series in frame.items()
        if str(series.dtype) in _NARROWER and not series.hasnans
    }
    return frame.astype(narrowed) if narrowed else frame


_NARROWER = {"Int64": "int64", "boolean": "bool"}


def sql_type_for(series: pd.Series) -> sa.types.TypeEngine[Any]:
    """The column type a frame column stands for (the inverse of :func:`dtype_for`).

    >>> sql_type_for(pd.Series([1, None], dtype='Int64'))
    BigInteger()
    """
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return sa.Boolean()
    if inferred in ("integer", "integer-na"):
        return sa.BigInteger()
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return sa.Double()
    if inferred in ("datetime64", "datetime", "date"):
        return sa.DateTime()
    if inferred == "string":
        return sa.Text()
    return sa.types.NullType()


_PYTHON_TYPES: list[tuple[type[sa.types.TypeEngine[Any]], tuple[type, ...]]] = [
    (sa.Boolean, (bool,)),
    (sa.Integer, (int,)),
    (sa.Float, (float, int)),
    (sa.DateTime, (dt.datetime,)),
    (sa.String, (str,)),
]


def _fits(values: Sequence[Any], sql_type: sa.types.TypeEngine[Any]) -> bool:
    """Whether computed values are all of the Python type the column type stores."""
    for type_class, python_types in _PYTHON_TYPES:
        if isinstance(sql_type, type_class):
            bool_ok = type_class is sa.Boolean
            return all(
                value is None
                or (isinstance(value, python_types) and (bool_ok or not isinstance(value, bool)))
                for value in values
            )
    return False


def _column(
    values: Sequence[Any], sql_type: sa.types.TypeEngine[Any], dtype_backend: DtypeBackend
) -> Any:
    """One column's values as an array of the column type's dtype, without a Python loop."""
    dtype = dtype_for(sql_type, None in values, dtype_backend)
    if dtype is None:
        # object values (a getter may return frames or arrays) stay objects
        return pd.Series(list(values), dtype=object).infer_objects().array
    if isinstance(dtype, pd.ArrowDtype):
        return pd.array(pa.array(values, type=dtype.pyarrow_dtype), dtype=dtype)
    if dtype in ("float64", "int64", "bool", np.dtype(object)):
        return np.array(values, dtype=dtype)
    if isinstance(dtype, pd.StringDtype):
        # through Arrow: several times faster than pandas' per-value string check;
        # large_string is what pandas' Arrow strings hold, so no cast follows
        return pd.array(pa.array(values, type=pa.large_string()), dtype=dtype)
    return pd.array(list(values), dtype=dtype)


def frame_from_columns(
    columns: Sequence[Sequence[Any]],
    names: Sequence[str],
    sql_types: Sequence[sa.types.TypeEngine[Any]],
    *,
    computed: Sequence[bool] | None = None,
    dtype_backend: DtypeBackend = None,
) -> pd.DataFrame:
    """Build a frame column by column, each with the dtype of its SQL type.

    Parameters
    ----------
    columns:
        The selected values, one sequence per column, rows in the database's order.
    names:
        Column names (the settings keys), in the order asked for.
    sql_types:
        Each column's SQL type.
    computed:
        Per column, whether a getter computed its values: those keep the column's
        dtype only where every value fits it.
    dtype_backend:
        ``'pyarrow'`` for Arrow-backed dtypes, ``'numpy_nullable'`` for nullable
        dtypes everywhere; ``None`` for numpy dtypes, nullable only where needed.

    >>> frame = frame_from_columns([(1, None), ('a', 'b')], ['i', 'k'], [sa.Integer(), sa.Text()])
    >>> frame.dtypes.astype(str).tolist()
    ['Int64', 'string']
    """
    check_dtype_backend(dtype_backend)
    flags = computed if computed is not None else [False] * len(names)
    data = {}
    for name, sql_type, values, is_computed in zip(names, sql_types, columns, flags, strict=True):
        if is_computed and not _fits(values, sql_type):
            sql_type = sa.types.NullType()
        data[name] = _column(values, sql_type, dtype_backend)
    return pd.DataFrame(data, columns=list(names))
