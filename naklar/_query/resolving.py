"""Filter expressions made ready to run: plain values, the current table, one answer per backend.

Users build expressions from values they hold and from an ``E`` they took at
some point. Before an expression runs, :func:`resolve_condition` rewrites it:

* bound values become plain Python values (:func:`~naklar._query.filter_values.plain_value`),
  and ``column == <missing>`` (``pd.NA``, NaN, ``pd.NaT``) means ``IS NULL``, as
  ``== None`` does;
* ordering a text column by a number is refused with
  :class:`~naklar.errors.FilterError` (the database would compare text);

and, against a store's table (:func:`resolve_for_table`):

* columns of an earlier load of the same table (an ``E`` taken before the load
  cell ran again) are the current table's columns with the same key; a key the
  current table lacks raises :class:`~naklar.errors.UnknownColumnError` saying so;
* on PostgreSQL, where NaN is a float value greater than every number, a float
  column's NaN reads as NULL, as it does on the frame side and on the backends
  that store NaN as NULL (SQLite, MariaDB);
* on MySQL and MariaDB, which bind ``±inf`` as NULL, a comparison with an infinite
  bound is rewritten to the finite comparison that selects the same rows (their
  tables hold no infinities: they store them as NULL); and text columns are
  compared as bytes, since their collations ignore trailing spaces
  (``'a' = 'a '``), which Python and the other backends do not.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.visitors import replacement_traverse

from .._table.model import ColumnSpec, column_key, unknown_column_message
from .._table.sqltypes import MYSQL_DIALECTS
from ..errors import FilterError, UnknownColumnError
from .filter_values import is_collection, plain_list, plain_value

__all__ = ["resolve_condition", "resolve_for_table"]

_ORDERING = {operators.lt, operators.le, operators.gt, operators.ge, operators.between_op}
_ORDERING |= {operators.not_between_op}
_EQUALITY = {operators.eq: True, operators.ne: False}
#: The largest finite double: ``x < inf`` is ``x <= LARGEST`` for every finite x.
_LARGEST = sys.float_info.max

Replace = Callable[[Any], Any]


def resolve_condition(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """``condition`` with plain values, missing values as ``IS NULL``, checked kinds.

    >>> import numpy as np
    >>> str(resolve_condition(sa.column('C') == float('nan')))
    '"C" IS NULL'
    """
    return _Resolver().resolve(condition)


def resolve_for_table(
    condition: sa.ColumnElement[bool],
    table: sa.Table,
    specs: Mapping[str, ColumnSpec],
    dialect: str,
) -> sa.ColumnElement[bool]:
    """:func:`resolve_condition` against ``table`` of a store on ``dialect`` (its name)."""
    return _Resolver(table, specs, dialect).resolve(condition)


class _Resolver:
    def __init__(
        self,
        table: sa.Table | None = None,
        specs: Mapping[str, ColumnSpec] | None = None,
        dialect: str = "",
    ) -> None:
        self.table = table
        self.specs = specs or {}
        self.nan_is_value = dialect == "postgresql"
        self.inf_is_null = dialect in MYSQL_DIALECTS
        self.text_pads = dialect in MYSQL_DIALECTS

    def resolve(self, condition: Any) -> Any:
        options: dict[str, Any] = {}
        return replacement_traverse(condition, options, self.replace)

    def replace(self, element: Any, **keywords: Any) -> Any:
        if isinstance(element, sa.BindParameter):
            return _plain_bind(element)
        if isinstance(element, sa.BinaryExpression):
            return self.binary(element)
        if isinstance(element, sa.Column):
            return self.column(element)
        return None

    def binary(self, node: sa.BinaryExpression[Any]) -> Any:
        op, right = node.operator, _bind_of(node.right)
        if op in _EQUALITY and right is not None and plain_value(right.effective_value) is None:
            left = self.resolve(node.left)
            return left.is_(None) if _EQUALITY[op] else left.is_not(None)
        if op in _ORDERING:
            _check_ordered_text(node)
        if self.inf_is_null and _holds_infinity(node):
            return self.finite_comparison(node)
        if op in (operators.in_op, operators.not_in_op) and right is not None:
            return self.membership(node, right)
        return None

    def membership(self, node: sa.BinaryExpression[Any], right: sa.BindParameter[Any]) -> Any:
        """``IN`` with plain values bound as the column's type.

        SQLAlchemy types a list by its first value when that is a float (``[nan, 'a']``
        would bind ``'a'`` as a float).
        """
        if right.callable is not None or not right.expanding:
            return None
        left = self.resolve(node.left)
        values = plain_list(right.effective_value or [])
        bound = sa.bindparam(None, values, expanding=True, type_=left.type)
        return left.in_(bound) if node.operator is operators.in_op else left.not_in(bound)

    def column(self, column: sa.Column[Any]) -> Any:
        if self.table is None or not isinstance(column.table, sa.Table):
            return None
        current = column
        if column.table is not self.table and column.table.name == self.table.name:
            current = self.current_column(column)
        if current.table is self.table:
            if self.nan_is_value and isinstance(current.type, sa.Float):
                nan = sa.literal(math.nan, current.type)
                return sa.type_coerce(sa.func.nullif(current, nan), current.type)
            if self.text_pads and isinstance(current.type, sa.String):
                # compared as bytes: no padding, code-point order, case kept
                return sa.type_coerce(sa.cast(current, sa.LargeBinary), current.type)
        return current if current is not column else None

    def current_column(self, column: sa.Column[Any]) -> sa.Column[Any]:
        """The current table's column for a column of an earlier load of the same table."""
        assert self.table is not None
        key = column_key(column)
        spec = self.specs.get(key)
        if spec is None:
            raise UnknownColumnError(
                f"the filter uses the column {key!r} of {self.table.name!r} as it was before "
                f"the tree was loaded again, and the new table has no such column: "
                f"{unknown_column_message(key, dict(self.specs))}. Build the expression "
                f"again from the current E (experiment.E or store.E)"
            )
        return self.table.c[spec.name]

    def finite_comparison(self, node: sa.BinaryExpression[Any]) -> Any:
        """The comparison with an infinite bound as finite SQL selecting the same rows."""
        left, op = self.resolve(node.left), node.operator
        if op in (operators.between_op, operators.not_between_op):
            low, high = (_value(bound) for bound in _operands(node.right))
            both = sa.and_(_finite(left, operators.ge, low), _finite(left, operators.le, high))
            # grouped: the replacement sits where one comparison sat, maybe inside AND/OR
            return both.self_group() if op is operators.between_op else sa.not_(both)
        bind = _bind_of(node.right)
        assert bind is not None
        if op in (operators.in_op, operators.not_in_op):
            values = plain_list(bind.effective_value or [])
            finite = [value for value in values if not _is_infinite(value)]
            parts = [left.in_(finite)] if finite else []
            parts += [_finite(left, operators.eq, value) for value in values if _is_infinite(value)]
            either = sa.or_(*parts)
            return either.self_group() if op is operators.in_op else sa.not_(either)
        return _finite(left, op, bind.effective_value)


