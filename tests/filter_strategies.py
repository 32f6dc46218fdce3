"""Hypothesis strategies for trees and filters, shared by the database-versus-frame tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

TEXT = st.text(alphabet="ab_%", max_size=3)
DOMAINS: dict[str, st.SearchStrategy[Any]] = {
    "a": st.integers(-2, 2),
    "b": st.sampled_from([-1.5, 0.0, 0.5, 2.0]),
    "c": st.booleans(),
    "d": TEXT,
}
ABSENT = object()  # the key is left out of the settings dict


def run_settings(key: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ABSENT), st.none(), DOMAINS[key])


RUNS = st.lists(st.fixed_dictionaries({key: run_settings(key) for key in DOMAINS}), max_size=6)


def write_tree(root: Path, runs: list[dict[str, Any]]) -> None:
    for i, run in enumerate(runs):
        settings_dict = {key: value for key, value in run.items() if value is not ABSENT}
        (root / str(i)).mkdir(parents=True)
        (root / str(i) / "conf.json").write_text(json.dumps({"i": i, **settings_dict}))


# -- filters as data, so hypothesis shows a failing one readably ------------------

COMPARISONS = ["==", "!=", "<", "<=", ">", ">="]
ORDERED = [key for key in DOMAINS if key != "c"]  # SQLAlchemy refuses "flag < True"


def comparisons(key: str) -> list[str]:
    return COMPARISONS if key in ORDERED else ["==", "!="]


def leaf(key: str) -> st.SearchStrategy[tuple[Any, ...]]:
    value = DOMAINS[key]
    leaves = [
        st.tuples(st.just("cmp"), st.just(key), st.sampled_from(comparisons(key)), value),
        st.tuples(st.just("in"), st.just(key), st.lists(st.one_of(value, st.none()), max_size=3)),
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
    lookups = ["gt", "ge", "lt", "le", "ne"] if key in ORDERED else ["ne"]
    options = [
        st.tuples(st.just(key), st.one_of(value, st.none(), st.lists(value, max_size=3))),
        st.tuples(st.sampled_from([f"{key}__{op}" for op in lookups]), value),
        st.tuples(st.just(f"{key}__in"), st.lists(value, max_size=3)),
        st.tuples(st.just(f"{key}__between"), st.tuples(value, value)),
        st.tuples(st.just(f"{key}__isnull"), st.booleans()),
    ]
    if key == "d":
        text_lookups = ["startswith", "endswith", "contains", "like"]
        options.append(st.tuples(st.sampled_from([f"d__{op}" for op in text_lookups]), TEXT))
    return st.one_of(options)


def typed_keys(runs: list[dict[str, Any]]) -> list[str]:
    """Keys with at least one value: those are columns whose type was inferred."""
    return [key for key in DOMAINS if any(run[key] not in (None, ABSENT) for run in runs)]
