"""``df.naklar`` sweep analysis on a sweep with known answers, from a store and from Parquet.

The sweep (``tests/trees.py``): lr x width x seed (3 x 4 x 3) with one (lr, width)
cell never run, one seed lost, one run duplicated; optimizer and dataset constant;
momentum only where width is 64; metrics f1 and acc.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import naklar
from naklar.errors import NaklarError, UnknownColumnError
from tests.trees import (
    SWEEP_DUPLICATED,
    SWEEP_METRICS,
    SWEEP_NOISE,
    SWEEP_REMOVED,
    sweep_base,
    sweep_f1,
    write_sweep,
)

SETTINGS_IN_ORDER = ["lr", "width", "seed", "momentum"]


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep") / "results"
    write_sweep(root)
    return root


@pytest.fixture(params=["store", "parquet"])
def sweep(request: pytest.FixtureRequest, sweep_root: Path, tmp_path: Path) -> pd.DataFrame:
    """The sweep's frame from a store loaded with ``metrics=``, or read back from Parquet."""
    frame = naklar.load(sweep_root, metrics=SWEEP_METRICS, workers=1).frame()
    if request.param == "parquet":
        frame.to_parquet(tmp_path / "sweep.parquet")
        frame = pd.read_parquet(tmp_path / "sweep.parquet")
    return frame


def test_frame_carries_metrics_in_attrs(sweep: pd.DataFrame) -> None:
    assert sweep.attrs["naklar_metrics"] == ["acc", "f1"]


def test_varying_lists_settings_without_metrics_and_naklar_columns(sweep: pd.DataFrame) -> None:
    assert sorted(sweep.naklar.varying()) == sorted(SETTINGS_IN_ORDER)


def test_varying_keeps_column_order(sweep: pd.DataFrame) -> None:
    order = [column for column in sweep.columns if column in SETTINGS_IN_ORDER]
    assert sweep.naklar.varying() == order


def test_varying_explicit_metrics_override_the_frames(sweep: pd.DataFrame) -> None:
    assert "f1" in sweep.naklar.varying(metrics=["acc"])
    assert "f1" not in sweep.naklar.varying(metrics="f*")


def test_varying_without_known_metrics_counts_them_as_settings() -> None:
    frame = pd.DataFrame({"C": [1, 2], "f1": [0.5, 0.6]})
    assert frame.naklar.varying() == ["C", "f1"]


def test_varying_key_in_some_runs_only_varies() -> None:
    frame = pd.DataFrame({"C": [1, 1], "momentum": [0.9, None]})
    assert frame.naklar.varying() == ["momentum"]


def test_constants_are_the_columns_with_one_value_in_every_run(sweep: pd.DataFrame) -> None:
    assert sweep.naklar.constants() == {"optimizer": "adam", "dataset": "iris"}


def test_constants_leave_out_a_key_some_runs_lack() -> None:
    frame = pd.DataFrame({"momentum": [0.9, None], "data": ["iris", "iris"]})
    assert frame.naklar.constants() == {"data": "iris"}


def test_constants_are_python_values() -> None:
    constants = pd.DataFrame({"n": [3, 3], "x": [0.5, 0.5]}).naklar.constants()
    assert constants == {"n": 3, "x": 0.5}
    assert type(constants["n"]) is int


def test_summary_has_a_row_per_column_with_its_role(sweep: pd.DataFrame) -> None:
    summary = sweep.naklar.summary()

    assert list(summary.index) == list(sweep.columns)
    assert summary.loc["f1", "role"] == "metric"
    assert summary.loc["lr", "role"] == "setting"
    assert summary.loc["naklar_dir", "role"] == "naklar"


def test_summary_counts_runs_share_and_distinct_values(sweep: pd.DataFrame) -> None:
    summary = sweep.naklar.summary()
    runs = len(sweep)

    assert summary.loc["momentum", "runs"] == 9
    assert summary.loc["momentum", "share"] == pytest.approx(9 / runs)
    assert summary.loc["lr", "runs"] == runs
    assert summary.loc["width", "distinct"] == 4
    assert summary.loc["momentum", "distinct"] == 1


def test_summary_min_max_for_numbers_only(sweep: pd.DataFrame) -> None:
    summary = sweep.naklar.summary()

    assert (summary.loc["width", "min"], summary.loc["width", "max"]) == (16, 128)
    assert summary.loc["optimizer", "min"] is None
    assert summary.loc["optimizer", "examples"] == ["adam"]


def test_summary_examples_are_the_first_distinct_values(sweep: pd.DataFrame) -> None:
    assert sweep.naklar.summary().loc["seed", "examples"] == [0, 1, 2]


