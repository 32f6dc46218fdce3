"""The filter language ``select`` takes, compiled to SQLAlchemy expressions.

* positional column names (``'f1'``) or attributes (``E.f1``) choose columns;
* positional SQLAlchemy expressions (``E.f1 > 0.82``) are ANDed;
* keyword filters: a scalar means ``==`` (a string is one value), a list, tuple,
  set, range, numpy array or pandas Series/Index means ``IN``, ``None`` (or any
  missing marker: ``pd.NA``, ``pd.NaT``, NaN) means ``IS NULL``; values may be
  numpy or pandas scalars (:mod:`naklar._query.filter_values`);
* keyword lookups, Django style: ``f1__gt=0.82``, ``C__between=(1, 2)``,
  ``kernel__ne='linear'``, ``path__startswith='results/1'``,
  ``gamma__isnull=True``; see :data:`LOOKUPS`.

A keyword is split into column and lookup only when it is not a column itself:
an exact column name always wins. Otherwise it splits at its *last* ``__``, so
``'lr__max__gt'`` is the lookup ``gt`` on the column ``'lr__max'``. To compare a
column whose name ends in a lookup (``'lr__gt'``) any other way than by
equality, use an expression: ``E['lr__gt'] > 1``.

A name that is not a column raises :class:`~naklar.errors.UnknownColumnError`
listing the closest column names, never an empty result.

Every filter becomes a SQLAlchemy expression first. The database runs it as
SQL; :func:`naklar._query.masks.frame_mask` evaluates the same expression tree on a
DataFrame with SQL's three-valued logic, so missing values (``None``, ``NaN``,
``NA``) behave the same on both sides: a comparison with a missing value is
*unknown*, and neither it nor its negation selects the row
(``kernel__ne='rbf'`` does not select runs without a kernel). What the frame
side cannot evaluate (SQL functions, casts, sub-queries) raises
:class:`~naklar.errors.FilterError` naming the part, never a silently
different answer.

Where backends differ from each other the frame side follows standard SQL (as
PostgreSQL does): ``LIKE`` and ``=`` are case-sensitive. SQLite's ``LIKE`` ignores
ASCII case, and MySQL/MariaDB's default collations compare text ignoring case.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa

from .._table.model import (
    ColumnSpec,
    column_key,
    is_mapped_attribute,
    spec_for_key,
    unknown_column_message,
)
from ..errors import FilterError, UnknownColumnError
from .filter_values import is_collection, plain_list, plain_value
from .resolving import resolve_for_table

if TYPE_CHECKING:
    from sqlalchemy.orm import QueryableAttribute

__all__ = [
    "LOOKUPS",
    "Selection",
    "parse_selection",
    "split_arguments",
    "keyword_conditions",
    "is_collection",
    "column_key",
    "spec_of_attribute",
]

#: Keyword lookups: ``<key>__<lookup>=value``.
LOOKUPS = (
    "gt",
    "ge",
    "lt",
    "le",
    "ne",
    "in",
    "between",
    "startswith",
    "endswith",
    "contains",
    "like",
    "isnull",
)

ColumnFor = Callable[[str], sa.ColumnElement[Any]]


# -- parsing select's arguments ------------------------------------------------


@dataclass
class Selection:
    """A parsed ``select`` call: the columns asked for and the SQL conditions."""

    columns: list[ColumnSpec]
    conditions: list[sa.ColumnElement[bool]]


ColumnArgument: TypeAlias = "str | QueryableAttribute[Any]"


def split_arguments(
    arguments: Iterable[Any],
) -> tuple[list[ColumnArgument], list[sa.ColumnElement[bool]]]:
    """Split ``select``'s positional arguments into columns and conditions."""
    columns: list[ColumnArgument] = []
    conditions: list[sa.ColumnElement[bool]] = []
    for argument in arguments:
        if isinstance(argument, str) or is_mapped_attribute(argument):
            columns.append(argument)
        elif isinstance(argument, sa.ColumnElement):
            conditions.append(argument)
        else:
            raise FilterError(
                f"select() takes column names, E attributes and SQLAlchemy expressions; "
                f"got {argument!r} of type {type(argument).__name__}. Keyword filters go "
                f"as key=value."
            )
    return columns, conditions


