"""The filter language ``select`` takes, compiled to SQL and to a pandas mask.

* positional column names (``'f1'``) or attributes (``E.f1``) choose columns;
* positional SQLAlchemy expressions (``E.f1 > 0.82``) are ANDed;
* keyword filters: a scalar means ``==`` (a string is one value), a list, tuple,
  set or range means ``IN``, ``None`` means ``IS NULL``;
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
SQL; :func:`frame_mask` evaluates the same expression tree on a DataFrame with
SQL's three-valued logic, so missing values (``None``, ``NaN``, ``NA``) behave
the same on both sides: a comparison with a missing value is *unknown*, and
neither it nor its negation selects the row (``kernel__ne='rbf'`` does not
select runs without a kernel). What the frame side cannot evaluate (SQL
functions, casts, sub-queries) raises :class:`~naklar.errors.FilterError`
naming the part, never a silently different answer.

Where backends differ from each other the frame side follows standard SQL (as
PostgreSQL does): ``LIKE`` and ``=`` are case-sensitive. SQLite's ``LIKE`` ignores
ASCII case, and MySQL/MariaDB's default collations compare text ignoring case.
"""

from __future__ import annotations

import datetime as dt
import numbers
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import operators

from .errors import FilterError, UnknownColumnError
from .model import KEY_INFO, ColumnSpec, Experiment, unknown_column_message

__all__ = [
    "LOOKUPS",
    "Selection",
    "parse_selection",
    "split_arguments",
    "keyword_conditions",
    "is_collection",
    "column_key",
    "frame_mask",
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


def is_collection(value: Any) -> bool:
    """Whether a filter value means "any of these" (``IN``) rather than one value.

    >>> is_collection([1, 2]), is_collection(range(3)), is_collection('rbf')
    (True, True, False)
    """
    return isinstance(value, (list, tuple, set, frozenset, range, np.ndarray)) or (
        hasattr(value, "tolist") and hasattr(value, "dtype")  # pandas Series / Index
    )


# -- parsing select's arguments ------------------------------------------------


@dataclass
class Selection:
    """A parsed ``select`` call: the columns asked for and the SQL conditions."""

    columns: list[ColumnSpec]
    conditions: list[sa.ColumnElement[bool]]


ColumnArgument = str | QueryableAttribute[Any]


def split_arguments(
    arguments: Iterable[Any],
) -> tuple[list[ColumnArgument], list[sa.ColumnElement[bool]]]:
    """Split ``select``'s positional arguments into columns and conditions."""
    columns: list[ColumnArgument] = []
    conditions: list[sa.ColumnElement[bool]] = []
    for argument in arguments:
        if isinstance(argument, (str, QueryableAttribute)):
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
    model: type[Experiment],
    table: sa.Table,
    arguments: Iterable[Any],
    filters: Mapping[str, Any],
) -> Selection:
    """Parse a database ``select``: column specs, and conditions with kwargs compiled."""
    columns, conditions = split_arguments(arguments)
    specs = [
        model._naklar_spec(column) if isinstance(column, str) else spec_of_attribute(column)
        for column in columns
    ]

    def column_for(key: str) -> sa.ColumnElement[Any]:
        return table.c[model._naklar_spec(key).name]

    conditions += keyword_conditions(filters, model._naklar_columns, column_for)
    return Selection(specs, conditions)


def spec_of_attribute(attribute: QueryableAttribute[Any]) -> ColumnSpec:
    """The column spec behind ``E.f1`` (or a decorated key's attribute)."""
    specs: Mapping[str, ColumnSpec] = getattr(attribute.class_, "_naklar_columns", {})
    # a decorator's hybrid hands out a proxy whose .key is a sentinel; the mapped
    # property behind it names the stored attribute
    key = attribute.prop.key
    for spec in specs.values():
        if key in (spec.attribute, spec.stored_attribute):
            return spec
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
        raise UnknownColumnError(
            f"{unknown_column_message(keyword, list(keys))}. Nor is {lookup!r} a lookup: "
            f"use one of {', '.join(LOOKUPS)}"
        )
    if key not in keys:
        raise UnknownColumnError(unknown_column_message(key, list(keys)))
    return key, lookup


def lookup_condition(
    column: sa.ColumnElement[Any], key: str, lookup: str | None, value: Any
) -> sa.ColumnElement[bool]:
    """The condition ``<key>__<lookup>=value`` (``lookup=None``: equality or IN)."""
    where = f"{key}__{lookup}" if lookup else key
    if lookup is None:
        return _equality(column, value)
    if lookup == "isnull":
        if not isinstance(value, (bool, np.bool_)):
            raise FilterError(f"{where}= takes True or False, got {value!r}")
        return column.is_(None) if value else column.is_not(None)
    if lookup == "in":
        if not is_collection(value):
            raise FilterError(f"{where}= takes a list of values, got {value!r}")
        return column.in_(_plain_list(value))
    if lookup == "between":
        if not is_collection(value) or len(_plain_list(value)) != 2:
            raise FilterError(f"{where}= takes a pair (low, high), got {value!r}")
        low, high = _plain_list(value)
        return column.between(low, high)
    if value is None or is_collection(value):
        raise FilterError(
            f"{where}= takes one value, got {value!r}; use {key}__isnull=True for "
            f"missing values and {key}__in=[...] for several"
        )
    if lookup in _COMPARISONS:
        try:
            condition: sa.ColumnElement[bool] = _COMPARISONS[lookup](column, value)
        except sa.exc.ArgumentError as error:  # e.g. "flag < True"
            message = f"{where}={value!r} is not a comparison SQL allows: {error}"
            raise FilterError(message) from None
        return condition
    return _text_condition(column, where, lookup, value)


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
    if value is None:
        return column.is_(None)
    if is_collection(value):
        return column.in_(_plain_list(value))
    return column == value


def _plain_list(value: Any) -> list[Any]:
    return list(value.tolist() if hasattr(value, "tolist") else value)


# -- the frame engine: SQL's three-valued logic over a DataFrame -----------------


def column_key(column: sa.ColumnElement[Any]) -> str:
    """The settings key a column stands for: ``E.f1`` -> ``'f1'``.

    Columns of a store's table record their key in ``Column.info`` (a key may
    be stored under a suffixed column name); other columns are their name.
    """
    info = getattr(column, "info", None) or {}
    return str(info.get(KEY_INFO, getattr(column, "name", column)))


def frame_mask(
    frame: pd.DataFrame, conditions: Iterable[sa.ColumnElement[bool]]
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Rows of ``frame`` where every condition is true (not false, not unknown).

    Column references are looked up in ``frame`` by key (see :func:`column_key`).

    >>> frame = pd.DataFrame({'C': [1.0, None, 3.0]})
    >>> frame_mask(frame, [sa.column('C') != 1])
    array([False, False,  True])
    >>> frame_mask(frame, [sa.not_(sa.column('C') > 2)])
    array([ True, False, False])
    """
    evaluator = _FrameEvaluator(frame)
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

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.rows = len(frame)

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
        candidates = list(right.effective_value or [])
        present = [value for value in candidates if not _is_missing(value)]
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
    while isinstance(node, (sa.sql.elements.Grouping, QueryableAttribute)):
        node = node.element if isinstance(node, sa.sql.elements.Grouping) else node.expression
    return node


def _render(node: Any) -> str:
    try:
        return str(node.compile(compile_kwargs={"literal_binds": True}))
    except Exception:  # a value the default dialect cannot render literally
        return str(node)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _scalar(value: Any) -> _Operand:
    if _is_missing(value):
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
