"""Filter values as users hold them, and one answer on every backend and on the frame.

Values taken from a frame are numpy or pandas scalars; missing ones are ``pd.NA``,
``pd.NaT`` or NaN. Each case runs on SQLite (memory and file), PostgreSQL and
MariaDB, and on ``df.naklar`` over the same store's frame.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import naklar
from naklar.errors import FilterError

NOON = dt.datetime(2015, 10, 21, 12, 0)
RUNS = {
    "0": {"i": 0, "kernel": "rbf", "C": 1.0, "n": 1, "shrinking": True, "when": NOON.isoformat(),
          "label": "10", "pad": "a"},
    "1": {"i": 1, "kernel": "linear", "C": 2.0, "n": 2, "shrinking": False, "label": "9",
          "pad": "a "},
    "2": {"i": 2, "kernel": "poly", "C": 0.1, "n": 3, "when": "2016-01-01T00:00:00",
          "pad": "b"},
    "3": {"i": 3, "kernel": None, "C": None, "shrinking": None},
}  # fmt: skip


@pytest.fixture
def store(any_engine: sa.Engine, table_name: str, make_tree: Any) -> Iterator[naklar.Store]:
    store = naklar.Store(any_engine, table_name=table_name)
    store.load(make_tree(RUNS, fmt="json"), dict_file="conf.json", load_func=_with_datetimes)
    yield store
    store.drop()


def _with_datetimes(path: str) -> dict[str, Any]:
    import json

    with open(path) as handle:
        settings = json.load(handle)
    if "when" in settings:
        settings["when"] = dt.datetime.fromisoformat(settings["when"])
    return settings


def selected(store: naklar.Store, *arguments: Any, **filters: Any) -> tuple[list[int], list[int]]:
    """The ``i`` of the selected runs: from the database, and from the store's frame."""
    from_database = [row.i for row in store.select("i", *arguments, **filters)]
    from_frame = store.frame().naklar.select("i", *arguments, **filters)["i"].tolist()
    return from_database, from_frame


SCALAR_CASES = [
    ({"C": np.float64(1.0)}, [0]),
    ({"C": np.int64(1)}, [0]),
    ({"n": np.int64(2)}, [1]),
    ({"n": np.int32(2)}, [1]),
    ({"kernel": np.str_("linear")}, [1]),
    ({"shrinking": np.bool_(True)}, [0]),
    ({"when": np.datetime64("2015-10-21T12:00")}, [0]),
    ({"when": pd.Timestamp("2015-10-21 12:00")}, [0]),
    ({"when__gt": pd.Timestamp("2015-12-01")}, [2]),
    ({"C__gt": np.float64(0.5)}, [0, 1]),
    ({"n__le": np.int64(2)}, [0, 1]),
    ({"C__between": (np.float64(0.1), np.int64(1))}, [0, 2]),
    ({"C__between": np.array([0.1, 1.0])}, [0, 2]),
    ({"C__in": np.array([1.0, 2.0])}, [0, 1]),
    ({"C": pd.Series([1.0, 0.1])}, [0, 2]),
    ({"kernel": pd.Index(["rbf", "poly"])}, [0, 2]),
    ({"kernel__in": {np.str_("rbf")}}, [0]),
    ({"n": range(2, 4)}, [1, 2]),
    ({"kernel__in": (np.str_("rbf"), pd.NA)}, [0]),
    ({"shrinking__isnull": np.bool_(True)}, [2, 3]),
]
MISSING_MARKERS = [None, pd.NA, pd.NaT, float("nan"), np.float64("nan"), np.datetime64("NaT", "ns")]


@pytest.mark.parametrize(("filters", "expected"), SCALAR_CASES, ids=repr)
def test_filter_value_numpy_and_pandas_scalars_mean_their_python_value(
    store: naklar.Store, filters: dict[str, Any], expected: list[int]
) -> None:
    assert selected(store, **filters) == (expected, expected)