def parse_selection(
    specs_by_key: Mapping[str, ColumnSpec],
    table: sa.Table,
    arguments: Iterable[Any],
    filters: Mapping[str, Any],
    dialect: str = "",
) -> Selection:
    """Parse a database ``select``: column specs, and conditions ready to run on ``dialect``.

    Conditions are resolved against ``table`` (see :mod:`naklar._query.resolving`):
    an expression built from the ``E`` of an earlier load of this table finds its
    columns in the current one.
    """
    columns, conditions = split_arguments(arguments)
    specs = [
        spec_for_key(specs_by_key, column)
        if isinstance(column, str)
        else spec_of_attribute(column, specs_by_key)
        for column in columns
    ]

    def column_for(key: str) -> sa.ColumnElement[Any]:
        return table.c[spec_for_key(specs_by_key, key).name]

    conditions += keyword_conditions(filters, specs_by_key, column_for)
    resolved = [resolve_for_table(c, table, specs_by_key, dialect) for c in conditions]
    return Selection(specs, resolved)


def spec_of_attribute(
    attribute: QueryableAttribute[Any], current: Mapping[str, ColumnSpec] | None = None
) -> ColumnSpec:
    """The column spec behind ``E.f1`` (or a decorated key's attribute).

    With ``current`` (the specs of the table selected from), an attribute of an
    ``E`` taken before the tree was loaded again names the current column of its key.
    """
    specs: Mapping[str, ColumnSpec] = getattr(attribute.class_, "_naklar_columns", {})
    # a decorator's hybrid hands out a proxy whose .key is a sentinel; the mapped
    # property behind it names the stored attribute
    key = attribute.prop.key
    for spec in specs.values():
        if key in (spec.attribute, spec.stored_attribute):
            if current is None or current.get(spec.key) is spec:
                return spec
            if spec.key in current:
                return current[spec.key]
            raise UnknownColumnError(
                f"{spec.key!r} is a column of the table as it was before the tree was "
                f"loaded again, and the new table has none: "
                f"{unknown_column_message(spec.key, dict(current))}. Use the current E "
                f"(experiment.E or store.E)"
            )
    raise UnknownColumnError(
        f"{attribute!r} is not a column of this store's table; use the E of the store "
        f"you select from"
    )


# -- keyword filters and lookups -------------------------------------------------


def keyword_conditions(
    filters: Mapping[str, Any], keys: Collection[str], column_for: ColumnFor
) -> list[sa.ColumnElement[bool]]:
    """Compile keyword filters to SQLAlchemy conditions on ``column_for(key)``.

    ``keys`` are the known column keys: they decide whether a keyword is a column
    (exact names win) or a ``<key>__<lookup>``.

    >>> columns = {'C': sa.column('C', sa.Float), 'kernel': sa.column('kernel', sa.Text)}
    >>> [str(c) for c in keyword_conditions({'C__ge': 1, 'kernel': 'rbf'}, columns,
    ...                                     columns.__getitem__)]
    ['"C" >= :C_1', 'kernel = :kernel_1']
    """
    conditions = []
    for keyword, value in filters.items():
        key, lookup = split_lookup(keyword, keys)
        conditions.append(lookup_condition(column_for(key), key, lookup, value))
    return conditions


def split_lookup(keyword: str, keys: Collection[str]) -> tuple[str, str | None]:
    """``'f1__gt'`` -> ``('f1', 'gt')``; a keyword that is a column is never split.

    >>> split_lookup('f1__gt', ['f1']), split_lookup('lr__gt', ['lr__gt', 'lr'])
    (('f1', 'gt'), ('lr__gt', None))
    """
    if keyword in keys or "__" not in keyword:
        return keyword, None
    key, lookup = keyword.rsplit("__", 1)
    if lookup not in LOOKUPS:
        dotted = column_for_keyword(keyword, keys)
        if dotted is not None:
            return dotted, None
        raise UnknownColumnError(
            f"{unknown_column_message(keyword, list(keys))}. Nor is {lookup!r} a lookup: "
            f"use one of {', '.join(LOOKUPS)}"
        )
    if key not in keys:
        dotted = column_for_keyword(key, keys)
        if dotted is None:
            raise UnknownColumnError(unknown_column_message(key, list(keys)))
        key = dotted
    return key, lookup


