"""Evaluating filter expressions on a DataFrame, with SQL's three-valued logic.

:mod:`naklar._query.filters` turns every filter into a SQLAlchemy expression; the
database runs it as SQL, and :func:`frame_mask` walks the same expression tree
over a DataFrame's columns. Each node evaluates to two masks, "true" and
"unknown", so missing values (``None``, ``NaN``, ``NA``, ``NaT``) behave as
NULL does in SQL: a comparison with a missing value is unknown, and neither it
nor its negation selects the row. A node with no pandas equivalent (a SQL
function, a cast, a sub-query) raises :class:`~naklar.errors.FilterError`
naming it, never a silently different answer.

Where backends differ the frame side follows standard SQL (as PostgreSQL does):
``LIKE`` and ``=`` are case-sensitive.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import operators

from .._table.model import column_key, is_mapped_attribute, unknown_column_message
from ..errors import FilterError, UnknownColumnError
from .filter_values import plain_list, plain_value

__all__ = ["frame_mask", "like_to_regex", "value_kind", "series_kind"]


def frame_mask(
    frame: pd.DataFrame, conditions: Iterable[sa.ColumnElement[bool]], *, like: bool = True
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Rows of ``frame`` where every condition is true (not false, not unknown).

    Column references are looked up in ``frame`` by key (see :func:`column_key`).
    ``like=False`` refuses LIKE-family operators with :class:`FilterError`, for
    callers that must answer as SQLite does (its LIKE ignores ASCII case).

    >>> frame = pd.DataFrame({'C': [1.0, None, 3.0]})
    >>> frame_mask(frame, [sa.column('C') != 1])
    array([False, False,  True])
    >>> frame_mask(frame, [sa.not_(sa.column('C') > 2)])
    array([ True, False, False])
    """
    evaluator = _FrameEvaluator(frame, like)
    mask = np.ones(len(frame), dtype=bool)
    for condition in conditions:
        mask &= evaluator.truth(condition).true
    return mask


BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass
class _Truth:
    """A condition's value per row: true, unknown (NULL), or else false."""

    true: BoolArray
    unknown: BoolArray

    @property
    def false(self) -> BoolArray:
        return ~self.true & ~self.unknown

    def negate(self) -> _Truth:
        return _Truth(self.false, self.unknown)


@dataclass
class _Operand:
    """A value per row (a Series) or one value (a scalar), and where it is missing."""

    values: Any
    missing: BoolArray | bool
    kind: str | None  # 'text', 'number', 'datetime', or None when unknown


def _and(left: _Truth, right: _Truth) -> _Truth:
    true = left.true & right.true
    return _Truth(true, ~true & ~(left.false | right.false))


def _or(left: _Truth, right: _Truth) -> _Truth:
    true = left.true | right.true
    return _Truth(true, ~true & ~(left.false & right.false))


_COMPARISON_OPERATORS = {
    operators.eq,
    operators.ne,
    operators.lt,
    operators.le,
    operators.gt,
    operators.ge,
}
_ARITHMETIC_OPERATORS = {operators.add, operators.sub, operators.mul}
_NEGATED = {
    operators.not_in_op: operators.in_op,
    operators.not_between_op: operators.between_op,
    operators.not_like_op: operators.like_op,
    operators.not_ilike_op: operators.ilike_op,
    operators.not_startswith_op: operators.startswith_op,
    operators.not_endswith_op: operators.endswith_op,
    operators.not_contains_op: operators.contains_op,
    operators.not_istartswith_op: operators.istartswith_op,
    operators.not_iendswith_op: operators.iendswith_op,
    operators.not_icontains_op: operators.icontains_op,
    operators.is_not: operators.is_,
}
#: LIKE-family operators: the pattern around the value, and whether case is ignored
_LIKE_OPERATORS = {
    operators.like_op: ("{}", False),
    operators.ilike_op: ("{}", True),
    operators.startswith_op: ("{}%", False),
    operators.istartswith_op: ("{}%", True),
    operators.endswith_op: ("%{}", False),
    operators.iendswith_op: ("%{}", True),
    operators.contains_op: ("%{}%", False),
    operators.icontains_op: ("%{}%", True),
}


_COMBINE: dict[Any, Callable[[_Truth, _Truth], _Truth]] = {
    operators.and_: _and,
    operators.or_: _or,
}