@pytest.mark.parametrize("marker", MISSING_MARKERS, ids=repr)
@pytest.mark.parametrize("key", ["kernel", "C", "when"])
def test_filter_value_missing_marker_means_is_null(
    store: naklar.Store, key: str, marker: Any
) -> None:
    expected = [i for i, run in RUNS.items() if run.get(key) is None]
    assert selected(store, **{key: marker}) == ([int(i) for i in expected],) * 2


@pytest.mark.parametrize("marker", MISSING_MARKERS, ids=repr)
def test_expression_compared_with_missing_marker_means_is_null(
    store: naklar.Store, marker: Any
) -> None:
    assert selected(store, store.E.C == marker) == ([3], [3])
    assert selected(store, store.E.C != marker) == ([0, 1, 2], [0, 1, 2])


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda E: E.C == np.int64(1), [0]),
        (lambda E: E.n > np.int64(1), [1, 2]),
        (lambda E: E.kernel == np.str_("poly"), [2]),
        (lambda E: E.C.in_(np.array([0.1, 2.0]).tolist()), [1, 2]),
        (lambda E: E.when < pd.Timestamp("2016-01-01"), [0]),
        (lambda E: E.C.between(np.float64(0.5), np.int64(2)), [0, 1]),
    ],
)
def test_expression_with_numpy_and_pandas_values_selects_same_rows(
    store: naklar.Store, build: Any, expected: list[int]
) -> None:
    assert selected(store, build(store.E)) == (expected, expected)


def test_frame_taken_value_filters_store_and_frame(store: naklar.Store) -> None:
    frame = store.frame()
    best = frame.loc[frame.C.idxmax()]
    assert store.frame(C=best.C).i.tolist() == [1]
    assert frame.naklar.select(C=best.C, kernel=best.kernel).i.tolist() == [1]


@pytest.mark.parametrize("value", [np.str_("rbf"), b"rbf"], ids=repr)
def test_filter_value_string_and_bytes_are_single_values(value: Any) -> None:
    from naklar._query.filter_values import is_collection

    assert not is_collection(value)


# -- booleans compare like other values ------------------------------------------

BOOLEAN_CASES = [
    ({"shrinking__gt": False}, [0]),
    ({"shrinking__ge": False}, [0, 1]),
    ({"shrinking__lt": True}, [1]),
    ({"shrinking__le": np.bool_(False)}, [1]),
    ({"shrinking__between": (False, True)}, [0, 1]),
    ({"shrinking__between": (True, True)}, [0]),
]


@pytest.mark.parametrize(("filters", "expected"), BOOLEAN_CASES, ids=repr)
def test_boolean_lookup_orders_false_before_true(
    store: naklar.Store, filters: dict[str, Any], expected: list[int]
) -> None:
    assert selected(store, **filters) == (expected, expected)


# -- text is never ordered by a number --------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [{"label__gt": 5}, {"label__lt": 9.5}, {"label__between": (1, 20)}, {"label__ge": np.int64(1)}],
    ids=repr,
)
def test_text_column_ordered_by_number_is_refused_on_both_sides(
    store: naklar.Store, filters: dict[str, Any]
) -> None:
    for run in (store.select, store.frame().naklar.select):
        with pytest.raises(FilterError, match=r"'label'.*text.*Text.*Compare with a string"):
            run("i", **filters)


def test_text_column_ordered_by_number_in_expression_is_refused(store: naklar.Store) -> None:
    with pytest.raises(FilterError, match=r"'label'.*text.*load_func="):
        store.select("i", store.E.label > 5)


def test_text_column_ordered_by_string_still_compares(store: naklar.Store) -> None:
    assert selected(store, label__gt="5") == ([1], [1])


# -- one answer on every backend: NaN, infinite bounds, trailing spaces -------------

NON_FINITE = {
    "0": {"i": 0, "f": 1.5},
    "1": {"i": 1, "f": float("nan")},
    "2": {"i": 2, "f": float("inf")},
    "3": {"i": 3, "f": -2.0},
    "4": {"i": 4},
}