def _finite(left: Any, op: Any, value: Any) -> Any:
    """``left <op> value`` where ``value`` may be ±inf and ``left`` is never infinite."""
    if not _is_infinite(value):
        return op(left, value)
    if value > 0:  # x < inf and x <= inf: x is finite; x > inf, x >= inf, x = inf: never
        below = {operators.lt, operators.le, operators.ne}
        return left <= _LARGEST if op in below else left > _LARGEST
    above = {operators.gt, operators.ge, operators.ne}
    return left >= -_LARGEST if op in above else left < -_LARGEST


def _value(node: Any) -> Any:
    """A bound's value, or the bound itself when it is an expression."""
    bind = _bind_of(node)
    return plain_value(bind.effective_value) if bind is not None else node


def _holds_infinity(node: sa.BinaryExpression[Any]) -> bool:
    for bind in map(_bind_of, _operands(node.right)):
        if bind is None:
            continue
        value = bind.effective_value
        values = plain_list(value) if is_collection(value) else [plain_value(value)]
        if any(map(_is_infinite, values)):
            return True
    return False


def _operands(right: Any) -> list[Any]:
    """The right side of a comparison, or BETWEEN's two bounds."""
    return list(right.clauses) if hasattr(right, "clauses") else [right]


def _is_infinite(value: Any) -> bool:
    return isinstance(value, float) and math.isinf(value)


def _bind_of(node: Any) -> sa.BindParameter[Any] | None:
    while isinstance(node, sa.sql.elements.Grouping):
        node = node.element
    return node if isinstance(node, sa.BindParameter) else None


def _plain_bind(bind: sa.BindParameter[Any]) -> sa.BindParameter[Any] | None:
    if bind.callable is not None:
        return None
    value = bind.effective_value
    plain = plain_list(value) if is_collection(value) else plain_value(value)
    if _same(plain, value):
        return None
    return bind._with_value(plain, maintain_key=True)


def _same(plain: Any, value: Any) -> bool:
    if isinstance(plain, list):
        return isinstance(value, list) and all(
            a is b or (type(a) is type(b) and a == b) for a, b in zip(plain, value, strict=True)
        )
    return plain is value or (type(plain) is type(value) and plain == value)


def _check_ordered_text(node: sa.BinaryExpression[Any]) -> None:
    """Refuse ``text_column < 5``: SQL would compare text, the frame refuses."""
    left = node.left
    if not isinstance(getattr(left, "type", None), sa.String):
        return
    for clause in _operands(node.right):
        bind = _bind_of(clause)
        value = plain_value(bind.effective_value) if bind is not None else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            key = column_key(left)
            raise FilterError(
                f"the filter orders the column {key!r}, which holds text ({left.type!r}), by "
                f"the number {value!r}: the database would compare them as text ('10' < '9'). "
                f"Compare with a string ({str(value)!r}), or make the values numbers in "
                f"load_func= so the column is numeric"
            )
