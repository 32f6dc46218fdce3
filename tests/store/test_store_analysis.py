"""The store's sweep analysis: the same answers as ``df.naklar``'s, on every backend.

The sweep (``tests/trees.py``): lr x width x seed (3 x 4 x 3) with one (lr, width)
cell never run, one seed lost, one run duplicated; optimizer and dataset constant;
momentum only where width is 64; metrics f1 and acc.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment
from naklar.errors import NaklarError, UnknownColumnError
from tests.trees import (
    SWEEP_DUPLICATED,
    SWEEP_METRICS,
    SWEEP_REMOVED,
    sweep_base,
    sweep_f1,
    write_sweep,
)


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep") / "results"
    write_sweep(root)
    return root


@pytest.fixture
def store(any_engine: sa.Engine, table_name: str, sweep_root: Path) -> Iterator[naklar.Store]:
    store = naklar.Store(any_engine, table_name=table_name)
    store.load(sweep_root, metrics=SWEEP_METRICS, workers=1)
    yield store
    store.drop()


def test_store_metrics_are_the_named_columns(store: naklar.Store) -> None:
    assert sorted(store.metrics) == ["acc", "f1"]


def test_store_varying_excludes_metrics_and_constants(store: naklar.Store) -> None:
    assert store.varying() == store.frame().naklar.varying()
    assert set(store.varying()) == {"lr", "width", "seed", "momentum"}


def test_store_varying_explicit_metrics(store: naklar.Store) -> None:
    assert "f1" in store.varying(metrics=["acc"])


def test_store_constants(store: naklar.Store) -> None:
    assert store.constants() == {"optimizer": "adam", "dataset": "iris"}


def test_store_summary_matches_the_frames(store: naklar.Store) -> None:
    from_sql = store.summary()
    from_frame = store.frame().naklar.summary()

    pd.testing.assert_frame_equal(
        from_sql.drop(columns=["min", "max", "examples"]),
        from_frame.drop(columns=["min", "max", "examples"]),
    )
    for column in ["lr", "width", "seed", "f1", "momentum"]:
        assert from_sql.loc[column, "min"] == pytest.approx(from_frame.loc[column, "min"])
        assert from_sql.loc[column, "max"] == pytest.approx(from_frame.loc[column, "max"])
    assert from_sql.loc["seed", "examples"] == [0, 1, 2]
    assert from_sql.loc["optimizer", "examples"] == ["adam"]


@pytest.mark.parametrize("first_runs", [1000, 2])
def test_store_summary_examples_are_the_frames(
    store: naklar.Store, first_runs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the first runs, or (when those hold too few) from a query per column."""
    from naklar._store import analysis as store_analysis

    monkeypatch.setattr(store_analysis, "_FIRST_RUNS", first_runs)

    from_sql = store.summary()["examples"].to_dict()
    assert from_sql == store.frame().naklar.summary()["examples"].to_dict()


def test_store_missing_is_the_removed_cells(store: naklar.Store) -> None:
    found = store.missing("lr", "width", "seed").itertuples(index=False, name=None)
    assert sorted(found) == sorted(SWEEP_REMOVED)
    assert len(store.missing()) == len(SWEEP_REMOVED)


def test_store_missing_names_an_unknown_param(store: naklar.Store) -> None:
    with pytest.raises(UnknownColumnError, match="widht"):
        store.missing("widht")


def test_store_duplicates_are_whole_rows_of_the_run_that_ran_twice(store: naklar.Store) -> None:
    duplicates = store.duplicates()

    assert len(duplicates) == 2
    assert set(duplicates[["lr", "width", "seed"]].itertuples(index=False, name=None)) == {
        SWEEP_DUPLICATED
    }
    assert list(duplicates.columns) == list(store.frame().columns)
    assert duplicates.attrs["naklar_metrics"] == ["acc", "f1"]


def test_store_aggregate_known_means_and_sems(store: naklar.Store) -> None:
    table = store.aggregate("f1").set_index(["lr", "width"])

    assert table.loc[(0.01, 16), "f1_mean"] == pytest.approx(sweep_base(0.01, 16))
    assert table.loc[(0.01, 16), "f1_sem"] == pytest.approx(0.01 / math.sqrt(3))
    assert table.loc[(0.1, 128), "n_runs"] == 2
    assert table["incomplete"].sum() == 1
    assert table["n_runs"].sum() == 33  # runs without momentum are kept


def test_store_aggregate_equals_the_frames(store: naklar.Store) -> None:
    from_store = store.aggregate()
    from_frame = store.frame().naklar.aggregate()

    pd.testing.assert_frame_equal(from_store, from_frame[from_store.columns], check_dtype=False)


def test_store_aggregate_unknown_over_is_named(store: naklar.Store) -> None:
    with pytest.raises(UnknownColumnError, match="'sed' is not a column.*over="):
        store.aggregate("f1", over="sed")


def test_store_best_is_a_whole_row(store: naklar.Store) -> None:
    best = store.best("f1")

    assert best.iloc[0]["f1"] == pytest.approx(sweep_f1(0.1, 128, 1))
    assert best.iloc[0]["optimizer"] == "adam"


def test_store_best_per_group(store: naklar.Store) -> None:
    best = store.best("f1", by="lr", mode="min")
    assert list(best["lr"]) == [0.001, 0.01, 0.1]
    assert list(best["width"]) == [16, 16, 16]


def test_store_diff_by_filters(store: naklar.Store) -> None:
    diff = store.diff({"lr": 0.1, "width": 16, "seed": 0}, {"lr": 0.1, "width": 16, "seed": 2})
    assert set(diff.index) == {"seed", "f1", "acc"}
    assert list(diff.columns) == ["a", "b"]


