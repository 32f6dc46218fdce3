"""Refresh's stat pass lists only the directories that may have changed.

A run directory listed as a *quiet leaf* (no subdirectory entries, nothing
unreadable) keeps its ctime in the run index; while the ctime is unchanged the
next refresh only stats its settings file. These tests check that the results
are those of a full walk whatever changes, and count listings (``os.scandir``
calls, with ``workers=1`` so that every listing happens in this process) to
check which directories were listed.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._read import chunks as reading
from naklar._read import walk as discover

RUNS = [f"run{i}" for i in range(5)]


def write_run(root: Path, directory: str, settings: dict[str, Any]) -> None:
    run = root / directory
    run.mkdir(parents=True, exist_ok=True)
    (run / "conf.json").write_text(json.dumps(settings))
    (run / "log.txt").write_text("done\n")


#: The racy margin in these tests: longer than a coarse clock tick (at most 10 ms),
#: far shorter than the real one, so that a test need not wait seconds.
MARGIN_NS = 50_000_000


@pytest.fixture(autouse=True)
def short_racy_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "RACY_MARGIN_NS", MARGIN_NS)


def settle() -> None:
    """Wait until what was just written is older than the racy margin (a ctime cannot be set)."""
    time.sleep(2 * MARGIN_NS / 1e9)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for i, name in enumerate(RUNS):
        write_run(root, name, {"i": i, "f1": i / 10, "kernel": "rbf"})
    settle()
    return root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[naklar.Store]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    yield naklar.Store(engine)
    engine.dispose()


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories ``os.scandir`` lists in this process, from now on."""
    listings: list[str] = []
    real_scandir = os.scandir

    def counting_scandir(path: Any = ".") -> Any:
        listings.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    return listings


def listed_runs(listings: list[str], root: Path) -> list[str]:
    """Listed directories relative to ``root`` (``'.'`` for the root itself)."""
    return sorted(os.path.relpath(path, root) for path in listings)


def recorded_ctimes(store: naklar.Store) -> dict[str, int | None]:
    """Run directory -> its ``dir_ctime_ns`` in the run index (an in-memory store's written now)."""
    store._index_held_runs()
    runs = store._catalog.runs
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(runs.c.settings_path, runs.c.dir_ctime_ns))
        return {path.rpartition("/")[0]: ctime for path, ctime in rows}


def counts(report: naklar.LoadReport) -> tuple[int, int, int, int, int]:
    changes = report.changes
    assert changes is not None
    return changes.added, changes.updated, changes.removed, changes.unchanged, changes.skipped


def rows_by_dir(store: naklar.Store) -> dict[str, dict[str, Any]]:
    frame = store.frame()
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {row.pop("naklar_dir"): row for row in records}


