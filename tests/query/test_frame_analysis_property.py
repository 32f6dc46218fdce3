"""Rules of the sweep analysis that hold for every frame of runs (hypothesis)."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import naklar  # noqa: F401 (registers df.naklar)

# Small value sets, so that combinations repeat and grids have holes; None is a
# run without the key.
_values = st.one_of(st.none(), st.integers(0, 2))
_runs = st.lists(st.tuples(_values, _values, _values), min_size=1, max_size=25)


def _frame(runs: list[tuple[int | None, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(runs, columns=["a", "b", "seed"], dtype="Int64")
    frame["f1"] = [float(index) for index in range(len(runs))]
    frame.attrs["naklar_metrics"] = ["f1"]
    return frame


@given(_runs)
@settings(max_examples=150, deadline=None)
def test_missing_and_present_cells_make_the_grid(runs: list[tuple[int | None, ...]]) -> None:
    frame = _frame(runs)
    missing = frame.naklar.missing("a", "b")

    present = set(frame[["a", "b"]].dropna().itertuples(index=False, name=None))
    absent = set(missing.itertuples(index=False, name=None))
    levels = [frame[name].dropna().nunique() for name in ("a", "b")]
    assert not present & absent
    assert len(present) + len(absent) == math.prod(levels)
    assert len(absent) == len(missing)


@given(_runs)
@settings(max_examples=150, deadline=None)
def test_aggregate_drops_no_run(runs: list[tuple[int | None, ...]]) -> None:
    frame = _frame(runs)
    table = frame.naklar.aggregate("f1", over="seed", stats=("mean", "count"))

    assert table["n_runs"].sum() == len(frame)
    assert table["f1_count"].sum() == len(frame)


@given(_runs)
@settings(max_examples=150, deadline=None)
def test_every_setting_varies_or_is_constant_or_never_set(
    runs: list[tuple[int | None, ...]],
) -> None:
    frame = _frame(runs)
    varying, constants = set(frame.naklar.varying()), set(frame.naklar.constants())
    never_set = {name for name in ("a", "b", "seed") if frame[name].isna().all()}

    assert varying | set(constants) | never_set >= {"a", "b", "seed"}
    assert not varying & constants and not varying & never_set
    assert "f1" not in varying


@given(_runs)
@settings(max_examples=150, deadline=None)
def test_duplicates_are_the_rows_pandas_calls_duplicated(
    runs: list[tuple[int | None, ...]],
) -> None:
    frame = _frame(runs)
    expected = frame.index[frame.duplicated(["a", "b", "seed"], keep=False)]

    assert sorted(frame.naklar.duplicates().index) == sorted(expected)