@pytest.fixture
def floats(any_engine: sa.Engine, table_name: str, make_tree: Any) -> Iterator[naklar.Store]:
    store = naklar.Store(any_engine, table_name=table_name)
    with warnings.catch_warnings():  # SQLite and MariaDB warn that they store NaN as NULL
        warnings.simplefilter("ignore", naklar.errors.NaklarWarning)
        store.load(make_tree(NON_FINITE, fmt="pkl"))
    yield store
    store.drop()


def _infinite_is_stored(store: naklar.Store) -> bool:
    return store.engine.dialect.name not in ("mysql", "mariadb")


def test_nan_is_missing_on_every_backend(floats: naklar.Store) -> None:
    missing = [1, 4] if _infinite_is_stored(floats) else [1, 2, 4]
    assert selected(floats, f__isnull=True) == (missing, missing)
    assert selected(floats, f=float("nan")) == (missing, missing)
    positive = [0, 2] if _infinite_is_stored(floats) else [0]
    assert selected(floats, f__gt=0) == (positive, positive)
    assert selected(floats, ~(floats.E.f > 0)) == ([3], [3])


@pytest.mark.parametrize(
    ("filters", "stored", "nulled"),
    [
        ({"f__lt": math.inf}, [0, 3], [0, 3]),
        ({"f__le": math.inf}, [0, 2, 3], [0, 3]),
        ({"f__gt": -math.inf}, [0, 2, 3], [0, 3]),
        ({"f__ge": -math.inf}, [0, 2, 3], [0, 3]),
        ({"f__gt": math.inf}, [], []),
        ({"f": math.inf}, [2], []),
        ({"f__ne": math.inf}, [0, 3], [0, 3]),
        ({"f__lt": -math.inf}, [], []),
        ({"f__between": (-math.inf, math.inf)}, [0, 2, 3], [0, 3]),
        ({"f__between": (0, math.inf)}, [0, 2], [0]),
        ({"f__in": [math.inf, -2.0]}, [2, 3], [3]),
        ({"f__in": [np.float64(math.inf)]}, [2], []),
    ],
    ids=repr,
)
def test_infinite_bound_selects_same_rows_in_database_and_frame(
    floats: naklar.Store, filters: dict[str, Any], stored: list[int], nulled: list[int]
) -> None:
    # MySQL and MariaDB store inf as NULL (the load warns); the others keep it
    expected = stored if _infinite_is_stored(floats) else nulled
    assert selected(floats, **filters) == (expected, expected)


def test_infinite_bound_beside_another_condition_keeps_its_grouping(
    floats: naklar.Store,
) -> None:
    # MySQL's rewrite of an infinite bound is an OR: it must stay one term of the AND
    E = floats.E
    assert selected(floats, E.f.in_([-2.0, math.inf]) & (E.f == pd.NA)) == ([], [])
    assert selected(floats, (E.f == pd.NA) & E.f.in_([-2.0, math.inf])) == ([], [])


def test_infinite_bound_under_not_selects_same_rows(floats: naklar.Store) -> None:
    expected = [2] if _infinite_is_stored(floats) else []
    assert selected(floats, ~(floats.E.f < math.inf)) == (expected, expected)
    expected = [0, 3] if _infinite_is_stored(floats) else [0, 3]
    assert selected(floats, floats.E.f.not_in([math.inf])) == (expected, expected)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"pad": "a"}, [0]),
        ({"pad": "a "}, [1]),
        ({"pad__in": ["a"]}, [0]),
        ({"pad__gt": "a"}, [1, 2]),
        ({"pad__le": "a"}, [0]),
        ({"pad__ne": "a"}, [1, 2]),
    ],
    ids=repr,
)
def test_trailing_space_is_a_character_on_every_backend(
    store: naklar.Store, filters: dict[str, Any], expected: list[int]
) -> None:
    assert selected(store, **filters) == (expected, expected)
