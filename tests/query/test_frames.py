"""Frames from the database: dtypes, order, getters, Parquet, and the iris sweep as a frame."""

from __future__ import annotations

import datetime as dt
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

import naklar
from naklar import decorator, experiment
from naklar._query.frames import dtype_for, frame_from_columns

from messages import assert_mentions

WHEN = dt.datetime(2015, 10, 21, 14, 10, 54)

COMPLETE = {
    "0": {"f1": 0.5, "n": 1, "ok": True, "kernel": "rbf", "started": WHEN},
    "1": {"f1": 0.7, "n": 2, "ok": False, "kernel": "poly", "started": WHEN},
}
GAPPY = {
    "0": {"f1": 0.5, "n": 1, "ok": True, "kernel": "rbf", "started": WHEN},
    "1": {"f1": None, "n": None, "ok": None, "kernel": None, "started": None},
    "2": {"shrinking": True},  # every other key missing
}


def load(make_tree: Any, runs: dict[str, Any], **options: Any) -> naklar.Store:
    return naklar.load(make_tree(runs, fmt="pkl"), **options)


@pytest.mark.parametrize(
    ("runs", "dtype_backend", "expected"),
    [
        (COMPLETE, None, ["float64", "int64", "bool", "string", "datetime64[us]"]),
        (GAPPY, None, ["float64", "Int64", "boolean", "string", "datetime64[us]"]),
        (COMPLETE, "numpy_nullable", ["Float64", "Int64", "boolean", "string", "datetime64[us]"]),
        (
            GAPPY,
            "pyarrow",
            [
                "double[pyarrow]",
                "int64[pyarrow]",
                "bool[pyarrow]",
                "string",
                "timestamp[us][pyarrow]",
            ],
        ),
    ],  # fmt: skip
)
def test_frame_dtypes_follow_column_types(
    make_tree: Any, runs: dict[str, Any], dtype_backend: Any, expected: list[str]
) -> None:
    frame = load(make_tree, runs).frame(
        "f1", "n", "ok", "kernel", "started", dtype_backend=dtype_backend
    )
    assert [str(dtype) for dtype in frame.dtypes] == expected


def test_frame_missing_values_are_pandas_missing(make_tree: Any) -> None:
    frame = load(make_tree, GAPPY).frame("f1", "n", "ok", "kernel", "started")
    assert frame.isna().sum().tolist() == [2, 2, 2, 2, 2]
    assert frame.loc[0].tolist() == [0.5, 1, True, "rbf", pd.Timestamp(WHEN)]


def test_select_as_frame_equals_frame_shorthand(make_tree: Any) -> None:
    store = load(make_tree, GAPPY)
    pd.testing.assert_frame_equal(
        store.select("n", "kernel", as_frame=True, n=1), store.frame("n", "kernel", n=1)
    )


def test_frame_dtype_depends_on_missing_values_in_selected_rows(make_tree: Any) -> None:
    store = load(make_tree, GAPPY)
    assert str(store.frame("n", n=1)["n"].dtype) == "int64"
    assert str(store.frame("n")["n"].dtype) == "Int64"


def test_frame_columns_in_order_asked_and_rows_in_database_order(make_tree: Any) -> None:
    runs = {str(i): {"i": i, "kernel": "rbf" if i % 2 else "poly"} for i in (10, 2, 1)}
    frame = load(make_tree, runs).frame("kernel", "naklar_dir", "i")
    assert frame.columns.tolist() == ["kernel", "naklar_dir", "i"]
    assert frame["naklar_dir"].tolist() == ["1", "2", "10"]  # natural order, not 1, 10, 2


def test_frame_without_columns_has_every_column_dir_first(make_tree: Any) -> None:
    frame = load(make_tree, COMPLETE).frame()
    assert frame.columns.tolist() == ["naklar_dir", "f1", "n", "ok", "kernel", "started"]


def test_frame_with_no_matching_rows_keeps_dtypes(make_tree: Any) -> None:
    frame = load(make_tree, COMPLETE).frame("f1", "n", "kernel", n=99)
    assert (len(frame), [str(d) for d in frame.dtypes]) == (0, ["float64", "int64", "string"])


def test_frame_dtype_backend_rejects_unknown_value(make_tree: Any) -> None:
    with pytest.raises(ValueError) as error:
        load(make_tree, COMPLETE).frame(dtype_backend="arrow")
    assert_mentions(str(error.value), "dtype_backend", "'pyarrow'", "got 'arrow'")


