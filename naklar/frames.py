"""DataFrames from selected rows, with dtypes that follow the column types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

__all__ = ["frame_from_rows", "dtype_for"]


def dtype_for(sql_type: sa.types.TypeEngine[Any], has_missing: bool) -> Any:
    """The pandas dtype for a column type; nullable dtypes only where values are missing.

    ``NullType`` (values a getter computed, of unknown type) lets pandas infer.
    """
    if isinstance(sql_type, sa.types.NullType):
        return None
    if isinstance(sql_type, sa.Boolean):
        return "boolean" if has_missing else "bool"
    if isinstance(sql_type, sa.Integer):
        return "Int64" if has_missing else "int64"
    if isinstance(sql_type, sa.Float):
        return "float64"
    if isinstance(sql_type, sa.DateTime):
        return "datetime64[us]"
    return pd.StringDtype()


def frame_from_rows(
    rows: Sequence[Sequence[Any]],
    names: Sequence[str],
    sql_types: Sequence[sa.types.TypeEngine[Any]],
) -> pd.DataFrame:
    """Build a frame column by column, each with the dtype of its SQL type."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data = {}
    for name, sql_type, values in zip(names, sql_types, columns, strict=True):
        has_missing = any(value is None for value in values)
        data[name] = pd.Series(list(values), dtype=dtype_for(sql_type, has_missing))
    return pd.DataFrame(data, columns=list(names))
