"""The filter language ``select`` takes, compiled to SQL.

* positional column names (``'f1'``) or attributes (``E.f1``) choose columns;
* positional SQLAlchemy expressions (``E.f1 > 0.82``) are ANDed;
* keyword filters: a scalar means ``==`` (a string is one value), a list, tuple,
  set or range means ``IN``, ``None`` means ``IS NULL``.

A name that is not a column raises :class:`~naklar.errors.UnknownColumnError`
listing the closest column names, never an empty result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from .errors import FilterError, UnknownColumnError
from .model import ColumnSpec, Experiment

__all__ = ["Selection", "parse_selection", "is_collection"]


def is_collection(value: Any) -> bool:
    """Whether a filter value means "any of these" (``IN``) rather than one value."""
    return isinstance(value, (list, tuple, set, frozenset, range, np.ndarray)) or (
        hasattr(value, "tolist") and hasattr(value, "dtype")  # pandas Series / Index
    )


class Selection:
    """A parsed ``select`` call: the columns asked for and the SQL conditions."""

    def __init__(self, columns: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]) -> None:
        self.columns = columns
        self.conditions = conditions


def parse_selection(
    model: type[Experiment],
    table: sa.Table,
    arguments: Iterable[Any],
    filters: Mapping[str, Any],
) -> Selection:
    """Split positional arguments into columns and conditions; compile kwargs."""
    columns: list[ColumnSpec] = []
    conditions: list[sa.ColumnElement[bool]] = []
    for argument in arguments:
        if isinstance(argument, str):
            columns.append(model._naklar_spec(argument))
        elif isinstance(argument, QueryableAttribute):
            columns.append(_spec_of_attribute(model, argument))
        elif isinstance(argument, sa.ColumnElement):
            conditions.append(argument)
        else:
            raise FilterError(
                f"select() takes column names, E attributes and SQLAlchemy expressions; "
                f"got {argument!r} of type {type(argument).__name__}. Keyword filters go "
                f"as key=value."
            )
    for key, value in filters.items():
        column = table.c[model._naklar_spec(key).name]
        conditions.append(_equals(column, value))
    return Selection(columns, conditions)


def _equals(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    if value is None:
        return column.is_(None)
    if is_collection(value):
        values = list(value.tolist() if hasattr(value, "tolist") else value)
        return column.in_(values)
    return column == value


def _spec_of_attribute(model: type[Experiment], attribute: QueryableAttribute[Any]) -> ColumnSpec:
    # a decorator's hybrid hands out a proxy whose .key is a sentinel; the mapped
    # property behind it names the stored attribute
    key = attribute.prop.key
    for spec in model._naklar_columns.values():
        if key in (spec.attribute, spec.stored_attribute):
            return spec
    raise UnknownColumnError(
        f"{attribute!r} is not a column of this store's table; use the E of the store "
        f"you select from"
    )