def test_missing_over_all_params_is_the_removed_cells(sweep: pd.DataFrame) -> None:
    missing = sweep.naklar.missing("lr", "width", "seed")

    found = list(missing.itertuples(index=False, name=None))
    assert sorted(found) == sorted(SWEEP_REMOVED)
    assert list(missing.columns) == ["lr", "width", "seed"]


def test_missing_by_default_uses_the_settings_every_run_has(sweep: pd.DataFrame) -> None:
    missing = sweep.naklar.missing()

    assert set(missing.columns) == {"lr", "width", "seed"}
    assert len(missing) == len(SWEEP_REMOVED)


def test_missing_over_two_params_drops_only_the_empty_cell(sweep: pd.DataFrame) -> None:
    missing = sweep.naklar.missing("lr", "width")
    assert list(missing.itertuples(index=False, name=None)) == [(0.01, 32)]


def test_missing_keeps_the_params_dtypes(sweep: pd.DataFrame) -> None:
    missing = sweep.naklar.missing("lr", "width", "seed")
    assert list(missing.dtypes) == list(sweep[["lr", "width", "seed"]].dtypes)


def test_missing_of_a_full_grid_is_empty() -> None:
    frame = pd.DataFrame({"C": [1, 1, 2, 2], "k": ["a", "b", "a", "b"]})
    assert frame.naklar.missing().empty


def test_missing_refuses_a_grid_nobody_meant() -> None:
    frame = pd.DataFrame({"a": range(5000), "b": range(5000), "c": range(5000)})
    with pytest.raises(NaklarError, match=r"grid of .* pass the parameters"):
        frame.naklar.missing()


def test_missing_names_an_unknown_param(sweep: pd.DataFrame) -> None:
    with pytest.raises(UnknownColumnError, match="widht"):
        sweep.naklar.missing("lr", "widht")


def test_duplicates_are_the_run_that_ran_twice(sweep: pd.DataFrame) -> None:
    duplicates = sweep.naklar.duplicates()

    assert len(duplicates) == 2
    assert set(duplicates[["lr", "width", "seed"]].itertuples(index=False, name=None)) == {
        SWEEP_DUPLICATED
    }
    assert set(duplicates.index) <= set(sweep.index)


def test_duplicates_over_fewer_params_group_their_rows_together(sweep: pd.DataFrame) -> None:
    duplicates = sweep.naklar.duplicates("lr", "width")

    keys = list(duplicates[["lr", "width"]].itertuples(index=False, name=None))
    assert len(duplicates) == len(sweep)  # every (lr, width) cell that ran has several seeds
    first_seen = list(dict.fromkeys(keys))
    assert keys == sorted(keys, key=first_seen.index)


def test_duplicates_none_when_every_combination_is_unique() -> None:
    frame = pd.DataFrame({"C": [1, 2, 3]})
    assert frame.naklar.duplicates().empty


def test_aggregate_gives_known_means_and_sems(sweep: pd.DataFrame) -> None:
    table = sweep.naklar.aggregate("f1").set_index(["lr", "width"])

    full = table.loc[(0.01, 16)]
    assert full["f1_mean"] == pytest.approx(sweep_base(0.01, 16))
    assert full["f1_std"] == pytest.approx(0.01)
    assert full["f1_sem"] == pytest.approx(0.01 / math.sqrt(3))
    assert full["f1_count"] == 3


def test_aggregate_lost_seed_group_is_incomplete(sweep: pd.DataFrame) -> None:
    table = sweep.naklar.aggregate("f1").set_index(["lr", "width"])

    short = table.loc[(0.1, 128)]
    values = [sweep_f1(0.1, 128, seed) for seed in (0, 1)]
    assert short["f1_mean"] == pytest.approx(np.mean(values))
    assert short["f1_sem"] == pytest.approx(np.std(values, ddof=1) / math.sqrt(2))
    assert (short["n_runs"], short["incomplete"]) == (2, True)
    assert table["incomplete"].sum() == 1  # the duplicated run's group is not "complete" alone


def test_aggregate_has_one_row_per_cell_that_ran(sweep: pd.DataFrame) -> None:
    table = sweep.naklar.aggregate()
    assert len(table) == 3 * 4 - 1
    assert {"f1_mean", "acc_mean", "n_runs", "incomplete"} <= set(table.columns)


def test_aggregate_keeps_runs_that_lack_a_grouping_key(sweep: pd.DataFrame) -> None:
    table = sweep.naklar.aggregate("f1")

    assert "momentum" in table.columns
    assert table["n_runs"].sum() == len(sweep)
    assert table["momentum"].isna().sum() == 3 * 3 - 1


def test_aggregate_by_groups_by_exactly_those_keys(sweep: pd.DataFrame) -> None:
    table = sweep.naklar.aggregate("f1", by="seed", stats=("mean",))

    assert list(table.columns) == ["seed", "f1_mean", "n_runs", "incomplete"]
    assert list(table["seed"]) == [0, 1, 2]


