"""SettingsRows: rows kept as value tuples behave like the list of dicts they stand for."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from naklar._read.rows import SettingsRows

_KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
_VALUES = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=3))
_SETTINGS = st.dictionaries(_KEYS, _VALUES, max_size=5)
_ROWS = st.lists(st.tuples(st.text(min_size=1, max_size=4), _SETTINGS), max_size=12)


def _rows_of(pairs: list[tuple[str, dict[str, Any]]]) -> SettingsRows:
    rows = SettingsRows()
    for directory, settings in pairs:
        rows.append(directory, dict(settings))
    return rows


def test_rows_of_one_key_set_share_it() -> None:
    rows = _rows_of([("0", {"C": 1, "f1": 0.5}), ("1", {"C": 2, "f1": 0.7})])

    assert rows.key_sets == [("C", "f1")]
    assert rows.key_set_of == [0, 0]
    assert rows.values == [(1, 0.5), (2, 0.7)]


def test_columns_of_one_key_set_come_from_one_transpose() -> None:
    rows = _rows_of([("0", {"C": 1, "f1": 0.5}), ("1", {"C": 2, "f1": 0.7})])

    assert [list(column) for column in rows.columns(["f1", "missing", "C"])] == [
        [0.5, 0.7],
        [None, None],
        [1, 2],
    ]


def test_columns_of_no_rows_are_empty() -> None:
    assert SettingsRows().columns(["C"]) == [[]]


def test_keys_keep_the_order_they_first_appear_in() -> None:
    rows = _rows_of([("0", {"b": 1}), ("1", {"c": 1, "a": 2, "b": 3}), ("2", {"d": 0})])

    assert rows.keys() == ["b", "c", "a", "d"]


def test_a_dropped_key_leaves_the_others_in_place() -> None:
    rows = _rows_of([("0", {"a": 1, "x": [1], "b": 2}), ("1", {"a": 3, "b": 4})])

    rows.drop_keys({"x"})

    assert list(rows) == [("0", {"a": 1, "b": 2}), ("1", {"a": 3, "b": 4})]
    assert rows.key_sets == [("a", "b")]  # the two key sets became one


def test_a_renamed_key_keeps_its_place_among_the_keys() -> None:
    rows = _rows_of([("0", {"a": 1, "path": "p", "b": 2})])

    rows.rename_key("path", "path_1")

    assert list(rows) == [("0", {"a": 1, "path_1": "p", "b": 2})]
    assert rows.keys() == ["a", "path_1", "b"]


def test_rows_appended_after_a_rename_join_the_renamed_key_set() -> None:
    rows = _rows_of([("0", {"a": 1})])
    rows.rename_key("a", "b")

    rows.append("1", {"b": 2})

    assert rows.key_set_of == [0, 0]


@given(_ROWS)
def test_rows_give_back_every_directory_and_dict_in_order(
    pairs: list[tuple[str, dict[str, Any]]],
) -> None:
    assert list(_rows_of(pairs)) == pairs


@given(_ROWS, st.lists(_KEYS, max_size=6))
def test_columns_hold_each_rows_value_or_none(
    pairs: list[tuple[str, dict[str, Any]]], keys: list[str]
) -> None:
    columns = _rows_of(pairs).columns(keys)

    assert [list(column) for column in columns] == [
        [settings.get(key) for _, settings in pairs] for key in keys
    ]


@given(_ROWS)
def test_keys_are_those_of_the_dicts_in_first_appearance_order(
    pairs: list[tuple[str, dict[str, Any]]],
) -> None:
    seen: dict[str, None] = {}
    for _, settings in pairs:
        seen.update(dict.fromkeys(settings))

    assert _rows_of(pairs).keys() == list(seen)


@given(_ROWS, _ROWS)
def test_extending_rows_is_appending_the_other_rows(
    first: list[tuple[str, dict[str, Any]]], second: list[tuple[str, dict[str, Any]]]
) -> None:
    rows = _rows_of(first)
    rows.extend(_rows_of(second))

    assert list(rows) == first + second
    assert rows == _rows_of(first + second)  # numbered as if appended one by one


@given(_ROWS, st.sets(_KEYS))
def test_dropping_keys_is_popping_them_from_every_dict(
    pairs: list[tuple[str, dict[str, Any]]], dropped: set[str]
) -> None:
    rows = _rows_of(pairs)
    rows.drop_keys(dropped)

    expected = [
        (directory, {key: value for key, value in settings.items() if key not in dropped})
        for directory, settings in pairs
    ]
    assert list(rows) == expected
    assert len(rows.key_sets) == len({tuple(settings) for _, settings in expected})


@given(_ROWS)
def test_rows_survive_pickling(pairs: list[tuple[str, dict[str, Any]]]) -> None:
    rows = pickle.loads(pickle.dumps(_rows_of(pairs)))
    rows.append("after", {"a": 1})

    assert list(rows) == [*pairs, ("after", {"a": 1})]
    assert rows == _rows_of([*pairs, ("after", {"a": 1})])
