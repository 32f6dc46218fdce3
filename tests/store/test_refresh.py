"""Refresh reads only new and changed settings files, on every backend."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment


@pytest.fixture
def store(any_engine: sa.Engine, table_name: str) -> Iterator[naklar.Store]:
    """An empty store on each backend; its tables are dropped afterwards."""
    yield naklar.Store(any_engine, table_name=table_name)
    naklar.Store(any_engine, table_name=table_name).drop()


def write_json(root: Path, directory: str, settings: dict[str, Any]) -> None:
    path = root / directory / "conf.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    path.write_text(json.dumps(settings))
    if existed:  # make the change visible even where mtimes are coarse
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for i in range(5):
        write_json(root, f"run{i}", {"i": i, "f1": i / 10, "kernel": "rbf"})
    return root


def rows_by_dir(store: naklar.Store) -> dict[str, dict[str, Any]]:
    frame = store.frame()
    return {
        row["naklar_dir"]: {key: value for key, value in row.items() if key != "naklar_dir"}
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    }


def test_refresh_of_an_unchanged_tree_reads_nothing(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")

    report = store.refresh()

    assert report.changes is not None
    assert (report.changes.added, report.changes.updated, report.changes.removed) == (0, 0, 0)
    assert report.changes.unchanged == 5
    assert report.loaded == report.files_found == 5


def test_refresh_picks_up_added_changed_and_deleted_runs(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    write_json(tree, "run10", {"i": 10, "f1": 0.9, "kernel": "linear"})
    write_json(tree, "run2", {"i": 2, "f1": 0.25, "kernel": "poly"})
    (tree / "run3" / "conf.json").unlink()

    report = store.refresh()

    assert report.changes is not None
    counts = report.changes
    assert (counts.added, counts.updated, counts.removed, counts.unchanged) == (1, 1, 1, 3)
    rows = rows_by_dir(store)
    assert sorted(rows) == ["run0", "run1", "run10", "run2", "run4"]
    assert rows["run2"] == {"i": 2, "f1": 0.25, "kernel": "poly"}
    assert rows["run10"] == {"i": 10, "f1": 0.9, "kernel": "linear"}
    assert [run.i for run in store.select(store.E.f1 > 0.2)] == [2, 4, 10]


def test_refresh_adds_a_column_for_a_new_key(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    write_json(tree, "run5", {"i": 5, "f1": 0.5, "kernel": "rbf", "dropout": 0.1, "tag": "x"})

    store.refresh()

    assert store.columns == ["naklar_dir", "i", "f1", "kernel", "dropout", "tag"]
    frame = store.frame("i", "dropout", dropout=0.1)
    assert frame.to_dict("list") == {"i": [5], "dropout": [0.1]}
    assert store.frame()["dropout"].isna().sum() == 5


def test_refresh_widens_a_column_by_reloading(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    write_json(tree, "run5", {"i": 5.5, "f1": 0.5, "kernel": "rbf"})

    report = store.refresh()

    assert report.changes is not None and report.changes.reloaded
    assert report.changes.added == 1
    assert store.frame()["i"].dtype == "float64"
    assert store.frame("i", store.E.i > 5)["i"].tolist() == [5.5]


def test_refresh_counts_an_unreadable_new_file_as_skipped(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    (tree / "run9").mkdir()
    (tree / "run9" / "conf.json").write_text("{")

    with pytest.warns(naklar.NaklarWarning, match="1 of 6 settings files skipped"):
        report = store.refresh()

    assert report.changes is not None and report.changes.skipped == 1
    assert report.loaded + len(report.skipped) == report.files_found == 6


def test_refresh_lists_a_settings_entry_the_walk_cannot_read(
    store: naklar.Store, tree: Path
) -> None:
    (tree / "run9" / "conf.json").mkdir(parents=True)
    with pytest.warns(naklar.NaklarWarning, match="1 of 6 settings files skipped"):
        store.load(tree, dict_file="conf.json")

    with pytest.warns(naklar.NaklarWarning, match="1 of 6 settings files skipped"):
        report = store.refresh()

    assert [entry.reason for entry in report.skipped] == ["is a directory, not a file"]
    assert report.changes is not None and report.changes.skipped == 1
    assert report.loaded + len(report.skipped) == report.files_found == 6


def naklar_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, naklar.NaklarWarning)]


def test_a_refresh_that_reloads_warns_once_about_a_skipped_file(
    store: naklar.Store, tree: Path
) -> None:
    store.load(tree, dict_file="conf.json")
    write_json(tree, "run5", {"i": 5.5, "f1": 0.5, "kernel": "rbf"})  # i widens: a full load
    (tree / "run9").mkdir()
    (tree / "run9" / "conf.json").write_text("{")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = store.refresh()

    assert report.changes is not None and report.changes.reloaded
    assert [message[:30] for message in naklar_warnings(caught)] == [
        "1 of 7 settings files skipped:"
    ]


def test_a_refresh_that_does_not_reload_still_warns_once(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    (tree / "run9").mkdir()
    (tree / "run9" / "conf.json").write_text("{")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.refresh()

    assert [message[:30] for message in naklar_warnings(caught)] == [
        "1 of 6 settings files skipped:"
    ]


def test_a_refresh_still_raises_the_held_warning_when_warnings_are_errors(
    store: naklar.Store, tree: Path
) -> None:
    store.load(tree, dict_file="conf.json")
    (tree / "run9").mkdir()
    (tree / "run9" / "conf.json").write_text("{")

    with warnings.catch_warnings():
        warnings.simplefilter("error", naklar.NaklarWarning)
        with pytest.raises(naklar.NaklarWarning, match="1 of 6 settings files skipped"):
            store.refresh()


def test_a_refresh_warning_names_a_directory_it_could_not_walk(
    store: naklar.Store, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load(tree, dict_file="conf.json")
    write_json(tree, "new/kept", {"i": 7, "f1": 0.7, "kernel": "rbf"})
    write_json(tree, "new/gone", {"i": 8, "f1": 0.8, "kernel": "rbf"})
    real_scandir = os.scandir

    def scandir_then_delete(path: Any) -> Any:
        with real_scandir(path) as entries:
            listed = list(entries)
        if str(path) == str(tree / "new"):
            shutil.rmtree(tree / "new" / "gone")
        return contextlib.nullcontext(iter(listed))

    monkeypatch.setattr(os, "scandir", scandir_then_delete)
    with pytest.warns(naklar.NaklarWarning, match="1 directories not walked: .*gone") as caught:
        report = store.refresh(workers=1)

    assert len(naklar_warnings(caught.list)) == 1
    assert [entry.path for entry in report.walk_problems] == [str(tree / "new" / "gone")]
    assert report.changes is not None and report.changes.added == 1


def test_refresh_keeps_a_dropped_key_out(store: naklar.Store, tmp_path: Path) -> None:
    import pickle

    import numpy as np

    root = tmp_path / "results"
    (root / "a").mkdir(parents=True)
    (root / "a" / "conf.pkl").write_bytes(pickle.dumps({"i": 1, "pred": np.zeros(2)}))
    with pytest.warns(naklar.NaklarWarning, match="'pred'"):
        store.load(root)
    (root / "b").mkdir()
    (root / "b" / "conf.pkl").write_bytes(pickle.dumps({"i": 2, "pred": "now a string"}))

    store.refresh()

    assert store.columns == ["naklar_dir", "i"]
    assert store.frame()["i"].tolist() == [1, 2]


def test_initialise_on_a_stored_tree_refreshes(tree: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    experiment.connect(url)
    experiment.initialise(tree, dict_file="conf.json")
    write_json(tree, "run7", {"i": 7, "f1": 0.7, "kernel": "rbf"})
    experiment.reset()

    experiment.connect(url)
    report = experiment.initialise(tree, dict_file="conf.json")

    assert report.changes is not None
    assert (report.changes.added, report.changes.unchanged) == (1, 5)
    assert experiment.select("i", experiment.E.i > 4)[0].i == 7


def test_experiment_refresh_delegates_to_the_default_store(tree: Path) -> None:
    experiment.initialise(tree, dict_file="conf.json")
    write_json(tree, "run8", {"i": 8, "f1": 0.8, "kernel": "rbf"})

    report = experiment.refresh()

    assert report.changes is not None and report.changes.added == 1
    assert len(experiment.select()) == 6


def test_refresh_before_a_load_says_what_to_do() -> None:
    with pytest.raises(naklar.NotInitialisedError, match="nothing to refresh"):
        experiment.refresh()


def test_refresh_of_a_store_loaded_with_load_func_needs_it_again(
    tree: Path, tmp_path: Path
) -> None:
    from naklar._read.loaders import load_json

    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(tree, url=url, dict_file="conf.json", load_func=load_json)
    reopened = naklar.open(url)

    with pytest.raises(naklar.NaklarError, match=r"pass refresh\(load_func=\.\.\.\)"):
        reopened.refresh()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reopened.refresh(load_func=load_json).loaded == 5


def test_refresh_keeps_the_loads_decorators_in_the_same_process(tree: Path) -> None:
    decorators = {"kernel": (lambda self, value: value.upper(), lambda self, value: value + "!")}
    experiment.initialise(tree, dict_file="conf.json", decorators=decorators)
    write_json(tree, "run6", {"i": 6, "f1": 0.6, "kernel": "poly"})

    experiment.refresh()

    assert experiment.select("kernel", i=6)[0].kernel == "POLY!"


def test_refresh_of_a_reopened_store_with_setters_needs_them_again(
    tree: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(tree, url=url, dict_file="conf.json", decorators={"i": (None, lambda s, v: v)})

    with pytest.raises(naklar.NaklarError, match=r"setters for 'i'.*refresh\(decorators=\.\.\.\)"):
        naklar.open(url).refresh()


def test_initialise_with_other_options_reloads_everything(tree: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    experiment.connect(url)
    experiment.initialise(tree, dict_file="conf.json")
    experiment.reset()

    experiment.connect(url)
    report = experiment.initialise(tree, dict_file="conf.json", restrict_keys=["i"])

    assert report.changes is None
    assert experiment.store().columns == ["naklar_dir", "i"]


def test_a_refresh_that_finds_nothing_to_do_says_the_store_is_up_to_date(
    store: naklar.Store, tree: Path
) -> None:
    store.load(tree, dict_file="conf.json")

    report = store.refresh()

    assert report.changes is not None and report.changes.up_to_date
    assert "already up to date" in str(report)