class _FrameEvaluator:
    """Evaluates a SQLAlchemy expression tree on one DataFrame."""

    def __init__(self, frame: pd.DataFrame, like: bool = True) -> None:
        self.frame = frame
        self.rows = len(frame)
        self.like_allowed = like

    # truth-valued nodes

    def truth(self, node: Any) -> _Truth:
        node = _unwrap(node)
        if isinstance(node, sa.sql.elements.BooleanClauseList):
            combine = _COMBINE.get(node.operator)
            if combine is None:
                self.unsupported(node, f"the operator {_operator_name(node.operator)!r}")
            # an empty AND is true, an empty OR false, as in SQL
            result = _Truth(self.constant(combine is _and), self.constant(False))
            for clause in node.clauses:
                result = combine(result, self.truth(clause))
            return result
        if isinstance(node, sa.sql.elements.UnaryExpression) and node.operator is operators.inv:
            return self.truth(node.element).negate()
        if isinstance(node, sa.sql.elements.AsBoolean):
            truth = self.column_truth(node.element)
            return truth if node.operator is operators.is_true else truth.negate()
        if isinstance(node, sa.BinaryExpression):
            return self.binary(node)
        if isinstance(node, (sa.sql.elements.True_, sa.sql.elements.False_)):
            value = isinstance(node, sa.sql.elements.True_)
            return _Truth(self.constant(value), self.constant(False))
        if isinstance(node, sa.sql.elements.Null):
            return _Truth(self.constant(False), self.constant(True))
        if isinstance(node, sa.ColumnClause):
            return self.column_truth(node)
        self.unsupported(node, f"a {type(node).__name__}")

    def column_truth(self, node: Any) -> _Truth:
        operand = self.operand(node)
        if not pd.api.types.is_bool_dtype(getattr(operand.values, "dtype", None)):
            self.unsupported(node, "a condition that is not a boolean column")
        true = _to_bool(operand.values) & ~operand.missing
        return _Truth(self.broadcast(true), self.broadcast(operand.missing))

    def binary(self, node: sa.BinaryExpression[Any]) -> _Truth:
        op = node.operator
        if op in _NEGATED:
            positive = _NEGATED[op]
            return self.binary_with(node, positive).negate()
        return self.binary_with(node, op)

    def binary_with(self, node: sa.BinaryExpression[Any], op: Any) -> _Truth:
        if node.modifiers.get("symmetric"):
            self.unsupported(node, "BETWEEN SYMMETRIC")
        left = self.operand(node.left)
        if op in _COMPARISON_OPERATORS:
            return self.compare(node, op, left, self.operand(node.right))
        if op is operators.in_op:
            return self.is_in(node, left, node.right)
        if op is operators.between_op:
            low, high = (self.operand(bound) for bound in _unwrap(node.right).clauses)
            return _and(
                self.compare(node, operators.ge, left, low),
                self.compare(node, operators.le, left, high),
            )
        if op in _LIKE_OPERATORS:
            return self.like(node, op, left)
        if op is operators.is_:
            return self.is_(node, left, self.operand(node.right))
        self.unsupported(node, f"the operator {_operator_name(op)!r}")

    def compare(self, node: Any, op: Any, left: _Operand, right: _Operand) -> _Truth:
        self.check_kinds(node, left, right)
        unknown = left.missing | right.missing
        if np.all(unknown):
            return _Truth(self.constant(False), self.constant(True))
        try:
            result = op(left.values, right.values)
        except TypeError as error:
            self.unsupported(node, f"values that do not compare ({error})")
        return _Truth(self.broadcast(_to_bool(result) & ~unknown), self.broadcast(unknown))

    def is_in(self, node: Any, left: _Operand, right: Any) -> _Truth:
        right = _unwrap(right)
        if not isinstance(right, sa.BindParameter):
            self.unsupported(node, "IN with something other than a list of values")
        candidates = plain_list(right.effective_value or [])
        present = [value for value in candidates if value is not None]
        for value in present:
            self.check_kinds(node, left, _scalar(value))
        if left.kind is None or isinstance(left.values, pd.Series):
            found = _to_bool(pd.Series(left.values).isin(present)) if present else False
        else:
            found = left.values in present
        true = self.broadcast(found & ~left.missing)
        # x IN (1, NULL) is unknown, not false, where x is not 1; but SQLAlchemy
        # renders an empty IN as a plain false, so only a NULL among values counts
        null_in_list = len(present) < len(candidates)
        unknown = self.broadcast(left.missing & bool(candidates)) | (~true & null_in_list)
        return _Truth(true, unknown & ~true)

    def like(self, node: Any, op: Any, left: _Operand) -> _Truth:
        if not self.like_allowed:
            self.unsupported(node, "LIKE here (the database's LIKE may ignore case)")
        template, ignore_case = _LIKE_OPERATORS[op]
        right = _unwrap(node.right)
        if not isinstance(right, sa.BindParameter) or not isinstance(right.effective_value, str):
            self.unsupported(node, "LIKE with a pattern that is not a string value")
        if left.kind not in ("text", None):
            self.unsupported(node, "LIKE on a column that is not text")
        pattern = template.format(right.effective_value)
        regex = like_to_regex(pattern, node.modifiers.get("escape"))
        text = pd.Series(left.values).astype("string")
        matched = text.str.fullmatch(regex, case=not ignore_case, flags=re.DOTALL)
        true = _to_bool(matched) & ~left.missing
        return _Truth(self.broadcast(true), self.broadcast(left.missing))

    def is_(self, node: Any, left: _Operand, right: _Operand) -> _Truth:
        if right.kind is None and right.missing is True:
            return _Truth(self.broadcast(left.missing), self.constant(False))
        if isinstance(right.values, (bool, np.bool_)):
            equal = _to_bool(left.values == right.values) & ~left.missing
            return _Truth(self.broadcast(equal), self.constant(False))
        self.unsupported(node, "IS with something other than None, True or False")

    # value-valued nodes

    def operand(self, node: Any) -> _Operand:
        node = _unwrap(node)
        if isinstance(node, sa.BindParameter):
            return _scalar(node.effective_value)
        if isinstance(node, sa.sql.elements.Null):
            return _Operand(None, True, None)
        if isinstance(node, (sa.sql.elements.True_, sa.sql.elements.False_)):
            return _scalar(isinstance(node, sa.sql.elements.True_))
        if isinstance(node, sa.ColumnClause):
            return self.column(node)
        if isinstance(node, sa.BinaryExpression) and node.operator in _ARITHMETIC_OPERATORS:
            return self.arithmetic(node)
        if isinstance(node, sa.sql.functions.FunctionElement):
            self.unsupported(node, "a SQL function")
        if isinstance(node, sa.BinaryExpression):
            self.unsupported(node, f"the operator {_operator_name(node.operator)!r}")
        self.unsupported(node, f"a {type(node).__name__}")

    def column(self, node: sa.ColumnClause[Any]) -> _Operand:
        key = column_key(node)
        if key not in self.frame.columns:
            raise UnknownColumnError(
                f"the filter names {key!r}, which is not a column of this frame: "
                f"{unknown_column_message(key, [str(c) for c in self.frame.columns])}"
            )
        series = self.frame[key]
        return _Operand(series, series.isna().to_numpy(), series_kind(series))

    def arithmetic(self, node: sa.BinaryExpression[Any]) -> _Operand:
        left, right = self.operand(node.left), self.operand(node.right)
        if "number" not in (left.kind, right.kind) or {left.kind, right.kind} - {"number", None}:
            self.unsupported(node, "arithmetic on values that are not numbers")
        values = node.operator(left.values, right.values)
        return _Operand(values, left.missing | right.missing, "number")

    # helpers

    def check_kinds(self, node: Any, left: _Operand, right: _Operand) -> None:
        # SQLite would convert '1' to 1 for a number column, PostgreSQL refuses:
        # comparing text with numbers has no answer both engines give
        if left.kind and right.kind and left.kind != right.kind:
            self.unsupported(node, f"a comparison of {left.kind} with {right.kind}")

    def constant(self, value: bool) -> BoolArray:
        return np.full(self.rows, value, dtype=bool)

    def broadcast(self, values: Any) -> BoolArray:
        return np.broadcast_to(np.asarray(values, dtype=bool), (self.rows,)).copy()

    def unsupported(self, node: Any, what: str) -> NoReturn:
        raise FilterError(
            f"cannot evaluate {_render(node)} on a DataFrame: {what} has no pandas "
            f"equivalent here. On frames use comparisons, in_, between, like, startswith, "
            f"endswith, contains, is_(None) and &, |, ~; or filter in the database with "
            f"store.select(...)"
        )


