"""The run index: written at once where the database outlives the process, when needed where not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

import naklar


def write_runs(root: Path, count: int) -> Path:
    for i in range(count):
        run = root / f"run{i}"
        run.mkdir(parents=True)
        (run / "conf.json").write_text(json.dumps({"i": i}))
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_runs(tmp_path / "results", 5)


def indexed_rows(store: naklar.Store) -> int:
    """Rows in the run index table itself (not counting runs held in memory)."""
    with store.engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(store._catalog.runs))
        return int(count.scalar() or 0)


def changes(report: naklar.LoadReport) -> tuple[int, int, int, int]:
    counts = report.changes
    assert counts is not None
    return counts.added, counts.updated, counts.removed, counts.unchanged


def test_an_in_memory_load_leaves_the_run_index_to_the_first_refresh(tree: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json")
    assert indexed_rows(store) == 0

    report = store.refresh()

    assert changes(report) == (0, 0, 0, 5)
    assert indexed_rows(store) == 5


def test_a_load_into_a_file_indexes_its_runs_at_once(tree: Path, tmp_path: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json", url=f"sqlite:///{tmp_path / 'sweep.db'}")

    assert indexed_rows(store) == 5


def test_a_second_store_on_the_same_in_memory_database_reads_everything_again(
    tree: Path,
) -> None:
    first = naklar.load(tree, dict_file="conf.json")
    second = naklar.open(first.engine)

    report = second.refresh()

    assert report.changes is not None and report.changes.reloaded
    assert len(second.frame()) == 5
    assert changes(second.refresh()) == (0, 0, 0, 5)
    assert len(first.frame()) == 5


def test_loading_again_replaces_the_held_runs(tree: Path, tmp_path: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json")
    smaller = write_runs(tmp_path / "smaller", 3)

    store.load(smaller, dict_file="conf.json")
    report = store.refresh()

    assert changes(report) == (0, 0, 0, 3)
    assert sorted(store.frame()["i"]) == [0, 1, 2]


def test_a_load_without_rows_forgets_the_held_runs(tree: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json")

    store.load(tree, dict_file="conf.json", autoload=False)
    report = store.refresh()

    assert changes(report) == (5, 0, 0, 0)
    assert len(store.frame()) == 5


def test_a_dropped_store_lets_go_of_the_held_runs(tree: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json")

    store.drop()

    # held runs would be written now, into a run index that is gone
    store._index_held_runs()
    assert not sa.inspect(store.engine).has_table(store._catalog.runs.name)


def test_held_runs_of_a_replaced_load_are_not_written(tree: Path, tmp_path: Path) -> None:
    store = naklar.load(tree, dict_file="conf.json")
    other = naklar.open(store.engine)
    other.load(write_runs(tmp_path / "other", 2), dict_file="conf.json")

    store._index_held_runs()

    assert indexed_rows(store) == 0
    assert changes(other.refresh()) == (0, 0, 0, 2)


@pytest.mark.parametrize("any_engine", ["sqlite_file", "postgres", "mysql"], indirect=True)
def test_the_database_refuses_a_second_index_row_for_one_run(
    any_engine: sa.Engine, table_name: str, tree: Path
) -> None:
    store = naklar.Store(any_engine, table_name=table_name)
    store.load(tree, dict_file="conf.json")
    runs = store._catalog.runs
    try:
        with any_engine.connect() as connection:
            path = connection.execute(sa.select(runs.c.settings_path).limit(1)).scalar()
        with pytest.raises(sa.exc.IntegrityError), any_engine.begin() as connection:
            connection.execute(
                runs.insert(),
                {"naklar_id": 99, "settings_path": path, "size": 1, "mtime_ns": 1},
            )
    finally:
        store.drop()


@pytest.mark.parametrize("any_engine", ["sqlite_file", "postgres", "mysql"], indirect=True)
def test_run_paths_differing_only_in_case_are_two_runs(
    any_engine: sa.Engine, table_name: str, tmp_path: Path
) -> None:
    root = write_runs(tmp_path / "cases", 0)
    for name in ("Run", "run"):
        (root / name).mkdir(parents=True)
        (root / name / "conf.json").write_text(json.dumps({"name": name}))
    store = naklar.Store(any_engine, table_name=table_name)
    try:
        store.load(root, dict_file="conf.json")

        assert sorted(store.frame()["name"]) == ["Run", "run"]
    finally:
        store.drop()