def test_aggregate_over_nothing_varying_is_one_row() -> None:
    frame = pd.DataFrame({"seed": [0, 1, 2], "f1": [0.1, 0.2, 0.3]})
    table = frame.naklar.aggregate("f1", stats=("mean", "count"))
    assert table.to_dict("records") == [
        {"f1_mean": pytest.approx(0.2), "f1_count": 3, "n_runs": 3, "incomplete": False}
    ]


def test_aggregate_without_known_metrics_says_how_to_name_them() -> None:
    with pytest.raises(NaklarError, match=r"metrics=\["):
        pd.DataFrame({"seed": [0, 1]}).naklar.aggregate()


def test_aggregate_names_an_unknown_over() -> None:
    with pytest.raises(UnknownColumnError, match=r"'seed' is not a column.*over=.*by="):
        pd.DataFrame({"C": [0, 1], "f1": [0.1, 0.2]}).naklar.aggregate("f1")


def test_best_overall_is_the_highest_f1(sweep: pd.DataFrame) -> None:
    best = sweep.naklar.best("f1")

    assert len(best) == 1
    assert best.iloc[0]["f1"] == pytest.approx(sweep_f1(0.1, 128, 1))
    assert best.index[0] == sweep["f1"].idxmax()


def test_best_min_mode_is_the_lowest(sweep: pd.DataFrame) -> None:
    assert sweep.naklar.best("f1", mode="min").iloc[0]["f1"] == pytest.approx(
        sweep_f1(0.001, 16, 0)
    )


def test_best_per_group_gives_one_run_per_group(sweep: pd.DataFrame) -> None:
    best = sweep.naklar.best("f1", by="lr")

    assert list(best["lr"]) == [0.001, 0.01, 0.1]
    expected = [sweep_f1(lr, 128, 2 if lr != 0.1 else 1) for lr in (0.001, 0.01, 0.1)]
    assert list(best["f1"]) == pytest.approx(expected)


def test_best_ignores_runs_without_the_metric() -> None:
    frame = pd.DataFrame({"C": [1, 1, 2], "f1": [None, 0.5, None]})
    assert list(frame.naklar.best("f1", by="C").index) == [1]


def test_best_refuses_an_unknown_mode(sweep: pd.DataFrame) -> None:
    with pytest.raises(NaklarError, match="mode='max' or mode='min'"):
        sweep.naklar.best("f1", mode="maximum")  # type: ignore[arg-type]


def test_diff_by_filters_lists_only_the_differing_columns(sweep: pd.DataFrame) -> None:
    diff = sweep.naklar.diff(
        {"lr": 0.1, "width": 16, "seed": 0}, {"lr": 0.1, "width": 16, "seed": 2}
    )

    assert list(diff.index) == ["seed", "f1", "acc"]
    assert list(diff.loc["seed"]) == [0, 2]


def test_diff_by_index_label_counts_missing_against_a_value(sweep: pd.DataFrame) -> None:
    with_momentum = sweep.index[sweep["momentum"].notna()][0]
    without = sweep.index[sweep["momentum"].isna()][0]

    diff = sweep.naklar.diff(with_momentum, without)

    assert "momentum" in diff.index
    assert list(diff.columns) == [with_momentum, without]


def test_diff_of_a_run_with_its_duplicate_is_empty(sweep: pd.DataFrame) -> None:
    first, second = sweep.naklar.duplicates().index
    assert sweep.naklar.diff(first, second).empty


def test_diff_refuses_filters_matching_several_runs(sweep: pd.DataFrame) -> None:
    with pytest.raises(NaklarError, match=r"matches 3 runs, not one"):
        sweep.naklar.diff({"lr": 0.1, "width": 16}, 0)


def test_metric_patterns_match_whole_names() -> None:
    frame = pd.DataFrame({"val_f1": [0.1, 0.2], "f1_val": [1, 2], "C": [1, 2]})
    assert frame.naklar.varying(metrics="val_*") == ["f1_val", "C"]


def test_csv_round_trip_needs_metrics_named(sweep: pd.DataFrame, tmp_path: Path) -> None:
    sweep.to_csv(tmp_path / "sweep.csv", index=False)
    frame = pd.read_csv(tmp_path / "sweep.csv")

    assert "f1" in frame.naklar.varying()  # CSV keeps no attrs
    assert sorted(frame.naklar.varying(metrics=SWEEP_METRICS)) == sorted(SETTINGS_IN_ORDER)


def test_noise_has_mean_zero() -> None:  # the known means above rely on it
    assert sum(SWEEP_NOISE.values()) == pytest.approx(0.0)


@pytest.mark.parametrize("module", ["naklar._query.analysis", "naklar._query.metrics"])
def test_analysis_doctests_pass(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
