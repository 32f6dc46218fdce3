"""The filter language: every lookup and expression gives the same rows in SQL and on a frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._query.filters import split_lookup
from naklar._query.masks import frame_mask, like_to_regex
from naklar.errors import FilterError, UnknownColumnError

from messages import assert_mentions

RUNS = {
    "0": {"i": 0, "kernel": "rbf", "C": 1.0, "shrinking": True, "path": "results/0",
          "note": "50%_done"},
    "1": {"i": 1, "kernel": "linear", "C": 2.0, "shrinking": False, "path": "results/1",
          "note": "500 done"},
    "2": {"i": 2, "kernel": "poly", "C": 0.1, "path": "results/10", "gamma": 0.5},
    "3": {"i": 3, "kernel": None, "C": None, "shrinking": None, "path": "other/3"},
}  # fmt: skip


@pytest.fixture
def store(any_engine: sa.Engine, table_name: str, make_tree: Any) -> Iterator[naklar.Store]:
    """The four runs above, in every backend; the table is dropped afterwards."""
    store = naklar.Store(any_engine, table_name=table_name)
    store.load(make_tree(RUNS, fmt="json"), dict_file="conf.json")
    yield store
    assert store.table is not None
    store.table.drop(any_engine, checkfirst=True)


def selected(store: naklar.Store, *arguments: Any, **filters: Any) -> tuple[list[int], list[int]]:
    """The ``i`` of the selected runs: from the database, and from the full frame."""
    from_database = [row.i for row in store.select("i", *arguments, **filters)]
    frame = store.frame()
    from_frame = frame.naklar.select("i", *arguments, **filters)["i"].tolist()
    return from_database, from_frame


KEYWORD_CASES = [
    ({"C": 1}, [0]),
    ({"C": [1, 2]}, [0, 1]),
    ({"C": (0.1, 3)}, [2]),
    ({"C": None}, [3]),
    ({"kernel": "rbf"}, [0]),
    ({"i": range(2)}, [0, 1]),
    ({"shrinking": True}, [0]),
    ({"C__gt": 0.5}, [0, 1]),
    ({"C__ge": 1}, [0, 1]),
    ({"C__lt": 1}, [2]),
    ({"C__le": 1}, [0, 2]),
    ({"C__ne": 1}, [1, 2]),
    ({"kernel__ne": "rbf"}, [1, 2]),
    ({"shrinking__ne": True}, [1]),
    ({"C__in": [0.1, 2]}, [1, 2]),
    ({"C__in": []}, []),
    ({"C__between": (0.1, 1)}, [0, 2]),
    ({"path__startswith": "results/1"}, [1, 2]),
    ({"path__endswith": "/3"}, [3]),
    ({"path__contains": "ts/"}, [0, 1, 2]),
    ({"note__startswith": "50%"}, [0]),  # % is a literal character, not a wildcard
    ({"note__contains": "%_"}, [0]),
    ({"path__like": "results/_"}, [0, 1]),
    ({"path__like": "%/1%"}, [1, 2]),
    ({"gamma__isnull": True}, [0, 1, 3]),
    ({"gamma__isnull": False}, [2]),
    ({"C__gt": 0.5, "kernel__ne": "linear"}, [0]),
]


@pytest.mark.parametrize(("filters", "expected"), KEYWORD_CASES, ids=str)
def test_keyword_filter_selects_same_rows_in_database_and_frame(
    store: naklar.Store, filters: dict[str, Any], expected: list[int]
) -> None:
    assert selected(store, **filters) == (expected, expected)


EXPRESSION_CASES: list[tuple[Any, list[int]]] = [
    (lambda E: E.C > 0.5, [0, 1]),
    (lambda E: ~(E.C > 0.5), [2]),
    (lambda E: E.C != 1, [1, 2]),
    (lambda E: E.C == None, [3]),  # noqa: E711 - SQLAlchemy turns == None into IS NULL
    (lambda E: E.C.is_(None), [3]),
    (lambda E: E.C.is_not(None), [0, 1, 2]),
    (lambda E: E.C.in_([1, 2]), [0, 1]),
    (lambda E: ~E.C.in_([1, 2]), [2]),
    (lambda E: E.C.in_([1, None]), [0]),
    (lambda E: ~E.C.in_([1, None]), []),  # x NOT IN (1, NULL) is never true
    (lambda E: E.C.in_([]), []),
    (lambda E: ~E.C.in_([]), [0, 1, 2, 3]),  # SQLAlchemy's empty NOT IN is plainly true
    (lambda E: E.C.between(0.1, 1), [0, 2]),
    (lambda E: ~E.C.between(0.1, 1), [1]),
    (lambda E: E.kernel.like("%r%"), [0, 1]),
    (lambda E: ~E.kernel.like("%r%"), [2]),
    (lambda E: E.kernel.startswith("p"), [2]),
    (lambda E: E.kernel.endswith("ar"), [1]),
    (lambda E: E.kernel.contains("in"), [1]),
    (lambda E: ~E.kernel.contains("in"), [0, 2]),
    (lambda E: E.kernel.ilike("R%"), [0]),
    (lambda E: E.kernel.istartswith("LIN"), [1]),
    (lambda E: ~E.kernel.iendswith("LY"), [0, 1]),
    (lambda E: E.kernel.icontains("Ea"), [1]),
    (lambda E: (E.C > 0.5) & (E.kernel != "rbf"), [1]),
    (lambda E: (E.C > 1.5) | (E.kernel == "poly"), [1, 2]),
    (lambda E: sa.and_(E.C > 0.5, E.i < 1), [0]),
    (lambda E: sa.or_(E.C < 0.5, E.C.is_(None)), [2, 3]),
    (lambda E: sa.not_(sa.or_(E.C < 0.5, E.kernel == "rbf")), [1]),
    (lambda E: ~((E.C > 0.5) & (E.kernel == "rbf")), [1, 2]),
    (lambda E: sa.and_(E.shrinking), [0]),
    (lambda E: ~E.shrinking, [1]),
    (lambda E: E.shrinking == True, [0]),  # noqa: E712 - a SQL comparison
    (lambda E: E.shrinking.is_(False), [1]),
    (lambda E: E.C * 2 > 1.5, [0, 1]),
    (lambda E: E.C + E.i >= 3, [1]),
    (lambda E: E.gamma < E.C, []),
    (lambda E: E.i < E.C, [0, 1]),
    (lambda E: sa.true(), [0, 1, 2, 3]),
    (lambda E: sa.false(), []),
]


@pytest.mark.parametrize(("build", "expected"), EXPRESSION_CASES)
def test_expression_selects_same_rows_in_database_and_frame(
    store: naklar.Store, build: Any, expected: list[int]
) -> None:
    expression = build(store.E)
    assert selected(store, expression) == (expected, expected), str(expression)


@pytest.mark.parametrize(
    ("columns", "keyword", "expected"),
    [
        (["f1"], "f1__gt", ("f1", "gt")),
        (["f1"], "f1", ("f1", None)),
        (["lr__gt", "lr"], "lr__gt", ("lr__gt", None)),  # an exact column name wins
        (["lr__gt", "lr"], "lr__ge", ("lr", "ge")),
        (["lr__max"], "lr__max__gt", ("lr__max", "gt")),  # split at the last __
        (["a"], "b", ("b", None)),  # unknown names are reported by the column lookup
    ],
)
def test_split_lookup_prefers_column_names(
    columns: list[str], keyword: str, expected: tuple[str, str | None]
) -> None:
    assert split_lookup(keyword, columns) == expected


def test_keyword_with_double_underscore_column_compares_equal(make_tree: Any) -> None:
    store = naklar.load(
        make_tree({"0": {"lr": 1, "lr__gt": 5}, "1": {"lr": 7, "lr__gt": 0}}, fmt="json"),
        dict_file="conf.json",
    )
    assert [row.lr for row in store.select("lr", lr__gt=5)] == [1]
    assert store.frame(lr__gt=5)["lr"].tolist() == [1]
    assert store.frame().naklar.select(lr__gt=5)["lr"].tolist() == [1]
    assert store.frame(lr__ge=5)["lr"].tolist() == [7]


COLUMNS = "'naklar_dir', 'i', 'kernel', 'C', 'shrinking', 'path', 'note', 'gamma'"

KEYWORD_ERRORS = [
    ({"f1__gt": 0.5}, UnknownColumnError, ("'f1' is not a column", COLUMNS)),
    ({"kernal": "rbf"}, UnknownColumnError, ("'kernal' is not a column", "closest: 'kernel'")),
    ({"C__gtt": 1}, UnknownColumnError, ("'C__gtt' is not a column", "'gtt' a lookup", "between")),
    ({"C__gt": None}, FilterError, ("C__gt= takes one value", "got None", "C__isnull=True")),
    ({"C__ne": [1, 2]}, FilterError, ("C__ne= takes one value", "got [1, 2]", "C__in=[...]")),
    ({"kernel__in": "rbf"}, FilterError, ("kernel__in= takes a list", "got 'rbf'")),
    ({"C__between": (1,)}, FilterError, ("C__between= takes a pair", "got (1,)")),
    ({"C__isnull": "yes"}, FilterError, ("C__isnull= takes True or False", "got 'yes'")),
    ({"C__startswith": "1"}, FilterError, ("C__startswith= needs a text column", "Double")),
    ({"kernel__contains": 1}, FilterError, ("kernel__contains= takes a string", "got 1")),
]


@pytest.mark.parametrize(("filters", "error", "parts"), KEYWORD_ERRORS, ids=str)
def test_keyword_filter_mistake_raises_same_message_in_database_and_frame(
    make_tree: Any, filters: dict[str, Any], error: type[Exception], parts: tuple[str, ...]
) -> None:
    store = naklar.load(make_tree(RUNS, fmt="json"), dict_file="conf.json")
    frame = store.frame()
    with pytest.raises(error) as from_database:
        store.select("i", **filters)
    with pytest.raises(error) as from_frame:
        frame.naklar.select("i", **filters)
    assert str(from_database.value) == str(from_frame.value)
    assert_mentions(str(from_database.value), *parts)


UNSUPPORTED = "has no pandas equivalent here. On frames use comparisons, in_, between, like, "
UNSUPPORTED += "startswith, endswith, contains, is_(None) and &, |, ~; or filter in the "
UNSUPPORTED += "database with store.select(...)"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda E: sa.func.lower(E.kernel) == "rbf",
            f"cannot evaluate lower(experiment.kernel) on a DataFrame: a SQL function "
            f"{UNSUPPORTED}",
        ),
        (
            lambda E: sa.cast(E.C, sa.Integer) == 1,
            f'cannot evaluate CAST(experiment."C" AS INTEGER) on a DataFrame: a Cast {UNSUPPORTED}',
        ),
        (
            lambda E: E.C / 2 > 1,
            f'cannot evaluate experiment."C" / CAST(2 AS NUMERIC) on a DataFrame: the '
            f"operator 'truediv' "
            f"{UNSUPPORTED}",
        ),
        (
            lambda E: E.kernel == 1,
            f"cannot evaluate experiment.kernel = 1 on a DataFrame: a comparison of text "
            f"with number {UNSUPPORTED}",
        ),
        (
            lambda E: E.C.is_(E.i),
            f'cannot evaluate experiment."C" IS experiment.i on a DataFrame: IS with '
            f"something other than None, True or False {UNSUPPORTED}",
        ),
        (
            lambda E: sa.and_(E.kernel),
            f"cannot evaluate experiment.kernel on a DataFrame: a condition that is not a "
            f"boolean column {UNSUPPORTED}",
        ),
    ],
)
def test_frame_mask_unsupported_expression_raises_filter_error(
    make_tree: Any, build: Any, message: str
) -> None:
    store = naklar.load(make_tree(RUNS, fmt="json"), dict_file="conf.json")
    with pytest.raises(FilterError) as error:
        store.frame().naklar.select(build(store.E))
    assert str(error.value) == message


def test_datetime_comparison_selects_same_rows_in_database_and_frame(
    any_engine: sa.Engine, table_name: str, make_tree: Any
) -> None:
    start = dt.datetime(2015, 10, 21, 14, 10, 54)
    runs = {str(i): {"i": i, "started": start + dt.timedelta(days=i)} for i in range(3)}
    runs["3"] = {"i": 3, "started": None}
    store = naklar.Store(any_engine, table_name=table_name)
    store.load(make_tree(runs, fmt="pkl"))
    try:
        E = store.E
        assert selected(store, E.started > start) == ([1, 2], [1, 2])
        assert selected(store, started__between=(start, start + dt.timedelta(days=1))) == (
            [0, 1],
            [0, 1],
        )
        assert selected(store, E.started != start) == ([1, 2], [1, 2])
    finally:
        assert store.table is not None
        store.table.drop(any_engine)


def test_frame_mask_nan_is_missing_like_sql_null() -> None:
    import pandas as pd

    frame = pd.DataFrame({"C": [1.0, float("nan")]})
    assert frame_mask(frame, [sa.column("C") != 2]).tolist() == [True, False]
    assert frame_mask(frame, [sa.not_(sa.column("C") == 2)]).tolist() == [True, False]


@pytest.mark.parametrize(
    ("pattern", "escape", "regex"),
    [
        ("r%", None, "r.*"),
        ("r_f", None, "r.f"),
        ("a.b", None, r"a\.b"),
        ("50/%", "/", "50%"),
        ("a//b", "/", "a/b"),
    ],
)
def test_like_to_regex_translates_wildcards_and_escapes(
    pattern: str, escape: str | None, regex: str
) -> None:
    assert like_to_regex(pattern, escape) == regex


def test_select_with_unknown_argument_type_raises_filter_error(make_tree: Any) -> None:
    store = naklar.load(make_tree(RUNS, fmt="json"), dict_file="conf.json")
    with pytest.raises(FilterError) as from_database:
        store.select(3)
    with pytest.raises(FilterError) as from_frame:
        store.frame().naklar.select(3)
    assert str(from_database.value) == str(from_frame.value)
    assert_mentions(str(from_database.value), "got 3 of type int", "key=value")


def test_filters_doctests_pass() -> None:
    import doctest

    import naklar._query.filters

    assert doctest.testmod(naklar._query.filters).failed == 0
