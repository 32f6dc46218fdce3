"""Values survive the round trip settings file -> table -> select, on every backend."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import pickle
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naklar
from naklar.errors import NaklarWarning

UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
LONG_TEXT = "ab€" * 100_000  # beyond MySQL's 64 KiB TEXT


@pytest.fixture
def load_values(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> Iterator[Callable[..., naklar.Store]]:
    """``load_values([v0, v1], key='x')``: one run per value, loaded on each backend."""
    stores: list[naklar.Store] = []

    def load(values: list[Any], key: str = "x") -> naklar.Store:
        root = tmp_path / f"results{len(stores)}"
        for index, value in enumerate(values):
            (root / str(index)).mkdir(parents=True)
            (root / str(index) / "conf.pkl").write_bytes(pickle.dumps({key: value}))
        store = naklar.Store(any_engine, table_name=f"{table_name}_{len(stores)}")
        stores.append(store)
        store.load(str(root), flatten=False)  # dicts as JSON text, not columns
        return store

    yield load
    with any_engine.begin() as connection:
        for store in stores:
            if store.table is not None:
                store.table.drop(connection, checkfirst=True)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2**63 - 1, -(2**63)], [2**63 - 1, -(2**63)]),
        ([np.int64(2**63 - 1), np.uint8(255)], [2**63 - 1, 255]),
        ([0.8266666666666667, 5e-324, 1.7976931348623157e308], None),
        ([0.1, np.float32(0.1)], [0.1, float(np.float32(0.1))]),
        ([1, 2.5], [1.0, 2.5]),
        ([True, np.bool_(False)], [True, False]),
        ([LONG_TEXT, ""], None),
        (["naïve ☃ 😀", "tab\tnew\nline"], None),
        ([dt.datetime(2015, 10, 21, 12, 0, 0, 123456), None], None),
        (
            [pd.Timestamp("2015-10-21 12:00:00.5"), np.datetime64("2015-10-21T12:00")],
            [dt.datetime(2015, 10, 21, 12, 0, 0, 500000), dt.datetime(2015, 10, 21, 12, 0)],
        ),
        (
            [dt.datetime(2015, 10, 21, 14, 0, tzinfo=PLUS2), pd.Timestamp("2015-10-21 12:00Z")],
            [dt.datetime(2015, 10, 21, 12, 0, tzinfo=UTC)] * 2,
        ),
        ([dt.date(2015, 10, 21), dt.date(1, 1, 1)], None),
        ([b"\x00\xff bytes", bytearray(b"x" * 70_000)], [b"\x00\xff bytes", b"x" * 70_000]),
        ([[1, 2], {"lr": 0.1, 3: None}], ["[1, 2]", '{"lr": 0.1, "3": null}']),
        ([{3, 1, 2}, (dt.date(2015, 1, 2),)], ["[1, 2, 3]", '["2015-01-02"]']),
        ([None, pd.NaT], [None, None]),
    ],
    ids=[
        "int64_extremes",
        "numpy_ints",
        "float_last_bit",
        "float32",
        "int_float_widen",
        "bools",
        "long_text",
        "unicode_text",
        "naive_datetime",
        "timestamp_datetime64",
        "aware_datetime_utc",
        "dates",
        "bytes",
        "json_containers",
        "sets_sorted",
        "missing",
    ],
)
def test_load_value_reads_back(
    load_values: Callable[..., naklar.Store], values: list[Any], expected: list[Any] | None
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", NaklarWarning)
        store = load_values(values)

    read = [value for (value,) in store.select("x")]
    assert read == (values if expected is None else expected)
    assert [type(value) for value in read] == [
        type(value) for value in (values if expected is None else expected)
    ]


@pytest.mark.parametrize(
    ("values", "expected", "warning"),
    [
        (
            [2**64, 1],
            ["18446744073709551616", "1"],
            "keys with values of incompatible types are stored as text: 'x' (Integer, String). "
            "Make the values one type in load_func= to get a typed column.\n"
            "values stored in another form than their type: 'x' (integers beyond 64 bits are "
            "stored as text). Convert them in load_func= to choose the form.",
        ),
        (
            [decimal.Decimal("0.10"), decimal.Decimal("1E+3")],
            ["0.10", "1E+3"],
            "values stored in another form than their type: 'x' (Decimal values are stored as "
            "text). Convert them in load_func= to choose the form.",
        ),
        (
            [1, "a"],
            ["1", "a"],
            "keys with values of incompatible types are stored as text: 'x' (Integer, String). "
            "Make the values one type in load_func= to get a typed column.",
        ),
        (
            [True, 1.5],
            ["True", "1.5"],
            "keys with values of incompatible types are stored as text: 'x' (Boolean, Float). "
            "Make the values one type in load_func= to get a typed column.",
        ),
        (
            [dt.datetime(2015, 1, 1, tzinfo=UTC), dt.datetime(2015, 1, 1)],
            ["2015-01-01T00:00:00+00:00", "2015-01-01T00:00:00"],
            "keys with values of incompatible types are stored as text: 'x' (DateTime, "
            "DateTime(UTC)). Make the values one type in load_func= to get a typed column.",
        ),
        (
            [0.8266666666666667, "n/a", math.nan],
            ["0.8266666666666667", "n/a", "nan"],
            "keys with values of incompatible types are stored as text: 'x' (Float, String). "
            "Make the values one type in load_func= to get a typed column.",
        ),
    ],
    ids=["big_int", "decimal", "int_str", "bool_float", "aware_naive", "float_str"],
)
def test_load_value_changing_form_warns(
    load_values: Callable[..., naklar.Store], values: list[Any], expected: list[Any], warning: str
) -> None:
    with pytest.warns(NaklarWarning) as records:
        store = load_values(values)

    assert [str(record.message) for record in records] == warning.split("\n")
    assert [value for (value,) in store.select("x")] == expected


NON_FINITE = [1.5, math.nan, math.inf, -math.inf]
#: What each backend reads back for NON_FINITE, and the warning it gives.
NON_FINITE_BY_BACKEND = {
    "sqlite": ([1.5, None, math.inf, -math.inf], "sqlite", "'x' (NaN in 1 file(s))"),
    "postgresql": ([1.5, math.nan, math.inf, -math.inf], None, None),
    "mysql": (
        [1.5, None, None, None],
        "mysql",
        "'x' (NaN in 1 file(s), inf in 1 file(s), -inf in 1 file(s))",
    ),
}


def test_load_non_finite_floats_per_backend(
    load_values: Callable[..., naklar.Store], any_engine: sa.Engine
) -> None:
    expected, dialect, described = NON_FINITE_BY_BACKEND[any_engine.dialect.name]

    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        store = load_values(NON_FINITE)

    read = [value for (value,) in store.select("x")]
    assert [repr(value) for value in read] == [repr(value) for value in expected]
    assert [str(record.message) for record in records] == (
        [
            f"{dialect} cannot store these float values, they are stored as NULL: {described}. "
            "Use PostgreSQL to keep NaN and inf, or replace them in load_func=."
        ]
        if dialect
        else []
    )
    assert store.report is not None
    assert store.report.non_finite == {"x": {"NaN": 1, "inf": 1, "-inf": 1}}


# -- random settings, written and read back (SQLite, to stay fast) ----------------

KEYS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12
).filter(lambda key: key not in ("naklar_id", "naklar_dir"))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
)
SETTINGS = st.dictionaries(KEYS, SCALARS, max_size=6)


def expected_in_column(value: Any, column_values: list[Any]) -> Any:
    """The documented form of ``value`` in a column holding ``column_values``."""
    kinds = {_kind(other) for other in column_values if other is not None}
    if value is None:
        return None
    if kinds == {"int", "float"}:
        return float(value)
    if len(kinds) > 1:  # mixed: text
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return repr(value) if isinstance(value, float) else str(value)
    return value


def _kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else type(value).__name__


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(runs=st.lists(SETTINGS, min_size=1, max_size=4))
def test_load_random_settings_read_back(
    tmp_path_factory: pytest.TempPathFactory, runs: Any
) -> None:
    root = tmp_path_factory.mktemp("random")
    for index, run in enumerate(runs):
        (root / str(index)).mkdir()
        (root / str(index) / "conf.pkl").write_bytes(pickle.dumps(run))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NaklarWarning)
        store = naklar.load(str(root))

    assert store.report is not None
    assert store.report.loaded + len(store.report.skipped) == store.report.files_found == len(runs)
    objects = store.select()
    for run, obj in zip(runs, objects, strict=True):
        for key, value in run.items():
            column = [other.get(key) for other in runs]
            assert obj[key] == expected_in_column(value, column), key


def test_frame_aware_datetime_column(tmp_path: Path) -> None:
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "conf.pkl").write_bytes(
        pickle.dumps({"t": dt.datetime(2015, 1, 1, tzinfo=UTC)})
    )

    frame = naklar.load(str(tmp_path)).frame("t")

    assert frame["t"].tolist() == [pd.Timestamp("2015-01-01", tz="UTC")]


@pytest.mark.parametrize("dtype_backend", [None, "pyarrow"])
def test_frame_date_and_bytes_columns_keep_their_values(
    tmp_path: Path, dtype_backend: str | None
) -> None:
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "conf.pkl").write_bytes(
        pickle.dumps(
            {"d": dt.date(2015, 10, 21), "b": b"\x00\xff", "t": dt.datetime(2015, 1, 1, tzinfo=UTC)}
        )
    )

    frame = naklar.load(str(tmp_path)).frame("d", "b", "t", dtype_backend=dtype_backend)

    assert frame["d"].tolist() == [dt.date(2015, 10, 21)]
    assert frame["b"].tolist() == [b"\x00\xff"]
    assert frame["t"].tolist() == [pd.Timestamp("2015-01-01", tz="UTC")]
    if dtype_backend is None:
        assert frame.dtypes.astype(str).tolist() == ["object", "object", "datetime64[us, UTC]"]