def test_a_load_into_a_file_store_records_quiet_leaves(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    store.load(tree, dict_file="conf.json", workers=1)
    assert recorded_ctimes(store) == {run: (tree / run).stat().st_ctime_ns for run in RUNS}
    listed.clear()

    report = store.refresh(workers=1)

    assert counts(report) == (0, 0, 0, 5, 0)
    assert listed_runs(listed, tree) == ["."]  # the first refresh lists no quiet leaf


def test_a_load_records_the_quiet_leaves_it_walks_in_chunks(
    store: naklar.Store, tmp_path: Path
) -> None:
    root = tmp_path / "many"
    runs = [f"run{i}" for i in range(reading._TARGET_SUBTREES + 10)]  # units, not split
    for i, name in enumerate(runs):
        write_run(root, name, {"i": i})
    settle()

    store.load(root, dict_file="conf.json", workers=2)

    assert recorded_ctimes(store) == {run: (root / run).stat().st_ctime_ns for run in runs}


def test_a_strict_load_records_quiet_leaves_too(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json", on_error="raise", workers=1)

    assert recorded_ctimes(store) == {run: (tree / run).stat().st_ctime_ns for run in RUNS}


def test_a_load_does_not_record_a_directory_changed_within_the_racy_margin(
    store: naklar.Store, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discover, "RACY_MARGIN_NS", 3_600 * 10**9)  # everything is recent

    store.load(tree, dict_file="conf.json", workers=1)

    assert recorded_ctimes(store) == dict.fromkeys(RUNS)


def test_a_load_into_an_in_memory_store_records_no_ctime_and_refresh_records_them(
    tree: Path, listed: list[str]
) -> None:
    store = naklar.Store()
    store.load(tree, dict_file="conf.json", workers=1)
    assert recorded_ctimes(store) == dict.fromkeys(RUNS)  # the store dies with the process
    listed.clear()

    store.refresh(workers=1)

    assert listed_runs(listed, tree) == [".", *RUNS]
    assert recorded_ctimes(store) == {run: (tree / run).stat().st_ctime_ns for run in RUNS}


def test_the_second_refresh_does_not_list_quiet_leaves(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)
    listed.clear()

    report = store.refresh(workers=1)

    assert listed_runs(listed, tree) == ["."]
    assert counts(report) == (0, 0, 0, 5, 0)
    assert report.loaded == report.files_found == 5


def test_a_settings_file_appearing_in_a_directory_that_had_none(
    store: naklar.Store, tree: Path
) -> None:
    (tree / "pending").mkdir()
    (tree / "pending" / "log.txt").write_text("running\n")
    settle()
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)

    (tree / "pending" / "conf.json").write_text(json.dumps({"i": 9, "f1": 0.9, "kernel": "rbf"}))
    report = store.refresh(workers=1)

    assert counts(report) == (1, 0, 0, 5, 0)
    assert rows_by_dir(store)["pending"] == {"i": 9, "f1": 0.9, "kernel": "rbf"}


def test_a_run_created_inside_a_quiet_leaf_is_found(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)

    write_run(tree, "run1/retry", {"i": 11, "f1": 0.5, "kernel": "poly"})
    report = store.refresh(workers=1)

    assert counts(report) == (1, 0, 0, 5, 0)
    assert rows_by_dir(store)["run1/retry"] == {"i": 11, "f1": 0.5, "kernel": "poly"}
    assert recorded_ctimes(store)["run1"] is None  # it has a subdirectory now
    settle()
    store.refresh(workers=1)  # records run1/retry, a new quiet leaf
    listed.clear()
    store.refresh(workers=1)
    assert listed_runs(listed, tree) == [".", "run1"]


def test_a_deleted_settings_file_removes_its_run(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)

    (tree / "run2" / "conf.json").unlink()
    report = store.refresh(workers=1)

    assert counts(report) == (0, 0, 1, 4, 0)
    assert sorted(rows_by_dir(store)) == ["run0", "run1", "run3", "run4"]


@pytest.mark.parametrize("replacement", ["nothing", "dangling symlink", "directory"])
def test_a_settings_file_replaced_while_its_directory_s_mtime_is_set_back(
    store: naklar.Store, tree: Path, replacement: str, listed: list[str]
) -> None:
    """As ``rsync -t`` or ``tar`` would leave it: the ctime still moved, so it is listed.

    Compared with a store walking every directory (``follow_symlinks=True``, no
    symlinks in the tree): the same report, down to the files found.
    """
    full = naklar.Store(store.engine, table_name="full_walk")
    for each in (store, full):
        each.load(tree, dict_file="conf.json", follow_symlinks=each is full)
        each.refresh(workers=1)
    assert recorded_ctimes(store)["run2"] is not None
    old_mtime = (tree / "run2").stat().st_mtime_ns

    settings = tree / "run2" / "conf.json"
    settings.unlink()
    if replacement == "dangling symlink":
        settings.symlink_to("gone.json")
    elif replacement == "directory":
        settings.mkdir()
    os.utime(tree / "run2", ns=(old_mtime, old_mtime))
    listed.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", naklar.NaklarWarning)  # for the unreadable entry
        report, full_report = store.refresh(workers=1), full.refresh(workers=1)

    unreadable = 0 if replacement == "nothing" else 1
    assert str(tree / "run2") in listed
    assert counts(report) == (0, 0, 1, 4, unreadable)
    assert report.files_found == 4 + unreadable
    assert report.loaded + len(report.skipped) == report.files_found
    assert str(report) == str(full_report)
    assert sorted(rows_by_dir(store)) == ["run0", "run1", "run3", "run4"]


def test_a_settings_file_rewritten_in_place_with_the_same_size_is_read_again(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)
    settings = tree / "run3" / "conf.json"
    directory_ctime = (tree / "run3").stat().st_ctime_ns
    old_text = settings.read_text()
    new_text = json.dumps({"i": 3, "f1": 0.7, "kernel": "rbf"})
    assert len(new_text) == len(old_text)

    with settings.open("r+") as file:  # in place: the directory's entries stay the same
        file.write(new_text)
    status = settings.stat()
    os.utime(settings, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    assert (tree / "run3").stat().st_ctime_ns == directory_ctime
    listed.clear()
    report = store.refresh(workers=1)

    assert counts(report) == (0, 1, 0, 4, 0)
    assert rows_by_dir(store)["run3"] == {"i": 3, "f1": 0.7, "kernel": "rbf"}
    assert listed_runs(listed, tree) == ["."]
    assert recorded_ctimes(store)["run3"] == directory_ctime  # kept for the next refresh


def test_a_directory_changed_within_the_racy_margin_is_listed_again(
    store: naklar.Store, tree: Path, listed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discover, "RACY_MARGIN_NS", 1_000_000_000)  # a stall must not pass it
    time.sleep(1.1)  # the other runs are older than the margin
    store.load(tree, dict_file="conf.json")
    (tree / "run3" / "notes.txt").write_text("changed just now\n")
    store.refresh(workers=1)
    assert recorded_ctimes(store)["run3"] is None
    assert recorded_ctimes(store)["run2"] is not None
    listed.clear()

    store.refresh(workers=1)

    assert listed_runs(listed, tree) == [".", "run3"]


def test_a_directory_whose_permissions_changed_is_listed_again(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)
    mtime = (tree / "run1").stat().st_mtime_ns

    os.chmod(tree / "run1", 0o700)
    assert (tree / "run1").stat().st_mtime_ns == mtime
    listed.clear()
    store.refresh(workers=1)

    assert listed_runs(listed, tree) == [".", "run1"]


def test_a_leaf_with_a_hidden_or_symlinked_subdirectory_is_not_quiet(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    (tree / "run0" / ".cache").mkdir()
    (tree / "run1" / "latest").symlink_to(tree / "run2", target_is_directory=True)
    settle()
    store.load(tree, dict_file="conf.json")
    store.refresh(workers=1)
    listed.clear()

    report = store.refresh(workers=1)

    assert listed_runs(listed, tree) == [".", "run0", "run1"]
    assert recorded_ctimes(store)["run0"] is None
    assert recorded_ctimes(store)["run1"] is None
    assert counts(report) == (0, 0, 0, 5, 0)


@pytest.mark.parametrize(("subdirectory", "include_hidden"), [("sub", False), (".sub", True)])
def test_a_settings_file_written_in_a_run_s_existing_subdirectory_is_found(
    store: naklar.Store, tree: Path, subdirectory: str, include_hidden: bool
) -> None:
    (tree / "run0" / subdirectory).mkdir()
    settle()
    store.load(tree, dict_file="conf.json", include_hidden=include_hidden)
    store.refresh(workers=1)
    run0_ctime = (tree / "run0").stat().st_ctime_ns

    settings = {"i": 10, "f1": 1.0, "kernel": "rbf"}
    (tree / "run0" / subdirectory / "conf.json").write_text(json.dumps(settings))
    assert (tree / "run0").stat().st_ctime_ns == run0_ctime  # only the subdirectory changed
    report = store.refresh(workers=1)

    assert counts(report) == (1, 0, 0, 5, 0)
    assert rows_by_dir(store)[f"run0/{subdirectory}"] == settings


def test_following_symlinks_lists_every_directory(
    store: naklar.Store, tree: Path, listed: list[str]
) -> None:
    store.load(tree, dict_file="conf.json", follow_symlinks=True)
    store.refresh(workers=1)
    listed.clear()

    store.refresh(workers=1)

    assert listed_runs(listed, tree) == [".", *RUNS]
    assert recorded_ctimes(store) == dict.fromkeys(RUNS)


def test_a_store_of_an_older_format_is_loaded_again(store: naklar.Store, tree: Path) -> None:
    store.load(tree, dict_file="conf.json")
    meta = store._catalog.meta
    with store.engine.begin() as connection:
        text = connection.execute(
            sa.select(meta.c.value).where(meta.c.name == "store")
        ).scalar_one()
        older = json.dumps({**json.loads(text), "format": 1})
        connection.execute(meta.update().values(value=older))

    with pytest.raises(naklar.NotInitialisedError, match="written by another version of naklar"):
        naklar.Store.open(store.engine)
    report = naklar.Store(store.engine).load(tree, dict_file="conf.json")

    assert report.changes is None  # loaded, not refreshed
    assert report.loaded == 5


def change_everything(root: Path) -> None:
    """New runs, a new key, a run inside a quiet leaf, a deletion, in-place and new rewrites."""
    write_run(root, "run10", {"i": 10, "f1": 0.1, "kernel": "linear", "dropout": 0.5})
    write_run(root, "group/run7", {"i": 7, "f1": 0.7, "kernel": "rbf"})
    write_run(root, "run4/retry", {"i": 14, "f1": 0.4, "kernel": "poly"})
    (root / "run2" / "conf.json").unlink()
    settings = root / "run1" / "conf.json"
    with settings.open("r+") as file:
        file.write(json.dumps({"i": 1, "f1": 0.9, "kernel": "rbf"}))
    status = settings.stat()
    os.utime(settings, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    (root / "run3" / "conf.json").write_text(json.dumps({"i": 3, "f1": 0.3, "kernel": "poly!"}))


def stored_rows(store: naklar.Store) -> list[tuple[Any, ...]]:
    assert store.table is not None
    columns = [store.table.c[name] for name in ("naklar_id", "naklar_dir", "i", "f1", "kernel")]
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(*columns).order_by(columns[0]))]


def test_refresh_gives_what_a_full_walk_and_a_fresh_load_give(
    any_engine: sa.Engine, table_name: str, tree: Path
) -> None:
    """Guided and unguided (``follow_symlinks=True``: no symlinks here) refreshes agree."""
    stores = {
        follow: naklar.Store(any_engine, table_name=f"{table_name}_{int(follow)}")
        for follow in (False, True)
    }
    fresh = naklar.Store(any_engine, table_name=f"{table_name}_fresh")
    try:
        for follow, store in stores.items():
            store.load(tree, dict_file="conf.json", follow_symlinks=follow)
            store.refresh(workers=2)
        assert None not in recorded_ctimes(stores[False]).values()

        change_everything(tree)
        reports = {follow: store.refresh(workers=2) for follow, store in stores.items()}
        fresh.load(tree, dict_file="conf.json")

        assert counts(reports[False]) == (3, 2, 1, 2, 0)
        assert str(reports[False]) == str(reports[True])
        assert stored_rows(stores[False]) == stored_rows(stores[True])
        assert rows_by_dir(stores[False]) == rows_by_dir(fresh)
        assert stores[False].columns == fresh.columns
    finally:
        for store in (*stores.values(), fresh):
            store.drop()
