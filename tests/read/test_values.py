"""Column types come from every file, in the order DateTime, Float, Integer, Boolean, String."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import naklar
from naklar._read.values import Kind, infer_column_kind, normalise_value
from naklar.errors import NaklarWarning, UnsupportedValueError

from messages import assert_mentions

NOON = dt.datetime(2015, 10, 21, 12, 0)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, 2], Kind.INTEGER),
        ([1.5, 2.5], Kind.FLOAT),
        ([1, 2.5], Kind.FLOAT),  # int and float widen to Float
        ([2.5, 1], Kind.FLOAT),  # whichever comes first
        ([True, False], Kind.BOOLEAN),
        ([True, 1], Kind.STRING),  # bool is not an int here
        ([True, 1.5], Kind.STRING),
        (["a", "b"], Kind.STRING),
        ([1, "a"], Kind.STRING),
        ([NOON, NOON], Kind.DATETIME),
        ([NOON, 1], Kind.STRING),
        ([None, 1], Kind.INTEGER),  # None does not decide the type
        ([None, 1.5, None], Kind.FLOAT),
        ([None, None], Kind.STRING),
        ([np.float64(0.76), np.float64(0.8)], Kind.FLOAT),  # numpy scalars count as Python kinds
        ([np.int64(3), 4], Kind.INTEGER),
        ([np.int32(3), np.float32(0.5)], Kind.FLOAT),
        ([np.bool_(True), False], Kind.BOOLEAN),
        ([np.datetime64("2015-10-21T12:00"), NOON], Kind.DATETIME),
        ([pd.Timestamp("2015-10-21 12:00"), NOON], Kind.DATETIME),
        ([[1, 2], (3,)], Kind.STRING),  # lists and tuples are JSON text
        ([{1, 2}], Kind.STRING),
    ],
)
def test_infer_column_kind_from_all_values(values: list[Any], kind: Kind) -> None:
    kinds = set()
    for value in values:
        normalised = normalise_value(value)
        assert isinstance(normalised, tuple), value
        if normalised[0] is not None:
            kinds.add(normalised[0])

    assert infer_column_kind(kinds) is kind


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (np.float64(0.8266666666666667), 0.8266666666666667),
        (np.int64(-(2**63)), -(2**63)),
        (np.bool_(False), False),
        (np.datetime64("2015-10-21T12:00:00.000001"), dt.datetime(2015, 10, 21, 12, 0, 0, 1)),
        (pd.Timestamp("2015-10-21 12:00"), NOON),
        ([1, np.int64(2)], "[1, 2]"),
        ((1, "a"), '[1, "a"]'),
        ({3, 1, 2}, "[1, 2, 3]"),  # sets sorted: the same set always gives the same text
        ({"a": 1}, '{"a": 1}'),
    ],
)
def test_normalise_value_gives_plain_python(value: Any, plain: Any) -> None:
    normalised = normalise_value(value)

    assert isinstance(normalised, tuple)
    assert normalised[1] == plain
    assert type(normalised[1]) is type(plain)


@pytest.mark.parametrize("value", [np.zeros(3), object(), [np.zeros(2)], {"a": object()}])
def test_normalise_value_reports_unsupported(value: Any) -> None:
    assert not isinstance(normalise_value(value), tuple)


@pytest.mark.filterwarnings("ignore:keys with values of incompatible types")
@pytest.mark.parametrize(
    ("column_values", "sql_type", "read_back"),
    [
        ([1, 2.5], sa.Double, [1.0, 2.5]),
        ([1, 2], sa.BigInteger, [1, 2]),
        ([True, False], sa.Boolean, [True, False]),
        ([True, 1], sa.Text, ["True", "1"]),
        ([1, "a"], sa.Text, ["1", "a"]),
        ([None, 3], sa.BigInteger, [None, 3]),
        ([np.float64(0.76), np.float64(0.8)], sa.Double, [0.76, 0.8]),
        ([NOON, pd.Timestamp("2016-01-01")], sa.DateTime, [NOON, dt.datetime(2016, 1, 1)]),
        ([[1, 2], ["a"]], sa.Text, ["[1, 2]", '["a"]']),
    ],
)
def test_loaded_column_has_inferred_type_and_values(
    make_tree: Any, column_values: list[Any], sql_type: type, read_back: list[Any]
) -> None:
    root = make_tree({str(i): {"x": value} for i, value in enumerate(column_values)})

    store = naklar.load(root, on_error="raise")

    assert isinstance(store.table.c["x"].type, sql_type)
    assert [row.x for row in store.select("x")] == read_back


def test_string_fallback_warns_naming_key_and_types(make_tree: Any) -> None:
    root = make_tree({"0": {"x": 1}, "1": {"x": "one"}})

    with pytest.warns(NaklarWarning) as warned:
        report = naklar.load(root).report

    assert [str(w.message) for w in warned] == [
        "keys with values of incompatible types are stored as text: 'x' (Integer, String). "
        "Make the values one type in load_func= to get a typed column."
    ]
    assert report is not None and report.string_fallbacks == {"x": ["Integer", "String"]}


def test_unsupported_value_is_left_out_with_one_warning(make_tree: Any) -> None:
    root = make_tree(
        {str(i): {"i": i, "pred": np.arange(3), "model": complex(1, 2)} for i in range(3)}
    )

    with pytest.warns(NaklarWarning) as warned:
        store = naklar.load(root)

    assert len(warned) == 1
    message = str(warned[0].message)
    assert "'pred' (values of type ndarray in 3 file(s) map onto no column type)" in message
    assert "'model' (values of type complex in 3 file(s) map onto no column type)" in message
    assert store.columns == ["naklar_dir", "i"]
    assert store.select("i") == [(0,), (1,), (2,)]


def test_unsupported_value_raises_naming_key_type_and_file(make_tree: Any) -> None:
    root = make_tree({"0": {"i": 0}, "1": {"i": 1, "pred": np.arange(3)}})

    with pytest.raises(UnsupportedValueError) as raised:
        naklar.load(root, on_unsupported="raise")

    assert_mentions(
        str(raised.value),
        "key 'pred'",
        str(root / "1" / "conf.pkl"),
        "ndarray",
        "restrict_keys=",
        "on_unsupported='warn'",
    )
    assert isinstance(raised.value, naklar.NaklarError)


def test_unsupported_value_ignored_silently_on_request(
    make_tree: Any, recwarn: pytest.WarningsRecorder
) -> None:
    root = make_tree({"0": {"i": 0, "pred": np.arange(3)}})

    store = naklar.load(root, on_unsupported="ignore")

    assert store.columns == ["naklar_dir", "i"]
    assert not [w for w in recwarn if issubclass(w.category, NaklarWarning)]


def test_restrict_keys_avoids_the_unsupported_warning(
    make_tree: Any, recwarn: pytest.WarningsRecorder
) -> None:
    root = make_tree({"0": {"i": 0, "pred": np.arange(3)}})

    store = naklar.load(root, restrict_keys={"i"})

    assert store.columns == ["naklar_dir", "i"]
    assert not [w for w in recwarn if issubclass(w.category, NaklarWarning)]
