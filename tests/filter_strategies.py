"""Hypothesis strategies for trees and filters, shared by the database-versus-frame tests."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from hypothesis import strategies as st

# a trailing space is a character (MariaDB's collations ignore it); '%' and '_' are
# LIKE's wildcards; -0.0, NaN and the infinities are where backends differ
TEXT = st.text(alphabet="ab_% ", max_size=3)
FLOATS = st.sampled_from([-1.5, -0.0, 0.0, 0.5, 2.0, math.nan, math.inf, -math.inf])
STORED: dict[str, st.SearchStrategy[Any]] = {
    "a": st.integers(-2, 2),
    "b": FLOATS,
    "c": st.booleans(),
    "d": TEXT,
}
ABSENT = object()  # the key is left out of the settings dict


def held(value: Any) -> st.SearchStrategy[Any]:
    """``value`` as a user may hold it: the Python value, or a numpy or pandas scalar."""
    if isinstance(value, bool):
        forms: list[Any] = [value, np.bool_(value)]
    elif isinstance(value, int):
        forms = [value, np.int64(value), np.int32(value)]
    elif isinstance(value, float):
        forms = [value, np.float64(value)]
    else:
        forms = [value, np.str_(value)]
    return st.sampled_from(forms)


#: Filter values: each domain's values in every form a user may hold them; NaN
#: comes as one of the missing markers (a lookup like ``b__gt=nan`` is an error).
DOMAINS: dict[str, st.SearchStrategy[Any]] = {
    key: values.filter(lambda value: value == value).flatmap(held) for key, values in STORED.items()
}
#: Every way to say "missing" in a filter: each means IS NULL.
MISSING = st.sampled_from([None, pd.NA, math.nan, np.float64("nan")])
#: SQLAlchemy refuses ``column < None`` itself; the other markers reach naklar.
MISSING_BOUND = st.sampled_from([pd.NA, math.nan, np.float64("nan")])


def run_settings(key: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ABSENT), st.none(), STORED[key])


RUNS = st.lists(st.fixed_dictionaries({key: run_settings(key) for key in DOMAINS}), max_size=6)


def write_tree(root: Path, runs: list[dict[str, Any]]) -> None:
    """One ``conf.json`` per run (NaN and the infinities as JSON's usual extension)."""
    for i, run in enumerate(runs):
        settings_dict = {key: value for key, value in run.items() if value is not ABSENT}
        (root / str(i)).mkdir(parents=True)
        (root / str(i) / "conf.json").write_text(json.dumps({"i": i, **settings_dict}))


# -- filters as data, so hypothesis shows a failing one readably ------------------

COMPARISONS = ["==", "!=", "<", "<=", ">", ">="]
# SQLAlchemy refuses the expression "flag < True"; the lookup flag__lt=True compares
ORDERED_IN_EXPRESSIONS = [key for key in DOMAINS if key != "c"]


def comparisons(key: str) -> list[str]:
    return COMPARISONS if key in ORDERED_IN_EXPRESSIONS else ["==", "!="]


def leaf(key: str) -> st.SearchStrategy[tuple[Any, ...]]:
    value = DOMAINS[key]
    leaves = [
        st.tuples(
            st.just("cmp"),
            st.just(key),
            st.sampled_from(comparisons(key)),
            st.one_of(value, MISSING_BOUND),
        ),
        st.tuples(st.just("in"), st.just(key), st.lists(st.one_of(value, MISSING), max_size=3)),
        st.tuples(st.just("between"), st.just(key), value, value),
        st.tuples(st.just("null"), st.just(key), st.booleans()),
    ]
    if key == "d":
        method = st.sampled_from(["like", "startswith", "endswith", "contains"])
        leaves.append(st.tuples(st.just("text"), st.just(key), method, TEXT, st.booleans()))
    return st.one_of(leaves)


def expressions(keys: list[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    leaves = st.one_of([leaf(key) for key in keys])
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.tuples(st.just("and"), children, children),
            st.tuples(st.just("or"), children, children),
            st.tuples(st.just("not"), children),
        ),
        max_leaves=4,
    )


def build(E: Any, spec: tuple[Any, ...]) -> Any:
    """The SQLAlchemy expression a spec stands for."""
    kind, *rest = spec
    if kind == "and":
        return sa.and_(build(E, rest[0]), build(E, rest[1]))
    if kind == "or":
        return build(E, rest[0]) | build(E, rest[1])
    if kind == "not":
        return ~build(E, rest[0])
    column = getattr(E, rest[0])
    if kind == "cmp":
        operator, value = rest[1], rest[2]
        return {
            "==": column.__eq__,
            "!=": column.__ne__,
            "<": column.__lt__,
            "<=": column.__le__,
            ">": column.__gt__,
            ">=": column.__ge__,
        }[operator](value)
    if kind == "in":
        return column.in_(rest[1])
    if kind == "between":
        return column.between(rest[1], rest[2])
    if kind == "null":
        return column.is_(None) if rest[1] else column.is_not(None)
    method, pattern, autoescape = rest[1], rest[2], rest[3]
    if method == "like":
        return column.like(pattern)
    return getattr(column, method)(pattern, autoescape=autoescape)


def keyword(key: str) -> st.SearchStrategy[tuple[str, Any]]:
    value = DOMAINS[key]
    lookups = ["gt", "ge", "lt", "le", "ne"]
    lists = st.lists(value, max_size=3)
    options = [
        st.tuples(
            st.just(key),
            st.one_of(value, MISSING, lists, lists.map(np.array), lists.map(pd.Series)),
        ),
        st.tuples(st.sampled_from([f"{key}__{op}" for op in lookups]), value),
        st.tuples(st.just(f"{key}__in"), st.one_of(lists, lists.map(tuple))),
        st.tuples(st.just(f"{key}__between"), st.tuples(value, value)),
        st.tuples(st.just(f"{key}__isnull"), st.sampled_from([True, False, np.bool_(True)])),
    ]
    if key == "d":
        text_lookups = ["startswith", "endswith", "contains", "like"]
        options.append(st.tuples(st.sampled_from([f"d__{op}" for op in text_lookups]), TEXT))
    return st.one_of(options)


def typed_keys(runs: list[dict[str, Any]]) -> list[str]:
    """Keys with at least one value: those are columns whose type was inferred."""
    return [key for key in DOMAINS if any(_typed(run[key]) for run in runs)]


def _typed(value: Any) -> bool:
    # NaN alone types no column: SQLite and MariaDB store it as NULL
    return (
        value is not None
        and value is not ABSENT
        and not (isinstance(value, float) and math.isnan(value))
    )