def test_store_diff_by_directory(store: naklar.Store) -> None:
    diff = store.diff("lr0.1/w64/s0", "lr0.1/w16/s0")
    assert set(diff.index) == {"width", "f1", "momentum"}


def test_store_diff_refuses_filters_matching_several_runs(store: naklar.Store) -> None:
    with pytest.raises(NaklarError, match="matches 3 runs, not one"):
        store.diff({"lr": 0.1, "width": 16}, {"lr": 0.1, "width": 16, "seed": 2})


def test_store_metrics_survive_reopen(store: naklar.Store) -> None:
    reopened = naklar.Store.open(store.engine, table_name=store.table_name)
    assert sorted(reopened.metrics) == ["acc", "f1"]
    assert reopened.frame().attrs["naklar_metrics"] == ["acc", "f1"]


def test_store_add_metrics_is_kept(store: naklar.Store) -> None:
    store.add_metrics(["mom*"])
    reopened = naklar.Store.open(store.engine, table_name=store.table_name)
    assert sorted(reopened.metrics) == ["acc", "f1", "momentum"]


def test_store_getter_columns_are_analysed_from_the_frame(
    sweep_root: Path, table_name: str
) -> None:
    store = naklar.Store(table_name=table_name)
    store.load(sweep_root, metrics=["f1", "acc"], decorators={"width": (lambda self, v: v * 2,)})

    assert store.summary().loc["width", "max"] == 256
    assert "width" in store.varying()


def test_metrics_survive_refresh(tmp_path: Path, table_name: str) -> None:
    root = tmp_path / "results"
    write_sweep(root)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = naklar.Store(sa.create_engine(url), table_name=table_name)
    store.load(root, metrics=["f1"], workers=1)

    (root / "lr0.1/w16/s0/conf.pkl").unlink()
    store.refresh(workers=1)

    assert store.metrics == ["f1"]
    assert naklar.Store.open(url, table_name=table_name).metrics == ["f1"]


def test_metrics_survive_a_reload_that_widens_a_column(tmp_path: Path, table_name: str) -> None:
    root = tmp_path / "results"
    write_sweep(root)
    store = naklar.Store(table_name=table_name)
    store.load(root, metrics=["f1"], workers=1)

    (root / "extra").mkdir()
    (root / "extra/conf.pkl").write_bytes(pickle.dumps({"width": 1.5, "f1": 0.2}))
    report = store.refresh(workers=1)

    assert report.changes is not None and report.changes.reloaded
    assert store.metrics == ["f1"]


def test_load_report_metrics_join_the_record(tmp_path: Path) -> None:
    """A tool source names metrics through the load report; the record keeps both kinds."""
    from naklar._read.tree import LoadOptions, LoadReport
    from naklar._store.catalog import StoreRecord

    report = LoadReport(str(tmp_path), "conf.pkl", metrics={"acc", "f1"})
    record = StoreRecord.for_load(str(tmp_path), LoadOptions(metrics="loss"), {}, [], report)

    assert record.metrics == ["acc", "f1", "loss"]
    assert StoreRecord.from_json(record.to_json()) == record


def test_record_without_metrics_reads_as_none_known() -> None:
    import json

    from naklar._store.catalog import RECORD_FORMAT, StoreRecord

    document = {"format": RECORD_FORMAT, "root_dir": "/r", "dict_file": "c", "columns": []}
    record = StoreRecord.from_json(json.dumps({**document, "next_id": 0}))
    assert record is not None and record.metrics == []


def test_module_api_analysis_uses_the_default_store(sweep_root: Path) -> None:
    experiment.initialise(sweep_root, metrics=SWEEP_METRICS, workers=1)

    assert experiment.constants() == {"optimizer": "adam", "dataset": "iris"}
    assert set(experiment.varying()) == {"lr", "width", "seed", "momentum"}
    assert len(experiment.missing("lr", "width", "seed")) == len(SWEEP_REMOVED)
    assert len(experiment.duplicates()) == 2
    assert len(experiment.aggregate("f1")) == 11
    assert len(experiment.best("f1", by="lr")) == 3
    assert experiment.summary().loc["f1", "role"] == "metric"
    assert set(experiment.diff("lr0.1/w64/s0", "lr0.1/w64/s1").index) == {"seed", "f1", "acc"}


def test_naklar_load_takes_metrics(sweep_root: Path) -> None:
    assert sorted(naklar.load(sweep_root, metrics="f*", workers=1).metrics) == ["f1"]


def test_loading_a_stored_tree_again_adds_the_metrics_named(
    sweep_root: Path, tmp_path: Path, table_name: str
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    naklar.Store(sa.create_engine(url), table_name=table_name).load(
        sweep_root, metrics=["f1"], workers=1
    )

    again = naklar.Store(sa.create_engine(url), table_name=table_name)
    again.load(sweep_root, metrics=["acc"], workers=1)  # refreshes the stored table

    assert sorted(again.metrics) == ["acc", "f1"]
    assert sorted(naklar.Store.open(url, table_name=table_name).metrics) == ["acc", "f1"]


def test_store_duplicates_with_nothing_varying_are_every_run(make_tree: Any) -> None:
    root = make_tree({"a": {"C": 1, "f1": 0.5}, "b": {"C": 1, "f1": 0.6}})
    store = naklar.load(root, metrics=["f1"], workers=1)

    assert list(store.duplicates()["naklar_dir"]) == ["a", "b"]
    assert list(store.frame().naklar.duplicates()["naklar_dir"]) == ["a", "b"]
