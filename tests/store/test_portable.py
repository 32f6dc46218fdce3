"""Portable stores: built where the tree was, opened where it is now."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment
from naklar._store.portable import moved_path, prefix_moves
from naklar.errors import NaklarError


@pytest.mark.parametrize(
    ("path", "moved"),
    [
        ("/cluster/sweep/3/model.pt", "/home/me/mnt/sweep/3/model.pt"),
        ("/cluster", "/home/me/mnt"),
        ("/clusterfs/sweep", "/clusterfs/sweep"),  # a prefix ends at a /
        ("/cluster/special/x", "/fast/x"),  # the longest prefix wins
        ("relative/cluster/x", "relative/cluster/x"),
        ("", ""),
    ],
)
def test_moved_path_by_longest_prefix(path: str, moved: str) -> None:
    moves = prefix_moves(
        "/cluster/sweep", None, {"/cluster/": "/home/me/mnt", "/cluster/special": "/fast"}
    )

    assert moved_path(path, moves) == moved


def test_prefix_moves_expands_home_and_drops_no_ops() -> None:
    moves = prefix_moves("/a/sweep", "~/sweep", {"/same": "/same/"})

    assert moves == [("/a/sweep", os.path.expanduser("~/sweep"))]


@pytest.mark.parametrize("path_map", [{"/": "/x"}, {"": "/x"}, {"/a": 3}])
def test_prefix_moves_refuses_bad_map(path_map: dict[str, object]) -> None:
    with pytest.raises(NaklarError, match="path_map"):
        prefix_moves("/a/sweep", None, path_map)  # type: ignore[arg-type]


@pytest.fixture
def cluster_store(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite file store of a tree under ``cluster/``, and the tree moved to ``laptop/``."""
    root = tmp_path / "cluster" / "sweep"
    for run in range(3):
        (root / str(run)).mkdir(parents=True)
        settings = {"i": run, "model": f"{root}/{run}/model.pt", "data": "/datasets/iris"}
        (root / str(run) / "conf.json").write_text(json.dumps(settings))
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(root, dict_file="conf.json", url=url).engine.dispose()
    shutil.move(tmp_path / "cluster", tmp_path / "laptop")
    return url, tmp_path / "laptop" / "sweep"


@pytest.mark.parametrize("how", ["root", "path_map"])
def test_open_moved_tree_reroots_paths_and_refreshes(
    cluster_store: tuple[str, Path], how: str
) -> None:
    url, moved = cluster_store
    if how == "root":
        store = naklar.open(url, root=moved)
    else:
        store = naklar.open(
            url,
            path_map={str(moved.parent.parent / "cluster"): str(moved.parent.parent / "laptop")},
        )

    assert store.root_dir == str(moved)
    assert store.select("model") == [(f"{moved}/{run}/model.pt",) for run in range(3)]
    assert store.select("i", model__startswith=str(moved)) == [(0,), (1,), (2,)]
    assert store.select("data", i=0) == [("/datasets/iris",)]  # not under the old root
    (moved / "3").mkdir()
    (moved / "3" / "conf.json").write_text(json.dumps({"i": 3}))
    report = store.refresh()
    assert report.changes is not None
    assert (report.changes.added, report.changes.unchanged) == (1, 3)
    assert store.frame("i")["i"].tolist() == [0, 1, 2, 3]


def test_open_moved_store_stays_moved(cluster_store: tuple[str, Path]) -> None:
    url, moved = cluster_store
    naklar.open(url, root=moved).engine.dispose()

    again = naklar.open(url)

    assert again.root_dir == str(moved)
    assert again.select("model", i=2) == [(f"{moved}/2/model.pt",)]
    assert again.refresh().changes is not None


def test_open_without_root_after_move_refresh_names_missing_root(
    cluster_store: tuple[str, Path],
) -> None:
    url, _ = cluster_store
    store = naklar.open(url)

    with pytest.raises(NaklarError, match="not a directory"):
        store.refresh()


def test_experiment_open_takes_root(cluster_store: tuple[str, Path]) -> None:
    url, moved = cluster_store

    experiment.open(url, root=str(moved))

    assert experiment.select("model", i=1) == [(f"{moved}/1/model.pt",)]


def test_open_moves_paths_on_every_backend(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    old = tmp_path / "old"
    (old / "0").mkdir(parents=True)
    (old / "0" / "conf.json").write_text(json.dumps({"out": f"{old}/0/out", "n": 1}))
    naklar.Store(any_engine, table_name=table_name).load(old, dict_file="conf.json")
    new = tmp_path / "new"
    shutil.move(old, new)

    store = naklar.Store.open(any_engine, table_name=table_name, root=new)

    assert store.select("out", "n") == [(f"{new}/0/out", 1)]
    assert store.refresh().changes is not None
    store.drop()