def column_for_keyword(name: str, keys: Collection[str]) -> str | None:
    """The column a keyword's name means: itself, else with ``__`` read as ``.``.

    Keywords cannot hold dots, so flattened columns (``model.kernel``) are
    reached with ``__``: ``model__kernel='rbf'``. The rule: a trailing
    ``__<lookup>`` is split off first (by :func:`split_lookup`); the rest names
    a column as spelled if there is one, else the dotted column it spells.

    >>> column_for_keyword('model__kernel', ['model.kernel']), column_for_keyword('x__y', ['x'])
    ('model.kernel', None)
    """
    if name in keys:
        return name
    dotted = name.replace("__", ".")
    return dotted if dotted in keys else None


def lookup_condition(
    column: sa.ColumnElement[Any], key: str, lookup: str | None, value: Any
) -> sa.ColumnElement[bool]:
    """The condition ``<key>__<lookup>=value`` (``lookup=None``: equality or IN).

    Values may be Python, numpy or pandas scalars (see
    :mod:`naklar._query.filter_values`); missing markers mean ``None``.
    """
    where = f"{key}__{lookup}" if lookup else key
    if lookup is None:
        return _equality(column, value)
    if lookup == "isnull":
        value = plain_value(value)
        if not isinstance(value, bool):
            raise FilterError(f"{where}= takes True or False, got {value!r}")
        return column.is_(None) if value else column.is_not(None)
    if lookup == "in":
        if not is_collection(value):
            raise FilterError(f"{where}= takes a list of values, got {value!r}")
        return column.in_(plain_list(value))
    if lookup == "between":
        if not is_collection(value) or len(plain_list(value)) != 2:
            raise FilterError(f"{where}= takes a pair (low, high), got {value!r}")
        low, high = plain_list(value)
        _check_ordered_text(column, key, lookup, [low, high])
        return column.between(_bound(column, low), _bound(column, high))
    plain = plain_value(value)
    if plain is None or is_collection(value):
        raise FilterError(
            f"{where}= takes one value, got {value!r}; use {key}__isnull=True for "
            f"missing values and {key}__in=[...] for several"
        )
    if lookup in _COMPARISONS:
        if lookup != "ne":
            _check_ordered_text(column, key, lookup, [plain])
        condition: sa.ColumnElement[bool] = _COMPARISONS[lookup](column, _bound(column, plain))
        return condition
    return _text_condition(column, where, lookup, plain)


def _bound(column: sa.ColumnElement[Any], value: Any) -> Any:
    """``value`` as a comparison operand: booleans bound as values of the column's type.

    SQLAlchemy refuses ``flag > False`` (it renders True/False as ``IS``); a bound
    parameter compares as every backend and pandas order booleans, false first.
    """
    if isinstance(value, bool):
        return sa.literal(value, column.type)
    return value


def _check_ordered_text(
    column: sa.ColumnElement[Any], key: str, lookup: str, values: list[Any]
) -> None:
    """Refuse ordering a text column by numbers: SQL would compare them as text."""
    numbers = [
        value for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    if numbers and isinstance(column.type, sa.String):
        raise FilterError(
            f"{key}__{lookup}={numbers[0]!r} orders the column {key!r}, which holds text "
            f"({column.type!r}), by a number: the database would compare them as text "
            f"('10' < '9'). Compare with a string ({key}__{lookup}={str(numbers[0])!r}), or "
            f"make the values numbers in load_func= so the column is numeric"
        )


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "ne": operator.ne,
}


def _text_condition(
    column: sa.ColumnElement[Any], where: str, lookup: str, value: Any
) -> sa.ColumnElement[bool]:
    if not isinstance(column.type, sa.String):
        raise FilterError(f"{where}= needs a text column; this column holds {column.type!r}")
    if not isinstance(value, str):
        raise FilterError(f"{where}= takes a string, got {value!r}")
    if lookup == "like":
        return column.like(value)
    # autoescape: '%' and '_' in the value are literal characters, not wildcards
    method = getattr(column, lookup)
    return method(value, autoescape=True)


def _equality(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    if is_collection(value):
        return column.in_(plain_list(value))
    plain = plain_value(value)
    if plain is None:
        return column.is_(None)
    return column == plain
