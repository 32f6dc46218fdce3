"""MLflow's deleted runs and in-place edits, on copies of the trees MLflow wrote.

MLflow deletes a run by marking it (``lifecycle_stage: deleted`` in the file
store's ``meta.yaml``, the ``runs`` row's column in ``mlflow.db``) and keeps its
data until ``mlflow gc``; its own views leave such runs out. So does naklar,
listing each in ``report.left_out``. ``set_tag`` rewrites a tag's file in place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

import naklar
from naklar import Skipped
from naklar.errors import NaklarWarning, NoSettingsFilesError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mlflow"
#: The file store's first run (FINISHED), and the database's.
FILE_RUN = "712348364342058372/fc4a62ffaeb64152a5fae740008313be"
DB_RUN = "a53befecd39848ebb7a4a26fd13f373b"
DELETED = "deleted in MLflow (lifecycle_stage: deleted)"
DELETED_TIME = 1796617799000
STORES = ["mlruns", "sqlite"]


def copy_of(store: str, tmp_path: Path) -> Path:
    """A copy of the committed tree: ``mlruns`` (the file store) or ``sqlite`` (mlflow.db)."""
    root = tmp_path / store
    shutil.copytree(FIXTURES / store, root)
    return root


def set_lifecycle_stage(root: Path, store: str, stage: str) -> None:
    """Delete (``'deleted'``) or restore (``'active'``) the run as MLflow does."""
    if store == "mlruns":
        path = root / FILE_RUN / "meta.yaml"
        meta = yaml.safe_load(path.read_text())
        meta["lifecycle_stage"] = stage
        if stage == "deleted":
            meta["deleted_time"] = DELETED_TIME
        else:
            meta.pop("deleted_time", None)
        path.write_text(yaml.safe_dump(meta))
    else:
        with contextlib.closing(sqlite3.connect(root / "mlflow.db")) as connection, connection:
            connection.execute(
                "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?",
                (stage, DELETED_TIME if stage == "deleted" else None, DB_RUN),
            )


def run_id(store: str) -> str:
    return FILE_RUN.split("/")[1] if store == "mlruns" else DB_RUN


def left_out_path(root: Path, store: str) -> str:
    """How the report names the deleted run: its anchor, meta.yaml or the database."""
    if store == "mlruns":
        return str(root / FILE_RUN / "meta.yaml")
    return str(root / "mlruns" / "1" / DB_RUN / "(mlflow.db)")


def run_ids(store: naklar.Store) -> list[str]:
    return sorted(store.frame()["run.id"])


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("store", STORES)
def test_a_run_deleted_before_the_load_is_left_out_and_listed(
    store: str, workers: int, tmp_path: Path
) -> None:
    root = copy_of(store, tmp_path)
    set_lifecycle_stage(root, store, "deleted")

    with warnings.catch_warnings():
        warnings.simplefilter("error", NaklarWarning)  # a deleted run is not a problem
        loaded = naklar.load(root, source="mlflow", workers=workers, on_error="raise")

    report = loaded.report
    assert report is not None
    assert len(run_ids(loaded)) == 4
    assert run_id(store) not in run_ids(loaded)
    assert report.left_out == [Skipped(left_out_path(root, store), DELETED)]
    assert (report.files_found, report.loaded, report.skipped) == (4, 4, [])
    assert f"  left out {left_out_path(root, store)}: {DELETED}" in str(report).splitlines()


def test_the_runs_of_an_experiment_deleted_in_the_database_are_left_out_and_listed(
    tmp_path: Path,
) -> None:
    # MLflow's file store moves a deleted experiment to .trash/; its database marks it
    root = copy_of("sqlite", tmp_path)
    with contextlib.closing(sqlite3.connect(root / "mlflow.db")) as connection, connection:
        connection.execute("UPDATE experiments SET lifecycle_stage = 'deleted'")

    with pytest.raises(NoSettingsFilesError, match="its experiment is deleted in MLflow"):
        naklar.load(root, source="mlflow")


@pytest.mark.parametrize("store", STORES)
def test_a_tree_of_deleted_runs_only_says_so(store: str, tmp_path: Path) -> None:
    root = copy_of(store, tmp_path)
    if store == "mlruns":
        for meta in root.glob("*/*/meta.yaml"):
            record = yaml.safe_load(meta.read_text())
            meta.write_text(yaml.safe_dump({**record, "lifecycle_stage": "deleted"}))
    else:
        with contextlib.closing(sqlite3.connect(root / "mlflow.db")) as connection, connection:
            connection.execute("UPDATE runs SET lifecycle_stage = 'deleted'")

    with pytest.raises(NoSettingsFilesError, match=r"is left out \(5 found\), as .*: deleted in"):
        naklar.load(root, source="mlflow")


@pytest.mark.parametrize("store", STORES)
def test_refresh_removes_a_run_deleted_since_the_load_and_restores_it(
    store: str, tmp_path: Path
) -> None:
    root = copy_of(store, tmp_path)
    loaded = naklar.load(root, source="mlflow")
    assert run_id(store) in run_ids(loaded)

    set_lifecycle_stage(root, store, "deleted")
    deleted = loaded.refresh()

    assert deleted.changes is not None
    counts = deleted.changes
    assert (counts.removed, counts.skipped, counts.unchanged) == (1, 0, 4)
    assert run_id(store) not in run_ids(loaded)
    assert deleted.left_out == [Skipped(left_out_path(root, store), DELETED)]
    assert (deleted.files_found, deleted.loaded) == (4, 4)
    assert f"left out {left_out_path(root, store)}: {DELETED}" in str(deleted)

    again = loaded.refresh()

    assert again.changes is not None and again.changes.up_to_date
    assert again.left_out == deleted.left_out

    set_lifecycle_stage(root, store, "active")
    restored = loaded.refresh()

    assert restored.changes is not None
    assert (restored.changes.added, restored.changes.removed) == (1, 0)
    assert run_id(store) in run_ids(loaded)
    assert (restored.left_out, restored.files_found, restored.loaded) == ([], 5, 5)


@pytest.mark.parametrize("store", STORES)
def test_refresh_of_a_deleted_run_on_every_backend(
    store: str, any_engine: sa.Engine, table_name: str, tmp_path: Path
) -> None:
    root = copy_of(store, tmp_path)
    loaded = naklar.Store(any_engine, table_name=table_name)
    loaded.load(str(root), source="mlflow")

    set_lifecycle_stage(root, store, "deleted")
    deleted = loaded.refresh()
    set_lifecycle_stage(root, store, "active")
    restored = loaded.refresh()

    assert deleted.changes is not None and restored.changes is not None
    assert (deleted.changes.removed, deleted.changes.skipped) == (1, 0)
    assert [entry.path for entry in deleted.left_out] == [left_out_path(root, store)]
    assert (restored.changes.added, len(restored.left_out)) == (1, 0)
    assert run_id(store) in run_ids(loaded)
    loaded.drop()


def test_refresh_sees_a_tag_rewritten_in_place(tmp_path: Path) -> None:
    root = copy_of("mlruns", tmp_path)
    loaded = naklar.load(root, source="mlflow")
    tag = root / FILE_RUN / "tags" / "sweep"
    folder_mtime = (tag.parent.stat().st_mtime_ns, (root / FILE_RUN).stat().st_mtime_ns)
    assert tag.read_text() == "grid"

    # set_tag on an existing key: the same file rewritten, here with as many bytes
    status = tag.stat()
    tag.write_text("rand")
    os.utime(tag, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    assert (tag.parent.stat().st_mtime_ns, (root / FILE_RUN).stat().st_mtime_ns) == folder_mtime
    report = loaded.refresh()

    assert report.changes is not None
    assert (report.changes.updated, report.changes.unchanged) == (1, 4)
    assert loaded.select("tags.sweep", run__id=run_id("mlruns"))[0][0] == "rand"