def test_frame_applies_getters_like_objects_do(make_tree: Any, tmp_path: Path) -> None:
    (tmp_path / "local" / "results" / "0").mkdir(parents=True)
    runs = {
        "0": {"i": 0, "output": "/cluster/results/0"},
        "1": {"i": 1, "output": None},
    }
    local = partial(decorator.translate_path, ptrn="^/cluster/", replace=f"{tmp_path}/local/")
    experiment.initialise(make_tree(runs), decorators={"output": (local,)})
    frame = experiment.frame("i", "output")
    objects = experiment.select()
    assert frame["output"].tolist()[:1] == [objects[0].output] == [f"{tmp_path}/local/results/0"]
    assert frame["output"].isna().tolist() == [False, True]
    assert str(frame["output"].dtype) == "string"  # translated paths are still text
    # a filter compares what is stored on disk, as in SQL
    assert experiment.frame("i", output="/cluster/results/0")["i"].tolist() == [0]


def test_frame_keeps_getter_values_that_do_not_fit_the_column_as_objects(
    make_tree: Any,
) -> None:
    runs = {"0": {"output": "a"}, "1": {"output": "bb"}}
    store = load(make_tree, runs, decorators={"output": (lambda self, value: len(value),)})
    frame = store.frame("output")
    assert frame["output"].tolist() == [1, 2]
    assert str(frame["output"].dtype) == "int64"


@pytest.mark.parametrize("dtype_backend", [None, "numpy_nullable", "pyarrow"])
def test_frame_round_trips_through_parquet_with_dtypes(
    make_tree: Any, tmp_path: Path, dtype_backend: Any
) -> None:
    store = load(make_tree, GAPPY)
    frame = store.frame(dtype_backend=dtype_backend)
    frame.to_parquet(tmp_path / "sweep.parquet")
    read_back = pd.read_parquet(tmp_path / "sweep.parquet")
    pd.testing.assert_frame_equal(read_back, frame)
    # the same rows; only the full frame's nullable Int64 stays nullable
    pd.testing.assert_frame_equal(
        read_back.naklar.select("naklar_dir", "n", n__ge=1, kernel="rbf"),
        store.frame("naklar_dir", "n", n__ge=1, kernel="rbf", dtype_backend=dtype_backend),
        check_dtype=dtype_backend is not None,
    )


def test_frame_read_from_csv_selects_same_rows(make_tree: Any, tmp_path: Path) -> None:
    store = load(make_tree, GAPPY)
    store.frame().to_csv(tmp_path / "sweep.csv", index=False)
    read_back = pd.read_csv(tmp_path / "sweep.csv", dtype={"naklar_dir": str})
    selected = read_back.naklar.select("naklar_dir", store.E.f1 < 0.6, kernel__startswith="r")
    assert (
        selected["naklar_dir"].tolist()
        == store.frame("naklar_dir", store.E.f1 < 0.6, kernel__startswith="r")[
            "naklar_dir"
        ].tolist()
        == ["0"]
    )


def test_frame_from_columns_builds_100k_rows() -> None:
    rows = [(i * 0.5, i, i % 2 == 0, f"results/{i}") for i in range(100_000)]
    types = [sa.Double(), sa.BigInteger(), sa.Boolean(), sa.Text()]
    frame = frame_from_columns(list(zip(*rows, strict=True)), ["f1", "i", "ok", "path"], types)
    assert frame.shape == (100_000, 4)
    assert [str(d) for d in frame.dtypes] == ["float64", "int64", "bool", "string"]


def test_dtype_for_text_is_pandas_string_dtype() -> None:
    assert dtype_for(sa.Text(), has_missing=False) == pd.StringDtype()


def test_iris_sweep_pivots_to_numeric_table_and_renders_heatmap(
    iris_tree: Path, tmp_path: Path
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seaborn = pytest.importorskip("seaborn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", naklar.NaklarWarning)  # 'results' arrays are dropped
        store = naklar.load(iris_tree)
    frame = store.frame("kernel", "C", "f1")
    table = frame.pivot_table(index="kernel", columns="C", values="f1")
    assert table.shape == (3, 4)
    assert table.index.tolist() == ["linear", "poly", "rbf"]
    assert table.columns.tolist() == [0.001, 0.1, 1.0, 2.0]
    assert all(pd.api.types.is_float_dtype(dtype) for dtype in table.dtypes)
    assert table.notna().all().all()

    axes = seaborn.heatmap(table, annot=True, fmt=".2f")
    png = tmp_path / "heatmap.png"
    axes.figure.savefig(png)
    plt.close(axes.figure)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5_000


def test_iris_sweep_frame_works_with_groupby_and_query(iris_tree: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", naklar.NaklarWarning)
        store = naklar.load(iris_tree)
    frame = store.frame()
    best = frame.groupby("kernel")["f1"].max()
    assert best.index.tolist() == ["linear", "poly", "rbf"]
    assert frame.query("kernel == 'rbf' and C >= 1")["i"].tolist() == [6, 7]
    assert frame.naklar.select("i", store.E.f1 > 0.82)["i"].tolist() == [
        row.i for row in store.select("i", store.E.f1 > 0.82)
    ]


def test_frames_doctests_pass() -> None:
    import doctest

    import naklar._query.frames

    assert doctest.testmod(naklar._query.frames).failed == 0