def _operator_name(op: Any) -> str:
    return str(getattr(op, "__name__", op)).removesuffix("_op")


def _unwrap(node: Any) -> Any:
    while isinstance(node, sa.sql.elements.Grouping) or is_mapped_attribute(node):
        node = node.element if isinstance(node, sa.sql.elements.Grouping) else node.expression
    return node


def _render(node: Any) -> str:
    try:
        return str(node.compile(compile_kwargs={"literal_binds": True}))
    except Exception:  # a value the default dialect cannot render literally
        return str(node)


def _scalar(value: Any) -> _Operand:
    value = plain_value(value)
    if value is None:
        return _Operand(None, True, None)
    return _Operand(value, False, value_kind(value))


def value_kind(value: Any) -> str | None:
    """The comparison kind of one value: ``'text'``, ``'number'`` or ``'datetime'``."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, (numbers.Number, np.bool_)):
        return "number"
    if isinstance(value, (dt.date, np.datetime64)):
        return "datetime"
    return None


_INFERRED_KINDS = {
    "string": "text",
    "integer": "number",
    "integer-na": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "decimal": "number",
    "boolean": "number",  # SQL stores booleans as 0/1: comparable with numbers
    "datetime64": "datetime",
    "datetime": "datetime",
    "date": "datetime",
}


def series_kind(series: pd.Series) -> str | None:
    """The comparison kind of a column (``None``: mixed or all missing)."""
    return _INFERRED_KINDS.get(pd.api.types.infer_dtype(series, skipna=True))


def _to_bool(values: Any) -> Any:
    """Comparison results as numpy bools, missing (NA) as False."""
    if isinstance(values, (pd.Series, pd.api.extensions.ExtensionArray)):
        return pd.Series(values).to_numpy(dtype=bool, na_value=False)
    if isinstance(values, np.ndarray):
        return values.astype(bool)
    return bool(values) if values is not pd.NA else False


def like_to_regex(pattern: str, escape: str | None = None) -> str:
    """A SQL ``LIKE`` pattern as a regular expression for a full match.

    >>> like_to_regex('r_f%'), like_to_regex('50/%', escape='/')
    ('r.f.*', '50%')
    """
    parts = []
    characters = iter(pattern)
    for character in characters:
        if escape and character == escape:
            parts.append(re.escape(next(characters, "")))
        elif character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return "".join(parts)
